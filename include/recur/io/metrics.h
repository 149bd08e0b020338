// Training metrics as JSON lines: one record per line, appended as a run goes, read back to plot.
//
// A line looks like
//   {"kind":"train","step":100,"tokens":51200,"seconds":3.2,"loss_nats":1.9,"bits_per_token":2.74,
//    "perplexity":6.69,"tokens_per_second":16000,"learning_rate":0.002,"grad_norm":0.83}
// Fields that do not apply (NaN in the struct) are left out of the line and read back as NaN.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace recur {

struct MetricRecord {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

  std::string kind;  // "train" or "val".
  int64_t step = 0;  // Parameter updates done when the record was taken.
  double tokens = kNone;  // Training tokens consumed so far.
  double seconds = kNone;  // Wall-clock training time so far.
  double loss_nats = kNone;  // Mean cross-entropy per token, natural log.
  double bits_per_token = kNone;  // loss_nats / ln 2.
  double perplexity = kNone;  // exp(loss_nats).
  double tokens_per_second = kNone;
  double learning_rate = kNone;
  double grad_norm = kNone;  // Global gradient norm before clipping.
  double accuracy = kNone;  // Classifiers: fraction of examples classified correctly.
};

// Appends `r` to `path` (created if missing) as one line, written with one write call, so that a
// reader sees whole lines and a killed run leaves at most a truncated last line. If the file does
// not end in a newline (a run was killed mid-write), the partial last line is dropped first, or
// completed with a newline if it is a whole record. Not fsynced. Non-finite fields (NaN, and also
// +-inf, which JSON cannot hold) are left out of the line. Throws recur::Error naming the path when
// the kind is empty or the file cannot be written.
void append_metric(const std::string& path, const MetricRecord& r);

// Reads every record of `path` in file order. Blank lines are skipped, unknown fields ignored and
// null fields read as NaN. A malformed line throws recur::Error naming "path:line" and the defect,
// except a malformed last line with no newline after it (a run killed mid-write), which is skipped.
// A missing file is an error; an empty one gives no records.
std::vector<MetricRecord> read_metrics(const std::string& path);

// Rewrites `path` atomically keeping only the records with step <= `step`, byte for byte, in order
// (for a run that resumes from an earlier checkpoint, so that the file holds no step twice). A
// truncated last line is dropped; a malformed line elsewhere throws as read_metrics does and leaves
// the file unchanged. A missing file is left missing.
void truncate_metrics_after(const std::string& path, int64_t step);

}  // namespace recur
