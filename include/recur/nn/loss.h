// Softmax, log-softmax and the fused, numerically stable softmax cross-entropy loss.
//
// Shapes key: N = rows, V = vocabulary (number of classes); z = logits (N,V), t = targets (N).
//
//   m_n     = max_v z[n, v]                                  (subtracted for stability)
//   lse_n   = m_n + log sum_v exp(z[n, v] - m_n)
//   log_softmax(z)[n, v] = z[n, v] - lse_n
//   softmax(z)[n, v]     = exp(z[n, v] - m_n) / sum_u exp(z[n, u] - m_n)
//   C       = number of rows with t_n != ignore_index
//   loss    = (1/C) sum_{kept n} (lse_n - z[n, t_n])
//   dz[n, v] = (softmax(z)[n, v] - [v == t_n]) / C   for kept rows; 0 for ignored rows
//
// Gradient rule (this file): there are no parameters; the activation gradient (dlogits) is assigned
// with =, ignored rows included (they get zeros).
#pragma once

#include <cstdint>

namespace recur {

// Mean cross-entropy over the rows whose target is not ignore_index (PyTorch's
// F.cross_entropy(reduction="mean", ignore_index=...)). Writes d(mean loss)/d logits into dlogits
// (N,V) unless it is nullptr. logits (N,V), targets (N). A target that is neither ignore_index nor
// in [0, V) throws recur::Error naming the row. When every row is ignored the loss is 0 and dlogits
// is all zeros (PyTorch returns NaN there; a fully padded batch should not poison training).
template <class T>
T softmax_cross_entropy(T* dlogits, const T* logits, const int64_t* targets, int64_t N, int64_t V,
                        int64_t ignore_index = -1);

// out (N,V) = log_softmax(logits (N,V)) along each row. out may equal logits (in place).
template <class T>
void log_softmax(T* out, const T* logits, int64_t N, int64_t V);

// out (N,V) = softmax(logits (N,V)) along each row. out may equal logits (in place).
template <class T>
void softmax(T* out, const T* logits, int64_t N, int64_t V);

}  // namespace recur
