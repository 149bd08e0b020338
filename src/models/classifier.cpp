// SequenceClassifier: forward and backward of one padded batch, each head's two directions side by
// side. Parameters +=, activations = (see src/cells/cell.h).
#include "recur/models/classifier.h"

#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"

namespace recur {

constexpr EnumNames<ClassifierHead, 3> kClassifierHeadNames{{{ClassifierHead::pool, "pool"},
                                                             {ClassifierHead::textrnn2, "textrnn2"},
                                                             {ClassifierHead::rcnn, "rcnn"}}};
constexpr EnumNames<Pooling, 3> kPoolingNames{
    {{Pooling::last, "last"}, {Pooling::mean, "mean"}, {Pooling::max, "max"}}};

ClassifierHead parse_classifier_head(const std::string& name) {
  return parse_enum(kClassifierHeadNames, name, "classifier head");
}
const char* classifier_head_name(ClassifierHead h) { return enum_name(kClassifierHeadNames, h); }

Pooling parse_pooling(const std::string& name) {
  return parse_enum(kPoolingNames, name, "pooling");
}
const char* pooling_name(Pooling p) { return enum_name(kPoolingNames, p); }

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
  const double DH = double(c.rnn.output_size()), C = double(c.classes);
  const double P = double(c.top_hidden), F = c.head == ClassifierHead::pool ? DH : P;
  double n = parameter_count(c.rnn) + C * F + C;
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
  w_out = Tensor<T>({cfg.classes, cfg.head_features()});
  b_out = Tensor<T>({cfg.classes});
}

template <class T>
void init_classifier(SequenceClassifier<T>& m, Rng& rng, RecurrentInit scheme) {
  for (auto& v : m.embedding.data) v = T(rng.normal());
  init_rnn(m.rnn, rng, scheme);
  if (m.config.head == ClassifierHead::textrnn2) init_rnn_uniform(m.top, rng);
  if (m.config.head == ClassifierHead::rcnn) init_linear_uniform(m.w_proj, m.b_proj, rng);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

template <class T>
T classifier_batch(const SequenceClassifier<T>& model, SequenceClassifier<T>* grads,
                   const ClassifierBatch<T>& batch, const RnnRunOptions& opt, Tensor<T>* logits_out) {
  const ClassifierConfig& c = model.config;
  const int64_t Ts = batch.steps, B = batch.batch, E = c.input_size(), DH = c.rnn.output_size();
  const int64_t F = c.head_features(), C = c.classes, N = Ts * B;
  RECUR_CHECK(Ts > 0 && B > 0, "an empty classifier batch (" << Ts << " steps x " << B << ")");
  RECUR_CHECK(int64_t(batch.lengths.size()) == B && int64_t(batch.labels.size()) == B,
              "batch of " << B << " sequences has " << batch.lengths.size() << " lengths and "
                          << batch.labels.size() << " labels");
  for (int64_t b = 0; b < B; ++b)
    RECUR_CHECK(batch.lengths[size_t(b)] >= 1 && batch.lengths[size_t(b)] <= Ts,
                "sequence " << b << " has length " << batch.lengths[size_t(b)]
                            << "; expected 1.." << Ts);
  const std::vector<int64_t>& len = batch.lengths;

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
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  rnn_forward(y, fin, cache, model.rnn, x, len, nullptr, opt.with_inference(!grads));

  // Head forward: feat (B,F).
  Tensor<T> feat({B, F});
  std::vector<int64_t> argmax;  // max pooling: the step each feature came from, (B,F)
  Tensor<T> y2, u, z;           // textrnn2 outputs; rcnn inputs (N, DH+E) and activations (N,P)
  RnnState<T> fin2;
  RnnCache<T> cache2;
  auto max_pool = [&](const Tensor<T>& v, int64_t width) {  // v (T,B,width) -> feat, argmax
    argmax.assign(size_t(B * width), 0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < width; ++j) {
        T best = v[b * width + j];
        for (int64_t t = 1; t < len[size_t(b)]; ++t) {
          const T val = v[(t * B + b) * width + j];
          if (val > best) {
            best = val;
            argmax[size_t(b * width + j)] = t;
          }
        }
        feat[b * width + j] = best;
      }
  };
  switch (c.head) {
    case ClassifierHead::pool:
      if (c.pooling == Pooling::last) {
        top_final_state(feat.ptr(), fin, c.rnn, B);
      } else if (c.pooling == Pooling::mean) {
        for (int64_t b = 0; b < B; ++b) {
          const T inv = T(1) / T(len[size_t(b)]);
          for (int64_t t = 0; t < len[size_t(b)]; ++t)
            for (int64_t j = 0; j < DH; ++j) feat[b * DH + j] += y[(t * B + b) * DH + j] * inv;
        }
      } else {
        max_pool(y, DH);
      }
      break;
    case ClassifierHead::textrnn2:
      rnn_forward(y2, fin2, cache2, model.top, y, len, nullptr, opt.with_inference(!grads));
      std::copy_n(fin2.h.ptr(), B * F, feat.ptr());
      break;
    case ClassifierHead::rcnn: {
      u = Tensor<T>({N, DH + E});
      for (int64_t r = 0; r < N; ++r) {
        std::copy_n(y.ptr() + r * DH, DH, u.ptr() + r * (DH + E));
        std::copy_n(x.ptr() + r * E, E, u.ptr() + r * (DH + E) + DH);
      }
      z = Tensor<T>({N, F});
      linear_forward(z.ptr(), u.ptr(), model.w_proj.ptr(), model.b_proj.ptr(), N, DH + E, F);
      for (auto& v : z.data) v = std::tanh(v);
      max_pool(z, F);
      break;
    }
  }

  // Classifier and loss.
  Tensor<T> logits({B, C});
  linear_forward(logits.ptr(), feat.ptr(), model.w_out.ptr(), model.b_out.ptr(), B, F, C);
  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({B, C});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       batch.labels.data(), B, C, int64_t(-1));
  if (logits_out) *logits_out = logits;
  if (!grads) return loss;

  // Backward, head by head, mirroring the forward.
  Tensor<T> dfeat({B, F});
  linear_backward(dfeat.ptr(), grads->w_out.ptr(), grads->b_out.ptr(), dlogits.ptr(), feat.ptr(),
                  model.w_out.ptr(), B, F, C);
  Tensor<T> dy({Ts, B, DH});
  RnnState<T> dfin;
  Tensor<T> dx_direct;  // rcnn: the gradient reaching the input through the projection
  switch (c.head) {
    case ClassifierHead::pool:
      if (c.pooling == Pooling::last) {
        top_final_state_backward(dfin, dfeat.ptr(), c.rnn, B);
      } else if (c.pooling == Pooling::mean) {
        for (int64_t b = 0; b < B; ++b) {
          const T inv = T(1) / T(len[size_t(b)]);
          for (int64_t t = 0; t < len[size_t(b)]; ++t)
            for (int64_t j = 0; j < DH; ++j) dy[(t * B + b) * DH + j] = dfeat[b * DH + j] * inv;
        }
      } else {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < DH; ++j)
            dy[(argmax[size_t(b * DH + j)] * B + b) * DH + j] += dfeat[b * DH + j];
      }
      break;
    case ClassifierHead::textrnn2: {
      RnnState<T> dfin2, dinit2;
      dfin2.h = Tensor<T>({1, B, F});
      dfin2.c = Tensor<T>({1, B, F});
      std::copy_n(dfeat.ptr(), B * F, dfin2.h.ptr());
      rnn_backward(dy, dinit2, grads->top, cache2, model.top, Tensor<T>({Ts, B, F}), &dfin2);
      break;
    }
    case ClassifierHead::rcnn: {
      Tensor<T> dz({N, F});
      for (int64_t b = 0; b < B; ++b)
        for (int64_t p = 0; p < F; ++p) {
          const int64_t r = argmax[size_t(b * F + p)] * B + b;
          const T zv = z[r * F + p];
          dz[r * F + p] = dfeat[b * F + p] * (T(1) - zv * zv);
        }
      Tensor<T> du({N, DH + E});
      linear_backward(du.ptr(), grads->w_proj.ptr(), grads->b_proj.ptr(), dz.ptr(), u.ptr(),
                      model.w_proj.ptr(), N, DH + E, F);
      dx_direct = Tensor<T>({Ts, B, E});
      for (int64_t r = 0; r < N; ++r) {
        std::copy_n(du.ptr() + r * (DH + E), DH, dy.ptr() + r * DH);
        std::copy_n(du.ptr() + r * (DH + E) + DH, E, dx_direct.ptr() + r * E);
      }
      break;
    }
  }
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, grads->rnn, cache, model.rnn, dy, dfin.h.empty() ? nullptr : &dfin);
  if (!dx_direct.empty())
    for (int64_t k = 0; k < dx.numel(); ++k) dx[k] += dx_direct[k];
  if (c.tokens())
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
