// Small character language models for the tests that need a saved one (the C API, recur serve's
// Service, the loaders' regression tests): built as `recur train-lm` builds them, with an LSTM.
#pragma once

#include <cstdint>
#include <string>

#include "recur/core/rng.h"
#include "recur/models/language_model.h"

namespace recur::testing {

// A character LM over the characters of `text`, embedding `embed`, `layers` LSTM layers of
// `hidden` units; initialised as train-lm does from `seed`, or all zeros when seed is 0.
inline LanguageModel tiny_char_lm(const std::string& text, int64_t embed, int64_t hidden, int layers,
                                  uint64_t seed) {
  LanguageModel lm;
  lm.vocab = Vocab::build(text, TokenMode::chars, 0, "text");
  SequenceModelConfig mc;
  mc.vocab = mc.outputs = lm.vocab.size();
  mc.embed = embed;
  mc.rnn.cell = CellKind::lstm;
  mc.rnn.input_size = embed;
  mc.rnn.hidden_size = hidden;
  mc.rnn.num_layers = layers;
  lm.net = SequenceModel<float>(mc);
  if (seed != 0) {
    Rng rng(seed);
    init_sequence_model(lm.net, rng, RecurrentInit::uniform);
  }
  return lm;
}

}  // namespace recur::testing
