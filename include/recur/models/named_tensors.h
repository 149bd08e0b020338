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

struct RnnConfig;
struct SequenceModelConfig;
struct ClassifierConfig;
struct ForecasterConfig;
struct Seq2SeqConfig;
struct ConditionalLmConfig;

// The number of values in the parameters a configuration builds (RnnParams, SequenceModel,
// SequenceClassifier, Forecaster, Seq2Seq, ConditionalLm), computed in double from the sizes alone,
// without building anything and without int64 overflow, for configurations read from a file.
double parameter_count(const RnnConfig& c);
double parameter_count(const SequenceModelConfig& c);
double parameter_count(const ClassifierConfig& c);
double parameter_count(const ForecasterConfig& c);
double parameter_count(const Seq2SeqConfig& c);
double parameter_count(const ConditionalLmConfig& c);

// What a model loader checks before it builds the network a file's metadata describes: the
// parameters (`count` values, parameter_count above) must fit in the tensors the file holds, since
// load_named() wants every one of them there. So a file claiming a vocabulary of 10^9 or a hidden
// size of 10^12 is an error naming `source`, not an allocation of gigabytes.
template <class T>
void check_parameter_count(double count, const std::map<std::string, Tensor<T>>& tensors,
                           const std::string& source) {
  double held = 0;
  for (const auto& [name, t] : tensors) held += double(t.numel());
  RECUR_CHECK(count <= held, source << ": the configuration in its metadata needs " << count
                                    << " parameter values but the file holds " << held
                                    << "; expected the metadata of the network its tensors hold");
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

}  // namespace recur
