#include "recur/train/progress.h"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace recur {

std::string format_duration(double s) {
  char buf[32];
  if (!std::isfinite(s)) return "?";
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) / 60 % 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

void Progress::bar(int64_t step, int64_t total, double loss, const char* unit, double rate,
                   const char* rate_unit, double eta) {
  if (!bar_) return;
  const auto now = std::chrono::steady_clock::now();
  if (step != total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const int width = 24;
  const double frac = total > 0 ? double(step) / double(total) : 0.0;
  std::string b(size_t(width), ' ');
  for (int i = 0; i < int(frac * width); ++i) b[size_t(i)] = '=';
  char line[200];
  std::snprintf(line, sizeof line, "\r[%s] %lld/%lld %3.0f%%  %.3f %s  %.0f %s/s  eta %s\x1b[K",
                b.c_str(), (long long)step, (long long)total, 100 * frac, loss, unit, rate,
                rate_unit, format_duration(eta).c_str());
  out_ << line << std::flush;
  drawn_ = true;
}

void Progress::line(const std::string& s) {
  if (drawn_) out_ << "\r\x1b[K";
  drawn_ = false;
  out_ << s << "\n" << std::flush;
}

}  // namespace recur
