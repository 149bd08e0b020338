// The numpy layer of the Python module: recur._core._Layer (python/recur/__init__.py makes
// recur.LSTM, GRU, RNN and Stack of it) keeps its own weights and gradients and the last forward's
// cache, with PyTorch's call semantics; recur._core.Stream steps it one input at a time.
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "arrays.h"
#include "recur/core/layout.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"
#include "recur/layers/rnn_stream.h"

namespace recur::python {
namespace {

// A state for Python: h, or (h, c) for an LSTM; a stack of several segments (RnnConfig::above) as
// a list with one such entry per segment, bottom first.
py::object state_to_py(const RnnState<float>& s, const RnnConfig& c) {
  auto one = [](const RnnState<float>& x) {
    return x.c.empty() ? py::object(to_array(x.h)) : py::object(py::make_tuple(to_array(x.h), to_array(x.c)));
  };
  if (!c.mixed()) return one(s);
  py::list out;
  out.append(one(s));
  for (const RnnState<float>& a : s.above) out.append(one(a));
  return out;
}

// The reverse; a missing part of a gradient (None) reads as zeros of `like`'s shape.
RnnState<float> state_from_py(const py::object& o, const RnnConfig& c, const char* what) {
  auto one = [what](const py::object& x, const RnnConfig& seg) {
    RnnState<float> s;
    if (!seg.has_cell_state()) {
      s.h = to_tensor(x.cast<Array>(), what);
      return s;
    }
    const auto pair = x.cast<std::pair<py::object, py::object>>();
    RECUR_CHECK(!pair.first.is_none() || !pair.second.is_none(), what << ": (None, None)");
    if (!pair.first.is_none()) s.h = to_tensor(pair.first.cast<Array>(), what);
    if (!pair.second.is_none()) s.c = to_tensor(pair.second.cast<Array>(), what);
    if (s.h.empty()) s.h = Tensor<float>(s.c.shape);
    if (s.c.empty()) s.c = Tensor<float>(s.h.shape);
    return s;
  };
  if (!c.mixed()) return one(o, c);
  const auto parts = o.cast<std::vector<py::object>>();
  RECUR_CHECK(parts.size() == c.above.size() + 1,
              what << ": a list of " << parts.size() << " states for a stack of " << c.above.size() + 1 << " segments");
  RnnState<float> s = one(parts[0], c);
  for (size_t k = 0; k < c.above.size(); ++k) s.above.push_back(one(parts[k + 1], c.above[k]));
  return s;
}

// One recurrent layer stack with PyTorch's interface; keeps the last forward's cache for backward.
class Layer {
 public:
  Layer(const RnnConfig& c, bool batch_first, uint64_t seed, bool bias)
      : batch_first_(batch_first), rng_(seed), params_(c), grads_(c) {
    init_rnn(params_, rng_, RecurrentInit::uniform);
    if (!bias)
      for (auto& cell_params : params_.cells) {
        cell_params.b_ih.fill(0.0f);
        cell_params.b_hh.fill(0.0f);
      }
  }

  const RnnConfig& config() const { return params_.config; }

  // x (T,B,I) (or (B,T,I) with batch_first); hx: h0, or (h0, c0) for LSTM; lengths optional.
  py::tuple forward(const Array& x_in, const py::object& hx, const py::object& lengths_in) {
    const RnnConfig& c = config();
    RECUR_CHECK(x_in.ndim() == 3, "input must have 3 dimensions ("
                                      << (batch_first_ ? "B, T, I" : "T, B, I") << "), got "
                                      << x_in.ndim());
    Tensor<float> x = to_tensor(x_in, "input");
    if (batch_first_) x = swap_first_axes(x);
    std::optional<RnnState<float>> init;
    if (!hx.is_none()) init = state_from_py(hx, c, "hx");
    std::vector<int64_t> lengths;
    if (!lengths_in.is_none()) lengths = lengths_in.cast<std::vector<int64_t>>();
    Tensor<float> y;
    RnnState<float> fin;
    rnn_forward(y, fin, cache_, params_, x, lengths, init ? &*init : nullptr,
                RnnRunOptions{training_, &rng_, precision_});
    has_cache_ = true;
    if (batch_first_) y = swap_first_axes(y);
    return py::make_tuple(to_array(y), state_to_py(fin, c));
  }

  // Gradients of sum(y * dy) (+ sum(hn * dhn) + sum(cn * dcn)) after the last forward: the
  // parameters' accumulate into grads(); returns dx and dh0 (or (dh0, dc0) for LSTM).
  py::tuple backward(const Array& dy_in, const py::object& dhx) {
    RECUR_CHECK(has_cache_, "backward needs a forward first");
    Tensor<float> dy = to_tensor(dy_in, "output gradient");
    RECUR_CHECK(dy.rank() == 3, "output gradient must have 3 dimensions, got " << dy.rank());
    if (batch_first_) dy = swap_first_axes(dy);
    std::optional<RnnState<float>> dfinal;
    if (!dhx.is_none()) dfinal = state_from_py(dhx, config(), "final state gradient");
    Tensor<float> dx;
    RnnState<float> dinit;
    rnn_backward(dx, dinit, grads_, cache_, params_, dy, dfinal ? &*dfinal : nullptr);
    if (batch_first_) dx = swap_first_axes(dx);
    return py::make_tuple(to_array(dx), state_to_py(dinit, config()));
  }

  py::dict state_dict() const {
    py::dict d;
    for (const auto& [name, t] : params_.named()) d[py::str(name)] = to_array(*t);
    return d;
  }
  py::dict grads() const {
    py::dict d;
    for (const auto& [name, t] : grads_.named()) d[py::str(name)] = to_array(*t);
    return d;
  }
  void load_state_dict(const py::dict& d) {
    auto named = params_.named();
    RECUR_CHECK(py::len(d) == named.size(), "state_dict has " << py::len(d) << " tensors, the layer has "
                                                               << named.size());
    for (auto& [name, t] : named) {
      RECUR_CHECK(d.contains(name), "state_dict lacks '" << name << "'");
      Tensor<float> v = to_tensor(d[py::str(name)].cast<Array>(), name.c_str());
      RECUR_CHECK(v.shape == t->shape, "state_dict tensor '" << name << "' has shape " << v.shape_string()
                                                            << ", expected " << t->shape_string());
      *t = std::move(v);
    }
  }
  void zero_grad() {
    for (auto& [name, t] : grads_.named()) t->fill(0.0f);
  }
  void train(bool on) { training_ = on; }
  bool training() const { return training_; }
  void set_precision(const std::string& p) { precision_ = parse_precision(p); }
  std::string precision() const { return precision_name(precision_); }
  const RnnParams<float>& params() const { return params_; }
  std::string repr() const {
    const RnnConfig& c = config();
    if (!c.one_engine_segment() || c.peephole || c.coupled || c.layer_norm || c.mixes_state() ||
        c.sums_directions() || c.gru == GruConvention::reset_before)
      return "recur.Stack('" + format_rnn_spec(rnn_spec_from_config(c)) + "', " + std::to_string(c.input_size) +
             (batch_first_ ? ", batch_first=True" : "") + ")";
    const char* kind = c.cell == CellKind::lstm ? "LSTM" : c.cell == CellKind::gru ? "GRU" : "RNN";
    return std::string("recur.") + kind + "(" + std::to_string(c.input_size) + ", " + std::to_string(c.hidden_size) +
           ", num_layers=" + std::to_string(c.num_layers) +
           (c.bidirectional ? ", bidirectional=True" : "") + (batch_first_ ? ", batch_first=True" : "") + ")";
  }

 private:
  bool batch_first_;
  Rng rng_;
  RnnParams<float> params_, grads_;
  RnnCache<float> cache_;
  bool has_cache_ = false, training_ = false;
  Precision precision_ = Precision::fp32;
};

// Streaming over a layer's current weights (copied at creation).
class Stream {
 public:
  Stream(const Layer& layer, int64_t batch, const std::string& precision)
      : stream_(layer.params(), batch, parse_precision(precision)),
        batch_(batch),
        input_(layer.config().input_size),
        hidden_(layer.config().output_size()) {}
  Array step(const Array& x_in) {
    RECUR_CHECK(x_in.ndim() == 2 && x_in.shape(0) == batch_ && x_in.shape(1) == input_,
                "a step takes (batch, input) = (" << batch_ << ", " << input_ << ")");
    Tensor<float> x = to_tensor(x_in, "input");
    Tensor<float> y({batch_, hidden_});
    stream_.step(x.ptr(), y.ptr());
    return to_array(y);
  }
  void reset() { stream_.reset(nullptr); }
  py::object state() const {
    const RnnState<float>& s = stream_.state();
    if (s.c.empty()) return to_array(s.h);
    return py::make_tuple(to_array(s.h), to_array(s.c));
  }

 private:
  RnnStream<float> stream_;
  int64_t batch_, input_, hidden_;
};

}  // namespace

void bind_layer(py::module_& m) {
  py::class_<Layer>(m, "_Layer")
      .def(py::init<const RnnConfig&, bool, uint64_t, bool>(), py::arg("config"), py::arg("batch_first") = false,
           py::arg("seed") = 1, py::arg("bias") = true,
           "A stack of `config` with PyTorch's uniform initialisation drawn from `seed` (biases zero "
           "without `bias`)")
      .def("__call__", &Layer::forward, py::arg("input"), py::arg("hx") = py::none(),
           py::arg("lengths") = py::none(),
           "Forward over (T, B, I) (or (B, T, I) with batch_first); returns (output, h_n) or, for "
           "LSTM, (output, (h_n, c_n)). lengths: per-sequence lengths (outputs past them are zero).")
      .def("backward", &Layer::backward, py::arg("grad_output"), py::arg("grad_state") = py::none(),
           "Gradients of the last forward for output gradient grad_output (and optionally the final "
           "state's); parameter gradients accumulate into grads(); returns (grad_input, grad_h0) or, "
           "for LSTM, (grad_input, (grad_h0, grad_c0)).")
      .def("state_dict", &Layer::state_dict, "The parameters under PyTorch's names (copies).")
      .def("load_state_dict", &Layer::load_state_dict, py::arg("state_dict"))
      .def("grads", &Layer::grads, "The accumulated parameter gradients under PyTorch's names.")
      .def("zero_grad", &Layer::zero_grad)
      .def("train",
           [](py::object self, bool mode) {
             self.cast<Layer&>().train(mode);
             return self;
           },
           py::arg("mode") = true, "Dropout between layers on (or off); returns the layer, as torch's train()")
      .def("eval",
           [](py::object self) {
             self.cast<Layer&>().train(false);
             return self;
           },
           "train(False); returns the layer")
      .def_property_readonly("training", &Layer::training)
      .def_property("precision", &Layer::precision, &Layer::set_precision,
                    "'fp32', or 'bf16' (bfloat16 products, float accumulation)")
      .def_property_readonly("input_size", [](const Layer& l) { return l.config().input_size; })
      .def_property_readonly("hidden_size", [](const Layer& l) { return l.config().hidden_size; })
      .def_property_readonly("num_layers", [](const Layer& l) { return l.config().num_layers; })
      .def_property_readonly("bidirectional", [](const Layer& l) { return l.config().bidirectional; })
      .def("__repr__", &Layer::repr);

  py::class_<Stream>(m, "Stream")
      .def(py::init<const Layer&, int64_t, const std::string&>(), py::arg("layer"), py::arg("batch") = 1,
           py::arg("precision") = "fp32",
           "Streaming inference over a unidirectional layer's current weights: step(x) takes "
           "(batch, input) and returns the top layer's new h (batch, hidden); the state is kept.")
      .def("step", &Stream::step, py::arg("x"))
      .def("reset", &Stream::reset, "Back to zero state.")
      .def_property_readonly("state", &Stream::state, "h (L, B, H), or (h, c) for LSTM");

}

}  // namespace recur::python
