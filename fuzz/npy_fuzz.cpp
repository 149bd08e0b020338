// Fuzzes load_npy (float and double) and load_npy_int on arbitrary bytes.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("x.npy", data, size);
  try {
    recur::load_npy<float>(path);
  } catch (const recur::Error&) {
  }
  try {
    recur::load_npy<double>(path);
  } catch (const recur::Error&) {
  }
  try {
    recur::load_npy_int(path);
  } catch (const recur::Error&) {
  }
  return 0;
}
