// recur::SequenceModelStream (recur/models/sequence_stream.h).
#include "recur/models/sequence_stream.h"

#include "recur/core/error.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"

namespace recur {

SequenceModelStream::SequenceModelStream(const SequenceModel<float>& model)
    : model_(model),
      x_(size_t(model.config.embed)),
      h_(size_t(model.rnn.config.output_size())),
      logits_(size_t(model.config.outputs)) {
  RECUR_CHECK(!model.rnn.config.any_bidirectional(),
              "a bidirectional network cannot run one token at a time (it needs the whole sequence)");
  if (!model.rnn.config.any_own_loop()) rnn_.emplace(model.rnn, 1);
}

void SequenceModelStream::reset() {
  if (rnn_) rnn_->reset();
  tokens_.clear();
}

namespace {
// The top layer's output at the last of `tokens` (B = 1), the whole sequence run from zeros.
void run_whole(std::vector<float>& h, const SequenceModel<float>& m, const std::vector<int64_t>& tokens) {
  const int64_t T = int64_t(tokens.size()), E = m.config.embed;
  Tensor<float> x({T, 1, E}), y;
  embedding_forward(x.ptr(), tokens.data(), m.embedding.ptr(), T, m.config.vocab, E);
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, m.rnn, x, {}, nullptr, RnnRunOptions().with_inference(true));
  std::copy_n(y.ptr() + (T - 1) * int64_t(h.size()), h.size(), h.data());
}
}  // namespace

const float* SequenceModelStream::feed(int64_t token) {
  if (rnn_) {
    embedding_forward(x_.data(), &token, model_.embedding.ptr(), 1, model_.config.vocab,
                      model_.config.embed);
    rnn_->step(x_.data(), h_.data());
  } else {
    RECUR_CHECK(token >= 0 && token < model_.config.vocab,
                "token id " << token << " is outside the vocabulary of " << model_.config.vocab);
    tokens_.push_back(token);
    run_whole(h_, model_, tokens_);
  }
  linear_forward(logits_.data(), h_.data(), model_.w_out.ptr(), model_.b_out.ptr(), 1,
                 int64_t(h_.size()), model_.config.outputs);
  return logits_.data();
}

}  // namespace recur
