// Training metrics as JSON lines: append one record per line, read them back, drop records after a
// resumed step.
#include "recur/io/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

using nlohmann::json;

// The optional numeric fields, in the order they are written.
struct Field {
  const char* name;
  double MetricRecord::*member;
};
constexpr Field kFields[] = {
    {"tokens", &MetricRecord::tokens},
    {"seconds", &MetricRecord::seconds},
    {"loss_nats", &MetricRecord::loss_nats},
    {"bits_per_token", &MetricRecord::bits_per_token},
    {"perplexity", &MetricRecord::perplexity},
    {"tokens_per_second", &MetricRecord::tokens_per_second},
    {"learning_rate", &MetricRecord::learning_rate},
    {"grad_norm", &MetricRecord::grad_norm},
    {"accuracy", &MetricRecord::accuracy},
};

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string to_line(const MetricRecord& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["kind"] = r.kind;
  j["step"] = r.step;
  for (const Field& f : kFields)
    if (std::isfinite(r.*f.member)) j[f.name] = r.*f.member;
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Parses one line into a record, or returns the defect.
std::optional<MetricRecord> parse_line(std::string_view line, std::string& why) {
  json j;
  try {
    j = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    why = std::string("not valid JSON: ") + e.what();
    return std::nullopt;
  }
  if (!j.is_object()) {
    why = std::string("expected a JSON object, found ") + j.type_name();
    return std::nullopt;
  }
  MetricRecord r;
  const auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string() || kind->get_ref<const std::string&>().empty()) {
    why = "\"kind\" must be a non-empty string";
    return std::nullopt;
  }
  r.kind = kind->get<std::string>();
  const auto step = j.find("step");
  if (step == j.end() || !step->is_number_integer() ||
      (step->is_number_unsigned() && step->get<uint64_t>() > uint64_t(INT64_MAX))) {
    why = "\"step\" must be an integer";
    return std::nullopt;
  }
  r.step = step->get<int64_t>();
  for (const Field& f : kFields) {
    const auto v = j.find(f.name);
    if (v == j.end() || v->is_null()) continue;
    if (!v->is_number()) {
      why = std::string("\"") + f.name + "\" must be a number, found " + v->type_name();
      return std::nullopt;
    }
    r.*f.member = v->get<double>();
  }
  return r;
}

// A record and the bytes [begin, end) of its line, newline included when there is one.
struct Line {
  MetricRecord record;
  size_t begin, end;
};

std::vector<Line> parse_file(const std::string& path, const std::string& bytes) {
  std::vector<Line> out;
  size_t begin = 0;
  for (int64_t number = 1; begin < bytes.size(); ++number) {
    const size_t nl = bytes.find('\n', begin);
    const bool last_unterminated = nl == std::string::npos;
    const size_t end = last_unterminated ? bytes.size() : nl + 1;
    const std::string_view text(bytes.data() + begin, (last_unterminated ? end : nl) - begin);
    if (!is_blank(text)) {
      std::string why;
      std::optional<MetricRecord> r = parse_line(text, why);
      if (r) {
        out.push_back({std::move(*r), begin, end});
      } else if (!last_unterminated) {
        RECUR_FAIL(path << ":" << number << ": bad metrics line: " << why);
      }  // Else a truncated last line from a run killed mid-write: skipped.
    }
    begin = end;
  }
  return out;
}

}  // namespace

void append_metric(const std::string& path, const MetricRecord& r) {
  RECUR_CHECK(!r.kind.empty(), "cannot append to '" << path << "': the record has no kind");
  std::string line = to_line(r);
  Fd f{::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666)};
  RECUR_CHECK(f.fd >= 0, "cannot open '" << path << "' to append: " << std::strerror(errno));
  struct stat st {};
  RECUR_CHECK(::fstat(f.fd, &st) == 0, "cannot stat '" << path << "': " << std::strerror(errno));
  char last = '\n';
  if (st.st_size > 0)
    RECUR_CHECK(::pread(f.fd, &last, 1, st.st_size - 1) == 1,
                "cannot read '" << path << "': " << std::strerror(errno));
  if (last != '\n') {
    // A run was killed mid-write (or the file was edited by hand): keep the tail if it is a whole
    // record, else cut it off so the new line does not get glued to it.
    const std::string bytes = read_file_bytes(path);
    const size_t nl = bytes.rfind('\n');
    const size_t tail = nl == std::string::npos ? 0 : nl + 1;
    const std::string_view text(bytes.data() + tail, bytes.size() - tail);
    std::string why;
    if (is_blank(text) || parse_line(text, why)) {
      line.insert(0, "\n");
    } else {
      RECUR_CHECK(::ftruncate(f.fd, off_t(tail)) == 0,
                  "cannot cut the truncated last line off '" << path
                                                             << "': " << std::strerror(errno));
    }
  }
  const char* p = line.data();
  size_t n = line.size();
  while (n > 0) {  // One write call in practice; a short write (disk full, signal) is continued.
    const ssize_t w = ::write(f.fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    RECUR_CHECK(w > 0, "cannot append to '" << path << "': " << std::strerror(w == 0 ? EIO : errno));
    p += w;
    n -= size_t(w);
  }
  const int fd = std::exchange(f.fd, -1);
  RECUR_CHECK(::close(fd) == 0, "cannot append to '" << path << "': " << std::strerror(errno));
}

std::vector<MetricRecord> read_metrics(const std::string& path) {
  std::vector<MetricRecord> out;
  for (Line& l : parse_file(path, read_file_bytes(path))) out.push_back(std::move(l.record));
  return out;
}

void truncate_metrics_after(const std::string& path, int64_t step) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return;
  const std::string bytes = read_file_bytes(path);
  std::string kept;
  kept.reserve(bytes.size());
  for (const Line& l : parse_file(path, bytes)) {
    if (l.record.step > step) continue;
    kept.append(bytes, l.begin, l.end - l.begin);
    if (kept.back() != '\n') kept += '\n';
  }
  write_file_atomic(path, kept);
}

}  // namespace recur
