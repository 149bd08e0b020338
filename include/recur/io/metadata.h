// Reading a model's configuration back from safetensors __metadata__ (string -> string): a required
// string, a whole integer, a boolean, a number. `what` names the model in errors: "<what> metadata has no
// 'k'", "<what> metadata 'k' = 'v' is not an integer".
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace recur {

using Metadata = std::map<std::string, std::string>;

const std::string& metadata_string(const Metadata& m, const std::string& key, const char* what);
// The whole value must be an integer ("12", not "12x").
int64_t metadata_int(const Metadata& m, const std::string& key, const char* what);
// "true" or "false"; a missing key reads as false.
bool metadata_bool(const Metadata& m, const std::string& key, const char* what);
// A finite decimal number, the whole value ("0.25", not "0.25x").
double metadata_double(const Metadata& m, const std::string& key, const char* what);
// A double written with 17 significant digits, so metadata_double reads it back exactly.
std::string exact_double(double v);

}  // namespace recur
