// The recurrent stack spec: parsing, the canonical string, errors that name the layer and field,
// the round trip to RnnConfig and through model metadata.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/layers/rnn_spec.h"

namespace recur {
namespace {

TEST(RnnSpec, ParsesEveryOption) {
  const RnnSpec s = parse_rnn_spec(
      "lstm:256,peephole,coupled,dropout=0.25,bi=sum; gru:8,reset_before,bi ;rnn_relu:3,leak=0.5,"
      "learn_leak;rnn_tanh:4,residual;rnn_sigmoid:2;lstm:5,ln;gru:6,ln,bi=concat;"
      "rnn_tanh:3,residual=0.25,learn_leak");
  ASSERT_EQ(s.layers.size(), 8u);
  EXPECT_TRUE(s.layers[7].residual && s.layers[7].learn_leak);
  EXPECT_DOUBLE_EQ(s.layers[7].leak, 0.25);
  const RnnLayerSpec& a = s.layers[0];
  EXPECT_EQ(a.cell, CellKind::lstm);
  EXPECT_EQ(a.hidden, 256);
  EXPECT_TRUE(a.peephole && a.coupled && a.bidirectional);
  EXPECT_EQ(a.merge, DirectionMerge::sum);
  EXPECT_DOUBLE_EQ(a.dropout, 0.25);
  EXPECT_TRUE(s.layers[1].reset_before && s.layers[1].bidirectional);
  EXPECT_EQ(s.layers[1].merge, DirectionMerge::concat);
  EXPECT_DOUBLE_EQ(s.layers[2].leak, 0.5);
  EXPECT_TRUE(s.layers[2].learn_leak);
  EXPECT_TRUE(s.layers[3].residual);
  EXPECT_EQ(s.layers[4].cell, CellKind::rnn_sigmoid);
  EXPECT_TRUE(s.layers[5].layer_norm && s.layers[6].layer_norm);
  // The canonical string parses back to itself.
  const std::string canon = format_rnn_spec(s);
  EXPECT_EQ(format_rnn_spec(parse_rnn_spec(canon)), canon);
  EXPECT_EQ(canon.substr(0, 48), "lstm:256,peephole,coupled,dropout=0.25,bi=sum;gr");
}

TEST(RnnSpec, ErrorsNameTheLayerAndTheField) {
  const struct {
    const char* spec;
    const char* expected;
  } cases[] = {
      {"", "the spec is empty"},
      {"lstm", "layer 1 ('lstm'): expected kind:hidden"},
      {"lstm:256;;gru:3", "layer 2 (''): empty layer"},
      {"lstm:256;", "layer 2"},
      {"lsmt:256", "unknown kind 'lsmt'"},
      {"lstm:0", "hidden size must be a whole number"},
      {"lstm:2.5", "hidden size must be a whole number"},
      {"lstm:abc", "the hidden size must be a number, got 'abc'"},
      {"lstm:8;gru:8,peephole", "layer 2 ('gru:8,peephole'): option 'peephole' is for lstm"},
      {"lstm:8,reset_before", "option 'reset_before' is for gru"},
      {"lstm:8,leak=0.5", "option 'leak' is for rnn_tanh"},
      {"rnn_tanh:8,leak=1.5", "leak must be in (0, 1], got 1.5"},
      {"rnn_tanh:8,leak", "option 'leak' needs a value"},
      {"rnn_tanh:8,learn_leak", "learn_leak starts at leak=A"},
      {"rnn_tanh:8,residual=0.5,leak=0.5", "leak and residual exclude each other"},
      {"rnn_tanh:8,residual,leak=0.5", "leak and residual exclude each other"},
      {"rnn_tanh:8,leak=0.5,residual", "leak and residual exclude each other"},
      {"rnn_tanh:8,residual=2", "residual must be in (0, 1], got 2"},
      {"rnn_tanh:8,ln", "option 'ln' is for lstm and gru"},
      {"lstm:8,ln,peephole", "ln is for the plain lstm"},
      {"gru:8,ln,reset_before", "ln is for the plain lstm"},
      {"lstm:8,bi=both", "bi takes concat or sum"},
      {"lstm:8,peephole=1", "option 'peephole' takes no value"},
      {"lstm:8,dropout=1", "dropout must be in [0, 1)"},
      {"lstm:8,dropout=0.2", "dropout=P acts between layers, and this is the last one"},
      {"lstm:8,,peephole", "empty option"},
      {"lstm:8,peephole,bogus", "unknown option 'bogus'"},
      {"clockwork:8", "kind 'clockwork' has its own time loop"},
  };
  for (const auto& c : cases)
    EXPECT_RECUR_ERROR(parse_rnn_spec(c.spec), c.expected);
}

TEST(RnnSpec, UniformStacksBecomeOneRnnConfig) {
  const RnnConfig c = rnn_config_from_spec(
      parse_rnn_spec("lstm:64,peephole,dropout=0.1,bi=sum;lstm:64,peephole,dropout=0.1,bi=sum;"
                     "lstm:64,peephole,bi=sum"),
      12);
  EXPECT_EQ(c.cell, CellKind::lstm);
  EXPECT_EQ(c.input_size, 12);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_layers, 3);
  EXPECT_TRUE(c.bidirectional && c.peephole && c.sums_directions());
  EXPECT_EQ(c.output_size(), 64);
  EXPECT_DOUBLE_EQ(c.dropout, 0.1);
  c.validate();
  // And back: the spec of a config is the one it came from.
  EXPECT_EQ(format_rnn_spec(rnn_spec_from_config(c)),
            "lstm:64,peephole,dropout=0.1,bi=sum;lstm:64,peephole,dropout=0.1,bi=sum;"
            "lstm:64,peephole,bi=sum");
  const RnnConfig g = rnn_config_from_spec(parse_rnn_spec("gru:16,reset_before"), 3);
  EXPECT_EQ(g.gru, GruConvention::reset_before);
  EXPECT_FALSE(g.bidirectional);
  const RnnConfig r = rnn_config_from_spec(parse_rnn_spec("rnn_relu:5,leak=0.25,learn_leak"), 3);
  EXPECT_TRUE(r.learn_leak);
  EXPECT_DOUBLE_EQ(r.leak, 0.25);
}

TEST(RnnSpec, MixedStacksAreRefusedNamingTheLayer) {
  EXPECT_RECUR_ERROR(rnn_config_from_spec(parse_rnn_spec("lstm:64;gru:64")),
                     "--rnn layer 2 ('gru:64') differs from layer 1 ('lstm:64')");
  EXPECT_RECUR_ERROR(rnn_config_from_spec(parse_rnn_spec("lstm:64;lstm:32")), "layer 2 ('lstm:32')");
  EXPECT_RECUR_ERROR(rnn_config_from_spec(parse_rnn_spec("lstm:64,bi;lstm:64")), "differs");
  EXPECT_RECUR_ERROR(
      rnn_config_from_spec(parse_rnn_spec("lstm:64,dropout=0.1;lstm:64,dropout=0.2;lstm:64")),
      "layer 2: dropout=0.2 differs from layer 1's 0.1");
}

TEST(RnnSpec, SummedDirectionsSurviveTheMetadataRoundTrip) {
  RnnConfig c = rnn_config_from_spec(parse_rnn_spec("gru:8,bi=sum;gru:8,bi=sum"), 5);
  const auto meta = c.to_metadata();
  EXPECT_EQ(meta.at("merge"), "sum");
  EXPECT_EQ(meta.at("rnn_spec"), "gru:8,bi=sum;gru:8,bi=sum");
  const RnnConfig back = RnnConfig::from_metadata(meta);
  EXPECT_TRUE(back.sums_directions());
  EXPECT_EQ(back.num_layers, 2);
  // Files written before the spec existed have neither key and read as concatenated.
  auto old = meta;
  old.erase("merge");
  old.erase("rnn_spec");
  EXPECT_FALSE(RnnConfig::from_metadata(old).sums_directions());
  // A summed stack's weights name an upper layer that reads H features; params_from_named sees it.
  RnnParams<float> p(c);
  std::map<std::string, Tensor<float>> named;
  for (const auto& [name, t] : p.named()) named[name] = *t;
  EXPECT_TRUE(params_from_named(CellKind::gru, named, "test").config.sums_directions());
  // Summing needs two directions.
  RnnConfig one = c;
  one.bidirectional = false;
  EXPECT_RECUR_ERROR(one.validate(), "summed directions need a bidirectional layer");
}

}  // namespace
}  // namespace recur
