// ONNX models out: recur's language models, taggers and last-state classifiers as ONNX graphs of
// standard ops (opset 14): Gather for the embedding, one LSTM/GRU/RNN op per layer (gates
// reordered to ONNX's i,o,f,c and z,r,h; biases as [Wb; Rb]), Transpose + Reshape between layers,
// MatMul/Gemm + Add for the head. The graph is checked with ONNX's own checker before it is
// written, and written atomically.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <fstream>

#include "onnx/ops.h"
#include "recur/io/file.h"
#include "recur/io/onnx.h"
#include "recur/io/safetensors.h"
#include "recur/models/classifier_model.h"
#include "recur/models/language_model.h"
#include "recur/models/tagger_model.h"

namespace recur {
namespace {

// Builds a GraphProto: initializers, nodes with fresh output names, inputs and outputs.
class Builder {
 public:
  explicit Builder(onnx::GraphProto* g) : g_(g) {}

  std::string floats(const std::string& name, const Shape& shape, const std::vector<float>& v) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
    return name;
  }
  std::string ints(const std::string& name, const std::vector<int64_t>& v) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(v.size()));
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t)));
    return name;
  }
  // A node; returns its output names (`outputs` of them, named after the node).
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& inputs, int outputs,
                                const std::function<void(onnx::NodeProto&)>& attrs = nullptr) {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(count_++));
    for (const auto& i : inputs) n->add_input(i);
    std::vector<std::string> out;
    for (int k = 0; k < outputs; ++k) {
      out.push_back(n->name() + "_out" + std::to_string(k));
      n->add_output(out.back());
    }
    if (attrs) attrs(*n);
    return out;
  }
  void input(const std::string& name, onnx::TensorProto::DataType type, const std::vector<std::string>& dims) {
    value_info(g_->add_input(), name, type, dims);
  }
  void output(const std::string& name, const std::vector<std::string>& dims) {
    value_info(g_->add_output(), name, onnx::TensorProto::FLOAT, dims);
  }
  // Renames a node output to a graph output's name (adds an Identity).
  void as_output(const std::string& value, const std::string& name, const std::vector<std::string>& dims) {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type("Identity");
    n->set_name("output_" + name);
    n->add_input(value);
    n->add_output(name);
    output(name, dims);
  }

 private:
  // Dimensions: a number, or a symbolic name ("T", "B").
  static void value_info(onnx::ValueInfoProto* v, const std::string& name, onnx::TensorProto::DataType type,
                         const std::vector<std::string>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* shape = tt->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = shape->add_dim();
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
      else dim->set_dim_param(d);
    }
  }

  onnx::GraphProto* g_;
  int count_ = 0;
};

void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// ONNX's gate k holds recur's gate inverse[k] (recur: LSTM i,f,g,o; GRU r,z,n).
std::vector<int> onnx_gate_sources(CellKind cell) {
  if (cell == CellKind::lstm) return {0, 3, 1, 2};  // i o f c <- i f g o
  if (cell == CellKind::gru) return {1, 0, 2};      // z r h <- r z n
  return {0};
}

std::vector<float> gates_to_onnx(const Tensor<float>& t, const std::vector<int>& src, int64_t H) {
  const int64_t cols = t.numel() / (int64_t(src.size()) * H);
  std::vector<float> out(size_t(t.numel()));
  for (size_t k = 0; k < src.size(); ++k)
    std::copy_n(t.ptr() + src[k] * H * cols, H * cols, out.begin() + int64_t(k) * H * cols);
  return out;
}

void check_exportable(const RnnConfig& c, const std::string& source) {
  RECUR_CHECK(!c.layer_norm && !c.coupled && !c.mixes_state(),
              source << ": ONNX's LSTM/GRU/RNN ops have no layer norm, coupled gates, leaky units or "
                        "residual recurrence; this network uses one, so it cannot be exported");
}

// The recurrent stack over x (T,B,I); h0/c0 (L*D,B,H) graph inputs or "" (zeros); lengths an
// int32 (B) value or "". Returns the top layer's output (T,B,D*H) and, per layer, Y_h and Y_c.
struct StackOut {
  std::string y;
  std::vector<std::string> yh, yc;
};

StackOut recurrent_stack(Builder& b, const RnnParams<float>& p, const std::string& prefix, std::string x,
                         const std::string& h0, const std::string& c0, const std::string& lengths) {
  const RnnConfig& c = p.config;
  const int64_t H = c.hidden_size, G = c.gates(), D = c.directions();
  const bool lstm = c.has_cell_state();
  const std::vector<int> src = onnx_gate_sources(c.cell);
  StackOut out;
  for (int l = 0; l < c.num_layers; ++l) {
    const int64_t in = l == 0 ? c.input_size : D * H;
    std::vector<float> W, R, Bias, P;
    for (int64_t d = 0; d < D; ++d) {
      const RnnCellParams<float>& cp = p.cells[size_t(l * D + d)];
      const auto w = gates_to_onnx(cp.w_ih, src, H), r = gates_to_onnx(cp.w_hh, src, H);
      W.insert(W.end(), w.begin(), w.end());
      R.insert(R.end(), r.begin(), r.end());
      const auto bi = gates_to_onnx(cp.b_ih, src, H), bh = gates_to_onnx(cp.b_hh, src, H);
      Bias.insert(Bias.end(), bi.begin(), bi.end());
      Bias.insert(Bias.end(), bh.begin(), bh.end());
      if (c.peephole) {  // recur (i, f, o) -> ONNX (i, o, f)
        const float* pp = cp.w_peep.ptr();
        P.insert(P.end(), pp, pp + H);
        P.insert(P.end(), pp + 2 * H, pp + 3 * H);
        P.insert(P.end(), pp + H, pp + 2 * H);
      }
    }
    const std::string layer = prefix + "l" + std::to_string(l);
    std::vector<std::string> inputs{x, b.floats(layer + ".W", {D, G * H, in}, W),
                                    b.floats(layer + ".R", {D, G * H, H}, R),
                                    b.floats(layer + ".B", {D, 2 * G * H}, Bias), lengths};
    // This layer's slice [l*D, (l+1)*D) of the initial states.
    std::vector<std::string> bounds;
    auto slice = [&](const std::string& s) {
      if (s.empty()) return std::string();
      if (bounds.empty())
        bounds = {b.ints(layer + ".s0", {l * D}), b.ints(layer + ".s1", {(l + 1) * D}), b.ints(layer + ".axis", {0})};
      return b.node("Slice", {s, bounds[0], bounds[1], bounds[2]}, 1)[0];
    };
    inputs.push_back(slice(h0));
    if (lstm) {
      inputs.push_back(slice(c0));
      inputs.push_back(c.peephole ? b.floats(layer + ".P", {D, 3 * H}, P) : "");
    }
    while (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
    const char* op = lstm ? "LSTM" : c.cell == CellKind::gru ? "GRU" : "RNN";
    const auto o = b.node(op, inputs, lstm ? 3 : 2, [&](onnx::NodeProto& n) {
      attr_i(n, "hidden_size", H);
      if (D == 2) attr_s(n, "direction", "bidirectional");
      if (c.cell == CellKind::gru) attr_i(n, "linear_before_reset", c.gru == GruConvention::reset_after ? 1 : 0);
      if (!lstm && c.cell != CellKind::gru) {
        auto* a = n.add_attribute();
        a->set_name("activations");
        a->set_type(onnx::AttributeProto::STRINGS);
        const char* act = c.cell == CellKind::rnn_relu ? "Relu" : c.cell == CellKind::rnn_sigmoid ? "Sigmoid" : "Tanh";
        for (int64_t d = 0; d < D; ++d) a->add_strings(act);
      }
    });
    out.yh.push_back(o[1]);
    if (lstm) out.yc.push_back(o[2]);
    // Y (T,D,B,H) -> (T,B,D,H) -> (T,B,D*H)
    const std::string t = b.node("Transpose", {o[0]}, 1, [](onnx::NodeProto& n) { attr_ints(n, "perm", {0, 2, 1, 3}); })[0];
    x = b.node("Reshape", {t, b.ints(layer + ".shape", {0, 0, D * H})}, 1)[0];
  }
  out.y = x;
  return out;
}

// tokens (T,B) -> embedding (T,B,E)
std::string embed(Builder& b, const Tensor<float>& table, const std::string& tokens) {
  const std::string w = b.floats("embedding.weight", table.shape, table.data);
  return b.node("Gather", {w, tokens}, 1)[0];
}

// (N..., F) x W^T + b, W (O,F): MatMul with W^T as an initializer, then Add.
std::string linear(Builder& b, const std::string& x, const Tensor<float>& w, const Tensor<float>& bias,
                   const std::string& name) {
  const int64_t O = w.dim(0), F = w.dim(1);
  std::vector<float> wt(size_t(O * F));
  for (int64_t o = 0; o < O; ++o)
    for (int64_t f = 0; f < F; ++f) wt[size_t(f * O + o)] = w[o * F + f];
  const std::string m = b.node("MatMul", {x, b.floats(name + ".weight_t", {F, O}, wt)}, 1)[0];
  return b.node("Add", {m, b.floats(name + ".bias", {O}, bias.data)}, 1)[0];
}

std::string concat(Builder& b, const std::vector<std::string>& parts) {
  if (parts.size() == 1) return parts[0];
  return b.node("Concat", parts, 1, [](onnx::NodeProto& n) { attr_i(n, "axis", 0); })[0];
}

}  // namespace

void export_onnx(const std::string& model_path, const std::string& out_path) {
  const Safetensors<float> st = load_safetensors<float>(model_path);
  auto task_it = st.metadata.find("task");
  const std::string task = task_it == st.metadata.end() ? "" : task_it->second;
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("recur");
  model.set_producer_version("0.1.0");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(14);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("recur_" + (task.empty() ? std::string("model") : task));
  Builder b(g);
  auto note = [&](const std::string& k, const std::string& v) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  note("task", task);
  if (task == "lm" || task == "tag") {
    const SequenceModel<float> net = task == "lm" ? load_language_model(model_path).net : load_tagger_model(model_path).net;
    const RnnConfig& c = net.config.rnn;
    check_exportable(c, model_path);
    const std::string LD = std::to_string(c.num_layers * c.directions()), H = std::to_string(c.hidden_size);
    b.input("tokens", onnx::TensorProto::INT64, {"T", "B"});
    std::string h0, c0, lengths;
    if (task == "lm") {  // a language model carries its state from window to window
      h0 = "h0";
      b.input(h0, onnx::TensorProto::FLOAT, {LD, "B", H});
      if (c.has_cell_state()) {
        c0 = "c0";
        b.input(c0, onnx::TensorProto::FLOAT, {LD, "B", H});
      }
    } else {  // a tagger runs padded batches
      b.input("lengths", onnx::TensorProto::INT64, {"B"});
      lengths = b.node("Cast", {"lengths"}, 1, [](onnx::NodeProto& n) { attr_i(n, "to", onnx::TensorProto::INT32); })[0];
    }
    const StackOut s = recurrent_stack(b, net.rnn, "rnn.", embed(b, net.embedding, "tokens"), h0, c0, lengths);
    b.as_output(linear(b, s.y, net.w_out, net.b_out, "decoder"), "logits",
                {"T", "B", std::to_string(net.config.outputs)});
    if (task == "lm") {
      b.as_output(concat(b, s.yh), "hn", {LD, "B", H});
      if (c.has_cell_state()) b.as_output(concat(b, s.yc), "cn", {LD, "B", H});
    }
    note("vocab", st.metadata.count("vocab") ? st.metadata.at("vocab") : "");
  } else if (task == "classify") {
    const ClassifierModel cm = load_classifier_model(model_path);
    const ClassifierConfig& cc = cm.net.config;
    check_exportable(cc.rnn, model_path);
    RECUR_CHECK(cc.head == ClassifierHead::pool && cc.pooling == Pooling::last,
                model_path << ": ONNX export covers the classifier with --head pool --pooling last (the final "
                              "states); this one uses head " << classifier_head_name(cc.head) << ", pooling "
                           << pooling_name(cc.pooling));
    std::string x;
    if (cc.tokens()) {
      b.input("tokens", onnx::TensorProto::INT64, {"T", "B"});
      x = embed(b, cm.net.embedding, "tokens");
    } else {
      b.input("values", onnx::TensorProto::FLOAT, {"T", "B", std::to_string(cc.features)});
      x = "values";
    }
    b.input("lengths", onnx::TensorProto::INT64, {"B"});
    const std::string lengths =
        b.node("Cast", {"lengths"}, 1, [](onnx::NodeProto& n) { attr_i(n, "to", onnx::TensorProto::INT32); })[0];
    const StackOut s = recurrent_stack(b, cm.net.rnn, "rnn.", x, "", "", lengths);
    // The top layer's final states (D,B,H) -> (B,D,H) -> (B,D*H), forward then reverse.
    const int64_t F = cc.rnn.directions() * cc.rnn.hidden_size;
    const std::string t = b.node("Transpose", {s.yh.back()}, 1, [](onnx::NodeProto& n) { attr_ints(n, "perm", {1, 0, 2}); })[0];
    const std::string feats = b.node("Reshape", {t, b.ints("head.shape", {0, F})}, 1)[0];
    b.as_output(linear(b, feats, cm.net.w_out, cm.net.b_out, "classifier"), "logits",
                {"B", std::to_string(cc.classes)});
  } else {
    RECUR_FAIL(model_path << ": ONNX export covers recur's language models (task lm), taggers (tag) and "
                             "last-state classifiers (classify); this file's task is '"
                          << task << "'");
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    RECUR_FAIL("the ONNX graph made from " << model_path << " fails ONNX's checker: " << e.what());
  }
  std::string bytes;
  RECUR_CHECK(model.SerializeToString(&bytes), "could not serialise the ONNX model of " << model_path);
  write_file_atomic(out_path, bytes);
}

}  // namespace recur
