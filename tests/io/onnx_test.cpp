// ONNX import (recur/io/onnx.h): every fixture of tests/fixtures/onnx (made by
// make_onnx_fixtures.py: models exported by torch.onnx with PyTorch's outputs, and single-op
// graphs with the numpy reference of the ONNX spec for sequence_lens, reverse, bidirectional,
// peepholes, layout 1, both GRU reset conventions, clip and input_forget, and the RNN op's
// activations) runs to the expected outputs within float32
// tolerance; bad files and inputs are clear errors naming the file, the node or the input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <onnx/onnx_pb.h>

#include "expect_error.h"
#include "recur/io/npy.h"
#include "recur/io/onnx.h"
#include "scratch_dir.h"

namespace recur {
namespace {

const std::string kDir = std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/onnx/";

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kDir))
    if (e.path().extension() == ".onnx") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

OnnxValue read_input(const OnnxGraph& g, const std::string& name, const std::string& file) {
  const Tensor<double> t = load_npy<double>(file);
  if (g.input_type(name) == OnnxValue::Type::i64) return OnnxValue::ints(t.shape, load_npy_int(file));
  return OnnxValue::floats(t.shape, std::vector<float>(t.data.begin(), t.data.end()));
}

class OnnxFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxFixtures, ReproducesTheExpectedOutputs) {
  const std::string name = GetParam();
  const OnnxGraph g = OnnxGraph::load(kDir + name + ".onnx");
  std::map<std::string, OnnxValue> feeds;
  for (const std::string& in : g.inputs()) feeds[in] = read_input(g, in, kDir + name + ".in." + in + ".npy");
  const auto out = g.run(feeds);
  ASSERT_EQ(out.size(), g.outputs().size());
  for (const std::string& o : g.outputs()) {
    const Tensor<float> want = load_npy<float>(kDir + name + ".out." + o + ".npy");
    const OnnxValue& got = out.at(o);
    ASSERT_EQ(got.shape, want.shape) << o;
    ASSERT_EQ(got.type, OnnxValue::Type::f32) << o;
    for (int64_t k = 0; k < want.numel(); ++k)
      ASSERT_NEAR(got.f[size_t(k)], want[k], 2e-5 * (1 + std::abs(want[k]))) << o << "[" << k << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxFixtures, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });

TEST(OnnxFixtureSet, CoversTheRecurrentOpsAndTheirOptions) {
  const auto names = fixture_names();
  EXPECT_GE(names.size(), 11u);
  for (const char* must : {"torch_lm_lstm_bidir", "torch_gru_h0", "torch_rnn_relu_classifier", "torch_lstm_packed",
                           "onnx_lstm_reverse_peephole_lens", "onnx_gru_bidirectional_lbr0_lens", "onnx_lstm_layout1"})
    EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must;
}

class OnnxBadInput : public testing::ScratchDirTest {
 protected:
  // A copy of a fixture model, changed by `edit`, written to the scratch directory.
  std::string edited(const std::string& fixture, const std::function<void(onnx::ModelProto&)>& edit) {
    onnx::ModelProto m;
    std::ifstream in(kDir + fixture + ".onnx", std::ios::binary);
    EXPECT_TRUE(m.ParseFromIstream(&in));
    edit(m);
    const std::string path = Path("edited.onnx");
    std::ofstream out(path, std::ios::binary);
    m.SerializeToOstream(&out);
    return path;
  }
};

TEST_F(OnnxBadInput, FilesThatAreNotModels) {
  EXPECT_RECUR_ERROR(OnnxGraph::load(Path("missing.onnx")), "missing.onnx");
  testing::WriteRaw(Path("empty.onnx"), "");
  EXPECT_RECUR_ERROR(OnnxGraph::load(Path("empty.onnx")), "empty.onnx", "empty");
  std::ifstream in(kDir + "torch_lm_lstm_bidir.onnx", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  testing::WriteRaw(Path("truncated.onnx"), bytes.substr(0, bytes.size() / 2));
  EXPECT_RECUR_ERROR(OnnxGraph::load(Path("truncated.onnx")), "truncated.onnx", "not a valid ONNX model");
  testing::WriteRaw(Path("text.onnx"), "this is not a protobuf message at all, just words");
  EXPECT_RECUR_ERROR(OnnxGraph::load(Path("text.onnx")), "text.onnx");
}

TEST_F(OnnxBadInput, UnsupportedOpsAndAttributesNameTheNode) {
  const std::string conv = edited("torch_rnn_relu_classifier", [](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(0)->set_op_type("Conv");
    m.mutable_graph()->mutable_node(0)->set_name("my_conv");
  });
  EXPECT_RECUR_ERROR(OnnxGraph::load(conv), "node 'my_conv' (Conv)", "does not run the op 'Conv'");
  const std::string clip = edited("onnx_lstm_layout1", [](onnx::ModelProto& m) {
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("clip");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(-3.0f);
  });
  EXPECT_RECUR_ERROR(OnnxGraph::load(clip), "(LSTM)", "clip must be positive");
  const std::string forget = edited("onnx_gru_clip_lbr1", [](onnx::ModelProto& m) {
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("input_forget");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(1);
  });
  EXPECT_RECUR_ERROR(OnnxGraph::load(forget), "(GRU)", "input_forget is an LSTM attribute");
  const std::string acts = edited("onnx_lstm_layout1", [](onnx::ModelProto& m) {
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("activations");
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const char* s : {"HardSigmoid", "Tanh", "Tanh"}) a->add_strings(s);
  });
  EXPECT_RECUR_ERROR(OnnxGraph::load(acts), "activations");
}

TEST_F(OnnxBadInput, WrongInputsAreClearErrors) {
  const OnnxGraph g = OnnxGraph::load(kDir + "torch_gru_h0.onnx");
  const OnnxValue x = read_input(g, "x", kDir + "torch_gru_h0.in.x.npy");
  const OnnxValue h0 = read_input(g, "h0", kDir + "torch_gru_h0.in.h0.npy");
  EXPECT_RECUR_ERROR(g.run({{"x", x}}), "no value given", "'h0'");
  OnnxValue flat = x;
  flat.shape = {x.numel()};
  EXPECT_RECUR_ERROR(g.run({{"x", flat}, {"h0", h0}}), "input 'x'", "rank 3");
  EXPECT_RECUR_ERROR(g.run({{"x", x}, {"h0", h0}, {"extra", x}}), "no input named 'extra'");
  OnnxValue wrong_h = h0;
  wrong_h.shape = {1, h0.shape[1], h0.shape[2]};
  wrong_h.f.resize(size_t(h0.shape[1] * h0.shape[2]));
  EXPECT_RECUR_ERROR(g.run({{"x", x}, {"h0", wrong_h}}), "GRU");
  const OnnxGraph lm = OnnxGraph::load(kDir + "torch_lm_lstm_bidir.onnx");
  EXPECT_RECUR_ERROR(lm.run({{"tokens", OnnxValue::ints({2, 1}, {3, 999})}}), "Gather", "999");
}

}  // namespace
}  // namespace recur
