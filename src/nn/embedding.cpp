// Embedding lookup forward (gather) and backward (scatter-add); equations in recur/nn/embedding.h.
//
// Shapes key: N = rows (tokens), E = embedding size, V = vocabulary.
// Gradient rule: parameter gradients (dtable) accumulate (+=).
#include "recur/nn/embedding.h"

#include <algorithm>

#include "recur/core/error.h"

namespace recur {

namespace {
// Checks every id before anything is written, so a bad id leaves the outputs untouched.
void check_ids(const int64_t* ids, int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n) {
    RECUR_CHECK(ids[n] >= 0 && ids[n] < V, "embedding: id "
                                               << ids[n] << " at row " << n
                                               << " is out of range; expected 0 <= id < " << V
                                               << " (the vocabulary size)");
  }
}
}  // namespace

template <class T>
void embedding_forward(T* out, const int64_t* ids, const T* table, int64_t N, int64_t V,
                       int64_t E) {
  check_ids(ids, N, V);
  for (int64_t n = 0; n < N; ++n) {
    const T* src = table + ids[n] * E;  // (E)
    std::copy(src, src + E, out + n * E);
  }
}

template <class T>
void embedding_backward(T* dtable, const T* dout, const int64_t* ids, int64_t N, int64_t V,
                        int64_t E) {
  check_ids(ids, N, V);
  for (int64_t n = 0; n < N; ++n) {
    T* dst = dtable + ids[n] * E;  // (E)
    const T* g = dout + n * E;     // (E)
    for (int64_t e = 0; e < E; ++e) dst[e] += g[e];
  }
}

template void embedding_forward<float>(float*, const int64_t*, const float*, int64_t, int64_t,
                                       int64_t);
template void embedding_forward<double>(double*, const int64_t*, const double*, int64_t, int64_t,
                                        int64_t);
template void embedding_backward<float>(float*, const float*, const int64_t*, int64_t, int64_t,
                                        int64_t);
template void embedding_backward<double>(double*, const double*, const int64_t*, int64_t, int64_t,
                                         int64_t);

}  // namespace recur
