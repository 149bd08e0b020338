// ForecasterModel: columns and normalisation, saving and loading, the AR fit on the training
// windows, forecasts of every forecaster on a part, their scores, the table and the chart.
//
// Key: B = origins, W = window, I = input columns, H = horizon, K = target columns.
#include "recur/models/forecaster_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "recur/core/layout.h"
#include "recur/io/safetensors.h"
#include "recur/io/svg_plot.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/named_tensors.h"

namespace recur {

std::vector<int64_t> ForecasterModel::inputs() const {
  std::vector<int64_t> v(static_cast<size_t>(input_count));
  for (int64_t i = 0; i < input_count; ++i) v[size_t(i)] = i;
  return v;
}

CsvQuery ForecasterModel::query() const { return {columns, group_by, where_column, where_value}; }

std::string ForecasterModel::network_name() const {
  return rnn_title(net.config.rnn) + " " +
         forecast_strategy_name(net.config.strategy) + (net.config.residual ? " residual" : "");
}

void set_forecaster_columns(ForecasterModel& m, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& targets) {
  RECUR_CHECK(!inputs.empty() && !targets.empty(), "a forecaster needs input and target columns");
  m.columns = inputs;
  m.input_count = int64_t(inputs.size());
  RECUR_CHECK(std::set<std::string>(inputs.begin(), inputs.end()).size() == inputs.size(),
              "an input column is named twice in --inputs");
  RECUR_CHECK(std::set<std::string>(targets.begin(), targets.end()).size() == targets.size(),
              "a target column is named twice in --target");
  m.targets.clear();
  for (const std::string& t : targets) {
    auto it = std::find(m.columns.begin(), m.columns.end(), t);
    if (it == m.columns.end()) it = m.columns.insert(m.columns.end(), t);
    m.targets.push_back(int64_t(it - m.columns.begin()));
  }
}

void save_forecaster_model(const std::string& path, const ForecasterModel& m,
                           const std::map<std::string, std::string>& extra) {
  auto meta = m.net.config.to_metadata();
  std::vector<std::string> target_names;
  for (int64_t t : m.targets) target_names.push_back(m.columns[size_t(t)]);
  meta["task"] = "forecast";
  meta["columns"] = nlohmann::json(m.columns).dump();
  meta["input_count"] = std::to_string(m.input_count);
  meta["target_columns"] = nlohmann::json(target_names).dump();
  meta["window"] = std::to_string(m.window);
  meta["season"] = std::to_string(m.season);
  meta["group_by"] = m.group_by;
  meta["where_column"] = m.where_column;
  meta["where_value"] = m.where_value;
  meta["mean"] = nlohmann::json(m.norm.mean).dump();  // 17 significant digits: exact round trip
  meta["std"] = nlohmann::json(m.norm.std).dump();
  meta["ar_ridge"] = nlohmann::json(m.ar_ridge).dump();
  for (auto& [k, v] : extra) meta[k] = v;
  auto tensors = m.net.state_dict();
  tensors["ar.weight"] = tensor_cast<float>(m.ar.weight);
  tensors["ar.bias"] = tensor_cast<float>(m.ar.bias);
  save_safetensors(path, tensors, meta);
}

ForecasterModel load_forecaster_model(const std::string& path) {
  Safetensors<float> st = load_safetensors<float>(path);
  auto get = [&](const char* k) {
    auto it = st.metadata.find(k);
    RECUR_CHECK(it != st.metadata.end(), path << ": no '" << k << "' in the metadata");
    return it->second;
  };
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "forecast",
              path << ": not a recur forecaster (its metadata has no task = forecast); train one "
                      "with `recur train-forecaster`");
  ForecasterModel m;
  std::vector<std::string> target_names;
  try {
    m.columns = nlohmann::json::parse(get("columns")).get<std::vector<std::string>>();
    target_names = nlohmann::json::parse(get("target_columns")).get<std::vector<std::string>>();
    m.norm.mean = nlohmann::json::parse(get("mean")).get<std::vector<double>>();
    m.norm.std = nlohmann::json::parse(get("std")).get<std::vector<double>>();
    m.ar_ridge = nlohmann::json::parse(get("ar_ridge")).get<double>();
    m.input_count = std::stoll(get("input_count"));
    m.window = std::stoll(get("window"));
    m.season = std::stoll(get("season"));
  } catch (const nlohmann::json::exception& e) {
    RECUR_FAIL(path << ": malformed forecaster metadata: " << e.what());
  } catch (const std::logic_error&) {
    RECUR_FAIL(path << ": malformed forecaster metadata: an integer field is not an integer");
  }
  m.group_by = get("group_by");
  m.where_column = get("where_column");
  m.where_value = get("where_value");
  ForecasterConfig cfg;
  try {
    cfg = ForecasterConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  const int64_t C = int64_t(m.columns.size());
  RECUR_CHECK(m.input_count >= 1 && m.input_count <= C && m.input_count == cfg.inputs(),
              path << ": " << m.input_count << " input columns of " << C
                   << " listed; the network reads " << cfg.inputs());
  RECUR_CHECK(int64_t(m.norm.mean.size()) == C && int64_t(m.norm.std.size()) == C,
              path << ": the normalisation has " << m.norm.mean.size() << " means and "
                   << m.norm.std.size() << " deviations for " << C << " columns");
  for (int64_t c = 0; c < C; ++c)
    RECUR_CHECK(std::isfinite(m.norm.mean[size_t(c)]) && m.norm.std[size_t(c)] > 0 &&
                    std::isfinite(m.norm.std[size_t(c)]),
                path << ": column '" << m.columns[size_t(c)] << "' has mean "
                     << m.norm.mean[size_t(c)] << " and deviation " << m.norm.std[size_t(c)]);
  for (const std::string& t : target_names) {
    auto it = std::find(m.columns.begin(), m.columns.end(), t);
    RECUR_CHECK(it != m.columns.end(), path << ": target column '" << t << "' is not a column");
    m.targets.push_back(int64_t(it - m.columns.begin()));
    RECUR_CHECK(cfg.strategy == ForecastStrategy::direct || m.targets.back() < m.input_count,
                path << ": a recursive forecaster's target '" << t << "' must be an input");
  }
  RECUR_CHECK(
      int64_t(m.targets.size()) == cfg.targets,
      path << ": " << m.targets.size() << " target columns, the network predicts " << cfg.targets);
  RECUR_CHECK(m.window >= 1 && m.season >= 0,
              path << ": window " << m.window << ", season " << m.season);
  const int64_t P = m.window * m.input_count, Q = cfg.horizon * cfg.targets;
  for (const char* name : {"ar.weight", "ar.bias"}) {
    auto it = st.tensors.find(name);
    RECUR_CHECK(it != st.tensors.end(), path << ": missing tensor '" << name << "'");
    const Shape want = std::string(name) == "ar.weight" ? Shape{Q, P} : Shape{Q};
    RECUR_CHECK(it->second.shape == want, path << ": tensor '" << name << "' has shape "
                                               << it->second.shape_string() << ", expected "
                                               << shape_str(want));
    check_finite(it->second, path + " tensor '" + name + "'");
    (std::string(name) == "ar.weight" ? m.ar.weight : m.ar.bias) = tensor_cast<double>(it->second);
    st.tensors.erase(it);
  }
  check_parameter_count(parameter_count(cfg), st.tensors, path);
  m.net = Forecaster<float>(cfg);
  m.net.load_state_dict(st.tensors, path);
  return m;
}

void check_forecast_origins(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                            SplitPart part, const std::string& source) {
  for (const CsvSeries& s : data) {
    const std::vector<Origin> o = forecast_origins({s}, part, m.window, m.horizon());
    const ChronoSplit sp = chronological_split(s.rows());
    RECUR_CHECK(!o.empty(), source << (s.group.empty() ? "" : ": series '" + s.group + "'")
                                   << " has " << s.rows() << " rows (train " << sp.train_end
                                   << ", validation " << sp.valid_end - sp.train_end << ", test "
                                   << sp.rows - sp.valid_end << "): no room in its "
                                   << split_part_name(part) << " part for a window of " << m.window
                                   << " and a horizon of " << m.horizon()
                                   << "; use a shorter --window or --horizon, or more rows");
  }
}

void forecaster_training_tensors(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                                 const std::vector<Origin>& origins, Tensor<float>* x,
                                 Tensor<float>* y) {
  const ForecasterConfig& c = m.net.config;
  const int64_t W = m.window, S = forecaster_training_steps(c, W);
  *x = gather_steps<float>(data, origins, 1 - W, S, m.inputs(), &m.norm);
  if (c.strategy == ForecastStrategy::direct)
    *y = swap_first_axes(gather_steps<float>(data, origins, 1, c.horizon, m.targets, &m.norm));
  else
    *y = gather_steps<float>(data, origins, 2 - W, S, m.inputs(), &m.norm);
}

namespace {

// X (B, W*I) and, when y is not null, Y (B, H*K): the AR's view of the origins, normalised.
Tensor<double> ar_features(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                           const std::vector<Origin>& origins, Tensor<double>* y) {
  const int64_t B = int64_t(origins.size());
  Tensor<double> x =
      swap_first_axes(gather_steps<double>(data, origins, 1 - m.window, m.window, m.inputs(), &m.norm));
  x.shape = {B, m.window * m.input_count};
  if (y) {
    *y = swap_first_axes(gather_steps<double>(data, origins, 1, m.horizon(), m.targets, &m.norm));
    y->shape = {B, m.horizon() * int64_t(m.targets.size())};
  }
  return x;
}

// (B,H,K) normalised values of the targets -> data units, in place.
void denormalise(Tensor<double>& v, const ForecasterModel& m) {
  const int64_t K = int64_t(m.targets.size());
  for (int64_t i = 0; i < v.numel(); ++i) {
    const size_t c = size_t(m.targets[size_t(i % K)]);
    v[i] = v[i] * m.norm.std[c] + m.norm.mean[c];
  }
}

}  // namespace

void fit_forecaster_ar(ForecasterModel& m, const std::vector<CsvSeries>& data, double ridge) {
  Tensor<double> y;
  const Tensor<double> x =
      ar_features(m, data, forecast_origins(data, SplitPart::train, m.window, m.horizon()), &y);
  m.ar = fit_linear_ar(x, y, ridge);
  m.ar.weight = tensor_cast<double>(tensor_cast<float>(m.ar.weight));
  m.ar.bias = tensor_cast<double>(tensor_cast<float>(m.ar.bias));
  m.ar_ridge = ridge;
}

Tensor<double> network_forecast(const ForecasterModel& m, const Tensor<float>& x) {
  const int64_t B = x.dim(1), H = m.horizon(), K = int64_t(m.targets.size());
  const bool direct = m.net.config.strategy == ForecastStrategy::direct;
  const int64_t O1 = m.net.config.step_outputs();
  const Tensor<float> p = forecaster_predict(m.net, x);  // (B,H,O1)
  Tensor<double> out({B, H, K});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t k = 0; k < K; ++k)
        out[(b * H + h) * K + k] = double(p[(b * H + h) * O1 + (direct ? k : m.targets[size_t(k)])]);
  denormalise(out, m);
  return out;
}

Tensor<double> forecast_window(const ForecasterModel& m, const Tensor<double>& window) {
  const int64_t W = m.window, I = m.input_count;
  RECUR_CHECK(window.shape == Shape({W, I}), "a forecast window is " << window.shape_string()
                                                  << "; the model reads (" << W << ", " << I
                                                  << "): its window of rows of its input columns");
  Tensor<float> x({W, 1, I});  // normalised as gather_steps normalises the training windows
  for (int64_t i = 0; i < W * I; ++i) {
    const size_t c = size_t(i % I);
    x[i] = float((window[i] - m.norm.mean[c]) / m.norm.std[c]);
  }
  Tensor<double> f = network_forecast(m, x);
  f.shape = {m.horizon(), int64_t(m.targets.size())};
  return f;
}

ForecastSet forecast_part(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                          SplitPart part, int64_t batch) {
  const int64_t H = m.horizon(), K = int64_t(m.targets.size()), W = m.window;
  ForecastSet s;
  s.origins = forecast_origins(data, part, W, H);
  RECUR_CHECK(!s.origins.empty(),
              "no forecast origins in the " << split_part_name(part) << " part");
  const int64_t B = int64_t(s.origins.size());
  s.truth = swap_first_axes(gather_steps<double>(data, s.origins, 1, H, m.targets, nullptr));

  // The network, `batch` origins at a time.
  Tensor<double> net({B, H, K});
  for (int64_t b0 = 0; b0 < B; b0 += batch) {
    const std::vector<Origin> part_origins(s.origins.begin() + b0,
                                           s.origins.begin() + std::min(B, b0 + batch));
    const Tensor<double> p = network_forecast(
        m, gather_steps<float>(data, part_origins, 1 - W, W, m.inputs(), &m.norm));
    std::copy(p.data.begin(), p.data.end(), net.data.begin() + b0 * H * K);
  }
  s.names.push_back(m.network_name());
  s.forecasts.push_back(std::move(net));

  s.names.push_back("persistence");
  s.forecasts.push_back(persistence_forecast(data, s.origins, H, m.targets));
  if (m.season > 0 && has_seasonal_history(s.origins, m.season)) {
    s.names.push_back("seasonal (" + std::to_string(m.season) + ")");
    s.forecasts.push_back(seasonal_forecast(data, s.origins, H, m.targets, m.season));
  }
  Tensor<double> ar = linear_ar_predict(m.ar, ar_features(m, data, s.origins, nullptr));
  ar.shape = {B, H, K};
  denormalise(ar, m);
  s.names.push_back("linear AR");
  s.forecasts.push_back(std::move(ar));
  return s;
}

ForecastScores score_forecast(const Tensor<double>& f, const Tensor<double>& truth) {
  RECUR_CHECK(f.shape == truth.shape && f.rank() == 3,
              "forecast " << f.shape_string() << " and truth " << truth.shape_string());
  const int64_t B = f.dim(0), H = f.dim(1), K = f.dim(2);
  ForecastScores sc{Tensor<double>({H, K}), Tensor<double>({H, K}), std::vector<double>(size_t(K)),
                    std::vector<double>(size_t(K))};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < H * K; ++i) {
      const double e = f[b * H * K + i] - truth[b * H * K + i];
      sc.rmse[i] += e * e;
      sc.mae[i] += std::abs(e);
    }
  for (int64_t k = 0; k < K; ++k) {
    double se = 0, ae = 0;
    for (int64_t h = 0; h < H; ++h) {
      se += sc.rmse[h * K + k];
      ae += sc.mae[h * K + k];
    }
    sc.rmse_all[size_t(k)] = std::sqrt(se / double(B * H));
    sc.mae_all[size_t(k)] = ae / double(B * H);
  }
  for (int64_t i = 0; i < H * K; ++i) {
    sc.rmse[i] = std::sqrt(sc.rmse[i] / double(B));
    sc.mae[i] /= double(B);
  }
  return sc;
}

std::string forecast_report(const ForecasterModel& m, const ForecastSet& s, SplitPart part) {
  const int64_t H = m.horizon(), K = int64_t(m.targets.size());
  std::set<int64_t> series;
  for (const Origin& o : s.origins) series.insert(o.series);
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s part: %zu forecasts from %zu series, horizon %lld\n",
                split_part_name(part), s.origins.size(), series.size(), (long long)H);
  out += buf;
  std::vector<ForecastScores> scores;
  size_t width = 12;
  for (size_t i = 0; i < s.names.size(); ++i) {
    scores.push_back(score_forecast(s.forecasts[i], s.truth));
    width = std::max(width, s.names[i].size());
  }
  for (int64_t k = 0; k < K; ++k)
    for (const char* metric : {"RMSE", "MAE"}) {
      const bool rmse = metric[0] == 'R';
      const std::string head = m.columns[size_t(m.targets[size_t(k)])] + " " + metric;
      std::snprintf(buf, sizeof buf, "%-*s", int(std::max(width, head.size())), head.c_str());
      out += buf;
      for (int64_t h = 0; h < H; ++h) {
        std::snprintf(buf, sizeof buf, " %9s", ("h=" + std::to_string(h + 1)).c_str());
        out += buf;
      }
      out += H > 1 ? "       all\n" : "\n";
      for (size_t i = 0; i < s.names.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%-*s", int(std::max(width, head.size())),
                      s.names[i].c_str());
        out += buf;
        for (int64_t h = 0; h < H; ++h) {
          std::snprintf(buf, sizeof buf, " %9.4f",
                        rmse ? scores[i].rmse[h * K + k] : scores[i].mae[h * K + k]);
          out += buf;
        }
        if (H > 1) {
          std::snprintf(buf, sizeof buf, " %9.4f",
                        rmse ? scores[i].rmse_all[size_t(k)] : scores[i].mae_all[size_t(k)]);
          out += buf;
        }
        out += "\n";
      }
    }
  return out;
}

std::string forecast_svg(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                         const ForecastSet& s, const std::string& title) {
  const int64_t H = m.horizon(), K = int64_t(m.targets.size());
  const int64_t series = s.origins.front().series;
  const CsvSeries& d = data[size_t(series)];
  PlotSpec spec;
  spec.title = title;
  spec.x_label = "row of the series" + (d.group.empty() ? std::string() : " '" + d.group + "'");
  spec.y_label = m.columns[size_t(m.targets.front())];
  Series truth{"truth", {}, {}, false};
  int64_t first = -1, last = -1;
  for (const Origin& o : s.origins)
    if (o.series == series) {
      if (first < 0) first = o.t + 1;
      last = o.t + H;
    }
  for (int64_t r = first; r <= last; ++r) {
    truth.x.push_back(double(r));
    truth.y.push_back(d.at(r, m.targets.front()));
  }
  spec.series.push_back(truth);
  auto ahead = [&](size_t f, int64_t h) {
    Series line{s.names[f] + ", " + std::to_string(h) + " ahead", {}, {}, false};
    for (size_t b = 0; b < s.origins.size(); ++b)
      if (s.origins[b].series == series) {
        line.x.push_back(double(s.origins[b].t + h));
        line.y.push_back(s.forecasts[f][(int64_t(b) * H + h - 1) * K]);
      }
    spec.series.push_back(line);
  };
  for (size_t f = 0; f < s.names.size(); ++f) ahead(f, 1);
  if (H > 1) {
    ahead(0, H);                   // the network
    ahead(s.names.size() - 1, H);  // linear AR
  }
  return render_svg(spec);
}

}  // namespace recur
