// Training checkpoints: everything a run needs to continue bit for bit (model, optimizer state, the
// RNG, the carried recurrent state, data position, counters), in one safetensors file written
// atomically, so a crash or Ctrl-C leaves either the previous checkpoint or the new one, never half.
//
// Layout: tensors "model.<name>", "optim.<name>", "state.<name>", "best.<name>" (the best weights
// so far, recur/train/early_stopping.h); metadata holds the run's
// hyper-parameters ("hp.<key>"), counters ("run.<key>"), the RNG ("rng") and whatever the trainer adds.
#pragma once

#include <map>
#include <string>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

struct Checkpoint {
  std::map<std::string, Tensor<float>> model, optimizer, state, best;
  std::map<std::string, std::string> metadata;
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
Checkpoint load_checkpoint(const std::string& path);

// The RNG's full state as text (hex words, the cached normal as an exact hex float) and back.
std::string encode_rng_state(const Rng::State& s);
Rng::State decode_rng_state(const std::string& text, const std::string& source);

// Reads metadata key `key` of checkpoint `source` as the given type, with a clear error.
// The run's settings ("hp.<key>" = value) written into every checkpoint, and the check on resume:
// any setting that differs is an error listing each one (checkpoint value, this run's value);
// `may_change` names what a resumed run may change, for the message.
void set_checkpoint_settings(Checkpoint& c, const std::map<std::string, std::string>& settings);
void check_checkpoint_settings(const Checkpoint& c, const std::map<std::string, std::string>& settings,
                               const std::string& source, const std::string& may_change);

std::string checkpoint_get(const Checkpoint& c, const std::string& key, const std::string& source);
int64_t checkpoint_get_int(const Checkpoint& c, const std::string& key, const std::string& source);
double checkpoint_get_double(const Checkpoint& c, const std::string& key, const std::string& source);

}  // namespace recur
