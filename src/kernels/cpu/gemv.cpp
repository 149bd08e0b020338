// PackedGemv: the packing, and the panel kernels in Highway (see gemv.h for the layout).
#include "kernels/cpu/gemv.h"

#include <algorithm>
#include <bit>
#include <type_traits>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/simd.h"
#include "recur/core/error.h"

namespace recur::cpu {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
using simd::Df;
using simd::Vf;
using Du = hn::RebindToUnsigned<Df>;

// Vectors per panel: 8 independent accumulators cover the FMA latency (4 cycles, 2 per cycle),
// and a k-row of the panel (8 x 64 bytes on AVX-512) is a run of whole cache lines.
constexpr int kPanelVectors = 8;

// Accumulates V vectors of outputs over the panel at w (fp32: K rows of V vectors) into acc.
template <int V>
void panel_fp32(const float* w, const float* a, int64_t K, Vf* acc) {
  const Df d;
  const int64_t L = int64_t(hn::Lanes(d));
  for (int64_t k = 0; k < K; ++k, w += V * L) {
    const Vf x = hn::Set(d, a[k]);
    for (int v = 0; v < V; ++v) acc[v] = hn::MulAdd(hn::Load(d, w + v * L), x, acc[v]);
  }
}

// The same over bf16 pairs: ceil(K/2) rows of V vectors of words (k low, k + 1 high).
template <int V>
void panel_bf16(const uint32_t* w, const float* a, int64_t K, Vf* acc) {
  const Df d;
  const Du du;
  const int64_t L = int64_t(hn::Lanes(d));
  const auto high = hn::Set(du, 0xFFFF0000u);
  int64_t k = 0;
  for (; k + 1 < K; k += 2, w += V * L) {
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

// One panel of V vectors: outputs [n0, n0 + width) of c, width <= V lanes.
template <int V>
void run_panel(const float* w, const uint32_t* w2, const float* bias, const float* a, float* c,
               int64_t K, int64_t width, bool accumulate) {
  const Df d;
  const int64_t L = int64_t(hn::Lanes(d));
  Vf acc[V];
  for (int v = 0; v < V; ++v) acc[v] = hn::Load(d, bias + v * L);
  if (w2) {
    panel_bf16<V>(w2, a, K, acc);
  } else {
    panel_fp32<V>(w, a, K, acc);
  }
  for (int v = 0; v < V; ++v) {
    const int64_t j = v * L;
    const auto mask = hn::FirstN(d, size_t(std::clamp<int64_t>(width - j, 0, L)));
    const Vf out = accumulate ? acc[v] + hn::MaskedLoad(mask, d, c + j) : acc[v];
    hn::BlendedStore(out, mask, d, c + j);
  }
}

using PanelFn = void (*)(const float*, const uint32_t*, const float*, const float*, float*,
                         int64_t, int64_t, bool);

// panel_fns[V - 1] runs a panel of V vectors.
constexpr PanelFn panel_fns[kPanelVectors] = {&run_panel<1>, &run_panel<2>, &run_panel<3>,
                                              &run_panel<4>, &run_panel<5>, &run_panel<6>,
                                              &run_panel<7>, &run_panel<8>};

}  // namespace

PackedGemv::PackedGemv(const StepGemmSpec<float>& s)
    : K_(s.K), N_(s.N), bf16_(s.precision == Precision::bf16), accumulate_(s.accumulate) {
  RECUR_CHECK(s.w && s.K > 0 && s.N > 0, "PackedGemv: empty weight (K=" << s.K << " N=" << s.N << ")");
  lanes_ = int64_t(hn::Lanes(Df()));
  const int64_t width = kPanelVectors * lanes_;
  panels_ = (N_ + width - 1) / width;
  const int64_t padded = (N_ + lanes_ - 1) / lanes_ * lanes_;  // whole vectors
  const int64_t rows = bf16_ ? (K_ + 1) / 2 : K_;  // stored rows per panel
  const size_t size = size_t(rows * padded);
  if (bf16_) {
    w2_ = hwy::AllocateAligned<uint32_t>(size);
  } else {
    w_ = hwy::AllocateAligned<float>(size);
  }
  // Tiles of kTile stored rows by the panel's outputs: the reads (along k when W is stored (N,K),
  // along n otherwise) and the writes stay within a few cache lines per tile. Padding outputs
  // (past N in the last vector) get zero weights.
  constexpr int64_t kTile = 16;
  const auto pack = [&](auto trans) {
    // op(W)[k][n]: W (N,K) read transposed, or W (K,N) as stored.
    const auto weight = [&](int64_t k, int64_t n) {
      if constexpr (decltype(trans)::value) return s.w[n * s.ldw + k];
      return s.w[k * s.ldw + n];
    };
    for (int64_t p = 0; p < panels_; ++p) {
      const int64_t n0 = p * width, n1 = std::min(N_, n0 + width);
      const int64_t cols = std::min(padded, n0 + width) - n0;  // the panel's padded width
      const int64_t base = n0 * rows;                          // every earlier panel is full
      for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
        const int64_t r1 = std::min(rows, r0 + kTile);
        for (int64_t n = n0; n < n0 + cols; ++n) {
          const size_t at = size_t(base + n - n0);
          if (n >= n1) {
            for (int64_t r = r0; r < r1; ++r) {
              if (bf16_) {
                w2_[at + size_t(r * cols)] = 0;
              } else {
                w_[at + size_t(r * cols)] = 0.0f;
              }
            }
            continue;
          }
          if (!bf16_) {
            for (int64_t r = r0; r < r1; ++r) w_[at + size_t(r * cols)] = weight(r, n);
            continue;
          }
          for (int64_t r = r0; r < r1; ++r) {
            const int64_t k = 2 * r;
            const uint32_t hi = k + 1 < K_ ? to_bf16(weight(k + 1, n)) : 0;
            w2_[at + size_t(r * cols)] = uint32_t(to_bf16(weight(k, n))) | (hi << 16);
          }
        }
      }
    }
  };
  if (s.trans) {
    pack(std::true_type{});
  } else {
    pack(std::false_type{});
  }
  bias_ = hwy::AllocateAligned<float>(size_t(padded));
  for (int64_t n = 0; n < padded; ++n) bias_[size_t(n)] = s.bias && n < N_ ? s.bias[n] : 0.0f;
}

void PackedGemv::run(const float* a, float* c, int64_t p0, int64_t p1) const {
  const int64_t width = kPanelVectors * lanes_;
  const int64_t rows = bf16_ ? (K_ + 1) / 2 : K_;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t n0 = p * width, n = std::min(N_, n0 + width) - n0;
    const int64_t vectors = (n + lanes_ - 1) / lanes_;
    const size_t at = size_t(n0 * rows);
    panel_fns[size_t(vectors - 1)](bf16_ ? nullptr : w_.get() + at, bf16_ ? w2_.get() + at : nullptr,
                                   bias_.get() + n0, a, c + n0, K_, n, accumulate_);
  }
}

}  // namespace recur::cpu
