// SequenceModel: embedding -> RNN -> linear -> softmax cross-entropy, forward and backward for one
// window of truncated BPTT. Parameters +=, activations = (see src/cells/cell.h).
#include "recur/models/sequence_model.h"

#include <cmath>

#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"

namespace recur {

void SequenceModelConfig::validate() const {
  RECUR_CHECK(vocab > 0, "SequenceModelConfig.vocab must be positive, got " << vocab);
  RECUR_CHECK(outputs > 0, "SequenceModelConfig.outputs must be positive, got " << outputs);
  RECUR_CHECK(embed > 0, "SequenceModelConfig.embed must be positive, got " << embed);
  RECUR_CHECK(rnn.input_size == embed, "rnn.input_size (" << rnn.input_size
                                                           << ") must equal the embedding size ("
                                                           << embed << ")");
  rnn.validate();
}

double parameter_count(const SequenceModelConfig& c) {
  const double O = double(c.outputs);
  return double(c.vocab) * double(c.embed) + parameter_count(c.rnn) +
         O * double(c.rnn.output_size()) + O;
}

std::map<std::string, std::string> SequenceModelConfig::to_metadata() const {
  auto m = rnn.to_metadata();
  m["input_vocab"] = std::to_string(vocab);
  m["outputs"] = std::to_string(outputs);
  m["embed"] = std::to_string(embed);
  return m;
}

SequenceModelConfig SequenceModelConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  SequenceModelConfig c;
  c.rnn = RnnConfig::from_metadata(meta);
  auto num = [&](const char* k) { return metadata_int(meta, k, "model"); };
  c.vocab = num("input_vocab");
  c.outputs = num("outputs");
  c.embed = num("embed");
  c.validate();
  return c;
}

template <class T>
SequenceModel<T>::SequenceModel(const SequenceModelConfig& cfg)
    : config(cfg),
      embedding({cfg.vocab, cfg.embed}),
      rnn(cfg.rnn),
      w_out({cfg.outputs, cfg.rnn.output_size()}),
      b_out({cfg.outputs}) {
  cfg.validate();
}

template <class T>
void init_sequence_model(SequenceModel<T>& m, Rng& rng, RecurrentInit scheme) {
  for (auto& v : m.embedding.data) v = T(rng.normal());
  init_rnn(m.rnn, rng, scheme);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

template <class T>
T sequence_model_window(const SequenceModel<T>& model, SequenceModel<T>* grads,
                        const std::vector<int64_t>& tokens, const std::vector<int64_t>& targets,
                        int64_t steps, int64_t batch, RnnState<T>& state, const RnnRunOptions& opt,
                        int64_t* count, const std::vector<int64_t>* lengths, Tensor<T>* logits_out) {
  const SequenceModelConfig& c = model.config;
  const int64_t N = steps * batch, E = c.embed, V = c.outputs, F = model.w_out.dim(1);
  RECUR_CHECK(int64_t(tokens.size()) == N && int64_t(targets.size()) == N,
              "window of " << steps << "x" << batch << " needs " << N << " tokens and targets, got "
                           << tokens.size() << " and " << targets.size());
  static const std::vector<int64_t> kFull;  // every sequence has `steps` steps
  if (lengths) {
    RECUR_CHECK(int64_t(lengths->size()) == batch,
                "window of " << steps << "x" << batch << " has " << lengths->size()
                             << " lengths, expected one per sequence (" << batch << ")");
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = (*lengths)[size_t(b)];
      RECUR_CHECK(len >= 0 && len <= steps, "lengths[" << b << "] = " << len
                                                       << " is outside [0, " << steps << "]");
      for (int64_t t = len; t < steps; ++t)  // padding has no output to score
        RECUR_CHECK(targets[size_t(t * batch + b)] == -1,
                    "sequence " << b << " has length " << len << " but a target at step " << t
                                << "; padding targets must be -1");
    }
  }
  Tensor<T> x({steps, batch, E});
  embedding_forward(x.ptr(), tokens.data(), model.embedding.ptr(), N, c.vocab, E);
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  const bool has_state = !state.h.empty();
  rnn_forward(y, fin, cache, model.rnn, x, lengths ? *lengths : kFull,
              has_state ? &state : nullptr, opt.with_inference(!grads));
  Tensor<T> local_logits;
  Tensor<T>& logits = logits_out ? *logits_out : local_logits;
  logits = Tensor<T>({N, V});
  linear_forward(logits.ptr(), y.ptr(), model.w_out.ptr(), model.b_out.ptr(), N, F, V);
  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({N, V});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       targets.data(), N, V, int64_t(-1));
  if (count) {
    *count = 0;
    for (int64_t t : targets) *count += t != -1;
  }
  state = std::move(fin);
  if (!grads) return loss;
  Tensor<T> dy({steps, batch, F});
  linear_backward(dy.ptr(), grads->w_out.ptr(), grads->b_out.ptr(), dlogits.ptr(), y.ptr(),
                  model.w_out.ptr(), N, F, V);
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, grads->rnn, cache, model.rnn, dy, nullptr);
  embedding_backward(grads->embedding.ptr(), dx.ptr(), tokens.data(), N, c.vocab, E);
  return loss;
}

template <class T>
void sequence_model_step(Tensor<T>& logits, const SequenceModel<T>& model,
                         const std::vector<int64_t>& tokens, RnnState<T>& state) {
  const int64_t B = int64_t(tokens.size()), E = model.config.embed, V = model.config.outputs;
  Tensor<T> x({1, B, E});
  embedding_forward(x.ptr(), tokens.data(), model.embedding.ptr(), B, model.config.vocab, E);
  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  rnn_forward(y, fin, cache, model.rnn, x, {}, state.h.empty() ? nullptr : &state,
              RnnRunOptions().with_inference(true));
  logits = Tensor<T>({B, V});
  linear_forward(logits.ptr(), y.ptr(), model.w_out.ptr(), model.b_out.ptr(), B, model.w_out.dim(1), V);
  state = std::move(fin);
}

#define RECUR_INSTANTIATE(T)                                                                    \
  template struct SequenceModel<T>;                                                             \
  template void init_sequence_model<T>(SequenceModel<T>&, Rng&, RecurrentInit);                              \
  template T sequence_model_window<T>(const SequenceModel<T>&, SequenceModel<T>*,               \
                                      const std::vector<int64_t>&, const std::vector<int64_t>&, \
                                      int64_t, int64_t, RnnState<T>&, const RnnRunOptions&,     \
                                      int64_t*, const std::vector<int64_t>*, Tensor<T>*);       \
  template void sequence_model_step<T>(Tensor<T>&, const SequenceModel<T>&,                     \
                                       const std::vector<int64_t>&, RnnState<T>&);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
