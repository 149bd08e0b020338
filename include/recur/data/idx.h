// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//
// An IDX file is a big-endian header and then the data: two zero bytes, a type byte (0x08 = uint8,
// the only type read here), the number of dimensions, one uint32 per dimension, and the values in
// row-major order. Images are magic 0x00000803, dims (n, rows, cols); labels 0x00000801, dims (n).
// A file whose first two bytes are the gzip magic (1f 8b) is decompressed first (zlib; several
// gzip members in a row are read as one stream, as gunzip does), whatever its name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recur {

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // (count, rows, cols), row-major
};

// Read one IDX file. Throws recur::Error naming the file and what was expected on a wrong magic
// number, a corrupt or truncated gzip stream, or data shorter or longer than the header says.
IdxImages read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path);

}  // namespace recur
