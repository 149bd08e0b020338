// .npy: round trips, header syntax, dtype conversion, index arrays, defects, numpy interop.
#include "recur/io/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "recur/io/file.h"
#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;
using testing::HavePythonNumpy;
using testing::WriteRaw;

template <class U>
std::string Bytes(const std::vector<U>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(U));
}

// An .npy file with the given header dict text (padded to 64 bytes) and data.
std::string NpyFile(const std::string& dict, const std::string& data, int major = 1) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (preamble + dict.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += char(major);
  out += char(0);
  const uint32_t len = uint32_t(header.size());
  out.append(reinterpret_cast<const char*>(&len), preamble - 8);
  return out + header + data;
}

std::string Dict(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

class NpyTest : public testing::ScratchDirTest {
 protected:
  // Writes bytes to a fresh file and returns its path.
  std::string Raw(const std::string& name, const std::string& bytes) const {
    WriteRaw(Path(name), bytes);
    return Path(name);
  }
};

template <class T>
void ExpectRoundTrip(const std::string& path, const Tensor<T>& x) {
  save_npy(path, x);
  const Tensor<T> y = load_npy<T>(path);
  EXPECT_EQ(y.shape, x.shape) << x.shape_string();
  EXPECT_EQ(y.data, x.data) << x.shape_string();
}

TEST_F(NpyTest, RoundTripFloatAndDouble) {
  ExpectRoundTrip(Path("a.npy"), Tensor<float>({2, 3}, {0.1f, -2.5f, 1e-30f, 3, -0.0f, 1e30f}));
  ExpectRoundTrip(Path("a.npy"), Tensor<float>({5}, {1, 2, 3, 4, 5}));
  ExpectRoundTrip(Path("a.npy"), Tensor<float>({}, {7.25f}));
  ExpectRoundTrip(Path("a.npy"), Tensor<float>({0, 4}));
  ExpectRoundTrip(Path("a.npy"), Tensor<float>({3, 0, 2}));
  ExpectRoundTrip(Path("b.npy"), Tensor<double>({2, 2}, {1.0 / 3, 1e-300, -4, 5e300}));
  ExpectRoundTrip(Path("b.npy"), Tensor<double>({}, {0.1}));
  ExpectRoundTrip(Path("b.npy"), Tensor<double>({0}));
  // Cross precision: float file read as double is exact.
  save_npy(Path("c.npy"), Tensor<float>({1}, {0.1f}));
  EXPECT_EQ(load_npy<double>(Path("c.npy"))[0], double(0.1f));
}

TEST_F(NpyTest, SavedHeaderIsVersion1AlignedTo64) {
  const std::vector<std::pair<Shape, std::string>> shapes = {
      {{2, 3}, "(2, 3)"}, {{5}, "(5,)"}, {{}, "()"}, {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, ""}};
  for (const auto& [shape, text] : shapes) {
    save_npy(Path("a.npy"), Tensor<double>(shape));
    const std::string b = read_file_bytes(Path("a.npy"));
    ASSERT_GE(b.size(), 10u);
    EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t len = uint8_t(b[8]) | size_t(uint8_t(b[9])) << 8;
    EXPECT_EQ((10 + len) % 64, 0u);
    EXPECT_EQ(b[10 + len - 1], '\n');
    if (!text.empty()) {
      EXPECT_EQ(b.substr(10, len).rfind(Dict("<f8", text), 0), 0u) << b.substr(10, len);
    }
    EXPECT_EQ(b.size(), 10 + len + 8 * size_t(shape_numel(shape)));
  }
  save_npy(Path("f.npy"), Tensor<float>({1}));
  EXPECT_NE(read_file_bytes(Path("f.npy")).find("'descr': '<f4'"), std::string::npos);
}

TEST_F(NpyTest, ReadsVersions2And3) {
  const std::string data = Bytes<float>({1, 2});
  EXPECT_EQ(load_npy<float>(Raw("v2.npy", NpyFile(Dict("<f4", "(2,)"), data, 2))).data,
            (std::vector<float>{1, 2}));
  EXPECT_EQ(load_npy<float>(Raw("v3.npy", NpyFile(Dict("<f4", "(1, 2)"), data, 3))).shape,
            (Shape{1, 2}));
}

TEST_F(NpyTest, ConvertsIntegerAndSmallDtypes) {
  struct Case {
    std::string descr, data;
    std::vector<double> want;
  };
  const std::vector<Case> cases = {
      {"<i4", Bytes<int32_t>({-7, 9}), {-7, 9}},
      {"<i8", Bytes<int64_t>({-(int64_t(1) << 40), 3}), {-double(int64_t(1) << 40), 3}},
      {"|u1", Bytes<uint8_t>({0, 255}), {0, 255}},
      {"|i1", Bytes<int8_t>({-128, 127}), {-128, 127}},
      {"<f2", Bytes<uint16_t>({0x3c00, 0xc000}), {1, -2}},
      {"<i2", Bytes<int16_t>({-300, 300}), {-300, 300}},
      {"<u2", Bytes<uint16_t>({65535, 1}), {65535, 1}},
      {"<u4", Bytes<uint32_t>({4000000000u, 1}), {4e9, 1}},
      {"<u8", Bytes<uint64_t>({uint64_t(1) << 63, 1}), {0x1p63, 1}},
      {"|b1", Bytes<uint8_t>({1, 0}), {1, 0}},
      {"=f8", Bytes<double>({0.1, 2}), {0.1, 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.descr);
    const std::string p = Raw("a.npy", NpyFile(Dict(c.descr, "(2,)"), c.data));
    EXPECT_EQ(load_npy<double>(p).data, c.want);
    const Tensor<float> f = load_npy<float>(p);
    EXPECT_EQ(f.data, (std::vector<float>{float(c.want[0]), float(c.want[1])}));
  }
}

TEST_F(NpyTest, HeaderSyntaxVariants) {
  const std::string data = Bytes<float>({1, 2, 3, 4, 5, 6});
  for (const std::string dict : {
           "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
           "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}",
           "{ 'fortran_order' : False ,'shape':( 2 ,3, ),'descr' :'<f4' , }",
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
       }) {
    SCOPED_TRACE(dict);
    const Tensor<float> x = load_npy<float>(Raw("a.npy", NpyFile(dict, data)));
    EXPECT_EQ(x.shape, (Shape{2, 3}));
    EXPECT_EQ(x[5], 6);
  }
}

TEST_F(NpyTest, LoadNpyIntAcceptsIntegersAndIntegralFloats) {
  EXPECT_EQ(load_npy_int(Raw("a.npy", NpyFile(Dict("<i4", "(3,)"), Bytes<int32_t>({0, -1, 7})))),
            (std::vector<int64_t>{0, -1, 7}));
  EXPECT_EQ(load_npy_int(Raw(
                "a.npy", NpyFile(Dict("<i8", "(1, 2)"), Bytes<int64_t>({int64_t(1) << 60, 2})))),
            (std::vector<int64_t>{int64_t(1) << 60, 2}));
  EXPECT_EQ(load_npy_int(Raw("a.npy", NpyFile(Dict("|u1", "(2,)"), Bytes<uint8_t>({200, 3})))),
            (std::vector<int64_t>{200, 3}));
  EXPECT_EQ(load_npy_int(Raw("a.npy", NpyFile(Dict("<f8", "(2,)"), Bytes<double>({3, -4})))),
            (std::vector<int64_t>{3, -4}));
  EXPECT_EQ(load_npy_int(Raw("a.npy", NpyFile(Dict("<f4", "()"), Bytes<float>({5})))),
            (std::vector<int64_t>{5}));
  EXPECT_TRUE(load_npy_int(Raw("a.npy", NpyFile(Dict("<i8", "(0,)"), ""))).empty());
}

TEST_F(NpyTest, LoadNpyIntRejectsNonIntegers) {
  std::string p = Raw("frac.npy", NpyFile(Dict("<f8", "(2,)"), Bytes<double>({1, 2.5})));
  EXPECT_RECUR_ERROR(load_npy_int(p), "'" + p + "'", "2.5", "flat index 1", "expected integer");
  p = Raw("nan.npy", NpyFile(Dict("<f4", "(1,)"), Bytes<float>({NAN})));
  EXPECT_RECUR_ERROR(load_npy_int(p), "'" + p + "'", "nan", "flat index 0");
  p = Raw("big.npy", NpyFile(Dict("<f8", "(1,)"), Bytes<double>({1e300})));
  EXPECT_RECUR_ERROR(load_npy_int(p), "'" + p + "'", "flat index 0");
  p = Raw("bool.npy", NpyFile(Dict("|b1", "(1,)"), Bytes<uint8_t>({1})));
  EXPECT_RECUR_ERROR(load_npy_int(p), "'" + p + "'", "booleans");
  p = Raw("u8.npy", NpyFile(Dict("<u8", "(1,)"), Bytes<uint64_t>({~uint64_t(0)})));
  EXPECT_RECUR_ERROR(load_npy_int(p), "'" + p + "'", "beyond the int64 range");
}

TEST_F(NpyTest, MissingFileNamesPath) {
  const std::string p = Path("missing.npy");
  EXPECT_RECUR_ERROR(load_npy<float>(p), "cannot open '" + p + "'", "No such file or directory");
  EXPECT_RECUR_ERROR(load_npy_int(p), "cannot open '" + p + "'");
}

TEST_F(NpyTest, RejectsEveryBadInput) {
  const std::string f6 = Bytes<float>({1, 2, 3, 4, 5, 6});
  const std::string magic("\x93NUMPY", 6);
  struct Case {
    std::string name, bytes;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"empty", "", {"is empty"}},
      {"bad_magic", "PK\x03\x04 not numpy", {"magic string"}},
      {"short_magic", "\x93NUM", {"magic string"}},
      {"short_preamble", magic + "\x01", {"truncated", "10-byte preamble"}},
      {"v2_short_preamble", magic + std::string("\x02\x00\x10\x00", 4), {"12-byte preamble"}},
      {"version_4", magic + std::string("\x04\x00\x00\x00", 4), {"version 4.0", "1.0, 2.0"}},
      {"header_too_long",
       magic + std::string("\x01\x00\xff\x00{}", 6),
       {"declares a 255-byte header", "only 2 bytes"}},
      {"not_dict", NpyFile("[1, 2]", ""), {"must be a Python dict", "[1, 2]"}},
      {"unterminated", NpyFile("{'descr: '<f4'}", ""), {"malformed header", "expected ':'"}},
      {"unterminated_str", NpyFile("{'descr", ""), {"malformed header", "unterminated string"}},
      {"no_colon", NpyFile("{'descr' '<f4'}", ""), {"malformed header", "expected ':'"}},
      {"no_comma", NpyFile("{'descr': '<f4' 'shape': ()}", ""), {"expected ',' or '}'"}},
      {"trailing_text", NpyFile("{} x", ""), {"unexpected text after the dict"}},
      {"bad_name", NpyFile("{'descr': true}", ""), {"unexpected name 'true'"}},
      {"bad_char", NpyFile("{'descr': @}", ""), {"unexpected character '@'"}},
      {"bad_int", NpyFile("{'shape': (-,)}", ""), {"bad integer '-'"}},
      {"int_overflow", NpyFile("{'shape': (99999999999999999999,)}", ""), {"bad integer"}},
      {"too_deep",
       NpyFile(std::string(40, '(') + "1" + std::string(40, ')'), ""),
       {"nesting too deep"}},
      {"int_key", NpyFile("{1: 2}", ""), {"dict keys must be strings"}},
      {"dup_key", NpyFile("{'shape': (), 'shape': ()}", ""), {"duplicate key 'shape'"}},
      {"missing_shape", NpyFile("{'descr': '<f4', 'fortran_order': False}", ""), {"lacks 'shape'"}},
      {"missing_descr", NpyFile("{'fortran_order': False, 'shape': ()}", ""), {"lacks 'descr'"}},
      {"extra_key",
       NpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", ""),
       {"unexpected key 'x'"}},
      {"descr_int",
       NpyFile("{'descr': 4, 'fortran_order': False, 'shape': ()}", ""),
       {"'descr' must be a string"}},
      {"structured",
       NpyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}", ""),
       {"structured"}},
      {"complex", NpyFile(Dict("<c8", "(1,)"), "12345678"), {"unsupported dtype '<c8'", "'<f4'"}},
      {"unicode", NpyFile(Dict("<U5", "(1,)"), ""), {"unsupported dtype '<U5'"}},
      {"f3", NpyFile(Dict("<f3", "(1,)"), ""), {"unsupported dtype '<f3'"}},
      {"no_order", NpyFile(Dict("f4", "(1,)"), ""), {"unsupported dtype 'f4'"}},
      {"big_endian", NpyFile(Dict(">f8", "(1,)"), "12345678"), {"'>f8' is big-endian"}},
      {"fortran",
       NpyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f6),
       {"Fortran"}},
      {"fortran_int",
       NpyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (), }", ""),
       {"'fortran_order' must be True or False"}},
      {"shape_list", NpyFile(Dict("<f4", "[2, 3]"), f6), {"'shape' must be a tuple"}},
      {"shape_int", NpyFile(Dict("<f4", "(6)"), f6), {"'shape' must be a tuple"}},
      {"shape_str", NpyFile(Dict("<f4", "('6',)"), f6), {"'shape' must hold integers"}},
      {"negative_dim", NpyFile(Dict("<f4", "(-2, 3)"), f6), {"negative dimension -2"}},
      {"huge_dims", NpyFile(Dict("<f4", "(4294967296, 4294967296)"), ""), {"too many elements"}},
      {"truncated",
       NpyFile(Dict("<f4", "(2, 3)"), f6.substr(0, 20)),
       {"truncated", "shape (2, 3) of '<f4' needs 24 bytes of data, found 20"}},
      {"trailing_bytes",
       NpyFile(Dict("<f4", "(2, 3)"), f6 + "xy"),
       {"has 2 bytes after the 24 bytes of data"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string p = Raw(c.name + ".npy", c.bytes);
    std::vector<std::string> needles = c.needles;
    needles.push_back("'" + p + "'");
    testing::ExpectError([&] { load_npy<float>(p); }, needles, __FILE__, __LINE__);
    testing::ExpectError([&] { load_npy<double>(p); }, needles, __FILE__, __LINE__);
    testing::ExpectError([&] { load_npy_int(p); }, needles, __FILE__, __LINE__);
  }
}

TEST_F(NpyTest, SaveRejectsBadTensorsAndPaths) {
  Tensor<float> bad;
  bad.shape = {2, 3};
  bad.data = {1};
  EXPECT_RECUR_ERROR(save_npy(Path("a.npy"), bad), "'" + Path("a.npy") + "'", "holds 1 values");
  EXPECT_RECUR_ERROR(save_npy(Path("no/dir/a.npy"), Tensor<double>({1})), Path("no/dir/a.npy"));
  EXPECT_FALSE(fs::exists(Path("a.npy")));
}

// Any truncation is reported; any corrupted header byte is harmless or reported, never a crash.
TEST_F(NpyTest, TruncatedOrCorruptedFilesOnlyThrowRecurError) {
  save_npy(Path("good.npy"), Tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  const std::string good = read_file_bytes(Path("good.npy"));
  const std::string p = Path("bad.npy");
  for (size_t len = 0; len < good.size(); ++len) {
    WriteRaw(p, good.substr(0, len));
    testing::ExpectError([&] { load_npy<float>(p); }, {p}, __FILE__, __LINE__);
  }
  for (size_t i = 0; i < 64; ++i) {
    for (char c : {'\0', '\'', '(', ')', '{', '}', ',', ':', '9', '-', 'T', '\xff'}) {
      std::string bytes = good;
      bytes[i] = c;
      WriteRaw(p, bytes);
      try {
        load_npy<double>(p);
        load_npy_int(p);
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      }
    }
  }
}

TEST_F(NpyTest, NumpyWritesRecurReads) {
  std::string why;
  if (!HavePythonNumpy(&why)) GTEST_SKIP() << why;
  const std::string script = R"(
import sys
import numpy as np
d = sys.argv[1]
np.save(d + '/f32.npy', np.array([[0.1, -2.5, 3.25], [1e-3, 7, 8]], dtype=np.float32))
np.save(d + '/f64.npy', np.array([0.1, -1e-300, 5e300, 1/3]))
np.save(d + '/i64.npy', np.array([-3, 0, 1 << 40], dtype=np.int64))
np.save(d + '/f16.npy', np.array([0.5, -65504], dtype=np.float16))
np.save(d + '/scalar.npy', np.float64(2.5))
np.save(d + '/empty.npy', np.zeros((0, 3), dtype=np.float32))
np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save(d + '/big.npy', np.ones(3, dtype='>f8'))
)";
  WriteRaw(Path("write.py"), script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + Path("write.py") + " " + dir_).c_str()), 0);

  const Tensor<float> f32 = load_npy<float>(Path("f32.npy"));
  EXPECT_EQ(f32.shape, (Shape{2, 3}));
  EXPECT_EQ(f32.data, (std::vector<float>{float(0.1), -2.5f, 3.25f, float(1e-3), 7, 8}));
  const Tensor<double> f64 = load_npy<double>(Path("f64.npy"));
  EXPECT_EQ(f64.data, (std::vector<double>{0.1, -1e-300, 5e300, 1.0 / 3}));
  const Tensor<double> i64 = load_npy<double>(Path("i64.npy"));
  EXPECT_EQ(i64.data, (std::vector<double>{-3, 0, double(int64_t(1) << 40)}));
  EXPECT_EQ(load_npy_int(Path("i64.npy")), (std::vector<int64_t>{-3, 0, int64_t(1) << 40}));
  EXPECT_EQ(load_npy<float>(Path("f16.npy")).data, (std::vector<float>{0.5f, -65504}));
  const Tensor<double> scalar = load_npy<double>(Path("scalar.npy"));
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_EQ(scalar[0], 2.5);
  EXPECT_EQ(load_npy<float>(Path("empty.npy")).shape, (Shape{0, 3}));
  EXPECT_RECUR_ERROR(load_npy<float>(Path("fortran.npy")), Path("fortran.npy"), "Fortran");
  EXPECT_RECUR_ERROR(load_npy<float>(Path("big.npy")), Path("big.npy"), "big-endian");
}

TEST_F(NpyTest, RecurWritesNumpyReads) {
  std::string why;
  if (!HavePythonNumpy(&why)) GTEST_SKIP() << why;
  save_npy(Path("f32.npy"), Tensor<float>({2, 3}, {1.5f, -2, 0.25f, 8, 0, -0.125f}));
  save_npy(Path("f64.npy"), Tensor<double>({}, {0.1}));
  save_npy(Path("empty.npy"), Tensor<double>({0, 3}));
  const std::string script = R"(
import sys
import numpy as np
d = sys.argv[1]
a = np.load(d + '/f32.npy')
assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
assert np.array_equal(a, np.array([[1.5, -2, 0.25], [8, 0, -0.125]], np.float32)), a
b = np.load(d + '/f64.npy')
assert b.dtype == np.float64 and b.shape == () and b == 0.1, b
e = np.load(d + '/empty.npy')
assert e.dtype == np.float64 and e.shape == (0, 3), e.shape
with open(d + '/f32.npy', 'rb') as f:
    assert np.lib.format.read_magic(f) == (1, 0)
)";
  WriteRaw(Path("read.py"), script);
  EXPECT_EQ(std::system(("/usr/bin/python3 " + Path("read.py") + " " + dir_).c_str()), 0);
}

}  // namespace
}  // namespace recur
