// Recurrent layers: stacked, optionally bidirectional RNN / LSTM / GRU over a padded time-major
// batch with per-sequence lengths, forward and BPTT. The public face of src/cells and src/layers.
//
// Key: T = time steps, B = batch, I = input features, H = hidden size, G = gates (1 RNN, 4 LSTM,
// 3 GRU), D = directions (1 or 2), L = layers.
//   x: (T,B,I)  y: (T,B,D*H), (T,B,H) when the directions are summed  h0, hn, c0, cn: (L*D,B,H)
//   lengths: B values in [0, T]
//   weight_ih_l{k}[_reverse]: (G*H, in)  weight_hh_l{k}: (G*H, H)  bias_ih/bias_hh: (G*H)
//   weight_peep_l{k} (LSTM with peepholes only): (3*H) = (p_i, p_f, p_o)
//   leak_l{k} (simple RNN with a learned leak only): (H) logits lambda, alpha = sigmoid(lambda)
//   ln_l{k} (layer-normalised cells only): (10H) LSTM, (6H) GRU, (2H) RNN: gains and biases
// Gate orders: LSTM i, f, g, o; GRU r, z, n (PyTorch's). Parameter names are PyTorch's.
// A mixed stack (RnnConfig::above) is a chain of such uniform segments, each with its own L, D, H
// and states (RnnState::above); a clockwork, skip or deep segment is one layer (L = D = 1) with
// its own time loop and weight names (recur/layers/clockwork.h, skip_rnn.h, deep_transition.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "recur/core/gemm.h"
#include "recur/core/rng.h"
#include "recur/core/tensor.h"
#include "recur/layers/clockwork.h"
#include "recur/layers/deep_transition.h"
#include "recur/layers/skip_rnn.h"
#include "recur/nn/param_visitor.h"

namespace recur {

// rnn_linear: the simple RNN with the identity for f (the seeds' linear RNN), h = W x + U h_prev + b.
enum class CellKind { rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru, rnn_linear };

// GRU candidate: reset_after  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   (PyTorch, cuDNN)
//                reset_before n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)   (Cho 2014, the seeds)
enum class GruConvention { reset_after, reset_before };

// How a bidirectional layer joins its two directions: side by side (2H wide, PyTorch's) or summed
// (H wide, y = y_forward + y_reverse).
enum class DirectionMerge { concat, sum };

// How a segment of a stack steps through time: on the engine (the cells above), or as one
// unidirectional tanh layer with its own time loop (a seed's variant):
//   clockwork  modules with periods (recur/layers/clockwork.h)
//   skip       links from `delay` steps back, and from one step back unless !short_links (skip_rnn.h)
//   deep       `depth` tanh layers inside the transition, with a shortcut (deep_transition.h)
enum class TimeLoop { engine, clockwork, skip, deep };
const char* time_loop_name(TimeLoop loop);  // "clockwork", "skip", "deep" ("engine")
std::vector<int64_t> clockwork_default_periods();  // 1, 2, 4, 8

const char* cell_name(CellKind kind);
CellKind parse_cell(const std::string& name);  // "lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_sigmoid", "rnn_linear"

struct RnnConfig {
  CellKind cell = CellKind::lstm;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int num_layers = 1;
  bool bidirectional = false;
  DirectionMerge merge = DirectionMerge::concat;  // of a bidirectional layer's directions
  double dropout = 0.0;  // between layers (not after the last), in training mode only
  bool peephole = false;  // LSTM: gates see the cell state
  bool coupled = false;   // LSTM: i = 1 - f (the i rows of the weights are then unused)
  GruConvention gru = GruConvention::reset_after;
  // Simple RNN only (the seeds' leaky units and residual recurrence), with v = f(z):
  //   leaky     h = (1 - alpha) h_prev + alpha v   alpha = leak (fixed), or per unit
  //                                                sigmoid(lambda_j) learned (learn_leak)
  //   residual  h = h_prev + alpha v               the residual branch scaled by alpha (as above);
  //                                                its W_hh starts with -1 added to the diagonal
  //                                                (init_rnn), which holds the state bounded
  double leak = 1.0;        // alpha in (0, 1]; 1 is the plain RNN (and the unscaled residual)
  // Groups of units at several fixed time scales (the seeds' multi-scale leaky units): G values,
  // unit j in group j*G/H; empty: every unit has `leak`. Leaky units only, not the residual.
  std::vector<double> leak_scales;
  bool learn_leak = false;  // learn one alpha per unit, starting at its leak (then below 1)
  bool residual = false;
  // LSTM, GRU (reset_after) and the simple RNN: layer normalisation of every gate's pre-activation
  // (and of the LSTM's cell state), with a learned gain and bias per unit (src/cells/ln_lstm.cpp,
  // ln_gru.cpp, ln_rnn.cpp).
  bool layer_norm = false;
  // A mixed stack (layers that differ in kind, size or options; see rnn_spec.h) is a chain of
  // uniform segments: the fields above describe the bottom one, `above` the rest, bottom first,
  // each reading the output of the one below (its input_size is that width; its own `above` is
  // empty). Between two segments the lower one's dropout applies.
  std::vector<RnnConfig> above;
  // A segment with its own time loop (one layer, unidirectional, cell rnn_tanh) and its settings.
  TimeLoop loop = TimeLoop::engine;
  std::vector<int64_t> periods = clockwork_default_periods();  // clockwork: per module, fastest first
  int64_t delay = 2;                            // skip: d
  bool short_links = true;                      // skip: the length-1 links too
  int depth = 2;                                // deep: tanh layers inside the transition

  // Whether h mixes the previous state with f(z) (leaky or residual).
  bool mixes_state() const { return leak != 1.0 || !leak_scales.empty() || learn_leak || residual; }
  // Unit j's fixed (or starting) alpha.
  double leak_of(int64_t j) const {
    return leak_scales.empty() ? leak
                               : leak_scales[size_t(j * int64_t(leak_scales.size()) / hidden_size)];
  }

  int gates() const;       // G
  int directions() const { return bidirectional ? 2 : 1; }
  bool sums_directions() const { return bidirectional && merge == DirectionMerge::sum; }
  // Width of one of this segment's layers' output (and of the next layer's input): D*H, or H when
  // summed.
  int64_t layer_output_size() const { return sums_directions() ? hidden_size : directions() * hidden_size; }
  // The stack's top segment (this one unless the stack is mixed), and the width of its output.
  const RnnConfig& top() const { return above.empty() ? *this : above.back(); }
  int64_t output_size() const { return top().layer_output_size(); }
  bool mixed() const { return !above.empty(); }
  bool any_bidirectional() const;  // of any segment
  bool own_loop() const { return loop != TimeLoop::engine; }
  // One uniform segment on the engine: what the per-field keys, the C API, the ONNX layer ops and
  // PyTorch's modules describe; a mixed stack or an own-loop layer needs its spec.
  bool one_engine_segment() const { return !mixed() && !own_loop(); }
  bool any_own_loop() const;  // of any segment
  // The layer configs of an own-loop segment.
  ClockworkConfig clockwork() const;
  SkipRnnConfig skip() const;
  DeepTransitionConfig deep() const;
  int total_layers() const;  // of every segment
  bool has_cell_state() const { return cell == CellKind::lstm; }
  // The length of a cell's ln tensor (gains, then biases): LSTM 10H, GRU 6H, simple RNN 2H; 0
  // without layer_norm.
  int64_t layer_norm_size() const;
  void validate() const;   // throws recur::Error naming the bad field
  // Metadata strings (for safetensors __metadata__) and back.
  std::map<std::string, std::string> to_metadata() const;
  static RnnConfig from_metadata(const std::map<std::string, std::string>& meta);
};

// Weights of one layer in one direction.
template <class T>
struct RnnCellParams {
  Tensor<T> w_ih;  // (G*H, in)
  Tensor<T> w_hh;  // (G*H, H)
  Tensor<T> b_ih;  // (G*H)
  Tensor<T> b_hh;  // (G*H)
  Tensor<T> w_peep;  // (3*H) for LSTM with peepholes, else empty
  Tensor<T> leak;    // (H) learned leak logits (simple RNN with learn_leak), else empty
  Tensor<T> ln;      // layer_norm: LSTM (10H) = gates' gamma (4H), beta (4H), cell gamma (H),
                     // beta (H); GRU (6H) = gamma (3H), beta (3H); else empty
};

template <class T>
struct RnnParams : NamedParams<RnnParams<T>, T> {
  RnnConfig config;
  std::vector<RnnCellParams<T>> cells;  // index layer * D + direction
  std::vector<RnnParams<T>> above;      // a mixed stack's upper segments (config.above's)
  // An own-loop segment's layer (config.loop); cells is then empty.
  std::variant<std::monostate, ClockworkParams<T>, SkipRnnParams<T>, DeepTransitionParams<T>> layer;

  RnnParams() = default;
  explicit RnnParams(const RnnConfig& cfg);  // zero weights of the right shapes

  // PyTorch's names (weight_ih_l0, weight_hh_l0_reverse, ...) in PyTorch's order: per layer, the
  // forward direction then the reverse one. An own-loop layer's tensors keep their own names with
  // the layer's suffix (bias_l2); a mixed stack's upper segments go on counting layers
  // (weight_ih_l2 is the third layer's, whatever its segment).
  static void visit_params(auto& self, auto&& f, int first_layer = 0) {
    std::visit([&](auto& layer) {
      using Layer = std::remove_cvref_t<decltype(layer)>;
      if constexpr (!std::is_same_v<Layer, std::monostate>)
        Layer::visit_params(layer, [&](const std::string& name, auto& t) {
          f(name + "_l" + std::to_string(first_layer), t);
        });
    }, self.layer);
    const int D = self.config.directions();
    for (int l = self.config.own_loop() ? self.config.num_layers : 0; l < self.config.num_layers; ++l)
      for (int d = 0; d < D; ++d) {
        auto& c = self.cells[size_t(l * D + d)];
        const std::string sfx = "_l" + std::to_string(first_layer + l) + (d ? "_reverse" : "");
        f("weight_ih" + sfx, c.w_ih);
        f("weight_hh" + sfx, c.w_hh);
        f("bias_ih" + sfx, c.b_ih);
        f("bias_hh" + sfx, c.b_hh);
        if (self.config.peephole) f("weight_peep" + sfx, c.w_peep);
        if (self.config.learn_leak) f("leak" + sfx, c.leak);
        if (self.config.layer_norm) f("ln" + sfx, c.ln);
      }
    first_layer += self.config.num_layers;
    for (auto& s : self.above) {
      visit_params(s, f, first_layer);
      first_layer += s.config.num_layers;
    }
  }
};

// The same layer in another element type (float <-> double), every tensor converted.
template <class To, class From>
RnnParams<To> rnn_params_cast(const RnnParams<From>& p) {
  RnnParams<To> out(p.config);
  auto dst = out.named();
  size_t k = 0;
  for_each_param(p, [&](const std::string&, const Tensor<From>& t) {
    *dst[k++].second = tensor_cast<To>(t);
  });
  return out;
}

// PyTorch's default initialisation: every weight and bias U(-1/sqrt(H), 1/sqrt(H)).
template <class T>
void init_rnn_uniform(RnnParams<T>& p, Rng& rng);

// Initialisation schemes for the recurrent weights (the seeds' remedies for vanishing and
// exploding gradients):
//   uniform     PyTorch's default, as init_rnn_uniform.
//   orthogonal  every gate's (H,H) block of W_hh orthogonal (all singular values 1); the rest as
//               uniform, biases zero (LSTM forget-gate bias 1, so the cell remembers at first).
//   identity    IRNN (Le et al. 2015): W_hh = scale * I, biases zero, W_ih ~ N(0, 0.001^2) scaled
//               as in the paper; meant for rnn_relu.
enum class RecurrentInit { uniform, orthogonal, identity };
RecurrentInit parse_recurrent_init(const std::string& name);  // "uniform", "orthogonal", "identity"
const char* recurrent_init_name(RecurrentInit scheme);

template <class T>
void init_rnn(RnnParams<T>& p, Rng& rng, RecurrentInit scheme, double identity_scale = 1.0);

// Builds params from PyTorch-named tensors, inferring layers, sizes, direction and gate count from
// the keys and shapes (cell kind must be given: RNN and GRU/LSTM differ only in gate count).
// Unknown keys, missing keys and shape clashes throw, naming `source` and the tensor.
template <class T>
RnnParams<T> params_from_named(CellKind cell, const std::map<std::string, Tensor<T>>& tensors,
                               const std::string& source, GruConvention gru = GruConvention::reset_after);

// Initial / final states. c is empty unless the cell is an LSTM.
template <class T>
struct RnnState {
  Tensor<T> h;  // (L*D,B,H)
  Tensor<T> c;  // (L*D,B,H) or empty
  std::vector<RnnState<T>> above = {};  // a mixed stack's upper segments' states, bottom first
};

// What forward keeps for backward (activations of every layer, direction and step). After an
// inference forward (RnnRunOptions::inference) the states hold two slots and the cell's values one
// step, as workspaces.
template <class T>
struct RnnDirCache {
  Tensor<T> states_h;  // (T+1,B,H): forward: slot t is the state before step t; reverse: slot t+1
  Tensor<T> states_c;  // (T+1,B,H) for LSTM
  Tensor<T> cell;      // (T,B,W): per-step values the cell keeps (gates, ...)
};
template <class T>
struct RnnLayerCache {
  Tensor<T> input;         // (T,B,in): this layer's input after dropout (empty for the first layer
                           // of an inference forward, which reads x where it lies)
  Tensor<T> dropout_mask;  // (T,B,in) scaled by 1/(1-p), empty if no dropout was applied
  std::vector<RnnDirCache<T>> dirs;
};
template <class T>
struct RnnCache {
  std::vector<RnnLayerCache<T>> layers;
  std::vector<int64_t> lengths;  // B values
  int64_t steps = 0, batch = 0;
  bool has_initial_state = false;
  bool inference = false;  // RnnRunOptions::inference: nothing kept for backward
  Precision precision = Precision::fp32;  // of the forward's products; backward runs the same
  std::function<void(int layer)> layer_grads_done;  // RnnRunOptions's, for backward
  // Workspaces, reused when the same cache runs the same shapes again (no allocation per call):
  // the input projection and backward's gate gradients of the direction being run ([1]: of the
  // reverse direction, when the two run at once), and backward's layer-input gradients. They carry
  // nothing between calls, hence mutable (backward takes the cache const).
  mutable Tensor<T> xw[2], dg_ih[2], dg_hh[2], dlayer[2];
  // A mixed stack: the upper segments' caches, and the output of each segment below them as that
  // segment reads it (dropout applied), with the mask of that dropout (empty when none).
  std::vector<RnnCache<T>> above;
  std::vector<Tensor<T>> above_input, above_mask;
  // An own-loop segment's cache (RnnConfig::loop).
  std::variant<std::monostate, ClockworkCache<T>, SkipRnnCache<T>, DeepTransitionCache<T>> layer;
};

class RnnPacks;

struct RnnRunOptions {
  RnnRunOptions() = default;
  RnnRunOptions(bool training_, Rng* rng_ = nullptr, Precision precision_ = Precision::fp32)
      : training(training_), rng(rng_), precision(precision_) {}
  bool training = false;  // dropout on
  Rng* rng = nullptr;     // for dropout masks (required when training with dropout > 0)
  // No rnn_backward follows (evaluation, generation, serving): forward keeps neither the states of
  // every step, nor the cell's per-step values, nor a copy of the input, so each step writes less
  // and its states stay in cache. Where the units are split between threads (float LSTM and GRU
  // with a large recurrent weight, or a batch too small to split by rows) the products differ in
  // shape and the outputs may differ from a training forward's by float rounding; elsewhere they
  // are the same bit for bit. rnn_backward on such a cache is an error.
  bool inference = false;
  // These options, with `inference` as given: opt.with_inference(grads == nullptr).
  RnnRunOptions with_inference(bool on) const {
    RnnRunOptions o = *this;
    o.inference = on;
    return o;
  }
  // bf16: every product of the layer (input projection, recurrence, and in backward the weight and
  // input gradients) takes bfloat16 operands and accumulates in float; all else stays float.
  Precision precision = Precision::fp32;
  // Optional, for inference forwards: keep each layer's packed weights here from one call to the
  // next instead of packing them at every call (see RnnPacks).
  RnnPacks* packs = nullptr;
  RnnRunOptions with_packs(RnnPacks* p) const {
    RnnRunOptions o = *this;
    o.packs = p;
    return o;
  }
  // Optional: rnn_backward calls it with l as soon as layer l's parameter gradients (every
  // direction) are final, top layer first. Data-parallel training starts reducing them there, while
  // the layers below still run (recur/dist/data_parallel.h).
  std::function<void(int layer)> layer_grads_done;
};

// The packed weights of the inference forwards of one pass over fixed weights (an evaluation pass
// of a trainer, a batch of requests): given in RnnRunOptions::packs, rnn_forward keeps each
// layer's packs in it, as PreparedRnn does, keyed by the params' address, so a pass of short
// windows packs every layer once instead of once per window (at B = 1 and T = 25 the packing took
// most of each window's time). The params it is used with must not change while it is in use:
// make one per pass and drop it before the weights are updated. Training forwards ignore it. One
// call at a time.
class RnnPacks {
 public:
  RnnPacks();
  RnnPacks(RnnPacks&&) noexcept;
  RnnPacks& operator=(RnnPacks&&) noexcept;
  ~RnnPacks();
  struct Impl;  // src/layers/rnn.cpp
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Forward over the whole sequence. `lengths` empty means every sequence has T steps.
// `init` may be null (zero states). Outputs past a sequence's length are zero; final states are
// taken at each sequence's own length; the reverse direction starts at each sequence's own last
// element (as PyTorch's packed sequences).
template <class T>
void rnn_forward(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                 const RnnParams<T>& params, const Tensor<T>& x, const std::vector<int64_t>& lengths,
                 std::type_identity_t<const RnnState<T>*> init, const RnnRunOptions& opt = {});

// How many threads a float inference forward of this layer on `batch` rows divides the units
// between, on the current thread budget (rnn_forward with RnnRunOptions::inference, or
// PreparedRnn); 0 when it splits the rows instead (docs/speed.md).
int rnn_inference_unit_split(const RnnConfig& cfg, int64_t batch);

// Inference on weights packed once: forward() computes what rnn_forward with
// RnnRunOptions::inference computes, without packing the recurrent weights again at every call. For
// fixed weights run many times (evaluation, serving, benchmarks); a plain rnn_forward packs them
// per call, which at H = 1024 costs as much as a dozen steps. The params are copied at
// construction (later changes to the original are not seen); the packs are built at the first
// call and again whenever the batch size or the thread budget changes. One call at a time.
template <class T>
class PreparedRnn {
 public:
  explicit PreparedRnn(const RnnParams<T>& params, Precision precision = Precision::fp32);
  PreparedRnn(PreparedRnn&&) noexcept;
  PreparedRnn& operator=(PreparedRnn&&) noexcept;
  ~PreparedRnn();

  void forward(Tensor<T>& y, RnnState<T>& final_state, const Tensor<T>& x,
               const std::vector<int64_t>& lengths = {}, const RnnState<T>* init = nullptr);
  const RnnParams<T>& params() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The top layer's final states as one row per sequence, summary (B, output_size): the directions
// side by side, or summed (the classifier's last pooling, the encoder's h_N). The backward makes
// dfinal (L*D,B,H) (and c for LSTM): zero, but dsummary in the top layer's h slots.
template <class T>
void top_final_state(T* summary, const RnnState<T>& final_state, const RnnConfig& c, int64_t B);
template <class T>
void top_final_state_backward(RnnState<T>& dfinal, const T* dsummary, const RnnConfig& c, int64_t B);

// BPTT. dy: as y; dfinal may be null (no gradient into the final states).
// Parameter gradients accumulate into `grads`; dx and dinit are assigned (dinit gets h and, for
// LSTM, c). Truncated BPTT: run a window with init = the previous window's final state and ignore
// dinit; nothing flows into the previous window.
template <class T>
void rnn_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads, const RnnCache<T>& cache,
                  const RnnParams<T>& params, const Tensor<T>& dy,
                  std::type_identity_t<const RnnState<T>*> dfinal);

}  // namespace recur
