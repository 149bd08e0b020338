// What every trainer prints while it runs: one line redrawn in place on a terminal (a progress bar
// with the rate and the time left), or plain lines when the output is a file or a pipe.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace recur {

// "12.3s", "4m05s", "2h07m"; "?" for a non-finite value.
std::string format_duration(double seconds);

class Progress {
 public:
  Progress(std::ostream& out, bool bar) : out_(out), bar_(bar) {}
  // Redraws the bar (at most every 100 ms, and always at step == total): step/total, the running
  // loss in `unit`, the rate in `rate_unit` per second and the time left. No-op without a terminal.
  void bar(int64_t step, int64_t total, double loss, const char* unit, double rate,
           const char* rate_unit, double eta_seconds);
  // Prints a whole line (clearing the bar first).
  void line(const std::string& s);
  bool is_bar() const { return bar_; }

 private:
  std::ostream& out_;
  bool bar_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace recur
