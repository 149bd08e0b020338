// Users' .npy arrays as labelled sequences: shapes, lengths, the holdout, and the bad input that
// must fail naming the file and the index (wrong rank, mismatched N, lengths past T, NaN inside a
// sequence, negative labels, labels beyond the classes, a features file without labels).
#include "recur/data/arrays.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/io/npy.h"
#include "recur/train/classifier_trainer.h"
#include "scratch_dir.h"

namespace recur {
namespace {

class ArraysTest : public testing::ScratchDirTest {
 protected:
  // x[i, t, f] = 100 i + 10 t + f; labels and lengths as given (float arrays of integers).
  void Write(const std::string& split, int64_t n, int64_t steps, int64_t f,
             const std::vector<double>& labels, const std::vector<double>& lengths = {}) {
    Tensor<float> x({n, steps, f});
    for (int64_t i = 0; i < x.numel(); ++i)
      x[i] = float(100 * (i / (steps * f)) + 10 * (i / f % steps) + i % f);
    save_npy(Path("x_" + split + ".npy"), x);
    save_npy(Path("y_" + split + ".npy"), Tensor<double>({int64_t(labels.size())}, labels));
    if (!lengths.empty())
      save_npy(Path("lengths_" + split + ".npy"), Tensor<double>({n}, lengths));
  }
};

TEST_F(ArraysTest, ExamplesAreCutAtTheirLengths) {
  Write("train", 3, 4, 2, {1, 0, 2}, {4, 1, 3});
  const std::optional<LabeledArrays> a = read_array_split(dir_, "train", ArrayLabels::per_sequence);
  ASSERT_TRUE(a);
  const std::vector<Example> ex = array_examples(*a);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].steps, 4);
  EXPECT_EQ(ex[1].steps, 1);
  EXPECT_EQ(ex[2].steps, 3);
  EXPECT_EQ(ex[2].label, 2);
  EXPECT_EQ(ex[2].values, (std::vector<float>{200, 201, 210, 211, 220, 221}));
  EXPECT_FALSE(read_array_split(dir_, "test", ArrayLabels::per_sequence));
}

TEST_F(ArraysTest, ValidationIsHeldOutWhenAbsentAndLabelsAreChecked) {
  Write("train", 10, 3, 2, {0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  ClassifierData d = load_classifier_arrays(dir_, 0.2);
  EXPECT_EQ(d.train.size(), 8u);
  ASSERT_EQ(d.valid.size(), 2u);
  EXPECT_EQ(d.valid[1].values.front(), 900.0f);
  EXPECT_TRUE(d.test.empty());
  Write("test", 2, 5, 2, {1, 2});
  EXPECT_RECUR_ERROR(load_classifier_arrays(dir_, 0.2), "label 2 of example 1 in the test split",
                     "below 2");
  Write("test", 2, 5, 3, {1, 0});
  EXPECT_RECUR_ERROR(load_classifier_arrays(dir_, 0.2), "x_test.npy", "3 features per step");
}

TEST_F(ArraysTest, PerStepLabels) {
  Tensor<float> x({2, 3, 1});
  save_npy(Path("x.npy"), x);
  save_npy(Path("y.npy"), Tensor<double>({2, 3}, {0, 1, 2, 1, -1, -1}));
  save_npy(Path("len.npy"), Tensor<double>({2}, {3, 1}));
  const LabeledArrays a = read_labeled_arrays(Path("x.npy"), Path("y.npy"), Path("len.npy"),
                                              ArrayLabels::per_step);
  EXPECT_EQ(a.labels.size(), 6u);  // -1 past a length is padding, never read
  EXPECT_RECUR_ERROR(array_examples(a), "a label per sequence");
  EXPECT_RECUR_ERROR(read_labeled_arrays(Path("x.npy"), Path("y.npy"), "", ArrayLabels::per_step),
                     "y.npy", "label -1 at [1, 1]");
}

TEST_F(ArraysTest, BadInputNamesTheFileAndTheIndex) {
  const std::string x = Path("x_train.npy"), y = Path("y_train.npy"), len = Path("lengths_train.npy");
  auto read = [&](const std::string& l) {
    read_labeled_arrays(x, y, l, ArrayLabels::per_sequence);
  };
  save_npy(x, Tensor<float>({4, 3}));
  save_npy(y, Tensor<double>({4}));
  EXPECT_RECUR_ERROR(read(""), "x_train.npy", "(4, 3)", "expected (N, T, F)");

  Write("train", 3, 4, 2, {0, 1});
  EXPECT_RECUR_ERROR(read(""), "y_train.npy", "(2,)", "expected (3,)");
  Write("train", 3, 4, 2, {0, 1, 0}, {4, 5, 1});
  EXPECT_RECUR_ERROR(read(len), "lengths_train.npy", "length 5 at index 1", "1 to 4");
  Write("train", 3, 4, 2, {0, -3, 0});
  EXPECT_RECUR_ERROR(read(""), "y_train.npy", "label -3 at [1]");

  Write("train", 2, 3, 2, {0, 1}, {3, 1});
  Tensor<float> nan = load_npy<float>(x);
  nan[1 * 6 + 2 * 2 + 1] = NAN;  // past sequence 1's length: never read
  save_npy(x, nan);
  EXPECT_NO_THROW(read(len));
  nan[0 * 6 + 1 * 2 + 1] = INFINITY;
  save_npy(x, nan);
  EXPECT_RECUR_ERROR(read(len), "x_train.npy", "inf at [0, 1, 1]", "finite");

  std::filesystem::remove(y);
  EXPECT_RECUR_ERROR(read_array_split(dir_, "train", ArrayLabels::per_sequence), "y_train.npy");
  EXPECT_RECUR_ERROR(load_classifier_arrays(Path("none"), 0.1), "not a directory");
  std::filesystem::remove(x);
  EXPECT_RECUR_ERROR(load_classifier_arrays(dir_, 0.1), "no x_train.npy");
}

}  // namespace
}  // namespace recur
