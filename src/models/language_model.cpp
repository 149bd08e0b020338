// LanguageModel: saving and loading with its vocabulary, evaluation and sampling.
#include "recur/models/language_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "recur/data/streams.h"
#include "recur/dist/communicator.h"
#include "recur/io/safetensors.h"
#include "recur/models/named_tensors.h"
#include "recur/models/sequence_stream.h"
#include "recur/nn/sampling.h"

namespace recur {

std::map<std::string, std::string> language_model_metadata(const LanguageModel& lm) {
  auto meta = lm.net.config.to_metadata();
  for (auto& [k, v] : lm.vocab.to_metadata()) meta[k] = v;
  meta["task"] = "lm";
  if (lm.right_to_left) meta["order"] = "right_to_left";
  return meta;
}

std::vector<int64_t> encode_in_model_order(const LanguageModel& lm, const std::string& text,
                                           const std::string& what) {
  std::vector<int64_t> ids = lm.vocab.encode(text, what);
  if (lm.right_to_left) std::reverse(ids.begin(), ids.end());
  return ids;
}

std::string decode_in_reading_order(const LanguageModel& lm, std::vector<int64_t> ids) {
  if (lm.right_to_left) std::reverse(ids.begin(), ids.end());
  return lm.vocab.decode(ids);
}

void require_left_to_right(const LanguageModel& lm, const std::string& path, const char* user) {
  RECUR_CHECK(!lm.right_to_left, path << ": a right-to-left language model (train-lm --right-to-left), which "
                                      << user << " does not take: it feeds tokens left to right; use "
                                                 "sample and eval-lm, which read such a model backwards");
}

void save_language_model(const std::string& path, const LanguageModel& lm,
                         const std::map<std::string, std::string>& extra) {
  auto meta = language_model_metadata(lm);
  for (auto& [k, v] : extra) meta[k] = v;
  save_safetensors(path, lm.net.state_dict(), meta);
}

LanguageModel load_language_model(const std::string& path) {
  const Safetensors<float> st = load_safetensors<float>(path);
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "lm",
              path << ": not a recur language model (its metadata has no task = lm); train one "
                      "with `recur train-lm`");
  LanguageModel lm;
  lm.vocab = Vocab::from_metadata(st.metadata, path);
  const auto order = st.metadata.find("order");  // files before the key read left to right
  RECUR_CHECK(order == st.metadata.end() || order->second == "right_to_left" || order->second == "left_to_right",
              path << ": metadata 'order' is '" << order->second << "'; expected left_to_right or right_to_left");
  lm.right_to_left = order != st.metadata.end() && order->second == "right_to_left";
  SequenceModelConfig cfg;
  try {
    cfg = SequenceModelConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  RECUR_CHECK(cfg.vocab == lm.vocab.size() && cfg.outputs == lm.vocab.size(),
              path << ": the network has " << cfg.vocab << " inputs and " << cfg.outputs
                   << " outputs but the vocabulary " << lm.vocab.size() << " tokens");
  check_parameter_count(parameter_count(cfg), st.tensors, path);
  lm.net = SequenceModel<float>(cfg);
  lm.net.load_state_dict(st.tensors, path);
  return lm;
}

double LmEvaluation::bits_per_token() const { return nats_per_token / std::log(2.0); }
double LmEvaluation::perplexity() const { return std::exp(nats_per_token); }

LmEvaluation evaluate_language_model(const SequenceModel<float>& net, const std::vector<int64_t>& ids,
                                     int64_t seq_len, int64_t streams, Precision precision,
                                     int rank, int ranks) {
  RECUR_CHECK(ids.size() >= 2, "evaluation needs at least 2 tokens, got " << ids.size());
  streams = std::clamp<int64_t>(streams, 1, int64_t(ids.size() - 1));
  const int64_t piece = int64_t(ids.size() - 1) / streams;  // targets per stream
  const dist::Range mine = dist::share(streams, rank, ranks);
  LmEvaluation ev;
  if (mine.size() == 0) return ev;
  double nats = 0;
  RnnState<float> state;
  std::vector<int64_t> x, y;
  RnnPacks packs;  // the weights are fixed for the pass: pack each layer once
  for (int64_t pos = 0; pos < piece; pos += seq_len) {
    const int64_t T = std::min(seq_len, piece - pos);
    stream_window(x, y, ids, piece, pos, T, mine.size(), mine.begin);
    int64_t n = 0;
    const double loss = sequence_model_window<float>(net, nullptr, x, y, T, mine.size(), state,
                                                     RnnRunOptions{false, nullptr, precision}.with_packs(&packs),
                                                     &n);
    nats += loss * double(n);
    ev.tokens += n;
  }
  ev.nats_per_token = nats / double(ev.tokens);
  return ev;
}

std::vector<int64_t> sample_language_model(const SequenceModel<float>& net,
                                           const std::vector<int64_t>& prime,
                                           const SampleOptions& opt, Rng& rng,
                                           const std::function<bool(int64_t)>& on_token) {
  RECUR_CHECK(!prime.empty(), "sampling needs at least one priming token");
  RECUR_CHECK(opt.temperature > 0, "temperature must be positive, got " << opt.temperature);
  RECUR_CHECK(opt.top_k >= 0, "top-k must be >= 0, got " << opt.top_k);
  const int64_t V = net.config.outputs;
  SequenceModelStream stream(net);
  const float* logits = nullptr;
  for (int64_t id : prime) {
    RECUR_CHECK(id >= 0 && id < net.config.vocab, "priming token id " << id << " is out of range");
    logits = stream.feed(id);
  }
  std::vector<int64_t> out;
  for (int64_t i = 0; i < opt.length; ++i) {
    const int64_t pick = sample_from_logits(logits, V, opt.temperature, opt.top_k, rng);
    out.push_back(pick);
    if (on_token && !on_token(pick)) break;
    if (i + 1 < opt.length) logits = stream.feed(pick);
  }
  return out;
}

}  // namespace recur
