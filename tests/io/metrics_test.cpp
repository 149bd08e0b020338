// Metrics JSON lines: round trips, omitted NaN fields, malformed and truncated lines, truncation.
#include "recur/io/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/io/file.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;

class MetricsTest : public testing::ScratchDirTest {
 protected:
  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(Path(name), std::ios::binary) << bytes;
  }
};

MetricRecord Train(int64_t step, double bpt) {
  MetricRecord r;
  r.kind = "train";
  r.step = step;
  r.tokens = double(step) * 512;
  r.seconds = 0.1 * double(step);
  r.loss_nats = bpt * std::log(2.0);
  r.bits_per_token = bpt;
  r.perplexity = std::exp(r.loss_nats);
  r.tokens_per_second = 5120.25;
  r.learning_rate = 2e-3;
  r.grad_norm = 0.8312345678901234;
  return r;
}

MetricRecord Val(int64_t step, double bpt) {
  MetricRecord r;
  r.kind = "val";
  r.step = step;
  r.loss_nats = bpt * std::log(2.0);
  r.bits_per_token = bpt;
  r.perplexity = std::exp(r.loss_nats);
  r.accuracy = 0.8125;
  return r;
}

void ExpectSame(double a, double b) {
  if (std::isnan(a))
    EXPECT_TRUE(std::isnan(b)) << b;
  else
    EXPECT_EQ(a, b);  // Exact: the JSON numbers are written with round-trip precision.
}

void ExpectSame(const MetricRecord& a, const MetricRecord& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.step, b.step);
  ExpectSame(a.tokens, b.tokens);
  ExpectSame(a.seconds, b.seconds);
  ExpectSame(a.loss_nats, b.loss_nats);
  ExpectSame(a.bits_per_token, b.bits_per_token);
  ExpectSame(a.perplexity, b.perplexity);
  ExpectSame(a.tokens_per_second, b.tokens_per_second);
  ExpectSame(a.learning_rate, b.learning_rate);
  ExpectSame(a.grad_norm, b.grad_norm);
  ExpectSame(a.accuracy, b.accuracy);
}

TEST_F(MetricsTest, RoundTripsRecordsExactlyAndInOrder) {
  const std::vector<MetricRecord> in = {Train(1, 6.123456789), Train(2, 5.5), Val(2, 5.75),
                                        Train(3, 4.0 / 3.0), Train(int64_t(1) << 40, 1e-300)};
  for (const MetricRecord& r : in) append_metric(Path("m.jsonl"), r);
  const std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) ExpectSame(in[i], out[i]);
  // One line per record, each ending in a newline.
  const std::string bytes = read_file_bytes(Path("m.jsonl"));
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), int64_t(in.size()));
  EXPECT_EQ(bytes.back(), '\n');
}

TEST_F(MetricsTest, NonFiniteFieldsAreOmittedAndReadBackAsNaN) {
  MetricRecord r;
  r.kind = "val";
  r.step = 7;
  r.loss_nats = 1.75;
  r.bits_per_token = 2.5;
  r.perplexity = 5.75;
  r.grad_norm = std::numeric_limits<double>::infinity();
  r.learning_rate = -std::numeric_limits<double>::infinity();
  append_metric(Path("m.jsonl"), r);
  const std::string line = read_file_bytes(Path("m.jsonl"));
  EXPECT_EQ(line,
            "{\"kind\":\"val\",\"step\":7,\"loss_nats\":1.75,\"bits_per_token\":2.5,"
            "\"perplexity\":5.75}\n");
  for (const char* absent : {"tokens", "seconds", "tokens_per_second", "learning_rate",
                             "grad_norm", "null", "NaN", "nan", "inf"})
    EXPECT_EQ(line.find(absent), std::string::npos) << absent << " in " << line;
  const std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::isnan(out[0].tokens));
  EXPECT_TRUE(std::isnan(out[0].grad_norm));
  EXPECT_EQ(out[0].bits_per_token, 2.5);
}

TEST_F(MetricsTest, ReadsHandWrittenLinesWithNullsBlanksAndUnknownFields) {
  Write("m.jsonl",
        "{\"kind\":\"train\",\"step\":1,\"bits_per_token\":3,\"grad_norm\":null,\"extra\":[1]}\n"
        "\n"
        "  {\"step\": 2, \"kind\": \"val\", \"bits_per_token\": 2.5e0}  \r\n");
  const std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, "train");
  EXPECT_EQ(out[0].bits_per_token, 3.0);
  EXPECT_TRUE(std::isnan(out[0].grad_norm));
  EXPECT_EQ(out[1].kind, "val");
  EXPECT_EQ(out[1].step, 2);
  EXPECT_EQ(out[1].bits_per_token, 2.5);
}

TEST_F(MetricsTest, EmptyFileHasNoRecordsAndMissingFileIsAnError) {
  Write("empty.jsonl", "");
  EXPECT_TRUE(read_metrics(Path("empty.jsonl")).empty());
  EXPECT_RECUR_ERROR(read_metrics(Path("missing.jsonl")), Path("missing.jsonl"));
}

TEST_F(MetricsTest, MalformedMiddleLineIsAnErrorNamingFileAndLine) {
  const std::string good = "{\"kind\":\"train\",\"step\":1,\"bits_per_token\":3}\n";
  Write("json.jsonl", good + good + "{\"kind\":\"train\",\"step\":3,\"bits\n" + good);
  EXPECT_RECUR_ERROR(read_metrics(Path("json.jsonl")), Path("json.jsonl") + ":3:", "JSON");
  Write("step.jsonl", good + "{\"kind\":\"train\",\"step\":2.5}\n" + good);
  EXPECT_RECUR_ERROR(read_metrics(Path("step.jsonl")), Path("step.jsonl") + ":2:", "step");
  Write("kind.jsonl", "{\"step\":1}\n" + good);
  EXPECT_RECUR_ERROR(read_metrics(Path("kind.jsonl")), Path("kind.jsonl") + ":1:", "kind");
  Write("type.jsonl", good + "\n" + "{\"kind\":\"val\",\"step\":1,\"perplexity\":\"big\"}\n");
  EXPECT_RECUR_ERROR(read_metrics(Path("type.jsonl")), Path("type.jsonl") + ":3:", "perplexity");
  Write("array.jsonl", "[1, 2]\n");
  EXPECT_RECUR_ERROR(read_metrics(Path("array.jsonl")), Path("array.jsonl") + ":1:", "object");
}

TEST_F(MetricsTest, TruncatedLastLineIsSkipped) {
  append_metric(Path("m.jsonl"), Train(1, 3.0));
  append_metric(Path("m.jsonl"), Train(2, 2.0));
  const std::string whole = read_file_bytes(Path("m.jsonl"));
  const std::string line2 = whole.substr(whole.find('\n') + 1);
  // Every cut inside the second line leaves one record; the whole file leaves two.
  for (size_t cut = 0; cut < line2.size(); ++cut) {
    Write("m.jsonl", whole.substr(0, whole.size() - line2.size() + cut));
    const std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
    ASSERT_EQ(out.size(), cut + 1 == line2.size() ? 2u : 1u) << "cut at " << cut;
    EXPECT_EQ(out[0].step, 1);
  }
  // A malformed last line that does end in a newline was written whole: that is an error.
  Write("m.jsonl", whole + "{\"kind\":\n");
  EXPECT_RECUR_ERROR(read_metrics(Path("m.jsonl")), Path("m.jsonl") + ":3:");
}

TEST_F(MetricsTest, AppendAfterTruncatedLineDropsThePartialLine) {
  append_metric(Path("m.jsonl"), Train(1, 3.0));
  std::ofstream(Path("m.jsonl"), std::ios::app) << "{\"kind\":\"train\",\"st";
  append_metric(Path("m.jsonl"), Train(2, 2.0));
  std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].step, 2);
  // A whole record without its newline (a hand edit) is kept.
  Write("h.jsonl", "{\"kind\":\"val\",\"step\":5}");
  append_metric(Path("h.jsonl"), Val(6, 1.0));
  out = read_metrics(Path("h.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].step, 5);
  EXPECT_EQ(out[1].step, 6);
}

TEST_F(MetricsTest, AppendRejectsEmptyKindAndUnwritablePath) {
  EXPECT_RECUR_ERROR(append_metric(Path("m.jsonl"), MetricRecord{}), Path("m.jsonl"), "kind");
  EXPECT_RECUR_ERROR(append_metric(Path("no/such/dir/m.jsonl"), Train(1, 1.0)),
                     Path("no/such/dir/m.jsonl"));
}

TEST_F(MetricsTest, TruncateAfterKeepsRecordsUpToTheStep) {
  for (int64_t s = 1; s <= 6; ++s) {
    append_metric(Path("m.jsonl"), Train(s, 7.0 - double(s)));
    if (s % 2 == 0) append_metric(Path("m.jsonl"), Val(s, 7.5 - double(s)));
  }
  std::ofstream(Path("m.jsonl"), std::ios::app) << "{\"kind\":\"val\",";  // Killed mid-write.
  truncate_metrics_after(Path("m.jsonl"), 4);
  const std::vector<MetricRecord> out = read_metrics(Path("m.jsonl"));
  std::vector<std::pair<std::string, int64_t>> got;
  for (const MetricRecord& r : out) got.emplace_back(r.kind, r.step);
  const std::vector<std::pair<std::string, int64_t>> want = {
      {"train", 1}, {"train", 2}, {"val", 2}, {"train", 3}, {"train", 4}, {"val", 4}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(read_file_bytes(Path("m.jsonl")).back(), '\n');
  ExpectSame(out[5], Val(4, 3.5));
  // Appending after the truncation continues the file; truncating past the end changes nothing.
  append_metric(Path("m.jsonl"), Train(5, 1.5));
  const std::string before = read_file_bytes(Path("m.jsonl"));
  truncate_metrics_after(Path("m.jsonl"), 100);
  EXPECT_EQ(read_file_bytes(Path("m.jsonl")), before);
  truncate_metrics_after(Path("m.jsonl"), 0);
  EXPECT_EQ(read_file_bytes(Path("m.jsonl")), "");
  // No leftover temporary files.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(MetricsTest, TruncateLeavesMissingFileMissingAndMalformedFileUnchanged) {
  truncate_metrics_after(Path("missing.jsonl"), 3);
  EXPECT_FALSE(fs::exists(Path("missing.jsonl")));
  const std::string bad = "{\"kind\":\"train\",\"step\":1}\nnot json\n{\"kind\":\"train\",\"step\":9}\n";
  Write("bad.jsonl", bad);
  EXPECT_RECUR_ERROR(truncate_metrics_after(Path("bad.jsonl"), 3), Path("bad.jsonl") + ":2:");
  EXPECT_EQ(read_file_bytes(Path("bad.jsonl")), bad);
}

}  // namespace
}  // namespace recur
