// NumPy .npy load/save, with a small parser for the Python-literal dict in the header.
#include "recur/io/npy.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <type_traits>

#include "recur/io/file.h"

namespace recur {
namespace {

const std::string kMagic(
    "\x93"
    "NUMPY",
    6);

// A Python literal as found in a .npy header: str, int, bool, None, tuple, list or dict.
struct PyValue {
  enum Kind { kStr, kInt, kBool, kNone, kTuple, kList, kDict } kind = kNone;
  std::string str;
  int64_t num = 0;
  bool flag = false;
  std::vector<std::string> keys;  // Dict keys (strings only), parallel to items.
  std::vector<PyValue> items;     // Tuple, list or dict elements.
};

// The header text for an error message: trailing padding dropped, long headers cut.
std::string excerpt(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s.size() > 200 ? s.substr(0, 197) + "..." : s;
}

// Recursive-descent parser for the subset of Python literal syntax that .npy headers use.
class PyParser {
 public:
  PyParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  PyValue parse() {
    PyValue v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the dict");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::ostringstream os;
    os << ".npy file '" << path_ << "' has a malformed header: " << what << " at offset " << pos_
       << (pos_ >= s_.size() ? " (the end of the header)" : "") << " in " << excerpt(s_);
    detail::fail(__FILE__, __LINE__, os.str());
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  PyValue value(int depth) {
    if (depth > 16) fail("nesting too deep");
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end of header");
    const char c = s_[pos_];
    if (c == '\'' || c == '"') return string();
    if (c == '(') return sequence(')', PyValue::kTuple, depth);
    if (c == '[') return sequence(']', PyValue::kList, depth);
    if (c == '{') return dict(depth);
    if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) return integer();
    if (std::isalpha(static_cast<unsigned char>(c))) return name();
    fail(std::string("unexpected character '") + c + "'");
  }

  PyValue string() {
    const char quote = s_[pos_++];
    PyValue v;
    v.kind = PyValue::kStr;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;  // Keep the escaped character.
      v.str += s_[pos_++];
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;
    return v;
  }

  PyValue integer() {
    size_t start = pos_;
    if (s_[pos_] == '+')
      start = ++pos_;  // from_chars takes '-' but not '+'.
    else if (s_[pos_] == '-')
      ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    PyValue v;
    v.kind = PyValue::kInt;
    const auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, v.num);
    if (ec != std::errc() || end != s_.data() + pos_)
      fail("bad integer '" + s_.substr(start, pos_ - start) + "'");
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 long.
    return v;
  }

  PyValue name() {
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    const std::string word = s_.substr(start, pos_ - start);
    PyValue v;
    if (word == "True" || word == "False") {
      v.kind = PyValue::kBool;
      v.flag = word == "True";
    } else if (word != "None") {
      pos_ = start;
      fail("unexpected name '" + word + "'");
    }
    return v;
  }

  // "(a, b)", "(a,)", "()", "[a, b]"; "(a)" is just a, as in Python.
  PyValue sequence(char close, PyValue::Kind kind, int depth) {
    ++pos_;
    PyValue v;
    v.kind = kind;
    bool comma = false;
    while (!eat(close)) {
      if (!v.items.empty() && !comma) fail(std::string("expected ',' or '") + close + "'");
      v.items.push_back(value(depth + 1));
      comma = eat(',');
    }
    if (kind == PyValue::kTuple && v.items.size() == 1 && !comma) return v.items[0];
    return v;
  }

  PyValue dict(int depth) {
    ++pos_;
    PyValue v;
    v.kind = PyValue::kDict;
    bool comma = false;
    while (!eat('}')) {
      if (!v.items.empty() && !comma) fail("expected ',' or '}'");
      const PyValue key = value(depth + 1);
      if (key.kind != PyValue::kStr) fail("dict keys must be strings");
      for (const std::string& k : v.keys)
        if (k == key.str) fail("duplicate key '" + k + "'");
      if (!eat(':')) fail("expected ':'");
      v.keys.push_back(key.str);
      v.items.push_back(value(depth + 1));
      comma = eat(',');
    }
    return v;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

// A validated .npy file: element type, shape and where the data is.
struct NpyArray {
  char kind = 0;  // 'f', 'i', 'u' or 'b'.
  int size = 0;   // Bytes per element.
  std::string descr;
  Shape shape;
  int64_t numel = 1;
  const char* data = nullptr;
};

// Parses descr such as '<f4' into kind and size; throws for what we do not read.
void parse_descr(const std::string& ctx, const PyValue& v, NpyArray& a) {
  RECUR_CHECK(v.kind != PyValue::kList,
              ctx << ": structured (record) dtypes are not supported; expected a plain numeric "
                     "dtype such as '<f4'");
  RECUR_CHECK(v.kind == PyValue::kStr, ctx << ": 'descr' must be a string such as '<f4'");
  const std::string& d = v.str;
  a.descr = d;
  const char order = d.empty() ? 0 : d[0];
  const char kind = d.size() < 2 ? 0 : d[1];
  const std::string digits = d.size() < 3 ? "" : d.substr(2);
  int size = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
  const bool sized = ec == std::errc() && end == digits.data() + digits.size();
  const bool known =
      sized && std::strchr("<>|=", order) && order != 0 &&
      ((kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
       ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
       (kind == 'b' && size == 1));
  RECUR_CHECK(!(known && order == '>' && size > 1),
              ctx << ": dtype '" << d << "' is big-endian; only little-endian ('<') data is "
                  << "supported (convert with a.astype(a.dtype.newbyteorder('<')))");
  RECUR_CHECK(known, ctx << ": unsupported dtype '" << d << "'; expected one of '<f4', '<f8', "
                         << "'<f2', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1'");
  a.kind = kind;
  a.size = size;
}

NpyArray parse_npy(const std::string& path, const std::string& bytes) {
  const std::string ctx = ".npy file '" + path + "'";
  RECUR_CHECK(!bytes.empty(), ctx << " is empty; expected the magic string \\x93NUMPY");
  RECUR_CHECK(bytes.compare(0, 6, kMagic) == 0,
              ctx << " does not start with the .npy magic string \\x93NUMPY");
  RECUR_CHECK(bytes.size() >= 10, ctx << " is truncated: " << bytes.size()
                                      << " bytes, shorter than the 10-byte preamble");
  const int major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  RECUR_CHECK(major >= 1 && major <= 3 && minor == 0, ctx << " has format version " << major << "."
                                                          << minor << "; expected 1.0, 2.0 or 3.0");
  const size_t start = major == 1 ? 10 : 12;
  RECUR_CHECK(bytes.size() >= start, ctx << " is truncated: " << bytes.size()
                                         << " bytes, shorter than the " << start
                                         << "-byte preamble of version " << major << ".0");
  const uint64_t header_len = major == 1 ? detail::load_le<uint16_t>(bytes.data() + 8)
                                         : detail::load_le<uint32_t>(bytes.data() + 8);
  RECUR_CHECK(header_len <= bytes.size() - start, ctx << " declares a " << header_len
                                                      << "-byte header but only "
                                                      << bytes.size() - start << " bytes follow");
  const std::string text = bytes.substr(start, header_len);
  const PyValue dict = PyParser(text, path).parse();
  RECUR_CHECK(dict.kind == PyValue::kDict,
              ctx << ": header must be a Python dict, got " << excerpt(text));

  NpyArray a;
  const PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (size_t i = 0; i < dict.keys.size(); ++i) {
    const std::string& k = dict.keys[i];
    const PyValue** slot = k == "descr"           ? &descr
                           : k == "fortran_order" ? &fortran
                           : k == "shape"         ? &shape
                                                  : nullptr;
    RECUR_CHECK(slot, ctx << ": header has unexpected key '" << k << "'; expected exactly "
                          << "'descr', 'fortran_order' and 'shape'");
    *slot = &dict.items[i];
  }
  RECUR_CHECK(descr && fortran && shape,
              ctx << ": header lacks '"
                  << (!descr     ? "descr"
                      : !fortran ? "fortran_order"
                                 : "shape")
                  << "'; expected 'descr', 'fortran_order' and 'shape' in " << excerpt(text));
  parse_descr(ctx, *descr, a);
  RECUR_CHECK(fortran->kind == PyValue::kBool, ctx << ": 'fortran_order' must be True or False");
  RECUR_CHECK(!fortran->flag, ctx << " is in Fortran (column-major) order; only C order is "
                                  << "supported (save np.ascontiguousarray(a) instead)");
  RECUR_CHECK(shape->kind == PyValue::kTuple,
              ctx << ": 'shape' must be a tuple such as (2, 3), got " << excerpt(text));
  for (const PyValue& d : shape->items) {
    RECUR_CHECK(d.kind == PyValue::kInt,
                ctx << ": 'shape' must hold integers, got " << excerpt(text));
    RECUR_CHECK(d.num >= 0, ctx << ": shape has a negative dimension " << d.num);
    a.shape.push_back(d.num);
    RECUR_CHECK(!__builtin_mul_overflow(a.numel, d.num, &a.numel),
                ctx << ": shape " << shape_str(a.shape) << " has too many elements");
  }

  uint64_t need = 0;
  RECUR_CHECK(!__builtin_mul_overflow(uint64_t(a.numel), uint64_t(a.size), &need),
              ctx << ": shape " << shape_str(a.shape) << " is too large");
  const uint64_t found = bytes.size() - start - header_len;
  RECUR_CHECK(found >= need, ctx << " is truncated: shape " << shape_str(a.shape) << " of '"
                                 << a.descr << "' needs " << need << " bytes of data, found "
                                 << found);
  RECUR_CHECK(found == need, ctx << " has " << found - need << " bytes after the " << need
                                 << " bytes of data that shape " << shape_str(a.shape) << " of '"
                                 << a.descr << "' needs");
  a.data = bytes.data() + start + header_len;
  return a;
}

template <class S, class T>
void copy_as(const char* p, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = T(detail::load_le<S>(p + i * int64_t(sizeof(S))));
}

// Converts the array's elements to T.
template <class T>
void decode(const NpyArray& a, T* out) {
  const char* p = a.data;
  const int64_t n = a.numel;
  if (a.kind == 'f' && a.size == 2) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = T(detail::f16_to_float(detail::load_le<uint16_t>(p + 2 * i)));
    return;
  }
  if (a.kind == 'f') return a.size == 4 ? copy_as<float>(p, n, out) : copy_as<double>(p, n, out);
  if (a.kind == 'i') {
    if (a.size == 1) return copy_as<int8_t>(p, n, out);
    if (a.size == 2) return copy_as<int16_t>(p, n, out);
    if (a.size == 4) return copy_as<int32_t>(p, n, out);
    return copy_as<int64_t>(p, n, out);
  }
  if (a.size == 1) return copy_as<uint8_t>(p, n, out);  // 'u1' and 'b1' (stored as 0 or 1).
  if (a.size == 2) return copy_as<uint16_t>(p, n, out);
  if (a.size == 4) return copy_as<uint32_t>(p, n, out);
  return copy_as<uint64_t>(p, n, out);
}

}  // namespace

template <class T>
Tensor<T> load_npy(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  const NpyArray a = parse_npy(path, bytes);
  Tensor<T> x(a.shape);
  decode(a, x.ptr());
  return x;
}

std::vector<int64_t> load_npy_int(const std::string& path, Shape* shape) {
  const std::string bytes = read_file_bytes(path);
  const NpyArray a = parse_npy(path, bytes);
  if (shape) *shape = a.shape;
  const std::string ctx = ".npy file '" + path + "'";
  RECUR_CHECK(a.kind != 'b',
              ctx << " holds booleans ('" << a.descr << "'); expected an integer index array");
  std::vector<int64_t> out(size_t(a.numel));
  if (a.kind == 'f') {
    std::vector<double> v(size_t(a.numel));
    decode(a, v.data());
    for (int64_t i = 0; i < a.numel; ++i) {
      const double x = v[size_t(i)];
      RECUR_CHECK(std::isfinite(x) && x == std::trunc(x) && x >= -0x1p63 && x < 0x1p63,
                  ctx << " holds " << std::setprecision(17) << x << " at flat index " << i << " ('"
                      << a.descr << "'); expected integer values for an index array");
      out[size_t(i)] = int64_t(x);
    }
  } else if (a.kind == 'u' && a.size == 8) {
    for (int64_t i = 0; i < a.numel; ++i) {
      const uint64_t x = detail::load_le<uint64_t>(a.data + 8 * i);
      RECUR_CHECK(x <= uint64_t(INT64_MAX),
                  ctx << " holds " << x << " at flat index " << i << ", beyond the int64 range");
      out[size_t(i)] = int64_t(x);
    }
  } else {
    decode(a, out.data());
  }
  return out;
}

template <class T>
void save_npy(const std::string& path, const Tensor<T>& x) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  const std::string ctx = "cannot save .npy file '" + path + "'";
  for (int64_t d : x.shape)
    RECUR_CHECK(d >= 0, ctx << ": shape " << x.shape_string() << " has a negative dimension");
  RECUR_CHECK(x.numel() == shape_numel(x.shape), ctx << ": tensor holds " << x.numel()
                                                     << " values but shape " << x.shape_string()
                                                     << " needs " << shape_numel(x.shape));
  const std::string dict = std::string("{'descr': '") + (std::is_same_v<T, float> ? "<f4" : "<f8") +
                           "', 'fortran_order': False, 'shape': " + shape_str(x.shape) + ", }";
  // Version 1.0 stores the header length in 16 bits; only a huge rank needs 2.0's 32 bits.
  const int major = dict.size() + 64 < 65535 ? 1 : 2;
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (preamble + dict.size() + 1) % 64) % 64, ' ');
  header += '\n';

  std::string out = kMagic;
  out += char(major);
  out += char(0);
  const uint32_t len = uint32_t(header.size());
  out.append(reinterpret_cast<const char*>(&len), preamble - 8);  // Little-endian u16 or u32.
  out += header;
  out.append(reinterpret_cast<const char*>(x.ptr()), size_t(x.numel()) * sizeof(T));
  write_file_atomic(path, out);
}

template Tensor<float> load_npy<float>(const std::string&);
template Tensor<double> load_npy<double>(const std::string&);
template void save_npy<float>(const std::string&, const Tensor<float>&);
template void save_npy<double>(const std::string&, const Tensor<double>&);

}  // namespace recur
