// What a model loader checks against a file before it builds the network: the parameter count a
// configuration implies. (The name -> tensor map and back, state_dict() and load_state_dict(), come
// from recur/nn/param_visitor.h.)
#pragma once

#include <map>
#include <string>

#include "recur/core/error.h"
#include "recur/core/tensor.h"
#include "recur/nn/param_visitor.h"

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

}  // namespace recur
