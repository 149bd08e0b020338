// Reading and writing the safetensors format (named tensors plus string metadata in one file).
//
// Layout: an 8-byte little-endian u64 N, N bytes of JSON header
//   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}}
// then the raw little-endian data buffer; offsets are relative to the start of that buffer.
#pragma once

#include <map>
#include <string>

#include "recur/core/tensor.h"

namespace recur {

template <class T>
struct Safetensors {
  std::map<std::string, Tensor<T>> tensors;
  std::map<std::string, std::string> metadata;
};

// Loads every tensor, converting F32, F64, F16, BF16, I32 and I64 to T (T = float or double).
// Validates the whole file and throws recur::Error naming the path (and the tensor) on any defect.
template <class T>
Safetensors<T> load_safetensors(const std::string& path);

// Writes F32 for float and F64 for double, atomically, keys sorted, "__metadata__" first, the
// header padded with spaces to a multiple of 8 bytes (as the reference implementation does).
template <class T>
void save_safetensors(const std::string& path, const std::map<std::string, Tensor<T>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Returns st.tensors[name], or throws "'path' has no tensor 'name'; it has: a, b, c".
template <class T>
const Tensor<T>& require_tensor(const Safetensors<T>& st, const std::string& name,
                                const std::string& path);

}  // namespace recur
