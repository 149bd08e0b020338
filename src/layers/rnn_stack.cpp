// rnn_forward and rnn_backward: a uniform stack is one segment on the engine (rnn.cpp) or on its
// own time loop (rnn_loops.cpp); a mixed stack (RnnConfig::above) runs its segments in turn, each
// reading the output of the one below with that one's dropout applied, and BPTT runs them top down.
#include <utility>

#include "layers/rnn_segment.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

// The options of segment k, whose first layer is layer `offset` of the stack: layer_grads_done
// reports stack layers.
RnnRunOptions segment_options(const RnnRunOptions& opt, int offset) {
  RnnRunOptions o = opt;
  if (opt.layer_grads_done)
    o.layer_grads_done = [done = opt.layer_grads_done, offset](int l) { done(l + offset); };
  return o;
}

// One segment, on the engine or on its own time loop.
template <class T>
void segment_forward(Tensor<T>& y, RnnState<T>& fin, RnnCache<T>& cache, const RnnParams<T>& p,
                     const Tensor<T>& x, const std::vector<int64_t>& lengths, const RnnState<T>* init,
                     const RnnRunOptions& opt) {
  if (p.config.own_loop()) return own_loop_forward(y, fin, cache, p, x, lengths, init, opt);
  rnn_segment_forward(y, fin, cache, p, x, lengths, init, opt);
}

template <class T>
void segment_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads, const RnnCache<T>& cache,
                      const RnnParams<T>& p, const Tensor<T>& dy, const RnnState<T>* dfinal) {
  if (p.config.own_loop()) return own_loop_backward(dx, dinit, grads, cache, p, dy, dfinal);
  rnn_segment_backward(dx, dinit, grads, cache, p, dy, dfinal);
}

}  // namespace

template <class T>
void rnn_forward(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                 const RnnParams<T>& params, const Tensor<T>& x, const std::vector<int64_t>& lengths,
                 std::type_identity_t<const RnnState<T>*> init, const RnnRunOptions& opt) {
  const size_t S = params.above.size();
  RECUR_CHECK(S == params.config.above.size(), "RnnParams holds " << S << " upper segments, its config "
                                                   << params.config.above.size());
  RECUR_CHECK(!init || init->above.size() == S,
              "the initial state holds " << init->above.size()
                                         << " upper segments' states; the stack has " << S);
  segment_forward(y, final_state, cache, params, x, lengths, init, opt);
  final_state.above.resize(S);
  cache.above.resize(S);
  cache.above_input.resize(S);
  cache.above_mask.resize(S);
  const RnnConfig* below = &params.config;
  int offset = params.config.num_layers;
  for (size_t k = 0; k < S; ++k) {
    Tensor<T>& in = cache.above_input[k];
    std::swap(in, y);  // the segment below's output; y is rewritten next
    if (opt.training && below->dropout > 0) {
      RECUR_CHECK(opt.rng, "dropout in training mode needs an Rng");
      inverted_dropout(in, cache.above_mask[k], below->dropout, *opt.rng);
    } else {
      cache.above_mask[k] = Tensor<T>();
    }
    segment_forward(y, final_state.above[k], cache.above[k], params.above[k], in, lengths,
                    init ? &init->above[k] : nullptr, segment_options(opt, offset));
    below = &params.above[k].config;
    offset += below->num_layers;
  }
}

template <class T>
void rnn_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads, const RnnCache<T>& cache,
                  const RnnParams<T>& params, const Tensor<T>& dy,
                  std::type_identity_t<const RnnState<T>*> dfinal) {
  const size_t S = params.above.size();
  if (S == 0) return segment_backward(dx, dinit, grads, cache, params, dy, dfinal);
  RECUR_CHECK(cache.above.size() == S && grads.above.size() == S,
              "rnn_backward: the cache or the gradients do not hold the stack's " << S
                                                                                 << " upper segments");
  RECUR_CHECK(!dfinal || dfinal->above.size() == S,
              "rnn_backward: dfinal holds " << dfinal->above.size()
                                             << " upper segments' states; the stack has " << S);
  dinit.above.resize(S);
  Tensor<T> dseg;  // the gradient of the output of the segment below the one just run
  for (size_t k = S; k-- > 0;) {
    Tensor<T> din;
    segment_backward(din, dinit.above[k], grads.above[k], cache.above[k], params.above[k],
                     k + 1 == S ? dy : dseg, dfinal ? &dfinal->above[k] : nullptr);
    scale_by_mask(din, cache.above_mask[k]);
    dseg = std::move(din);
  }
  segment_backward(dx, dinit, grads, cache, params, dseg, dfinal);
}

template void rnn_forward<float>(Tensor<float>&, RnnState<float>&, RnnCache<float>&,
                                 const RnnParams<float>&, const Tensor<float>&,
                                 const std::vector<int64_t>&, const RnnState<float>*,
                                 const RnnRunOptions&);
template void rnn_forward<double>(Tensor<double>&, RnnState<double>&, RnnCache<double>&,
                                  const RnnParams<double>&, const Tensor<double>&,
                                  const std::vector<int64_t>&, const RnnState<double>*,
                                  const RnnRunOptions&);
template void rnn_backward<float>(Tensor<float>&, RnnState<float>&, RnnParams<float>&,
                                  const RnnCache<float>&, const RnnParams<float>&,
                                  const Tensor<float>&, const RnnState<float>*);
template void rnn_backward<double>(Tensor<double>&, RnnState<double>&, RnnParams<double>&,
                                   const RnnCache<double>&, const RnnParams<double>&,
                                   const Tensor<double>&, const RnnState<double>*);

}  // namespace recur
