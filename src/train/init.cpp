// Uniform, orthogonal, identity and Xavier initialisers; definitions in recur/train/init.h.
// The orthogonal factor comes from modified Gram-Schmidt, applied twice per column ("twice is
// enough") in double: it yields the QR factor whose R has a positive diagonal, which is exactly
// torch's sign-corrected Householder Q.
#include "recur/train/init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "recur/core/error.h"

namespace recur {

template <class T>
void init_uniform(Tensor<T>& t, Rng& rng, T a) {
  RECUR_CHECK(a >= T(0) && std::isfinite(double(a)),
              "init_uniform: bound is " << a << "; expected a finite value >= 0");
  for (T& v : t.data) v = T(rng.uniform(-double(a), double(a)));
}

template <class T>
void init_orthogonal(Tensor<T>& t, Rng& rng, T gain) {
  RECUR_CHECK(t.rank() >= 2,
              "init_orthogonal: tensor has shape " << t.shape_string() << "; expected rank >= 2");
  if (t.numel() == 0) return;
  const int64_t rows = t.dim(0), cols = t.numel() / rows;
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;  // factor A (m,n), m >= n
  // Gaussian G (rows, cols) drawn row-major; A = G, or G^T when wide. q[j] is column j of A.
  std::vector<std::vector<double>> q(static_cast<size_t>(n),
                                     std::vector<double>(static_cast<size_t>(m)));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double g = rng.normal();
      if (wide) {
        q[size_t(r)][size_t(c)] = g;
      } else {
        q[size_t(c)][size_t(r)] = g;
      }
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double>& a = q[size_t(j)];
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        const std::vector<double>& b = q[size_t(k)];
        double dot = 0;
        for (int64_t i = 0; i < m; ++i) dot += b[size_t(i)] * a[size_t(i)];
        for (int64_t i = 0; i < m; ++i) a[size_t(i)] -= dot * b[size_t(i)];
      }
    }
    double norm = 0;
    for (double x : a) norm += x * x;
    norm = std::sqrt(norm);
    RECUR_CHECK(norm > 1e-10, "init_orthogonal: Gaussian draw was rank deficient at column " << j);
    for (double& x : a) x /= norm;
  }
  // t = gain * Q (rows, cols), or gain * Q^T when wide.
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double v = wide ? q[size_t(r)][size_t(c)] : q[size_t(c)][size_t(r)];
      t[r * cols + c] = T(double(gain) * v);
    }
  }
}

template <class T>
void init_identity(Tensor<T>& t, T scale) {
  RECUR_CHECK(t.rank() == 2,
              "init_identity: tensor has shape " << t.shape_string() << "; expected rank 2");
  t.fill(T(0));
  const int64_t rows = t.dim(0), cols = t.dim(1);
  for (int64_t i = 0; i < std::min(rows, cols); ++i) t[i * cols + i] = scale;
}

template <class T>
void init_xavier_uniform(Tensor<T>& t, Rng& rng, T gain) {
  RECUR_CHECK(t.rank() >= 2, "init_xavier_uniform: tensor has shape " << t.shape_string()
                                                                      << "; expected rank >= 2");
  if (t.numel() == 0) return;
  const int64_t receptive = t.numel() / (t.dim(0) * t.dim(1));  // trailing dims' size
  const double fan_in = double(t.dim(1) * receptive), fan_out = double(t.dim(0) * receptive);
  init_uniform(t, rng, T(double(gain) * std::sqrt(6.0 / (fan_in + fan_out))));
}

template void init_uniform<float>(Tensor<float>&, Rng&, float);
template void init_uniform<double>(Tensor<double>&, Rng&, double);
template void init_orthogonal<float>(Tensor<float>&, Rng&, float);
template void init_orthogonal<double>(Tensor<double>&, Rng&, double);
template void init_identity<float>(Tensor<float>&, float);
template void init_identity<double>(Tensor<double>&, double);
template void init_xavier_uniform<float>(Tensor<float>&, Rng&, float);
template void init_xavier_uniform<double>(Tensor<double>&, Rng&, double);

}  // namespace recur
