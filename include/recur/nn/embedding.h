// Embedding lookup: each row of the output is the table row named by an integer id.
//
// Shapes key: N = rows (tokens), E = embedding size, V = vocabulary.
//
//   forward:  out[n, :] = table[ids[n], :]
//   backward: dtable[ids[n], :] += dout[n, :]   (rows with a repeated id accumulate)
//
// Gradient rule (this file): parameter gradients (dtable) accumulate with +=; there is no
// activation gradient (ids are integers).
#pragma once

#include <cstdint>

namespace recur {

// out (N,E) = table (V,E) gathered at ids (N). Throws recur::Error naming the row and the id when
// an id is outside [0, V).
template <class T>
void embedding_forward(T* out, const int64_t* ids, const T* table, int64_t N, int64_t V, int64_t E);

// dtable (V,E) += scatter of dout (N,E) at ids (N). Same bounds check as the forward.
template <class T>
void embedding_backward(T* dtable, const T* dout, const int64_t* ids, int64_t N, int64_t V,
                        int64_t E);

}  // namespace recur
