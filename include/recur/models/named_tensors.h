// A model's parameters as a name -> tensor map and back: what every model's state_dict() and
// load_state_dict() do, given the model's named() list (PyTorch names, module order).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "recur/core/error.h"
#include "recur/core/tensor.h"

namespace recur {

template <class T>
std::map<std::string, Tensor<T>> named_to_map(
    const std::vector<std::pair<std::string, const Tensor<T>*>>& named) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& [n, t] : named) out[n] = *t;
  return out;
}

// Copies every named tensor from `tensors`: each must be present, of the right shape and finite,
// and `tensors` must hold nothing else. Errors name `source` and the tensor.
template <class T>
void load_named(const std::vector<std::pair<std::string, Tensor<T>*>>& named,
                const std::map<std::string, Tensor<T>>& tensors, const std::string& source) {
  for (auto& [name, dst] : named) {
    auto it = tensors.find(name);
    RECUR_CHECK(it != tensors.end(), source << ": missing tensor '" << name << "'");
    RECUR_CHECK(it->second.shape == dst->shape, source << ": tensor '" << name << "' has shape "
                                                       << it->second.shape_string() << ", expected "
                                                       << dst->shape_string());
    check_finite(it->second, source + " tensor '" + name + "'");
  }
  RECUR_CHECK(named.size() == tensors.size(), source << ": holds " << tensors.size()
                                                     << " tensors, the model has " << named.size());
  for (auto& [name, dst] : named) *dst = tensors.at(name);
}

}  // namespace recur
