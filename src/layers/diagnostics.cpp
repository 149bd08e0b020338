// Gradient-flow diagnostics (recur/layers/diagnostics.h): the time loop's backward, one sequence,
// keeping the norm of the state gradient at every step, plus each step's recurrent Jacobian.
#include "recur/layers/diagnostics.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "cells/cell.h"
#include "recur/core/error.h"
#include "recur/core/linalg.h"

namespace recur {
namespace {

double norm2(const double* v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += v[i] * v[i];
  return std::sqrt(s);
}

// One step's backward from the state gradient (dh, dc) to (dh_prev, dc_prev); the parameter-side
// outputs land in scratch buffers and are dropped.
struct StepBack {
  const cells::CellOps<double>& ops;
  const RnnCellParams<double>& p;
  const RnnConfig& cfg;
  const RnnDirCache<double>& dc;
  bool lstm;
  int64_t H, W;
  std::vector<double> dg, dg_hh, dunit, scratch;
  cells::StepWeights<double> packed;

  StepBack(const cells::CellOps<double>& o, const RnnCellParams<double>& params, const RnnConfig& c,
           const RnnDirCache<double>& cache)
      : ops(o), p(params), cfg(c), dc(cache), lstm(c.has_cell_state()), H(c.hidden_size),
        W(o.cache_width(c)), dg(size_t(c.gates() * H)), dg_hh(dg.size()),
        dunit(size_t(cells::unit_params_size(c))), scratch(dg.size()) {
    ops.pack(packed, p, cfg, true, {1}, cells::PackMode{false});
  }

  // Step t (0-based) runs between states t and t+1.
  void operator()(int64_t t, const double* dh, const double* dcell, double* dh_prev, double* dc_prev) {
    cells::StepBackward<double> s{dh,
                                  lstm ? dcell : nullptr,
                                  dc.states_h.ptr() + t * H,
                                  lstm ? dc.states_c.ptr() + t * H : nullptr,
                                  dc.states_h.ptr() + (t + 1) * H,
                                  lstm ? dc.states_c.ptr() + (t + 1) * H : nullptr,
                                  dc.cell.ptr() + t * W,
                                  dg.data(),
                                  ops.hh_grads_differ(cfg) ? dg_hh.data() : dg.data(),
                                  dh_prev,
                                  lstm ? dc_prev : nullptr,
                                  dunit.empty() ? nullptr : dunit.data(),
                                  scratch.data(),
                                  &packed,
                                  0};
    ops.backward_step(s, p, cfg, 1);
  }
};

void gate_traces(GradientFlow& f, const RnnConfig& cfg, const RnnDirCache<double>& dc, int64_t T,
                 int64_t H, int64_t W) {
  std::vector<std::pair<std::string, int64_t>> gates;  // name, offset in the cache row
  if (cfg.cell == CellKind::lstm) gates = {{"input", 0}, {"forget", H}, {"output", 3 * H}};
  if (cfg.cell == CellKind::gru) gates = {{"reset", 0}, {"update", H}};
  for (const auto& [name, off] : gates) {
    GateTrace g{name, {}, {}};
    for (int64_t t = 0; t < T; ++t) {
      const double* v = dc.cell.ptr() + t * W + off;
      double mean = 0, sat = 0;
      for (int64_t j = 0; j < H; ++j) mean += v[j], sat += (v[j] < 0.05 || v[j] > 0.95) ? 1 : 0;
      g.mean.push_back(mean / double(H));
      g.saturated.push_back(sat / double(H));
    }
    f.gates.push_back(std::move(g));
  }
}

}  // namespace

GradientFlow gradient_flow(const RnnParams<double>& params, const RnnCache<double>& cache, int layer,
                           const Tensor<double>& dh_T, const Tensor<double>& dc_T,
                           const GradientFlowOptions& options) {
  const RnnConfig& cfg = params.config;
  RECUR_CHECK(cache.batch == 1, "gradient_flow: one sequence at a time (batch 1), got " << cache.batch);
  RECUR_CHECK(layer >= 0 && layer < cfg.num_layers,
              "gradient_flow: layer " << layer << " of a " << cfg.num_layers << "-layer network");
  RECUR_CHECK(int(cache.layers.size()) == cfg.num_layers, "gradient_flow: the cache is not from rnn_forward");
  RECUR_CHECK(cache.lengths.empty() || cache.lengths[0] == cache.steps,
              "gradient_flow: the sequence must fill all " << cache.steps << " steps");
  RECUR_CHECK(options.jacobian_every >= 1, "gradient_flow: jacobian_every must be >= 1");
  const int64_t T = cache.steps, H = cfg.hidden_size;
  const bool lstm = cfg.has_cell_state();
  RECUR_CHECK(dh_T.numel() == H, "gradient_flow: dh_T has " << dh_T.numel() << " values, expected " << H);
  RECUR_CHECK(dc_T.empty() || (lstm && dc_T.numel() == H),
              "gradient_flow: dc_T must be empty or hold " << H << " values (LSTM only)");
  const cells::CellOps<double> ops = cells::ops_for<double>(cfg);
  const int64_t W = ops.cache_width(cfg);
  const RnnCellParams<double>& p = params.cells[size_t(layer * cfg.directions())];
  const RnnDirCache<double>& dc = cache.layers[size_t(layer)].dirs[0];

  GradientFlow f;
  f.steps = T;
  f.grad_h.assign(size_t(T + 1), 0.0);
  if (lstm) f.grad_c.assign(size_t(T + 1), 0.0);
  std::vector<double> dh(dh_T.data), dcell(static_cast<size_t>(H), 0.0);
  if (!dc_T.empty()) dcell = dc_T.data;
  std::vector<double> dh_prev(static_cast<size_t>(H)), dc_prev(static_cast<size_t>(H));
  const int64_t S = lstm ? 2 * H : H;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (options.jacobians) {
    f.jacobian_norm.assign(size_t(T), nan);
    f.jacobian_radius.assign(size_t(T), nan);
  }
  std::vector<double> uh(static_cast<size_t>(H)), uc(static_cast<size_t>(H)), unused(static_cast<size_t>(H));
  StepBack back(ops, p, cfg, dc);
  Tensor<double> J({S, S});
  for (int64_t t = T - 1; t >= 0; --t) {
    f.grad_h[size_t(t + 1)] = norm2(dh.data(), H);
    if (lstm) f.grad_c[size_t(t + 1)] = norm2(dcell.data(), H);
    back(t, dh.data(), dcell.data(), dh_prev.data(), dc_prev.data());
    if (options.jacobians && t % options.jacobian_every == 0) {
      // Row j of J = J^T e_j: the backward of a unit state gradient, written straight into the row
      // ([dh_prev; dc_prev] for the LSTM).
      for (int64_t j = 0; j < S; ++j) {
        std::fill(uh.begin(), uh.end(), 0.0);
        std::fill(uc.begin(), uc.end(), 0.0);
        (j < H ? uh[size_t(j)] : uc[size_t(j - H)]) = 1.0;
        double* row = J.ptr() + j * S;
        back(t, uh.data(), uc.data(), row, lstm ? row + H : unused.data());
      }
      double top = 0;
      for (const auto& l : eigenvalues(gram(J))) top = std::max(top, l.real());
      f.jacobian_norm[size_t(t)] = std::sqrt(std::max(top, 0.0));
      f.jacobian_radius[size_t(t)] = spectral_radius(J);
    }
    dh = dh_prev;
    if (lstm) dcell = dc_prev;
  }
  f.grad_h[0] = norm2(dh.data(), H);
  if (lstm) f.grad_c[0] = norm2(dcell.data(), H);
  gate_traces(f, cfg, dc, T, H, W);
  return f;
}

namespace {

void write_array(std::ostringstream& os, const std::vector<double>& v) {
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) os << ", ";
    if (std::isfinite(v[i])) os << v[i];
    else os << "null";
  }
  os << "]";
}

}  // namespace

std::string gradient_flow_json(const GradientFlow& f) {
  std::ostringstream os;
  os.precision(9);
  os << "{\"steps\": " << f.steps << ", \"grad_h\": ";
  write_array(os, f.grad_h);
  if (!f.grad_c.empty()) os << ", \"grad_c\": ", write_array(os, f.grad_c);
  if (!f.jacobian_norm.empty()) {
    os << ", \"jacobian_norm\": ";
    write_array(os, f.jacobian_norm);
    os << ", \"jacobian_radius\": ";
    write_array(os, f.jacobian_radius);
  }
  os << ", \"gates\": {";
  for (size_t g = 0; g < f.gates.size(); ++g) {
    os << (g ? ", " : "") << "\"" << f.gates[g].name << "\": {\"mean\": ";
    write_array(os, f.gates[g].mean);
    os << ", \"saturated\": ";
    write_array(os, f.gates[g].saturated);
    os << "}";
  }
  os << "}}";
  return os.str();
}

}  // namespace recur
