// Forecaster and its baselines: both strategies' training graphs and both losses (with and without
// the residual skip) against finite differences (double); the recursive roll-forward against the
// model run over its own forecasts; the linear AR fit recovering a noiseless AR(2) process;
// persistence and seasonal naive exact where they must be; the scores; a model file that
// reproduces its forecasts.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/models/forecaster_model.h"
#include "scratch_dir.h"

namespace recur {
namespace {

struct Case {
  std::string name;
  CellKind cell;
  int layers;
  ForecastStrategy strategy;
  RegressionLoss loss;
  int64_t targets;
  bool residual = false;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr int64_t kInputs = 3, kWindow = 4, kHorizon = 3, kBatch = 2;

ForecasterConfig config_for(const Case& k) {
  ForecasterConfig c;
  c.rnn.cell = k.cell;
  c.rnn.input_size = kInputs;
  c.rnn.hidden_size = 4;
  c.rnn.num_layers = k.layers;
  c.strategy = k.strategy;
  c.horizon = kHorizon;
  c.targets = k.targets;
  c.residual = k.residual;
  if (k.residual && k.strategy == ForecastStrategy::direct)
    for (int64_t i = 0; i < k.targets; ++i) c.target_inputs.push_back(kInputs - 1 - i);
  return c;
}

class ForecasterGradcheck : public ::testing::TestWithParam<Case> {};

TEST_P(ForecasterGradcheck, AllGradientsMatchFiniteDifferences) {
  const Case k = GetParam();
  Forecaster<double> m(config_for(k));
  Rng rng(11);
  init_forecaster(m, rng);
  for (auto& [n, t] : m.named())  // larger weights: the nonlinearities away from their linear part
    for (auto& v : t->data) v *= 2.0;
  const int64_t S = forecaster_training_steps(m.config, kWindow);
  Tensor<double> x({S, kBatch, kInputs});
  testing::fill_uniform(x, rng);
  Tensor<double> y(k.strategy == ForecastStrategy::direct ? Shape{kBatch, kHorizon, k.targets}
                                                          : Shape{S, kBatch, kInputs});
  testing::fill_uniform(y, rng);
  Forecaster<double> g(m.config);
  forecaster_batch(m, &g, x, y, k.loss, {});
  auto loss = [&] { return forecaster_batch<double>(m, nullptr, x, y, k.loss, {}); };
  auto pn = m.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i)
    testing::expect_grad_matches(k.name + "." + pn[i].first, *pn[i].second, *gn[i].second, loss);
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, ForecasterGradcheck,
    ::testing::Values(Case{"direct_mse_lstm_2layer", CellKind::lstm, 2, ForecastStrategy::direct,
                           RegressionLoss::mse, 1},
                      Case{"direct_mae_lstm", CellKind::lstm, 1, ForecastStrategy::direct,
                           RegressionLoss::mae, 1},
                      Case{"direct_mse_gru_2targets", CellKind::gru, 1, ForecastStrategy::direct,
                           RegressionLoss::mse, 2},
                      Case{"direct_mae_rnn_2targets", CellKind::rnn_tanh, 1,
                           ForecastStrategy::direct, RegressionLoss::mae, 2},
                      Case{"recursive_mse_lstm_2layer", CellKind::lstm, 2,
                           ForecastStrategy::recursive, RegressionLoss::mse, 1},
                      Case{"recursive_mae_lstm", CellKind::lstm, 1, ForecastStrategy::recursive,
                           RegressionLoss::mae, 1},
                      Case{"recursive_mse_gru", CellKind::gru, 1, ForecastStrategy::recursive,
                           RegressionLoss::mse, 1},
                      Case{"recursive_mae_rnn", CellKind::rnn_tanh, 1, ForecastStrategy::recursive,
                           RegressionLoss::mae, 1},
                      Case{"direct_residual_mse_lstm_2targets", CellKind::lstm, 1,
                           ForecastStrategy::direct, RegressionLoss::mse, 2, true},
                      Case{"recursive_residual_mae_gru", CellKind::gru, 1,
                           ForecastStrategy::recursive, RegressionLoss::mae, 1, true}),
    [](const auto& info) { return info.param.name; });

TEST(RegressionLoss, ValuesAndGradients) {
  const double p[] = {1.0, -2.0, 0.5}, y[] = {0.0, 1.0, 0.5};
  double d[3];
  EXPECT_DOUBLE_EQ(regression_loss(d, p, y, 3, RegressionLoss::mse), (1.0 + 9.0) / 3);
  EXPECT_DOUBLE_EQ(d[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(d[1], -6.0 / 3);
  EXPECT_DOUBLE_EQ(d[2], 0.0);
  EXPECT_DOUBLE_EQ(regression_loss(d, p, y, 3, RegressionLoss::mae), 4.0 / 3);
  EXPECT_DOUBLE_EQ(d[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(d[1], -1.0 / 3);
  EXPECT_DOUBLE_EQ(d[2], 0.0);  // sign(0) = 0
  EXPECT_RECUR_ERROR(parse_regression_loss("huber"), "unknown loss 'huber'");
}

// Rolling forward carries the state: the 2-step forecast from a window equals the 1-step forecast
// from the window extended by the model's own first forecast (run from scratch), and the 1-step
// forecast is what the teacher-forced training graph predicts at the window's last step.
TEST(Forecaster, RecursiveRollForwardFeedsItsOwnForecasts) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
    ForecasterConfig c =
        config_for({"", cell, 2, ForecastStrategy::recursive, RegressionLoss::mse, 1});
    Forecaster<double> m(c);
    Rng rng(5);
    init_forecaster(m, rng);
    Tensor<double> x({kWindow, kBatch, kInputs});
    testing::fill_uniform(x, rng);
    const Tensor<double> p = forecaster_predict(m, x);  // (B,H,I)
    ASSERT_EQ(p.shape, Shape({kBatch, kHorizon, kInputs}));
    Tensor<double> x2({kWindow + 1, kBatch, kInputs});
    std::copy(x.data.begin(), x.data.end(), x2.data.begin());
    for (int64_t b = 0; b < kBatch; ++b)
      for (int64_t i = 0; i < kInputs; ++i)
        x2[(kWindow * kBatch + b) * kInputs + i] = p[(b * kHorizon + 0) * kInputs + i];
    const Tensor<double> p2 = forecaster_predict(m, x2);
    for (int64_t b = 0; b < kBatch; ++b)
      for (int64_t i = 0; i < kInputs; ++i)
        EXPECT_NEAR(p2[(b * kHorizon + 0) * kInputs + i], p[(b * kHorizon + 1) * kInputs + i],
                    1e-12);
    // The teacher-forced training graph predicts the same row t+1 at the window's last step: with
    // all targets zero, MSE = mean(pred^2); scoring that step against the forecast instead removes
    // exactly the forecast's squares from the sum.
    const int64_t S = forecaster_training_steps(c, kWindow);
    Tensor<double> xs({S, kBatch, kInputs}), ys({S, kBatch, kInputs});
    std::copy(x.data.begin(), x.data.end(), xs.data.begin());
    const double base = forecaster_batch<double>(m, nullptr, xs, ys, RegressionLoss::mse, {});
    double sq = 0;
    for (int64_t b = 0; b < kBatch; ++b)
      for (int64_t i = 0; i < kInputs; ++i) {
        const double f = p[(b * kHorizon + 0) * kInputs + i];
        ys[((kWindow - 1) * kBatch + b) * kInputs + i] = f;
        sq += f * f;
      }
    const double moved = forecaster_batch<double>(m, nullptr, xs, ys, RegressionLoss::mse, {});
    EXPECT_NEAR((base - moved) * double(S * kBatch * kInputs), sq, 1e-12);
  }
}

TEST(Forecaster, DirectForecastIsTheTrainingGraphsPrediction) {
  ForecasterConfig c =
      config_for({"", CellKind::lstm, 1, ForecastStrategy::direct, RegressionLoss::mse, 2});
  Forecaster<double> m(c);
  Rng rng(6);
  init_forecaster(m, rng);
  Tensor<double> x({kWindow, kBatch, kInputs});
  testing::fill_uniform(x, rng);
  const Tensor<double> p = forecaster_predict(m, x);
  ASSERT_EQ(p.shape, Shape({kBatch, kHorizon, 2}));
  EXPECT_NEAR(forecaster_batch<double>(m, nullptr, x, p, RegressionLoss::mse, {}), 0.0, 1e-30);
}

// With the head at zero, a residual forecaster is persistence: every step forecasts the last
// observed value (direct: of each target's input column; recursive: of every input).
TEST(Forecaster, ResidualWithAZeroHeadIsPersistence) {
  for (ForecastStrategy st : {ForecastStrategy::direct, ForecastStrategy::recursive}) {
    Forecaster<double> m(config_for({"", CellKind::lstm, 1, st, RegressionLoss::mse, 2, true}));
    Rng rng(8);
    init_forecaster(m, rng);
    m.w_out.fill(0.0);
    m.b_out.fill(0.0);
    Tensor<double> x({kWindow, kBatch, kInputs});
    testing::fill_uniform(x, rng);
    const Tensor<double> p = forecaster_predict(m, x);
    const int64_t O1 = m.config.step_outputs();
    for (int64_t b = 0; b < kBatch; ++b)
      for (int64_t h = 0; h < kHorizon; ++h)
        for (int64_t j = 0; j < O1; ++j) {
          const int64_t col =
              st == ForecastStrategy::direct ? m.config.target_inputs[size_t(j)] : j;
          EXPECT_EQ(p[(b * kHorizon + h) * O1 + j],
                    x[((kWindow - 1) * kBatch + b) * kInputs + col]);
        }
  }
}

TEST(Forecaster, ConfigChecksAndMetadata) {
  ForecasterConfig c =
      config_for({"", CellKind::gru, 2, ForecastStrategy::recursive, RegressionLoss::mse, 1});
  EXPECT_EQ(ForecasterConfig::from_metadata(c.to_metadata()).to_metadata(), c.to_metadata());
  EXPECT_EQ(c.outputs(), kInputs);
  c.strategy = ForecastStrategy::direct;
  c.targets = 2;
  EXPECT_EQ(c.outputs(), kHorizon * 2);
  c.residual = true;
  EXPECT_RECUR_ERROR(c.validate(), "needs the input column of each of its 2 targets");
  c.target_inputs = {0, 3};
  EXPECT_RECUR_ERROR(c.validate(), "target input column 3 is not one of the 3 inputs");
  c.target_inputs = {0, 2};
  EXPECT_EQ(ForecasterConfig::from_metadata(c.to_metadata()).target_inputs, c.target_inputs);
  c.residual = false;
  c.target_inputs.clear();
  c.rnn.bidirectional = true;
  EXPECT_RECUR_ERROR(c.validate(), "bidirectional encoder is refused");
  c.rnn.bidirectional = false;
  c.horizon = 0;
  EXPECT_RECUR_ERROR(c.validate(), "horizon must be >= 1");
  EXPECT_RECUR_ERROR(parse_forecast_strategy("seq2seq"), "unknown forecast strategy 'seq2seq'");
  Forecaster<double> m(
      config_for({"", CellKind::lstm, 1, ForecastStrategy::direct, RegressionLoss::mse, 1}));
  EXPECT_RECUR_ERROR(
      forecaster_batch<double>(m, nullptr, Tensor<double>({kWindow, kBatch, 2}),
                               Tensor<double>({kBatch, kHorizon, 1}), RegressionLoss::mse, {}),
      "expected (S,B,3)");
  EXPECT_RECUR_ERROR(
      forecaster_batch<double>(m, nullptr, Tensor<double>({kWindow, kBatch, kInputs}),
                               Tensor<double>({kBatch, 1, 1}), RegressionLoss::mse, {}),
      "expected (2, 3, 1)");
}

// x_t = a1 x_{t-1} + a2 x_{t-2} + c with a2 = -1, a1 = 2 cos(1): a sinusoid around
// mu = c / (2 - a1), noiseless and neither decaying nor growing, so the windows span both
// directions.
std::vector<double> ar2_series(int64_t n, double a1, double a2, double c) {
  std::vector<double> x = {0.3, 1.7};
  while (int64_t(x.size()) < n) x.push_back(a1 * x[x.size() - 1] + a2 * x[x.size() - 2] + c);
  return x;
}

TEST(LinearAr, RecoversANoiselessAr2ProcessCoefficients) {
  const double a1 = 2 * std::cos(1.0), a2 = -1.0, c = 0.8;
  const std::vector<double> v = ar2_series(300, a1, a2, c);
  // Windows of 2 (oldest first) -> the next value.
  const int64_t N = int64_t(v.size()) - 2;
  Tensor<double> X({N, 2}), Y({N, 1});
  for (int64_t n = 0; n < N; ++n) {
    X[n * 2] = v[size_t(n)];
    X[n * 2 + 1] = v[size_t(n + 1)];
    Y[n] = v[size_t(n + 2)];
  }
  for (double ridge : {0.0, 1e-12}) {
    const LinearAr ar = fit_linear_ar(X, Y, ridge);
    EXPECT_NEAR(ar.weight[0], a2, 1e-6) << "ridge " << ridge;
    EXPECT_NEAR(ar.weight[1], a1, 1e-6) << "ridge " << ridge;
    EXPECT_NEAR(ar.bias[0], c, 1e-6) << "ridge " << ridge;
  }
  // A ridge shrinks the coefficients; a duplicated (collinear) column needs one.
  EXPECT_LT(std::abs(fit_linear_ar(X, Y, 0.1).weight[1]), std::abs(a1) - 1e-3);
  Tensor<double> X3({N, 3});
  for (int64_t n = 0; n < N; ++n)
    X3[n * 3] = X[n * 2], X3[n * 3 + 1] = X3[n * 3 + 2] = X[n * 2 + 1];
  EXPECT_RECUR_ERROR(fit_linear_ar(X3, Y, 0.0), "not positive definite", "use a positive ridge");
  const LinearAr ar3 = fit_linear_ar(X3, Y, 1e-10);
  EXPECT_NEAR(ar3.weight[1] + ar3.weight[2], a1, 1e-4);  // shared between the twin columns
}

// A model over one column of `values`, direct, 1 layer, with the AR fitted on the training part.
ForecasterModel small_model(const std::vector<CsvSeries>& data, int64_t window, int64_t horizon,
                            int64_t season, double ridge) {
  ForecasterModel m;
  set_forecaster_columns(m, {"v"}, {"v"});
  m.window = window;
  m.season = season;
  m.norm = fit_zscore(data);
  ForecasterConfig c;
  c.rnn.cell = CellKind::gru;
  c.rnn.input_size = 1;
  c.rnn.hidden_size = 3;
  c.horizon = horizon;
  c.targets = 1;
  m.net = Forecaster<float>(c);
  Rng rng(2);
  init_forecaster(m.net, rng);
  fit_forecaster_ar(m, data, ridge);
  return m;
}

CsvSeries one_column(const std::vector<double>& v) {
  CsvSeries s{"", {}, 1, v};
  for (size_t r = 0; r < v.size(); ++r) s.lines.push_back(int64_t(r) + 2);
  return s;
}

TEST(Baselines, PersistenceIsExactOnAConstantSeriesAndSeasonalOnAPeriodicOne) {
  const std::vector<CsvSeries> flat = {one_column(std::vector<double>(60, 17.25))};
  const ForecasterModel m = small_model(flat, 5, 4, 0, 1e-4);
  const ForecastSet s = forecast_part(m, flat, SplitPart::test);
  ASSERT_EQ(s.names[1], "persistence");
  const ForecastScores p = score_forecast(s.forecasts[1], s.truth);
  for (int64_t h = 0; h < 4; ++h) {
    EXPECT_EQ(p.rmse[h], 0.0);
    EXPECT_EQ(p.mae[h], 0.0);
  }
  EXPECT_EQ(s.truth[0], 17.25);
  // Period 7 (a weekly pattern): the seasonal naive forecast is exact, persistence is not.
  std::vector<double> weekly;
  for (int r = 0; r < 140; ++r) weekly.push_back(double((r * 5) % 7) - 2.5);
  const std::vector<CsvSeries> week = {one_column(weekly)};
  const ForecasterModel w = small_model(week, 8, 3, 7, 1e-4);
  const ForecastSet ws = forecast_part(w, week, SplitPart::test);
  ASSERT_EQ(ws.names.size(), 4u);
  EXPECT_EQ(ws.names[2], "seasonal (7)");
  EXPECT_EQ(score_forecast(ws.forecasts[2], ws.truth).rmse_all[0], 0.0);
  EXPECT_GT(score_forecast(ws.forecasts[1], ws.truth).rmse_all[0], 1.0);
  // A period longer than the history there is leaves the seasonal row out.
  EXPECT_EQ(forecast_part(small_model(week, 8, 3, 200, 1e-4), week, SplitPart::test).names.size(),
            3u);
}

// Through the whole pipeline (normalisation, windows, the fit, back to the data's units), the AR
// forecasts a noiseless AR(2) series exactly at every horizon.
TEST(Baselines, LinearArForecastsANoiselessAr2SeriesThroughThePipeline) {
  const std::vector<CsvSeries> data = {one_column(ar2_series(200, 2 * std::cos(1.0), -1.0, 0.8))};
  const ForecasterModel m = small_model(data, 2, 3, 0, 1e-12);
  const ForecastSet s = forecast_part(m, data, SplitPart::test);
  ASSERT_EQ(s.names.back(), "linear AR");
  // The weights are stored in float32: exact up to float rounding of coefficients of size ~1.
  EXPECT_LT(score_forecast(s.forecasts.back(), s.truth).rmse_all[0], 1e-5);
}

TEST(Baselines, ScoresPerStepAndOverAll) {
  Tensor<double> truth({2, 2, 1}, {0, 0, 0, 0}), f({2, 2, 1}, {3, 1, -4, 1});
  const ForecastScores s = score_forecast(f, truth);
  EXPECT_DOUBLE_EQ(s.rmse[0], std::sqrt(12.5));
  EXPECT_DOUBLE_EQ(s.mae[0], 3.5);
  EXPECT_DOUBLE_EQ(s.rmse[1], 1.0);
  EXPECT_DOUBLE_EQ(s.rmse_all[0], std::sqrt(27.0 / 4));
  EXPECT_DOUBLE_EQ(s.mae_all[0], 9.0 / 4);
}

class ForecasterModelFile : public testing::ScratchDirTest {};

TEST_F(ForecasterModelFile, SavedModelReproducesItsForecasts) {
  std::vector<double> v;
  for (int r = 0; r < 120; ++r) v.push_back(std::sin(0.3 * r) * 10 + 20 + 0.01 * r);
  const std::vector<CsvSeries> data = {one_column(v)};
  ForecasterModel m = small_model(data, 6, 2, 12, 1e-4);
  m.where_column = "symbol";
  m.where_value = "MSFT";
  save_forecaster_model(Path("m.safetensors"), m);
  const ForecasterModel back = load_forecaster_model(Path("m.safetensors"));
  EXPECT_EQ(back.columns, m.columns);
  EXPECT_EQ(back.norm.mean, m.norm.mean);
  EXPECT_EQ(back.norm.std, m.norm.std);
  EXPECT_EQ(back.where_value, "MSFT");
  EXPECT_EQ(back.season, 12);
  const ForecastSet a = forecast_part(m, data, SplitPart::all),
                    b = forecast_part(back, data, SplitPart::all);
  ASSERT_EQ(a.names, b.names);
  for (size_t i = 0; i < a.forecasts.size(); ++i)
    EXPECT_EQ(a.forecasts[i].data, b.forecasts[i].data) << a.names[i];
  EXPECT_EQ(forecast_report(m, a, SplitPart::all), forecast_report(back, b, SplitPart::all));
  testing::WriteRaw(Path("x.safetensors"), "not a model");
  EXPECT_RECUR_ERROR(load_forecaster_model(Path("x.safetensors")), "x.safetensors");
}

}  // namespace
}  // namespace recur
