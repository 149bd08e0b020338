// What the trainers share about the files of a run: the model path's stem (metrics, plot and
// checkpoint sit beside the model), making the output directory before any work, and numbers
// written into checkpoint metadata; and the settings a run depends on (checked on --resume).
#pragma once

#include <cstdint>
#include <map>
#include <string>

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

// The settings a run depends on that the trainers share (checked on --resume): the
// training data's fingerprint, the model's configuration (its metadata, joined), the optimisation
// (batch, optimizer, lr, momentum, weight decay, clip, lr schedule) and the seed. The trainer adds
// its own (vocabulary caps, init, ...).
template <class Config>
std::map<std::string, std::string> run_settings(const Config& cfg, const std::string& data_fingerprint,
                                                const std::map<std::string, std::string>& model_meta) {
  std::string model;
  for (const auto& [k, v] : model_meta)  // rnn_spec is derived from the other keys (for people),
    if (!k.ends_with("rnn_spec")) model += k + "=" + v + ";";  // and checkpoints predate it
  const OptimizerConfig& o = cfg.optimizer;
  return {{"data", data_fingerprint},
          {"model", model},
          {"batch", std::to_string(cfg.batch)},
          {"optimizer", optimizer_kind_name(o.kind)},
          {"lr", exact_decimal(o.lr)},
          {"momentum", exact_decimal(o.momentum)},
          {"weight-decay", exact_decimal(o.weight_decay)},
          {"clip", exact_decimal(cfg.clip)},
          {"lr-schedule",
           cfg.cosine_schedule ? "cosine to " + exact_decimal(cfg.lr_min_factor) : "constant"},
          {"seed", std::to_string(cfg.seed)}};
}

}  // namespace recur
