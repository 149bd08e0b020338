// The inside of OnnxGraph: a node as parsed (op, inputs, outputs, attributes) and the table of op
// kernels. ops.cpp holds the tensor ops, rnn_ops.cpp the recurrent ones; graph.cpp parses the file
// and runs the nodes in order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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
using Kernel = std::vector<OnnxValue> (*)(const Node& n, const Inputs& in);

// The kernel for an op, or null when recur does not run it.
Kernel find_kernel(const std::string& op);
// Throws, naming the node, where an attribute has a value the kernel does not implement.
void check_attributes(const Node& n);

// Kernels of the recurrent ops (rnn_ops.cpp).
std::vector<OnnxValue> lstm(const Node& n, const Inputs& in);
std::vector<OnnxValue> gru(const Node& n, const Inputs& in);
std::vector<OnnxValue> rnn(const Node& n, const Inputs& in);
void check_rnn_attributes(const Node& n);

// Helpers shared by the kernels.
const OnnxValue& need(const Node& n, const Inputs& in, size_t k);  // input k, which must be there
std::vector<int64_t> as_ints(const OnnxValue& v);                  // an int64 (or float) tensor's values

}  // namespace recur::onnx_ops
