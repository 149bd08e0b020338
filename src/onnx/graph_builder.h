// The building blocks of recur's ONNX export (export.cpp): a GraphProto builder, the recurrent
// stack as one LSTM/GRU/RNN op per layer, and the small pieces (embedding, linear, concat) every
// model's graph is made of. The graph is checked with ONNX's checker before it is written.
#pragma once

#include <onnx/onnx_pb.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/layers/rnn.h"

namespace recur::onnx_export {

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
  std::string ints(const std::string& name, const std::vector<int64_t>& v, bool scalar = false) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(int64_t(v.size()));
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

void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v);

void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v);

void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

// ONNX's gate k holds recur's gate inverse[k] (recur: LSTM i,f,g,o; GRU r,z,n).
std::vector<int> onnx_gate_sources(CellKind cell);

std::vector<float> gates_to_onnx(const Tensor<float>& t, const std::vector<int>& src, int64_t H);

// Throws, naming the option, unless ONNX's RNN ops express every segment of the stack; a mixed
// stack whose states are graph inputs and outputs (`carries_state`) is refused too (its states have
// no one (L*D,B,H) shape).
void check_exportable(const RnnConfig& c, const std::string& source, bool carries_state = false);

// The recurrent stack over x (T,B,I); h0/c0 (L*D,B,H) graph inputs or "" (zeros; always for a
// mixed stack); lengths an int32 (B) value or "". Returns the top layer's output (T,B,D*H) and, per
// layer, Y_h and Y_c.
struct StackOut {
  std::string y;
  std::vector<std::string> yh, yc;
};

StackOut recurrent_stack(Builder& b, const RnnParams<float>& p, const std::string& prefix, std::string x,
                         const std::string& h0, const std::string& c0, const std::string& lengths);

// The top layer's final states (D,B,H) as one row per sequence (B, output_size): the directions
// side by side (forward first), or summed (as top_final_state in recur/layers/rnn.h).
std::string top_summary(Builder& b, const StackOut& s, const RnnConfig& c, const std::string& name);

// tokens (T,B) -> embedding (T,B,E)
std::string embed(Builder& b, const Tensor<float>& table, const std::string& tokens);

// (N..., F) x W^T (+ b), W (O,F): MatMul with W^T as an initializer, then Add unless the bias is
// empty.
std::string linear(Builder& b, const std::string& x, const Tensor<float>& w, const Tensor<float>& bias,
                   const std::string& name);

// The parts joined along `axis` (one part is returned as it is).
std::string concat(Builder& b, const std::vector<std::string>& parts, int64_t axis = 0);

// x (..., F) W^T + b through Gemm for 2-D x: W (O,F).
std::string gemm_t(Builder& b, const std::string& x, const Tensor<float>& w, const Tensor<float>& bias,
                   const std::string& name);

onnx::ModelProto new_model(const std::string& name);

void check_and_write(const onnx::ModelProto& model, const std::string& path, const std::string& source);

}  // namespace recur::onnx_export
