#include "recur/train/run_files.h"

#include <cstdio>
#include <filesystem>

#include "recur/core/error.h"
#include "recur/io/metrics.h"

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

Checkpoint resume_checkpoint(const std::string& path,
                             const std::map<std::string, std::string>& settings,
                             const std::string& may_change, Optimizer<float>& opt, Rng& rng) {
  Checkpoint ck = load_checkpoint(path);
  check_checkpoint_settings(ck, settings, path, may_change);
  opt.import_state(ck.optimizer);
  rng.set_state(decode_rng_state(checkpoint_get(ck, "rng", path), path));
  return ck;
}

Checkpoint run_checkpoint(const Optimizer<float>& opt,
                          const std::map<std::string, std::string>& settings, const Rng& rng) {
  Checkpoint ck;
  ck.optimizer = opt.export_state();
  set_checkpoint_settings(ck, settings);
  ck.metadata["rng"] = encode_rng_state(rng.state());
  return ck;
}

void start_metrics(const std::string& path, bool resumed, int64_t step) {
  if (!resumed)
    std::filesystem::remove(path);
  else if (std::filesystem::exists(path))
    truncate_metrics_after(path, step);
}

}  // namespace recur
