// `recur jordan`: a Jordan network (output-to-hidden recurrence) fitted with teacher forcing to the
// logistic map x' = r x (1 - x), then measured teacher-forced and free running (fed its own
// outputs), where its errors feed back: the seeds' open-loop mismatch, made visible.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "commands.h"
#include "recur/train/jordan_trainer.h"

namespace recur::cli {
namespace {

struct JordanArgs {
  double r = 3.7, x0 = 0.3;
  int64_t train = 200, test = 400, horizon = 20, starts = 20;
  JordanSeriesOptions o;
};

void run(const JordanArgs& a) {
  std::vector<double> series{a.x0};
  for (int64_t t = 1; t < a.train + a.test; ++t) series.push_back(a.r * series.back() * (1 - series.back()));
  JordanParams<double> p(JordanConfig{1, a.o.hidden, 1});
  Rng rng(a.o.seed);
  init_jordan(p, rng);
  const JordanSeriesResult res = fit_jordan_series(p, series, a.train, a.horizon, a.starts, a.o);
  std::printf("Jordan network, %lld hidden units, logistic map r = %g, %lld training steps, %lld held out\n",
              (long long)a.o.hidden, a.r, (long long)a.train, (long long)a.test);
  std::printf("teacher-forced (fed the true previous value): NRMSE %.4g\n", res.teacher_nrmse);
  std::printf("free running (fed its own outputs), %lld starts, NRMSE after h steps:\n", (long long)a.starts);
  for (size_t h = 0; h < res.free_nrmse.size(); ++h) std::printf("  h=%-3zu %.4g\n", h + 1, res.free_nrmse[h]);
  std::printf("%.2f s\n", res.seconds);
}

}  // namespace

void add_jordan(CLI::App& app, Action& action) {
  auto a = std::make_shared<JordanArgs>();
  CLI::App* c = app.add_subcommand(
      "jordan",
      "Jordan network on the logistic map: trained with teacher forcing (all steps at once), then "
      "measured teacher-forced and free running, where its own errors feed back.");
  c->add_option("--r", a->r, "Logistic map parameter (3.57..4 is chaotic)")->capture_default_str()->check(CLI::Range(0.0, 4.0));
  c->add_option("--x0", a->x0, "Starting value in (0, 1)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  c->add_option("--train-size", a->train, "Training steps of the series")->capture_default_str()->check(Positive);
  c->add_option("--test-size", a->test, "Held-out steps of the series")->capture_default_str()->check(Positive);
  c->add_option("--horizon", a->horizon, "Free-running steps per start")->capture_default_str()->check(Positive);
  c->add_option("--starts", a->starts, "Free-running starts over the held-out stretch")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--hidden", a->o.hidden, "Hidden units")->capture_default_str()->check(Positive);
  c->add_option("--steps", a->o.steps, "Adam updates")->capture_default_str()->check(Positive);
  c->add_option("--lr", a->o.lr, "Adam learning rate")->capture_default_str()->check(Positive);
  c->add_option("--seed", a->o.seed, "Weight seed")->capture_default_str();
  c->callback([a, &action] {
    check_usage(a->train >= 2, "--train-size must be >= 2, got " + std::to_string(a->train));
    check_usage(a->test > a->horizon, "--test-size " + std::to_string(a->test) +
                                          " must exceed --horizon " + std::to_string(a->horizon));
    action = [a] { run(*a); };
  });
}

}  // namespace recur::cli
