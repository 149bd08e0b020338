// ONNX models in: a graph made of the recurrent ops (LSTM, GRU, RNN) and the ops torch.onnx puts
// around them (Gather for embeddings, Gemm/MatMul/Add, Transpose, Reshape, Squeeze/Unsqueeze,
// Concat, Slice, Shape, Constant(OfShape), Softmax/LogSoftmax, Relu/Tanh/Sigmoid, ...), parsed with
// Debian's ONNX protobuf classes and run node by node; the recurrent ops run on recur's layer.
// Unsupported ops and attributes are refused at load time, naming the node and the op. And out:
// export_onnx writes recur's models as such graphs.
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

// Writes a recur model file as an ONNX model (opset 14) that passes ONNX's checker:
//   language model (task lm):  tokens (T,B) int64, h0 (and c0) (L*D,B,H) -> logits (T,B,V), hn (, cn)
//   tagger (task tag):         tokens (T,B) int64, lengths (B) int64 -> logits (T,B,tags)
//   classifier (task classify, every head: pooling last/mean/max, textrnn2, rcnn): tokens (T,B) or
//                              values (T,B,F), lengths (B)
//                              -> logits (B,classes)
//   forecaster (task forecast), in the data's units (the z-score normalisation is in the graph):
//                              direct: window (W,B,I) -> forecast (B,H,K); recursive: one step,
//                              x (B,I), h (, c) (L,B,Hd) -> next (B,I), h_next (, c_next)
//   conditional LM (task conditional-lm): tokens (T,B), condition (B), h (, c) -> logits (T,B,258),
//                              h_next (, c_next), h_init [modes init, both], stop (T,B) or length (B)
//   seq2seq (task seq2seq):    two files, <out>.encoder.onnx and <out>.decoder.onnx (one decoder
//                              step per call; src/onnx/export.cpp documents their inputs and outputs)
// Networks with layer norm, coupled gates, leaky units or residual recurrence have no ONNX op and
// are refused; so are other tasks. Files are written atomically.
void export_onnx(const std::string& model_path, const std::string& out_path);
// The files export_onnx writes for this model: out_path, or the seq2seq encoder and decoder.
std::vector<std::string> export_onnx_paths(const std::string& model_path, const std::string& out_path);

}  // namespace recur
