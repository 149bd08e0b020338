// recur::SequenceModelStream: a unidirectional SequenceModel one token at a time with its state
// kept, for generation (sampling, serving): embedding row -> RnnStream step (weights packed once,
// no allocation per step) -> output layer. Equal to sequence_model_step token by token
// (tests/models/sequence_stream_test.cpp), at a fraction of its cost per token. A stack with a
// clockwork, skip or deep layer (their own time loops do not step) runs the whole sequence so far
// at every token instead: the same logits, at a cost that grows with the sequence.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "recur/layers/rnn_stream.h"
#include "recur/models/sequence_model.h"

namespace recur {

class SequenceModelStream {
 public:
  // Reads `model` at every step (embedding and output layer) and packs its recurrent weights
  // once: the model must outlive the stream and not change under it.
  explicit SequenceModelStream(const SequenceModel<float>& model);

  void reset();  // a new sequence, from the zero state
  // Feeds one token (an id below the model's vocabulary) and returns the logits of the next one
  // (outputs() values, valid until the next call).
  const float* feed(int64_t token);
  int64_t outputs() const { return model_.config.outputs; }

 private:
  const SequenceModel<float>& model_;
  std::optional<RnnStream<float>> rnn_;  // empty for a stack with an own-loop layer
  std::vector<int64_t> tokens_;          // that stack's sequence so far
  std::vector<float> x_, h_, logits_;
};

}  // namespace recur
