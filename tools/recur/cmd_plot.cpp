// `recur plot`: draws the training and validation bits-per-token curves of a metrics file as SVG.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/io/metrics.h"
#include "recur/io/svg_plot.h"

namespace recur::cli {
namespace {

struct PlotArgs {
  std::string metrics, out, title;
};

void run(const PlotArgs& a) {
  const std::vector<MetricRecord> records = read_metrics(a.metrics);
  RECUR_CHECK(!records.empty(), "'" << a.metrics << "' holds no metric records");
  int64_t train = 0, val = 0;
  for (const MetricRecord& r : records) {
    if (!std::isfinite(r.bits_per_token)) continue;
    train += r.kind == "train";
    val += r.kind == "val";
  }
  RECUR_CHECK(train + val > 0, "'" << a.metrics << "' holds " << records.size() << " metric record"
                                   << (records.size() == 1 ? "" : "s")
                                   << " but no train or val record has a bits_per_token value; "
                                      "nothing to plot");
  plot_training_curves(records, a.out, a.title.empty() ? a.metrics : a.title);
  std::printf("plotted %lld train and %lld validation points from %s to %s\n", (long long)train,
              (long long)val, a.metrics.c_str(), a.out.c_str());
}

}  // namespace

void add_plot(CLI::App& app, Action& action) {
  auto a = std::make_shared<PlotArgs>();
  CLI::App* c = app.add_subcommand(
      "plot",
      "Plot training and validation bits per token against step from a metrics file (JSON lines, "
      "as written during training) to an SVG image.");
  c->add_option("--metrics", a->metrics, "Metrics file (.jsonl)")->required();
  c->add_option("--out", a->out, "Write the plot here (.svg)")->required();
  c->add_option("--title", a->title, "Plot title (default: the metrics file name)");
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
