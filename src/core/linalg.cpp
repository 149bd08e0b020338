// LAPACK behind recur/core/linalg.h. The Fortran entry points are declared here (Debian ships
// liblapack without LAPACKE); every argument is passed by pointer, matrices are column-major.
#include "recur/core/linalg.h"

#include <algorithm>
#include <cmath>

#include "recur/core/error.h"

extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda,
            double* wr, double* wi, double* vl, const int* ldvl, double* vr, const int* ldvr,
            double* work, const int* lwork, int* info);
}

namespace recur {
namespace {

int lapack_int(int64_t v, const char* what) {
  RECUR_CHECK(v >= 0 && v <= 1 << 30, what << " = " << v << " is beyond LAPACK's 32-bit sizes");
  return int(v);
}

}  // namespace

void cholesky_solve(Tensor<double> G, Tensor<double>& R) {
  RECUR_CHECK(G.rank() == 2 && R.rank() == 2 && G.dim(0) == G.dim(1) && R.dim(0) == G.dim(0),
              "cholesky_solve: G " << G.shape_string() << " and R " << R.shape_string()
                                   << "; expected G (n,n) and R (n,m)");
  const int n = lapack_int(G.dim(0), "cholesky_solve: n"), m = lapack_int(R.dim(1), "m");
  if (n == 0 || m == 0) return;
  // G is symmetric, so its row-major storage is its column-major storage; the upper triangle in
  // column-major order is the lower one row-major. Only the diagonal is read back below.
  std::vector<double> diagonal(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) diagonal[size_t(j)] = G[int64_t(j) * n + j];
  int info = 0;
  dpotrf_("L", &n, G.ptr(), &n, &info);
  RECUR_CHECK(info >= 0, "cholesky_solve: dpotrf rejected argument " << -info);
  // dpotrf stops at the first minor that is not positive definite; a tiny positive pivot is
  // rounding noise: the matrix is singular to working precision.
  int bad = info > 0 ? info - 1 : -1;
  for (int j = 0; bad < 0 && j < n; ++j) {
    const double l = G[int64_t(j) * n + j];
    if (!(l * l > 1e-12 * diagonal[size_t(j)])) bad = j;
  }
  RECUR_CHECK(bad < 0, "cholesky_solve: the matrix is not positive definite (pivot "
                           << bad << " of " << n << ", diagonal entry " << diagonal[size_t(bad)]
                           << "); the features are collinear: use a positive ridge");
  // R (n,m) row-major -> column-major B (n,m), solve, and back.
  std::vector<double> B(size_t(n) * size_t(m));
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) B[size_t(c) * size_t(n) + size_t(i)] = R[int64_t(i) * m + c];
  dpotrs_("L", &n, &m, G.ptr(), &n, B.data(), &n, &info);
  RECUR_CHECK(info == 0, "cholesky_solve: dpotrs failed (info " << info << ")");
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) R[int64_t(i) * m + c] = B[size_t(c) * size_t(n) + size_t(i)];
}

Tensor<double> gram(const Tensor<double>& X) {
  RECUR_CHECK(X.rank() == 2, "gram: expected a matrix (T,D), got " << X.shape_string());
  const int T = lapack_int(X.dim(0), "gram: T"), D = lapack_int(X.dim(1), "gram: D");
  Tensor<double> G({D, D});
  if (T == 0 || D == 0) return G;
  // Row-major X (T,D) is column-major X^T (D,T); G = X^T (X^T)^T, upper triangle column-major.
  const double one = 1, zero = 0;
  dsyrk_("U", "N", &D, &T, &one, X.ptr(), &D, &zero, G.ptr(), &D);
  // Column-major upper = row-major lower: mirror it into the row-major upper triangle.
  for (int i = 0; i < D; ++i)
    for (int j = i + 1; j < D; ++j) G[int64_t(i) * D + j] = G[int64_t(j) * D + i];
  return G;
}

Tensor<double> cross(const Tensor<double>& X, const Tensor<double>& Y) {
  RECUR_CHECK(X.rank() == 2 && Y.rank() == 2 && X.dim(0) == Y.dim(0),
              "cross: X " << X.shape_string() << " and Y " << Y.shape_string()
                          << "; expected X (T,D) and Y (T,L)");
  const int T = lapack_int(X.dim(0), "cross: T"), D = lapack_int(X.dim(1), "cross: D"),
            L = lapack_int(Y.dim(1), "cross: L");
  Tensor<double> C({D, L});
  if (T == 0 || D == 0 || L == 0) return C;
  // Column-major: C^T (L,D) = Y^T (L,T) @ X (T,D), with Y^T and X^T the row-major buffers.
  const double one = 1, zero = 0;
  dgemm_("N", "T", &L, &D, &T, &one, Y.ptr(), &L, X.ptr(), &D, &zero, C.ptr(), &L);
  return C;
}

Tensor<double> ridge_regression(const Tensor<double>& Z, const Tensor<double>& Y, double ridge) {
  RECUR_CHECK(ridge >= 0, "ridge_regression: the ridge must be >= 0, got " << ridge);
  Tensor<double> G = gram(Z);
  const int64_t D = G.dim(0);
  for (int64_t i = 0; i < D; ++i) G[i * D + i] += ridge;
  Tensor<double> W = cross(Z, Y);
  cholesky_solve(std::move(G), W);
  return W;
}

std::vector<std::complex<double>> eigenvalues(const Tensor<double>& A) {
  RECUR_CHECK(A.rank() == 2 && A.dim(0) == A.dim(1),
              "eigenvalues: expected a square matrix, got " << A.shape_string());
  const int n = lapack_int(A.dim(0), "eigenvalues: n");
  if (n == 0) return {};
  // Row-major A is column-major A^T, which has the same eigenvalues.
  std::vector<double> a(A.data), wr(static_cast<size_t>(n)), wi(static_cast<size_t>(n));
  double dummy = 0, query = 0;
  const int one = 1;
  int lwork = -1, info = 0;
  dgeev_("N", "N", &n, a.data(), &n, wr.data(), wi.data(), &dummy, &one, &dummy, &one, &query,
         &lwork, &info);
  lwork = std::max(int(query), 4 * n);
  std::vector<double> work(static_cast<size_t>(lwork));
  dgeev_("N", "N", &n, a.data(), &n, wr.data(), wi.data(), &dummy, &one, &dummy, &one,
         work.data(), &lwork, &info);
  RECUR_CHECK(info == 0, "eigenvalues: dgeev did not converge (info " << info << ")");
  std::vector<std::complex<double>> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[size_t(i)] = {wr[size_t(i)], wi[size_t(i)]};
  return out;
}

double spectral_radius(const Tensor<double>& A) {
  double rho = 0;
  for (const auto& l : eigenvalues(A)) rho = std::max(rho, std::abs(l));
  return rho;
}

}  // namespace recur
