// Fuzzes load_safetensors (float and double) and require_tensor on arbitrary bytes.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("model.safetensors", data, size);
  try {
    const auto st = recur::load_safetensors<float>(path);
    if (!st.tensors.empty()) recur::require_tensor(st, st.tensors.begin()->first, path);
    recur::require_tensor(st, "weight_ih_l0", path);
  } catch (const recur::Error&) {
  }
  try {
    recur::load_safetensors<double>(path);
  } catch (const recur::Error&) {
  }
  return 0;
}
