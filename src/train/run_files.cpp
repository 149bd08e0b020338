#include "recur/train/run_files.h"

#include <cstdio>
#include <filesystem>

#include "recur/core/error.h"

namespace recur {

std::string output_stem(const std::string& out) {
  const std::string ext = ".safetensors";
  if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0)
    return out.substr(0, out.size() - ext.size());
  return out;
}

std::string metrics_path_for(const std::string& model_path) {
  return output_stem(model_path) + ".metrics.jsonl";
}
std::string plot_path_for(const std::string& model_path) { return output_stem(model_path) + ".svg"; }
std::string checkpoint_path_for(const std::string& model_path) {
  return output_stem(model_path) + ".ckpt.safetensors";
}

void make_output_directory(const std::string& model_path) {
  const std::filesystem::path dir = std::filesystem::path(model_path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  RECUR_CHECK(!ec, "cannot create the output directory '" << dir.string() << "' for --out: "
                                                          << ec.message());
}

std::string exact_decimal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string exact_hex(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

}  // namespace recur
