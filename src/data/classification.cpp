#include "recur/data/classification.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "recur/core/error.h"

namespace recur {

TextEncoder TextEncoder::bytes() { return TextEncoder(); }

TextEncoder TextEncoder::words(const std::vector<LabeledText>& train, int64_t max_words,
                               const std::string& source) {
  std::string all;
  for (const LabeledText& r : train) (all += r.text) += '\n';
  TextEncoder e;
  e.mode_ = TokenMode::words;
  e.words_ = Vocab::build(all, TokenMode::words, max_words, source);
  return e;
}

std::vector<int64_t> TextEncoder::encode(const std::string& text, int64_t max_len,
                                         const std::string& source) const {
  std::vector<int64_t> ids;
  if (mode_ == TokenMode::chars) {
    for (unsigned char c : text) ids.push_back(int64_t(c));
  } else {
    ids = words_.encode(text, source);
  }
  RECUR_CHECK(!ids.empty(), source << ": the text has no tokens");
  if (max_len > 0 && int64_t(ids.size()) > max_len) {
    if (keep_last)
      ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(max_len));
    else
      ids.resize(size_t(max_len));
  }
  return ids;
}

std::map<std::string, std::string> TextEncoder::to_metadata() const {
  std::map<std::string, std::string> m;
  if (mode_ == TokenMode::words) m = words_.to_metadata();
  m["tokens"] = mode_ == TokenMode::chars ? "char" : "word";
  if (keep_last) m["keep"] = "last";  // older files, and first, have no key
  return m;
}

TextEncoder TextEncoder::from_metadata(const std::map<std::string, std::string>& meta,
                                       const std::string& source) {
  auto it = meta.find("tokens");
  RECUR_CHECK(it != meta.end(), source << ": no 'tokens' in the metadata");
  TextEncoder e;
  e.mode_ = parse_token_mode(it->second);
  if (e.mode_ == TokenMode::words) e.words_ = Vocab::from_metadata(meta, source);
  if (auto keep = meta.find("keep"); keep != meta.end()) {
    RECUR_CHECK(keep->second == "first" || keep->second == "last",
                source << ": metadata 'keep' = '" << keep->second << "'; expected first or last");
    e.keep_last = keep->second == "last";
  }
  return e;
}

LabelSet::LabelSet(const std::vector<LabeledText>& train) {
  std::set<std::string> s;
  for (const LabeledText& r : train) s.insert(r.label);
  names_.assign(s.begin(), s.end());
}

int64_t LabelSet::id(const std::string& name, const std::string& source) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  if (it != names_.end() && *it == name) return int64_t(it - names_.begin());
  std::string known;
  for (const std::string& n : names_) known += (known.empty() ? "" : ", ") + n;
  RECUR_FAIL(source << ": label '" << name << "' is not one of the training labels (" << known
                    << ")");
}

std::string LabelSet::to_json() const { return nlohmann::json(names_).dump(); }

LabelSet LabelSet::from_json(const std::string& json, const std::string& source) {
  LabelSet l;
  try {
    l.names_ = nlohmann::json::parse(json).get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    RECUR_FAIL(source << ": the label list is not a JSON array of strings: " << e.what());
  }
  RECUR_CHECK(l.names_.size() >= 2, source << ": a classifier needs at least 2 labels");
  return l;
}

LabelSet LabelSet::numbered(int64_t count) {
  LabelSet l;
  for (int64_t i = 0; i < count; ++i) l.names_.push_back(std::to_string(i));
  return l;
}

std::vector<Example> encode_labeled(const std::vector<LabeledText>& rows, const TextEncoder& enc,
                                    const LabelSet& labels, int64_t max_len,
                                    const std::string& source) {
  std::vector<Example> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string where = source + " example " + std::to_string(i + 1);
    Example e;
    e.tokens = enc.encode(rows[i].text, max_len, where);
    e.steps = int64_t(e.tokens.size());
    e.label = labels.id(rows[i].label, where);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Example> image_row_sequences(const IdxImages& images, const std::vector<uint8_t>& labels,
                                         const std::string& source) {
  RECUR_CHECK(int64_t(labels.size()) == images.count,
              source << ": " << images.count << " images but " << labels.size() << " labels");
  std::vector<Example> out(size_t(images.count));
  const int64_t n = images.rows * images.cols;
  for (int64_t i = 0; i < images.count; ++i) {
    Example& e = out[size_t(i)];
    e.steps = images.rows;
    e.values.resize(size_t(n));
    for (int64_t k = 0; k < n; ++k) e.values[size_t(k)] = float(images.pixels[size_t(i * n + k)]) / 255.0f;
    e.label = labels[size_t(i)];
  }
  return out;
}

}  // namespace recur
