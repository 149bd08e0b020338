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
      "rnn_tanh:3,residual=0.25,learn_leak;rnn_linear:4,leak=0.5,ln");
  ASSERT_EQ(s.layers.size(), 9u);
  EXPECT_TRUE(s.layers[7].residual && s.layers[7].learn_leak);
  EXPECT_EQ(s.layers[8].cell, CellKind::rnn_linear);
  EXPECT_TRUE(s.layers[8].layer_norm && s.layers[8].leak == 0.5);
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
      {"rnn_tanh:8,ln,leak=0.5,learn_leak", "ln is not combined with"},
      {"lstm:8,ln,peephole", "ln is not combined with"},
      {"gru:8,ln,reset_before", "ln is not combined with"},
      {"lstm:8,bi=both", "bi takes concat or sum"},
      {"lstm:8,peephole=1", "option 'peephole' takes no value"},
      {"lstm:8,dropout=1", "dropout must be in [0, 1)"},
      {"lstm:8,dropout=0.2", "dropout=P acts between layers, and this is the last one"},
      {"lstm:8,,peephole", "empty option"},
      {"lstm:8,peephole,bogus", "unknown option 'bogus'"},
      {"clockwork:10", "give a hidden size divisible by 4"},
      {"clockwork:8,periods=2/1", "periods must increase"},
      {"clockwork:8,periods=1/x", "a period must be a number, got 'x'"},
      {"skip:8,bi", "option 'bi' is not for a skip layer"},
      {"skip:8,peephole", "option 'peephole' is not for a skip layer"},
      {"skip:8,delay=0", "delay must be a whole number from 1"},
      {"deep:8,periods=1/2", "option 'periods' is for clockwork layers only"},
      {"lstm:8,depth=2", "option 'depth' is for deep layers only"},
      {"deep:8,depth", "option 'depth' needs a value"},
      {"skip:8,no_short=1", "option 'no_short' takes no value"},
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

TEST(RnnSpec, MixedStacksBecomeSegmentsOfAlikeLayers) {
  const RnnConfig c = rnn_config_from_spec(
      parse_rnn_spec("lstm:64,peephole,bi=sum;lstm:64,peephole,bi=sum;gru:32,reset_before;rnn_tanh:16,bi"), 10);
  ASSERT_EQ(c.above.size(), 2u);
  EXPECT_EQ(c.cell, CellKind::lstm);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.layer_output_size(), 64);
  EXPECT_EQ(c.above[0].cell, CellKind::gru);
  EXPECT_EQ(c.above[0].input_size, 64);
  EXPECT_EQ(c.above[0].gru, GruConvention::reset_before);
  EXPECT_EQ(c.above[1].input_size, 32);
  EXPECT_EQ(c.output_size(), 32);  // the top segment's: two directions of 16
  EXPECT_EQ(c.total_layers(), 4);
  c.validate();
  // Differing dropouts split a stack too; the last layer's is dropped, so 2 and 3 stay together.
  const RnnConfig d = rnn_config_from_spec(parse_rnn_spec("lstm:8,dropout=0.1;lstm:8,dropout=0.2;lstm:8"), 3);
  ASSERT_EQ(d.above.size(), 1u);
  EXPECT_DOUBLE_EQ(d.dropout, 0.1);
  EXPECT_EQ(d.above[0].num_layers, 2);
  // The spec of the config is the canonical spec it came from.
  for (const char* text : {"lstm:64;gru:64", "lstm:64;lstm:32", "lstm:64,bi;lstm:64",
                           "lstm:8,dropout=0.1;lstm:8,dropout=0.2;lstm:8",
                           "gru:4,ln,dropout=0.3,bi=sum;rnn_relu:3,residual=0.5,learn_leak;lstm:2,coupled",
                           "clockwork:8;clockwork:6,periods=1/3/9,dropout=0.1;skip:4,delay=3,no_short;deep:5;deep:5,depth=3",
                           "lstm:8,bi=sum;skip:4;gru:4"})
    EXPECT_EQ(format_rnn_spec(rnn_spec_from_config(rnn_config_from_spec(parse_rnn_spec(text), 3))), text);
  // The metadata keeps the whole stack (in rnn_spec; the other keys describe the bottom segment).
  const RnnConfig back = RnnConfig::from_metadata(c.to_metadata());
  EXPECT_EQ(format_rnn_spec(rnn_spec_from_config(back)), format_rnn_spec(rnn_spec_from_config(c)));
  EXPECT_EQ(back.above.size(), 2u);
  EXPECT_EQ(back.above[1].input_size, 32);
  // A segment must read what the one below gives.
  RnnConfig bad = c;
  bad.above[1].input_size = 7;
  EXPECT_RECUR_ERROR(bad.validate(), "a segment reads 7 features but the one below it gives 32");
}

// leak=A/B/C: groups of units at fixed time scales, in the spec, the config and the metadata.
TEST(RnnSpec, LeakScalesAreGroupsOfUnits) {
  const RnnSpec s = parse_rnn_spec("rnn_tanh:6,leak=0.5/0.25/0.05,learn_leak");
  EXPECT_EQ(s.layers[0].leak_scales, (std::vector<double>{0.5, 0.25, 0.05}));
  EXPECT_EQ(format_rnn_spec(s), "rnn_tanh:6,leak=0.5/0.25/0.05,learn_leak");
  EXPECT_RECUR_ERROR(parse_rnn_spec("rnn_tanh:6,leak=0.25/1/0.05,learn_leak"),
                     "learn_leak starts every group", "got 1");
  RnnConfig c = rnn_config_from_spec(parse_rnn_spec("rnn_tanh:6,leak=1/0.25/0.05"), 3);
  EXPECT_TRUE(c.mixes_state());
  EXPECT_EQ(c.leak_of(0), 1.0);
  EXPECT_EQ(c.leak_of(2), 0.25);
  EXPECT_EQ(c.leak_of(5), 0.05);
  const RnnConfig back = RnnConfig::from_metadata(c.to_metadata());
  EXPECT_EQ(back.leak_scales, c.leak_scales);
  auto no_spec = c.to_metadata();
  no_spec.erase("rnn_spec");
  EXPECT_EQ(RnnConfig::from_metadata(no_spec).leak_scales, c.leak_scales);
  EXPECT_RECUR_ERROR(parse_rnn_spec("rnn_tanh:2,leak=0.5/0.2/0.1"), "3 groups of leaky units",
                     "not 2");
  EXPECT_RECUR_ERROR(parse_rnn_spec("rnn_tanh:8,leak=0.5/0"), "every leak of a group must be in (0, 1]");
  EXPECT_RECUR_ERROR(parse_rnn_spec("lstm:8,leak=0.5/0.1"), "'leak' is for rnn_tanh");
  EXPECT_RECUR_ERROR(parse_rnn_spec("rnn_tanh:8,residual,leak=0.5/0.1"), "exclude each other");
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
