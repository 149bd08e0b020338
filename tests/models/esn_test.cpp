// The Echo State Network: the reservoir is scaled to the spectral radius asked for, its update is
// the stated equation, the ridge readout is the least-squares solution, and it reaches its
// measured accuracy on NARMA10 and free-running Mackey-Glass at a small size.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "recur/core/rng.h"
#include "recur/data/synthetic.h"
#include "recur/io/file.h"
#include "recur/io/safetensors.h"
#include "recur/models/esn.h"
#include "scratch_dir.h"

namespace recur {
namespace {

Tensor<double> column(const std::vector<double>& v, int64_t from, int64_t count) {
  return Tensor<double>({count, 1}, std::vector<double>(v.begin() + from, v.begin() + from + count));
}

TEST(Esn, ReservoirHasTheRequestedRadiusAndDensity) {
  EsnConfig c;
  c.units = 300;
  c.connectivity = 0.03;
  c.spectral_radius = 0.85;
  const Esn m = make_esn(c);
  EXPECT_NEAR(reservoir_radius_exact(m.w), 0.85, 1e-9);
  const double density = double(m.w.value.size()) / double(c.units * c.units);
  EXPECT_NEAR(density, 0.03, 0.006);
  // Scaling by power iteration lands within a few percent of the target.
  c.radius_method = "power";
  EXPECT_NEAR(reservoir_radius_exact(make_esn(c).w), 0.85, 0.03);
  // The same seed builds the same reservoir.
  EXPECT_EQ(make_esn(c).w.value, make_esn(c).w.value);
}

TEST(Esn, PowerIterationMatchesEigenvaluesOnRandomMatrices) {
  for (uint64_t seed : {1, 2, 3}) {
    Rng rng(seed);
    Tensor<double> A({120, 120});
    for (auto& v : A.data)
      if (rng.bernoulli(0.1)) v = rng.normal();
    const SparseRows s = SparseRows::from_dense(A);
    EXPECT_EQ(s.dense().data, A.data);
    const double exact = reservoir_radius_exact(s);
    EXPECT_NEAR(reservoir_radius_power(s), exact, 0.03 * exact) << "seed " << seed;
  }
}

TEST(Esn, StepIsTheLeakyUpdateWithFeedback) {
  EsnConfig c;
  c.inputs = 2;
  c.units = 6;
  c.outputs = 1;
  c.connectivity = 0.5;
  c.bias_scaling = 0.3;
  c.leak_rate = 0.4;
  c.feedback_scaling = 0.7;
  Esn m = make_esn(c);
  // A readout that reports unit 0's state: then the outputs are x_t[0].
  m.w_out = Tensor<double>({1, c.features()});
  m.w_out[1 + c.inputs] = 1.0;
  const Tensor<double> U({3, 2}, {0.5, -1, 0.2, 0.3, -0.7, 0.9});
  const Tensor<double> teacher({3, 1}, {0.25, -0.5, 0.75});
  EsnState s = esn_zero_state(m);
  const Tensor<double> Y = esn_run(m, s, U, &teacher);
  const Tensor<double> W = m.w.dense();
  std::vector<double> x(6, 0.0), next(6);
  double y_prev = 0;
  for (int64_t t = 0; t < 3; ++t) {
    for (int64_t i = 0; i < 6; ++i) {
      double z = m.w_in[i * 3] + m.w_in[i * 3 + 1] * U[t * 2] + m.w_in[i * 3 + 2] * U[t * 2 + 1] +
                 m.w_back[i] * y_prev;
      for (int64_t j = 0; j < 6; ++j) z += W[i * 6 + j] * x[size_t(j)];
      next[size_t(i)] = 0.6 * x[size_t(i)] + 0.4 * std::tanh(z);
    }
    x = next;
    EXPECT_NEAR(Y[t], x[0], 1e-14) << "step " << t;
    y_prev = teacher[t];
  }
  EXPECT_EQ(s.y_prev[0], teacher[2]);
}

TEST(Esn, RidgeRecoversAnExactlyLinearReadout) {
  EsnConfig c;
  c.inputs = 1;
  c.units = 40;
  c.outputs = 2;
  c.connectivity = 0.2;
  c.bias_scaling = 0.5;
  Esn m = make_esn(c);
  Rng rng(9);
  const int64_t T = 400, D = c.features();
  Tensor<double> U({T, 1});
  for (auto& v : U.data) v = rng.uniform(-1, 1);
  Tensor<double> truth({2, D});
  for (auto& v : truth.data) v = rng.normal();
  m.w_out = truth;
  EsnState s = esn_zero_state(m);
  const Tensor<double> Y = esn_run(m, s, U);
  m.w_out = Tensor<double>();
  EsnFitOptions o;
  o.ridge = 1e-12;
  o.washout = 20;
  const EsnFitResult fit = esn_fit(m, U, Y, o);
  EXPECT_LT(fit.train_nrmse, 1e-6);
  EXPECT_EQ(fit.fitted_steps, T - 20);
  // Teacher forcing from a zero state reproduces the fit's predictions.
  EsnState again = esn_zero_state(m);
  const Tensor<double> P = esn_run(m, again, U, &Y);
  for (int64_t i = 0; i < P.numel(); ++i) EXPECT_NEAR(P[i], Y[i], 1e-6);
}

TEST(Esn, Narma10AtSmallSize) {
  EsnConfig c;
  c.units = 200;
  const int64_t train = 2000, test = 1000;
  const Narma10 d = narma10(train + test, 11);
  Esn m = make_esn(c);
  EsnFitResult fit = esn_fit(m, column(d.u, 0, train), column(d.y, 0, train), {});
  const Tensor<double> Yt = column(d.y, train, test);
  const double test_nrmse = nrmse(esn_run(m, fit.state, column(d.u, train, test)), Yt);
  // Measured 0.28 here (0.19 with 500 units, docs/esn.md); a linear readout of the input alone
  // scores about 0.9.
  EXPECT_LT(test_nrmse, 0.4);
  EXPECT_GT(test_nrmse, 0.05);
}

TEST(Esn, MackeyGlassFreeRunning) {
  EsnConfig c;
  c.inputs = 0;
  c.units = 400;
  c.spectral_radius = 1.1;
  c.feedback_scaling = 0.3;
  c.bias_scaling = 0.2;
  std::vector<double> s = mackey_glass(3000);
  for (double& v : s) v = (v - 0.9) / 0.23;  // roughly z-scored
  Esn m = make_esn(c);
  EsnFitOptions o;
  o.washout = 300;
  EsnFitResult fit = esn_fit(m, Tensor<double>({2500, 0}), column(s, 0, 2500), o);
  // Free running from the end of training for 84 steps.
  const Tensor<double> P = esn_run(m, fit.state, Tensor<double>({84, 0}));
  const double e = nrmse(P, column(s, 2500, 84));
  EXPECT_LT(e, 0.02);
}

TEST(Esn, BadInputIsRefused) {
  EsnConfig c;
  c.units = 20;
  c.connectivity = 0.2;
  Esn m = make_esn(c);
  Tensor<double> U({50, 1}), Y({50, 1});
  EsnState s = esn_zero_state(m);
  EXPECT_RECUR_ERROR(esn_run(m, s, U), "readout is not fitted");
  EXPECT_RECUR_ERROR(esn_fit(m, Tensor<double>({50, 2}), Y, {}), "ESN: inputs", "expected (T, 1)");
  EXPECT_RECUR_ERROR(esn_fit(m, U, Tensor<double>({49, 1}), {}), "50 input steps but 49");
  EsnFitOptions o;
  o.washout = 50;
  EXPECT_RECUR_ERROR(esn_fit(m, U, Y, o), "washout (50)");
  U[7] = std::nan("");
  EXPECT_RECUR_ERROR(esn_fit(m, U, Y, {}), "ESN inputs", "non-finite", "flat index 7");
  c.connectivity = 0;
  EXPECT_RECUR_ERROR(make_esn(c), "connectivity must be in (0, 1]");
  c.connectivity = 0.1;
  c.leak_rate = 1.5;
  EXPECT_RECUR_ERROR(make_esn(c), "leak rate");
}

class EsnFile : public testing::ScratchDirTest {};

TEST_F(EsnFile, SavedModelReproducesItsOutputs) {
  EsnConfig c;
  c.units = 50;
  c.connectivity = 0.1;
  c.feedback_scaling = 0.2;
  c.readout_output = true;
  c.leak_rate = 0.7;
  Esn m = make_esn(c);
  const Narma10 d = narma10(600, 2);
  esn_fit(m, column(d.u, 0, 500), column(d.y, 0, 500), {});
  save_esn(Path("esn.safetensors"), m);
  const Esn back = load_esn(Path("esn.safetensors"));
  EsnState a = esn_zero_state(m), b = esn_zero_state(back);
  const Tensor<double> U = column(d.u, 500, 100);
  EXPECT_EQ(esn_run(m, a, U).data, esn_run(back, b, U).data);
  EXPECT_EQ(back.config.leak_rate, 0.7);
  EXPECT_TRUE(back.config.readout_output);

  const std::string bytes = read_file_bytes(Path("esn.safetensors"));
  testing::WriteRaw(Path("cut.safetensors"), bytes.substr(0, bytes.size() / 2));
  EXPECT_RECUR_ERROR(load_esn(Path("cut.safetensors")), "cut.safetensors");
  save_safetensors<double>(Path("other.safetensors"), {{"x", Tensor<double>({1})}}, {{"task", "lm"}});
  EXPECT_RECUR_ERROR(load_esn(Path("other.safetensors")), "is not an ESN model", "'lm'");
}

}  // namespace
}  // namespace recur
