// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0, C order, little-endian).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/core/tensor.h"

namespace recur {

// Loads a C-order array of dtype '<f4', '<f8', '<f2', '<i1'..'<i8', '<u1'..'<u8' or '|b1' and
// converts it to T (float or double). Fortran order, big-endian, structured and other dtypes are
// rejected, as are a malformed header and a data section of the wrong length; every error names
// the path.
template <class T>
Tensor<T> load_npy(const std::string& path);

// Writes x as '<f4' (float) or '<f8' (double), version 1.0, the data starting at a multiple of
// 64 bytes, atomically.
template <class T>
void save_npy(const std::string& path, const Tensor<T>& x);

// Loads an index array, flattened: integer dtypes, or floating dtypes whose values are all
// integral. Anything else (a fraction, NaN, out of int64 range, booleans) throws. The array's
// shape goes to *shape when given.
std::vector<int64_t> load_npy_int(const std::string& path, Shape* shape = nullptr);

}  // namespace recur
