// IDX files: raw and gzip round trips (gzip written here with zlib, also as two members), and the
// defects that must fail naming the file: wrong magic, short header, truncated or overlong data,
// truncated and corrupt gzip. Plus the installed Fashion-MNIST test split when it is there.
#include "recur/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::WriteRaw;

std::string Be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// An IDX file of uint8 values: magic 0x0000 08 <ndims>, the dimensions, the data.
std::string Idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string out = Be32(0x0800u | uint32_t(dims.size()));
  for (uint32_t d : dims) out += Be32(d);
  out.append(data.begin(), data.end());
  return out;
}

// gzip-compresses bytes with zlib (one gzip member).
std::string Gzip(const std::string& bytes) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, uLong(bytes.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = uInt(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class IdxTest : public testing::ScratchDirTest {
 protected:
  std::string File(const std::string& name, const std::string& bytes) const {
    WriteRaw(Path(name), bytes);
    return Path(name);
  }
  // Two 3x4 images with pixels 0..23 and their labels.
  const std::vector<uint8_t> pixels_ = [] {
    std::vector<uint8_t> p(24);
    for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t(i * 10);
    return p;
  }();
  const std::vector<uint8_t> labels_ = {7, 2};
};

TEST_F(IdxTest, RawAndGzipFilesReadBackTheSame) {
  const std::string images = Idx({2, 3, 4}, pixels_), labels = Idx({2}, labels_);
  for (const bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "raw");
    const std::string suffix = gz ? ".gz" : "";
    const IdxImages img = read_idx_images(File("images" + suffix, gz ? Gzip(images) : images));
    EXPECT_EQ(img.count, 2);
    EXPECT_EQ(img.rows, 3);
    EXPECT_EQ(img.cols, 4);
    EXPECT_EQ(img.pixels, pixels_);
    EXPECT_EQ(read_idx_labels(File("labels" + suffix, gz ? Gzip(labels) : labels)), labels_);
  }
  // gzip is recognised by its magic bytes, not the name; two members read as one stream.
  EXPECT_EQ(read_idx_images(File("noext", Gzip(images))).pixels, pixels_);
  EXPECT_EQ(read_idx_labels(File("two.gz", Gzip(labels.substr(0, 5)) + Gzip(labels.substr(5)))),
            labels_);
  // No images at all is a valid (empty) file.
  EXPECT_EQ(read_idx_images(File("empty", Idx({0, 28, 28}, {}))).count, 0);
}

TEST_F(IdxTest, WrongMagicNamesTheFileAndWhatWasExpected) {
  const std::string labels = File("labels", Idx({2}, labels_));
  EXPECT_RECUR_ERROR(read_idx_images(labels), labels, "magic number 0x00000801", "uint8 labels",
                     "expected 0x00000803");
  const std::string images = File("images.gz", Gzip(Idx({2, 3, 4}, pixels_)));
  EXPECT_RECUR_ERROR(read_idx_labels(images), images, "(after gunzip)", "0x00000803",
                     "expected 0x00000801");
  const std::string text = File("text", "hello, not an IDX file");
  EXPECT_RECUR_ERROR(read_idx_labels(text), text, "not an IDX uint8 file");
  const std::string floats = File("floats", Be32(0x00000d01) + Be32(1) + std::string(4, '\0'));
  EXPECT_RECUR_ERROR(read_idx_labels(floats), floats, "0x00000d01");
}

TEST_F(IdxTest, SizesThatDoNotMatchTheHeaderFail) {
  const std::string full = Idx({2, 3, 4}, pixels_);
  const std::string cut = File("cut", full.substr(0, full.size() - 1));
  EXPECT_RECUR_ERROR(read_idx_images(cut), cut, "2 x 3 x 4 = 24 bytes", "holds 23", "truncated");
  const std::string extra = File("extra", full + "!");
  EXPECT_RECUR_ERROR(read_idx_images(extra), extra, "holds 25", "extra bytes");
  const std::string header = File("header", full.substr(0, 10));
  EXPECT_RECUR_ERROR(read_idx_images(header), header, "holds 10 bytes", "header of 16 bytes");
  const std::string tiny = File("tiny", std::string(2, '\0'));
  EXPECT_RECUR_ERROR(read_idx_labels(tiny), tiny, "holds 2 bytes", "0x00000801");
  const std::string gz = File("cut.gz", Gzip(full.substr(0, 20)));
  EXPECT_RECUR_ERROR(read_idx_images(gz), gz, "(after gunzip)", "truncated");
  // Dimensions whose product overflows 64 bits cannot be allocated, let alone read.
  const std::string huge =
      File("huge", Be32(0x803) + Be32(0xffffffff) + Be32(0xffffffff) + Be32(0xffffffff));
  EXPECT_RECUR_ERROR(read_idx_images(huge), huge, "overflow");
}

TEST_F(IdxTest, TruncatedAndCorruptGzipFail) {
  std::string big;  // pseudo-random bytes, which compress to many bytes
  for (uint32_t i = 0, x = 1; i < 5000; ++i) big += char((x = x * 1103515245u + 12345u) >> 16);
  const std::string gz = Gzip(Idx({uint32_t(big.size())}, {big.begin(), big.end()}));
  ASSERT_GT(gz.size(), 100u);
  const std::string cut = File("cut.gz", gz.substr(0, gz.size() / 2));
  EXPECT_RECUR_ERROR(read_idx_labels(cut), cut, "gzip stream ends early", "truncated");
  const std::string no_trailer = File("notrailer.gz", gz.substr(0, gz.size() - 4));
  EXPECT_RECUR_ERROR(read_idx_labels(no_trailer), no_trailer, "ends early");
  std::string bad = gz;
  for (size_t i = 20; i < 40; ++i) bad[i] = char(~bad[i]);
  const std::string corrupt = File("corrupt.gz", bad);
  EXPECT_RECUR_ERROR(read_idx_labels(corrupt), corrupt, "corrupt gzip data");
  const std::string garbage = File("garbage.gz", gz + "trailing garbage");
  EXPECT_RECUR_ERROR(read_idx_labels(garbage), garbage, "corrupt gzip data");
}

// The real thing, when dataset-fashion-mnist is installed: 10000 test images of 28x28, 1000 of
// each of the 10 classes.
TEST(FashionMnist, InstalledTestSplitReads) {
  const std::string root = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(root + "t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  const IdxImages img = read_idx_images(root + "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(img.count, 10000);
  EXPECT_EQ(img.rows, 28);
  EXPECT_EQ(img.cols, 28);
  const std::vector<uint8_t> labels = read_idx_labels(root + "t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(labels.size(), 10000u);
  std::vector<int> counts(10);
  for (uint8_t l : labels) {
    ASSERT_LT(l, 10);
    ++counts[l];
  }
  EXPECT_EQ(counts, std::vector<int>(10, 1000));
}

}  // namespace
}  // namespace recur
