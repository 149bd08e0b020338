// Fuzzes the IDX readers (raw and gzip-compressed images and labels) and the row sequences the
// image classifier builds from them.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/data/classification.h"
#include "recur/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("images.idx", data, size);
  try {
    const auto images = recur::read_idx_images(path);
    recur::image_row_sequences(images, std::vector<uint8_t>(size_t(images.count), 0), path);
  } catch (const recur::Error&) {
  }
  try {
    recur::read_idx_labels(path);
  } catch (const recur::Error&) {
  }
  return 0;
}
