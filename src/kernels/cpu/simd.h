// Vector sigmoid and tanh for the cells' fused pointwise kernels, through Highway on this build's
// static target (AVX-512 with -march=native here; AVX2, SSE4 or NEON elsewhere).
//
// The maths is activations.h's (exp by range reduction and a degree-6 polynomial), with one change:
// 1/x is the hardware's reciprocal estimate refined by one Newton step, x' = x + x (1 - d x), for a
// relative error near 2^-23, where a division costs ~10 cycles per AVX-512 vector (the LSTM step
// has five).
//
// for_vectors walks [0, n) one vector at a time; the last vector is masked, so every element goes
// through the same vector code whatever n is (a unit split of the same layer gives the same bits).
#pragma once

#include <cstdint>

// Static dispatch only: the code is built for the compiler's target (-march), no runtime choice.
#ifndef HWY_COMPILE_ONLY_STATIC
#define HWY_COMPILE_ONLY_STATIC 1
#endif
#include <hwy/highway.h>

namespace recur::cpu::simd {

namespace hn = hwy::HWY_NAMESPACE;
using Df = hn::ScalableTag<float>;
using Vf = hn::Vec<Df>;

inline Vf exp(Vf x) {
  const Df d;
  const hn::RebindToSigned<Df> di;
  x = hn::Min(hn::Max(x, hn::Set(d, -87.0f)), hn::Set(d, 87.0f));
  const Vf n = hn::Round(x * hn::Set(d, 1.44269504088896341f));
  Vf r = hn::NegMulAdd(n, hn::Set(d, 0.693145751953125f), x);  // Cody-Waite: x - n ln2
  r = hn::NegMulAdd(n, hn::Set(d, 1.42860682030941723212e-6f), r);
  Vf p = hn::Set(d, 1.0f / 720);
  p = hn::MulAdd(p, r, hn::Set(d, 1.0f / 120));
  p = hn::MulAdd(p, r, hn::Set(d, 1.0f / 24));
  p = hn::MulAdd(p, r, hn::Set(d, 1.0f / 6));
  p = hn::MulAdd(p, r, hn::Set(d, 0.5f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.0f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.0f));
  const auto exponent = hn::ShiftLeft<23>(hn::ConvertTo(di, n) + hn::Set(di, 127));  // 2^n
  return p * hn::BitCast(d, exponent);
}

inline Vf reciprocal(Vf x) {
  const Vf r = hn::ApproximateReciprocal(x);
  return hn::MulAdd(r, hn::NegMulAdd(x, r, hn::Set(Df(), 1.0f)), r);
}

inline Vf sigmoid(Vf x) {
  const Df d;
  return reciprocal(hn::Set(d, 1.0f) + exp(hn::Neg(x)));
}

// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); absolute error ~1e-7.
inline Vf tanh(Vf x) {
  const Df d;
  const Vf a = hn::Min(hn::Abs(x), hn::Set(d, 44.0f));
  const Vf e = exp(a * hn::Set(d, -2.0f));
  const Vf one = hn::Set(d, 1.0f);
  return hn::CopySign((one - e) * reciprocal(one + e), x);
}

// x rounded to bfloat16 (kernels/cpu/bf16.h: nearest even; NaN stays a quiet NaN), in the low
// 16 bits of each lane.
inline hn::Vec<hn::RebindToUnsigned<Df>> bf16_bits(Vf x) {
  const hn::RebindToUnsigned<Df> du;
  const hn::RebindToSigned<Df> di;
  const auto u = hn::BitCast(du, x);
  const auto rounded = hn::ShiftRight<16>(u + hn::Set(du, 0x7fffu) + hn::And(hn::ShiftRight<16>(u), hn::Set(du, 1u)));
  const auto quiet_nan = hn::Or(hn::ShiftRight<16>(u), hn::Set(du, 0x40u));
  const auto magnitude = hn::BitCast(di, hn::And(u, hn::Set(du, 0x7fffffffu)));
  const auto nan = hn::RebindMask(du, magnitude > hn::Set(di, 0x7f800000));
  return hn::IfThenElse(nan, quiet_nan, rounded);
}

// One vector's worth of [0, n): elements j .. j + lanes, masked past n.
struct Lanes {
  hn::Mask<Df> mask;
  int64_t j;
  Vf load(const float* p) const { return hn::MaskedLoad(mask, Df(), p + j); }
  void store(float* p, Vf v) const { hn::BlendedStore(v, mask, Df(), p + j); }
};

// Asks for the cache line at p to be brought into L2 (and L1) ahead of its use.
inline void prefetch_l2(const float* p) { __builtin_prefetch(p, 0, 2); }

template <class F>
inline void for_vectors(int64_t n, F&& f) {
  const Df d;
  const int64_t step = int64_t(hn::Lanes(d));
  for (int64_t j = 0; j < n; j += step) f(Lanes{hn::FirstN(d, size_t(n - j)), j});
}

}  // namespace recur::cpu::simd
