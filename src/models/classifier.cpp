// SequenceClassifier: forward and backward of one padded batch, each head's two directions side by
// side. Parameters +=, activations = (see src/cells/cell.h).
#include "recur/models/classifier.h"

#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/dropout.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"

namespace recur {

constexpr EnumNames<ClassifierHead, 3> kClassifierHeadNames{{{ClassifierHead::pool, "pool"},
                                                             {ClassifierHead::textrnn2, "textrnn2"},
                                                             {ClassifierHead::rcnn, "rcnn"}}};
constexpr EnumNames<Pooling, 3> kPoolingNames{
    {{Pooling::last, "last"}, {Pooling::mean, "mean"}, {Pooling::max, "max"}}};
constexpr EnumNames<ClassifierOutput, 2> kClassifierOutputNames{
    {{ClassifierOutput::softmax, "softmax"}, {ClassifierOutput::sigmoid, "sigmoid"}}};

ClassifierHead parse_classifier_head(const std::string& name) {
  return parse_enum(kClassifierHeadNames, name, "classifier head");
}
const char* classifier_head_name(ClassifierHead h) { return enum_name(kClassifierHeadNames, h); }

Pooling parse_pooling(const std::string& name) {
  return parse_enum(kPoolingNames, name, "pooling");
}
const char* pooling_name(Pooling p) { return enum_name(kPoolingNames, p); }

ClassifierOutput parse_classifier_output(const std::string& name) {
  return parse_enum(kClassifierOutputNames, name, "classifier output");
}
const char* classifier_output_name(ClassifierOutput o) { return enum_name(kClassifierOutputNames, o); }

int64_t ClassifierConfig::head_features() const {
  return head == ClassifierHead::pool ? rnn.output_size() : top_hidden;
}

void ClassifierConfig::validate() const {
  RECUR_CHECK((vocab > 0) != (features > 0),
              "a classifier reads either tokens (vocab > 0) or dense features (features > 0); got "
              "vocab " << vocab << " and features " << features);
  RECUR_CHECK(!tokens() || embed > 0, "the embedding size must be positive, got " << embed);
  RECUR_CHECK(rnn.input_size == input_size(), "encoder input_size (" << rnn.input_size
                                                  << ") must equal the "
                                                  << (tokens() ? "embedding" : "feature")
                                                  << " size (" << input_size() << ")");
  RECUR_CHECK(classes >= 2, "a classifier needs at least 2 classes, got " << classes);
  RECUR_CHECK(head == ClassifierHead::pool || top_hidden > 0,
              "the " << classifier_head_name(head) << " head needs a positive top size, got "
                     << top_hidden);
  RECUR_CHECK(dense >= 0, "the dense layer's size must be 0 (none) or positive, got " << dense);
  RECUR_CHECK(output == ClassifierOutput::softmax || classes == 2,
              "a sigmoid output scores 2 classes; this classifier has " << classes
                                                                       << " (use softmax)");
  RECUR_CHECK(input_dropout >= 0 && input_dropout < 1 && head_dropout >= 0 && head_dropout < 1,
              "dropout must be in [0, 1); got input " << input_dropout << ", head " << head_dropout);
  rnn.validate();
}

std::map<std::string, std::string> ClassifierConfig::to_metadata() const {
  auto m = rnn.to_metadata();
  m["input_vocab"] = std::to_string(vocab);
  m["features"] = std::to_string(features);
  m["embed"] = std::to_string(embed);
  m["head"] = classifier_head_name(head);
  m["pooling"] = pooling_name(pooling);
  m["top_hidden"] = std::to_string(top_hidden);
  m["classes"] = std::to_string(classes);
  m["dense"] = std::to_string(dense);
  m["output"] = classifier_output_name(output);
  m["input_dropout"] = exact_double(input_dropout);
  m["head_dropout"] = exact_double(head_dropout);
  return m;
}

ClassifierConfig ClassifierConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  auto get = [&](const char* k) { return metadata_string(meta, k, "classifier"); };
  auto num = [&](const char* k) { return metadata_int(meta, k, "classifier"); };
  ClassifierConfig c;
  c.rnn = RnnConfig::from_metadata(meta);
  c.vocab = num("input_vocab");
  c.features = num("features");
  c.embed = num("embed");
  c.head = parse_classifier_head(get("head"));
  c.pooling = parse_pooling(get("pooling"));
  c.top_hidden = num("top_hidden");
  c.classes = num("classes");
  // Files written before the dense layer, the sigmoid output and the dropouts have none of them.
  if (meta.count("dense")) c.dense = num("dense");
  if (meta.count("output")) c.output = parse_classifier_output(get("output"));
  if (meta.count("input_dropout")) c.input_dropout = metadata_double(meta, "input_dropout", "classifier");
  if (meta.count("head_dropout")) c.head_dropout = metadata_double(meta, "head_dropout", "classifier");
  c.validate();
  return c;
}

namespace {
// The second LSTM of Text-RNN v2: one layer, one direction, over the encoder's outputs.
RnnConfig top_config(const ClassifierConfig& c) {
  RnnConfig t;
  t.cell = CellKind::lstm;
  t.input_size = c.rnn.output_size();
  t.hidden_size = c.top_hidden;
  return t;
}
}  // namespace

double parameter_count(const ClassifierConfig& c) {
  // In double throughout: head_features() and top_config() multiply in int64.
  const double DH = double(c.rnn.output_size()), O = double(c.logits());
  const double P = double(c.top_hidden), F = c.head == ClassifierHead::pool ? DH : P;
  const double K = c.dense > 0 ? double(c.dense) : F;
  double n = parameter_count(c.rnn) + O * K + O;
  if (c.dense > 0) n += K * F + K;
  if (c.tokens()) n += double(c.vocab) * double(c.embed);
  if (c.head == ClassifierHead::textrnn2) n += 4 * P * (DH + P + 2);  // top_config(): one LSTM layer
  if (c.head == ClassifierHead::rcnn) n += P * (DH + double(c.input_size()) + 1);
  return n;
}

template <class T>
SequenceClassifier<T>::SequenceClassifier(const ClassifierConfig& cfg)
    : config(cfg), rnn(cfg.rnn) {
  cfg.validate();
  const int64_t DH = cfg.rnn.output_size();
  if (cfg.tokens()) embedding = Tensor<T>({cfg.vocab, cfg.embed});
  if (cfg.head == ClassifierHead::textrnn2) top = RnnParams<T>(top_config(cfg));
  if (cfg.head == ClassifierHead::rcnn) {
    w_proj = Tensor<T>({cfg.top_hidden, DH + cfg.input_size()});
    b_proj = Tensor<T>({cfg.top_hidden});
  }
  if (cfg.dense > 0) {
    w_dense = Tensor<T>({cfg.dense, cfg.head_features()});
    b_dense = Tensor<T>({cfg.dense});
  }
  w_out = Tensor<T>({cfg.logits(), cfg.output_inputs()});
  b_out = Tensor<T>({cfg.logits()});
}

template <class T>
void init_classifier(SequenceClassifier<T>& m, Rng& rng, RecurrentInit scheme) {
  for (auto& v : m.embedding.data) v = T(rng.normal());
  init_rnn(m.rnn, rng, scheme);
  if (m.config.head == ClassifierHead::textrnn2) init_rnn_uniform(m.top, rng);
  if (m.config.head == ClassifierHead::rcnn) init_linear_uniform(m.w_proj, m.b_proj, rng);
  if (m.config.dense > 0) init_linear_uniform(m.w_dense, m.b_dense, rng);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

namespace {

// x (T,B,E) scaled by one mask row per sequence, (B,E), at every step.
template <class T>
void scale_steps(Tensor<T>& x, const Tensor<T>& mask) {
  const int64_t BE = mask.numel();
  for (int64_t k = 0; k < x.numel(); ++k) x[k] *= mask[k % BE];
}

// What the head keeps from its forward for its backward.
template <class T>
struct HeadCache {
  std::vector<int64_t> argmax;  // max pooling: the step each feature came from, (B,F)
  Tensor<T> u, z;               // rcnn: inputs (N, DH+E) and activations (N,P)
  Tensor<T> y2;                 // textrnn2: outputs
  RnnState<T> fin2;
  RnnCache<T> cache2;
};

// The head: the encoder's outputs y (T,B,DH) and final states -> features (B,F).
template <class T>
Tensor<T> head_forward(HeadCache<T>& hc, const SequenceClassifier<T>& model, const Tensor<T>& x,
                       const Tensor<T>& y, const RnnState<T>& fin, const std::vector<int64_t>& len,
                       const RnnRunOptions& opt) {
  const ClassifierConfig& c = model.config;
  const int64_t Ts = y.shape[0], B = y.shape[1], DH = y.shape[2], E = c.input_size();
  const int64_t F = c.head_features(), N = Ts * B;
  Tensor<T> feat({B, F});
  auto max_pool = [&](const Tensor<T>& v, int64_t width) {  // v (T,B,width) -> feat, argmax
    hc.argmax.assign(size_t(B * width), 0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < width; ++j) {
        T best = v[b * width + j];
        for (int64_t t = 1; t < len[size_t(b)]; ++t) {
          const T val = v[(t * B + b) * width + j];
          if (val > best) {
            best = val;
            hc.argmax[size_t(b * width + j)] = t;
          }
        }
        feat[b * width + j] = best;
      }
  };
  if (c.head == ClassifierHead::pool && c.pooling == Pooling::last) {
    top_final_state(feat.ptr(), fin, c.rnn, B);
  } else if (c.head == ClassifierHead::pool && c.pooling == Pooling::mean) {
    for (int64_t b = 0; b < B; ++b) {
      const T inv = T(1) / T(len[size_t(b)]);
      for (int64_t t = 0; t < len[size_t(b)]; ++t)
        for (int64_t j = 0; j < DH; ++j) feat[b * DH + j] += y[(t * B + b) * DH + j] * inv;
    }
  } else if (c.head == ClassifierHead::pool) {
    max_pool(y, DH);
  } else if (c.head == ClassifierHead::textrnn2) {
    rnn_forward(hc.y2, hc.fin2, hc.cache2, model.top, y, len, nullptr, opt);
    std::copy_n(hc.fin2.h.ptr(), B * F, feat.ptr());
  } else {  // rcnn
    hc.u = Tensor<T>({N, DH + E});
    for (int64_t r = 0; r < N; ++r) {
      std::copy_n(y.ptr() + r * DH, DH, hc.u.ptr() + r * (DH + E));
      std::copy_n(x.ptr() + r * E, E, hc.u.ptr() + r * (DH + E) + DH);
    }
    hc.z = Tensor<T>({N, F});
    linear_forward(hc.z.ptr(), hc.u.ptr(), model.w_proj.ptr(), model.b_proj.ptr(), N, DH + E, F);
    for (auto& v : hc.z.data) v = std::tanh(v);
    max_pool(hc.z, F);
  }
  return feat;
}

// The head's backward: dfeat (B,F) -> dy (T,B,DH) and dfin (the encoder's), and for rcnn the
// gradient that reaches the input directly (dx_direct, (T,B,E)).
template <class T>
void head_backward(Tensor<T>& dy, RnnState<T>& dfin, Tensor<T>& dx_direct, SequenceClassifier<T>& grads,
                   HeadCache<T>& hc, const SequenceClassifier<T>& model, const Tensor<T>& dfeat,
                   const std::vector<int64_t>& len) {
  const ClassifierConfig& c = model.config;
  const int64_t Ts = dy.shape[0], B = dy.shape[1], DH = dy.shape[2], E = c.input_size();
  const int64_t F = c.head_features(), N = Ts * B;
  if (c.head == ClassifierHead::pool && c.pooling == Pooling::last) {
    top_final_state_backward(dfin, dfeat.ptr(), c.rnn, B);
  } else if (c.head == ClassifierHead::pool && c.pooling == Pooling::mean) {
    for (int64_t b = 0; b < B; ++b) {
      const T inv = T(1) / T(len[size_t(b)]);
      for (int64_t t = 0; t < len[size_t(b)]; ++t)
        for (int64_t j = 0; j < DH; ++j) dy[(t * B + b) * DH + j] = dfeat[b * DH + j] * inv;
    }
  } else if (c.head == ClassifierHead::pool) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < DH; ++j)
        dy[(hc.argmax[size_t(b * DH + j)] * B + b) * DH + j] += dfeat[b * DH + j];
  } else if (c.head == ClassifierHead::textrnn2) {
    RnnState<T> dfin2, dinit2;
    dfin2.h = Tensor<T>({1, B, F});
    dfin2.c = Tensor<T>({1, B, F});
    std::copy_n(dfeat.ptr(), B * F, dfin2.h.ptr());
    rnn_backward(dy, dinit2, grads.top, hc.cache2, model.top, Tensor<T>({Ts, B, F}), &dfin2);
  } else {  // rcnn
    Tensor<T> dz({N, F});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t p = 0; p < F; ++p) {
        const int64_t r = hc.argmax[size_t(b * F + p)] * B + b;
        const T zv = hc.z[r * F + p];
        dz[r * F + p] = dfeat[b * F + p] * (T(1) - zv * zv);
      }
    Tensor<T> du({N, DH + E});
    linear_backward(du.ptr(), grads.w_proj.ptr(), grads.b_proj.ptr(), dz.ptr(), hc.u.ptr(),
                    model.w_proj.ptr(), N, DH + E, F);
    dx_direct = Tensor<T>({Ts, B, E});
    for (int64_t r = 0; r < N; ++r) {
      std::copy_n(du.ptr() + r * (DH + E), DH, dy.ptr() + r * DH);
      std::copy_n(du.ptr() + r * (DH + E) + DH, E, dx_direct.ptr() + r * E);
    }
  }
}

// The output layers, from the head's features (B,F) to the logits (B,C): dropout, the dense ReLU
// layer and its dropout, the final linear layer; a sigmoid's one logit z becomes (0, z).
template <class T>
struct OutputPass {
  Tensor<T> feat, feat_mask;  // the features after dropout, the mask (empty: no dropout)
  Tensor<T> hidden, hidden_mask;  // dense: ReLU(W feat + b) after dropout, its mask

  Tensor<T> forward(const SequenceClassifier<T>& model, Tensor<T> f, const RnnRunOptions& opt) {
    const ClassifierConfig& c = model.config;
    const int64_t B = f.shape[0], F = c.head_features(), K = c.output_inputs(), O = c.logits();
    const bool drop = opt.training && c.head_dropout > 0;
    RECUR_CHECK(!drop || opt.rng, "classifier dropout needs a random generator");
    feat = std::move(f);
    if (drop) inverted_dropout(feat, feat_mask, c.head_dropout, *opt.rng);
    const Tensor<T>* in = &feat;
    if (c.dense > 0) {
      hidden = Tensor<T>({B, K});
      linear_forward(hidden.ptr(), feat.ptr(), model.w_dense.ptr(), model.b_dense.ptr(), B, F, K);
      for (auto& v : hidden.data) v = std::max(v, T(0));
      if (drop) inverted_dropout(hidden, hidden_mask, c.head_dropout, *opt.rng);
      in = &hidden;
    }
    Tensor<T> z({B, O});
    linear_forward(z.ptr(), in->ptr(), model.w_out.ptr(), model.b_out.ptr(), B, K, O);
    if (c.output == ClassifierOutput::softmax) return z;
    Tensor<T> logits({B, 2});
    for (int64_t b = 0; b < B; ++b) logits[b * 2 + 1] = z[b];
    return logits;
  }

  // dlogits (B,C) -> dfeat (B,F), the dense and output layers' gradients into grads.
  Tensor<T> backward(SequenceClassifier<T>& grads, const SequenceClassifier<T>& model,
                     const Tensor<T>& dlogits) {
    const ClassifierConfig& c = model.config;
    const int64_t B = dlogits.shape[0], F = c.head_features(), K = c.output_inputs(), O = c.logits();
    Tensor<T> dz({B, O});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < O; ++o)  // sigmoid: z is the second logit, the first is constant
        dz[b * O + o] = dlogits[b * c.classes + (c.output == ClassifierOutput::sigmoid ? 1 : o)];
    Tensor<T> din({B, K});
    linear_backward(din.ptr(), grads.w_out.ptr(), grads.b_out.ptr(), dz.ptr(),
                    (c.dense > 0 ? hidden : feat).ptr(), model.w_out.ptr(), B, K, O);
    Tensor<T> dfeat = din;
    if (c.dense > 0) {
      if (!hidden_mask.empty()) scale_by_mask(din, hidden_mask);
      for (int64_t k = 0; k < din.numel(); ++k)
        if (hidden[k] <= T(0)) din[k] = T(0);
      dfeat = Tensor<T>({B, F});
      linear_backward(dfeat.ptr(), grads.w_dense.ptr(), grads.b_dense.ptr(), din.ptr(), feat.ptr(),
                      model.w_dense.ptr(), B, F, K);
    }
    if (!feat_mask.empty()) scale_by_mask(dfeat, feat_mask);
    return dfeat;
  }
};

template <class T>
void check_batch(const ClassifierBatch<T>& batch) {
  const int64_t Ts = batch.steps, B = batch.batch;
  RECUR_CHECK(Ts > 0 && B > 0, "an empty classifier batch (" << Ts << " steps x " << B << ")");
  RECUR_CHECK(int64_t(batch.lengths.size()) == B && int64_t(batch.labels.size()) == B,
              "batch of " << B << " sequences has " << batch.lengths.size() << " lengths and "
                          << batch.labels.size() << " labels");
  for (int64_t b = 0; b < B; ++b)
    RECUR_CHECK(batch.lengths[size_t(b)] >= 1 && batch.lengths[size_t(b)] <= Ts,
                "sequence " << b << " has length " << batch.lengths[size_t(b)]
                            << "; expected 1.." << Ts);
}

}  // namespace

template <class T>
T classifier_batch(const SequenceClassifier<T>& model, SequenceClassifier<T>* grads,
                   const ClassifierBatch<T>& batch, const RnnRunOptions& opt, Tensor<T>* logits_out) {
  const ClassifierConfig& c = model.config;
  check_batch(batch);
  const int64_t Ts = batch.steps, B = batch.batch, E = c.input_size(), DH = c.rnn.output_size();
  const int64_t C = c.classes, N = Ts * B;

  // Input -> encoder.
  Tensor<T> x;
  if (c.tokens()) {
    RECUR_CHECK(int64_t(batch.tokens.size()) == N,
                "batch needs " << N << " token ids, got " << batch.tokens.size());
    x = Tensor<T>({Ts, B, E});
    embedding_forward(x.ptr(), batch.tokens.data(), model.embedding.ptr(), N, c.vocab, E);
  } else {
    RECUR_CHECK(batch.values.shape == Shape({Ts, B, E}),
                "batch values have shape " << batch.values.shape_string() << ", expected "
                                           << shape_str({Ts, B, E}));
    x = batch.values;
  }
  Tensor<T> x_mask;  // input dropout, (B,E)
  if (opt.training && c.input_dropout > 0) {
    RECUR_CHECK(opt.rng, "classifier dropout needs a random generator");
    dropout_mask(x_mask, {B, E}, c.input_dropout, *opt.rng);
    scale_steps(x, x_mask);
  }
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  const RnnRunOptions run = opt.with_inference(!grads);
  rnn_forward(y, fin, cache, model.rnn, x, batch.lengths, nullptr, run);
  HeadCache<T> hc;
  OutputPass<T> out;
  const Tensor<T> logits = out.forward(model, head_forward(hc, model, x, y, fin, batch.lengths, run), opt);

  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({B, C});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       batch.labels.data(), B, C, int64_t(-1));
  if (logits_out) *logits_out = logits;
  if (!grads) return loss;

  // Backward, mirroring the forward.
  const Tensor<T> dfeat = out.backward(*grads, model, dlogits);
  Tensor<T> dy({Ts, B, DH}), dx_direct;
  RnnState<T> dfin;
  head_backward(dy, dfin, dx_direct, *grads, hc, model, dfeat, batch.lengths);
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, grads->rnn, cache, model.rnn, dy, dfin.h.empty() ? nullptr : &dfin);
  if (!dx_direct.empty())
    for (int64_t k = 0; k < dx.numel(); ++k) dx[k] += dx_direct[k];
  if (!c.tokens()) return loss;
  if (!x_mask.empty()) scale_steps(dx, x_mask);
  embedding_backward(grads->embedding.ptr(), dx.ptr(), batch.tokens.data(), N, c.vocab, E);
  return loss;
}

#define RECUR_INSTANTIATE(T)                                                                       \
  template struct SequenceClassifier<T>;                                                           \
  template void init_classifier<T>(SequenceClassifier<T>&, Rng&, RecurrentInit);                   \
  template T classifier_batch<T>(const SequenceClassifier<T>&, SequenceClassifier<T>*,             \
                                 const ClassifierBatch<T>&, const RnnRunOptions&, Tensor<T>*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
