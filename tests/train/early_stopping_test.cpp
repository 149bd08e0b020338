// Early stopping with keep-best (recur/train/early_stopping.h): which validations count as an
// improvement, when training stops, which weights are kept, the round trip through a checkpoint
// file (exact score, step, count and weights), and the end-of-run summary.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "expect_error.h"
#include "recur/train/checkpoint.h"
#include "recur/train/early_stopping.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::ExpectError;

EarlyStopping::Weights weights_of(float v) {
  Tensor<float> w({2, 3});
  for (float& x : w.data) x = v;
  return {{"w", w}};
}

TEST(EarlyStopping, StopsAfterPatienceValidationsWithoutALowerScore) {
  EarlyStopping e(2);
  int snapshots = 0;
  auto snap = [&](float v) {
    return [&snapshots, v] {
      ++snapshots;
      return weights_of(v);
    };
  };
  EXPECT_TRUE(e.update(3.0, 10, snap(1)));
  EXPECT_TRUE(e.update(2.0, 20, snap(2)));
  EXPECT_FALSE(e.update(2.5, 30, snap(3)));  // worse
  EXPECT_FALSE(e.should_stop());
  EXPECT_TRUE(e.update(1.5, 40, snap(4)));   // better: the count starts again
  EXPECT_FALSE(e.update(1.5, 50, snap(5)));  // equal is no improvement
  EXPECT_FALSE(e.should_stop());
  EXPECT_FALSE(e.update(std::nan(""), 60, snap(6)));  // NaN neither
  EXPECT_TRUE(e.should_stop());
  EXPECT_EQ(snapshots, 3);  // taken on improvements only
  EXPECT_EQ(e.best_step(), 40);
  EXPECT_EQ(e.best_score(), 1.5);
  EXPECT_EQ(e.since_best(), 2);
  EXPECT_EQ(e.best_weights().at("w").data[0], 4.0f);
}

TEST(EarlyStopping, OffNeverStopsButStillKnowsTheBest) {
  EarlyStopping e(0);
  EXPECT_FALSE(e.on());
  EXPECT_TRUE(e.update(1.0, 1));
  for (int i = 2; i < 50; ++i) EXPECT_FALSE(e.update(2.0, i));
  EXPECT_FALSE(e.should_stop());
  EXPECT_EQ(e.best_step(), 1);
  EXPECT_RECUR_ERROR(EarlyStopping(-1), "--patience", "-1");
}

TEST(EarlyStopping, NoFiniteValidationHasNoBest) {
  EarlyStopping e(1);
  EXPECT_FALSE(e.update(std::numeric_limits<double>::infinity(), 5));
  EXPECT_FALSE(e.has_best());
  EXPECT_TRUE(e.should_stop());
  EXPECT_NE(e.summary(5, 0, "validation loss").find("the model holds the last weights"),
            std::string::npos);
}

using EarlyStoppingFile = testing::ScratchDirTest;

TEST_F(EarlyStoppingFile, SurvivesACheckpointExactly) {
  EarlyStopping e(3);
  const double score = 1.0 / 3.0;  // not exact in decimal: the hex form must keep every bit
  e.update(score, 7, [] { return weights_of(0.1f); });
  e.update(0.5, 8);
  Checkpoint ck;
  ck.model = weights_of(9.0f);
  e.save(ck);
  const std::string path = Path("c.ckpt.safetensors");
  save_checkpoint(path, ck);
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.model.at("w").data[0], 9.0f);  // the current weights stay apart from the best

  EarlyStopping r(3);
  r.load(back, path);
  EXPECT_EQ(r.best_score(), score);
  EXPECT_EQ(r.best_step(), 7);
  EXPECT_EQ(r.since_best(), 1);
  EXPECT_EQ(r.best_weights().at("w").data, weights_of(0.1f).at("w").data);
  // The resumed tracker goes on as the original does.
  EXPECT_FALSE(r.update(0.4, 9));
  EXPECT_FALSE(r.should_stop());
  EXPECT_FALSE(r.update(0.4, 10));
  EXPECT_TRUE(r.should_stop());
}

TEST_F(EarlyStoppingFile, OffWritesNothingAndAnOldCheckpointStartsAfresh) {
  EarlyStopping off(0);
  off.update(1.0, 1, [] { return weights_of(1); });
  Checkpoint ck;
  off.save(ck);
  EXPECT_TRUE(ck.metadata.empty());
  EXPECT_TRUE(ck.best.empty());
  EarlyStopping on(2);
  on.load(ck, "old.ckpt");
  EXPECT_FALSE(on.has_best());
  EXPECT_EQ(on.since_best(), 0);
}

TEST(EarlyStopping, SummarySaysWhereItStoppedAndWhichValidationWasBest) {
  EarlyStopping e(2);
  e.update(0.9, 10);
  e.update(0.4, 30);
  e.update(0.5, 40);
  EXPECT_EQ(e.summary(40, 10, "validation loss"),
            "the model holds the best weights, from epoch 3 (step 30): validation loss 0.4000");
  e.update(0.6, 50);
  EXPECT_EQ(e.summary(50, 10, "validation loss"),
            "stopped early at epoch 5 (step 50): no better validation loss in 2 validations "
            "(--patience 2); the model holds the best weights, from epoch 3 (step 30): "
            "validation loss 0.4000");
  EXPECT_EQ(e.summary(50, 0, "validation bpc").substr(0, 24), "stopped early at step 50");
}

}  // namespace
}  // namespace recur
