// ONNX models in: a graph made of the recurrent ops (LSTM, GRU, RNN) and the ops torch.onnx puts
// around them (Gather for embeddings, Gemm/MatMul/Add, Transpose, Reshape, Squeeze/Unsqueeze,
// Concat, Slice, Shape, Constant(OfShape), Softmax/LogSoftmax, Relu/Tanh/Sigmoid, ...), parsed with
// Debian's ONNX protobuf classes and run node by node; the recurrent ops run on recur's layer.
// Unsupported ops and attributes are refused at load time, naming the node and the op.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recur/core/tensor.h"

namespace recur {

// A value flowing through a graph: float32 or int64 (token ids, shapes, indices), row-major.
struct OnnxValue {
  enum class Type { f32, i64 };
  Type type = Type::f32;
  Shape shape;
  std::vector<float> f;    // f32
  std::vector<int64_t> i;  // i64

  int64_t numel() const;
  std::string describe() const;  // "float32 (3, 4)"
  static OnnxValue floats(Shape shape, std::vector<float> values);
  static OnnxValue ints(Shape shape, std::vector<int64_t> values);
};

class OnnxGraph {
 public:
  // Reads and checks a model file: a missing, truncated or malformed file, an unsupported op or
  // attribute is an error naming the file (and the node).
  static OnnxGraph load(const std::string& path);

  // The graph's inputs (those not given by initializers) and outputs, in the file's order.
  const std::vector<std::string>& inputs() const;
  const std::vector<std::string>& outputs() const;
  // The element type and rank the file declares for an input (rank -1: not declared).
  OnnxValue::Type input_type(const std::string& name) const;
  int input_rank(const std::string& name) const;

  // Runs the graph on the given inputs (every graph input, by name); returns every output.
  std::map<std::string, OnnxValue> run(const std::map<std::string, OnnxValue>& feeds) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace recur
