// recur::Param: a named view of one trainable tensor and its gradient, the unit optimizers,
// gradient clipping and checkpoints work on.
#pragma once

#include <set>
#include <utility>
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

// Pairs every parameter of a model with its gradient buffer, in the order of the model's named()
// list; `grads` is a model of the same configuration (its tensors have the model's shapes). Any
// model with named(): every NamedParams model (recur/nn/param_visitor.h).
template <class T>
std::vector<Param<T>> pair_params(const std::vector<std::pair<std::string, Tensor<T>*>>& p,
                                  const std::vector<std::pair<std::string, Tensor<T>*>>& g) {
  RECUR_CHECK(p.size() == g.size(), "param_list: the gradient model has " << g.size()
                                        << " tensors, the model " << p.size());
  std::vector<Param<T>> out;
  for (size_t i = 0; i < p.size(); ++i) out.push_back({p[i].first, p[i].second, g[i].second});
  return out;
}

template <class Model>
auto param_list(Model& model, Model& grads) {
  return pair_params(model.named(), grads.named());
}

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
