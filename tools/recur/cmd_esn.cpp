// `recur esn`: builds an Echo State Network, fits its ridge readout on a task, and reports the
// held-out NRMSE; `recur run-esn` runs a saved one on new inputs.
//   narma10       driven: read u(t), predict y(t+1); NRMSE over the test stretch, the reservoir
//                 carried on from the end of training
//   mackey-glass  autonomous generator with output feedback: fitted with the true series fed back
//                 (teacher forcing); each test trial teacher-forces --warmup steps of the held-out
//                 stretch from a zero state, then runs free for --horizon steps on its own outputs.
//                 Reported: NRMSE at the horizon's last step over the trials (Jaeger & Haas
//                 2004's NRMSE84) and over all horizon steps. The series is z-scored with the
//                 training part's mean and deviation.
//   npy           --inputs U.npy (T,K) and --targets Y.npy (T,L); the last --test-fraction of the
//                 steps is the test stretch, run driven (teacher-forced where there is feedback)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/data/synthetic.h"
#include "recur/io/npy.h"
#include "recur/models/esn.h"

namespace recur::cli {
namespace {

struct EsnArgs {
  std::string task = "narma10", inputs_path, targets_path, out_path;
  EsnConfig config;
  EsnFitOptions fit;
  int64_t train = 5000, test = 2000, horizon = 84, trials = 20, warmup = 300;
  double test_fraction = 0.2;
  uint64_t data_seed = 11;
  bool json = false;
  bool feedback_given = false, bias_given = false;  // set on the command line
};

Tensor<double> column(const std::vector<double>& v, int64_t from, int64_t count) {
  return Tensor<double>({count, 1}, std::vector<double>(v.begin() + from, v.begin() + from + count));
}

struct Report {
  double train_nrmse = 0, test_nrmse = 0, horizon_nrmse = 0;
  int64_t test_steps = 0;
};

// Driven test: the reservoir carries on from the end of training through `U_test`.
double driven_test(const Esn& m, EsnState& state, const Tensor<double>& U, const Tensor<double>& Y) {
  const Tensor<double> P = esn_run(m, state, U, m.w_back.empty() ? nullptr : &Y);
  return nrmse(P, Y);
}

Report mackey_glass_task(Esn& m, const EsnArgs& a) {
  std::vector<double> s = mackey_glass(a.train + a.test);
  double mean = 0, var = 0;
  for (int64_t t = 0; t < a.train; ++t) mean += s[size_t(t)];
  mean /= double(a.train);
  for (int64_t t = 0; t < a.train; ++t) var += (s[size_t(t)] - mean) * (s[size_t(t)] - mean);
  const double sd = std::sqrt(var / double(a.train));
  for (double& v : s) v = (v - mean) / sd;
  const Tensor<double> Y = column(s, 0, a.train);
  Report r;
  r.train_nrmse = esn_fit(m, Tensor<double>({a.train, 0}), Y, a.fit).train_nrmse;
  // Trials spread evenly over the held-out stretch.
  const int64_t span = a.test - a.warmup - a.horizon;
  double last_se = 0, all_se = 0, var_test = 0, mean_test = 0;
  for (int64_t t = 0; t < a.test; ++t) mean_test += s[size_t(a.train + t)];
  mean_test /= double(a.test);
  for (int64_t t = 0; t < a.test; ++t)
    var_test += (s[size_t(a.train + t)] - mean_test) * (s[size_t(a.train + t)] - mean_test);
  var_test /= double(a.test);
  for (int64_t i = 0; i < a.trials; ++i) {
    const int64_t start = a.train + (a.trials > 1 ? span * i / (a.trials - 1) : 0);
    EsnState st = esn_zero_state(m);
    const Tensor<double> warm = column(s, start, a.warmup);
    esn_run(m, st, Tensor<double>({a.warmup, 0}), &warm);
    const Tensor<double> P = esn_run(m, st, Tensor<double>({a.horizon, 0}));
    for (int64_t h = 0; h < a.horizon; ++h) {
      const double e = P[h] - s[size_t(start + a.warmup + h)];
      all_se += e * e;
      if (h == a.horizon - 1) last_se += e * e;
    }
  }
  r.test_nrmse = std::sqrt(last_se / double(a.trials) / var_test);
  r.horizon_nrmse = std::sqrt(all_se / double(a.trials * a.horizon) / var_test);
  r.test_steps = a.trials * a.horizon;
  return r;
}

Report narma10_task(Esn& m, const EsnArgs& a) {
  const Narma10 d = narma10(a.train + a.test, a.data_seed);
  Report r;
  EsnFitResult fit = esn_fit(m, column(d.u, 0, a.train), column(d.y, 0, a.train), a.fit);
  r.train_nrmse = fit.train_nrmse;
  r.test_nrmse = driven_test(m, fit.state, column(d.u, a.train, a.test), column(d.y, a.train, a.test));
  r.test_steps = a.test;
  return r;
}

Tensor<double> rows(const Tensor<double>& X, int64_t from, int64_t count) {
  const int64_t w = X.dim(1);
  return Tensor<double>({count, w}, std::vector<double>(X.data.begin() + from * w,
                                                        X.data.begin() + (from + count) * w));
}

struct Sequences {
  Tensor<double> U, Y;  // (T,K), (T,L)
};

Sequences read_npy_task(const EsnArgs& a) {
  RECUR_CHECK(!a.inputs_path.empty() && !a.targets_path.empty(),
              "--task npy needs --inputs U.npy (T,K) and --targets Y.npy (T,L)");
  Tensor<double> U = load_npy<double>(a.inputs_path), Y = load_npy<double>(a.targets_path);
  if (U.rank() == 1) U.shape = {U.dim(0), 1};
  if (Y.rank() == 1) Y.shape = {Y.dim(0), 1};
  RECUR_CHECK(U.rank() == 2 && Y.rank() == 2 && U.dim(0) == Y.dim(0),
              "'" << a.inputs_path << "' " << U.shape_string() << " and '" << a.targets_path << "' "
                  << Y.shape_string() << ": expected (T,K) and (T,L) with the same T");
  check_finite(U, "'" + a.inputs_path + "'");
  check_finite(Y, "'" + a.targets_path + "'");
  return {std::move(U), std::move(Y)};
}

Report npy_task(Esn& m, const EsnArgs& a, const Sequences& d) {
  const Tensor<double>& U = d.U;
  const Tensor<double>& Y = d.Y;
  const int64_t T = U.dim(0), test = int64_t(std::floor(double(T) * a.test_fraction));
  RECUR_CHECK(test >= 1 && T - test > a.fit.washout,
              "'" << a.inputs_path << "' has " << T << " steps: too few for a test fraction of "
                  << a.test_fraction << " and a washout of " << a.fit.washout);
  Report r;
  EsnFitResult fit = esn_fit(m, rows(U, 0, T - test), rows(Y, 0, T - test), a.fit);
  r.train_nrmse = fit.train_nrmse;
  r.test_nrmse = driven_test(m, fit.state, rows(U, T - test, test), rows(Y, T - test, test));
  r.test_steps = test;
  return r;
}

void run_esn_task(EsnArgs a) {
  if (a.task == "mackey-glass") {
    // An autonomous generator: no inputs, its own output fed back, and a bias to break the
    // reservoir's odd symmetry (tanh(-z) = -tanh(z)). Defaults measured in docs/esn.md.
    a.config.inputs = 0;
    if (!a.feedback_given) a.config.feedback_scaling = 0.3;
    if (!a.bias_given) a.config.bias_scaling = 0.2;
  }
  Sequences data;
  if (a.task == "npy") {
    data = read_npy_task(a);
    a.config.inputs = data.U.dim(1);
    a.config.outputs = data.Y.dim(1);
  }
  const auto t0 = std::chrono::steady_clock::now();
  Esn m = make_esn(a.config);
  // Scaled by its exact radius, the reservoir's radius is the configured one; after power-iteration
  // scaling the report measures the exact value (one dense eigen-solve) to show how close it came.
  const double radius =
      a.config.radius_method == "exact" ? a.config.spectral_radius : reservoir_radius_exact(m.w);
  Report r = a.task == "narma10"        ? narma10_task(m, a)
             : a.task == "mackey-glass" ? mackey_glass_task(m, a)
                                        : npy_task(m, a, data);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const EsnConfig& c = m.config;
  if (a.json) {
    std::printf(
        "{\"task\": \"%s\", \"units\": %lld, \"nonzeros\": %zu, \"spectral_radius\": %.6f, "
        "\"train_nrmse\": %.6g, \"test_nrmse\": %.6g, \"horizon_nrmse\": %.6g, \"seconds\": %.3f}\n",
        a.task.c_str(), (long long)c.units, m.w.value.size(), radius, r.train_nrmse, r.test_nrmse,
        r.horizon_nrmse, seconds);
  } else {
    std::printf("ESN %lld units, %zu reservoir weights (%.2f%%), spectral radius %.4f, leak %.3g%s\n",
                (long long)c.units, m.w.value.size(),
                100.0 * double(m.w.value.size()) / double(c.units * c.units), radius, c.leak_rate,
                m.w_back.empty() ? "" : ", output feedback");
    std::printf("%s: train NRMSE %.4g (%lld fitted steps, washout %lld, ridge %.3g)\n", a.task.c_str(),
                r.train_nrmse, (long long)(a.task == "npy" ? 0 : a.train - a.fit.washout),
                (long long)a.fit.washout, a.fit.ridge);
    if (a.task == "mackey-glass")
      std::printf("free running, %lld trials: NRMSE at step %lld %.4g (log10 %.2f), over steps "
                  "1..%lld %.4g\n",
                  (long long)a.trials, (long long)a.horizon, r.test_nrmse, std::log10(r.test_nrmse),
                  (long long)a.horizon, r.horizon_nrmse);
    else
      std::printf("test NRMSE %.4g over %lld held-out steps\n", r.test_nrmse, (long long)r.test_steps);
    std::printf("%.2f s\n", seconds);
  }
  if (!a.out_path.empty()) save_esn(a.out_path, m, {{"trained_on", a.task}});
}

struct RunArgs {
  std::string model, inputs, out;
  int64_t generate = 0;
};

void run_saved(const RunArgs& a) {
  const Esn m = load_esn(a.model);
  Tensor<double> U;
  if (!a.inputs.empty()) {
    U = load_npy<double>(a.inputs);
    if (U.rank() == 1) U.shape = {U.dim(0), m.config.inputs == 1 ? 1 : 0};
  } else {
    RECUR_CHECK(m.config.inputs == 0 && a.generate > 0,
                "'" << a.model << "' reads " << m.config.inputs
                    << " inputs per step: give --inputs U.npy (T,K)");
    U = Tensor<double>({a.generate, 0});
  }
  EsnState state = esn_zero_state(m);
  const Tensor<double> Y = esn_run(m, state, U);
  save_npy(a.out, Y);
  std::printf("wrote %s %s\n", a.out.c_str(), Y.shape_string().c_str());
}

}  // namespace

void add_esn(CLI::App& app, Action& action) {
  auto a = std::make_shared<EsnArgs>();
  CLI::App* c = app.add_subcommand(
      "esn",
      "Echo State Network: build a sparse random reservoir scaled to a spectral radius, fit the "
      "linear readout by ridge regression (Cholesky, LAPACK), and report the held-out NRMSE on "
      "NARMA10 (driven), Mackey-Glass tau=17 (free-running generator with output feedback), or "
      "your own .npy sequences.");
  c->add_option("--task", a->task, "narma10, mackey-glass or npy")
      ->capture_default_str()
      ->check(CLI::IsMember({"narma10", "mackey-glass", "npy"}));
  c->add_option("--inputs", a->inputs_path, "npy task: inputs U (T,K)")->check(CLI::ExistingFile);
  c->add_option("--targets", a->targets_path, "npy task: targets Y (T,L)")->check(CLI::ExistingFile);
  c->add_option("--test-fraction", a->test_fraction, "npy task: last fraction held out")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  EsnConfig& e = a->config;
  c->add_option("--units", e.units, "Reservoir units N")->capture_default_str()->check(Positive);
  c->add_option("--connectivity", e.connectivity, "Fraction of nonzero reservoir weights")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 1.0));
  c->add_option("--spectral-radius", e.spectral_radius, "Scale W to this spectral radius")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--radius", e.radius_method, "How W's radius is measured for scaling: exact or power")
      ->capture_default_str()
      ->check(CLI::IsMember({"exact", "power"}));
  c->add_option("--input-scaling", e.input_scaling, "W_in uniform in [-s, s]")
      ->capture_default_str()
      ->check(NonNegative);
  CLI::Option* bias =
      c->add_option("--bias-scaling", e.bias_scaling,
                    "Bias column of W_in uniform in [-b, b] (mackey-glass defaults to 0.2)")
          ->capture_default_str()
          ->check(NonNegative);
  c->add_option("--leak-rate", e.leak_rate, "a in x = (1-a) x + a tanh(...)")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 1.0));
  CLI::Option* feedback =
      c->add_option("--feedback-scaling", e.feedback_scaling,
                    "W_back uniform in [-f, f] (0: no output feedback; mackey-glass defaults to 0.3)")
          ->capture_default_str()
          ->check(NonNegative);
  c->add_flag("!--no-readout-input", e.readout_input, "The readout does not see the input");
  c->add_flag("--readout-output", e.readout_output, "The readout also sees y(t-1)");
  c->add_option("--seed", e.seed, "Reservoir seed")->capture_default_str();
  c->add_option("--ridge", a->fit.ridge, "Ridge (Tikhonov) regularisation")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--washout", a->fit.washout, "Initial steps left out of the fit")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--teacher-noise", a->fit.teacher_noise, "Uniform noise on the fed-back teacher")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--train-size", a->train, "Training steps (narma10, mackey-glass)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--test-size", a->test, "Held-out steps (narma10, mackey-glass)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--data-seed", a->data_seed, "narma10: seed of the input sequence")->capture_default_str();
  c->add_option("--horizon", a->horizon, "mackey-glass: free-running steps per trial")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--trials", a->trials, "mackey-glass: trials over the held-out stretch")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--warmup", a->warmup, "mackey-glass: teacher-forced steps before each trial")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--out", a->out_path, "Write the fitted ESN (safetensors)");
  c->add_flag("--json", a->json, "Print one JSON line instead of the report");
  c->callback([a, bias, feedback, &action] {
    check_usage(a->task != "mackey-glass" || a->test >= a->warmup + a->horizon,
                "--test-size " + std::to_string(a->test) + " must cover --warmup + --horizon (" +
                    std::to_string(a->warmup + a->horizon) + ")");
    check_usage(a->task != "npy" || (!a->inputs_path.empty() && !a->targets_path.empty()),
                "--task npy needs --inputs U.npy (T,K) and --targets Y.npy (T,L)");
    a->bias_given = bias->count() > 0;
    a->feedback_given = feedback->count() > 0;
    action = [a] { run_esn_task(*a); };
  });

  auto r = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand(
      "run-esn", "Run a saved ESN from a zero state on inputs (or free, for a generator) to .npy.");
  run->add_option("--model", r->model, "ESN model (recur esn --out)")->required()->check(CLI::ExistingFile);
  run->add_option("--inputs", r->inputs, "Inputs U (T,K) .npy")->check(CLI::ExistingFile);
  run->add_option("--generate", r->generate, "Free-running steps for a model without inputs")
      ->check(Positive);
  run->add_option("--out", r->out, "Outputs Y (T,L) .npy")->required();
  run->callback([r, &action] { action = [r] { run_saved(*r); }; });
}

}  // namespace recur::cli
