// Between numpy arrays and recur::Tensor for the Python module: inputs are copied into tensors
// (any numeric array is converted), and results hand their storage to numpy without a copy.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <vector>

#include "recur/core/tensor.h"

namespace recur::python {

namespace py = pybind11;

template <class T>
using ArrayOf = py::array_t<T, py::array::c_style | py::array::forcecast>;
using Array = ArrayOf<float>;

// A copy of `a` as a tensor of T, checked finite (`what` names it in the error).
template <class T>
Tensor<T> to_tensor(const ArrayOf<T>& a, const char* what) {
  Shape shape;
  for (py::ssize_t k = 0; k < a.ndim(); ++k) shape.push_back(int64_t(a.shape(k)));
  Tensor<T> t(shape);
  std::copy_n(a.data(), t.numel(), t.ptr());
  check_finite(t, what);
  return t;
}
inline Tensor<float> to_tensor(const Array& a, const char* what) { return to_tensor<float>(a, what); }

// A copy of t as a numpy array.
template <class T>
ArrayOf<T> to_array(const Tensor<T>& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  ArrayOf<T> a(shape);
  std::copy_n(t.ptr(), t.numel(), a.mutable_data());
  return a;
}

// t's storage as a numpy array that owns it (t is left empty): no copy of a large result.
template <class T>
ArrayOf<T> give_array(Tensor<T>&& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  auto* storage = new std::vector<T>(std::move(t.data));
  t.shape.clear();
  py::capsule owner(storage, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return ArrayOf<T>(shape, storage->data(), owner);
}

}  // namespace recur::python
