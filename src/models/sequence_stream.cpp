// recur::SequenceModelStream (recur/models/sequence_stream.h).
#include "recur/models/sequence_stream.h"

#include "recur/core/error.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"

namespace recur {

SequenceModelStream::SequenceModelStream(const SequenceModel<float>& model)
    : model_(model),
      rnn_(model.rnn, 1),
      x_(size_t(model.config.embed)),
      h_(size_t(model.rnn.config.output_size())),
      logits_(size_t(model.config.outputs)) {
  RECUR_CHECK(!model.rnn.config.bidirectional,
              "a bidirectional network cannot run one token at a time (it needs the whole sequence)");
}

void SequenceModelStream::reset() { rnn_.reset(); }

const float* SequenceModelStream::feed(int64_t token) {
  embedding_forward(x_.data(), &token, model_.embedding.ptr(), 1, model_.config.vocab,
                    model_.config.embed);
  rnn_.step(x_.data(), h_.data());
  linear_forward(logits_.data(), h_.data(), model_.w_out.ptr(), model_.b_out.ptr(), 1,
                 int64_t(h_.size()), model_.config.outputs);
  return logits_.data();
}

}  // namespace recur
