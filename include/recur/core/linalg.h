// Dense linear algebra in double precision through LAPACK and BLAS (Debian's liblapack, on
// whichever libblas is installed): the Gram matrices and ridge solves
// (ESN readout, linear AR baseline) and the eigenvalues behind spectral-radius scaling. Row-major
// tensors in, row-major out; the column-major transposes LAPACK needs happen here.
#pragma once

#include <complex>
#include <vector>

#include "recur/core/tensor.h"

namespace recur {

// Solves G Z = R in place (R (n,m) becomes Z) for a symmetric positive definite G (n,n), by the
// Cholesky factorisation G = L L^T (LAPACK dpotrf, then dpotrs). Throws recur::Error naming the
// pivot when G is not positive definite, or singular to working precision (a squared pivot below
// 1e-12 of its diagonal entry).
void cholesky_solve(Tensor<double> G, Tensor<double>& R);

// X^T X (D,D) for X (T,D), both triangles filled (BLAS dsyrk).
Tensor<double> gram(const Tensor<double>& X);
// X^T Y (D,L) for X (T,D), Y (T,L) (BLAS dgemm).
Tensor<double> cross(const Tensor<double>& X, const Tensor<double>& Y);

// Ridge regression: W (D,L) minimising ||Z W - Y||^2 + ridge ||W||^2 for Z (N,D), Y (N,L), i.e.
// (Z^T Z + ridge I) W = Z^T Y, by gram, cross and cholesky_solve.
Tensor<double> ridge_regression(const Tensor<double>& Z, const Tensor<double>& Y, double ridge);

// All eigenvalues of a square matrix A (n,n), in LAPACK dgeev's order.
std::vector<std::complex<double>> eigenvalues(const Tensor<double>& A);

// max |lambda| over the eigenvalues of A.
double spectral_radius(const Tensor<double>& A);

}  // namespace recur
