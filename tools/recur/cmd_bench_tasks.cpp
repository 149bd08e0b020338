// `recur bench-tasks`: the long-range memory suite (recur/train/long_range.h). For each task, model
// and delay T: train until solved or out of budget; print the table of what solves which length,
// write every result as a JSON line, and draw each task's gradient flow at initialisation.
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/io/file.h"
#include "recur/io/svg_plot.h"
#include "recur/train/long_range.h"

namespace recur::cli {
namespace {

struct TasksArgs {
  std::vector<std::string> tasks{"adding", "copy"};
  std::vector<std::string> models{"tanh", "irnn", "lstm", "gru", "leaky", "clockwork", "esn"};
  std::vector<int64_t> lengths{50, 100, 200, 400, 1000};
  LongRangeOptions o;
  std::string out, svg_prefix;
  int64_t flow_length = 200;
  int threads = 0;
};

std::string cell(LongRangeTask task, const LongRangeResult& r) {
  char buf[64];
  if (task == LongRangeTask::adding)
    std::snprintf(buf, sizeof buf, "%s %.3g", r.solved ? "yes" : "no ", r.metric);
  else
    std::snprintf(buf, sizeof buf, "%s %.0f%%", r.solved ? "yes" : "no ", 100 * r.metric);
  return buf;
}

void draw_flows(const TasksArgs& a, LongRangeTask task) {
  PlotSpec spec{std::string(long_range_task_name(task)) + ", T = " + std::to_string(a.flow_length) +
                    ": log10 ||dL/dh_k|| at initialisation (unit-norm dL/dh at the last step)",
                "step k", "log10 gradient norm", {}};
  for (const std::string& name : a.models) {
    const LongRangeModel m = parse_long_range_model(name);
    if (m == LongRangeModel::clockwork || m == LongRangeModel::esn || m == LongRangeModel::skip ||
        m == LongRangeModel::deep)
      continue;
    const GradientFlow f = long_range_initial_flow(m, task, a.flow_length, a.o);
    Series s{name, {}, {}, false};
    for (size_t k = 0; k < f.grad_h.size(); ++k) {
      s.x.push_back(double(k));
      s.y.push_back(f.grad_h[k] > 0 ? std::log10(f.grad_h[k]) : std::nan(""));
    }
    spec.series.push_back(std::move(s));
  }
  const std::string path = a.svg_prefix + "-" + long_range_task_name(task) + ".svg";
  write_file_atomic(path, render_svg(spec));
  std::printf("wrote %s\n", path.c_str());
}

void run(const TasksArgs& a) {
  set_num_threads(a.threads);
  std::string jsonl;
  for (const std::string& tname : a.tasks) {
    const LongRangeTask task = parse_long_range_task(tname);
    std::printf("\n%s: %s; H = %lld, batch %lld, Adam lr %g, clip %g, at most %lld updates or %g s\n",
                tname.c_str(),
                task == LongRangeTask::adding ? "solved = test MSE < 0.01 (mean predictor 0.167)"
                                              : "solved = >= 90% of recalled symbols right (chance 12.5%)",
                (long long)a.o.hidden, (long long)a.o.batch, a.o.lr, a.o.clip, (long long)a.o.max_steps,
                a.o.budget_seconds);
    std::printf("%-10s", "model");
    for (int64_t T : a.lengths) std::printf(" | T=%-14lld", (long long)T);
    std::printf("\n");
    for (const std::string& mname : a.models) {
      const LongRangeModel model = parse_long_range_model(mname);
      std::printf("%-10s", mname.c_str());
      std::fflush(stdout);
      for (int64_t T : a.lengths) {
        const LongRangeResult r = run_long_range(model, task, T, a.o);
        std::printf(" | %-16s", cell(task, r).c_str());
        std::fflush(stdout);
        std::ostringstream os;
        os.precision(6);
        os << "{\"task\": \"" << tname << "\", \"model\": \"" << mname << "\", \"T\": " << T
           << ", \"solved\": " << (r.solved ? "true" : "false") << ", \"metric\": " << r.metric
           << ", \"updates\": " << r.steps << ", \"seconds\": " << r.seconds << ", \"curve\": [";
        for (size_t i = 0; i < r.curve.size(); ++i)
          os << (i ? ", " : "") << "[" << r.curve[i].first << ", " << r.curve[i].second << "]";
        os << "]}\n";
        jsonl += os.str();
        if (!a.out.empty()) write_file_atomic(a.out, jsonl);
      }
      std::printf("\n");
    }
    if (!a.svg_prefix.empty()) draw_flows(a, task);
  }
}

}  // namespace

void add_bench_tasks(CLI::App& app, Action& action) {
  auto a = std::make_shared<TasksArgs>();
  CLI::App* c = app.add_subcommand(
      "bench-tasks",
      "Long-range memory suite: the adding problem and the copy task at growing delays, for the "
      "tanh RNN, IRNN, LSTM, GRU, leaky RNN, clockwork RNN and ESN; a table of which solves which "
      "length within the budget, JSON lines of every run, and the gradient flow at "
      "initialisation as SVG.");
  c->add_option("--tasks", a->tasks, "adding, copy")->delimiter(',')->capture_default_str();
  c->add_option("--models", a->models, "tanh, irnn, lstm, gru, leaky, clockwork, esn, skip, deep, lnlstm")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--seq-lens", a->lengths, "Delays T, comma-separated (each >= 2)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--hidden", a->o.hidden, "Hidden units of the trained models")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--batch", a->o.batch, "Sequences per update")->capture_default_str()->check(Positive);
  c->add_option("--max-steps", a->o.max_steps, "Update budget per run")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--budget", a->o.budget_seconds, "Time budget per run, seconds")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--eval-every", a->o.eval_every, "Updates between test evaluations")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--test-sequences", a->o.test_sequences, "Fixed test sequences")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--lr", a->o.lr, "Adam learning rate")->capture_default_str()->check(Positive);
  c->add_option("--clip", a->o.clip, "Gradient norm clip (0: off)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--esn-units", a->o.esn_units, "ESN reservoir units")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--esn-train", a->o.esn_train_sequences, "ESN: sequences for the ridge fit")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--seed", a->o.seed, "Seed of weights and data")->capture_default_str();
  add_threads_option(c, a->threads);
  c->add_option("--out", a->out, "Write every run as a JSON line");
  c->add_option("--svg-prefix", a->svg_prefix, "Draw <prefix>-<task>.svg: gradient flow at initialisation");
  c->add_option("--flow-length", a->flow_length, "T of the gradient-flow drawing")
      ->capture_default_str()
      ->check(Positive);
  c->callback([a, &action] {
    // parse_* throw recur::Error on an unknown name; app.cpp reports it as a usage error.
    for (const auto& t : a->tasks) parse_long_range_task(t);
    for (const auto& m : a->models) parse_long_range_model(m);
    for (int64_t T : a->lengths)
      check_usage(T >= 2, "--seq-lens: every delay must be >= 2, got " + std::to_string(T));
    action = [a] { run(*a); };
  });
}

}  // namespace recur::cli
