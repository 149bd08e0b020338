// Checkpoints as safetensors: bundling, the RNG state as text, typed metadata access.
#include "recur/train/checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "recur/io/safetensors.h"

namespace recur {

namespace {
const char* kGroups[] = {"model.", "optim.", "state.", "best."};
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  std::map<std::string, Tensor<float>> all;
  const std::map<std::string, Tensor<float>>* groups[] = {&ckpt.model, &ckpt.optimizer, &ckpt.state,
                                                          &ckpt.best};
  for (int g = 0; g < 4; ++g)
    for (const auto& [name, t] : *groups[g]) all[kGroups[g] + name] = t;
  auto meta = ckpt.metadata;
  meta["format"] = "recur-checkpoint-1";
  save_safetensors(path, all, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  Safetensors<float> st = load_safetensors<float>(path);
  auto fmt = st.metadata.find("format");
  RECUR_CHECK(fmt != st.metadata.end() && fmt->second == "recur-checkpoint-1",
              path << ": not a recur checkpoint (metadata format is not recur-checkpoint-1)");
  Checkpoint c;
  c.metadata = std::move(st.metadata);
  std::map<std::string, Tensor<float>>* groups[] = {&c.model, &c.optimizer, &c.state, &c.best};
  for (auto& [name, t] : st.tensors) {
    bool placed = false;
    for (int g = 0; g < 4 && !placed; ++g) {
      const std::string prefix = kGroups[g];
      if (name.compare(0, prefix.size(), prefix) == 0) {
        (*groups[g])[name.substr(prefix.size())] = std::move(t);
        placed = true;
      }
    }
    RECUR_CHECK(placed, path << ": unexpected tensor '" << name << "' in a checkpoint");
  }
  return c;
}

std::string encode_rng_state(const Rng::State& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %d %a",
                s.s[0], s.s[1], s.s[2], s.s[3], int(s.has_spare), s.spare);
  return buf;
}

Rng::State decode_rng_state(const std::string& text, const std::string& source) {
  Rng::State s{};
  std::istringstream in(text);
  int spare = 0;
  std::string spare_text;
  in >> std::hex >> s.s[0] >> s.s[1] >> s.s[2] >> s.s[3] >> std::dec >> spare >> spare_text;
  RECUR_CHECK(!in.fail() && !spare_text.empty(), source << ": the RNG state '" << text << "' is malformed");
  s.has_spare = spare != 0;
  s.spare = std::strtod(spare_text.c_str(), nullptr);
  return s;
}

std::string checkpoint_get(const Checkpoint& c, const std::string& key, const std::string& source) {
  auto it = c.metadata.find(key);
  RECUR_CHECK(it != c.metadata.end(), source << ": checkpoint has no '" << key << "'");
  return it->second;
}

int64_t checkpoint_get_int(const Checkpoint& c, const std::string& key, const std::string& source) {
  const std::string v = checkpoint_get(c, key, source);
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  RECUR_CHECK(!v.empty() && *end == '\0', source << ": checkpoint '" << key << "' = '" << v
                                                 << "' is not an integer");
  return x;
}

double checkpoint_get_double(const Checkpoint& c, const std::string& key, const std::string& source) {
  const std::string v = checkpoint_get(c, key, source);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  RECUR_CHECK(!v.empty() && *end == '\0', source << ": checkpoint '" << key << "' = '" << v
                                                 << "' is not a number");
  return x;
}

void set_checkpoint_settings(Checkpoint& c, const std::map<std::string, std::string>& settings) {
  for (const auto& [k, v] : settings) c.metadata["hp." + k] = v;
}

void check_checkpoint_settings(const Checkpoint& c, const std::map<std::string, std::string>& settings,
                               const std::string& source, const std::string& may_change) {
  std::string diffs;
  for (const auto& [k, v] : settings) {
    auto it = c.metadata.find("hp." + k);
    const std::string was = it == c.metadata.end() ? "(missing)" : it->second;
    if (was != v) diffs += "\n  " + k + ": checkpoint " + was + ", this run " + v;
  }
  RECUR_CHECK(diffs.empty(), source << ": cannot resume with different settings (only " << may_change
                                    << " may change):" << diffs);
}

}  // namespace recur
