// The inside of OnnxGraph: a node as parsed (op, inputs, outputs, attributes) and the op kernels.
// ops.cpp holds the arithmetic ops and the table, ops_shape.cpp the shape and data-movement ops,
// rnn_ops.cpp the recurrent ones; graph.cpp parses the file and runs the nodes in order. The
// non-recurrent kernels are plain loops: they move a few small tensors or run once per sequence
// (the output head), so the time is in the recurrent layers and the GEMMs (recur's kernels).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "recur/core/error.h"
#include "recur/io/onnx.h"

namespace recur::onnx_ops {

struct Attr {
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  std::optional<OnnxValue> t;
};

struct Node {
  std::string op, name;
  std::vector<std::string> inputs, outputs;  // "" marks an optional input left out
  std::map<std::string, Attr> attrs;
  int64_t opset = 0;

  bool has(const std::string& a) const { return attrs.count(a) > 0; }
  int64_t attr_i(const std::string& a, int64_t dflt) const { return has(a) ? attrs.at(a).i : dflt; }
  float attr_f(const std::string& a, float dflt) const { return has(a) ? attrs.at(a).f : dflt; }
  std::string attr_s(const std::string& a, const std::string& dflt) const {
    return has(a) ? attrs.at(a).s : dflt;
  }
  // "node '<name>' (<op>)", for messages.
  std::string where() const { return "node '" + name + "' (" + op + ")"; }
};

// An op's inputs (null where left out) -> its outputs.
using Inputs = std::vector<const OnnxValue*>;
using KernelFn = std::vector<OnnxValue>(const Node& n, const Inputs& in);
using Kernel = KernelFn*;

// The kernel for an op, or null when recur does not run it.
Kernel find_kernel(const std::string& op);
// Throws, naming the node, where an attribute has a value the kernel does not implement.
void check_attributes(const Node& n);

// Kernels of the recurrent ops (rnn_ops.cpp).
std::vector<OnnxValue> lstm(const Node& n, const Inputs& in);
std::vector<OnnxValue> gru(const Node& n, const Inputs& in);
std::vector<OnnxValue> rnn(const Node& n, const Inputs& in);
void check_rnn_attributes(const Node& n);

// Kernels of the shape and data-movement ops (ops_shape.cpp).
KernelFn op_identity, op_constant, op_shape, op_constant_of_shape, op_cast, op_reshape, op_squeeze,
    op_unsqueeze, op_transpose, op_concat, op_slice, op_gather, op_expand, op_scatter_elements,
    op_tile, op_range;

// Helpers shared by the kernels (ops.cpp).
using Type = OnnxValue::Type;
const OnnxValue& need(const Node& n, const Inputs& in, size_t k);  // input k, which must be there
std::vector<int64_t> as_ints(const OnnxValue& v);                  // an int64 (or float) tensor's values
int64_t count(const Shape& s);                                     // the elements of a shape
std::vector<int64_t> strides(const Shape& s);                      // row-major strides
int64_t axis_of(int64_t axis, int64_t rank);  // a negative axis counts from the end; checked
OnnxValue like(const OnnxValue& v, Shape shape);  // zeros of v's type in `shape`
Shape broadcast(const Shape& a, const Shape& b);  // numpy broadcasting of two shapes

// out[k] = in[src(k)] for every element: the data movement ops share this.
template <class F>
void gather_elements(const OnnxValue& in, OnnxValue& out, F&& src) {
  const int64_t N = count(out.shape);
  if (in.type == Type::f32)
    for (int64_t k = 0; k < N; ++k) out.f[size_t(k)] = in.f[size_t(src(k))];
  else
    for (int64_t k = 0; k < N; ++k) out.i[size_t(k)] = in.i[size_t(src(k))];
}

// The flat index into `s` (broadcast to `out`) of the out element at flat index k.
struct Broadcaster {
  Shape out;
  std::vector<int64_t> out_st, in_st;  // in_st: 0 where the input's dimension broadcasts
  Broadcaster(const Shape& in, const Shape& o) : out(o), out_st(strides(o)), in_st(o.size(), 0) {
    const std::vector<int64_t> st = strides(in);
    for (size_t k = 0; k < in.size(); ++k) {
      const size_t ko = k + o.size() - in.size();
      in_st[ko] = in[k] == 1 ? 0 : st[k];
    }
  }
  int64_t operator()(int64_t k) const {
    int64_t idx = 0;
    for (size_t d = 0; d < out.size(); ++d) {
      idx += (k / out_st[d]) * in_st[d];
      k %= out_st[d];
    }
    return idx;
  }
};

}  // namespace recur::onnx_ops
