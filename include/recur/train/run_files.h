// What the trainers share about the files of a run: the model path's stem (metrics, plot and
// checkpoint sit beside the model), making the output directory before any work, and numbers
// written into checkpoint metadata; and the parts of a checkpoint and of the metrics file that
// every trainer handles alike.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "recur/core/rng.h"
#include "recur/train/checkpoint.h"
#include "recur/train/optimizer.h"

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

// Resuming: the checkpoint at `path`, its settings checked against this run's (`may_change` names
// what a resumed run may change, for the message), the optimizer state and the RNG restored from
// it. The caller reads the model, its counters and the early-stopping state from what it returns.
Checkpoint resume_checkpoint(const std::string& path,
                             const std::map<std::string, std::string>& settings,
                             const std::string& may_change, Optimizer<float>& opt, Rng& rng);
// A checkpoint holding what every trainer keeps in it: the optimizer state, the run's settings and
// the RNG. The caller adds the model, its counters and the early-stopping state.
Checkpoint run_checkpoint(const Optimizer<float>& opt,
                          const std::map<std::string, std::string>& settings, const Rng& rng);
// The metrics file as a run starts (the root rank's job): a fresh run removes an old one, a resumed
// run keeps its records up to the step it resumes at.
void start_metrics(const std::string& path, bool resumed, int64_t step);

}  // namespace recur
