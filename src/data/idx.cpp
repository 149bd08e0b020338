// IDX readers (uint8 images and labels) with transparent gzip decompression through zlib.
#include "recur/data/idx.h"

#include <zlib.h>

#include <cstdio>
#include <limits>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // uint8, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // uint8, 1 dimension

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && (unsigned char)bytes[0] == 0x1f && (unsigned char)bytes[1] == 0x8b;
}

uint32_t load_be32(const std::string& s, size_t at) {
  const auto b = [&](size_t k) { return uint32_t((unsigned char)s[at + k]); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// The whole size (header and data) of the IDX file of `magic` whose first bytes are `head`; 0 while
// the header is incomplete or `head` is no such file (read_idx then says what is wrong).
uint64_t idx_file_size(const std::string& head, uint32_t magic) {
  const size_t ndims = magic & 0xff, offset = 4 + 4 * ndims;
  if (head.size() < offset || load_be32(head, 0) != magic) return 0;
  uint64_t values = 1, size = 0;
  for (size_t d = 0; d < ndims; ++d)
    if (__builtin_mul_overflow(values, uint64_t(load_be32(head, 4 + 4 * d)), &values)) return 0;
  return __builtin_add_overflow(values, uint64_t(offset), &size) ? 0 : size;
}

// Decompresses a whole gzip file; consecutive members are concatenated, as gunzip does. Stops
// with an error as soon as the output outgrows the IDX file of `magic` its header describes, so
// a small file that inflates to gigabytes (a gzip bomb) is refused before it is held in memory.
std::string gunzip(const std::string& gz, const std::string& path, uint32_t magic) {
  RECUR_CHECK(
      gz.size() <= std::numeric_limits<uInt>::max(),
      "'" << path << "' is larger than 4 GiB; expected a gzip-compressed IDX file below that");
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header and trailer, with the largest window.
  RECUR_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "'" << path << "': cannot start zlib");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = uInt(gz.size());
  std::string out;
  char buf[1 << 16];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() >= 4 && load_be32(out, 0) != magic) return out;  // read_idx names the magic
    const uint64_t size = idx_file_size(out, magic);
    RECUR_CHECK(size == 0 || out.size() <= size,
                "'" << path << "' (after gunzip): decompresses to more than the " << size
                    << " bytes its IDX header describes; expected exactly the header's data");
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out;
      RECUR_CHECK(inflateReset(&zs) == Z_OK, "'" << path << "': cannot restart zlib");
      continue;  // another gzip member follows
    }
    // With a fresh output buffer, no progress means the input ran out mid-stream.
    RECUR_CHECK(!(rc == Z_BUF_ERROR && zs.avail_in == 0),
                "'" << path << "': the gzip stream ends early after " << gz.size()
                    << " bytes (truncated file?); expected a complete gzip file");
    RECUR_CHECK(rc == Z_OK, "'" << path << "': corrupt gzip data at byte "
                                << gz.size() - zs.avail_in
                                << " (zlib: " << (zs.msg ? zs.msg : "error " + std::to_string(rc))
                                << "); expected a valid gzip file");
  }
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// What a magic number means, for messages.
std::string magic_name(uint32_t magic) {
  if (magic == kImagesMagic) return "uint8 images (n, rows, cols)";
  if (magic == kLabelsMagic) return "uint8 labels (n)";
  return "IDX uint8 data with " + std::to_string(magic & 0xff) + " dimensions";
}

// Reads `path` (gunzipped if it is gzip), checks its magic and that the data after the header is
// exactly as long as the dimensions say. Returns the dimensions; `data` gets the file's bytes and
// `offset` where the values start.
std::vector<int64_t> read_idx(const std::string& path, uint32_t magic, std::string& data,
                              size_t& offset) {
  data = read_file_bytes(path);
  const bool gz = is_gzip(data);
  if (gz) data = gunzip(data, path, magic);
  const char* where = gz ? " (after gunzip)" : "";
  const size_t ndims = magic & 0xff;
  RECUR_CHECK(data.size() >= 4, "'" << path << "' holds " << data.size() << " bytes" << where
                                    << "; expected an IDX file of " << magic_name(magic)
                                    << ", magic " << hex32(magic));
  const uint32_t got = load_be32(data, 0);
  RECUR_CHECK(got == magic, "'" << path << "'" << where << ": magic number " << hex32(got)
                                << (got == kImagesMagic || got == kLabelsMagic
                                        ? " (" + magic_name(got) + ")"
                                        : std::string(" (not an IDX uint8 file)"))
                                << "; expected " << hex32(magic) << ", " << magic_name(magic));
  offset = 4 + 4 * ndims;
  RECUR_CHECK(data.size() >= offset, "'" << path << "' holds " << data.size() << " bytes" << where
                                         << "; expected a header of " << offset << " bytes ("
                                         << ndims << " dimensions)");
  std::vector<int64_t> dims;
  uint64_t expected = 1;
  std::string shape;
  for (size_t d = 0; d < ndims; ++d) {
    const uint32_t n = load_be32(data, 4 + 4 * d);
    dims.push_back(int64_t(n));
    shape += (d ? " x " : "") + std::to_string(n);
    RECUR_CHECK(n == 0 || expected <= std::numeric_limits<uint64_t>::max() / n,
                "'" << path << "': the header's dimensions " << shape << "... overflow 64 bits");
    expected *= n;
  }
  const uint64_t have = data.size() - offset;
  RECUR_CHECK(have == expected,
              "'" << path << "'" << where << ": the header says " << shape << " = " << expected
                  << " bytes of data, the file holds " << have
                  << (have < expected ? " (truncated)" : " (extra bytes at the end)"));
  return dims;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  std::string data;
  size_t offset = 0;
  const std::vector<int64_t> dims = read_idx(path, kImagesMagic, data, offset);
  IdxImages img;
  img.count = dims[0];
  img.rows = dims[1];
  img.cols = dims[2];
  // The data's size bounds neither the count of empty images nor the size of images there are
  // none of (image_row_sequences multiplies rows by cols in int64).
  RECUR_CHECK(img.rows > 0 && img.cols > 0 && uint64_t(img.rows) * uint64_t(img.cols) <= (1u << 31),
              "'" << path << "': the header says images of " << img.rows << " x " << img.cols
                  << " pixels; expected at least 1 x 1 and at most 2^31 pixels");
  img.pixels.assign(data.begin() + std::ptrdiff_t(offset), data.end());
  return img;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  std::string data;
  size_t offset = 0;
  read_idx(path, kLabelsMagic, data, offset);
  return std::vector<uint8_t>(data.begin() + std::ptrdiff_t(offset), data.end());
}

}  // namespace recur
