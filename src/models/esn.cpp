// The Echo State Network of recur/models/esn.h: reservoir construction, spectral radius, the
// driven and free-running loops, the ridge readout, and the model file.
#include "recur/models/esn.h"

#include <cmath>
#include <sstream>

#include "recur/core/error.h"
#include "recur/core/linalg.h"
#include "recur/core/rng.h"
#include "recur/io/metadata.h"
#include "recur/io/safetensors.h"
#include "recur/nn/linear.h"

namespace recur {

int64_t EsnConfig::features() const {
  return 1 + (readout_input ? inputs : 0) + units + (readout_output ? outputs : 0);
}

void EsnConfig::validate() const {
  RECUR_CHECK(inputs >= 0, "ESN: inputs must be >= 0, got " << inputs);
  RECUR_CHECK(units >= 1, "ESN: units must be >= 1, got " << units);
  RECUR_CHECK(outputs >= 1, "ESN: outputs must be >= 1, got " << outputs);
  RECUR_CHECK(connectivity > 0 && connectivity <= 1,
              "ESN: connectivity must be in (0, 1], got " << connectivity);
  RECUR_CHECK(spectral_radius > 0, "ESN: the spectral radius must be > 0, got " << spectral_radius);
  RECUR_CHECK(radius_method == "exact" || radius_method == "power",
              "ESN: radius method '" << radius_method << "'; expected exact or power");
  RECUR_CHECK(input_scaling >= 0 && bias_scaling >= 0 && feedback_scaling >= 0,
              "ESN: input, bias and feedback scalings must be >= 0");
  RECUR_CHECK(leak_rate > 0 && leak_rate <= 1, "ESN: the leak rate must be in (0, 1], got " << leak_rate);
}

void SparseRows::multiply_add(const double* x, double* y) const {
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (int64_t k = row_start[size_t(i)]; k < row_start[size_t(i + 1)]; ++k)
      s += value[size_t(k)] * x[col[size_t(k)]];
    y[i] += s;
  }
}

Tensor<double> SparseRows::dense() const {
  Tensor<double> A({rows, cols});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = row_start[size_t(i)]; k < row_start[size_t(i + 1)]; ++k)
      A[i * cols + col[size_t(k)]] = value[size_t(k)];
  return A;
}

SparseRows SparseRows::from_dense(const Tensor<double>& A) {
  RECUR_CHECK(A.rank() == 2, "SparseRows: expected a matrix, got " << A.shape_string());
  SparseRows s;
  s.rows = A.dim(0);
  s.cols = A.dim(1);
  s.row_start.push_back(0);
  for (int64_t i = 0; i < s.rows; ++i) {
    for (int64_t j = 0; j < s.cols; ++j)
      if (A[i * s.cols + j] != 0) {
        s.col.push_back(j);
        s.value.push_back(A[i * s.cols + j]);
      }
    s.row_start.push_back(int64_t(s.col.size()));
  }
  return s;
}

double reservoir_radius_exact(const SparseRows& w) { return spectral_radius(w.dense()); }

double reservoir_radius_power(const SparseRows& w, int iterations, uint64_t seed) {
  RECUR_CHECK(w.rows == w.cols && iterations >= 2, "power iteration needs a square matrix");
  Rng rng(seed);
  std::vector<double> v(static_cast<size_t>(w.rows)), next(static_cast<size_t>(w.rows));
  for (auto& e : v) e = rng.normal();
  double log_growth = 0;
  int counted = 0;
  for (int k = 0; k < iterations; ++k) {
    std::fill(next.begin(), next.end(), 0.0);
    w.multiply_add(v.data(), next.data());
    double norm = 0, prev = 0;
    for (size_t i = 0; i < next.size(); ++i) norm += next[i] * next[i], prev += v[i] * v[i];
    norm = std::sqrt(norm);
    if (norm == 0) return 0;  // nilpotent (e.g. a reservoir with no cycles)
    if (k >= iterations / 2) log_growth += std::log(norm / std::sqrt(prev)), ++counted;
    for (size_t i = 0; i < next.size(); ++i) v[i] = next[i] / norm;
  }
  return std::exp(log_growth / counted);
}

Esn make_esn(const EsnConfig& config) {
  config.validate();
  const int64_t N = config.units, K = config.inputs, L = config.outputs;
  Rng rng(config.seed);
  Esn m;
  m.config = config;
  m.w_in = Tensor<double>({N, 1 + K});
  for (int64_t i = 0; i < N; ++i) {
    m.w_in[i * (1 + K)] = rng.uniform(-1, 1) * config.bias_scaling;
    for (int64_t k = 0; k < K; ++k) m.w_in[i * (1 + K) + 1 + k] = rng.uniform(-1, 1) * config.input_scaling;
  }
  Tensor<double> W({N, N});
  for (auto& v : W.data)
    if (rng.bernoulli(config.connectivity)) v = rng.uniform(-1, 1);
  m.w = SparseRows::from_dense(W);
  const double rho = config.radius_method == "exact" ? reservoir_radius_exact(m.w)
                                                      : reservoir_radius_power(m.w);
  RECUR_CHECK(rho > 0, "ESN: the random reservoir (" << N << " units, connectivity "
                                                     << config.connectivity
                                                     << ") has spectral radius 0: it has no "
                                                        "cycles; use more units or connectivity");
  for (auto& v : m.w.value) v *= config.spectral_radius / rho;
  if (config.feedback_scaling > 0) {
    m.w_back = Tensor<double>({N, L});
    for (auto& v : m.w_back.data) v = rng.uniform(-1, 1) * config.feedback_scaling;
  }
  return m;
}

EsnState esn_zero_state(const Esn& m) {
  return {std::vector<double>(size_t(m.config.units), 0.0),
          std::vector<double>(size_t(m.config.outputs), 0.0)};
}

namespace {

// One reservoir update: x <- (1-a) x + a tanh(W_in [1;u] + W x + W_back y_prev). `pre` is (N) scratch.
void reservoir_step(const Esn& m, const double* u, const std::vector<double>& y_prev,
                    std::vector<double>& x, std::vector<double>& pre) {
  const EsnConfig& c = m.config;
  const int64_t N = c.units, K = c.inputs, L = c.outputs;
  for (int64_t i = 0; i < N; ++i) {
    const double* wi = m.w_in.ptr() + i * (1 + K);
    double s = wi[0];
    for (int64_t k = 0; k < K; ++k) s += wi[1 + k] * u[k];
    if (!m.w_back.empty())
      for (int64_t l = 0; l < L; ++l) s += m.w_back[i * L + l] * y_prev[size_t(l)];
    pre[size_t(i)] = s;
  }
  m.w.multiply_add(x.data(), pre.data());
  const double a = c.leak_rate;
  for (int64_t i = 0; i < N; ++i) x[size_t(i)] = (1 - a) * x[size_t(i)] + a * std::tanh(pre[size_t(i)]);
}

// z = [1; u; x; y_prev] as configured.
void readout_features(const Esn& m, const double* u, const std::vector<double>& x,
                      const std::vector<double>& y_prev, double* z) {
  const EsnConfig& c = m.config;
  *z++ = 1;
  if (c.readout_input)
    for (int64_t k = 0; k < c.inputs; ++k) *z++ = u[k];
  for (double v : x) *z++ = v;
  if (c.readout_output)
    for (double v : y_prev) *z++ = v;
}

void check_sequence(const Tensor<double>& X, int64_t width, const char* name) {
  RECUR_CHECK(X.rank() == 2 && X.dim(1) == width,
              "ESN: " << name << " has shape " << X.shape_string() << "; expected (T, " << width << ")");
  check_finite(X, std::string("ESN ") + name);
}

}  // namespace

EsnFitResult esn_fit(Esn& m, const Tensor<double>& U, const Tensor<double>& Y,
                     const EsnFitOptions& o) {
  const EsnConfig& c = m.config;
  check_sequence(U, c.inputs, "inputs");
  check_sequence(Y, c.outputs, "targets");
  const int64_t T = U.dim(0), K = c.inputs, L = c.outputs, D = c.features();
  RECUR_CHECK(Y.dim(0) == T, "ESN: " << T << " input steps but " << Y.dim(0) << " target steps");
  RECUR_CHECK(o.washout >= 0 && o.washout < T,
              "ESN: the washout (" << o.washout << ") must leave steps to fit in " << T);
  RECUR_CHECK(o.ridge >= 0 && o.teacher_noise >= 0, "ESN: ridge and teacher noise must be >= 0");
  const int64_t F = T - o.washout;
  Tensor<double> Z({F, D}), Yf({F, L});
  EsnState s = esn_zero_state(m);
  std::vector<double> pre(static_cast<size_t>(c.units));
  Rng noise(o.noise_seed);
  for (int64_t t = 0; t < T; ++t) {
    reservoir_step(m, U.ptr() + t * K, s.y_prev, s.x, pre);
    if (t >= o.washout) {
      readout_features(m, U.ptr() + t * K, s.x, s.y_prev, Z.ptr() + (t - o.washout) * D);
      std::copy_n(Y.ptr() + t * L, L, Yf.ptr() + (t - o.washout) * L);
    }
    for (int64_t l = 0; l < L; ++l)
      s.y_prev[size_t(l)] = Y[t * L + l] + (o.teacher_noise > 0 ? noise.uniform(-1, 1) * o.teacher_noise : 0);
  }
  const Tensor<double> Wt = ridge_regression(Z, Yf, o.ridge);  // (D,L) = W_out^T
  m.w_out = Tensor<double>({L, D});
  for (int64_t d = 0; d < D; ++d)
    for (int64_t l = 0; l < L; ++l) m.w_out[l * D + d] = Wt[d * L + l];
  Tensor<double> P({F, L});
  linear_forward(P.ptr(), Z.ptr(), m.w_out.ptr(), static_cast<const double*>(nullptr), F, D, L);
  // The state carries on from the last step with the true last target fed back.
  for (int64_t l = 0; l < L; ++l) s.y_prev[size_t(l)] = Y[(T - 1) * L + l];
  return {nrmse(P, Yf), F, std::move(s)};
}

Tensor<double> esn_states(const Esn& m, EsnState& state, const Tensor<double>& U) {
  check_sequence(U, m.config.inputs, "inputs");
  const int64_t T = U.dim(0), K = m.config.inputs, N = m.config.units;
  Tensor<double> X({T, N});
  std::vector<double> pre(static_cast<size_t>(N));
  for (int64_t t = 0; t < T; ++t) {
    reservoir_step(m, U.ptr() + t * K, state.y_prev, state.x, pre);
    std::copy(state.x.begin(), state.x.end(), X.ptr() + t * N);
  }
  return X;
}

Tensor<double> esn_run(const Esn& m, EsnState& state, const Tensor<double>& U,
                       const Tensor<double>* teacher) {
  const EsnConfig& c = m.config;
  RECUR_CHECK(!m.w_out.empty(), "ESN: the readout is not fitted; fit it before running");
  check_sequence(U, c.inputs, "inputs");
  const int64_t T = U.dim(0), K = c.inputs, L = c.outputs, D = c.features();
  if (teacher) {
    check_sequence(*teacher, L, "teacher");
    RECUR_CHECK(teacher->dim(0) == T, "ESN: " << T << " input steps but " << teacher->dim(0)
                                              << " teacher steps");
  }
  RECUR_CHECK(int64_t(state.x.size()) == c.units && int64_t(state.y_prev.size()) == L,
              "ESN: the state has " << state.x.size() << " units and " << state.y_prev.size()
                                    << " outputs; expected " << c.units << " and " << L);
  Tensor<double> Y({T, L});
  std::vector<double> pre(static_cast<size_t>(c.units)), z(static_cast<size_t>(D));
  for (int64_t t = 0; t < T; ++t) {
    reservoir_step(m, U.ptr() + t * K, state.y_prev, state.x, pre);
    readout_features(m, U.ptr() + t * K, state.x, state.y_prev, z.data());
    linear_forward(Y.ptr() + t * L, z.data(), m.w_out.ptr(), static_cast<const double*>(nullptr), 1, D, L);
    for (int64_t l = 0; l < L; ++l)
      state.y_prev[size_t(l)] = teacher ? (*teacher)[t * L + l] : Y[t * L + l];
  }
  return Y;
}

double nrmse(const Tensor<double>& prediction, const Tensor<double>& target) {
  RECUR_CHECK(prediction.shape == target.shape && target.numel() > 0,
              "nrmse: prediction " << prediction.shape_string() << " and target "
                                   << target.shape_string() << "; expected equal, non-empty shapes");
  const int64_t n = target.numel();
  double mean = 0;
  for (double v : target.data) mean += v;
  mean /= double(n);
  double var = 0, se = 0;
  for (int64_t i = 0; i < n; ++i) {
    var += (target[i] - mean) * (target[i] - mean);
    se += (prediction[i] - target[i]) * (prediction[i] - target[i]);
  }
  RECUR_CHECK(var > 0, "nrmse: the target is constant, so its variance is 0");
  return std::sqrt(se / var);
}

void save_esn(const std::string& path, const Esn& m, const std::map<std::string, std::string>& extra) {
  RECUR_CHECK(!m.w_out.empty(), "ESN: the readout is not fitted; nothing to save");
  const EsnConfig& c = m.config;
  std::map<std::string, Tensor<double>> tensors{
      {"w_in", m.w_in}, {"w", m.w.dense()}, {"w_out", m.w_out}};
  if (!m.w_back.empty()) tensors["w_back"] = m.w_back;
  Metadata md = extra;
  md["task"] = "esn";
  md["inputs"] = std::to_string(c.inputs);
  md["units"] = std::to_string(c.units);
  md["outputs"] = std::to_string(c.outputs);
  md["connectivity"] = exact_double(c.connectivity);
  md["spectral_radius"] = exact_double(c.spectral_radius);
  md["radius_method"] = c.radius_method;
  md["input_scaling"] = exact_double(c.input_scaling);
  md["bias_scaling"] = exact_double(c.bias_scaling);
  md["leak_rate"] = exact_double(c.leak_rate);
  md["feedback_scaling"] = exact_double(c.feedback_scaling);
  md["readout_input"] = c.readout_input ? "true" : "false";
  md["readout_output"] = c.readout_output ? "true" : "false";
  md["seed"] = std::to_string(c.seed);
  save_safetensors<double>(path, tensors, md);
}

Esn load_esn(const std::string& path) {
  const Safetensors<double> st = load_safetensors<double>(path);
  const Metadata& md = st.metadata;
  RECUR_CHECK(md.count("task") && md.at("task") == "esn",
              "'" << path << "' is not an ESN model (task '"
                  << (md.count("task") ? md.at("task") : std::string("none")) << "')");
  Esn m;
  EsnConfig& c = m.config;
  c.inputs = metadata_int(md, "inputs", "ESN");
  c.units = metadata_int(md, "units", "ESN");
  c.outputs = metadata_int(md, "outputs", "ESN");
  c.connectivity = metadata_double(md, "connectivity", "ESN");
  c.spectral_radius = metadata_double(md, "spectral_radius", "ESN");
  c.radius_method = metadata_string(md, "radius_method", "ESN");
  c.input_scaling = metadata_double(md, "input_scaling", "ESN");
  c.bias_scaling = metadata_double(md, "bias_scaling", "ESN");
  c.leak_rate = metadata_double(md, "leak_rate", "ESN");
  c.feedback_scaling = metadata_double(md, "feedback_scaling", "ESN");
  c.readout_input = metadata_bool(md, "readout_input", "ESN");
  c.readout_output = metadata_bool(md, "readout_output", "ESN");
  c.seed = uint64_t(metadata_int(md, "seed", "ESN"));
  c.validate();
  auto take = [&](const std::string& name, const Shape& shape) {
    const Tensor<double>& t = require_tensor(st, name, path);
    RECUR_CHECK(t.shape == shape, "'" << path << "': tensor '" << name << "' has shape "
                                      << t.shape_string() << ", expected " << shape_str(shape));
    check_finite(t, "'" + path + "' tensor '" + name + "'");
    return t;
  };
  m.w_in = take("w_in", {c.units, 1 + c.inputs});
  m.w = SparseRows::from_dense(take("w", {c.units, c.units}));
  m.w_out = take("w_out", {c.outputs, c.features()});
  if (c.feedback_scaling > 0) m.w_back = take("w_back", {c.units, c.outputs});
  return m;
}

}  // namespace recur
