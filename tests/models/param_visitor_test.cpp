// NamedParams (recur/nn/param_visitor.h): each model lists its parameters once (visit_params) and
// gets named(), state_dict(), load_state_dict() and num_parameters() from that list. The names and
// their order are what saved models and PyTorch fixtures hold, so they are pinned here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/layers/deep_transition.h"
#include "recur/layers/skip_rnn.h"
#include "recur/models/conditional_lm.h"
#include "recur/models/named_tensors.h"
#include "recur/models/sequence_model.h"
#include "recur/models/tree_rnn.h"

namespace recur {
namespace {

template <class Model>
std::vector<std::string> names(const Model& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.named()) out.push_back(name);
  return out;
}

SequenceModelConfig bidirectional_lm() {
  SequenceModelConfig c;
  c.vocab = 7;
  c.outputs = 5;
  c.embed = 3;
  c.rnn.cell = CellKind::lstm;
  c.rnn.input_size = 3;
  c.rnn.hidden_size = 4;
  c.rnn.num_layers = 2;
  c.rnn.bidirectional = true;
  c.rnn.peephole = true;
  return c;
}

TEST(ParamVisitor, SequenceModelNamesInPyTorchOrder) {
  SequenceModel<float> m(bidirectional_lm());
  std::vector<std::string> want = {"embedding.weight"};
  for (const char* layer : {"_l0", "_l1"})
    for (const std::string dir : {"", "_reverse"})
      for (const char* p : {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_peep"})
        want.push_back(std::string("rnn.") + p + layer + dir);
  want.push_back("decoder.weight");
  want.push_back("decoder.bias");
  EXPECT_EQ(names(m), want);
  // Both overloads walk the same tensors.
  const auto mutable_list = m.named();
  const auto const_list = static_cast<const SequenceModel<float>&>(m).named();
  ASSERT_EQ(mutable_list.size(), const_list.size());
  for (size_t k = 0; k < const_list.size(); ++k)
    EXPECT_EQ(static_cast<const Tensor<float>*>(mutable_list[k].second), const_list[k].second);
  EXPECT_EQ(double(m.num_parameters()), parameter_count(m.config));
}

TEST(ParamVisitor, OptionalPartsFollowTheConfiguration) {
  ConditionalLmConfig c;
  c.conditions = 3;
  c.mode = ConditionMode::init;
  c.ending = SequenceEnding::stop;
  c.embed = 4;
  c.rnn.cell = CellKind::gru;
  c.rnn.input_size = 4;
  c.rnn.hidden_size = 5;
  EXPECT_EQ(names(ConditionalLm<float>(c)),
            (std::vector<std::string>{"embedding.weight", "init.weight", "rnn.weight_ih_l0",
                                      "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                      "decoder.weight", "decoder.bias", "stop.weight", "stop.bias"}));
  TreeRnnConfig t;
  t.cell = TreeCell::recursive;
  t.vocab = 6;
  t.classes = 2;
  EXPECT_EQ(names(TreeRnn<float>(t)),
            (std::vector<std::string>{"embedding.weight", "cell.w", "cell.u", "cell.b",
                                      "decoder.weight", "decoder.bias"}));
  SkipRnnConfig s;
  s.input_size = 2;
  s.hidden_size = 3;
  s.short_connections = false;
  EXPECT_EQ(names(SkipRnnParams<float>(s)),
            (std::vector<std::string>{"weight_ih", "weight_skip", "bias"}));
  DeepTransitionConfig d;
  d.input_size = 2;
  d.hidden_size = 3;
  d.depth = 3;
  EXPECT_EQ(names(DeepTransitionParams<float>(d)),
            (std::vector<std::string>{"weight_ih", "weight_hh", "bias_1", "weight_2", "bias_2",
                                      "weight_3", "bias_3", "weight_out", "bias_out",
                                      "weight_short"}));
}

TEST(ParamVisitor, StateDictRoundTripsAndLoadChecksTheNames) {
  SequenceModel<float> a(bidirectional_lm());
  Rng rng(3);
  init_sequence_model(a, rng);
  const auto saved = a.state_dict();
  EXPECT_EQ(saved.size(), a.named().size());
  SequenceModel<float> b(a.config);
  b.load_state_dict(saved, "saved");
  for (const auto& [name, t] : b.state_dict()) EXPECT_EQ(t.data, saved.at(name).data) << name;

  auto missing = saved;
  missing.erase("rnn.bias_hh_l1_reverse");
  EXPECT_RECUR_ERROR(b.load_state_dict(missing, "f.safetensors"), "f.safetensors",
                     "missing tensor 'rnn.bias_hh_l1_reverse'");
  auto extra = saved;
  extra["rnn.unknown"] = Tensor<float>({1});
  EXPECT_RECUR_ERROR(b.load_state_dict(extra, "f.safetensors"), "holds");
}

}  // namespace
}  // namespace recur
