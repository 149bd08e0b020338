// Users' own labelled arrays from .npy files: features (N, T, F), labels (N,) for a class per
// sequence or (N, T) for a class per step, and optional lengths (N,) for sequences shorter than
// T (steps past a sequence's length are never read). Every error names the file and the index.
//
// A data directory holds its splits under Keras's names: x_train.npy, y_train.npy and, where
// some sequences are shorter, lengths_train.npy; the same for valid and test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/data/classification.h"

namespace recur {

enum class ArrayLabels { per_sequence, per_step };

struct LabeledArrays {
  std::string source;            // the features' path, for messages
  Tensor<float> x;               // (N, T, F), finite within each sequence's length
  std::vector<int64_t> labels;   // N (per sequence) or N * T (per step), >= 0 within lengths
  std::vector<int64_t> lengths;  // N, each in [1, T]
  int64_t count() const { return x.shape[0]; }
  int64_t steps() const { return x.shape[1]; }
  int64_t features() const { return x.shape[2]; }
};

// lengths_path may be empty: every sequence is T steps long. y_path may be empty for features to
// predict: labels stays empty.
LabeledArrays read_labeled_arrays(const std::string& x_path, const std::string& y_path,
                                  const std::string& lengths_path, ArrayLabels kind);

// The split's files in dir, or nothing when x_<split>.npy is absent. A present x without its
// y is an error.
std::optional<LabeledArrays> read_array_split(const std::string& dir, const std::string& split,
                                              ArrayLabels kind);

// Per-sequence labelled arrays as classification examples, each cut at its length (label -1
// where the arrays have no labels).
std::vector<Example> array_examples(const LabeledArrays& a);

}  // namespace recur
