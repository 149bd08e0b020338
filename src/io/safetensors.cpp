// Safetensors load/save: the JSON header is parsed with nlohmann::json and every field validated.
#include "recur/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <vector>

#include "recur/io/file.h"
#include "recur/version.h"

namespace recur {
namespace {

using nlohmann::json;

struct DtypeInfo {
  const char* name;
  uint64_t size;
};
constexpr DtypeInfo kDtypes[] = {{"F32", 4},  {"F64", 8}, {"F16", 2},
                                 {"BF16", 2}, {"I32", 4}, {"I64", 8}};
constexpr const char* kDtypeList = "F32, F64, F16, BF16, I32, I64";

// One validated header entry.
struct Entry {
  std::string name, dtype;
  uint64_t elem_size = 0;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// A JSON value shortened for an error message.
std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

uint64_t to_u64(const json& v, const std::string& ctx, const char* what) {
  RECUR_CHECK(v.is_number_integer(),
              ctx << ": " << what << " must be an integer, got " << brief(v));
  RECUR_CHECK(v.is_number_unsigned() || v.get<int64_t>() >= 0,
              ctx << ": " << what << " is negative (" << brief(v) << ")");
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const json& j,
                  uint64_t data_size) {
  const std::string ctx = "safetensors file '" + path + "', tensor '" + name + "'";
  RECUR_CHECK(j.is_object(), ctx << ": entry must be an object with \"dtype\", \"shape\" and "
                                    "\"data_offsets\", got "
                                 << brief(j));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    RECUR_CHECK(j.contains(key), ctx << ": entry is missing \"" << key << "\"");

  Entry e;
  e.name = name;
  const json& dt = j.at("dtype");
  RECUR_CHECK(dt.is_string(), ctx << ": \"dtype\" must be a string, got " << brief(dt));
  e.dtype = dt.get<std::string>();
  for (const DtypeInfo& d : kDtypes)
    if (e.dtype == d.name) e.elem_size = d.size;
  RECUR_CHECK(e.elem_size > 0,
              ctx << ": unsupported dtype '" << e.dtype << "'; expected one of " << kDtypeList);

  const json& sh = j.at("shape");
  RECUR_CHECK(sh.is_array(), ctx << ": \"shape\" must be an array of integers, got " << brief(sh));
  uint64_t numel = 1;
  for (const json& d : sh) {
    const uint64_t n = to_u64(d, ctx, "shape dimension");
    RECUR_CHECK(!__builtin_mul_overflow(numel, n, &numel) && numel <= uint64_t(INT64_MAX),
                ctx << ": shape " << brief(sh) << " has too many elements");
    e.shape.push_back(int64_t(n));
  }

  const json& off = j.at("data_offsets");
  RECUR_CHECK(off.is_array() && off.size() == 2,
              ctx << ": \"data_offsets\" must be an array [begin, end], got " << brief(off));
  e.begin = to_u64(off[0], ctx, "data_offsets begin");
  e.end = to_u64(off[1], ctx, "data_offsets end");
  RECUR_CHECK(e.begin <= e.end,
              ctx << ": data_offsets [" << e.begin << ", " << e.end << "] have begin > end");
  RECUR_CHECK(e.end <= data_size, ctx << ": data_offsets [" << e.begin << ", " << e.end
                                      << "] run past the " << data_size << "-byte data buffer");
  uint64_t need = 0;
  RECUR_CHECK(!__builtin_mul_overflow(numel, e.elem_size, &need) && need == e.end - e.begin,
              ctx << ": data_offsets [" << e.begin << ", " << e.end << "] hold " << e.end - e.begin
                  << " bytes but shape " << shape_str(e.shape) << " of " << e.dtype << " needs "
                  << numel << " x " << e.elem_size << " bytes");
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& m) {
  const std::string ctx = "safetensors file '" + path + "'";
  std::map<std::string, std::string> out;
  if (m.is_null()) return out;
  RECUR_CHECK(m.is_object(),
              ctx << ": \"__metadata__\" must be an object of strings, got " << brief(m));
  for (auto it = m.begin(); it != m.end(); ++it) {
    RECUR_CHECK(it.value().is_string(), ctx << ": metadata value for '" << it.key()
                                            << "' must be a string, got " << brief(it.value()));
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

// Throws if two tensors share bytes. Empty tensors occupy nothing and never overlap.
void check_no_overlap(const std::string& path, const std::vector<Entry>& entries) {
  std::vector<const Entry*> order;
  for (const Entry& e : entries)
    if (e.begin < e.end) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  const Entry* reach = nullptr;  // The entry reaching furthest among those seen.
  for (const Entry* e : order) {
    RECUR_CHECK(!reach || e->begin >= reach->end,
                "safetensors file '" << path << "': tensors '" << reach->name << "' ["
                                     << reach->begin << ", " << reach->end << ") and '" << e->name
                                     << "' [" << e->begin << ", " << e->end
                                     << ") overlap in the data buffer");
    if (!reach || e->end > reach->end) reach = e;
  }
}

template <class Src, class T>
void copy_as(const char* p, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = T(detail::load_le<Src>(p + i * int64_t(sizeof(Src))));
}

template <class T>
void decode(const std::string& dtype, const char* p, int64_t n, T* out) {
  if (dtype == "F32") return copy_as<float>(p, n, out);
  if (dtype == "F64") return copy_as<double>(p, n, out);
  if (dtype == "I32") return copy_as<int32_t>(p, n, out);
  if (dtype == "I64") return copy_as<int64_t>(p, n, out);
  const bool bf = dtype == "BF16";
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = detail::load_le<uint16_t>(p + 2 * i);
    out[i] = T(bf ? detail::bf16_to_float(h) : detail::f16_to_float(h));
  }
}

// "a, b, c", or "no tensors".
template <class T>
std::string names_of(const std::map<std::string, Tensor<T>>& tensors) {
  std::string names;
  for (const auto& [k, v] : tensors) names += (names.empty() ? "" : ", ") + k;
  return names.empty() ? "no tensors" : names;
}

// A file that is not safetensors but a torch.save file (a zip archive, or a pickle before PyTorch
// 1.6) gets its own error naming the conversion, instead of a nonsense header length.
void check_not_torch_save(const std::string& bytes, const std::string& ctx, const std::string& path) {
  const bool zip = bytes.compare(0, 4, "PK\x03\x04") == 0;
  const bool pickle = bytes.size() >= 2 && uint8_t(bytes[0]) == 0x80 && uint8_t(bytes[1]) >= 2 && uint8_t(bytes[1]) <= 5;
  RECUR_CHECK(!zip && !pickle,
              ctx << " is a PyTorch torch.save file (" << (zip ? "a zip archive" : "a pickle")
                  << "), not safetensors; convert it in Python: import recur, torch; "
                     "recur.save_state_dict(torch.load('" << path << "'), 'model.safetensors')");
}

}  // namespace

template <class T>
Safetensors<T> load_safetensors(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  const std::string ctx = "safetensors file '" + path + "'";
  RECUR_CHECK(!bytes.empty(),
              ctx << " is empty; expected an 8-byte header length, a JSON header and data");
  RECUR_CHECK(bytes.size() >= 8, ctx << " is only " << bytes.size()
                                     << " bytes, shorter than its 8-byte header length");
  const uint64_t n = detail::load_le<uint64_t>(bytes.data());
  if (n > bytes.size() - 8 || bytes[8] != '{') check_not_torch_save(bytes, ctx, path);
  RECUR_CHECK(n <= bytes.size() - 8, ctx << " declares a " << n << "-byte JSON header but only "
                                         << bytes.size() - 8 << " bytes follow");
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + int64_t(n));
  } catch (const json::exception& e) {
    RECUR_FAIL(ctx << ": header is not valid JSON: " << e.what());
  }
  RECUR_CHECK(header.is_object(), ctx << ": header must be a JSON object, got " << brief(header));

  Safetensors<T> out;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__")
      out.metadata = parse_metadata(path, it.value());
    else
      entries.push_back(parse_entry(path, it.key(), it.value(), bytes.size() - 8 - n));
  }
  check_no_overlap(path, entries);
  const char* data = bytes.data() + 8 + n;
  for (const Entry& e : entries) {
    Tensor<T> t(e.shape);
    decode(e.dtype, data + e.begin, t.numel(), t.ptr());
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

template <class T>
void save_safetensors(const std::string& path, const std::map<std::string, Tensor<T>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  const char* dtype = std::is_same_v<T, float> ? "F32" : "F64";
  const std::string ctx = "cannot save safetensors file '" + path + "'";
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {  // a model's: it also records the version of recur that wrote it
    auto& m = header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    if (!metadata.count("format_version")) m["format_version"] = RECUR_VERSION;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    RECUR_CHECK(name != "__metadata__",
                ctx << ": \"__metadata__\" is reserved and cannot name a tensor");
    for (int64_t d : t.shape)
      RECUR_CHECK(d >= 0, ctx << ": tensor '" << name << "' has a negative dimension in shape "
                              << t.shape_string());
    RECUR_CHECK(t.numel() == shape_numel(t.shape),
                ctx << ": tensor '" << name << "' holds " << t.numel() << " values but shape "
                    << t.shape_string() << " needs " << shape_numel(t.shape));
    const uint64_t size = uint64_t(t.numel()) * sizeof(T);
    header[name] = {
        {"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    RECUR_FAIL(ctx << ": a tensor name or metadata string is not valid UTF-8: " << e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // Data starts 8-byte aligned.

  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out.reserve(8 + n + offset);
  out += text;
  for (const auto& [name, t] : tensors)
    out.append(reinterpret_cast<const char*>(t.ptr()), size_t(t.numel()) * sizeof(T));
  write_file_atomic(path, out);
}

template <class T>
const Tensor<T>& require_tensor(const Safetensors<T>& st, const std::string& name,
                                const std::string& path) {
  const auto it = st.tensors.find(name);
  RECUR_CHECK(it != st.tensors.end(),
              "'" << path << "' has no tensor '" << name << "'; it has: " << names_of(st.tensors));
  return it->second;
}

template Safetensors<float> load_safetensors<float>(const std::string&);
template Safetensors<double> load_safetensors<double>(const std::string&);
template void save_safetensors<float>(const std::string&,
                                      const std::map<std::string, Tensor<float>>&,
                                      const std::map<std::string, std::string>&);
template void save_safetensors<double>(const std::string&,
                                       const std::map<std::string, Tensor<double>>&,
                                       const std::map<std::string, std::string>&);
template const Tensor<float>& require_tensor<float>(const Safetensors<float>&, const std::string&,
                                                    const std::string&);
template const Tensor<double>& require_tensor<double>(const Safetensors<double>&,
                                                      const std::string&, const std::string&);

}  // namespace recur
