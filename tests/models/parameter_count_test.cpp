// parameter_count(config) (recur/models/named_tensors.h) is what the model loaders check a file's
// metadata against before they allocate; it must equal what the built network holds for every
// configuration a trainer can write, or a valid model would be refused. Checked over every cell and
// option of the recurrent layer and every head, strategy, context and mode of the models.
#include <gtest/gtest.h>

#include "recur/models/classifier.h"
#include "recur/models/conditional_lm.h"
#include "recur/models/forecaster.h"
#include "recur/models/named_tensors.h"
#include "recur/models/seq2seq.h"
#include "recur/models/sequence_model.h"

namespace recur {
namespace {

template <class Model>
double held(const Model& m) {
  double n = 0;
  for (const auto& [name, t] : m.named()) n += double(t->numel());
  return n;
}

// Every recurrent-layer variant: cells, directions, depth, and the options each cell takes.
std::vector<RnnConfig> rnn_variants(int64_t input) {
  std::vector<RnnConfig> out;
  for (CellKind cell : {CellKind::rnn_tanh, CellKind::lstm, CellKind::gru})
    for (bool bi : {false, true})
      for (int layers : {1, 3})
        for (int option = 0; option < 4; ++option) {
          RnnConfig c;
          c.cell = cell;
          c.input_size = input;
          c.hidden_size = 7;
          c.num_layers = layers;
          c.bidirectional = bi;
          if (option == 1) c.layer_norm = cell != CellKind::rnn_tanh;
          if (option == 2 && cell == CellKind::lstm) c.peephole = true;
          if (option == 2 && cell == CellKind::rnn_tanh) c.leak = 0.5, c.learn_leak = true;
          if (option == 3 && cell == CellKind::lstm) c.coupled = true;
          if (option == 3 && cell == CellKind::rnn_tanh) c.residual = true;
          if (option == 3 && cell == CellKind::gru) c.gru = GruConvention::reset_before;
          out.push_back(c);
        }
  return out;
}

TEST(ParameterCount, RecurrentLayersAndLanguageModels) {
  for (const RnnConfig& r : rnn_variants(5)) {
    SCOPED_TRACE(r.to_metadata().at("cell") + " layers " + std::to_string(r.num_layers) +
                 (r.bidirectional ? " bi" : "") + (r.layer_norm ? " ln" : "") + (r.peephole ? " peep" : "") +
                 (r.learn_leak ? " leak" : "") + (r.coupled ? " coupled" : "") + (r.residual ? " res" : ""));
    EXPECT_EQ(parameter_count(r), held(RnnParams<float>(r)));
    SequenceModelConfig s;
    s.vocab = 11;
    s.outputs = 9;
    s.embed = 5;
    s.rnn = r;
    EXPECT_EQ(parameter_count(s), held(SequenceModel<float>(s)));
  }
}

TEST(ParameterCount, ClassifiersEveryHead) {
  for (const RnnConfig& r : rnn_variants(6))
    for (ClassifierHead head : {ClassifierHead::pool, ClassifierHead::textrnn2, ClassifierHead::rcnn})
      for (bool tokens : {true, false}) {
        ClassifierConfig c;
        c.rnn = r;
        if (tokens) c.vocab = 13, c.embed = 6;
        else c.features = 6;
        c.head = head;
        c.top_hidden = head == ClassifierHead::pool ? 0 : 4;
        c.classes = 3;
        EXPECT_EQ(parameter_count(c), held(SequenceClassifier<float>(c)))
            << "head " << int(head) << " tokens " << tokens << " cell " << cell_name(r.cell);
        c.dense = 5;  // the Keras recipe's output layers
        c.classes = 2;
        c.output = ClassifierOutput::sigmoid;
        EXPECT_EQ(parameter_count(c), held(SequenceClassifier<float>(c)))
            << "dense, sigmoid: head " << int(head) << " cell " << cell_name(r.cell);
      }
}

TEST(ParameterCount, ForecastersEveryStrategy) {
  for (const RnnConfig& r : rnn_variants(3)) {
    if (r.bidirectional) continue;  // forecasters are unidirectional
    for (ForecastStrategy s : {ForecastStrategy::direct, ForecastStrategy::recursive})
      for (bool residual : {false, true}) {
        ForecasterConfig c;
        c.rnn = r;
        c.strategy = s;
        c.horizon = 4;
        c.targets = 2;
        c.residual = residual;
        if (residual && s == ForecastStrategy::direct) c.target_inputs = {0, 2};
        EXPECT_EQ(parameter_count(c), held(Forecaster<float>(c)));
      }
  }
}

TEST(ParameterCount, Seq2SeqEveryContextAndUse) {
  int checked = 0;
  for (ContextKind k : {ContextKind::last, ContextKind::bridge, ContextKind::bahdanau, ContextKind::dot,
                        ContextKind::general})
    for (ContextUse u : {ContextUse::init, ContextUse::input, ContextUse::both})
      for (bool bi : {false, true}) {
        Seq2SeqConfig c;
        c.source_vocab = 9;
        c.target_vocab = 8;
        c.source_embed = 5;
        c.target_embed = 4;
        c.encoder.cell = CellKind::gru;
        c.encoder.hidden_size = 6;
        c.encoder.bidirectional = bi;
        c.encoder.input_size = 5;
        c.decoder.cell = CellKind::lstm;
        c.decoder.hidden_size = bi || k == ContextKind::dot ? 12 : 6;
        c.decoder.num_layers = 2;
        c.context = k;
        c.use = u;
        c.attention_size = 3;
        c.decoder.input_size = c.target_embed + c.feed_width();
        try {
          c.validate();
        } catch (const Error&) {
          continue;  // a combination the trainer refuses
        }
        EXPECT_EQ(parameter_count(c), held(Seq2Seq<float>(c)))
            << context_kind_name(k) << "/" << context_use_name(u) << (bi ? " bi" : "");
        ++checked;
      }
  EXPECT_GE(checked, 20);  // of the 30 combinations, those the trainer accepts
}

TEST(ParameterCount, ConditionalLmsEveryModeAndEnding) {
  for (ConditionMode m : {ConditionMode::init, ConditionMode::input, ConditionMode::both})
    for (SequenceEnding e : {SequenceEnding::eos, SequenceEnding::stop, SequenceEnding::length}) {
      ConditionalLmConfig c;
      c.conditions = 4;
      c.mode = m;
      c.ending = e;
      c.embed = 6;
      c.cond_embed = 3;
      c.rnn.cell = CellKind::lstm;
      c.rnn.hidden_size = 8;
      c.rnn.num_layers = 2;
      c.rnn.input_size = c.embed + (c.uses_input() ? c.cond_embed : 0);
      EXPECT_EQ(parameter_count(c), held(ConditionalLm<float>(c))) << int(m) << " " << int(e);
    }
}

}  // namespace
}  // namespace recur
