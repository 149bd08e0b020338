// The functional face of a recurrent stack, for torch.autograd (python/recur/nn.py): the weights
// come in with every call (they are torch Parameters), forward returns a tape, and backward takes
// the tape and returns the gradients of the input, the initial states and every weight. float32 or
// float64, as the input is.
//
// States travel as one flat list: per segment (bottom first) its h (L*D, B, H), then its c for an
// LSTM segment. Weights travel as a list in the order of RnnParams::visit_params (PyTorch's).
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "arrays.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"

namespace recur::python {
namespace {

// What backward needs from a forward: the weights it ran with and the engine's cache.
template <class T>
struct Tape {
  explicit Tape(const RnnConfig& c) : params(c) {}
  RnnParams<T> params;
  RnnCache<T> cache;
  Shape y_shape;
  bool had_init = false;
};

std::vector<const RnnConfig*> segments(const RnnConfig& c) {
  std::vector<const RnnConfig*> out{&c};
  for (const RnnConfig& a : c.above) out.push_back(&a);
  return out;
}

// (name, shape) of every weight, in the order the lists carry them.
std::vector<std::pair<std::string, Shape>> weight_shapes(const RnnConfig& c) {
  std::vector<std::pair<std::string, Shape>> out;
  const RnnParams<float> p(c);
  for (const auto& [name, t] : p.named()) out.emplace_back(name, t->shape);
  return out;
}

// The shape of every state tensor of the flat list, for `batch` sequences.
std::vector<Shape> state_shapes(const RnnConfig& c, int64_t batch) {
  std::vector<Shape> out;
  for (const RnnConfig* s : segments(c)) {
    const Shape shape{int64_t(s->num_layers) * s->directions(), batch, s->hidden_size};
    out.push_back(shape);
    if (s->has_cell_state()) out.push_back(shape);
  }
  return out;
}

template <class T>
void load_weights(RnnParams<T>& p, const py::list& weights) {
  auto named = p.named();
  RECUR_CHECK(py::len(weights) == named.size(),
              "given " << py::len(weights) << " weights, the stack has " << named.size());
  size_t k = 0;
  for (auto& [name, t] : named) {
    Tensor<T> v = to_tensor<T>(weights[k++].cast<ArrayOf<T>>(), name.c_str());
    RECUR_CHECK(v.shape == t->shape, "weight '" << name << "' has shape " << v.shape_string() << ", expected "
                                                << t->shape_string());
    *t = std::move(v);
  }
}

// The flat list as an RnnState; None entries read as zeros. nullopt when every entry is None.
template <class T>
std::optional<RnnState<T>> state_from_list(const py::list& parts, const RnnConfig& c, int64_t batch,
                                           const char* what) {
  const std::vector<Shape> shapes = state_shapes(c, batch);
  RECUR_CHECK(py::len(parts) == shapes.size(),
              what << ": given " << py::len(parts) << " tensors, the stack has " << shapes.size());
  bool any = false;
  for (const auto& p : parts) any = any || !p.is_none();
  if (!any) return std::nullopt;
  size_t k = 0;
  auto next = [&]() {
    const py::object p = parts[k];
    Tensor<T> t = p.is_none() ? Tensor<T>(shapes[k]) : to_tensor<T>(p.cast<ArrayOf<T>>(), what);
    RECUR_CHECK(t.shape == shapes[k], what << " tensor " << k << " has shape " << t.shape_string()
                                           << ", expected " << shape_str(shapes[k]));
    ++k;
    return t;
  };
  std::vector<RnnState<T>> segs;
  for (const RnnConfig* s : segments(c)) {
    RnnState<T> st;
    st.h = next();
    if (s->has_cell_state()) st.c = next();
    segs.push_back(std::move(st));
  }
  RnnState<T> out = std::move(segs[0]);
  for (size_t i = 1; i < segs.size(); ++i) out.above.push_back(std::move(segs[i]));
  return out;
}

template <class T>
py::list state_to_list(RnnState<T>& s, const RnnConfig& c) {
  py::list out;
  auto one = [&](RnnState<T>& x, const RnnConfig& seg) {
    out.append(give_array(std::move(x.h)));
    if (seg.has_cell_state()) out.append(give_array(std::move(x.c)));
  };
  one(s, c);
  for (size_t i = 0; i < c.above.size(); ++i) one(s.above[i], c.above[i]);
  return out;
}

// forward(config, weights, x (T,B,I), states, lengths, training, seed, keep_tape)
//   -> (y, final states, tape or None)
template <class T>
py::tuple forward(const RnnConfig& c, const py::list& weights, const ArrayOf<T>& x_in, const py::list& states,
                  const std::vector<int64_t>& lengths, bool training, uint64_t seed, bool keep_tape) {
  auto tape = std::make_shared<Tape<T>>(c);
  load_weights(tape->params, weights);
  RECUR_CHECK(x_in.ndim() == 3, "input must have 3 dimensions (T, B, I), got " << x_in.ndim());
  const Tensor<T> x = to_tensor<T>(x_in, "input");
  const auto init = state_from_list<T>(states, c, x.dim(1), "hx");
  tape->had_init = init.has_value();
  Tensor<T> y;
  RnnState<T> fin;
  {
    py::gil_scoped_release release;
    Rng rng(seed);
    rnn_forward(y, fin, tape->cache, tape->params, x, lengths, init ? &*init : nullptr,
                RnnRunOptions(training, &rng).with_inference(!keep_tape));
  }
  tape->y_shape = y.shape;
  py::list fin_list = state_to_list(fin, c);
  return py::make_tuple(give_array(std::move(y)), fin_list, keep_tape ? py::cast(tape) : py::none());
}

// backward(tape, dy or None, final-state gradients) -> (dx, initial-state gradients, weight gradients)
template <class T>
py::tuple backward(const Tape<T>& tape, const py::object& dy_in, const py::list& dstates) {
  const RnnConfig& c = tape.params.config;
  Tensor<T> dy = dy_in.is_none() ? Tensor<T>(tape.y_shape) : to_tensor<T>(dy_in.cast<ArrayOf<T>>(), "grad_output");
  RECUR_CHECK(dy.shape == tape.y_shape,
              "grad_output has shape " << dy.shape_string() << ", expected " << shape_str(tape.y_shape));
  const auto dfinal = state_from_list<T>(dstates, c, tape.y_shape[1], "final-state gradient");
  Tensor<T> dx;
  RnnState<T> dinit;
  RnnParams<T> grads(c);
  {
    py::gil_scoped_release release;
    rnn_backward(dx, dinit, grads, tape.cache, tape.params, dy, dfinal ? &*dfinal : nullptr);
  }
  py::list dw;
  for (auto& [name, t] : grads.named()) dw.append(give_array(std::move(*t)));
  py::object dinit_list = py::none();
  if (tape.had_init) dinit_list = state_to_list(dinit, c);
  return py::make_tuple(give_array(std::move(dx)), dinit_list, dw);
}

RnnConfig torch_config(const std::string& mode, int64_t input, int64_t hidden, int layers, bool bidirectional,
                       double dropout) {
  RnnConfig c;
  RECUR_CHECK(mode == "LSTM" || mode == "GRU" || mode == "RNN_TANH" || mode == "RNN_RELU",
              "mode must be LSTM, GRU, RNN_TANH or RNN_RELU, got '" << mode << "'");
  c.cell = mode == "LSTM" ? CellKind::lstm : mode == "GRU" ? CellKind::gru
           : mode == "RNN_TANH" ? CellKind::rnn_tanh : CellKind::rnn_relu;
  c.input_size = input;
  c.hidden_size = hidden;
  c.num_layers = layers;
  c.bidirectional = bidirectional;
  c.dropout = dropout;
  c.validate();
  return c;
}

}  // namespace

void bind_autograd(py::module_& m) {
  py::class_<RnnConfig>(m, "_Config", "A validated stack configuration (recur::RnnConfig).")
      .def_static("from_spec",
                  [](const std::string& spec, int64_t input_size) {
                    return rnn_config_from_spec(parse_rnn_spec(spec), input_size);
                  },
                  py::arg("spec"), py::arg("input_size"))
      .def_static("torch", &torch_config, py::arg("mode"), py::arg("input_size"), py::arg("hidden_size"),
                  py::arg("num_layers"), py::arg("bidirectional"), py::arg("dropout"))
      .def("weight_shapes", &weight_shapes, "(name, shape) of every weight, in PyTorch's order")
      .def("state_shapes", &state_shapes, py::arg("batch"),
           "shape of every state tensor: per segment h (L*D, B, H), then c for LSTM")
      .def("initial_weights",
           [](const RnnConfig& c, uint64_t seed) {
             RnnParams<float> p(c);
             Rng rng(seed);
             init_rnn(p, rng, RecurrentInit::uniform);
             py::list out;
             for (auto& [name, t] : p.named()) out.append(give_array(std::move(*t)));
             return out;
           },
           py::arg("seed"), "the weights as recur initialises them (uniform +-1/sqrt(H), as PyTorch)")
      .def("segment_has_cell_state",
           [](const RnnConfig& c) {
             std::vector<bool> out;
             for (const RnnConfig* s : segments(c)) out.push_back(s->has_cell_state());
             return out;
           })
      .def_property_readonly("input_size", [](const RnnConfig& c) { return c.input_size; })
      .def_property_readonly("output_size", &RnnConfig::output_size)
      .def_property_readonly("dropout", [](const RnnConfig& c) { return c.dropout; })
      .def_property_readonly("spec", [](const RnnConfig& c) { return format_rnn_spec(rnn_spec_from_config(c)); });

  py::class_<Tape<float>, std::shared_ptr<Tape<float>>>(m, "_Tape32");
  py::class_<Tape<double>, std::shared_ptr<Tape<double>>>(m, "_Tape64");
  const char* fdoc = "forward(config, weights, x (T,B,I), states, lengths, training, seed, keep_tape) -> "
                     "(y, final states, tape or None); float64 when x is float64";
  m.def("forward", &forward<double>, py::arg("config"), py::arg("weights"), py::arg("x").noconvert(),
        py::arg("states"), py::arg("lengths"), py::arg("training"), py::arg("seed"), py::arg("keep_tape"), fdoc);
  m.def("forward", &forward<float>, py::arg("config"), py::arg("weights"), py::arg("x"), py::arg("states"),
        py::arg("lengths"), py::arg("training"), py::arg("seed"), py::arg("keep_tape"), fdoc);
  const char* bdoc = "backward(tape, dy, final-state gradients) -> (dx, initial-state gradients or None, "
                     "weight gradients)";
  m.def("backward", &backward<float>, py::arg("tape"), py::arg("grad_output"), py::arg("grad_states"), bdoc);
  m.def("backward", &backward<double>, py::arg("tape"), py::arg("grad_output"), py::arg("grad_states"), bdoc);
}

}  // namespace recur::python
