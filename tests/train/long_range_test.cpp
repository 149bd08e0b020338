// The long-range suite's runs: at a short delay the LSTM learns the adding problem within its
// budget and the ESN's ridge readout solves it outright; the tanh RNN's gradient flow at
// initialisation fades; names and budgets are checked.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/train/long_range.h"

namespace recur {
namespace {

TEST(LongRange, LstmLearnsTheShortAddingProblem) {
  LongRangeOptions o;
  o.hidden = 32;
  o.max_steps = 3000;
  o.budget_seconds = 120;
  o.eval_every = 50;
  o.lr = 3e-3;
  const LongRangeResult r = run_long_range(LongRangeModel::lstm, LongRangeTask::adding, 4, o);
  EXPECT_TRUE(r.solved) << "test MSE " << r.metric << " after " << r.steps << " updates";
  EXPECT_LT(r.metric, 0.01);
  ASSERT_FALSE(r.curve.empty());
  EXPECT_EQ(r.curve.back().first, r.steps);
  EXPECT_GT(r.curve.front().second, r.curve.back().second);
}

TEST(LongRange, EsnReadoutSolvesTheShortAddingProblem) {
  LongRangeOptions o;
  o.esn_units = 200;
  o.esn_train_sequences = 600;
  const LongRangeResult r = run_long_range(LongRangeModel::esn, LongRangeTask::adding, 4, o);
  EXPECT_TRUE(r.solved) << r.metric;
  EXPECT_EQ(r.steps, 0);
}

TEST(LongRange, CopyAccuracyStartsAtChance) {
  LongRangeOptions o;
  o.hidden = 16;
  o.max_steps = 1;
  o.eval_every = 1;
  const LongRangeResult r = run_long_range(LongRangeModel::gru, LongRangeTask::copy, 5, o);
  EXPECT_FALSE(r.solved);
  EXPECT_NEAR(r.metric, 0.125, 0.06);  // one of 8 symbols
}

TEST(LongRange, InitialFlowOfTheTanhRnnFades) {
  LongRangeOptions o;
  const GradientFlow tanh = long_range_initial_flow(LongRangeModel::tanh, LongRangeTask::adding, 100, o);
  const GradientFlow irnn = long_range_initial_flow(LongRangeModel::irnn, LongRangeTask::adding, 100, o);
  ASSERT_EQ(tanh.grad_h.size(), 101u);
  EXPECT_LT(tanh.grad_h[0], 1e-8 * tanh.grad_h[100]);
  EXPECT_GT(irnn.grad_h[0], 1e-3 * irnn.grad_h[100]);
  EXPECT_RECUR_ERROR(long_range_initial_flow(LongRangeModel::esn, LongRangeTask::adding, 10, o), "engine's layers");
}

TEST(LongRange, NamesAndBadSettings) {
  EXPECT_EQ(parse_long_range_model("clockwork"), LongRangeModel::clockwork);
  EXPECT_EQ(parse_long_range_task("copy"), LongRangeTask::copy);
  EXPECT_RECUR_ERROR(parse_long_range_model("transformer"), "unknown model 'transformer'");
  EXPECT_RECUR_ERROR(parse_long_range_task("sort"), "unknown task 'sort'");
  EXPECT_TRUE(long_range_solved(LongRangeTask::adding, 0.009));
  EXPECT_FALSE(long_range_solved(LongRangeTask::copy, 0.89));
  LongRangeOptions o;
  o.budget_seconds = 0;
  EXPECT_RECUR_ERROR(run_long_range(LongRangeModel::tanh, LongRangeTask::adding, 10, o), "must be positive");
  EXPECT_RECUR_ERROR(run_long_range(LongRangeModel::tanh, LongRangeTask::adding, 1, {}), "delay T must be >= 2");
}

}  // namespace
}  // namespace recur
