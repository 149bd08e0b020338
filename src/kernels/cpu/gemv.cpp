// PackedGemv: the packing, and the panel kernels in Highway (see gemv.h for the layout).
#include "kernels/cpu/gemv.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/cpu/simd.h"
#include "recur/core/error.h"

namespace recur::cpu {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
using simd::Df;
using simd::Vf;
using Du = hn::RebindToUnsigned<Df>;

// Vectors per panel: one accumulator each, enough of them to hide the FMA latency and the
// widening in bf16 (16 measured 9% faster than 8 for bf16, 1.5% for fp32, on AVX-512), within
// the register file (16 registers on AVX2 and SSE4: 8 there).
constexpr int kPanelVectors =
    HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 ? 8 : 16;

// Accumulates V output vectors over K rows of a panel whose rows are `stride` floats apart.
template <int V>
void rows_fp32(const float* w, int64_t stride, const float* a, int64_t K, Vf* acc) {
  const Df d;
  const int64_t L = int64_t(hn::Lanes(d));
  for (int64_t k = 0; k < K; ++k, w += stride) {
    const Vf x = hn::Set(d, a[k]);
    for (int v = 0; v < V; ++v) acc[v] = hn::MulAdd(hn::Load(d, w + v * L), x, acc[v]);
  }
}

// The same over bf16 pairs: ceil(K/2) rows of words (k low, k + 1 high).
template <int V>
void rows_bf16(const uint32_t* w, int64_t stride, const float* a, int64_t K, Vf* acc) {
  const Df d;
  const Du du;
  const int64_t L = int64_t(hn::Lanes(d));
  const auto high = hn::Set(du, 0xFFFF0000u);
  int64_t k = 0;
  for (; k + 1 < K; k += 2, w += stride) {
    const Vf x0 = hn::Set(d, a[k]), x1 = hn::Set(d, a[k + 1]);
    for (int v = 0; v < V; ++v) {
      const auto pair = hn::Load(du, w + v * L);
      acc[v] = hn::MulAdd(hn::BitCast(d, hn::ShiftLeft<16>(pair)), x0, acc[v]);
      acc[v] = hn::MulAdd(hn::BitCast(d, hn::And(pair, high)), x1, acc[v]);
    }
  }
  if (k < K) {  // odd K: the last word's high half is zero
    const Vf x0 = hn::Set(d, a[k]);
    for (int v = 0; v < V; ++v)
      acc[v] = hn::MulAdd(hn::BitCast(d, hn::ShiftLeft<16>(hn::Load(du, w + v * L))), x0, acc[v]);
  }
}

// V output vectors of one panel: outputs [0, width) of c (width <= V lanes), their bias at bias.
template <int V>
void run_vectors(const float* w, const uint32_t* w2, int64_t stride, const float* bias, const float* a,
                 float* c, int64_t K, int64_t width, bool accumulate) {
  const Df d;
  const int64_t L = int64_t(hn::Lanes(d));
  Vf acc[V];
  for (int v = 0; v < V; ++v) acc[v] = hn::Load(d, bias + v * L);
  if (w2) {
    rows_bf16<V>(w2, stride, a, K, acc);
  } else {
    rows_fp32<V>(w, stride, a, K, acc);
  }
  for (int v = 0; v < V; ++v) {
    const int64_t j = v * L;
    const auto mask = hn::FirstN(d, size_t(std::clamp<int64_t>(width - j, 0, L)));
    const Vf out = accumulate ? acc[v] + hn::MaskedLoad(mask, d, c + j) : acc[v];
    hn::BlendedStore(out, mask, d, c + j);
  }
}

using VectorsFn = void (*)(const float*, const uint32_t*, int64_t, const float*, const float*, float*,
                           int64_t, int64_t, bool);

template <int... V>
constexpr std::array<VectorsFn, sizeof...(V)> vectors_table(std::integer_sequence<int, V...>) {
  return {{&run_vectors<V + 1>...}};
}
// vectors_fns[V - 1] runs V vectors.
constexpr std::array<VectorsFn, kPanelVectors> vectors_fns =
    vectors_table(std::make_integer_sequence<int, kPanelVectors>{});

}  // namespace

PackedGemv::PackedGemv(const StepGemmSpec<float>& s)
    : K_(s.K), N_(s.N), bf16_(s.precision == Precision::bf16), accumulate_(s.accumulate) {
  RECUR_CHECK(s.w && s.K > 0 && s.N > 0, "PackedGemv: empty weight (K=" << s.K << " N=" << s.N << ")");
  lanes_ = int64_t(hn::Lanes(Df()));
  vectors_ = (N_ + lanes_ - 1) / lanes_;
  const int64_t padded = vectors_ * lanes_;
  const int64_t rows = stored_rows();
  const size_t size = size_t(rows * padded);
  if (bf16_) {
    w2_ = hwy::AllocateAligned<uint32_t>(size);
  } else {
    w_ = hwy::AllocateAligned<float>(size);
  }
  // One output vector at a time, stored row after stored row: op(W)'s row k over the vector's
  // outputs is a gather down the vector's rows of W when W is stored (N,K), a load along W's row k
  // otherwise. Outputs past N (in the last vector) get zero weights.
  const Df d;
  const hn::RebindToSigned<Df> di;
  const Du du;
  RECUR_CHECK(!s.trans || N_ * s.ldw < (int64_t(1) << 31),
              "PackedGemv: a weight of " << N_ << " rows of " << s.ldw << " is too large to pack");
  // Split between the idle threads, as oneDNN's reorders are, for weights worth a fork and join.
  const bool split = !omp_in_parallel() && omp_get_max_threads() > 1 && K_ * N_ >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (split)
  for (int64_t v = 0; v < vectors_; ++v) {
    const int64_t n0 = v * lanes_, p0 = v / kPanelVectors * kPanelVectors;
    const int64_t stride = (std::min<int64_t>(vectors_, p0 + kPanelVectors) - p0) * lanes_;
    const size_t base = size_t(p0 * lanes_ * rows + (v - p0) * lanes_);
    const auto valid = hn::FirstN(d, size_t(std::min(lanes_, N_ - n0)));
    // The rows of W this vector's lanes gather from (past N: the last row, then zeroed).
    const auto index = hn::Min(hn::Iota(di, int32_t(n0)), hn::Set(di, int32_t(N_ - 1))) *
                       hn::Set(di, int32_t(s.ldw));
    const auto column = [&](int64_t k) {  // op(W)[k][n0 .. n0 + lanes)
      if (s.trans) return hn::IfThenElseZero(valid, hn::GatherIndex(d, s.w + k, index));
      return hn::MaskedLoad(valid, d, s.w + k * s.ldw + n0);
    };
    for (int64_t r = 0; r < rows; ++r) {
      if (!bf16_) {
        hn::Store(column(r), d, w_.get() + base + size_t(r * stride));
        continue;
      }
      const auto lo = simd::bf16_bits(column(2 * r));
      const auto hi = 2 * r + 1 < K_ ? simd::bf16_bits(column(2 * r + 1)) : hn::Zero(du);
      hn::Store(hn::Or(lo, hn::ShiftLeft<16>(hi)), du, w2_.get() + base + size_t(r * stride));
    }
  }
  bias_ = hwy::AllocateAligned<float>(size_t(padded));
  for (int64_t n = 0; n < padded; ++n) bias_[size_t(n)] = s.bias && n < N_ ? s.bias[n] : 0.0f;
}

// Walking the panels in reverse on every other call pays when the weight is a little larger than
// the core's L2, as a streaming LSTM's is (H = 256, 1 MB per core on two threads, 1 MB of L2):
// read in one direction at every call, each read evicts the lines the next one needs first;
// walked back and forth, each call starts on the lines the last one read last. Measured on that
// step (docs/speed.md): 6.9-8.3 us per step against 8.5-10.4.
void PackedGemv::run(const float* a, float* c, int64_t v0, int64_t v1, bool reverse) const {
  const int64_t rows = stored_rows();
  // Vectors [v, end) of the panel that begins at vector p0.
  auto run_part = [&](int64_t p0, int64_t v, int64_t end) {
    const int64_t in_panel = std::min<int64_t>(vectors_, p0 + kPanelVectors) - p0;
    const int64_t stride = in_panel * lanes_;  // elements per stored row of this panel
    const size_t at = size_t(p0 * lanes_ * rows + (v - p0) * lanes_);
    const int64_t n0 = v * lanes_, width = std::min(N_, end * lanes_) - n0;
    vectors_fns[size_t(end - v - 1)](bf16_ ? nullptr : w_.get() + at, bf16_ ? w2_.get() + at : nullptr,
                                     stride, bias_.get() + n0, a, c + n0, K_, width, accumulate_);
  };
  if (reverse) {
    for (int64_t end = v1; end > v0;) {  // the panels' parts of [v0, v1), last first
      const int64_t p0 = (end - 1) / kPanelVectors * kPanelVectors, v = std::max(v0, p0);
      run_part(p0, v, end);
      end = v;
    }
    return;
  }
  for (int64_t v = v0; v < v1;) {  // one panel's part of [v0, v1) at a time
    const int64_t p0 = v / kPanelVectors * kPanelVectors;  // the panel's first vector
    const int64_t end = std::min({v1, p0 + kPanelVectors, vectors_});
    run_part(p0, v, end);
    v = end;
  }
}

}  // namespace recur::cpu
