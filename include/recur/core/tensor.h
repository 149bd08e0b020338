// recur::Tensor<T>: a dense, row-major (C order) array with a shape. The only container kernels see
// (through raw pointers and sizes), so a CUDA backend can hold its own device buffers behind the same
// kernel names.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "recur/core/error.h"

namespace recur {

using Shape = std::vector<int64_t>;

inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

template <class T>
struct Tensor {
  Shape shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(Shape s, T fill = T(0)) : shape(std::move(s)), data(size_t(shape_numel(shape)), fill) {}
  Tensor(Shape s, std::vector<T> values) : shape(std::move(s)), data(std::move(values)) {
    RECUR_CHECK(int64_t(data.size()) == shape_numel(shape),
                "tensor of shape " << shape_str(shape) << " given " << data.size() << " values");
  }

  int64_t numel() const { return int64_t(data.size()); }
  int rank() const { return int(shape.size()); }
  int64_t dim(int i) const { return shape.at(size_t(i < 0 ? i + rank() : i)); }
  bool empty() const { return data.empty(); }
  T* ptr() { return data.data(); }
  const T* ptr() const { return data.data(); }
  T& operator[](int64_t i) { return data[size_t(i)]; }
  const T& operator[](int64_t i) const { return data[size_t(i)]; }
  void fill(T v) { std::fill(data.begin(), data.end(), v); }
  // Gives the tensor shape s for a caller that overwrites every value: the storage is kept when it
  // already holds that many values (they are stale, not zeroed), so loops that run the same shapes
  // again allocate and clear nothing.
  void reuse_as(Shape s) {
    const int64_t n = shape_numel(s);
    if (n != numel()) data.assign(size_t(n), T(0));
    shape = std::move(s);
  }
  std::string shape_string() const { return shape_str(shape); }
};

// Converts element type (float <-> double), keeping the shape.
template <class To, class From>
Tensor<To> tensor_cast(const Tensor<From>& x) {
  Tensor<To> y(x.shape);
  for (int64_t i = 0; i < x.numel(); ++i) y[i] = To(x[i]);
  return y;
}

}  // namespace recur

namespace recur {

// Throws if any value is NaN or infinite, naming the tensor (`what`) and the first bad index.
template <class T>
void check_finite(const Tensor<T>& x, const std::string& what) {
  for (int64_t i = 0; i < x.numel(); ++i) {
    const T v = x[i];
    RECUR_CHECK(v == v && v - v == T(0),
                what << " holds a non-finite value (" << v << ") at flat index " << i
                     << " of shape " << x.shape_string() << "; expected finite numbers");
  }
}

}  // namespace recur
