// What the trainers share about the files of a run: the model path's stem (metrics, plot and
// checkpoint sit beside the model), making the output directory before any work, and numbers
// written into checkpoint metadata.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace recur {

// The output path without its .safetensors extension.
std::string output_stem(const std::string& model_path);
// The files every trainer writes beside the model: <stem>.metrics.jsonl, <stem>.svg (the curves),
// <stem>.ckpt.safetensors.
std::string metrics_path_for(const std::string& model_path);
std::string plot_path_for(const std::string& model_path);
std::string checkpoint_path_for(const std::string& model_path);
// Creates the directory the model will be written to (error naming it when that fails).
void make_output_directory(const std::string& model_path);
// "%.17g": reads back to the same double; for settings compared on resume.
std::string exact_decimal(double v);
// "%a": the exact bits, for counters that must resume bit for bit.
std::string exact_hex(double v);

}  // namespace recur
