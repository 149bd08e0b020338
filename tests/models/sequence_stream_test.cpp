// SequenceModelStream: token by token, the logits of sequence_model_step (the whole-layer path)
// for every cell kind and two layers; a new sequence after reset(); bidirectional refused.
#include "recur/models/sequence_stream.h"

#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "recur/layers/rnn_spec.h"

namespace recur {
namespace {

SequenceModel<float> small_model(CellKind cell, bool bidirectional = false) {
  SequenceModelConfig c;
  c.vocab = c.outputs = 13;
  c.embed = 6;
  c.rnn.cell = cell;
  c.rnn.input_size = 6;
  c.rnn.hidden_size = 9;
  c.rnn.num_layers = 2;
  c.rnn.bidirectional = bidirectional;
  SequenceModel<float> m(c);
  Rng rng(3);
  init_sequence_model(m, rng, RecurrentInit::uniform);
  return m;
}

TEST(SequenceModelStream, EqualsTheWholeLayerStepTokenByToken) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh}) {
    SCOPED_TRACE(cell_name(cell));
    const SequenceModel<float> m = small_model(cell);
    SequenceModelStream s(m);
    for (int pass = 0; pass < 2; ++pass) {  // the second after reset()
      RnnState<float> state;
      Tensor<float> want;
      for (const int64_t id : {3, 1, 12, 0, 7, 7, 2, 9}) {
        sequence_model_step(want, m, {id}, state);
        const float* got = s.feed(id);
        for (int64_t v = 0; v < 13; ++v) EXPECT_NEAR(got[v], want[v], 1e-5f) << "token " << id;
      }
      s.reset();
    }
  }
}

// Mixed stacks stream segment by segment; a stack with an own-loop layer (clockwork, skip, deep)
// runs the whole sequence so far at every token: both equal the whole window's logits at each step.
TEST(SequenceModelStream, MixedStacksAndOwnLoopLayersEqualTheWholeWindow) {
  for (const char* spec : {"lstm:8;gru:5,reset_before;rnn_tanh:7", "gru:6;clockwork:8,periods=1/2;skip:5,delay=2",
                           "deep:6"}) {
    SCOPED_TRACE(spec);
    SequenceModelConfig c;
    c.vocab = c.outputs = 13;
    c.embed = 6;
    c.rnn = rnn_config_from_spec(parse_rnn_spec(spec), 6);
    SequenceModel<float> m(c);
    Rng rng(3);
    init_sequence_model(m, rng, RecurrentInit::uniform);
    SequenceModelStream s(m);
    const std::vector<int64_t> ids = {3, 1, 12, 0, 7, 7, 2, 9};
    const int64_t T = int64_t(ids.size());
    RnnState<float> state;
    Tensor<float> logits;  // (T*1, V): every step's, from one window over all the tokens
    sequence_model_window<float>(m, nullptr, ids, std::vector<int64_t>(ids.size(), 0), T, 1, state, {}, nullptr,
                          nullptr, &logits);
    for (int64_t t = 0; t < T; ++t) {
      const float* got = s.feed(ids[size_t(t)]);
      for (int64_t v = 0; v < 13; ++v) EXPECT_NEAR(got[v], logits[t * 13 + v], 1e-5f) << "step " << t;
    }
  }
}

TEST(SequenceModelStream, RefusesBidirectionalNetworksAndBadTokens) {
  const SequenceModel<float> bi = small_model(CellKind::lstm, true);
  EXPECT_RECUR_ERROR(SequenceModelStream{bi}, "bidirectional");
  const SequenceModel<float> m = small_model(CellKind::gru);
  SequenceModelStream s(m);
  EXPECT_RECUR_ERROR(s.feed(13), "13");
}

}  // namespace
}  // namespace recur
