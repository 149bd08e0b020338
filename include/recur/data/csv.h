// A small, strict reader for numeric time series stored as CSV: choose columns by header name,
// optionally split the rows into one series per value of a column (`group_by`, e.g. one stock per
// symbol) and keep only the rows where a column has a given value (`where`, e.g. symbol=MSFT).
//
// Format (RFC 4180 without line breaks inside fields): the first line is the header, a list of
// unique, non-empty column names; every other line is a row with exactly as many fields, separated
// by commas. A field may be quoted ("Jan 1, 2000"; "" inside quotes is one quote). Lines end with
// "\n" or "\r\n"; empty lines are skipped; a UTF-8 byte order mark before the header is skipped.
// Only the chosen columns are parsed as numbers: a plain decimal or exponent number ("12.8", "-3",
// "1e-3") with nothing around it. Empty fields, spaces, "NaN", "inf" and values out of double's
// range are errors. Every error names the place as "file:line:column" (1-based; column is the byte
// where the field starts) and the bad text; a missing column name lists the columns there are.
//
// Rows are kept in file order. The reader does not parse or sort dates: it assumes each series'
// rows are chronological, oldest first (true of every file it was written for: seattle-weather.csv,
// stocks.csv from Debian's python3-vega-datasets).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recur {

struct CsvQuery {
  std::vector<std::string> columns;  // numeric columns to read, in this order (at least one)
  std::string group_by;              // one series per distinct value ("" = one series)
  std::string where_column;          // keep only rows whose where_column equals where_value
  std::string where_value;           //   ("" column = keep every row)
};

// One series: the chosen columns of its rows, in file order.
struct CsvSeries {
  std::string group;           // its value of the group_by column ("" without group_by)
  std::vector<int64_t> lines;  // the 1-based file line of each row
  int64_t columns = 0;         // the query's column count
  std::vector<double> values;  // (rows, columns) row-major, in the query's column order
  int64_t rows() const { return int64_t(lines.size()); }
  double at(int64_t row, int64_t column) const { return values[size_t(row * columns + column)]; }
};

// The series of `path`, in order of their first row in the file. Throws recur::Error
// (file:line:column, the text, what was expected) on any defect, when a query column is missing
// or named twice, when the where filter matches no row (listing the values it saw), and when
// nothing is left.
std::vector<CsvSeries> read_csv_series(const std::string& path, const CsvQuery& query);

// "symbol=MSFT" -> {"symbol", "MSFT"}; throws unless there is a '=' with a non-empty name before
// it and a value after it.
std::pair<std::string, std::string> parse_where(const std::string& text);

// "a,b,c" -> {"a", "b", "c"}; throws on an empty list or an empty name.
std::vector<std::string> split_names(const std::string& text, const std::string& what);

}  // namespace recur
