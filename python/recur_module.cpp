// The Python module `recur` (pybind11, numpy in and out):
//   recur.LSTM / GRU / RNN      layers with PyTorch's call semantics, parameters under PyTorch's
//                               names, backward(dy) for the gradients of every weight, the input
//                               and the initial state
//   recur.Stack(spec, input)    the same for any stack spec (docs/rnn-spec.md): mixed stacks, every
//                               option, clockwork, skip and deep layers
//   recur.Stream                one step at a time with the state kept (recur::RnnStream)
//   recur.load / recur.save     safetensors files (tensors and metadata)
//   recur.run(args)             the `recur` command line in-process
//   recur.train_lm(**options)   every command as a function: recur.train_lm(text="a.txt",
//                               out="m.safetensors", hidden=128) runs `recur train-lm --text a.txt
//                               --out m.safetensors --hidden 128` (True: a flag; a list: values)
// Arrays are float32, C-contiguous after conversion (any numeric array is accepted and copied).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "recur/core/layout.h"
#include "recur/io/safetensors.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"
#include "recur/layers/rnn_stream.h"

namespace py = pybind11;

namespace recur::python {
namespace {

using Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

Tensor<float> to_tensor(const Array& a, const char* what) {
  Shape shape;
  for (py::ssize_t k = 0; k < a.ndim(); ++k) shape.push_back(int64_t(a.shape(k)));
  Tensor<float> t(shape);
  std::copy_n(a.data(), t.numel(), t.ptr());
  check_finite(t, what);
  return t;
}

Array to_array(const Tensor<float>& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  Array a(shape);
  std::copy_n(t.ptr(), t.numel(), a.mutable_data());
  return a;
}

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
  Layer(const RnnConfig& c, bool batch_first, uint64_t seed)
      : batch_first_(batch_first), rng_(seed), params_(c), grads_(c) {
    init_rnn(params_, rng_, RecurrentInit::uniform);
  }

  Layer(CellKind cell, int64_t input_size, int64_t hidden_size, int num_layers, bool bias,
        bool batch_first, double dropout, bool bidirectional, uint64_t seed)
      : batch_first_(batch_first), rng_(seed) {
    RnnConfig c;
    c.cell = cell;
    c.input_size = input_size;
    c.hidden_size = hidden_size;
    c.num_layers = num_layers;
    c.bidirectional = bidirectional;
    c.dropout = dropout;
    c.validate();
    params_ = RnnParams<float>(c);
    grads_ = RnnParams<float>(c);
    init_rnn_uniform(params_, rng_);
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

CellKind rnn_cell(const std::string& nonlinearity) {
  RECUR_CHECK(nonlinearity == "tanh" || nonlinearity == "relu",
              "nonlinearity must be 'tanh' or 'relu', got '" << nonlinearity << "'");
  return nonlinearity == "tanh" ? CellKind::rnn_tanh : CellKind::rnn_relu;
}

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

void run_args(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"recur"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::string error;
  int status;
  {
    py::gil_scoped_release release;  // long training runs let other Python threads go on
    status = recur::cli::run_command_line(int(argv.size()), argv.data(), &error);
  }
  if (status != 0)
    throw recur::Error(error.empty() ? "recur exited with status " + std::to_string(status) : error);
}

// `command` with keyword arguments as options: name_x=v -> --name-x v; True -> --name-x;
// False and None -> left out; a list or tuple -> --name-x v1 v2 ...; positional arguments (the
// texts of classify, tag, translate and diagnose) follow "--", so a text may start with '-'.
void run_kwargs(const std::string& command, const py::args& positional, const py::kwargs& kw) {
  std::vector<std::string> args{command};
  for (const auto& [k, v] : kw) {
    std::string opt = "--" + k.cast<std::string>();
    std::replace(opt.begin(), opt.end(), '_', '-');
    if (v.is_none()) continue;
    if (py::isinstance<py::bool_>(v)) {
      if (v.cast<bool>()) args.push_back(opt);
      continue;
    }
    args.push_back(opt);
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
      for (const auto& item : v) args.push_back(py::str(item).cast<std::string>());
    } else {
      args.push_back(py::str(v).cast<std::string>());
    }
  }
  if (!positional.empty()) {
    args.push_back("--");
    for (const auto& p : positional) args.push_back(py::str(p).cast<std::string>());
  }
  run_args(args);
}

}  // namespace
}  // namespace recur::python

PYBIND11_MODULE(recur, m) {
  using namespace recur;
  using namespace recur::python;
  m.doc() = "recur: recurrent neural networks (RNN, LSTM, GRU) in C++, with numpy in and out";
  py::register_exception<recur::Error>(m, "Error", PyExc_ValueError);

  py::class_<Layer>(m, "_Layer")
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
      .def("train", &Layer::train, py::arg("mode") = true, "Dropout between layers on (or off).")
      .def("eval", [](Layer& l) { l.train(false); })
      .def_property_readonly("training", &Layer::training)
      .def_property("precision", &Layer::precision, &Layer::set_precision,
                    "'fp32', or 'bf16' (bfloat16 products, float accumulation)")
      .def_property_readonly("input_size", [](const Layer& l) { return l.config().input_size; })
      .def_property_readonly("hidden_size", [](const Layer& l) { return l.config().hidden_size; })
      .def_property_readonly("num_layers", [](const Layer& l) { return l.config().num_layers; })
      .def_property_readonly("bidirectional", [](const Layer& l) { return l.config().bidirectional; })
      .def("__repr__", &Layer::repr);

  auto ctor_doc = "input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, "
                  "bidirectional=False, seed=1 (PyTorch's uniform initialisation from this seed)";
  m.def("LSTM",
        [](int64_t i, int64_t h, int L, bool bias, bool bf, double dropout, bool bi, uint64_t seed) {
          return Layer(CellKind::lstm, i, h, L, bias, bf, dropout, bi, seed);
        },
        py::arg("input_size"), py::arg("hidden_size"), py::arg("num_layers") = 1, py::arg("bias") = true,
        py::arg("batch_first") = false, py::arg("dropout") = 0.0, py::arg("bidirectional") = false,
        py::arg("seed") = 1, ctor_doc);
  m.def("GRU",
        [](int64_t i, int64_t h, int L, bool bias, bool bf, double dropout, bool bi, uint64_t seed) {
          return Layer(CellKind::gru, i, h, L, bias, bf, dropout, bi, seed);
        },
        py::arg("input_size"), py::arg("hidden_size"), py::arg("num_layers") = 1, py::arg("bias") = true,
        py::arg("batch_first") = false, py::arg("dropout") = 0.0, py::arg("bidirectional") = false,
        py::arg("seed") = 1, ctor_doc);
  m.def("RNN",
        [](int64_t i, int64_t h, int L, const std::string& nl, bool bias, bool bf, double dropout, bool bi,
           uint64_t seed) { return Layer(rnn_cell(nl), i, h, L, bias, bf, dropout, bi, seed); },
        py::arg("input_size"), py::arg("hidden_size"), py::arg("num_layers") = 1,
        py::arg("nonlinearity") = "tanh", py::arg("bias") = true, py::arg("batch_first") = false,
        py::arg("dropout") = 0.0, py::arg("bidirectional") = false, py::arg("seed") = 1, ctor_doc);

  m.def("Stack",
        [](const std::string& spec, int64_t input_size, bool batch_first, uint64_t seed) {
          return Layer(rnn_config_from_spec(parse_rnn_spec(spec), input_size), batch_first, seed);
        },
        py::arg("spec"), py::arg("input_size"), py::arg("batch_first") = false, py::arg("seed") = 1,
        "A stack from its spec (docs/rnn-spec.md), e.g. Stack('lstm:64,peephole;gru:32', 10): any "
        "kind and option, layers that differ (a mixed stack), clockwork/skip/deep layers. Called "
        "and differentiated as LSTM/GRU/RNN; the state of a stack of several segments (runs of "
        "alike layers) is a list with one h, or (h, c), per segment.");

  py::class_<Stream>(m, "Stream")
      .def(py::init<const Layer&, int64_t, const std::string&>(), py::arg("layer"), py::arg("batch") = 1,
           py::arg("precision") = "fp32",
           "Streaming inference over a unidirectional layer's current weights: step(x) takes "
           "(batch, input) and returns the top layer's new h (batch, hidden); the state is kept.")
      .def("step", &Stream::step, py::arg("x"))
      .def("reset", &Stream::reset, "Back to zero state.")
      .def_property_readonly("state", &Stream::state, "h (L, B, H), or (h, c) for LSTM");

  m.def("load",
        [](const std::string& path) {
          const Safetensors<float> st = load_safetensors<float>(path);
          py::dict tensors;
          for (const auto& [name, t] : st.tensors) tensors[py::str(name)] = to_array(t);
          return py::make_tuple(tensors, st.metadata);
        },
        py::arg("path"), "Reads a safetensors file: (dict of float32 arrays, metadata dict).");
  m.def("save",
        [](const std::string& path, const py::dict& tensors, const std::map<std::string, std::string>& meta) {
          std::map<std::string, Tensor<float>> out;
          for (const auto& [k, v] : tensors) {
            const std::string name = k.cast<std::string>();
            out[name] = to_tensor(v.cast<Array>(), name.c_str());
          }
          save_safetensors(path, out, meta);
        },
        py::arg("path"), py::arg("tensors"), py::arg("metadata") = std::map<std::string, std::string>{},
        "Writes float32 tensors (and string metadata) to a safetensors file, atomically.");
  m.def("run", &run_args, py::arg("args"),
        "Runs the recur command line in-process (args without the program name, e.g. "
        "['train-lm', '--text', 'a.txt', '--out', 'm.safetensors']); raises recur.Error on failure.");
  for (const char* command :
       {"train-lm", "sample", "eval-lm", "ngram", "train-classifier", "eval-classifier", "classify",
        "train-tagger", "eval-tagger", "tag", "train-clm", "sample-clm", "train-forecaster", "forecast",
        "train-seq2seq", "eval-seq2seq", "translate", "train-tree", "esn", "run-esn", "rtrl", "bench-tasks", "jordan", "run-onnx", "export-onnx",
        "run-rnn", "bench-rnn", "diagnose", "plot"}) {
    std::string name = command;
    std::replace(name.begin(), name.end(), '-', '_');
    const std::string cmd = command;
    m.def(name.c_str(),
          [cmd](const py::args& positional, const py::kwargs& kw) { run_kwargs(cmd, positional, kw); },
          ("Runs `recur " + cmd + "` with the keyword arguments as its options (see `recur " + cmd +
           " --help`): name_x=v is --name-x v, True a flag, a list several values; positional "
           "arguments are its TEXT arguments (classify, tag, translate, diagnose).")
              .c_str());
  }
  m.attr("__version__") = "0.1.0";
}
