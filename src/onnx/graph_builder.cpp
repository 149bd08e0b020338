// The building blocks of the ONNX export (graph_builder.h): attributes, gate reordering, the
// recurrent stack, the final-state summary, and checking and writing a model.
#include "onnx/graph_builder.h"

#include <onnx/checker.h>

#include "recur/core/error.h"
#include "recur/io/file.h"
#include "recur/layers/rnn_spec.h"
#include "recur/version.h"

namespace recur::onnx_export {

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

void check_exportable(const RnnConfig& c, const std::string& source, bool carries_state) {
  RECUR_CHECK(!carries_state || !c.mixed(),
              source << ": its recurrent layers ('" << format_rnn_spec(rnn_spec_from_config(c))
                     << "') are a mixed stack, whose states have no one (layers, batch, hidden) "
                        "shape for the graph's state inputs and outputs; recur does not export it");
  for (size_t k = 0; k <= c.above.size(); ++k) {
    const RnnConfig& s = k == 0 ? c : c.above[k - 1];
    RECUR_CHECK(!s.own_loop(), source << ": its recurrent layers ('" << format_rnn_spec(rnn_spec_from_config(c))
                                      << "') hold a " << time_loop_name(s.loop) << " layer, which ONNX's "
                                         "LSTM/GRU/RNN ops cannot express, so recur does not export it");
    const char* option = s.cell == CellKind::rnn_linear ? "rnn_linear (the identity activation)"
                         : s.layer_norm ? "ln (layer norm)" : s.coupled ? "coupled (gates)"
                         : s.residual ? "residual (recurrence)" : s.mixes_state() ? "leak (leaky units)"
                         : nullptr;
    RECUR_CHECK(!option, source << ": its recurrent layers ('" << format_rnn_spec(rnn_spec_from_config(c))
                                << "') use " << option << ", which ONNX's LSTM/GRU/RNN ops cannot "
                                   "express (they have no layer norm, coupled gates, leaky or residual "
                                   "units, and recur writes no Affine activation), so recur does not export it");
  }
}

namespace {
// One uniform segment's layers, numbered from first_layer, over x (replaced by their output).
void stack_segment(Builder& b, const RnnParams<float>& p, const std::string& prefix, int first_layer,
                   std::string& x, const std::string& h0, const std::string& c0,
                   const std::string& lengths, StackOut& out) {
  const RnnConfig& c = p.config;
  const int64_t H = c.hidden_size, G = c.gates(), D = c.directions();
  const bool lstm = c.has_cell_state();
  const std::vector<int> src = onnx_gate_sources(c.cell);
  for (int l = 0; l < c.num_layers; ++l) {
    const int64_t in = l == 0 ? c.input_size : c.layer_output_size();
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
    const std::string layer = prefix + "l" + std::to_string(first_layer + l);
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
    if (c.sums_directions()) {  // Y (T,D,B,H) -> (T,B,H), the directions summed
      x = b.node("ReduceSum", {o[0], b.ints(layer + ".sum_axis", {1})}, 1,
                 [](onnx::NodeProto& n) { attr_i(n, "keepdims", 0); })[0];
      continue;
    }
    // Y (T,D,B,H) -> (T,B,D,H) -> (T,B,D*H)
    const std::string t = b.node("Transpose", {o[0]}, 1, [](onnx::NodeProto& n) { attr_ints(n, "perm", {0, 2, 1, 3}); })[0];
    x = b.node("Reshape", {t, b.ints(layer + ".shape", {0, 0, D * H})}, 1)[0];
  }
}
}  // namespace

StackOut recurrent_stack(Builder& b, const RnnParams<float>& p, const std::string& prefix, std::string x,
                         const std::string& h0, const std::string& c0, const std::string& lengths) {
  RECUR_CHECK(!p.config.mixed() || (h0.empty() && c0.empty()),
              "recurrent_stack: a mixed stack starts from zero states");
  StackOut out;
  stack_segment(b, p, prefix, 0, x, h0, c0, lengths, out);
  int first = p.config.num_layers;
  for (const RnnParams<float>& s : p.above) {
    stack_segment(b, s, prefix, first, x, "", "", lengths, out);
    first += s.config.num_layers;
  }
  out.y = x;
  return out;
}

// The top layer's final states (D,B,H) as one row per sequence (B, output_size): the directions
// side by side (forward first), or summed (as top_final_state in recur/layers/rnn.h).
std::string top_summary(Builder& b, const StackOut& s, const RnnConfig& stack, const std::string& name) {
  const RnnConfig& c = stack.top();
  if (c.sums_directions())
    return b.node("ReduceSum", {s.yh.back(), b.ints(name + ".sum_axis", {0})}, 1,
                  [](onnx::NodeProto& n) { attr_i(n, "keepdims", 0); })[0];
  const std::string t = b.node("Transpose", {s.yh.back()}, 1, [](onnx::NodeProto& n) { attr_ints(n, "perm", {1, 0, 2}); })[0];
  return b.node("Reshape", {t, b.ints(name + ".shape", {0, c.output_size()})}, 1)[0];
}

// tokens (T,B) -> embedding (T,B,E)
std::string embed(Builder& b, const Tensor<float>& table, const std::string& tokens) {
  const std::string w = b.floats("embedding.weight", table.shape, table.data);
  return b.node("Gather", {w, tokens}, 1)[0];
}

// (N..., F) x W^T (+ b), W (O,F): MatMul with W^T as an initializer, then Add unless the bias is
// empty.
std::string linear(Builder& b, const std::string& x, const Tensor<float>& w, const Tensor<float>& bias,
                   const std::string& name) {
  const int64_t O = w.dim(0), F = w.dim(1);
  std::vector<float> wt(size_t(O * F));
  for (int64_t o = 0; o < O; ++o)
    for (int64_t f = 0; f < F; ++f) wt[size_t(f * O + o)] = w[o * F + f];
  const std::string m = b.node("MatMul", {x, b.floats(name + ".weight_t", {F, O}, wt)}, 1)[0];
  if (bias.empty()) return m;
  return b.node("Add", {m, b.floats(name + ".bias", {O}, bias.data)}, 1)[0];
}

// The parts joined along `axis` (one part is returned as it is).
std::string concat(Builder& b, const std::vector<std::string>& parts, int64_t axis) {
  if (parts.size() == 1) return parts[0];
  return b.node("Concat", parts, 1, [axis](onnx::NodeProto& n) { attr_i(n, "axis", axis); })[0];
}

// x (..., F) W^T + b through Gemm for 2-D x: W (O,F).
std::string gemm_t(Builder& b, const std::string& x, const Tensor<float>& w, const Tensor<float>& bias,
                   const std::string& name) {
  std::vector<std::string> in{x, b.floats(name + ".weight", w.shape, w.data)};
  if (!bias.empty()) in.push_back(b.floats(name + ".bias", bias.shape, bias.data));
  return b.node("Gemm", in, 1, [](onnx::NodeProto& n) { attr_i(n, "transB", 1); })[0];
}

onnx::ModelProto new_model(const std::string& name) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("recur");
  model.set_producer_version(RECUR_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(14);
  model.mutable_graph()->set_name(name);
  return model;
}

void check_and_write(const onnx::ModelProto& model, const std::string& path, const std::string& source) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    RECUR_FAIL("the ONNX graph made from " << source << " fails ONNX's checker: " << e.what());
  }
  std::string bytes;
  RECUR_CHECK(model.SerializeToString(&bytes), "could not serialise the ONNX model of " << source);
  write_file_atomic(path, bytes);
}

}  // namespace recur::onnx_export
