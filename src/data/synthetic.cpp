// The generators of recur/data/synthetic.h.
#include "recur/data/synthetic.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/core/rng.h"

namespace recur {

Narma10 narma10(int64_t T, uint64_t seed) {
  RECUR_CHECK(T >= 1, "narma10: the length must be >= 1, got " << T);
  Rng rng(seed);
  Narma10 d;
  d.u.resize(size_t(T));
  d.y.resize(size_t(T));
  for (auto& v : d.u) v = rng.uniform(0.0, 0.5);
  // yt = y(t); d.y[t] = y(t+1). y(t-i) = d.y[t-i-1], zero before the start.
  auto y_at = [&](int64_t s) { return s >= 1 ? d.y[size_t(s - 1)] : 0.0; };
  for (int64_t t = 0; t < T; ++t) {
    double sum = 0;
    for (int64_t i = 0; i < 10; ++i) sum += y_at(t - i);
    const double u9 = t >= 9 ? d.u[size_t(t - 9)] : 0.0;
    const double yt = y_at(t);
    const double next = 0.3 * yt + 0.05 * yt * sum + 1.5 * u9 * d.u[size_t(t)] + 0.1;
    RECUR_CHECK(std::isfinite(next) && std::abs(next) < 1e3,
                "narma10: the series diverged at step " << t << " with seed " << seed
                                                        << "; use another seed");
    d.y[size_t(t)] = next;
  }
  return d;
}

std::vector<double> mackey_glass(int64_t T, const MackeyGlassOptions& o) {
  RECUR_CHECK(T >= 1, "mackey_glass: the length must be >= 1, got " << T);
  RECUR_CHECK(o.tau > 0 && o.subdivisions >= 1 && o.discard >= 0,
              "mackey_glass: expected tau > 0, subdivisions >= 1, discard >= 0");
  const double h = 1.0 / o.subdivisions;
  const int64_t lag = int64_t(std::llround(o.tau * o.subdivisions));
  RECUR_CHECK(std::abs(double(lag) * h - o.tau) < 1e-9,
              "mackey_glass: tau " << o.tau << " is not a multiple of the step 1/" << o.subdivisions);
  const int64_t steps = (o.discard + T) * o.subdivisions;
  // x on the grid, with the constant history [-tau, 0] first: x[k] is x at time (k - lag) h.
  std::vector<double> x(size_t(lag + steps + 1), 1.2);
  auto f = [](double xt, double xd) { return 0.2 * xd / (1 + std::pow(xd, 10)) - 0.1 * xt; };
  for (int64_t k = lag; k < lag + steps; ++k) {
    const double d0 = x[size_t(k - lag)], d1 = x[size_t(k - lag + 1)];
    const double dm = 0.5 * (d0 + d1);
    const double xt = x[size_t(k)];
    const double k1 = f(xt, d0);
    const double k2 = f(xt + 0.5 * h * k1, dm);
    const double k3 = f(xt + 0.5 * h * k2, dm);
    const double k4 = f(xt + h * k3, d1);
    x[size_t(k + 1)] = xt + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  std::vector<double> out(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t)
    out[size_t(t)] = x[size_t(lag + (o.discard + t + 1) * o.subdivisions)];
  return out;
}

AddingBatch adding_problem(int64_t T, int64_t N, Rng& rng) {
  RECUR_CHECK(T >= 2 && N >= 1, "adding problem: expected T >= 2 and N >= 1, got " << T << ", " << N);
  AddingBatch b{Tensor<float>({T, N, 2}), std::vector<float>(static_cast<size_t>(N))};
  const int64_t half = T / 2;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t first = int64_t(rng.below(uint64_t(half)));
    const int64_t second = half + int64_t(rng.below(uint64_t(T - half)));
    float sum = 0;
    for (int64_t t = 0; t < T; ++t) {
      const float v = float(rng.uniform());
      float* cell = b.x.ptr() + (t * N + n) * 2;
      cell[0] = v;
      if (t == first || t == second) {
        cell[1] = 1;
        sum += v;
      }
    }
    b.y[size_t(n)] = sum;
  }
  return b;
}

CopyBatch copy_task(int64_t T, int64_t N, Rng& rng) {
  RECUR_CHECK(T >= 1 && N >= 1, "copy task: expected T >= 1 and N >= 1, got " << T << ", " << N);
  const int64_t S = CopyBatch::kRecall, L = T + 2 * S, V = CopyBatch::kInputs;
  CopyBatch b{Tensor<float>({L, N, V}), std::vector<int64_t>(static_cast<size_t>(L * N), 0)};
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t t = 0; t < L; ++t) {
      int64_t token = 0;
      if (t < S) {
        token = 1 + int64_t(rng.below(CopyBatch::kSymbols));
        b.target[size_t((T + S + t) * N + n)] = token;
      } else if (t == T + S - 1) {
        token = V - 1;  // the delimiter
      }
      b.x[(t * N + n) * V + token] = 1;
    }
  }
  return b;
}

}  // namespace recur
