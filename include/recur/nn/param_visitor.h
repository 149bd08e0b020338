// One parameter list per model. A model writes its tensors once, as a static member
//   static void visit_params(auto& self, auto&& f)
// calling f(name, tensor) for each, with PyTorch's names in module order (self is the model or a
// const model), and derives from NamedParams<Model, T>, which builds named(), state_dict(),
// load_state_dict() and num_parameters() from that one list.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "recur/core/error.h"
#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

// Calls f(name, tensor) for every parameter of `model` (a model with visit_params, or a const one).
template <class Model, class F>
void for_each_param(Model& model, F&& f) {
  std::remove_const_t<Model>::visit_params(model, f);
}

// Visits a submodule's parameters with `prefix` before each name ("rnn." + "weight_ih_l0").
template <class Sub, class F>
void visit_submodule(const std::string& prefix, Sub& sub, F& f) {
  for_each_param(sub, [&](const std::string& name, auto& t) { f(prefix + name, t); });
}

// Every parameter U(-a, a), drawn in visiting order: PyTorch's default for recurrent layers.
template <class Model>
void init_params_uniform(Model& model, Rng& rng, double a) {
  for_each_param(model, [&](const std::string&, auto& t) {
    for (auto& v : t.data) v = std::remove_reference_t<decltype(v)>(rng.uniform(-a, a));
  });
}

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

// The CRTP mixin: Derived (with element type T) defines visit_params and gets the rest.
template <class Derived, class T>
struct NamedParams {
  // PyTorch names -> tensors, in the module order of visit_params.
  std::vector<std::pair<std::string, Tensor<T>*>> named() { return collect<Tensor<T>>(self()); }
  std::vector<std::pair<std::string, const Tensor<T>*>> named() const {
    return collect<const Tensor<T>>(self());
  }
  std::map<std::string, Tensor<T>> state_dict() const { return named_to_map(named()); }
  // load_named: every tensor present, shaped as the model's, finite, and nothing else.
  void load_state_dict(const std::map<std::string, Tensor<T>>& tensors, const std::string& source) {
    load_named(named(), tensors, source);
  }
  // The number of values in all the parameters (PyTorch's sum of numel()).
  int64_t num_parameters() const {
    int64_t n = 0;
    Derived::visit_params(self(), [&](const std::string&, const Tensor<T>& t) { n += t.numel(); });
    return n;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  template <class Tn, class Self>
  static std::vector<std::pair<std::string, Tn*>> collect(Self& s) {
    std::vector<std::pair<std::string, Tn*>> out;
    Derived::visit_params(s, [&](const std::string& name, Tn& t) { out.push_back({name, &t}); });
    return out;
  }
};

}  // namespace recur
