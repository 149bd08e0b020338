// Fuzzes the loaders of safetensors files with recur metadata: the training checkpoint (with the
// RNG state and typed metadata reads a resume makes) and every model file: language model,
// classifier, tagger, forecaster, seq2seq, conditional LM, ESN, and `recur serve`'s Service::load.
// A configuration claiming sizes the file does not hold (a vocabulary of 10^9) must be an error,
// not an allocation.
#include <cstdio>
#include <cstdlib>

#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/io/safetensors.h"
#include "recur/models/named_tensors.h"
#include "recur/models/classifier_model.h"
#include "recur/models/esn.h"
#include "recur/models/forecaster_model.h"
#include "recur/models/language_model.h"
#include "recur/models/seq2seq_model.h"
#include "recur/models/tagger_model.h"
#include "recur/serve/service.h"
#include "recur/train/checkpoint.h"
#include "recur/train/clm_trainer.h"

namespace {

using recur::fuzz::guarded;

// parameter_count(config) must be exactly what the loaded network holds: the loaders refuse a
// file before building its network when the count exceeds the file's tensors.
template <class Config, class Net>
void check_count(const Config& cfg, const Net& net) {
  double held = 0;
  for (const auto& [name, t] : net.state_dict()) held += double(t.numel());
  if (recur::parameter_count(cfg) != held) {
    std::fprintf(stderr, "checkpoint_fuzz: parameter_count %.17g, the network holds %.17g\n",
                 recur::parameter_count(cfg), held);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("model.safetensors", data, size);
  // Every loader starts with load_safetensors (the safetensors target fuzzes it on its own): a file
  // it refuses is refused by all of them, so the rest only runs on well-formed files, each loader
  // on the task the file names (and the checkpoint loader always).
  recur::Safetensors<float> st;
  try {
    st = recur::load_safetensors<float>(path);
  } catch (const recur::Error&) {
    return 0;
  }
  guarded([&] {
    const recur::Checkpoint c = recur::load_checkpoint(path);
    guarded([&] { recur::decode_rng_state(recur::checkpoint_get(c, "rng", path), path); });
    guarded([&] { recur::checkpoint_get_int(c, "run.step", path); });
    guarded([&] { recur::checkpoint_get_double(c, "run.seconds", path); });
    guarded([&] { recur::check_checkpoint_settings(c, {{"cell", "lstm"}}, path, "--steps"); });
  });
  const auto it = st.metadata.find("task");
  const std::string task = it == st.metadata.end() ? "" : it->second;
  if (task == "lm")
    guarded([&] {
      const auto m = recur::load_language_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "classify")
    guarded([&] {
      const auto m = recur::load_classifier_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "tag")
    guarded([&] {
      const auto m = recur::load_tagger_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "forecast")
    guarded([&] {
      const auto m = recur::load_forecaster_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "seq2seq")
    guarded([&] {
      const auto m = recur::load_seq2seq_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "conditional-lm")
    guarded([&] {
      const auto m = recur::load_conditional_text_model(path);
      check_count(m.net.config, m.net);
    });
  if (task == "esn") guarded([&] { recur::load_esn(path); });
  if (task == "lm" || task == "classify" || task == "tag" || task == "seq2seq" ||
      task == "forecast" || task.empty())
    guarded([&] {
      const auto svc = recur::serve::Service::load(path);
      svc->describe();
    });
  return 0;
}
