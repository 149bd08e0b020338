// Forecasting windows: the 70/15/15 chronological split, origins whose targets stay inside their
// part (no target scored twice, windows inside the series), the z-score over the training rows
// only, and gathering of windows and targets.
#include "recur/data/time_series.h"

#include <gtest/gtest.h>

#include <set>

#include "expect_error.h"
#include "recur/core/layout.h"

namespace recur {
namespace {

// A series whose value in column c at row r is 100 c + r, so every gathered value says where it
// came from.
CsvSeries ramp(int64_t rows, int64_t columns, const std::string& group = "") {
  CsvSeries s{group, {}, columns, {}};
  for (int64_t r = 0; r < rows; ++r) {
    s.lines.push_back(r + 2);
    for (int64_t c = 0; c < columns; ++c) s.values.push_back(double(100 * c + r));
  }
  return s;
}

TEST(TimeSeries, ChronologicalSplitIsSeventyFifteenFifteen) {
  const ChronoSplit s = chronological_split(1461);  // seattle-weather.csv
  EXPECT_EQ(s.train_end, 1022);
  EXPECT_EQ(s.valid_end, 1241);
  EXPECT_EQ(s.rows, 1461);
  const ChronoSplit m = chronological_split(123);  // one symbol of stocks.csv
  EXPECT_EQ(m.train_end, 86);
  EXPECT_EQ(m.valid_end, 104);
  EXPECT_EQ(parse_split_part("valid"), SplitPart::valid);
  EXPECT_RECUR_ERROR(parse_split_part("dev"), "unknown split part 'dev'");
}

TEST(TimeSeries, OriginsKeepEveryTargetInsideItsPartAndScoreItOnce) {
  const std::vector<CsvSeries> data = {ramp(100, 1, "a"), ramp(41, 1, "b")};
  const int64_t W = 5, H = 3;
  std::set<std::pair<int64_t, int64_t>> scored;  // (series, target row): in one part only
  for (SplitPart part : {SplitPart::train, SplitPart::valid, SplitPart::test}) {
    const auto origins = forecast_origins(data, part, W, H);
    ASSERT_FALSE(origins.empty());
    for (const Origin& o : origins) {
      const ChronoSplit sp = chronological_split(data[size_t(o.series)].rows());
      const int64_t a = part == SplitPart::train   ? 0
                        : part == SplitPart::valid ? sp.train_end
                                                   : sp.valid_end;
      const int64_t b = part == SplitPart::train   ? sp.train_end
                        : part == SplitPart::valid ? sp.valid_end
                                                   : sp.rows;
      EXPECT_GE(o.t - W + 1, 0);
      EXPECT_GE(o.t + 1, a);
      EXPECT_LT(o.t + H, b);
      for (int64_t h = 1; h <= H; ++h) scored.insert({o.series, o.t + h});
    }
  }
  // Series a: train rows [0,70): origins 4..66; valid [70,85): 69..81; test [85,100): 84..96.
  const auto train = forecast_origins({data[0]}, SplitPart::train, W, H);
  EXPECT_EQ(train.front().t, 4);
  EXPECT_EQ(train.back().t, 66);
  const auto test = forecast_origins({data[0]}, SplitPart::test, W, H);
  EXPECT_EQ(test.front().t, 84);
  EXPECT_EQ(test.back().t, 96);
  EXPECT_EQ(forecast_origins({data[0]}, SplitPart::all, W, H).size(), 100u - W - H + 1);
  // Too short a part gives no origins.
  EXPECT_TRUE(forecast_origins({ramp(10, 1)}, SplitPart::test, W, H).empty());
}

TEST(TimeSeries, ZScoreUsesTheTrainingRowsOfEverySeries) {
  CsvSeries s{"", {}, 2, {}};
  // 10 rows: train = the first 7. Column 0: 1..7 then 1000s (must not count); column 1 constant.
  for (int64_t r = 0; r < 10; ++r) {
    s.lines.push_back(r);
    s.values.push_back(r < 7 ? double(r + 1) : 1000.0);
    s.values.push_back(5.0);
  }
  const ZScore z = fit_zscore({s});
  EXPECT_DOUBLE_EQ(z.mean[0], 4.0);
  EXPECT_DOUBLE_EQ(z.std[0], 2.0);  // population deviation of 1..7
  EXPECT_DOUBLE_EQ(z.mean[1], 5.0);
  EXPECT_DOUBLE_EQ(z.std[1], 1.0);  // constant column: 1, not 0
}

TEST(TimeSeries, GatherStepsReadsWindowsAndTargets) {
  const std::vector<CsvSeries> data = {ramp(20, 3)};
  const std::vector<Origin> origins = {{0, 5}, {0, 9}};
  // Window of 3 rows ending at t, columns 2 and 0: (3, 2, 2).
  const Tensor<double> x = gather_steps<double>(data, origins, -2, 3, {2, 0}, nullptr);
  ASSERT_EQ(x.shape, Shape({3, 2, 2}));
  EXPECT_EQ(x[0], 203.0);                // step 0, origin t=5: row 3, column 2
  EXPECT_EQ(x[1], 3.0);                  //                     row 3, column 0
  EXPECT_EQ(x[(2 * 2 + 1) * 2], 209.0);  // step 2, origin t=9: row 9, column 2
  const Tensor<double> y = swap_first_axes(gather_steps<double>(data, origins, 1, 2, {0}, nullptr));
  ASSERT_EQ(y.shape, Shape({2, 2, 1}));
  EXPECT_EQ(y.data, (std::vector<double>{6, 7, 10, 11}));
  ZScore z{{10, 0, 0}, {2, 1, 1}};
  const Tensor<float> n = gather_steps<float>(data, {{0, 5}}, 0, 1, {0}, &z);
  EXPECT_EQ(n[0], -2.5f);  // (5 - 10) / 2
  EXPECT_RECUR_ERROR(gather_steps<double>(data, {{0, 1}}, -2, 3, {0}, nullptr), "needs rows -1..1");
  EXPECT_RECUR_ERROR(gather_steps<double>(data, {{0, 19}}, 1, 1, {0}, nullptr),
                     "the series has 20");
}

}  // namespace
}  // namespace recur
