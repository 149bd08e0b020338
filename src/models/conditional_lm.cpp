// ConditionalLm: forward and backward of a padded batch, and sampling. Parameters +=,
// activations = (see src/cells/cell.h).
#include "recur/models/conditional_lm.h"

#include <algorithm>
#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"
#include "recur/nn/sampling.h"

namespace recur {

constexpr EnumNames<ConditionMode, 4> kConditionModeNames{{{ConditionMode::init, "init"},
                                                           {ConditionMode::input, "input"},
                                                           {ConditionMode::both, "both"},
                                                           {ConditionMode::first, "first"}}};
constexpr EnumNames<SequenceEnding, 3> kSequenceEndingNames{{{SequenceEnding::eos, "eos"},
                                                             {SequenceEnding::stop, "stop"},
                                                             {SequenceEnding::length, "length"}}};

constexpr EnumNames<TimeInput, 3> kTimeInputNames{
    {{TimeInput::none, "none"}, {TimeInput::index, "index"}, {TimeInput::remaining, "remaining"}}};

TimeInput parse_time_input(const std::string& name) { return parse_enum(kTimeInputNames, name, "time input"); }
const char* time_input_name(TimeInput t) { return enum_name(kTimeInputNames, t); }

ConditionMode parse_condition_mode(const std::string& name) {
  return parse_enum(kConditionModeNames, name, "condition mode");
}
const char* condition_mode_name(ConditionMode m) { return enum_name(kConditionModeNames, m); }

SequenceEnding parse_sequence_ending(const std::string& name) {
  return parse_enum(kSequenceEndingNames, name, "ending");
}
const char* sequence_ending_name(SequenceEnding e) { return enum_name(kSequenceEndingNames, e); }

void ConditionalLmConfig::validate() const {
  RECUR_CHECK(conditions >= 1, "a conditional model needs at least one condition");
  RECUR_CHECK(embed > 0 && (!uses_input() || cond_embed > 0), "embedding sizes must be positive");
  RECUR_CHECK(!rnn.any_bidirectional(), "a language model reads left to right: no bidirectional RNN");
  RECUR_CHECK(rnn.one_engine_segment(), "the conditional language model starts every layer from the condition, "
                            "so its layers share one kind and size on the engine; '"
                                << format_rnn_spec(rnn_spec_from_config(rnn))
                                << "' (a mixed stack, or a clockwork, skip or deep layer) is not supported");
  RECUR_CHECK(rnn.input_size == input_width(),
              "rnn.input_size " << rnn.input_size << " must be the byte embedding "
                                << (uses_input() ? "plus the condition embedding " : "")
                                << (time_width() ? "plus the time input " : "") << "("
                                << input_width() << ")");
  RECUR_CHECK(time_input != TimeInput::remaining || ending != SequenceEnding::length,
              "the remaining length as input and the length head exclude each other: the head "
              "predicts the length from the first step, whose input would need it");
  rnn.validate();
}

std::map<std::string, std::string> ConditionalLmConfig::to_metadata() const {
  auto m = rnn.to_metadata();
  m["conditions"] = std::to_string(conditions);
  if (vectors) m["condition_input"] = "vector";  // older files, and classes, have no key
  m["condition_mode"] = condition_mode_name(mode);
  m["embed"] = std::to_string(embed);
  m["cond_embed"] = std::to_string(cond_embed);
  m["ending"] = sequence_ending_name(ending);
  if (time_input != TimeInput::none) m["time_input"] = time_input_name(time_input);
  return m;
}

double parameter_count(const ConditionalLmConfig& c) {
  const double V = double(ConditionalLmConfig::kVocab), H = double(c.rnn.hidden_size);
  const double K = double(c.conditions);
  double n = V * double(c.embed) + parameter_count(c.rnn) + V * H + V;
  if (c.uses_input()) n += K * double(c.cond_embed);
  if (c.uses_init()) n += K * double(c.rnn.num_layers) * H;
  if (c.ending != SequenceEnding::eos) n += H + 1;
  return n;
}

ConditionalLmConfig ConditionalLmConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  auto get = [&](const char* k) { return metadata_string(meta, k, "conditional model"); };
  auto num = [&](const char* k) { return metadata_int(meta, k, "conditional model"); };
  ConditionalLmConfig c;
  c.rnn = RnnConfig::from_metadata(meta);
  c.conditions = num("conditions");
  if (meta.count("condition_input")) {
    const std::string& in = get("condition_input");
    RECUR_CHECK(in == "vector" || in == "class",
                "conditional model metadata 'condition_input' = '" << in << "'; expected class or vector");
    c.vectors = in == "vector";
  }
  c.mode = parse_condition_mode(get("condition_mode"));
  c.embed = num("embed");
  c.cond_embed = num("cond_embed");
  if (meta.count("ending")) c.ending = parse_sequence_ending(meta.at("ending"));
  if (meta.count("time_input")) c.time_input = parse_time_input(meta.at("time_input"));
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
  if (cfg.ending != SequenceEnding::eos) {
    w_end = Tensor<T>({cfg.rnn.hidden_size});
    b_end = Tensor<T>({1});
  }
}

template <class T>
void init_conditional_lm(ConditionalLm<T>& m, Rng& rng) {
  for (auto& v : m.embedding.data) v = T(rng.normal());
  for (auto& v : m.cond_embedding.data) v = T(rng.normal());
  for (auto& v : m.cond_init.data) v = T(0.1 * rng.normal());
  init_rnn(m.rnn, rng, RecurrentInit::uniform);
  init_linear_uniform(m.w_out, m.b_out, rng);
  const double a = 1.0 / std::sqrt(double(m.config.rnn.hidden_size));
  for (auto& v : m.w_end.data) v = T(rng.uniform(-a, a));
  m.b_end.fill(T(0));
}

namespace {
// The batch's texts: inputs, targets and lengths.
ClmBatch batch_of_texts(const std::vector<const std::string*>& texts) {
  ClmBatch b;
  b.batch = int64_t(texts.size());
  for (const std::string* t : texts) b.steps = std::max(b.steps, int64_t(t->size()) + 1);
  b.inputs.assign(size_t(b.steps * b.batch), ConditionalLmConfig::kBos);
  b.targets.assign(size_t(b.steps * b.batch), -1);
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
}  // namespace

ClmBatch make_clm_batch(const std::vector<const std::string*>& texts,
                        const std::vector<int64_t>& conditions) {
  RECUR_CHECK(!texts.empty() && texts.size() == conditions.size(),
              "a batch needs one condition per text (" << texts.size() << " texts, "
                                                       << conditions.size() << " conditions)");
  ClmBatch b = batch_of_texts(texts);
  b.conditions = conditions;
  return b;
}

ClmBatch make_clm_vector_batch(const std::vector<const std::string*>& texts, std::vector<float> vectors) {
  RECUR_CHECK(!texts.empty() && !vectors.empty() && vectors.size() % texts.size() == 0,
              "a batch needs one condition vector per text (" << texts.size() << " texts, "
                                                              << vectors.size() << " values)");
  ClmBatch b = batch_of_texts(texts);
  b.vectors = std::move(vectors);
  return b;
}

namespace {
// The batch's conditions as rows v (B,K): one-hot rows of class ids, or the given vectors.
template <class T>
Tensor<T> condition_rows(const ConditionalLmConfig& c, const std::vector<int64_t>& conditions,
                         const std::vector<float>& vectors, int64_t B) {
  const int64_t K = c.conditions;
  Tensor<T> v({B, K});
  if (c.vectors) {
    RECUR_CHECK(conditions.empty() && int64_t(vectors.size()) == B * K,
                "the model is conditioned on vectors of " << K << " values: expected " << B * K
                                                           << " values for " << B << " texts, got "
                                                           << vectors.size());
    std::copy(vectors.begin(), vectors.end(), v.data.begin());
    return v;
  }
  RECUR_CHECK(vectors.empty() && int64_t(conditions.size()) == B,
              "the model is conditioned on classes: expected " << B << " class ids");
  for (int64_t b = 0; b < B; ++b) {
    const int64_t k = conditions[size_t(b)];
    RECUR_CHECK(k >= 0 && k < K, "condition " << k << " is outside [0, " << K << ")");
    v[b * K + k] = T(1);
  }
  return v;
}

// v (B,K) times W (K,width): a class's row of W, or a vector's combination of the rows.
template <class T>
Tensor<T> project(const Tensor<T>& v, const Tensor<T>& W) {
  const int64_t B = v.shape[0], K = v.shape[1], width = W.shape[1];
  Tensor<T> out({B, width});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k)
      if (const T a = v[b * K + k]; a != T(0))
        for (int64_t j = 0; j < width; ++j) out[b * width + j] += a * W[k * width + j];
  return out;
}

// dW (K,width) += v^T dout, for project's backward.
template <class T>
void project_backward(Tensor<T>& dW, const Tensor<T>& v, const T* dout, int64_t row_stride) {
  const int64_t B = v.shape[0], K = v.shape[1], width = dW.shape[1];
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k)
      if (const T a = v[b * K + k]; a != T(0))
        for (int64_t j = 0; j < width; ++j) dW[k * width + j] += a * dout[b * row_stride + j];
}

// x (T,B,E[+Ec][+Et]) = [embedding(inputs); v^T E_cond; time] (the condition at every step, or
// only the first in `first` mode; time: Ts*B values, read when the model has a time input).
template <class T>
void clm_inputs(const ConditionalLm<T>& m, const std::vector<int64_t>& inputs, const Tensor<T>& v,
                int64_t Ts, int64_t B, Tensor<T>& x, const std::vector<T>& time, bool first_step = true) {
  const ConditionalLmConfig& c = m.config;
  const int64_t E = c.embed, Ec = c.uses_input() ? c.cond_embed : 0, F = c.input_width();
  Tensor<T> e({Ts * B, E});
  embedding_forward(e.ptr(), inputs.data(), m.embedding.ptr(), Ts * B, ConditionalLmConfig::kVocab, E);
  x = Tensor<T>({Ts, B, F});
  const Tensor<T> cond = Ec ? project(v, m.cond_embedding) : Tensor<T>();
  const int64_t rows = c.mode == ConditionMode::first ? (first_step ? B : 0) : Ts * B;
  for (int64_t r = 0; r < Ts * B; ++r) {
    std::copy_n(e.ptr() + r * E, E, x.ptr() + r * F);
    if (Ec && r < rows) std::copy_n(cond.ptr() + (r % B) * Ec, Ec, x.ptr() + r * F + E);
    if (c.time_width()) x[r * F + E + Ec] = time[size_t(r)];
  }
}

// The time input at step t of a text of n bytes: ln(1 + t), or ln(1 + n - t).
double time_value(TimeInput kind, int64_t t, int64_t n) {
  return std::log1p(double(kind == TimeInput::index ? t : std::max<int64_t>(n - t, 0)));
}

// The time input of a batch, each text with its own length.
template <class T>
std::vector<T> clm_time(const ConditionalLmConfig& c, const ClmBatch& b) {
  if (!c.time_width()) return {};
  std::vector<T> time(size_t(b.steps * b.batch));
  for (int64_t t = 0; t < b.steps; ++t)
    for (int64_t s = 0; s < b.batch; ++s)
      time[size_t(t * b.batch + s)] = T(time_value(c.time_input, t, b.lengths[size_t(s)] - 1));
  return time;
}

// The initial state from the condition, h0 = tanh(v^T W_init) (c0 = 0); empty unless init or both.
template <class T>
RnnState<T> clm_initial_state(const ConditionalLm<T>& m, const Tensor<T>& v) {
  const ConditionalLmConfig& c = m.config;
  const int64_t H = c.rnn.hidden_size, L = c.rnn.num_layers, B = v.shape[0];
  RnnState<T> init;
  if (!c.uses_init()) return init;
  const Tensor<T> z = project(v, m.cond_init);  // (B, L*H)
  init.h = Tensor<T>({L, B, H});
  if (c.rnn.has_cell_state()) init.c = Tensor<T>({L, B, H});
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) init.h[(l * B + b) * H + j] = std::tanh(z[b * L * H + l * H + j]);
  return init;
}
}  // namespace

template <class T>
T conditional_lm_batch(const ConditionalLm<T>& m, ConditionalLm<T>* grads, const ClmBatch& b,
                       const RnnRunOptions& opt, int64_t* count, T* ending_loss) {
  const ConditionalLmConfig& c = m.config;
  const int64_t Ts = b.steps, B = b.batch, N = Ts * B, V = ConditionalLmConfig::kVocab;
  const int64_t E = c.embed, Ec = c.uses_input() ? c.cond_embed : 0, F = c.input_width();
  const int64_t H = c.rnn.hidden_size, L = c.rnn.num_layers;
  RECUR_CHECK(int64_t(b.inputs.size()) == N && int64_t(b.targets.size()) == N &&
                  int64_t(b.lengths.size()) == B,
              "malformed conditional batch (" << Ts << " steps x " << B << " texts)");
  const Tensor<T> v = condition_rows<T>(c, b.conditions, b.vectors, B);
  Tensor<T> x;
  clm_inputs(m, b.inputs, v, Ts, B, x, clm_time<T>(c, b));
  const RnnState<T> init = clm_initial_state(m, v);
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  rnn_forward(y, fin, cache, m.rnn, x, b.lengths, c.uses_init() ? &init : nullptr,
              opt.with_inference(!grads));
  Tensor<T> logits({N, V});
  linear_forward(logits.ptr(), y.ptr(), m.w_out.ptr(), m.b_out.ptr(), N, H, V);
  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({N, V});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       b.targets.data(), N, V, int64_t(-1));
  if (count) *count = int64_t(std::count_if(b.targets.begin(), b.targets.end(),
                                            [](int64_t t) { return t != -1; }));
  // The ending head: the stop probability at every scored step, or the length from step 0.
  //   stop:   p = sigmoid(w . y_t + b), loss = mean BCE(p, [t == n]); dz = (p - target) / count
  //   length: l = w . y_0 + b, loss = mean (l - ln(1 + n))^2;        dz = 2 (l - target) / B
  Tensor<T> dy_end;
  if (grads) dy_end = Tensor<T>({Ts, B, H});
  T end_loss = 0;
  if (c.ending != SequenceEnding::eos) {
    const bool stop = c.ending == SequenceEnding::stop;
    int64_t scored = 0;
    std::vector<std::pair<int64_t, T>> dz;  // (row, d loss / d z)
    for (int64_t s = 0; s < B; ++s) {
      const int64_t n = b.lengths[size_t(s)] - 1;  // bytes; steps 0..n are scored
      for (int64_t t = 0; t <= (stop ? n : 0); ++t) {
        const int64_t row = t * B + s;
        T z = m.b_end[0];
        for (int64_t j = 0; j < H; ++j) z += m.w_end[j] * y[row * H + j];
        if (stop) {
          const T p = T(1) / (T(1) + std::exp(-z)), target = t == n ? T(1) : T(0);
          end_loss -= target * std::log(std::max(p, T(1e-12))) + (1 - target) * std::log(std::max(1 - p, T(1e-12)));
          dz.push_back({row, p - target});
        } else {
          const T e = z - std::log(T(1) + T(n));
          end_loss += e * e;
          dz.push_back({row, 2 * e});
        }
        ++scored;
      }
    }
    end_loss /= T(scored);
    if (grads)
      for (const auto& [row, d0] : dz) {
        const T d = d0 / T(scored);
        grads->b_end[0] += d;
        for (int64_t j = 0; j < H; ++j) {
          grads->w_end[j] += d * y[row * H + j];
          dy_end[row * H + j] += d * m.w_end[j];
        }
      }
  }
  if (ending_loss) *ending_loss = end_loss;
  if (!grads) return loss;

  Tensor<T> dy({Ts, B, H});
  linear_backward(dy.ptr(), grads->w_out.ptr(), grads->b_out.ptr(), dlogits.ptr(), y.ptr(),
                  m.w_out.ptr(), N, H, V);
  if (c.ending != SequenceEnding::eos)
    for (int64_t k = 0; k < dy.numel(); ++k) dy[k] += dy_end[k];
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, grads->rnn, cache, m.rnn, dy, nullptr);
  Tensor<T> de({N, E});
  for (int64_t r = 0; r < N; ++r) std::copy_n(dx.ptr() + r * F, E, de.ptr() + r * E);
  embedding_backward(grads->embedding.ptr(), de.ptr(), b.inputs.data(), N, V, E);
  if (Ec) {  // d cond.weight += v^T (the condition part of the input gradient, summed over steps)
    const int64_t steps = c.mode == ConditionMode::first ? 1 : Ts;
    Tensor<T> dcond({B, Ec});
    for (int64_t r = 0; r < steps * B; ++r)
      for (int64_t j = 0; j < Ec; ++j) dcond[(r % B) * Ec + j] += dx[r * F + E + j];
    project_backward(grads->cond_embedding, v, dcond.ptr(), Ec);
  }
  if (c.uses_init()) {  // h0 = tanh(v^T W_init): dW_init += v^T (dh0 * (1 - h0^2))
    Tensor<T> dz({B, L * H});
    for (int64_t l = 0; l < L; ++l)
      for (int64_t s = 0; s < B; ++s)
        for (int64_t j = 0; j < H; ++j) {
          const int64_t at = (l * B + s) * H + j;
          dz[s * L * H + l * H + j] = dinit.h[at] * (T(1) - init.h[at] * init.h[at]);
        }
    project_backward(grads->cond_init, v, dz.ptr(), L * H);
  }
  return loss;
}

namespace {
// One text per row of v (count,K), sampled byte by byte.
std::vector<std::string> sample_rows(const ConditionalLm<float>& m, const Tensor<float>& v,
                                     int64_t max_len, double temperature, int64_t top_k, Rng& rng,
                                     int64_t target_length) {
  const int64_t count = v.shape[0];
  RECUR_CHECK(count > 0 && max_len > 0, "count and length must be positive");
  const bool remaining = m.config.time_input == TimeInput::remaining;
  RECUR_CHECK(!remaining || (target_length > 0 && target_length <= max_len),
              "the model takes the remaining length as input: give the length to write (1 to "
                  << max_len << " bytes), not " << target_length);
  if (remaining) max_len = target_length;
  const int64_t V = ConditionalLmConfig::kVocab, H = m.config.rnn.hidden_size;
  std::vector<int64_t> tokens(size_t(count), ConditionalLmConfig::kBos);
  std::vector<std::string> out(static_cast<size_t>(count));
  std::vector<bool> done(static_cast<size_t>(count), false);
  std::vector<int64_t> target_len(static_cast<size_t>(count), max_len);
  const SequenceEnding ending = m.config.ending;
  Tensor<float> x, y, logits({count, V});
  RnnState<float> state = clm_initial_state(m, v), fin;
  const bool has_init = !state.h.empty();
  for (int64_t step = 0; step <= max_len; ++step) {
    const float t = float(time_value(m.config.time_input, step, max_len));
    clm_inputs(m, tokens, v, 1, count, x, std::vector<float>(size_t(count), t), step == 0);
    RnnCache<float> cache;
    rnn_forward(y, fin, cache, m.rnn, x, {}, (step > 0 || has_init) ? &state : nullptr,
                RnnRunOptions().with_inference(true));
    state = std::move(fin);
    linear_forward(logits.ptr(), y.ptr(), m.w_out.ptr(), m.b_out.ptr(), count, H, V);
    bool all_done = true;
    for (int64_t s = 0; s < count; ++s) {
      if (done[size_t(s)]) continue;
      float* row = logits.ptr() + s * V;
      const float* h = y.ptr() + s * H;
      bool end_now = false;
      if (ending != SequenceEnding::eos) {
        // The head reads this step's state: every step for stop, only after BOS for length.
        auto head = [&] {
          float z = m.b_end[0];
          for (int64_t j = 0; j < H; ++j) z += m.w_end[j] * h[j];
          return double(z);
        };
        if (ending == SequenceEnding::stop) {
          end_now = rng.uniform() < 1.0 / (1.0 + std::exp(-head()));
        } else {
          if (step == 0)
            target_len[size_t(s)] = std::clamp<int64_t>(int64_t(std::llround(std::exp(head()) - 1)), 0, max_len);
          end_now = step >= target_len[size_t(s)];
        }
        row[ConditionalLmConfig::kEos] = -1e30f;  // the head decides the end, not the symbol
      }
      int64_t pick = end_now ? ConditionalLmConfig::kEos : sample_from_logits(row, V, temperature, top_k, rng);
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
}  // namespace

std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& m, int64_t condition,
                                               int64_t count, int64_t max_len, double temperature,
                                               int64_t top_k, Rng& rng, int64_t target_length) {
  RECUR_CHECK(count > 0, "count must be positive");
  const std::vector<int64_t> conditions(size_t(count), condition);
  return sample_rows(m, condition_rows<float>(m.config, conditions, {}, count), max_len, temperature,
                     top_k, rng, target_length);
}

std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& m,
                                               const std::vector<float>& vectors, int64_t max_len,
                                               double temperature, int64_t top_k, Rng& rng,
                                               int64_t target_length) {
  const int64_t K = m.config.conditions;
  RECUR_CHECK(!vectors.empty() && int64_t(vectors.size()) % K == 0,
              vectors.size() << " values are not whole condition vectors of " << K);
  const int64_t count = int64_t(vectors.size()) / K;
  return sample_rows(m, condition_rows<float>(m.config, {}, vectors, count), max_len, temperature,
                     top_k, rng, target_length);
}

#define RECUR_INSTANTIATE(T)                                                                    \
  template struct ConditionalLm<T>;                                                             \
  template void init_conditional_lm<T>(ConditionalLm<T>&, Rng&);                                \
  template T conditional_lm_batch<T>(const ConditionalLm<T>&, ConditionalLm<T>*, const ClmBatch&, \
                                     const RnnRunOptions&, int64_t*, T*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
