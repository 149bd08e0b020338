// The strict numeric CSV reader (format in recur/data/csv.h): line splitting, quoted fields,
// number parsing, column lookup, grouping and the where filter.
#include "recur/data/csv.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string_view>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

struct Field {
  std::string text;  // unquoted
  int64_t column;    // 1-based byte column where the field starts
};

// Splits one line (no line ending) into fields; `where` is "file:line" for errors.
std::vector<Field> split_line(std::string_view line, const std::string& where) {
  std::vector<Field> out;
  size_t i = 0;
  for (;;) {
    Field f{{}, int64_t(i) + 1};
    if (i < line.size() && line[i] == '"') {
      size_t j = i + 1;
      for (;;) {
        RECUR_CHECK(j < line.size(), where
                                         << ":" << f.column
                                         << ": a quoted field is not closed on its line; expected "
                                            "a closing '\"' (line breaks inside fields are not "
                                            "supported)");
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            f.text += '"';
            j += 2;
            continue;
          }
          break;
        }
        f.text += line[j++];
      }
      i = j + 1;  // past the closing quote
      RECUR_CHECK(i == line.size() || line[i] == ',',
                  where << ":" << i + 1 << ": '" << line[i]
                        << "' after a closing quote; expected ',' or the end of the line");
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      f.text.assign(line.substr(i, end - i));
      RECUR_CHECK(f.text.find('"') == std::string::npos,
                  where << ":" << f.column << ": a quote inside the unquoted field '" << f.text
                        << "'; quote the whole field (\"...\") and double the quotes inside it");
      i = end;
    }
    out.push_back(std::move(f));
    if (i == line.size()) return out;
    ++i;  // the comma
  }
}

double parse_number(const Field& f, const std::string& column, const std::string& where) {
  const std::string place = where + ":" + std::to_string(f.column);
  RECUR_CHECK(!f.text.empty(), place << ": column '" << column
                                     << "' is empty; expected a number (missing values are not "
                                        "filled in: remove or repair the row)");
  double v = 0;
  const char* first = f.text.data();
  const char* last = first + f.text.size();
  const auto [end, ec] = std::from_chars(first, last, v);
  RECUR_CHECK(ec != std::errc::result_out_of_range, place << ": '" << f.text << "' in column '"
                                                          << column
                                                          << "' is out of the range of a double");
  RECUR_CHECK(ec == std::errc() && end == last,
              place << ": '" << f.text << "' in column '" << column
                    << "' is not a number; expected a plain decimal such as 12.8, -3 or 1e-3 with "
                       "nothing around it");
  RECUR_CHECK(std::isfinite(v), place << ": '" << f.text << "' in column '" << column
                                      << "' is not a finite number; NaN and infinity are refused");
  return v;
}

std::string join(const std::vector<std::string>& names, size_t limit) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > limit) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}

}  // namespace

std::vector<CsvSeries> read_csv_series(const std::string& path, const CsvQuery& q) {
  RECUR_CHECK(!q.columns.empty(), "read_csv_series: no columns asked for from " << path);
  const std::string bytes = read_file_bytes(path);
  std::string_view rest(bytes);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);

  std::vector<std::string> header;
  std::map<std::string, size_t> index;  // header name -> field index
  std::vector<size_t> value_fields;     // the query columns' field indices
  size_t group_field = 0, where_field = 0;
  std::vector<CsvSeries> series;
  std::map<std::string, size_t> series_of;  // group value -> position in `series`
  std::vector<std::string> where_seen;      // distinct values of the where column, for the error
  std::set<std::string> where_seen_set;
  int64_t line_no = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    std::vector<Field> fields = split_line(line, where);
    if (header.empty()) {
      for (const Field& f : fields) {
        RECUR_CHECK(!f.text.empty(),
                    where << ":" << f.column << ": an empty column name in the header");
        RECUR_CHECK(index.emplace(f.text, header.size()).second,
                    where << ":" << f.column << ": column '" << f.text
                          << "' appears twice in the header; expected unique names");
        header.push_back(f.text);
      }
      auto find = [&](const std::string& name, const char* role) {
        auto it = index.find(name);
        RECUR_CHECK(it != index.end(), path << ": no column '" << name << "' (" << role
                                            << "); the header has: " << join(header, 40));
        return it->second;
      };
      std::set<std::string> asked;
      for (const std::string& c : q.columns) {
        RECUR_CHECK(asked.insert(c).second, "column '" << c << "' is asked for twice");
        value_fields.push_back(find(c, "asked for as a value"));
      }
      if (!q.group_by.empty()) group_field = find(q.group_by, "--group-by");
      if (!q.where_column.empty()) where_field = find(q.where_column, "--where");
      continue;
    }
    RECUR_CHECK(fields.size() == header.size(),
                where << ": " << fields.size() << " fields; expected " << header.size()
                      << " as in the header (" << join(header, 40) << ")");
    if (!q.where_column.empty()) {
      const std::string& v = fields[where_field].text;
      if (where_seen_set.insert(v).second) where_seen.push_back(v);
      if (v != q.where_value) continue;
    }
    const std::string group = q.group_by.empty() ? std::string() : fields[group_field].text;
    auto [it, fresh] = series_of.emplace(group, series.size());
    if (fresh) series.push_back(CsvSeries{group, {}, int64_t(q.columns.size()), {}});
    CsvSeries& s = series[it->second];
    s.lines.push_back(line_no);
    for (size_t k = 0; k < value_fields.size(); ++k)
      s.values.push_back(parse_number(fields[value_fields[k]], q.columns[k], where));
  }
  RECUR_CHECK(!header.empty(), path << ": the file is empty; expected a header line and rows");
  RECUR_CHECK(q.where_column.empty() || !series.empty(),
              path << ": no row has " << q.where_column << "=" << q.where_value
                   << "; the values there are: " << join(where_seen, 40));
  RECUR_CHECK(!series.empty(), path << ": a header but no rows");
  return series;
}

std::pair<std::string, std::string> parse_where(const std::string& text) {
  const size_t eq = text.find('=');
  RECUR_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < text.size(),
              "--where '" << text << "': expected COLUMN=VALUE, e.g. symbol=MSFT");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::vector<std::string> split_names(const std::string& text, const std::string& what) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    const size_t end = std::min(text.find(',', i), text.size());
    out.push_back(text.substr(i, end - i));
    RECUR_CHECK(!out.back().empty(),
                what << " '" << text << "': an empty name; expected names separated by commas");
    if (end == text.size()) return out;
    i = end + 1;
  }
}

}  // namespace recur
