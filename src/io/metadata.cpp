// Typed reads of safetensors metadata, with errors naming the model and the key.
#include "recur/io/metadata.h"

#include <cmath>
#include <sstream>

#include "recur/core/error.h"

namespace recur {

const std::string& metadata_string(const Metadata& m, const std::string& key, const char* what) {
  auto it = m.find(key);
  RECUR_CHECK(it != m.end(), what << " metadata has no '" << key << "'");
  return it->second;
}

int64_t metadata_int(const Metadata& m, const std::string& key, const char* what) {
  const std::string& v = metadata_string(m, key, what);
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used == v.size()) return int64_t(x);
  } catch (const std::logic_error&) {
  }
  RECUR_FAIL(what << " metadata '" << key << "' = '" << v << "' is not an integer");
}

bool metadata_bool(const Metadata& m, const std::string& key, const char* what) {
  auto it = m.find(key);
  if (it == m.end()) return false;
  RECUR_CHECK(it->second == "true" || it->second == "false",
              what << " metadata '" << key << "' = '" << it->second << "' is not true/false");
  return it->second == "true";
}

double metadata_double(const Metadata& m, const std::string& key, const char* what) {
  const std::string& v = metadata_string(m, key, what);
  try {
    size_t used = 0;
    const double x = std::stod(v, &used);
    if (used == v.size() && std::isfinite(x)) return x;
  } catch (const std::logic_error&) {
  }
  RECUR_FAIL(what << " metadata '" << key << "' = '" << v << "' is not a finite number");
}

std::string exact_double(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

}  // namespace recur
