// The unit split of an inference forward (declared in layers/rnn_packs.h; rnn.cpp calls it).
#include <omp.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <type_traits>

#include "kernels/cpu/parallel.h"
#include "layers/rnn_packs.h"
#include "recur/core/gemm.h"

namespace recur {

// The unit split of an inference forward: the units of a layer and direction are divided between
// the threads, each of which packs its units' rows of W_ih and W_hh and runs every step over all
// B rows for its units, with one barrier per step (the next step's product reads every unit). The
// row split instead streams the whole recurrent weight through every core at every step, which
// stops paying once the weight is several times a core's L2, and leaves a batch too small to split
// to a product that forks and joins at every step. Float, for the cells whose fused kernel takes a
// state stride (plain LSTM, reset-after GRU), on sequences long enough to pack for.
// Measured on 2 cores with 1 MB of L2 each (docs/speed.md), B = 16-32: in a plain rnn_forward,
// whose unit split runs its projection as one sgemm per gate and slice, 3-4 MB weights (H = 512)
// ran 2-6% faster split by rows and 12-16 MB (H = 1024) 3-11% faster split by units. In
// PreparedRnn, whose slices keep their projections packed, the units won from 3 MB up (2-5% at
// H = 512) on a Zen 4 host, but on the Zen 5 host of issue 6's anchors the rows won at 3-4 MB
// (3-4%) and the units at 16 MB (12%; level at 12 MB), so both take the same bound.
namespace {
constexpr int64_t kMinUnitsPerThread = 64;
constexpr int64_t kUnitSplitWeightBytes = int64_t(8) << 20;
}  // namespace

template <class T>
int unit_split_threads(const RnnConfig& cfg, const RnnRunOptions& opt, bool packs_pay, int64_t B) {
  if (!std::is_same_v<T, float> || !opt.inference || omp_in_parallel() || cfg.layer_norm ||
      !packs_pay)
    return 0;
  const bool fused_kernel = cfg.cell == CellKind::lstm ? !cfg.peephole && !cfg.coupled
                            : cfg.cell == CellKind::gru ? cfg.gru == GruConvention::reset_after
                                                        : false;
  const int64_t H = cfg.hidden_size;
  const int threads = int(std::min<int64_t>(omp_get_max_threads(), H / kMinUnitsPerThread));
  if (!fused_kernel || threads < 2) return 0;
  const bool big_weight = cfg.gates() * H * H * int64_t(sizeof(T)) >= kUnitSplitWeightBytes;
  return big_weight || cpu::row_blocks(B) < threads ? threads : 0;
}

// The unit slices of one layer and direction: P threads' units, with their rows of W_hh packed
// (and b_hh, plus b_ih where the cell folds it) for the step products of B rows.
template <class T>
std::vector<UnitSliceWeights<T>> pack_unit_slices(const RnnCellParams<T>& p, const RnnConfig& cfg,
                                                  const cells::CellOps<T>& ops, int64_t B, int P,
                                                  Precision precision) {
  const int G = cfg.gates();
  const int64_t H = cfg.hidden_size;
  std::vector<UnitSliceWeights<T>> slices(static_cast<size_t>(P));
  for (int k = 0; k < P; ++k) {
    UnitSliceWeights<T>& u = slices[size_t(k)];
    u.j0 = H * k / P;
    u.j1 = H * (k + 1) / P;
    const int64_t n = u.j1 - u.j0;
    u.cfg = cfg;
    u.cfg.hidden_size = n;
    Tensor<T> bias = cells::gate_rows(p.b_hh, G, H, u.j0, u.j1);
    if (ops.fold_input_bias) {
      const Tensor<T> bi = cells::gate_rows(p.b_ih, G, H, u.j0, u.j1), bh = bias;
      ops.fold_input_bias(bi.ptr(), bh.ptr(), u.cfg, bias.ptr(), u.w.cell_bias);
    }
    const Tensor<T> wh = cells::gate_rows(p.w_hh, G, H, u.j0, u.j1);
    u.w.main = cpu::PackedGemm<T>({wh.ptr(), H, true, H, G * n, bias.ptr(), H, G * n, false,
                                   precision}, {B});
  }
  return slices;
}

// One layer and direction of an inference forward on unit slices: y's columns of this direction,
// and the states in their two slots (the final state is read from them afterwards). `xw`
// (T*B*G*H) and `scratch` (B*G*H) hold the slices one after the other; so does `cell`. h_new and
// c_new (B,H) take a step's new state where some rows are padding. With `kept` (PreparedRnn) each
// slice's projection runs on its rows of W_ih packed once.
template <class T>
void forward_unit_split(Tensor<T>& y, RnnDirCache<T>& dc, Tensor<T>& xw, Tensor<T>& scratch,
                        Tensor<T>& h_new, Tensor<T>& c_new, const RnnCellParams<T>& p, const RnnConfig& cfg,
                        const cells::CellOps<T>& ops, const T* input, int64_t in, int64_t Ts,
                        int64_t B, const std::vector<int64_t>& len, int d,
                        std::vector<UnitSliceWeights<T>>& slices, bool kept, Precision precision) {
  const int G = cfg.gates(), P = int(slices.size());
  const int64_t H = cfg.hidden_size, OW = cfg.layer_output_size();
  const bool fwd = d == 0, lstm = cfg.has_cell_state(), sum = cfg.sums_directions();
  struct Buffers {
    T *xw, *scratch, *cache;
  };
  std::vector<Buffers> buf(static_cast<size_t>(P));
  int64_t cache_offset = 0;
  for (int k = 0; k < P; ++k) {
    UnitSliceWeights<T>& u = slices[size_t(k)];
    const int64_t n = u.j1 - u.j0;
    Buffers& b = buf[size_t(k)];
    b.xw = xw.ptr() + Ts * B * G * u.j0;
    b.scratch = scratch.ptr() + B * G * u.j0;
    b.cache = dc.cell.ptr() + cache_offset;
    cache_offset += B * ops.cache_width(u.cfg);
    if (kept) {
      if (u.projection_rows != Ts * B) {
        const Tensor<T> wi = cells::gate_rows(p.w_ih, G, H, u.j0, u.j1);
        const Tensor<T> bi = cells::gate_rows(p.b_ih, G, H, u.j0, u.j1);
        u.projection = cpu::PackedGemm<T>({wi.ptr(), in, true, in, G * n,
                                           ops.fold_input_bias ? nullptr : bi.ptr(), in, G * n,
                                           false, precision}, {Ts * B});
        u.projection_rows = Ts * B;
      }
      u.projection.run(0, input, b.xw);
      continue;
    }
    if (!ops.fold_input_bias) {
      const Tensor<T> bi = cells::gate_rows(p.b_ih, G, H, u.j0, u.j1);
      cells::broadcast_rows(b.xw, bi.ptr(), Ts * B, G * n, G * n);
    }
    for (int g = 0; g < G; ++g)  // the slice's rows of each gate of W_ih, where they lie
      gemm<T>(precision, false, true, Ts * B, n, in, T(1), input, in,
              p.w_ih.ptr() + (g * H + u.j0) * in, in, ops.fold_input_bias ? T(0) : T(1),
              b.xw + g * n, G * n);
  }
  RECUR_CHECK(cache_offset <= dc.cell.numel(), "unit split: the cell cache is too small");
  const int64_t min_len = *std::min_element(len.begin(), len.end());
  std::exception_ptr error;
  std::unique_ptr<cpu::SpinBarrier> barrier;
#pragma omp parallel num_threads(P)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
#pragma omp single
    barrier = std::make_unique<cpu::SpinBarrier>(nt);
    for (int64_t s = 0; s < Ts; ++s) {
      const int64_t t = fwd ? s : Ts - 1 - s;
      const int64_t prev = (fwd ? t : t + 1) % 2, next = (fwd ? t + 1 : t) % 2;
      T* hp = dc.states_h.ptr() + prev * B * H;
      T* hn = dc.states_h.ptr() + next * B * H;
      T* cp = lstm ? dc.states_c.ptr() + prev * B * H : nullptr;
      T* cn = lstm ? dc.states_c.ptr() + next * B * H : nullptr;
      const bool all_active = t < min_len;
      T* hk = all_active ? hn : h_new.ptr();
      T* ck = !lstm ? nullptr : all_active ? cn : c_new.ptr();
      for (int k = tid; k < P; k += nt) {
        try {
          const UnitSliceWeights<T>& u = slices[size_t(k)];
          const Buffers& b = buf[size_t(k)];
          const int64_t j0 = u.j0, n = u.j1 - u.j0;
          cells::StepForward<T> step{b.xw + t * B * G * n, hp + j0, lstm ? cp + j0 : nullptr,
                                     hk + j0, lstm ? ck + j0 : nullptr, b.cache, b.scratch,
                                     &u.w, 0, hp};
          step.keep_cache = false;
          step.ld = H;
          if (s + 1 < Ts) step.xw_next = b.xw + (fwd ? t + 1 : t - 1) * B * G * n;
          ops.forward_step(step, p, u.cfg, B);
          for (int64_t r = 0; r < B; ++r) {
            const bool active = t < len[size_t(r)];
            const int64_t o = r * H + j0;
            if (!all_active) {
              std::copy_n(active ? hk + o : hp + o, n, hn + o);
              if (lstm) std::copy_n(active ? ck + o : cp + o, n, cn + o);
            }
            T* out = y.ptr() + (t * B + r) * OW + (sum ? 0 : d * H) + j0;
            if (sum && d == 1) {  // the forward direction wrote this row first
              if (active)
                for (int64_t j = 0; j < n; ++j) out[j] += hk[o + j];
            } else if (active) {
              std::copy_n(hk + o, n, out);
            } else {
              std::fill_n(out, n, T(0));
            }
          }
        } catch (...) {
#pragma omp critical(recur_unit_split_error)
          if (!error) error = std::current_exception();
        }
      }
      barrier->wait();
    }
  }
  if (error) std::rethrow_exception(error);
}


template int unit_split_threads<float>(const RnnConfig&, const RnnRunOptions&, bool, int64_t);
template int unit_split_threads<double>(const RnnConfig&, const RnnRunOptions&, bool, int64_t);
template std::vector<UnitSliceWeights<float>> pack_unit_slices<float>(
    const RnnCellParams<float>&, const RnnConfig&, const cells::CellOps<float>&, int64_t, int,
    Precision);
template std::vector<UnitSliceWeights<double>> pack_unit_slices<double>(
    const RnnCellParams<double>&, const RnnConfig&, const cells::CellOps<double>&, int64_t, int,
    Precision);
template void forward_unit_split<float>(Tensor<float>&, RnnDirCache<float>&, Tensor<float>&,
                                        Tensor<float>&, Tensor<float>&, Tensor<float>&,
                                        const RnnCellParams<float>&,
                                        const RnnConfig&, const cells::CellOps<float>&,
                                        const float*, int64_t, int64_t, int64_t,
                                        const std::vector<int64_t>&, int,
                                        std::vector<UnitSliceWeights<float>>&, bool, Precision);
template void forward_unit_split<double>(Tensor<double>&, RnnDirCache<double>&, Tensor<double>&,
                                         Tensor<double>&, Tensor<double>&, Tensor<double>&,
                                         const RnnCellParams<double>&,
                                         const RnnConfig&, const cells::CellOps<double>&,
                                         const double*, int64_t, int64_t, int64_t,
                                         const std::vector<int64_t>&, int,
                                         std::vector<UnitSliceWeights<double>>&, bool, Precision);

}  // namespace recur
