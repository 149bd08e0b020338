// The training steps' NaN/Inf guard (recur/train/nan_guard.h): the loss or a gradient holding a NaN
// or Inf is caught at that step and named; `stop` throws and leaves the last checkpoint as it was,
// `skip` leaves the weights and goes on, and too many skips in a row stop the run. Then the same in
// a real language-model training run, with a NaN put into one gradient at one step.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "expect_error.h"
#include "recur/train/checkpoint.h"
#include "recur/train/lm_trainer.h"
#include "recur/train/nan_guard.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::ExpectError;

struct TwoParams {
  Tensor<float> w{{3, 4}}, gw{{3, 4}}, b{{4}}, gb{{4}};
  std::vector<Param<float>> params() { return {{"w", &w, &gw}, {"b", &b, &gb}}; }
};

TEST(NanGuard, NamesTheFirstGradientHoldingNanOrInf) {
  TwoParams m;
  EXPECT_EQ(describe_non_finite_gradient(m.params()), "");
  m.gb.data[1] = std::numeric_limits<float>::quiet_NaN();
  m.gb.data[2] = std::numeric_limits<float>::infinity();
  m.gb.data[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(describe_non_finite_gradient(m.params()),
            "the gradient of 'b' holds 2 NaN and 1 Inf of 4 values");
}

TEST(NanGuard, StopThrowsNamingTheStepAndTheTensor) {
  TwoParams m;
  NanGuard guard(OnNan::stop);
  EXPECT_TRUE(guard.step_ok(1.5, m.params(), 1));
  m.gw.data[5] = -std::numeric_limits<float>::infinity();
  EXPECT_RECUR_ERROR(guard.step_ok(1.5, m.params(), 7), "step 7", "'w'", "1 Inf", "--on-nan stop",
                     "last checkpoint");
  m.gw.data[5] = 0;
  EXPECT_RECUR_ERROR(guard.step_ok(std::nan(""), m.params(), 8), "step 8", "the loss is nan");
}

TEST(NanGuard, SkipCountsAndStopsAfterTooManyInARow) {
  TwoParams m;
  NanGuard guard(OnNan::skip, 3);
  m.gb.data[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(guard.step_ok(0.5, m.params(), 4));
  EXPECT_EQ(guard.message(), "step 4: the gradient of 'b' holds 1 NaN and 0 Inf of 4 values; step "
                             "skipped (--on-nan skip)");
  EXPECT_FALSE(guard.step_ok(0.5, m.params(), 5));
  m.gb.data[0] = 0;
  EXPECT_TRUE(guard.step_ok(0.5, m.params(), 6));  // a good step ends the run of skips
  m.gb.data[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(guard.step_ok(0.5, m.params(), 7));
  EXPECT_FALSE(guard.step_ok(0.5, m.params(), 8));
  EXPECT_RECUR_ERROR(guard.step_ok(0.5, m.params(), 9), "step 9", "3 steps in a row were skipped");
  EXPECT_EQ(guard.skipped(), 5);
}

TEST(NanGuard, ParsesThePolicies) {
  EXPECT_EQ(parse_on_nan("stop"), OnNan::stop);
  EXPECT_EQ(parse_on_nan("skip"), OnNan::skip);
  EXPECT_RECUR_ERROR(parse_on_nan("ignore"), "'ignore'", "stop or skip");
}

// A language model trained on a small text, with a NaN put into one gradient at step `bad`.
class NanGuardTraining : public testing::ScratchDirTest {
 protected:
  LmTrainConfig Config(int64_t bad, std::vector<Tensor<float>>* snapshots) {
    std::ofstream(Path("text.txt")) << [] {
      std::string s;
      for (int i = 0; i < 200; ++i) s += "the quick brown fox jumps over the lazy dog. ";
      return s;
    }();
    LmTrainConfig c;
    c.text_path = Path("text.txt");
    c.rnn.cell = CellKind::lstm;
    c.rnn.hidden_size = 16;
    c.embed = 8;
    c.seq_len = 10;
    c.train.batch = 4;
    c.steps = 8;
    c.val_tokens = 200;
    c.train.log_every = 1;
    c.checkpoint_every = 2;
    c.train.out_path = Path("lm.safetensors");
    c.after_backward = [bad, snapshots](int64_t step, const std::vector<Param<float>>& params) {
      // The first tensor's weights as each step begins, and the NaN at step `bad`.
      if (snapshots) snapshots->push_back(*params[0].value);
      if (step == bad) params[1].grad->data[3] = std::numeric_limits<float>::quiet_NaN();
    };
    return c;
  }
};

TEST_F(NanGuardTraining, StopNamesTheStepAndKeepsTheLastCheckpoint) {
  LmTrainConfig c = Config(5, nullptr);
  std::ostringstream log;
  std::string tensor;
  c.after_backward = [inner = c.after_backward, &tensor](int64_t step, const std::vector<Param<float>>& p) {
    tensor = p[1].name;
    inner(step, p);
  };
  try {
    train_language_model(c, log);
    ADD_FAILURE() << "the NaN went unnoticed";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("step 5: the gradient of '" + tensor + "' holds 1 NaN"), std::string::npos) << msg;
  }
  // The checkpoint of step 4 is the last good one, whole, and the model file was never written.
  const Checkpoint ck = load_checkpoint(c.train.checkpoint_path());
  EXPECT_EQ(ck.metadata.at("run.step"), "4");
  EXPECT_FALSE(std::filesystem::exists(c.train.out_path));
}

TEST_F(NanGuardTraining, SkipLeavesTheWeightsOfThatStepAndGoesOn) {
  std::vector<Tensor<float>> w;
  LmTrainConfig c = Config(5, &w);
  c.train.guard.on_nan = OnNan::skip;
  std::ostringstream log;
  const LmTrainResult r = train_language_model(c, log);
  EXPECT_EQ(r.steps_done, 8);
  EXPECT_EQ(r.skipped_steps, 1);
  EXPECT_NE(log.str().find("step 5: the gradient of"), std::string::npos) << log.str();
  ASSERT_EQ(w.size(), 8u);
  EXPECT_EQ(w[5].data, w[4].data);  // step 5 changed nothing
  EXPECT_NE(w[4].data, w[3].data);  // the others did
  EXPECT_NE(w[6].data, w[5].data);
  EXPECT_TRUE(std::filesystem::exists(c.train.out_path));
}

}  // namespace
}  // namespace recur
