// The strict numeric CSV reader: columns by name in the asked order, quoted fields, CRLF and BOM,
// one series per group in order of first appearance, the where filter, and every malformed input
// named by file:line (and column, with the bad text).
#include "recur/data/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::WriteRaw;

class CsvTest : public testing::ScratchDirTest {};

TEST_F(CsvTest, ReadsTheAskedColumnsInTheAskedOrder) {
  WriteRaw(Path("w.csv"),
           "date,precipitation,temp_max,temp_min,wind,weather\n"
           "2012/01/01,0.0,12.8,5.0,4.7,drizzle\n"
           "2012/01/02,10.9,10.6,-2.8,4.5,rain\n"
           "2012/01/03,0.8,1e1,7.2,2.3,rain\n");
  const auto s = read_csv_series(Path("w.csv"), {{"temp_min", "temp_max"}, "", "", ""});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].group, "");
  EXPECT_EQ(s[0].columns, 2);
  EXPECT_EQ(s[0].lines, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(s[0].values, (std::vector<double>{5.0, 12.8, -2.8, 10.6, 7.2, 10.0}));
  EXPECT_EQ(s[0].at(1, 0), -2.8);
}

TEST_F(CsvTest, QuotesCrlfBomAndBlankLines) {
  WriteRaw(Path("q.csv"),
           "\xEF\xBB\xBFname,\"va,lue\"\r\n"
           "\"a \"\"quoted\"\", name\",\"3.5\"\r\n"
           "\r\n"
           "b,-1e-3");  // no final newline
  const auto s = read_csv_series(Path("q.csv"), {{"va,lue"}, "", "", ""});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].values, (std::vector<double>{3.5, -1e-3}));
  EXPECT_EQ(s[0].lines, (std::vector<int64_t>{2, 4}));
  const auto g = read_csv_series(Path("q.csv"), {{"va,lue"}, "name", "", ""});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "a \"quoted\", name");
}

TEST_F(CsvTest, GroupsInOrderOfFirstAppearanceAndFilters) {
  WriteRaw(Path("s.csv"),
           "symbol,date,price\n"
           "MSFT,Jan 1 2000,39.81\n"
           "MSFT,Feb 1 2000,36.35\n"
           "AAPL,Jan 1 2000,25.94\n"
           "MSFT,Mar 1 2000,43.22\n"
           "AAPL,Feb 1 2000,28.66\n");
  const auto g = read_csv_series(Path("s.csv"), {{"price"}, "symbol", "", ""});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "MSFT");
  EXPECT_EQ(g[0].values, (std::vector<double>{39.81, 36.35, 43.22}));
  EXPECT_EQ(g[0].lines, (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(g[1].group, "AAPL");
  EXPECT_EQ(g[1].values, (std::vector<double>{25.94, 28.66}));
  const auto w = read_csv_series(Path("s.csv"), {{"price"}, "symbol", "symbol", "AAPL"});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].group, "AAPL");
  EXPECT_EQ(w[0].values, (std::vector<double>{25.94, 28.66}));
  const auto u = read_csv_series(Path("s.csv"), {{"price"}, "", "symbol", "MSFT"});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].rows(), 3);
  EXPECT_RECUR_ERROR(read_csv_series(Path("s.csv"), {{"price"}, "", "symbol", "IBM"}),
                     "s.csv: no row has symbol=IBM; the values there are: MSFT, AAPL");
}

TEST_F(CsvTest, EveryMalformedValueIsNamedByFileLineAndColumn) {
  struct Case {
    std::string row, needle;
  };
  // The bad row is line 3; the temp field starts at column 4.
  const std::vector<Case> cases = {
      {"b,,1", "t.csv:3:3: column 'temp' is empty"},
      {"b,abc,1", "t.csv:3:3: 'abc' in column 'temp' is not a number"},
      {"b,12.8x,1", "'12.8x' in column 'temp' is not a number"},
      {"b, 12.8,1", "t.csv:3:3: ' 12.8' in column 'temp' is not a number"},
      {"b,NaN,1", "t.csv:3:3: 'NaN' in column 'temp' is not a finite number"},
      {"b,inf,1", "'inf' in column 'temp' is not a finite number"},
      {"b,-infinity,1", "is not a finite number"},
      {"b,1e999,1", "t.csv:3:3: '1e999' in column 'temp' is out of the range of a double"},
      {"b,1,2,3", "t.csv:3: 4 fields; expected 3 as in the header (name, temp, wind)"},
      {"b,1", "t.csv:3: 2 fields; expected 3"},
      {"b,\"1,2", "t.csv:3:3: a quoted field is not closed on its line"},
      {"b,\"1\"x,2", "t.csv:3:6: 'x' after a closing quote"},
      {"b,1\"2,2", "t.csv:3:3: a quote inside the unquoted field '1\"2'"},
  };
  for (const Case& c : cases) {
    WriteRaw(Path("t.csv"), "name,temp,wind\na,1.5,2\n" + c.row + "\n");
    EXPECT_RECUR_ERROR(read_csv_series(Path("t.csv"), {{"temp"}, "", "", ""}), c.needle);
  }
  // Columns not asked for are not parsed.
  WriteRaw(Path("t.csv"), "name,temp,wind\na,1.5,windy\n");
  EXPECT_EQ(read_csv_series(Path("t.csv"), {{"temp"}, "", "", ""})[0].values,
            (std::vector<double>{1.5}));
}

TEST_F(CsvTest, HeaderAndQueryErrors) {
  WriteRaw(Path("h.csv"), "date,temp_max,temp_min\n2012,1,2\n");
  EXPECT_RECUR_ERROR(read_csv_series(Path("h.csv"), {{"temp"}, "", "", ""}),
                     "h.csv: no column 'temp'", "the header has: date, temp_max, temp_min");
  EXPECT_RECUR_ERROR(read_csv_series(Path("h.csv"), {{"temp_max"}, "symbol", "", ""}),
                     "no column 'symbol' (--group-by)");
  EXPECT_RECUR_ERROR(read_csv_series(Path("h.csv"), {{"temp_max", "temp_max"}, "", "", ""}),
                     "column 'temp_max' is asked for twice");
  WriteRaw(Path("d.csv"), "a,b,a\n1,2,3\n");
  EXPECT_RECUR_ERROR(read_csv_series(Path("d.csv"), {{"b"}, "", "", ""}),
                     "d.csv:1:5: column 'a' appears twice");
  WriteRaw(Path("e.csv"), "a,,c\n1,2,3\n");
  EXPECT_RECUR_ERROR(read_csv_series(Path("e.csv"), {{"a"}, "", "", ""}),
                     "e.csv:1:3: an empty column name");
  WriteRaw(Path("empty.csv"), "\n\n");
  EXPECT_RECUR_ERROR(read_csv_series(Path("empty.csv"), {{"a"}, "", "", ""}),
                     "empty.csv: the file is empty");
  WriteRaw(Path("header.csv"), "a,b\n");
  EXPECT_RECUR_ERROR(read_csv_series(Path("header.csv"), {{"a"}, "", "", ""}),
                     "header.csv: a header but no rows");
  EXPECT_RECUR_ERROR(read_csv_series(Path("missing.csv"), {{"a"}, "", "", ""}), "missing.csv");
}

TEST(CsvArguments, WhereAndNameLists) {
  EXPECT_EQ(parse_where("symbol=MSFT"), (std::pair<std::string, std::string>{"symbol", "MSFT"}));
  EXPECT_EQ(parse_where("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
  EXPECT_RECUR_ERROR(parse_where("symbol"), "expected COLUMN=VALUE");
  EXPECT_RECUR_ERROR(parse_where("=MSFT"), "expected COLUMN=VALUE");
  EXPECT_RECUR_ERROR(parse_where("symbol="), "expected COLUMN=VALUE");
  EXPECT_EQ(split_names("temp_max,wind", "--inputs"),
            (std::vector<std::string>{"temp_max", "wind"}));
  EXPECT_RECUR_ERROR(split_names("temp_max,,wind", "--inputs"),
                     "--inputs 'temp_max,,wind': an empty name");
}

}  // namespace
}  // namespace recur
