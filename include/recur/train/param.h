// recur::Param: a named view of one trainable tensor and its gradient, the unit optimizers,
// gradient clipping and checkpoints work on.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "recur/core/error.h"
#include "recur/core/tensor.h"

namespace recur {

// Non-owning: the layer that holds the tensors outlives the Param list. grad has value's shape.
template <class T>
struct Param {
  std::string name;
  Tensor<T>* value;
  Tensor<T>* grad;
};

// Sets every gradient to zero (before a new backward pass, since parameter gradients accumulate).
template <class T>
void zero_grads(const std::vector<Param<T>>& params) {
  for (const Param<T>& p : params) p.grad->fill(T(0));
}

// Throws unless every Param has a non-empty unique name, non-null tensors, and grad shaped like
// value.
template <class T>
void check_params(const std::vector<Param<T>>& params) {
  std::set<std::string> seen;
  for (const Param<T>& p : params) {
    RECUR_CHECK(!p.name.empty(), "parameter list holds a parameter with an empty name");
    RECUR_CHECK(seen.insert(p.name).second, "parameter name '" << p.name << "' appears twice");
    RECUR_CHECK(p.value && p.grad, "parameter '" << p.name << "' has a null value or gradient");
    RECUR_CHECK(p.value->shape == p.grad->shape,
                "parameter '" << p.name << "' has shape " << p.value->shape_string()
                              << " but its gradient has shape " << p.grad->shape_string());
  }
}

}  // namespace recur
