// safetensors: round trips, the reference byte layout, dtype conversion, every rejected defect.
#include "recur/io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recur/io/file.h"
#include "recur/version.h"
#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;
using testing::HavePythonNumpy;
using testing::WriteRaw;

std::string Le64(uint64_t n) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &n, 8);
  return s;
}

// A safetensors file from its header text and data buffer.
std::string StFile(const std::string& header, const std::string& data = "") {
  return Le64(header.size()) + header + data;
}

template <class U>
std::string Bytes(const std::vector<U>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(U));
}

class SafetensorsTest : public testing::ScratchDirTest {};

template <class T>
void ExpectSameTensors(const std::map<std::string, Tensor<T>>& a,
                       const std::map<std::string, Tensor<T>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_EQ(b.at(name).shape, t.shape) << name;
    EXPECT_EQ(b.at(name).data, t.data) << name;
  }
}

template <class T>
std::map<std::string, Tensor<T>> SampleTensors() {
  return {{"w", Tensor<T>({2, 3}, {T(0.1), T(-2.5), T(1e-7), T(3), T(-0.0), T(1e30)})},
          {"b", Tensor<T>({3}, {T(1) / T(3), T(2), T(-4)})},
          {"scalar", Tensor<T>({}, {T(42.5)})},
          {"empty", Tensor<T>({0, 4})},
          {"empty_mid", Tensor<T>({2, 0, 3})}};
}

TEST_F(SafetensorsTest, RoundTripFloatWithMetadata) {
  const auto tensors = SampleTensors<float>();
  const std::map<std::string, std::string> meta = {{"format", "pt"},
                                                   {"note", "h\xc3\xa9llo \"q\""}};
  save_safetensors(Path("a.safetensors"), tensors, meta);
  const Safetensors<float> st = load_safetensors<float>(Path("a.safetensors"));
  ExpectSameTensors(tensors, st.tensors);
  // A file with metadata (a model's) also records the version of recur that wrote it.
  auto expected = meta;
  expected["format_version"] = RECUR_VERSION;
  EXPECT_EQ(st.metadata, expected);
  EXPECT_EQ(st.tensors.at("scalar").rank(), 0);
}

TEST_F(SafetensorsTest, RoundTripDouble) {
  const auto tensors = SampleTensors<double>();
  save_safetensors(Path("a.safetensors"), tensors);
  const Safetensors<double> st = load_safetensors<double>(Path("a.safetensors"));
  ExpectSameTensors(tensors, st.tensors);
  EXPECT_TRUE(st.metadata.empty());
}

TEST_F(SafetensorsTest, RoundTripNoTensors) {
  save_safetensors<float>(Path("a.safetensors"), {}, {{"k", "v"}});
  const auto st = load_safetensors<float>(Path("a.safetensors"));
  EXPECT_TRUE(st.tensors.empty());
  EXPECT_EQ(st.metadata.at("k"), "v");
}

TEST_F(SafetensorsTest, LoadsIntoTheOtherPrecision) {
  save_safetensors(Path("f.safetensors"), SampleTensors<float>());
  const auto as_double = load_safetensors<double>(Path("f.safetensors"));
  EXPECT_EQ(as_double.tensors.at("w")[0], double(0.1f));
  save_safetensors(Path("d.safetensors"), SampleTensors<double>());
  const auto as_float = load_safetensors<float>(Path("d.safetensors"));
  EXPECT_EQ(as_float.tensors.at("b")[0], float(1.0 / 3.0));
}

TEST_F(SafetensorsTest, LayoutMatchesReferenceImplementation) {
  save_safetensors(Path("a.safetensors"),
                   std::map<std::string, Tensor<float>>{{"b", Tensor<float>({2}, {1, 2})},
                                                        {"a", Tensor<float>({1}, {3})}},
                   {{"k", "v"}});
  const std::string bytes = read_file_bytes(Path("a.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string expected =
      R"({"__metadata__":{"k":"v","format_version":")" RECUR_VERSION R"("},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_EQ(bytes.substr(8, n), expected + std::string(n - expected.size(), ' '));
  EXPECT_EQ(bytes.substr(8 + n), Bytes<float>({3, 1, 2}));

  save_safetensors(Path("d.safetensors"),
                   std::map<std::string, Tensor<double>>{{"x", Tensor<double>({}, {1})}});
  EXPECT_NE(read_file_bytes(Path("d.safetensors")).find(R"("dtype":"F64","shape":[])"),
            std::string::npos);
}

TEST_F(SafetensorsTest, ConvertsEveryDtype) {
  const std::string header = R"({"f16":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                             R"("bf16":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
                             R"("i32":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},)"
                             R"("i64":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},)"
                             R"("f64":{"dtype":"F64","shape":[1],"data_offsets":[24,32]},)"
                             R"("f32":{"dtype":"F32","shape":[1,1],"data_offsets":[32,36]}})";
  const std::string data = Bytes<uint16_t>({0x3c00, 0xc000}) + Bytes<uint16_t>({0x3f80, 0xc040}) +
                           Bytes<int32_t>({-5, 7}) + Bytes<int64_t>({int64_t(1) << 40}) +
                           Bytes<double>({0.1}) + Bytes<float>({0.5f});
  WriteRaw(Path("a.safetensors"), StFile(header, data));
  const auto d = load_safetensors<double>(Path("a.safetensors")).tensors;
  EXPECT_EQ(d.at("f16").data, (std::vector<double>{1, -2}));
  EXPECT_EQ(d.at("bf16").data, (std::vector<double>{1, -3}));
  EXPECT_EQ(d.at("i32").data, (std::vector<double>{-5, 7}));
  EXPECT_EQ(d.at("i64").data, (std::vector<double>{double(int64_t(1) << 40)}));
  EXPECT_EQ(d.at("f64").data, (std::vector<double>{0.1}));
  EXPECT_EQ(d.at("f32").shape, (Shape{1, 1}));
  const auto f = load_safetensors<float>(Path("a.safetensors")).tensors;
  EXPECT_EQ(f.at("f64").data, (std::vector<float>{0.1f}));
  EXPECT_EQ(f.at("f16").data, (std::vector<float>{1, -2}));
}

// A torch.save file is named as one, with the conversion; a safetensors file whose header length
// happens to begin with a pickle's bytes (0x80 0x02: 640 bytes) still loads.
TEST_F(SafetensorsTest, NamesTorchSaveFiles) {
  WriteRaw(Path("zip.pt"), std::string("PK\x03\x04", 4) + std::string(60, '\0'));
  EXPECT_RECUR_ERROR(load_safetensors<float>(Path("zip.pt")), "zip.pt", "torch.save file (a zip archive)",
                     "recur.save_state_dict");
  WriteRaw(Path("old.pt"), std::string("\x80\x02\x8a\x0a", 4) + std::string(60, 'x'));
  EXPECT_RECUR_ERROR(load_safetensors<float>(Path("old.pt")), "old.pt", "torch.save file (a pickle)");
  std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header += std::string(640 - header.size(), ' ');
  WriteRaw(Path("a.safetensors"), StFile(header, Bytes<float>({7})));
  EXPECT_EQ(load_safetensors<float>(Path("a.safetensors")).tensors.at("a").data, (std::vector<float>{7}));
}

TEST_F(SafetensorsTest, AcceptsGapsNullMetadataAndTouchingEmptyTensors) {
  // An empty tensor may sit at any offset, even inside another; gaps are harmless.
  const std::string header =
      R"({"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
      R"("e":{"dtype":"F32","shape":[0],"data_offsets":[6,6]}})";
  WriteRaw(Path("a.safetensors"), StFile(header, Bytes<float>({9, 2})));
  const auto st = load_safetensors<float>(Path("a.safetensors"));
  EXPECT_EQ(st.tensors.at("a").data, (std::vector<float>{2}));
  EXPECT_TRUE(st.tensors.at("e").empty());
}

TEST_F(SafetensorsTest, RequireTensorListsWhatExists) {
  save_safetensors(Path("a.safetensors"), SampleTensors<float>());
  const auto st = load_safetensors<float>(Path("a.safetensors"));
  EXPECT_EQ(require_tensor(st, "b", Path("a.safetensors")).shape, (Shape{3}));
  EXPECT_RECUR_ERROR(require_tensor(st, "nope", Path("a.safetensors")),
                     "'" + Path("a.safetensors") +
                         "' has no tensor 'nope'; it has: "
                         "b, empty, empty_mid, scalar, w");
  EXPECT_RECUR_ERROR(require_tensor(Safetensors<float>{}, "x", "m.st"),
                     "'m.st' has no tensor 'x'; it has: no tensors");
}

TEST_F(SafetensorsTest, MissingFileNamesPath) {
  const std::string p = Path("missing.safetensors");
  EXPECT_RECUR_ERROR(load_safetensors<float>(p), "cannot open '" + p + "'",
                     "No such file or directory");
}

TEST_F(SafetensorsTest, RejectsEveryBadInput) {
  const std::string f4 = Bytes<float>({1, 2});
  auto entry = [](const std::string& body) { return R"({"w":)" + body + "}"; };
  struct Case {
    std::string name, bytes;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"empty", "", {"is empty"}},
      {"short", "abc", {"only 3 bytes", "8-byte header length"}},
      {"header_too_long", Le64(1000) + "{}", {"declares a 1000-byte JSON header", "only 2 bytes"}},
      {"header_len_max", Le64(~uint64_t(0)) + "{}", {"-byte JSON header"}},
      {"bad_json", StFile(R"({"w": )"), {"header is not valid JSON"}},
      {"bad_utf8", StFile("{\"\xff\":1}"), {"header is not valid JSON"}},
      {"empty_header", StFile(""), {"header is not valid JSON"}},
      {"not_object", StFile("[1,2]"), {"header must be a JSON object", "[1,2]"}},
      {"entry_not_object", StFile(entry("5")), {"tensor 'w'", "entry must be an object"}},
      {"no_dtype",
       StFile(entry(R"({"shape":[2],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "missing \"dtype\""}},
      {"no_shape",
       StFile(entry(R"({"dtype":"F32","data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "missing \"shape\""}},
      {"no_offsets",
       StFile(entry(R"({"dtype":"F32","shape":[2]})"), f4),
       {"tensor 'w'", "missing \"data_offsets\""}},
      {"dtype_number",
       StFile(entry(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "\"dtype\" must be a string, got 4"}},
      {"shape_string",
       StFile(entry(R"({"dtype":"F32","shape":"2","data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "\"shape\" must be an array"}},
      {"shape_float",
       StFile(entry(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "shape dimension must be an integer"}},
      {"offsets_short",
       StFile(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[8]})"), f4),
       {"tensor 'w'", "\"data_offsets\" must be an array [begin, end]"}},
      {"offsets_string",
       StFile(entry(R"({"dtype":"F32","shape":[2],"data_offsets":["0",8]})"), f4),
       {"tensor 'w'", "data_offsets begin must be an integer"}},
      {"unknown_dtype",
       StFile(entry(R"({"dtype":"C64","shape":[1],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "unsupported dtype 'C64'", "F32, F64, F16, BF16, I32, I64"}},
      {"negative_dim",
       StFile(entry(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "shape dimension is negative (-2)"}},
      {"huge_dims",
       StFile(entry(R"({"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]})"),
              f4),
       {"tensor 'w'", "too many elements"}},
      {"negative_offset",
       StFile(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[-1,7]})"), f4),
       {"tensor 'w'", "data_offsets begin is negative"}},
      {"offsets_past_end",
       StFile(entry(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), f4),
       {"tensor 'w'", "[0, 16] run past the 8-byte data buffer"}},
      {"begin_after_end",
       StFile(entry(R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})"), f4),
       {"tensor 'w'", "begin > end"}},
      {"size_mismatch",
       StFile(entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), f4),
       {"tensor 'w'", "hold 8 bytes", "shape (3,) of F32 needs 3 x 4 bytes"}},
      {"overlap",
       StFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              Bytes<float>({1, 2, 3})),
       {"tensors 'a' [0, 8) and 'b' [4, 12) overlap"}},
      {"metadata_number",
       StFile(R"({"__metadata__":{"k":1}})"),
       {"metadata value for 'k' must be a string, got 1"}},
      {"metadata_array",
       StFile(R"({"__metadata__":["k"]})"),
       {"\"__metadata__\" must be an object of strings"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string p = Path(c.name + ".safetensors");
    WriteRaw(p, c.bytes);
    std::vector<std::string> needles = c.needles;
    needles.push_back("'" + p + "'");
    testing::ExpectError([&] { load_safetensors<float>(p); }, needles, __FILE__, __LINE__);
    testing::ExpectError([&] { load_safetensors<double>(p); }, needles, __FILE__, __LINE__);
  }
}

TEST_F(SafetensorsTest, SaveRejectsBadTensorsAndPaths) {
  Tensor<float> bad;
  bad.shape = {2, 3};
  bad.data = {1};
  EXPECT_RECUR_ERROR(save_safetensors<float>(Path("a.safetensors"), {{"bad", bad}}),
                     Path("a.safetensors"), "tensor 'bad'", "holds 1 values", "needs 6");
  EXPECT_RECUR_ERROR(
      save_safetensors<float>(Path("a.safetensors"), {{"__metadata__", Tensor<float>({1})}}),
      Path("a.safetensors"), "reserved");
  EXPECT_RECUR_ERROR(save_safetensors<float>(Path("a.safetensors"), {}, {{"k", "\xff"}}),
                     Path("a.safetensors"), "UTF-8");
  EXPECT_RECUR_ERROR(save_safetensors(Path("no/dir/a.safetensors"), SampleTensors<float>()),
                     Path("no/dir/a.safetensors"));
  EXPECT_FALSE(fs::exists(Path("a.safetensors")));
}

// Any truncation is reported; any single corrupted header byte is either harmless or reported,
// never a crash or a foreign exception.
TEST_F(SafetensorsTest, TruncatedOrCorruptedFilesOnlyThrowRecurError) {
  save_safetensors(Path("good.safetensors"), SampleTensors<float>(), {{"k", "v"}});
  const std::string good = read_file_bytes(Path("good.safetensors"));
  const std::string p = Path("bad.safetensors");
  for (size_t len = 0; len < good.size(); ++len) {
    WriteRaw(p, good.substr(0, len));
    testing::ExpectError([&] { load_safetensors<float>(p); }, {p}, __FILE__, __LINE__);
  }
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  for (size_t i = 0; i < 8 + n; ++i) {
    for (char c : {'"', '}', '9', '\xff'}) {
      std::string bytes = good;
      bytes[i] = c;
      WriteRaw(p, bytes);
      try {
        load_safetensors<double>(p);
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      }
    }
  }
}

TEST_F(SafetensorsTest, InteropWithPythonJsonAndNumpy) {
  std::string why;
  if (!HavePythonNumpy(&why)) GTEST_SKIP() << why;
  // Python reads what we wrote.
  save_safetensors(
      Path("ours.safetensors"),
      std::map<std::string, Tensor<float>>{{"w", Tensor<float>({2, 2}, {1.5f, -2, 0.25f, 8})},
                                           {"s", Tensor<float>({}, {3})}},
      {{"author", "recur"}});
  // And writes a file with F16, F64 and I64 tensors for us to read.
  const std::string script = R"(
import json, struct, sys
import numpy as np
d = sys.argv[1]
raw = open(d + '/ours.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
assert n % 8 == 0, n
h = json.loads(raw[8:8 + n])
assert h['__metadata__'] == {'author': 'recur', 'format_version': sys.argv[2]}, h
buf = raw[8 + n:]
def get(name, dt):
    b, e = h[name]['data_offsets']
    return np.frombuffer(buf[b:e], dtype=dt).reshape(h[name]['shape'])
assert h['w']['dtype'] == 'F32'
assert np.array_equal(get('w', '<f4'), np.array([[1.5, -2], [0.25, 8]], np.float32))
assert get('s', '<f4').shape == () and get('s', '<f4') == 3
arrays = {'h': np.array([0.5, -1.0, 65504.0], '<f2'), 'd': np.array([[0.1], [1e-300]], '<f8'),
          'i': np.array([-3, 1 << 40], '<i8')}
names = {'<f2': 'F16', '<f8': 'F64', '<i8': 'I64'}
header, data = {'__metadata__': {'from': 'python'}}, b''
for k, a in arrays.items():
    header[k] = {'dtype': names[a.dtype.str], 'shape': list(a.shape),
                 'data_offsets': [len(data), len(data) + a.nbytes]}
    data += a.tobytes()
hb = json.dumps(header).encode()
open(d + '/theirs.safetensors', 'wb').write(struct.pack('<Q', len(hb)) + hb + data)
)";
  WriteRaw(Path("check.py"), script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + Path("check.py") + " " + dir_ + " " RECUR_VERSION).c_str()), 0);
  const auto st = load_safetensors<double>(Path("theirs.safetensors"));
  EXPECT_EQ(st.metadata.at("from"), "python");
  EXPECT_EQ(st.tensors.at("h").data, (std::vector<double>{0.5, -1, 65504}));
  EXPECT_EQ(st.tensors.at("d").shape, (Shape{2, 1}));
  EXPECT_EQ(st.tensors.at("d").data, (std::vector<double>{0.1, 1e-300}));
  EXPECT_EQ(st.tensors.at("i").data, (std::vector<double>{-3, double(int64_t(1) << 40)}));
}

}  // namespace
}  // namespace recur
