// The segments of a stack that run a layer with its own time loop (RnnConfig::loop: clockwork,
// skip, deep) under the engine's contract: padded batches with per-sequence lengths (outputs past a
// length are zero, the final state is the state at the sequence's own length), an initial state
// (L*D,B,H) = (1,B,H), and BPTT with dinit. Each of these layers outputs its state (y_t = h_t), so
// the final state's gradient joins the output's at each sequence's last step.
#include <variant>

#include "layers/rnn_segment.h"

namespace recur {

template <class T>
void own_loop_forward(Tensor<T>& y, RnnState<T>& fin, RnnCache<T>& cache, const RnnParams<T>& p,
                      const Tensor<T>& x, const std::vector<int64_t>& lengths, const RnnState<T>* init,
                      const RnnRunOptions& opt) {
  const RnnConfig& c = p.config;
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == c.input_size,
              "a " << time_loop_name(c.loop) << " layer's input has shape " << x.shape_string()
                   << ", expected (T, B, " << c.input_size << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1), H = c.hidden_size;
  check_lengths(lengths, Ts, B);
  cache.lengths = lengths.empty() ? std::vector<int64_t>(size_t(B), Ts) : lengths;
  cache.steps = Ts;
  cache.batch = B;
  cache.has_initial_state = init != nullptr;
  cache.precision = opt.precision;
  cache.layer_grads_done = opt.layer_grads_done;
  Tensor<T> h0;
  if (init) {
    check_state(init->h, "h0", 1, B, H);
    h0 = Tensor<T>({B, H}, init->h.data);
  }
  const Tensor<T>* h0p = init ? &h0 : nullptr;
  if (auto* l = std::get_if<ClockworkParams<T>>(&p.layer)) {
    Tensor<T> hT;
    clockwork_forward(y, hT, cache.layer.template emplace<ClockworkCache<T>>(), *l, x, h0p);
  } else if (auto* s = std::get_if<SkipRnnParams<T>>(&p.layer)) {
    skip_rnn_forward(y, cache.layer.template emplace<SkipRnnCache<T>>(), *s, x, h0p);
  } else {
    deep_transition_forward(y, cache.layer.template emplace<DeepTransitionCache<T>>(),
                            std::get<DeepTransitionParams<T>>(p.layer), x, h0p);
  }
  fin.h = Tensor<T>({1, B, H});
  fin.c = Tensor<T>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = cache.lengths[size_t(b)];
    if (n > 0) std::copy_n(y.ptr() + ((n - 1) * B + b) * H, H, fin.h.ptr() + b * H);
    else if (init) std::copy_n(h0.ptr() + b * H, H, fin.h.ptr() + b * H);
    for (int64_t t = n; t < Ts; ++t) std::fill_n(y.ptr() + (t * B + b) * H, H, T(0));
  }
}

template <class T>
void own_loop_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads, const RnnCache<T>& cache,
                       const RnnParams<T>& p, const Tensor<T>& dy, const RnnState<T>* dfinal) {
  const int64_t Ts = cache.steps, B = cache.batch, H = p.config.hidden_size;
  RECUR_CHECK(dy.shape == Shape({Ts, B, H}), "dy has shape " << dy.shape_string() << ", expected "
                                                             << shape_str({Ts, B, H}));
  if (dfinal) check_state(dfinal->h, "final h gradient", 1, B, H);
  // The gradient of each step's output: none past a length; the final state's at the last step.
  Tensor<T> d = dy;
  dinit.h = Tensor<T>({1, B, H});
  dinit.c = Tensor<T>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = cache.lengths[size_t(b)];
    for (int64_t t = n; t < Ts; ++t) std::fill_n(d.ptr() + (t * B + b) * H, H, T(0));
    if (!dfinal) continue;
    T* to = n > 0 ? d.ptr() + ((n - 1) * B + b) * H : dinit.h.ptr() + b * H;
    for (int64_t j = 0; j < H; ++j) to[j] += dfinal->h[b * H + j];
  }
  Tensor<T> dh0;
  if (auto* l = std::get_if<ClockworkParams<T>>(&p.layer)) {
    clockwork_backward(dx, dh0, std::get<ClockworkParams<T>>(grads.layer),
                       std::get<ClockworkCache<T>>(cache.layer), *l, d, nullptr);
  } else if (auto* s = std::get_if<SkipRnnParams<T>>(&p.layer)) {
    skip_rnn_backward(dx, std::get<SkipRnnParams<T>>(grads.layer),
                      std::get<SkipRnnCache<T>>(cache.layer), *s, d, &dh0);
  } else {
    deep_transition_backward(dx, std::get<DeepTransitionParams<T>>(grads.layer),
                             std::get<DeepTransitionCache<T>>(cache.layer),
                             std::get<DeepTransitionParams<T>>(p.layer), d, &dh0);
  }
  if (cache.has_initial_state)
    for (int64_t k = 0; k < B * H; ++k) dinit.h[k] += dh0[k];
  if (cache.layer_grads_done) cache.layer_grads_done(0);
}

#define RECUR_INSTANTIATE(T)                                                                             \
  template void own_loop_forward<T>(Tensor<T>&, RnnState<T>&, RnnCache<T>&, const RnnParams<T>&,         \
                                    const Tensor<T>&, const std::vector<int64_t>&, const RnnState<T>*,   \
                                    const RnnRunOptions&);                                               \
  template void own_loop_backward<T>(Tensor<T>&, RnnState<T>&, RnnParams<T>&, const RnnCache<T>&,        \
                                     const RnnParams<T>&, const Tensor<T>&, const RnnState<T>*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
