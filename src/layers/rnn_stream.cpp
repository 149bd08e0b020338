// RnnStream: one step of a stacked unidirectional network on prepared weights and buffers.
#include "recur/layers/rnn_stream.h"

#include <algorithm>

#include "cells/cell.h"

namespace recur {

template <class T>
struct RnnStream<T>::Impl {
  RnnParams<T> params;  // own copy: the cells read b_hh, peepholes, leaks and norms from it
  cells::CellOps<T> ops;
  int64_t B;
  std::vector<cpu::PackedGemm<T>> w_ih;        // per layer: x W_ih^T + b_ih
  std::vector<cells::StepWeights<T>> w_hh;     // per layer: the cell's packed recurrence
  RnnState<T> state, next;                     // (L,B,H): before and after the step
  Tensor<T> xw, scratch, cache;                // (B,G*H), (B,G*H), (B,W)
};

template <class T>
RnnStream<T>::RnnStream(const RnnParams<T>& params, int64_t batch, Precision precision)
    : impl_(std::make_unique<Impl>(Impl{params, cells::ops_for<T>(params.config), batch, {}, {},
                                        {}, {}, {}, {}, {}})) {
  Impl& m = *impl_;
  const RnnConfig& cfg = m.params.config;
  cfg.validate();
  RECUR_CHECK(!cfg.bidirectional,
              "streaming runs forward in time: a bidirectional network needs the whole sequence");
  RECUR_CHECK(batch > 0, "RnnStream: batch must be positive, got " << batch);
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H, L = cfg.num_layers;
  m.w_ih.reserve(size_t(L));
  m.w_hh.resize(size_t(L));
  for (int64_t l = 0; l < L; ++l) {
    const RnnCellParams<T>& p = m.params.cells[size_t(l)];
    const int64_t in = l == 0 ? cfg.input_size : H;
    m.w_ih.emplace_back(cpu::StepGemmSpec<T>{p.w_ih.ptr(), in, true, in, GH, p.b_ih.ptr(), in, GH,
                                             false, precision},
                        std::vector<int64_t>{batch});
    m.ops.pack(m.w_hh[size_t(l)], p, cfg, false, {batch}, cells::PackMode{true, precision});
  }
  m.xw = Tensor<T>({batch, GH});
  m.scratch = Tensor<T>({batch, GH});
  m.cache = Tensor<T>({batch, m.ops.cache_width(cfg)});
  reset(nullptr);
}

template <class T>
void RnnStream<T>::reset(const RnnState<T>* init) {
  Impl& m = *impl_;
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
  const RnnConfig& cfg = m.params.config;
  const int64_t H = cfg.hidden_size, BH = m.B * H;
  const bool lstm = cfg.has_cell_state();
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
    m.ops.forward_step(s, m.params.cells[size_t(l)], cfg, m.B);
    in = h;
  }
  std::swap(m.state, m.next);
  if (y) std::copy_n(in, BH, y);
}

template <class T>
const RnnState<T>& RnnStream<T>::state() const {
  return impl_->state;
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
