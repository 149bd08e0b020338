// Fuzzes the CSV time-series reader (read_csv_series) with the queries the forecaster makes, and
// the windows it builds from the series (split, z-score, origins, gathered steps).
#include <vector>

#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/data/csv.h"
#include "recur/data/time_series.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the query, the rest is the file.
  static const std::vector<recur::CsvQuery> queries = {
      {{"price"}, "symbol", "", ""},                          // stocks.csv, one series per symbol
      {{"price"}, "", "symbol", "MSFT"},                      // stocks.csv, one symbol
      {{"temp_max", "temp_min", "precipitation"}, "", "", ""},  // seattle-weather.csv
      {{"a", "b"}, "", "", ""},
      {{"a"}, "g", "", ""},
      {{"b", "a"}, "g", "a", "1"},
  };
  const recur::CsvQuery& q = queries[data[0] % queries.size()];
  const std::string path = recur::fuzz::write_input("series.csv", data + 1, size - 1);
  try {
    const auto series = recur::read_csv_series(path, q);
    const recur::ZScore z = recur::fit_zscore(series);
    const std::vector<int64_t> cols = {0};
    for (int64_t window : {1, 3}) {
      const auto origins = recur::forecast_origins(series, recur::SplitPart::all, window, 2);
      if (!origins.empty())
        recur::gather_steps<float>(series, origins, 1 - window, window, cols, &z);
    }
  } catch (const recur::Error&) {
  }
  return 0;
}
