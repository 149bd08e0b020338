// Fuzzes ONNX import (OnnxGraph::load: protobuf parsing, the graph's checks, every supported op's
// attributes) on arbitrary bytes.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/io/onnx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("model.onnx", data, size);
  try {
    const recur::OnnxGraph g = recur::OnnxGraph::load(path);
    for (const std::string& in : g.inputs()) {
      g.input_type(in);
      g.input_rank(in);
    }
  } catch (const recur::Error&) {
  }
  return 0;
}
