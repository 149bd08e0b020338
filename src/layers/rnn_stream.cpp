// RnnStream: one step of a stacked unidirectional network on prepared weights and buffers.
#include "recur/layers/rnn_stream.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <type_traits>

#include "cells/cell.h"

namespace recur {

namespace {

// One thread's share of a unit-split step (see RnnStream::Impl::slices): units [j0, j1) of every
// layer, with the rows of W_ih, W_hh and the biases for those units' gates packed for this thread
// alone, their per-unit parameters (peepholes, leaks), and its own buffers.
template <class T>
struct UnitSlice {
  int64_t j0 = 0, j1 = 0;
  RnnConfig cfg;  // hidden_size = j1 - j0: the cell's pointwise maths over this slice
  std::vector<cpu::PackedGemm<T>> ih;  // per layer, unless fused: x W_ih^T + b_ih
  std::vector<cells::StepWeights<T>> hh;
  std::vector<RnnCellParams<T>> p;  // the slice's per-unit parameters (the rest of p is not read)
  Tensor<T> xw, scratch, cache;     // (1, G Hk), (1, G Hk), (1, cache width)
  // Fused (cells whose pre-activations are x W_ih^T + h W_hh^T: the LSTM and the simple RNN): one
  // product per layer on [x; h_prev] against [W_ih | W_hh] with b_ih + b_hh, instead of two; xw
  // then stays zero and xh[l] holds the layer's concatenated input.
  bool fused = false;
  std::vector<Tensor<T>> xh;
};

}  // namespace

template <class T>
struct RnnStream<T>::Impl {
  RnnParams<T> params;  // own copy: the cells read b_hh, peepholes, leaks and norms from it
  cells::CellOps<T> ops;
  int64_t B;
  std::vector<cpu::PackedGemm<T>> w_ih;        // per layer: x W_ih^T + b_ih
  std::vector<cells::StepWeights<T>> w_hh;     // per layer: the cell's packed recurrence
  RnnState<T> state, next;                     // (L,B,H): before and after the step
  Tensor<T> xw, scratch, cache;                // (B,G*H), (B,G*H), (B,W)
  // Unit split, for one sequence (B = 1) on two or more threads, for the cells whose pointwise
  // maths is per unit (LSTM, the reset-after GRU, the simple RNN; not layer norm): the units are
  // split between the threads, each of which packs its units' rows of the weights and keeps them
  // in its own core's cache. A step is then one parallel region with one barrier per layer, where
  // the plain path forks and joins inside every product. Empty: the plain path.
  std::vector<UnitSlice<T>> slices;
  // A mixed stack streams as a chain of uniform streams, one per segment, each writing its output
  // (B, width) into mid for the next; state() then gathers their states into `stack_state`.
  std::vector<RnnStream<T>> segments = {};
  std::vector<Tensor<T>> mid = {};
  mutable RnnState<T> stack_state = {};
};

template <class T>
RnnStream<T>::RnnStream(const RnnParams<T>& params, int64_t batch, Precision precision)
    : impl_(std::make_unique<Impl>(Impl{params, cells::ops_for<T>(params.config), batch, {}, {},
                                        {}, {}, {}, {}, {}, {}})) {
  Impl& m = *impl_;
  const RnnConfig& cfg = m.params.config;
  cfg.validate();
  RECUR_CHECK(!cfg.any_bidirectional(),
              "streaming runs forward in time: a bidirectional network needs the whole sequence");
  RECUR_CHECK(batch > 0, "RnnStream: batch must be positive, got " << batch);
  RECUR_CHECK(!cfg.any_own_loop(), "streaming steps the engine's cells; a clockwork, skip or deep "
                                   "layer runs its own time loop over a whole sequence");
  if (cfg.mixed()) {  // the segments take the weights; this stream keeps none of its own
    RnnParams<T> stack = std::move(m.params);
    m.params = RnnParams<T>();
    std::vector<RnnParams<T>> above = std::move(stack.above);
    stack.above.clear();
    stack.config.above.clear();
    above.insert(above.begin(), std::move(stack));
    for (const RnnParams<T>& seg : above) {
      m.segments.emplace_back(seg, batch, precision);
      m.mid.emplace_back(Shape{batch, seg.config.layer_output_size()});
    }
    return;
  }
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H, L = cfg.num_layers;
  // The unit split: at least 32 units per thread, so that each product stays worth a core.
  const int threads = int(std::min<int64_t>(omp_get_max_threads(), H / 32));
  const bool per_unit = !cfg.layer_norm && !(cfg.cell == CellKind::gru && cfg.gru == GruConvention::reset_before);
  if (std::is_same_v<T, float> && batch == 1 && per_unit && threads >= 2) {
    const int G = cfg.gates();
    const bool fused = cfg.cell != CellKind::gru;
    m.slices.resize(size_t(threads));
    for (int k = 0; k < threads; ++k) {
      UnitSlice<T>& u = m.slices[size_t(k)];
      u.j0 = H * k / threads;
      u.j1 = H * (k + 1) / threads;
      const int64_t n = u.j1 - u.j0;
      u.cfg = cfg;
      u.cfg.hidden_size = n;
      u.fused = fused;
      for (int64_t l = 0; l < L; ++l) {
        const RnnCellParams<T>& p = m.params.cells[size_t(l)];
        const int64_t in = l == 0 ? cfg.input_size : H;
        const Tensor<T> wi = cells::gate_rows(p.w_ih, G, H, u.j0, u.j1);
        const Tensor<T> wh = cells::gate_rows(p.w_hh, G, H, u.j0, u.j1);
        const Tensor<T> bi = cells::gate_rows(p.b_ih, G, H, u.j0, u.j1);
        const Tensor<T> bh = cells::gate_rows(p.b_hh, G, H, u.j0, u.j1);
        u.hh.emplace_back();
        if (u.fused) {
          Tensor<T> w({G * n, in + H}), bsum({G * n});
          for (int64_t r = 0; r < G * n; ++r) {
            std::copy_n(wi.ptr() + r * in, in, w.ptr() + r * (in + H));
            std::copy_n(wh.ptr() + r * H, H, w.ptr() + r * (in + H) + in);
            bsum[r] = bi[r] + bh[r];
          }
          u.hh.back().main = cpu::PackedGemm<T>(
              {w.ptr(), in + H, true, in + H, G * n, bsum.ptr(), in + H, G * n, false, precision}, {1});
          u.xh.push_back(Tensor<T>({1, in + H}));
        } else {
          u.ih.emplace_back(cpu::StepGemmSpec<T>{wi.ptr(), in, true, in, G * n, bi.ptr(), in, G * n, false, precision},
                            std::vector<int64_t>{1});
          u.hh.back().main = cpu::PackedGemm<T>(
              {wh.ptr(), H, true, H, G * n, bh.ptr(), H, G * n, false, precision}, {1});
        }
        RnnCellParams<T> ps;  // the per-unit parameters of the slice
        if (cfg.peephole) ps.w_peep = cells::gate_rows(p.w_peep, 3, H, u.j0, u.j1);
        if (cfg.learn_leak) ps.leak = cells::gate_rows(p.leak, 1, H, u.j0, u.j1);
        u.p.push_back(std::move(ps));
      }
      u.xw = Tensor<T>({1, G * n});
      u.scratch = Tensor<T>({1, G * n});
      u.cache = Tensor<T>({1, m.ops.cache_width(u.cfg)});
    }
  } else {  // the plain path: every layer's products over the whole batch
    m.w_ih.reserve(size_t(L));
    m.w_hh.resize(size_t(L));
    for (int64_t l = 0; l < L; ++l) {
      const RnnCellParams<T>& p = m.params.cells[size_t(l)];
      const int64_t in = l == 0 ? cfg.input_size : H;
      m.w_ih.emplace_back(cpu::StepGemmSpec<T>{p.w_ih.ptr(), in, true, in, GH,
                                               m.ops.fold_input_bias ? nullptr : p.b_ih.ptr(), in,
                                               GH, false, precision},
                          std::vector<int64_t>{batch});
      m.ops.pack(m.w_hh[size_t(l)], p, cfg, false, {batch}, cells::PackMode{true, precision});
    }
    m.xw = Tensor<T>({batch, GH});
    m.scratch = Tensor<T>({batch, GH});
    m.cache = Tensor<T>({batch, m.ops.cache_width(cfg)});
  }
  reset(nullptr);
}

template <class T>
void RnnStream<T>::reset(const RnnState<T>* init) {
  Impl& m = *impl_;
  if (!m.segments.empty()) {
    const size_t S = m.segments.size();
    RECUR_CHECK(!init || init->above.size() == S - 1, "the initial state holds " << init->above.size()
                                                          << " upper segments' states; the stack has " << S - 1);
    for (size_t k = 0; k < S; ++k)
      m.segments[k].reset(!init ? nullptr : k == 0 ? init : &init->above[k - 1]);
    return;
  }
  const RnnConfig& cfg = m.params.config;
  const Shape s{cfg.num_layers, m.B, cfg.hidden_size};
  const bool lstm = cfg.has_cell_state();
  if (init) {
    RECUR_CHECK(init->h.shape == s, "initial h has shape " << init->h.shape_string() << ", expected "
                                                           << shape_str(s) << " (layers, batch, hidden)");
    RECUR_CHECK(!lstm || init->c.shape == s, "initial c has shape " << init->c.shape_string()
                                                                    << ", expected " << shape_str(s));
    m.state.h = init->h;
    m.state.c = lstm ? init->c : Tensor<T>();
  } else {
    m.state.h = Tensor<T>(s);
    m.state.c = lstm ? Tensor<T>(s) : Tensor<T>();
  }
  m.next = m.state;
}

template <class T>
void RnnStream<T>::step(const T* x, T* y) {
  Impl& m = *impl_;
  if (!m.segments.empty()) {
    for (size_t k = 0; k < m.segments.size(); ++k)
      m.segments[k].step(k == 0 ? x : m.mid[k - 1].ptr(), m.mid[k].ptr());
    if (y) std::copy_n(m.mid.back().ptr(), m.mid.back().numel(), y);
    return;
  }
  const RnnConfig& cfg = m.params.config;
  const int64_t H = cfg.hidden_size, BH = m.B * H;
  const bool lstm = cfg.has_cell_state();
  if (!m.slices.empty()) {  // unit split: B = 1
    const int P = int(m.slices.size());
    std::exception_ptr error;
    std::unique_ptr<cpu::SpinBarrier> barrier;
#pragma omp parallel num_threads(P)
    {
      const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
      if (cfg.num_layers > 1) {
#pragma omp single
        barrier = std::make_unique<cpu::SpinBarrier>(nt);
      }
      for (int l = 0; l < cfg.num_layers; ++l) {
        const T* in = l == 0 ? x : m.next.h.ptr() + (l - 1) * H;
        // Every thread reaches every barrier, even after an error (caught per slice).
        for (int k = tid; k < P; k += nt) {  // one slice per thread unless fewer were given
          try {
            UnitSlice<T>& u = m.slices[size_t(k)];
            const T* h_all = m.state.h.ptr() + l * H;  // what the recurrent product reads
            if (u.fused) {  // [x; h_prev] for the one product; xw stays zero
              T* xh = u.xh[size_t(l)].ptr();
              const int64_t width = u.xh[size_t(l)].dim(1) - H;
              std::copy_n(in, width, xh);
              std::copy_n(h_all, H, xh + width);
              h_all = xh;
            } else {
              u.ih[size_t(l)].run(0, in, u.xw.ptr());
            }
            cells::StepForward<T> s{u.xw.ptr(),
                                    m.state.h.ptr() + l * H + u.j0,
                                    lstm ? m.state.c.ptr() + l * H + u.j0 : nullptr,
                                    m.next.h.ptr() + l * H + u.j0,
                                    lstm ? m.next.c.ptr() + l * H + u.j0 : nullptr,
                                    u.cache.ptr(),
                                    u.scratch.ptr(),
                                    &u.hh[size_t(l)],
                                    0,
                                    h_all};
            s.keep_cache = false;
            m.ops.forward_step(s, u.p[size_t(l)], u.cfg, 1);
          } catch (...) {
#pragma omp critical(recur_stream_error)
            if (!error) error = std::current_exception();
          }
        }
        // The next layer reads this one's whole output; after the last, the region's end waits.
        if (l + 1 < cfg.num_layers) barrier->wait();
      }
    }
    if (error) std::rethrow_exception(error);
    std::swap(m.state, m.next);
    if (y) std::copy_n(m.state.h.ptr() + (cfg.num_layers - 1) * H, H, y);
    return;
  }
  const T* in = x;
  for (int l = 0; l < cfg.num_layers; ++l) {
    m.w_ih[size_t(l)].run(0, in, m.xw.ptr());
    T* h = m.next.h.ptr() + l * BH;
    cells::StepForward<T> s{m.xw.ptr(),
                            m.state.h.ptr() + l * BH,
                            lstm ? m.state.c.ptr() + l * BH : nullptr,
                            h,
                            lstm ? m.next.c.ptr() + l * BH : nullptr,
                            m.cache.ptr(),
                            m.scratch.ptr(),
                            &m.w_hh[size_t(l)],
                            0};
    s.keep_cache = false;
    m.ops.forward_step(s, m.params.cells[size_t(l)], cfg, m.B);
    in = h;
  }
  std::swap(m.state, m.next);
  if (y) std::copy_n(in, BH, y);
}

template <class T>
const RnnState<T>& RnnStream<T>::state() const {
  const Impl& m = *impl_;
  if (m.segments.empty()) return m.state;
  m.stack_state = m.segments[0].state();
  m.stack_state.above.clear();
  for (size_t k = 1; k < m.segments.size(); ++k) m.stack_state.above.push_back(m.segments[k].state());
  return m.stack_state;
}

template <class T>
RnnStream<T>::RnnStream(RnnStream&&) noexcept = default;
template <class T>
RnnStream<T>& RnnStream<T>::operator=(RnnStream&&) noexcept = default;
template <class T>
RnnStream<T>::~RnnStream() = default;

template class RnnStream<float>;
template class RnnStream<double>;

}  // namespace recur
