// ConditionalLm: forward and backward of a padded batch, and sampling. Parameters +=,
// activations = (see src/cells/cell.h).
#include "recur/models/conditional_lm.h"

#include <algorithm>
#include <cmath>

#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"
#include "recur/nn/sampling.h"

namespace recur {

ConditionMode parse_condition_mode(const std::string& name) {
  if (name == "init") return ConditionMode::init;
  if (name == "input") return ConditionMode::input;
  if (name == "both") return ConditionMode::both;
  RECUR_FAIL("unknown condition mode '" << name << "' (expected init, input or both)");
}

const char* condition_mode_name(ConditionMode m) {
  switch (m) {
    case ConditionMode::init: return "init";
    case ConditionMode::input: return "input";
    case ConditionMode::both: return "both";
  }
  return "?";
}

void ConditionalLmConfig::validate() const {
  RECUR_CHECK(conditions >= 1, "a conditional model needs at least one condition");
  RECUR_CHECK(embed > 0 && (!uses_input() || cond_embed > 0), "embedding sizes must be positive");
  RECUR_CHECK(!rnn.bidirectional, "a language model reads left to right: no bidirectional RNN");
  RECUR_CHECK(rnn.input_size == embed + (uses_input() ? cond_embed : 0),
              "rnn.input_size " << rnn.input_size << " must be the byte embedding "
                                << (uses_input() ? "plus the condition embedding " : "") << "("
                                << embed + (uses_input() ? cond_embed : 0) << ")");
  rnn.validate();
}

std::map<std::string, std::string> ConditionalLmConfig::to_metadata() const {
  auto m = rnn.to_metadata();
  m["conditions"] = std::to_string(conditions);
  m["condition_mode"] = condition_mode_name(mode);
  m["embed"] = std::to_string(embed);
  m["cond_embed"] = std::to_string(cond_embed);
  return m;
}

ConditionalLmConfig ConditionalLmConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  auto get = [&](const char* k) { return metadata_string(meta, k, "conditional model"); };
  auto num = [&](const char* k) { return metadata_int(meta, k, "conditional model"); };
  ConditionalLmConfig c;
  c.rnn = RnnConfig::from_metadata(meta);
  c.conditions = num("conditions");
  c.mode = parse_condition_mode(get("condition_mode"));
  c.embed = num("embed");
  c.cond_embed = num("cond_embed");
  c.validate();
  return c;
}

template <class T>
ConditionalLm<T>::ConditionalLm(const ConditionalLmConfig& cfg)
    : config(cfg),
      embedding({ConditionalLmConfig::kVocab, cfg.embed}),
      rnn(cfg.rnn),
      w_out({ConditionalLmConfig::kVocab, cfg.rnn.hidden_size}),
      b_out({ConditionalLmConfig::kVocab}) {
  cfg.validate();
  if (cfg.uses_input()) cond_embedding = Tensor<T>({cfg.conditions, cfg.cond_embed});
  if (cfg.uses_init())
    cond_init = Tensor<T>({cfg.conditions, int64_t(cfg.rnn.num_layers) * cfg.rnn.hidden_size});
}

namespace {
template <class M, class Out>
void list_named(M& m, Out& out) {
  out.push_back({"embedding.weight", &m.embedding});
  if (m.config.uses_input()) out.push_back({"cond.weight", &m.cond_embedding});
  if (m.config.uses_init()) out.push_back({"init.weight", &m.cond_init});
  for (auto& [n, t] : m.rnn.named()) out.push_back({"rnn." + n, t});
  out.push_back({"decoder.weight", &m.w_out});
  out.push_back({"decoder.bias", &m.b_out});
}
}  // namespace

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> ConditionalLm<T>::named() {
  std::vector<std::pair<std::string, Tensor<T>*>> out;
  list_named(*this, out);
  return out;
}

template <class T>
std::vector<std::pair<std::string, const Tensor<T>*>> ConditionalLm<T>::named() const {
  std::vector<std::pair<std::string, const Tensor<T>*>> out;
  list_named(*this, out);
  return out;
}

template <class T>
std::map<std::string, Tensor<T>> ConditionalLm<T>::state_dict() const {
  return named_to_map(named());
}

template <class T>
void ConditionalLm<T>::load_state_dict(const std::map<std::string, Tensor<T>>& tensors,
                                       const std::string& source) {
  load_named(named(), tensors, source);
}

template <class T>
void init_conditional_lm(ConditionalLm<T>& m, Rng& rng) {
  for (auto& v : m.embedding.data) v = T(rng.normal());
  for (auto& v : m.cond_embedding.data) v = T(rng.normal());
  for (auto& v : m.cond_init.data) v = T(0.1 * rng.normal());
  init_rnn_uniform(m.rnn, rng);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

ClmBatch make_clm_batch(const std::vector<const std::string*>& texts,
                        const std::vector<int64_t>& conditions) {
  RECUR_CHECK(!texts.empty() && texts.size() == conditions.size(),
              "a batch needs one condition per text (" << texts.size() << " texts, "
                                                       << conditions.size() << " conditions)");
  ClmBatch b;
  b.batch = int64_t(texts.size());
  for (const std::string* t : texts) b.steps = std::max(b.steps, int64_t(t->size()) + 1);
  b.inputs.assign(size_t(b.steps * b.batch), ConditionalLmConfig::kBos);
  b.targets.assign(size_t(b.steps * b.batch), -1);
  b.conditions = conditions;
  for (int64_t s = 0; s < b.batch; ++s) {
    const std::string& text = *texts[size_t(s)];
    const int64_t n = int64_t(text.size());
    b.lengths.push_back(n + 1);
    for (int64_t t = 0; t <= n; ++t) {
      const size_t at = size_t(t * b.batch + s);
      if (t > 0) b.inputs[at] = int64_t((unsigned char)text[size_t(t - 1)]);
      b.targets[at] = t < n ? int64_t((unsigned char)text[size_t(t)]) : ConditionalLmConfig::kEos;
    }
  }
  return b;
}

namespace {
// x (T,B,E[+Ec]) = [embedding(inputs); condition embedding].
template <class T>
void clm_inputs(const ConditionalLm<T>& m, const std::vector<int64_t>& inputs,
                const std::vector<int64_t>& conditions, int64_t Ts, int64_t B, Tensor<T>& x) {
  const ConditionalLmConfig& c = m.config;
  const int64_t E = c.embed, Ec = c.uses_input() ? c.cond_embed : 0, F = E + Ec;
  for (int64_t k : conditions)
    RECUR_CHECK(k >= 0 && k < c.conditions,
                "condition " << k << " is outside [0, " << c.conditions << ")");
  Tensor<T> e({Ts * B, E});
  embedding_forward(e.ptr(), inputs.data(), m.embedding.ptr(), Ts * B, ConditionalLmConfig::kVocab, E);
  x = Tensor<T>({Ts, B, F});
  for (int64_t r = 0; r < Ts * B; ++r) {
    std::copy_n(e.ptr() + r * E, E, x.ptr() + r * F);
    if (Ec) std::copy_n(m.cond_embedding.ptr() + conditions[size_t(r % B)] * Ec, Ec, x.ptr() + r * F + E);
  }
}

// The initial state from the condition, h0 = tanh(W_init[k]) (c0 = 0); empty in `input` mode.
template <class T>
RnnState<T> clm_initial_state(const ConditionalLm<T>& m, const std::vector<int64_t>& conditions) {
  const ConditionalLmConfig& c = m.config;
  const int64_t H = c.rnn.hidden_size, L = c.rnn.num_layers, B = int64_t(conditions.size());
  RnnState<T> init;
  if (!c.uses_init()) return init;
  init.h = Tensor<T>({L, B, H});
  if (c.rnn.has_cell_state()) init.c = Tensor<T>({L, B, H});
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j)
        init.h[(l * B + b) * H + j] = std::tanh(m.cond_init[conditions[size_t(b)] * L * H + l * H + j]);
  return init;
}
}  // namespace

template <class T>
T conditional_lm_batch(const ConditionalLm<T>& m, ConditionalLm<T>* grads, const ClmBatch& b,
                       const RnnRunOptions& opt, int64_t* count) {
  const ConditionalLmConfig& c = m.config;
  const int64_t Ts = b.steps, B = b.batch, N = Ts * B, V = ConditionalLmConfig::kVocab;
  const int64_t E = c.embed, Ec = c.uses_input() ? c.cond_embed : 0, F = E + Ec;
  const int64_t H = c.rnn.hidden_size, L = c.rnn.num_layers;
  RECUR_CHECK(int64_t(b.inputs.size()) == N && int64_t(b.targets.size()) == N &&
                  int64_t(b.lengths.size()) == B && int64_t(b.conditions.size()) == B,
              "malformed conditional batch (" << Ts << " steps x " << B << " texts)");
  Tensor<T> x;
  clm_inputs(m, b.inputs, b.conditions, Ts, B, x);
  const RnnState<T> init = clm_initial_state(m, b.conditions);
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  rnn_forward(y, fin, cache, m.rnn, x, b.lengths, c.uses_init() ? &init : nullptr, opt);
  Tensor<T> logits({N, V});
  linear_forward(logits.ptr(), y.ptr(), m.w_out.ptr(), m.b_out.ptr(), N, H, V);
  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({N, V});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       b.targets.data(), N, V, int64_t(-1));
  if (count) *count = int64_t(std::count_if(b.targets.begin(), b.targets.end(),
                                            [](int64_t t) { return t != -1; }));
  if (!grads) return loss;

  Tensor<T> dy({Ts, B, H});
  linear_backward(dy.ptr(), grads->w_out.ptr(), grads->b_out.ptr(), dlogits.ptr(), y.ptr(),
                  m.w_out.ptr(), N, H, V);
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, grads->rnn, cache, m.rnn, dy, nullptr);
  Tensor<T> de({N, E});
  for (int64_t r = 0; r < N; ++r) {
    std::copy_n(dx.ptr() + r * F, E, de.ptr() + r * E);
    if (Ec) {  // d cond.weight[k] += the condition part of every step's input gradient
      T* g = grads->cond_embedding.ptr() + b.conditions[size_t(r % B)] * Ec;
      for (int64_t j = 0; j < Ec; ++j) g[j] += dx[r * F + E + j];
    }
  }
  embedding_backward(grads->embedding.ptr(), de.ptr(), b.inputs.data(), N, V, E);
  if (c.uses_init())  // h0 = tanh(W_init[k]): dW_init[k] += dh0 * (1 - h0^2)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t s = 0; s < B; ++s)
        for (int64_t j = 0; j < H; ++j) {
          const int64_t at = (l * B + s) * H + j;
          grads->cond_init[b.conditions[size_t(s)] * L * H + l * H + j] +=
              dinit.h[at] * (T(1) - init.h[at] * init.h[at]);
        }
  return loss;
}

std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& m, int64_t condition,
                                               int64_t count, int64_t max_len, double temperature,
                                               int64_t top_k, Rng& rng) {
  RECUR_CHECK(count > 0 && max_len > 0, "count and length must be positive");
  const int64_t V = ConditionalLmConfig::kVocab, H = m.config.rnn.hidden_size;
  const std::vector<int64_t> conditions(size_t(count), condition);
  std::vector<int64_t> tokens(size_t(count), ConditionalLmConfig::kBos);
  std::vector<std::string> out(static_cast<size_t>(count));
  std::vector<bool> done(static_cast<size_t>(count), false);
  Tensor<float> x, y, logits({count, V});
  RnnState<float> state = clm_initial_state(m, conditions), fin;
  const bool has_init = !state.h.empty();
  for (int64_t step = 0; step <= max_len; ++step) {
    clm_inputs(m, tokens, conditions, 1, count, x);
    RnnCache<float> cache;
    rnn_forward(y, fin, cache, m.rnn, x, {}, (step > 0 || has_init) ? &state : nullptr);
    state = std::move(fin);
    linear_forward(logits.ptr(), y.ptr(), m.w_out.ptr(), m.b_out.ptr(), count, H, V);
    bool all_done = true;
    for (int64_t s = 0; s < count; ++s) {
      if (done[size_t(s)]) continue;
      int64_t pick = sample_from_logits(logits.ptr() + s * V, V, temperature, top_k, rng);
      if (pick == ConditionalLmConfig::kBos) pick = ConditionalLmConfig::kEos;  // never a second BOS
      if (pick == ConditionalLmConfig::kEos || step == max_len) {
        done[size_t(s)] = true;
      } else {
        out[size_t(s)] += char(pick);
        all_done = false;
      }
      tokens[size_t(s)] = pick;
    }
    if (all_done) break;
  }
  return out;
}

#define RECUR_INSTANTIATE(T)                                                                    \
  template struct ConditionalLm<T>;                                                             \
  template void init_conditional_lm<T>(ConditionalLm<T>&, Rng&);                                \
  template T conditional_lm_batch<T>(const ConditionalLm<T>&, ConditionalLm<T>*, const ClmBatch&, \
                                     const RnnRunOptions&, int64_t*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
