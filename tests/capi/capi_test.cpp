// The C API (include/recur/recur.h): PyTorch's own outputs reproduced from a state_dict through
// recur_model_run; streams equal the whole-sequence run step by step (rnn and lm); state get/set
// and reset; N threads streaming over one shared model give what one thread gives; every bad
// input is a status with a message naming what was wrong, and outputs are left untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "recur/io/safetensors.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/language_model.h"
#include "recur/recur.h"
#include "scratch_dir.h"
#include "tiny_models.h"

namespace recur {
namespace {

using testing::ScratchDirTest;

class CApi : public ScratchDirTest {
 protected:
  // The weights of a PyTorch parity fixture as a bare state_dict; the fixture's other tensors
  // (input, expected outputs) into `fixture`.
  std::string state_dict_of(const std::string& name, Safetensors<float>& fixture) {
    fixture = load_safetensors<float>(std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/rnn/" + name +
                                      ".safetensors");
    std::map<std::string, Tensor<float>> weights;
    for (const auto& [k, t] : fixture.tensors)
      if (k.rfind("weight_", 0) == 0 || k.rfind("bias_", 0) == 0) weights[k] = t;
    const std::string path = Path(name + ".safetensors");
    save_safetensors(path, weights, {});
    return path;
  }

  recur_model* load(const std::string& path) {
    recur_model* m = nullptr;
    EXPECT_EQ(recur_model_load(path.c_str(), &m), RECUR_OK) << recur_last_error();
    return m;
  }
};

TEST_F(CApi, RunReproducesPyTorchFromAStateDict) {
  for (const char* name : {"lstm_1layer_full", "gru_3layer_full", "lstm_2layer_bidir_ragged",
                           "rnn_tanh_2layer_bidir_ragged"}) {
    SCOPED_TRACE(name);
    Safetensors<float> fx;
    recur_model* m = load(state_dict_of(name, fx));
    ASSERT_NE(m, nullptr);
    recur_model_info info;
    ASSERT_EQ(recur_model_info_get(m, &info), RECUR_OK);
    EXPECT_STREQ(info.kind, "rnn");
    EXPECT_STREQ(info.cell, fx.metadata.at("cell").c_str());
    // The spec names the cell, its size, and (for these) both directions: "lstm:5,bi;lstm:5,bi".
    const std::string spec = info.spec;
    EXPECT_EQ(spec.rfind(fx.metadata.at("cell") + ":" + std::to_string(info.hidden_size), 0), 0u) << spec;
    EXPECT_EQ(spec.find(",bi") != std::string::npos, info.directions == 2) << spec;
    const Tensor<float>& x = fx.tensors.at("input");
    const int64_t T = x.dim(0), B = x.dim(1);
    EXPECT_EQ(info.input_size, x.dim(2));
    std::vector<int64_t> lengths;
    if (fx.tensors.count("lengths"))
      for (float v : fx.tensors.at("lengths").data) lengths.push_back(int64_t(v));
    const Tensor<float>& want = fx.tensors.at("expected.output");
    const Tensor<float>& want_hn = fx.tensors.at("expected.hn");
    const float* h0 = fx.tensors.count("h0") ? fx.tensors.at("h0").ptr() : nullptr;
    const float* c0 = fx.tensors.count("c0") ? fx.tensors.at("c0").ptr() : nullptr;
    std::vector<float> y(size_t(want.numel())), hn(size_t(want_hn.numel())), cn(hn.size());
    ASSERT_EQ(recur_model_run(m, x.ptr(), T, B, lengths.empty() ? nullptr : lengths.data(), h0, c0,
                              y.data(), hn.data(), info.has_cell_state ? cn.data() : nullptr),
              RECUR_OK)
        << recur_last_error();
    for (int64_t k = 0; k < want.numel(); ++k) ASSERT_NEAR(y[size_t(k)], want[k], 1e-5) << "y[" << k << "]";
    for (int64_t k = 0; k < want_hn.numel(); ++k) ASSERT_NEAR(hn[size_t(k)], want_hn[k], 1e-5) << "hn[" << k << "]";
    if (info.has_cell_state) {
      for (int64_t k = 0; k < want_hn.numel(); ++k)
        ASSERT_NEAR(cn[size_t(k)], fx.tensors.at("expected.cn")[k], 1e-5) << "cn[" << k << "]";
    }
    recur_model_free(m);
  }
}

TEST_F(CApi, StreamEqualsWholeSequenceAndKeepsState) {
  Safetensors<float> fx;
  recur_model* m = load(state_dict_of("gru_3layer_full", fx));
  ASSERT_NE(m, nullptr);
  const Tensor<float>& x = fx.tensors.at("input");
  const int64_t T = x.dim(0), B = x.dim(1), I = x.dim(2), H = 5;
  std::vector<float> y(size_t(T * B * H)), hn(size_t(3 * B * H));
  ASSERT_EQ(recur_model_run(m, x.ptr(), T, B, nullptr, nullptr, nullptr, y.data(), hn.data(), nullptr), RECUR_OK);
  recur_stream* s = nullptr;
  ASSERT_EQ(recur_stream_create(m, B, &s), RECUR_OK) << recur_last_error();
  EXPECT_EQ(recur_stream_state_size(s), 3 * B * H);
  std::vector<float> out(size_t(B * H)), mid_h(size_t(3 * B * H));
  for (int pass = 0; pass < 2; ++pass) {  // the second pass checks reset
    for (int64_t t = 0; t < T; ++t) {
      ASSERT_EQ(recur_stream_step(s, x.ptr() + t * B * I, out.data()), RECUR_OK) << recur_last_error();
      for (int64_t k = 0; k < B * H; ++k) ASSERT_NEAR(out[size_t(k)], y[size_t(t * B * H + k)], 1e-5);
      if (t == 1) {
        ASSERT_EQ(recur_stream_get_state(s, mid_h.data(), nullptr), RECUR_OK);
      }
    }
    std::vector<float> h(hn.size());
    ASSERT_EQ(recur_stream_get_state(s, h.data(), nullptr), RECUR_OK);
    for (size_t k = 0; k < h.size(); ++k) ASSERT_NEAR(h[k], hn[k], 1e-5) << "state h[" << k << "]";
    ASSERT_EQ(recur_stream_reset(s), RECUR_OK);
  }
  // Setting the state after step 1 and running steps 2.. again gives the same outputs.
  ASSERT_EQ(recur_stream_set_state(s, mid_h.data(), nullptr), RECUR_OK);
  for (int64_t t = 2; t < T; ++t) {
    ASSERT_EQ(recur_stream_step(s, x.ptr() + t * B * I, out.data()), RECUR_OK);
    for (int64_t k = 0; k < B * H; ++k) ASSERT_NEAR(out[size_t(k)], y[size_t(t * B * H + k)], 1e-5);
  }
  recur_stream_free(s);
  recur_model_free(m);
}

TEST_F(CApi, RecurNetworkWithItsConfigurationInTheMetadata) {
  // Peepholes cannot be told from PyTorch's names alone: recur's metadata carries them.
  RnnConfig cfg;
  cfg.cell = CellKind::lstm;
  cfg.peephole = true;
  cfg.input_size = 3;
  cfg.hidden_size = 4;
  cfg.num_layers = 2;
  RnnParams<float> params(cfg);
  Rng rng(9);
  init_rnn_uniform(params, rng);
  for (auto& v : params.cells[0].w_peep.data) v = float(rng.uniform(-1, 1));
  std::map<std::string, Tensor<float>> tensors;
  for (const auto& [name, t] : params.named()) tensors[name] = *t;
  save_safetensors(Path("peep.safetensors"), tensors, cfg.to_metadata());
  recur_model* m = load(Path("peep.safetensors"));
  ASSERT_NE(m, nullptr);
  const int64_t T = 4, B = 2;
  Tensor<float> x({T, B, 3}), y;
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, params, x, {}, nullptr);
  std::vector<float> got(size_t(y.numel()));
  ASSERT_EQ(recur_model_run(m, x.ptr(), T, B, nullptr, nullptr, nullptr, got.data(), nullptr, nullptr), RECUR_OK)
      << recur_last_error();
  for (int64_t k = 0; k < y.numel(); ++k) ASSERT_NEAR(got[size_t(k)], y[k], 1e-6) << "y[" << k << "]";
  recur_model_free(m);
}

TEST_F(CApi, ModelFromAStackSpecRunsAsTheLibrary) {
  // A summed bidirectional GRU stack from its spec, initialised from a seed: the same network the
  // library builds from the same spec and seed gives the same outputs.
  const char* spec = "gru:5,reset_before,bi=sum;gru:5,reset_before,bi=sum";
  recur_model* m = nullptr;
  ASSERT_EQ(recur_model_create(spec, 3, 11, &m), RECUR_OK) << recur_last_error();
  recur_model_info info;
  ASSERT_EQ(recur_model_info_get(m, &info), RECUR_OK);
  EXPECT_STREQ(info.spec, spec);
  EXPECT_EQ(info.output_size, 5);  // summed: H, not 2H
  EXPECT_EQ(info.directions, 2);
  RnnParams<float> params(rnn_config_from_spec(parse_rnn_spec(spec), 3));
  Rng rng(11);
  init_rnn(params, rng, RecurrentInit::uniform);
  const int64_t T = 4, B = 2;
  Tensor<float> x({T, B, 3}), y;
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, params, x, {}, nullptr);
  std::vector<float> got(size_t(y.numel()));
  ASSERT_EQ(recur_model_run(m, x.ptr(), T, B, nullptr, nullptr, nullptr, got.data(), nullptr, nullptr),
            RECUR_OK)
      << recur_last_error();
  for (int64_t k = 0; k < y.numel(); ++k) ASSERT_NEAR(got[size_t(k)], y[k], 1e-6) << "y[" << k << "]";
  recur_model_free(m);
  // A bad spec is an argument error naming the layer and the option; nothing is created.
  recur_model* bad = nullptr;
  EXPECT_EQ(recur_model_create("lstm:4;lstm:4,reset_before", 3, 1, &bad), RECUR_ERROR_ARGUMENT);
  EXPECT_NE(std::string(recur_last_error()).find("layer 2 ('lstm:4,reset_before')"), std::string::npos)
      << recur_last_error();
  EXPECT_EQ(bad, nullptr);
  EXPECT_EQ(recur_model_create(spec, 0, 1, &bad), RECUR_ERROR_ARGUMENT);
}

// A small random language model saved as `recur train-lm` saves it.
std::string save_small_lm(const std::string& path) {
  save_language_model(path, testing::tiny_char_lm("abcdefgh ij\n", 4, 6, 2, 5));
  return path;
}

TEST_F(CApi, LanguageModelStreamGivesTheWindowsLogits) {
  const std::string path = save_small_lm(Path("lm.safetensors"));
  recur_model* m = load(path);
  ASSERT_NE(m, nullptr);
  recur_model_info info;
  ASSERT_EQ(recur_model_info_get(m, &info), RECUR_OK);
  EXPECT_STREQ(info.kind, "lm");
  const int64_t V = info.output_size, B = 2, T = 5;
  ASSERT_EQ(info.input_size, V);
  std::vector<int64_t> tokens;  // (T,B)
  for (int64_t k = 0; k < T * B; ++k) tokens.push_back((k * 7 + 3) % V);
  const LanguageModel lm = load_language_model(path);
  RnnState<float> state;
  Tensor<float> logits;
  const std::vector<int64_t> targets(tokens.size(), 0);
  sequence_model_window<float>(lm.net, nullptr, tokens, targets, T, B, state, {}, nullptr, nullptr, &logits);
  recur_stream* s = nullptr;
  ASSERT_EQ(recur_stream_create(m, B, &s), RECUR_OK);
  std::vector<float> out(size_t(B * V));
  for (int64_t t = 0; t < T; ++t) {
    ASSERT_EQ(recur_stream_step_tokens(s, tokens.data() + t * B, out.data()), RECUR_OK) << recur_last_error();
    for (int64_t k = 0; k < B * V; ++k) ASSERT_NEAR(out[size_t(k)], logits[t * B * V + k], 1e-5) << "t=" << t;
  }
  // An lm takes tokens, not features, and not whole float sequences.
  std::vector<float> x(64, 0.0f), y(64, 0.0f);
  EXPECT_EQ(recur_stream_step(s, x.data(), y.data()), RECUR_ERROR_ARGUMENT);
  EXPECT_NE(std::string(recur_last_error()).find("recur_stream_step_tokens"), std::string::npos);
  EXPECT_EQ(recur_model_run(m, x.data(), 1, 1, nullptr, nullptr, nullptr, y.data(), nullptr, nullptr),
            RECUR_ERROR_ARGUMENT);
  const int64_t bad[2] = {0, V};
  out.assign(out.size(), 42.0f);
  EXPECT_EQ(recur_stream_step_tokens(s, bad, out.data()), RECUR_ERROR_DATA);
  EXPECT_NE(std::string(recur_last_error()).find("tokens[1] = " + std::to_string(V)), std::string::npos)
      << recur_last_error();
  EXPECT_EQ(out[0], 42.0f) << "a failed call wrote its output";
  recur_stream_free(s);
  recur_model_free(m);
}

TEST_F(CApi, ThreadsStreamingOverOneModelAgreeWithOneThread) {
  Safetensors<float> fx;
  recur_model* m = load(state_dict_of("lstm_1layer_full", fx));
  ASSERT_NE(m, nullptr);
  const int64_t B = 3, I = 3, H = 8, T = 40;
  std::vector<float> x(size_t(T * B * I));
  for (size_t k = 0; k < x.size(); ++k) x[k] = std::sin(0.37f * float(k));
  auto stream_all = [&](std::vector<float>& y) {
    recur_stream* s = nullptr;
    if (recur_stream_create(m, B, &s) != RECUR_OK) return;
    y.assign(size_t(T * B * H), 0.0f);
    for (int64_t t = 0; t < T; ++t) recur_stream_step(s, x.data() + t * B * I, y.data() + t * B * H);
    recur_stream_free(s);
  };
  std::vector<float> one;
  stream_all(one);
  ASSERT_EQ(one.size(), size_t(T * B * H));
  const int N = 4;
  std::vector<std::vector<float>> got(N);
  std::vector<std::thread> threads;
  for (int k = 0; k < N; ++k) threads.emplace_back([&, k] { stream_all(got[size_t(k)]); });
  for (auto& t : threads) t.join();
  for (int k = 0; k < N; ++k) EXPECT_EQ(got[size_t(k)], one) << "thread " << k;
  recur_model_free(m);
}

TEST_F(CApi, BadInputIsAStatusWithAMessage) {
  recur_model* m = nullptr;
  EXPECT_EQ(recur_model_load(Path("missing.safetensors").c_str(), &m), RECUR_ERROR_FILE);
  EXPECT_NE(std::string(recur_last_error()).find("missing.safetensors"), std::string::npos);
  EXPECT_EQ(m, nullptr);
  testing::WriteRaw(Path("junk.safetensors"), "not a safetensors file at all");
  EXPECT_EQ(recur_model_load(Path("junk.safetensors").c_str(), &m), RECUR_ERROR_FILE);
  EXPECT_NE(std::string(recur_last_error()).find("junk.safetensors"), std::string::npos);
  save_safetensors(Path("odd.safetensors"), std::map<std::string, Tensor<float>>{{"weight_hh_l0", Tensor<float>({10, 5})}}, {});
  EXPECT_EQ(recur_model_load(Path("odd.safetensors").c_str(), &m), RECUR_ERROR_FILE);
  EXPECT_NE(std::string(recur_last_error()).find("2 gates"), std::string::npos) << recur_last_error();
  EXPECT_EQ(recur_model_load(nullptr, &m), RECUR_ERROR_ARGUMENT);
  EXPECT_STREQ(recur_status_name(RECUR_ERROR_DATA), "data");

  Safetensors<float> fx;
  m = load(state_dict_of("lstm_2layer_bidir_ragged", fx));
  ASSERT_NE(m, nullptr);
  recur_stream* s = nullptr;
  EXPECT_EQ(recur_stream_create(m, 2, &s), RECUR_ERROR_ARGUMENT);
  EXPECT_NE(std::string(recur_last_error()).find("bidirectional"), std::string::npos);
  EXPECT_EQ(s, nullptr);
  recur_model_info info;
  ASSERT_EQ(recur_model_info_get(m, &info), RECUR_OK);
  const int64_t T = 3, B = 2;
  std::vector<float> x(size_t(T * B * info.input_size), 0.5f), y(size_t(T * B * info.output_size), 7.0f);
  x[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(recur_model_run(m, x.data(), T, B, nullptr, nullptr, nullptr, y.data(), nullptr, nullptr),
            RECUR_ERROR_DATA);
  EXPECT_NE(std::string(recur_last_error()).find("x[4]"), std::string::npos) << recur_last_error();
  EXPECT_EQ(y[0], 7.0f) << "a failed call wrote its output";
  x[4] = 0.5f;
  const int64_t lengths[2] = {3, 4};
  EXPECT_EQ(recur_model_run(m, x.data(), T, B, lengths, nullptr, nullptr, y.data(), nullptr, nullptr),
            RECUR_ERROR_ARGUMENT);
  EXPECT_NE(std::string(recur_last_error()).find("lengths[1] = 4"), std::string::npos);
  EXPECT_EQ(recur_model_run(m, x.data(), 0, B, nullptr, nullptr, nullptr, y.data(), nullptr, nullptr),
            RECUR_ERROR_ARGUMENT);
  EXPECT_EQ(recur_model_run(m, x.data(), T, B, nullptr, nullptr, nullptr, y.data(), nullptr, nullptr), RECUR_OK);
  EXPECT_STREQ(recur_last_error(), "") << "a successful call leaves no message";
  // The message is per thread: another thread's failure does not change this one's.
  EXPECT_EQ(recur_model_load(nullptr, &m), RECUR_ERROR_ARGUMENT);
  const std::string mine = recur_last_error();
  std::thread([&] { recur_model* other = nullptr; recur_model_load("elsewhere.safetensors", &other); }).join();
  EXPECT_EQ(recur_last_error(), mine);
  recur_model_free(m);
}

}  // namespace
}  // namespace recur
