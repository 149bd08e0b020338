// Forecasting windows: split, normalisation, origins and gathering (definitions in
// recur/data/time_series.h).
#include "recur/data/time_series.h"

#include <algorithm>
#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"

namespace recur {

ChronoSplit chronological_split(int64_t rows) {
  RECUR_CHECK(rows >= 0, "chronological_split: " << rows << " rows");
  return {rows * 7 / 10, rows * 85 / 100, rows};
}

constexpr EnumNames<SplitPart, 4> kSplitPartNames{{{SplitPart::train, "train"},
                                                   {SplitPart::valid, "valid"},
                                                   {SplitPart::test, "test"},
                                                   {SplitPart::all, "all"}}};

SplitPart parse_split_part(const std::string& name) {
  return parse_enum(kSplitPartNames, name, "split part");
}
const char* split_part_name(SplitPart part) { return enum_name(kSplitPartNames, part); }

std::vector<Origin> forecast_origins(const std::vector<CsvSeries>& data, SplitPart part,
                                     int64_t window, int64_t horizon) {
  RECUR_CHECK(
      window >= 1 && horizon >= 1,
      "forecast windows need window >= 1 and horizon >= 1, got " << window << " and " << horizon);
  std::vector<Origin> out;
  for (size_t s = 0; s < data.size(); ++s) {
    const ChronoSplit sp = chronological_split(data[s].rows());
    int64_t a = 0, b = sp.rows;  // the part's rows [a, b): targets t+1..t+H must lie there
    if (part == SplitPart::train) b = sp.train_end;
    if (part == SplitPart::valid) a = sp.train_end, b = sp.valid_end;
    if (part == SplitPart::test) a = sp.valid_end;
    for (int64_t t = std::max(a - 1, window - 1); t + horizon < b; ++t)
      out.push_back({int64_t(s), t});
  }
  return out;
}

ZScore fit_zscore(const std::vector<CsvSeries>& data) {
  RECUR_CHECK(!data.empty(), "fit_zscore: no series");
  const int64_t C = data.front().columns;
  std::vector<double> sum(size_t(C), 0.0);
  int64_t n = 0;
  for (const CsvSeries& s : data) {
    RECUR_CHECK(s.columns == C,
                "fit_zscore: series with " << s.columns << " and " << C << " columns");
    const int64_t end = chronological_split(s.rows()).train_end;
    for (int64_t r = 0; r < end; ++r)
      for (int64_t c = 0; c < C; ++c) sum[size_t(c)] += s.at(r, c);
    n += end;
  }
  RECUR_CHECK(n > 0, "fit_zscore: the training part (the first 70% of each series) holds no rows");
  ZScore z{std::vector<double>(size_t(C)), std::vector<double>(size_t(C), 0.0)};
  for (int64_t c = 0; c < C; ++c) z.mean[size_t(c)] = sum[size_t(c)] / double(n);
  for (const CsvSeries& s : data) {  // two passes: no cancellation in the variance
    const int64_t end = chronological_split(s.rows()).train_end;
    for (int64_t r = 0; r < end; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const double d = s.at(r, c) - z.mean[size_t(c)];
        z.std[size_t(c)] += d * d;
      }
  }
  for (double& v : z.std) {
    v = std::sqrt(v / double(n));
    if (!(v > 0)) v = 1.0;
  }
  return z;
}

template <class T>
Tensor<T> gather_steps(const std::vector<CsvSeries>& data, const std::vector<Origin>& origins,
                       int64_t offset, int64_t steps, const std::vector<int64_t>& cols,
                       const ZScore* z) {
  const int64_t B = int64_t(origins.size()), C = int64_t(cols.size());
  Tensor<T> x({steps, B, C});
  for (int64_t b = 0; b < B; ++b) {
    const Origin& o = origins[size_t(b)];
    RECUR_CHECK(o.series >= 0 && o.series < int64_t(data.size()),
                "origin " << b << " names series " << o.series << " of " << data.size());
    const CsvSeries& s = data[size_t(o.series)];
    RECUR_CHECK(o.t + offset >= 0 && o.t + offset + steps <= s.rows(),
                "origin " << o.t << " of series '" << s.group << "' needs rows " << o.t + offset
                          << ".." << o.t + offset + steps - 1 << "; the series has " << s.rows());
    for (int64_t st = 0; st < steps; ++st)
      for (int64_t j = 0; j < C; ++j) {
        const int64_t c = cols[size_t(j)];
        double v = s.at(o.t + offset + st, c);
        if (z) v = (v - z->mean[size_t(c)]) / z->std[size_t(c)];
        x[(st * B + b) * C + j] = T(v);
      }
  }
  return x;
}

#define RECUR_INSTANTIATE(T)                                                                    \
  template Tensor<T> gather_steps<T>(const std::vector<CsvSeries>&, const std::vector<Origin>&, \
                                     int64_t, int64_t, const std::vector<int64_t>&,             \
                                     const ZScore*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
