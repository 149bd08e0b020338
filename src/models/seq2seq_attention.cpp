// Seq2Seq's attention (recur/models/seq2seq.h): the scores, weights and context of one decoder
// step for its queries (Bahdanau, dot, general), and their backward.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cells/cell.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/parallel.h"
#include "models/seq2seq_network.h"
#include "recur/nn/linear.h"

namespace recur::seq2seq_net {
namespace {

// Bahdanau's hidden layer for row b: u_i = tanh(qp + k_i) (A values) for source positions i < len.
template <class T>
void additive_hidden(T* u, const T* qp, const T* K, int64_t b, int64_t B, int64_t A, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    const T* k = K + (i * B + b) * A;
    T* ui = u + i * A;
#pragma omp simd
    for (int64_t j = 0; j < A; ++j) ui[j] = qp[j] + k[j];
  }
  cpu::tanh_inplace(u, len * A);
}

}  // namespace

template <class T>
void attend(const Seq2Seq<T>& m, const Memory<T>& mem, const T* q, Tensor<T>& qp, Tensor<T>& alpha,
            Tensor<T>& ctx) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = mem.S, B = mem.B, De = c.encoder_width(), A = c.key_width();
  const int64_t Hd = c.decoder.hidden_size;
  const bool additive = c.context == ContextKind::bahdanau;
  alpha = Tensor<T>({B, S});
  ctx = Tensor<T>({B, De});
  if (additive) {
    qp = Tensor<T>({B, A});
    linear_forward(qp.ptr(), q, m.w_query.ptr(), static_cast<const T*>(nullptr), B, Hd, A);
  }
  const T* K = mem.key_ptr();
  const T* v = m.v_attention.ptr();
  const int blocks = B * S * A >= cells::kParallelElements ? cpu::row_blocks(B) : 1;
  cpu::for_row_blocks(blocks, B, [&](int, int64_t b0, int64_t b1) {
    std::vector<T> u(static_cast<size_t>(additive ? S * A : 0));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t len = mem.lengths[size_t(b)];
      T* a = alpha.ptr() + b * S;
      if (additive) {  // e_i = v . tanh(qp + k_i)
        additive_hidden(u.data(), qp.ptr() + b * A, K, b, B, A, len);
        for (int64_t i = 0; i < len; ++i) {
          const T* ui = u.data() + i * A;
          T e = 0;
#pragma omp simd reduction(+ : e)
          for (int64_t j = 0; j < A; ++j) e += v[j] * ui[j];
          a[i] = e;
        }
      } else {  // e_i = q . k_i
        const T* qb = q + b * Hd;
        for (int64_t i = 0; i < len; ++i) {
          const T* k = K + (i * B + b) * A;
          T e = 0;
#pragma omp simd reduction(+ : e)
          for (int64_t j = 0; j < A; ++j) e += qb[j] * k[j];
          a[i] = e;
        }
      }
      const T top = *std::max_element(a, a + len);
      T sum = 0;
      for (int64_t i = 0; i < len; ++i) sum += (a[i] = std::exp(a[i] - top));
      T* cb = ctx.ptr() + b * De;
      for (int64_t i = 0; i < len; ++i) {
        a[i] /= sum;
        const T ai = a[i];
        const T* h = mem.enc.ptr() + (i * B + b) * De;
#pragma omp simd
        for (int64_t j = 0; j < De; ++j) cb[j] += ai * h[j];
      }
    }
  });
}

template <class T>
void attend_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem, const T* q,
                     const Tensor<T>& qp, const Tensor<T>& alpha, const T* dctx, T* dq,
                     Tensor<T>& denc, Tensor<T>& dkeys) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = mem.S, B = mem.B, De = c.encoder_width(), A = c.key_width();
  const int64_t Hd = c.decoder.hidden_size;
  const bool additive = c.context == ContextKind::bahdanau;
  const T* K = mem.key_ptr();
  const T* v = m.v_attention.ptr();
  T* dK = mem.keys.empty() ? denc.ptr() : dkeys.ptr();
  Tensor<T> dqp;
  if (additive) dqp = Tensor<T>({B, A});
  const int blocks = B * S * A >= cells::kParallelElements ? cpu::row_blocks(B) : 1;
  std::vector<std::vector<T>> dv(static_cast<size_t>(blocks),
                                 std::vector<T>(static_cast<size_t>(additive ? A : 0)));
  cpu::for_row_blocks(blocks, B, [&](int blk, int64_t b0, int64_t b1) {
    std::vector<T> da(static_cast<size_t>(S)), u(static_cast<size_t>(additive ? S * A : 0));
    T* dvb = dv[size_t(blk)].data();
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t len = mem.lengths[size_t(b)];
      const T* a = alpha.ptr() + b * S;
      const T* dc = dctx + b * De;
      T weighted = 0;  // sum_i a_i da_i
      for (int64_t i = 0; i < len; ++i) {
        const T* h = mem.enc.ptr() + (i * B + b) * De;
        T* dh = denc.ptr() + (i * B + b) * De;
        const T ai = a[i];
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < De; ++j) {
          s += dc[j] * h[j];
          dh[j] += ai * dc[j];
        }
        da[size_t(i)] = s;
        weighted += ai * s;
      }
      if (additive) additive_hidden(u.data(), qp.ptr() + b * A, K, b, B, A, len);  // recomputed
      for (int64_t i = 0; i < len; ++i) {
        const T de = a[i] * (da[size_t(i)] - weighted);  // d score_i
        const T* k = K + (i * B + b) * A;
        T* dk = dK + (i * B + b) * A;
        if (additive) {
          const T* ui = u.data() + i * A;
          T* dp = dqp.ptr() + b * A;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) {
            dvb[j] += de * ui[j];
            const T dpre = de * v[j] * (T(1) - ui[j] * ui[j]);
            dk[j] += dpre;
            dp[j] += dpre;
          }
        } else {
          const T* qb = q + b * Hd;
          T* dqb = dq + b * Hd;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) {
            dqb[j] += de * k[j];
            dk[j] += de * qb[j];
          }
        }
      }
    }
  });
  if (additive) {
    for (const auto& part : dv)
      for (int64_t j = 0; j < A; ++j) g.v_attention[j] += part[size_t(j)];
    Tensor<T> d({B, Hd});  // qp = q W_q^T
    linear_backward(d.ptr(), g.w_query.ptr(), static_cast<T*>(nullptr), dqp.ptr(), q,
                    m.w_query.ptr(), B, Hd, A);
    for (int64_t i = 0; i < B * Hd; ++i) dq[i] += d[i];
  }
}

#define RECUR_INSTANTIATE(T)                                                                       \
  template void attend<T>(const Seq2Seq<T>&, const Memory<T>&, const T*, Tensor<T>&, Tensor<T>&,   \
      Tensor<T>&);                                                                                 \
  template void attend_backward<T>(const Seq2Seq<T>&, Seq2Seq<T>&, const Memory<T>&, const T*,     \
      const Tensor<T>&, const Tensor<T>&, const T*, T*, Tensor<T>&, Tensor<T>&);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur::seq2seq_net
