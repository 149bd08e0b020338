// The one time loop: stacked, bidirectional recurrent layers over a padded time-major batch with
// per-sequence lengths, forward and BPTT. The cells (src/cells) supply one step's maths.
//
// Key: T = time, B = batch, H = hidden, G = gates, D = directions, L = layers, W = cell cache width.
//   x: (T,B,I)  y: (T,B,D*H)  xw: (T,B,G*H) input projection, one GEMM for all steps
//   states_h/c: (T+1,B,H)  forward direction: slot t = state before step t, slot t+1 after it;
//                          reverse direction runs t = T-1..0: slot t+1 before step t, slot t after.
// Lengths: at a step t >= length[b] sequence b is padding: its state passes through unchanged and
// its output is zero, so the final state is the state at its own length, and the reverse direction
// starts from h0 at its own last element.
// Inference (RnnRunOptions::inference): the states use two slots (slot i % 2), the cell's cache
// one step (T = 1 above), and the first layer reads x in place.
// Backward mirrors the forward: per step, the cell's backward, then the recurrent gradient passes
// through padding untouched; after the loop, one GEMM each for dW_ih, dW_hh and dx.
// Parameters +=, activations = (see src/cells/cell.h). This runs one uniform segment; a mixed
// stack chains its segments in src/layers/rnn_stack.cpp.
#include <omp.h>

#include <algorithm>
#include <map>
#include <type_traits>

#include "cells/cell.h"
#include "kernels/cpu/parallel.h"
#include "layers/rnn_packs.h"
#include "layers/rnn_segment.h"
#include "recur/core/gemm.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

// The largest recurrent weight of one direction (bytes) whose inference forward runs the two
// directions at once rather than splitting each one's units between the threads. At once, each
// core streams its direction's whole W_hh at every step, which pays while it sits in the core's
// L2 with room to spare; split, each core streams half. Measured on 2 cores with 1 MB of L2 each,
// B = 1, T = 100 (docs/speed.md): at once 3-8% faster at 192-256 KB (GRU and LSTM H = 128), 4-12%
// slower at 768 KB (GRU H = 256) and 25-45% slower at 1 MB (LSTM H = 256). Training forwards have
// no unit split and always run the directions at once.
constexpr int64_t kConcurrentDirectionsWeightBytes = int64_t(512) << 10;

// Whether a layer of D directions on B rows runs its two directions at the same time, one thread
// each: when the batch is too small to split by rows and the budget is two or three threads (more
// are better spent splitting units). Forward and backward decide alike.
bool directions_at_once(int D, int64_t B) {
  const int budget = omp_get_max_threads();
  return D == 2 && !omp_in_parallel() && cpu::row_blocks(B) < 2 && (budget == 2 || budget == 3);
}

}  // namespace

int rnn_inference_unit_split(const RnnConfig& cfg, int64_t batch) {
  RnnRunOptions opt;
  opt.inference = true;
  return unit_split_threads<float>(cfg, opt, true, batch);
}

// rnn_forward, with the packed step products kept in `kept` from one call to the next when it is
// given (PreparedRnn): they are built again only when the batch size, the thread budget or the
// precision changes. Without it they are built for this call.
template <class T>
void rnn_forward_packs(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                       const RnnParams<T>& params, const Tensor<T>& x,
                       const std::vector<int64_t>& lengths, const RnnState<T>* init,
                       const RnnRunOptions& opt, ForwardPacks<T>* kept) {
  const RnnConfig& cfg = params.config;
  cfg.validate();
  RECUR_CHECK(x.rank() == 3, "RNN input must be (T, B, I), got shape " << x.shape_string());
  const int64_t Ts = x.dim(0), B = x.dim(1), H = cfg.hidden_size, GH = cfg.gates() * H;
  const int D = cfg.directions(), L = cfg.num_layers;
  const bool lstm = cfg.has_cell_state();
  RECUR_CHECK(x.dim(2) == cfg.input_size,
              "RNN input has " << x.dim(2) << " features, expected input_size " << cfg.input_size);
  check_lengths(lengths, Ts, B);
  if (init) {
    check_state(init->h, "h0", int64_t(L) * D, B, H);
    if (lstm) check_state(init->c, "c0", int64_t(L) * D, B, H);
  }
  const bool dropout = opt.training && cfg.dropout > 0 && L > 1;
  RECUR_CHECK(!dropout || opt.rng, "dropout in training mode needs an Rng");

  const cells::CellOps<T> ops = cells::ops_for<T>(cfg);
  const int64_t W = ops.cache_width(cfg);
  std::vector<int64_t> len = lengths.empty() ? std::vector<int64_t>(size_t(B), Ts) : lengths;

  // Every buffer below is reused from an earlier call on the same cache when the shapes match
  // (Tensor::reuse_as) and is written in full here.
  cache.lengths = len;
  cache.steps = Ts;
  cache.batch = B;
  cache.has_initial_state = init != nullptr;
  cache.precision = opt.precision;
  const bool keep = !opt.inference;  // keep every step for backward
  cache.inference = opt.inference;
  cache.layer_grads_done = opt.layer_grads_done;
  // Packing pays off over sequences of a few steps, or when the packs are kept for later calls
  // (an empty batch or sequence has no products to pack for).
  const bool packs_pay = Ts * B > 0 && (Ts >= cpu::kMinStepsToPack || kept);
  const cells::PackMode mode{packs_pay, opt.precision};
  ForwardPacks<T> local;
  ForwardPacks<T>& packs = kept ? *kept : local;
  if (packs.batch != B || packs.blocks != cpu::row_blocks(B) ||
      packs.threads != omp_get_max_threads() || packs.precision != opt.precision ||
      packs.dirs.size() != size_t(L * D)) {
    packs = ForwardPacks<T>();
    packs.batch = B;
    packs.blocks = cpu::row_blocks(B);
    packs.threads = omp_get_max_threads();
    packs.precision = opt.precision;
    packs.dirs.resize(size_t(L * D));
  }
  cache.layers.resize(size_t(L));
  final_state.h.reuse_as({int64_t(L) * D, B, H});
  if (lstm) final_state.c.reuse_as({int64_t(L) * D, B, H});
  else final_state.c = Tensor<T>();

  const int unit_threads = unit_split_threads<T>(cfg, opt, packs_pay, B);
  // Both directions at once, unless an inference forward would split the units of a recurrent
  // weight too big for that.
  const bool small_weight =
      int64_t(cfg.gates()) * H * H * int64_t(sizeof(T)) <= kConcurrentDirectionsWeightBytes;
  // Summed directions add into one output, so the reverse direction runs after the forward one.
  const bool sum = cfg.sums_directions();
  const int64_t OW = cfg.layer_output_size();
  const bool concurrent_directions =
      !sum && directions_at_once(D, B) && (unit_threads == 0 || small_weight);
  // Workspaces of a direction being run: the (B,H) new states of padded steps and the (B,G*H)
  // step product; a second set for the reverse direction when the two run at once.
  Tensor<T> h_new_ws[2], c_new_ws[2], scratch_ws[2];
  for (int w = 0; w < (concurrent_directions ? 2 : 1); ++w) {
    h_new_ws[w].reuse_as({B, H});
    c_new_ws[w].reuse_as({B, H});
    scratch_ws[w].reuse_as({B, GH});
  }
  const int blocks = cpu::row_blocks(B);
  const std::vector<int64_t> block_rows = cpu::block_rows(blocks, B);
  // The shortest sequence of each row block: steps before it need no padding logic.
  std::vector<int64_t> block_min_len(static_cast<size_t>(blocks));
  for (int k = 0; k < blocks; ++k) {
    const auto [b0, b1] = cpu::row_block_range(k, blocks, B);
    block_min_len[size_t(k)] = *std::min_element(len.begin() + b0, len.begin() + b1);
  }
  // State slot i of the history: all T+1 of them, or two alternating in inference.
  const int64_t slots = keep ? Ts + 1 : 2;
  auto slot = [keep](int64_t i) { return keep ? i : i % 2; };
  for (int l = 0; l < L; ++l) {
    RnnLayerCache<T>& lc = cache.layers[size_t(l)];
    if (l == 0 && !keep) {
      lc.input = Tensor<T>();
    } else if (l == 0) {
      lc.input.reuse_as(x.shape);
      std::copy_n(x.ptr(), x.numel(), lc.input.ptr());
    } else {
      std::swap(lc.input, y);  // the layer below's output; y is rewritten below
    }
    const Tensor<T>& layer_in = l == 0 && !keep ? x : lc.input;
    const int64_t in = layer_in.dim(2);
    if (!dropout || l == 0) {
      lc.dropout_mask = Tensor<T>();
    } else {  // on the previous layer's output
      inverted_dropout(lc.input, lc.dropout_mask, cfg.dropout, *opt.rng);
    }
    y.reuse_as({Ts, B, OW});
    lc.dirs.resize(size_t(D));
    // One direction of this layer on workspace set w, its steps split by units over `split`
    // threads (0: by row blocks).
    auto run_direction = [&](int d, int w, int split) {
      Tensor<T>& xw = cache.xw[w];
      Tensor<T>& scratch = scratch_ws[w];
      Tensor<T>& h_new = h_new_ws[w];
      Tensor<T>& c_new = c_new_ws[w];
      const RnnCellParams<T>& p = params.cells[size_t(l * D + d)];
      RnnDirCache<T>& dc = lc.dirs[size_t(d)];
      const bool fwd = d == 0;
      xw.reuse_as({Ts, B, GH});
      dc.states_h.reuse_as({slots, B, H});
      if (lstm) dc.states_c.reuse_as({slots, B, H});
      else dc.states_c = Tensor<T>();
      dc.cell.reuse_as({keep ? Ts : 1, B, W});
      const int64_t s0 = slot(fwd ? 0 : Ts);  // slot of the initial state
      const int64_t idx = int64_t(l * D + d);
      if (init) {
        std::copy_n(init->h.ptr() + idx * B * H, B * H, dc.states_h.ptr() + s0 * B * H);
        if (lstm) std::copy_n(init->c.ptr() + idx * B * H, B * H, dc.states_c.ptr() + s0 * B * H);
      } else {
        std::fill_n(dc.states_h.ptr() + s0 * B * H, B * H, T(0));
        if (lstm) std::fill_n(dc.states_c.ptr() + s0 * B * H, B * H, T(0));
      }
      const int64_t s_final = slot(fwd ? Ts : 0);
      auto copy_final_state = [&] {
        std::copy_n(dc.states_h.ptr() + s_final * B * H, B * H, final_state.h.ptr() + idx * B * H);
        if (lstm)
          std::copy_n(dc.states_c.ptr() + s_final * B * H, B * H,
                      final_state.c.ptr() + idx * B * H);
      };
      DirPacks<T>& dp = packs.dirs[size_t(idx)];
      if (split) {
        if (dp.slices.size() != size_t(split))
          dp.slices = pack_unit_slices(p, cfg, ops, B, split, opt.precision);
        forward_unit_split(y, dc, xw, scratch, h_new, c_new, p, cfg, ops, layer_in.ptr(), in, Ts,
                           B, len, d, dp.slices, kept != nullptr, opt.precision);
        copy_final_state();
        return;
      }
      if (!dp.rows_packed || !mode.packed) {  // unpacked products read p's weight where it lies
        ops.pack(dp.rows, p, cfg, false, block_rows, mode);
        dp.rows_packed = mode.packed;
      }
      const cells::StepWeights<T>& packed = dp.rows;
      // b_ih goes into xw, or into each step's product when the cell folds it there. Kept packs
      // (PreparedRnn) multiply by a W_ih packed once; a single call leaves the packing to sgemm.
      const T* b_ih = ops.fold_input_bias ? nullptr : p.b_ih.ptr();
      if (kept && packs_pay) {
        if (dp.projection_rows != Ts * B) {
          dp.projection = cpu::PackedGemm<T>(
              {p.w_ih.ptr(), in, true, in, GH, b_ih, in, GH, false, opt.precision}, {Ts * B});
          dp.projection_rows = Ts * B;
        }
        dp.projection.run(0, layer_in.ptr(), xw.ptr());
      } else {
        if (b_ih) cells::broadcast_rows(xw.ptr(), b_ih, Ts * B, GH, GH);
        gemm<T>(opt.precision, false, true, Ts * B, GH, in, T(1), layer_in.ptr(), in,
                p.w_ih.ptr(), in, b_ih ? T(1) : T(0), xw.ptr(), GH);
      }

      // The time loop over batch rows [b0, b1); every (B, .) buffer is offset by b0 rows.
      auto run_rows = [&](int k, int64_t b0, int64_t b1) {
        const int64_t Bk = b1 - b0;
        for (int64_t s = 0; s < Ts; ++s) {
          const int64_t t = fwd ? s : Ts - 1 - s;
          const int64_t prev = slot(fwd ? t : t + 1), next = slot(fwd ? t + 1 : t);
          T* hp = dc.states_h.ptr() + (prev * B + b0) * H;
          T* hn = dc.states_h.ptr() + (next * B + b0) * H;
          T* cp = lstm ? dc.states_c.ptr() + (prev * B + b0) * H : nullptr;
          T* cn = lstm ? dc.states_c.ptr() + (next * B + b0) * H : nullptr;
          // Without padding in this block at this step the cell writes the new state in place.
          const bool all_active = t < block_min_len[size_t(k)];
          T* hk = all_active ? hn : h_new.ptr() + b0 * H;
          T* ck = !lstm ? nullptr : all_active ? cn : c_new.ptr() + b0 * H;
          cells::StepForward<T> step{xw.ptr() + (t * B + b0) * GH, hp, cp, hk, ck,
                                     dc.cell.ptr() + ((keep ? t : 0) * B + b0) * W,
                                     scratch.ptr() + b0 * GH, &packed, k};
          step.keep_cache = keep;
          if (s + 1 < Ts) step.xw_next = xw.ptr() + ((fwd ? t + 1 : t - 1) * B + b0) * GH;
          ops.forward_step(step, p, cfg, Bk);
          for (int64_t r = 0; r < Bk; ++r) {
            const bool active = t < len[size_t(b0 + r)];
            if (!all_active) {
              std::copy_n(active ? hk + r * H : hp + r * H, H, hn + r * H);
              if (lstm) std::copy_n(active ? ck + r * H : cp + r * H, H, cn + r * H);
            }
            T* out = y.ptr() + (t * B + b0 + r) * OW + (sum ? 0 : d * H);
            if (sum && d == 1) {  // the forward direction wrote this row first
              if (active)
                for (int64_t j = 0; j < H; ++j) out[j] += hk[r * H + j];
            } else if (active) {
              std::copy_n(hk + r * H, H, out);
            } else {
              std::fill_n(out, H, T(0));
            }
          }
        }
      };
      cpu::for_row_blocks(blocks, B, run_rows);
      copy_final_state();
    };
    if (concurrent_directions) {
      // One thread per direction: each runs its whole time loop with no barrier per step.
      cpu::for_each_thread(2, [&](int d) { run_direction(d, d, 0); });
    } else {
      for (int d = 0; d < D; ++d) run_direction(d, 0, unit_threads);
    }
  }
}

// One ForwardPacks per params object, found by its address; the first layer's weight storage and
// shapes are kept too, so that a params object built where a destroyed one was, on other storage,
// is packed afresh (a changed weight in the same storage is the caller's to avoid: rnn.h).
struct RnnPacks::Impl {
  template <class T>
  struct Entry {
    const T* w_ih = nullptr;
    const T* w_hh = nullptr;
    Shape ih, hh;
    ForwardPacks<T> packs;
  };
  std::map<const void*, Entry<float>> f;
  std::map<const void*, Entry<double>> d;

  template <class T>
  ForwardPacks<T>& packs_for(const RnnParams<T>& params) {
    auto& entries = [this]() -> auto& {
      if constexpr (std::is_same_v<T, float>) return f;
      else return d;
    }();
    Entry<T>& e = entries[&params];
    const RnnCellParams<T>& c = params.cells.front();
    if (e.w_ih != c.w_ih.ptr() || e.w_hh != c.w_hh.ptr() || e.ih != c.w_ih.shape || e.hh != c.w_hh.shape)
      e = Entry<T>{c.w_ih.ptr(), c.w_hh.ptr(), c.w_ih.shape, c.w_hh.shape, ForwardPacks<T>()};
    return e.packs;
  }
};

RnnPacks::RnnPacks() : impl_(std::make_unique<Impl>()) {}
RnnPacks::RnnPacks(RnnPacks&&) noexcept = default;
RnnPacks& RnnPacks::operator=(RnnPacks&&) noexcept = default;
RnnPacks::~RnnPacks() = default;

template <class T>
void rnn_segment_forward(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                         const RnnParams<T>& params, const Tensor<T>& x,
                         const std::vector<int64_t>& lengths, const RnnState<T>* init,
                         const RnnRunOptions& opt) {
  ForwardPacks<T>* kept = opt.inference && opt.packs && !params.cells.empty()
                              ? &opt.packs->impl().packs_for(params)
                              : nullptr;
  rnn_forward_packs<T>(y, final_state, cache, params, x, lengths, init, opt, kept);
}

template <class T>
struct PreparedRnn<T>::Impl {
  RnnParams<T> params;
  RnnRunOptions opt;
  RnnCache<T> cache;
  ForwardPacks<T> packs;
  RnnPacks segment_packs;  // a mixed stack's, one per segment
};

template <class T>
PreparedRnn<T>::PreparedRnn(const RnnParams<T>& params, Precision precision)
    : impl_(std::make_unique<Impl>()) {
  params.config.validate();
  impl_->params = params;
  impl_->opt.inference = true;
  impl_->opt.precision = precision;
}
template <class T>
PreparedRnn<T>::PreparedRnn(PreparedRnn&&) noexcept = default;
template <class T>
PreparedRnn<T>& PreparedRnn<T>::operator=(PreparedRnn&&) noexcept = default;
template <class T>
PreparedRnn<T>::~PreparedRnn() = default;

template <class T>
void PreparedRnn<T>::forward(Tensor<T>& y, RnnState<T>& final_state, const Tensor<T>& x,
                             const std::vector<int64_t>& lengths, const RnnState<T>* init) {
  if (!impl_->params.config.one_engine_segment())
    return rnn_forward(y, final_state, impl_->cache, impl_->params, x, lengths, init,
                       impl_->opt.with_packs(&impl_->segment_packs));
  rnn_forward_packs(y, final_state, impl_->cache, impl_->params, x, lengths, init, impl_->opt,
                    &impl_->packs);
}

template <class T>
const RnnParams<T>& PreparedRnn<T>::params() const {
  return impl_->params;
}

template class PreparedRnn<float>;
template class PreparedRnn<double>;

template <class T>
void rnn_segment_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads,
                          const RnnCache<T>& cache, const RnnParams<T>& params, const Tensor<T>& dy,
                          const RnnState<T>* dfinal) {
  const RnnConfig& cfg = params.config;
  const int64_t Ts = cache.steps, B = cache.batch, H = cfg.hidden_size, GH = cfg.gates() * H;
  const int D = cfg.directions(), L = cfg.num_layers;
  const bool lstm = cfg.has_cell_state();
  RECUR_CHECK(int(cache.layers.size()) == L, "rnn_backward: the cache is not from rnn_forward");
  RECUR_CHECK(!cache.inference, "rnn_backward: the forward ran with RnnRunOptions::inference, "
                                "which keeps nothing for backward");
  const bool sum = cfg.sums_directions();
  const int64_t OW = cfg.layer_output_size();
  RECUR_CHECK(dy.shape == Shape({Ts, B, OW}), "output gradient has shape " << dy.shape_string()
                                                 << ", expected " << shape_str({Ts, B, OW}));
  RECUR_CHECK(grads.cells.size() == params.cells.size() && grads.config.hidden_size == H,
              "rnn_backward: gradient buffers do not match the parameters");
  if (dfinal) {
    check_state(dfinal->h, "final h gradient", int64_t(L) * D, B, H);
    if (lstm) check_state(dfinal->c, "final c gradient", int64_t(L) * D, B, H);
  }
  const cells::CellOps<T> ops = cells::ops_for<T>(cfg);
  const int64_t W = ops.cache_width(cfg);
  const std::vector<int64_t>& len = cache.lengths;
  const Precision prec = cache.precision;
  const cells::PackMode mode{Ts >= cpu::kMinStepsToPack, prec};

  dinit.h.reuse_as({int64_t(L) * D, B, H});
  if (lstm) dinit.c.reuse_as({int64_t(L) * D, B, H});
  else dinit.c = Tensor<T>();
  const Tensor<T>* dout = &dy;  // gradient w.r.t. the current layer's output
  const int blocks = cpu::row_blocks(B);
  const std::vector<int64_t> block_rows = cpu::block_rows(blocks, B);
  const int64_t U = cells::unit_params_size(cfg);  // per-unit parameters: peepholes, leak
  // As in the forward, the time loops of the two directions may run at the same time.
  const bool concurrent_directions = directions_at_once(D, B);
  // Workspaces of a direction being run (a second set for the reverse direction when the two run
  // at once): (B,H) state gradients, the (B,G*H) step product, per-unit parameter gradients.
  struct Work {
    Tensor<T> dh_new, dc_new, dh_prev, dc_prev, dh_carry, dc_carry, scratch, dunit;
  };
  Work work[2];
  for (int w = 0; w < (concurrent_directions ? 2 : 1); ++w) {
    for (Tensor<T>* t : {&work[w].dh_new, &work[w].dc_new, &work[w].dh_prev, &work[w].dc_prev,
                         &work[w].dh_carry, &work[w].dc_carry})
      t->reuse_as({B, H});
    work[w].scratch.reuse_as({B, GH});
    if (U) work[w].dunit.reuse_as({int64_t(blocks), U});
  }
  for (int l = L - 1; l >= 0; --l) {
    const RnnLayerCache<T>& lc = cache.layers[size_t(l)];
    const int64_t in = lc.input.dim(2);
    // The gradient into this layer's input: dx itself for the first layer, else a workspace
    // (two, alternating, so it never overwrites the layer above's gradient it reads).
    Tensor<T>& din = l == 0 ? dx : cache.dlayer[l % 2];
    din.reuse_as({Ts, B, in});
    // Direction d's time loop on workspace set w, then its weight gradients over all steps at
    // once, leaving its gate gradients in cache.dg_ih[w] for the input gradient.
    auto run_direction = [&](int d, int w) {
      const RnnCellParams<T>& p = params.cells[size_t(l * D + d)];
      RnnCellParams<T>& g = grads.cells[size_t(l * D + d)];
      const RnnDirCache<T>& dc = lc.dirs[size_t(d)];
      const bool fwd = d == 0;
      const int64_t idx = int64_t(l * D + d);
      Tensor<T> &dh_new = work[w].dh_new, &dc_new = work[w].dc_new, &dh_prev = work[w].dh_prev,
                &dc_prev = work[w].dc_prev, &dh_carry = work[w].dh_carry,
                &dc_carry = work[w].dc_carry, &scratch = work[w].scratch, &dunit = work[w].dunit;
      cells::StepWeights<T> packed;
      ops.pack(packed, p, cfg, true, block_rows, mode);
      Tensor<T>& dg_ih = cache.dg_ih[w];  // written in full by the cell at every step
      dg_ih.reuse_as({Ts, B, GH});
      T* dg_hh = dg_ih.ptr();
      if (ops.hh_grads_differ(cfg)) {
        cache.dg_hh[w].reuse_as({Ts, B, GH});
        dg_hh = cache.dg_hh[w].ptr();
      }
      dh_carry.fill(T(0));
      dc_carry.fill(T(0));
      if (dfinal) {
        std::copy_n(dfinal->h.ptr() + idx * B * H, B * H, dh_carry.ptr());
        if (lstm) std::copy_n(dfinal->c.ptr() + idx * B * H, B * H, dc_carry.ptr());
      }
      // The time loop over batch rows [b0, b1); each block accumulates its own gradient of the
      // per-unit parameters, summed after the loop.
      auto run_rows = [&](int k, int64_t b0, int64_t b1) {
        const int64_t Bk = b1 - b0;
        T* dhn = dh_new.ptr() + b0 * H;
        T* dcn = dc_new.ptr() + b0 * H;
        T* dhp = dh_prev.ptr() + b0 * H;
        T* dcp = dc_prev.ptr() + b0 * H;
        T* dhc = dh_carry.ptr() + b0 * H;
        T* dcc = dc_carry.ptr() + b0 * H;
        for (int64_t s = Ts - 1; s >= 0; --s) {
          const int64_t t = fwd ? s : Ts - 1 - s, prev = fwd ? t : t + 1, next = fwd ? t + 1 : t;
          for (int64_t r = 0; r < Bk; ++r) {
            const bool active = t < len[size_t(b0 + r)];
            const T* dyo = dout->ptr() + (t * B + b0 + r) * OW + (sum ? 0 : d * H);
            for (int64_t j = 0; j < H; ++j) {
              dhn[r * H + j] = active ? dyo[j] + dhc[r * H + j] : T(0);
              dcn[r * H + j] = active ? dcc[r * H + j] : T(0);
            }
          }
          const int64_t row = t * B + b0;
          cells::StepBackward<T> step{
              dhn,
              lstm ? dcn : nullptr,
              dc.states_h.ptr() + (prev * B + b0) * H,
              lstm ? dc.states_c.ptr() + (prev * B + b0) * H : nullptr,
              dc.states_h.ptr() + (next * B + b0) * H,
              lstm ? dc.states_c.ptr() + (next * B + b0) * H : nullptr,
              dc.cell.ptr() + row * W,
              dg_ih.ptr() + row * GH,
              dg_hh + row * GH,
              dhp,
              lstm ? dcp : nullptr,
              U ? dunit.ptr() + k * U : nullptr,
              scratch.ptr() + b0 * GH,
              &packed,
              k};
          ops.backward_step(step, p, cfg, Bk);
          for (int64_t r = 0; r < Bk; ++r) {
            if (t >= len[size_t(b0 + r)]) continue;  // padding: the carried gradient passes through
            std::copy_n(dhp + r * H, H, dhc + r * H);
            if (lstm) std::copy_n(dcp + r * H, H, dcc + r * H);
          }
        }
      };
      if (U) dunit.fill(T(0));
      cpu::for_row_blocks(blocks, B, run_rows);
      if (U) {
        Tensor<T>& gu = *cells::unit_params(g, cfg);
        for (int k = 0; k < blocks; ++k)
          for (int64_t j = 0; j < U; ++j) gu[j] += dunit[k * U + j];
      }
      std::copy_n(dh_carry.ptr(), B * H, dinit.h.ptr() + idx * B * H);
      if (lstm) std::copy_n(dc_carry.ptr(), B * H, dinit.c.ptr() + idx * B * H);

      const int64_t N = Ts * B;
      gemm<T>(prec, true, false, GH, in, N, T(1), dg_ih.ptr(), GH, lc.input.ptr(), in, T(1),
              g.w_ih.ptr(), in);
      cells::add_column_sums(g.b_ih.ptr(), dg_ih.ptr(), N, GH, GH);
      ops.hh_weight_grads(g, dg_hh, dc.states_h.ptr() + (fwd ? 0 : B * H), dc.cell.ptr(),
                          cfg, N, prec);
    };
    // Direction d's share of the gradient into this layer's input (the first one writes it).
    auto input_gradient = [&](int d, int w) {
      gemm<T>(prec, false, false, Ts * B, in, GH, T(1), cache.dg_ih[w].ptr(), GH,
              params.cells[size_t(l * D + d)].w_ih.ptr(), in, T(d == 0 ? 0 : 1), din.ptr(), in);
    };
    if (concurrent_directions) {
      cpu::for_each_thread(2, [&](int d) { run_direction(d, d); });
      for (int d = 0; d < 2; ++d) input_gradient(d, d);
    } else {
      for (int d = 0; d < D; ++d) {
        run_direction(d, 0);
        input_gradient(d, 0);
      }
    }
    if (cache.layer_grads_done) cache.layer_grads_done(l);
    scale_by_mask(din, lc.dropout_mask);
    dout = &din;
  }
}

template void rnn_segment_forward<float>(Tensor<float>&, RnnState<float>&, RnnCache<float>&,
                                         const RnnParams<float>&, const Tensor<float>&,
                                         const std::vector<int64_t>&, const RnnState<float>*,
                                         const RnnRunOptions&);
template void rnn_segment_forward<double>(Tensor<double>&, RnnState<double>&, RnnCache<double>&,
                                          const RnnParams<double>&, const Tensor<double>&,
                                          const std::vector<int64_t>&, const RnnState<double>*,
                                          const RnnRunOptions&);
template void rnn_segment_backward<float>(Tensor<float>&, RnnState<float>&, RnnParams<float>&,
                                          const RnnCache<float>&, const RnnParams<float>&,
                                          const Tensor<float>&, const RnnState<float>*);
template void rnn_segment_backward<double>(Tensor<double>&, RnnState<double>&, RnnParams<double>&,
                                           const RnnCache<double>&, const RnnParams<double>&,
                                           const Tensor<double>&, const RnnState<double>*);

}  // namespace recur
