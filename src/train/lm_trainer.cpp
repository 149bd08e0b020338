// Character-level language-model training: data streams, the training loop, validation, sampling.
#include "recur/train/lm_trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "recur/io/file.h"
#include "recur/io/safetensors.h"
#include "recur/nn/loss.h"
#include "recur/train/clip.h"

namespace recur {

CharVocab::CharVocab(const std::string& text) {
  bool seen[256] = {};
  for (unsigned char ch : text) seen[ch] = true;
  for (int b = 0; b < 256; ++b)
    if (seen[b]) symbols.push_back((unsigned char)b);
  index();
}

CharVocab CharVocab::from_symbols(const std::vector<unsigned char>& symbols) {
  CharVocab v;
  v.symbols = symbols;
  v.index();
  return v;
}

void CharVocab::index() {
  for (auto& x : id_of) x = -1;
  for (size_t i = 0; i < symbols.size(); ++i) id_of[symbols[i]] = int64_t(i);
}

std::vector<int64_t> CharVocab::encode(const std::string& text, const std::string& source) const {
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    ids[i] = id_of[(unsigned char)text[i]];
    RECUR_CHECK(ids[i] >= 0, source << ": byte " << int((unsigned char)text[i]) << " at offset " << i
                                    << " is not in the model's vocabulary");
  }
  return ids;
}

void LmTrainConfig::validate() const {
  RECUR_CHECK(!text_path.empty(), "--text is required");
  RECUR_CHECK(seq_len > 0 && batch > 0 && steps > 0 && embed > 0,
              "seq-len, batch, steps and embed must be positive");
  RECUR_CHECK(val_fraction > 0 && val_fraction < 0.5, "--val-fraction must be in (0, 0.5), got "
                                                          << val_fraction);
  RECUR_CHECK(clip >= 0, "--clip must be >= 0, got " << clip);
  RECUR_CHECK(temperature > 0, "--temperature must be positive, got " << temperature);
  optimizer.validate();
}

namespace {

// B contiguous streams over `ids`; window w of stream b covers ids[start_b + w*T ... + T] (+1 for
// the target). When a stream runs out, every stream wraps to its start and the state is reset.
struct Streams {
  const std::vector<int64_t>* ids;
  int64_t B, T, stream_len, pos = 0;
  Streams(const std::vector<int64_t>& data, int64_t batch, int64_t seq)
      : ids(&data), B(batch), T(seq), stream_len(int64_t(data.size()) / batch) {}
  // Fills a time-major window; returns false (and rewinds) when the streams are exhausted.
  bool next(std::vector<int64_t>& x, std::vector<int64_t>& y) {
    if (pos + T + 1 > stream_len) {
      pos = 0;
      return false;
    }
    x.resize(size_t(T * B));
    y.resize(size_t(T * B));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b) {
        const int64_t i = b * stream_len + pos + t;
        x[size_t(t * B + b)] = (*ids)[size_t(i)];
        y[size_t(t * B + b)] = (*ids)[size_t(i + 1)];
      }
    pos += T;
    return true;
  }
};

std::string format_seconds(double s) {
  char buf[32];
  if (s >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

}  // namespace

double evaluate_char_lm(const SequenceModel<float>& model, const std::vector<int64_t>& ids,
                        int64_t seq_len, int64_t streams, int64_t* scored) {
  streams = std::max<int64_t>(1, std::min<int64_t>(streams, int64_t(ids.size()) / (seq_len + 1)));
  Streams s(ids, streams, seq_len);
  std::vector<int64_t> x, y;
  RnnState<float> state;
  double nats = 0;
  int64_t count = 0;
  while (s.next(x, y)) {
    int64_t n = 0;
    const double loss = sequence_model_window<float>(model, nullptr, x, y, seq_len, streams, state, {}, &n);
    nats += loss * double(n);
    count += n;
  }
  RECUR_CHECK(count > 0, "validation text is too short for one window of " << seq_len + 1 << " characters");
  if (scored) *scored = count;
  return nats / double(count);
}

std::string sample_char_lm(const SequenceModel<float>& model, const CharVocab& vocab,
                           const std::string& prime, int64_t length, double temperature, Rng& rng) {
  RECUR_CHECK(!prime.empty(), "sampling needs at least one priming character");
  const std::vector<int64_t> ids = vocab.encode(prime, "prime text");
  RnnState<float> state;
  Tensor<float> logits;
  for (int64_t id : ids) sequence_model_step(logits, model, {id}, state);
  std::string out;
  const int64_t V = vocab.size();
  std::vector<double> p(static_cast<size_t>(V));
  for (int64_t i = 0; i < length; ++i) {
    double mx = -1e300, total = 0;
    for (int64_t v = 0; v < V; ++v) mx = std::max(mx, double(logits[v]) / temperature);
    for (int64_t v = 0; v < V; ++v) total += p[size_t(v)] = std::exp(double(logits[v]) / temperature - mx);
    double r = rng.uniform() * total;
    int64_t pick = V - 1;
    for (int64_t v = 0; v < V; ++v)
      if ((r -= p[size_t(v)]) < 0) {
        pick = v;
        break;
      }
    out += char(vocab.symbols[size_t(pick)]);
    sequence_model_step(logits, model, {pick}, state);
  }
  return out;
}

LmTrainResult train_char_lm(const LmTrainConfig& cfg_in, std::ostream& log) {
  LmTrainConfig cfg = cfg_in;
  cfg.validate();
  const std::string text = read_file_bytes(cfg.text_path);
  RECUR_CHECK(!text.empty(), "'" << cfg.text_path << "' is empty; expected text to train on");
  const CharVocab vocab(text);
  const std::vector<int64_t> all = vocab.encode(text, cfg.text_path);
  const size_t n_val = size_t(double(all.size()) * cfg.val_fraction);
  const std::vector<int64_t> train(all.begin(), all.end() - int64_t(n_val));
  std::vector<int64_t> val(all.end() - int64_t(n_val), all.end());
  if (int64_t(val.size()) > cfg.max_val_chars) val.resize(size_t(cfg.max_val_chars));
  RECUR_CHECK(int64_t(train.size()) / cfg.batch > cfg.seq_len + 1,
              "'" << cfg.text_path << "' has " << train.size() << " training characters: too few for "
                  << cfg.batch << " streams of at least " << cfg.seq_len + 1);

  SequenceModelConfig mc;
  mc.vocab = mc.outputs = vocab.size();
  mc.embed = cfg.embed;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = cfg.embed;
  Rng rng(cfg.seed);
  SequenceModel<float> model(mc);
  init_sequence_model(model, rng, cfg.init);
  SequenceModel<float> grads(mc);
  auto params = param_list(model, grads);
  Optimizer<float> opt(cfg.optimizer);

  log << "train-lm: " << cfg.text_path << ": " << train.size() << " training and " << val.size()
      << " validation characters (the last " << cfg.val_fraction * 100 << "%), vocabulary "
      << vocab.size() << "\n"
      << "train-lm: " << cell_name(mc.rnn.cell) << " " << mc.rnn.num_layers << "x"
      << mc.rnn.hidden_size << ", embedding " << mc.embed << ", " << cfg.batch << " streams x "
      << cfg.seq_len << " steps, " << cfg.steps << " updates\n";
  Streams streams(train, cfg.batch, cfg.seq_len);
  std::vector<int64_t> x, y;
  RnnState<float> state;
  LmTrainResult res;
  const auto t0 = std::chrono::steady_clock::now();
  double interval_loss = 0;
  int64_t interval_steps = 0;
  for (int64_t step = 1; step <= cfg.steps; ++step) {
    if (!streams.next(x, y)) {  // an epoch ended: start the streams and the state afresh
      state = RnnState<float>{};
      streams.next(x, y);
    }
    zero_grads(params);
    RnnRunOptions ro{true, &rng};
    const float loss = sequence_model_window(model, &grads, x, y, cfg.seq_len, cfg.batch, state, ro);
    RECUR_CHECK(std::isfinite(loss), "training loss became " << loss << " at step " << step
                                                               << "; try a lower --lr or --clip");
    if (cfg.clip > 0) clip_grad_norm(params, float(cfg.clip));
    opt.step(params);
    interval_loss += loss;
    ++interval_steps;
    res.tokens_trained += cfg.seq_len * cfg.batch;
    if (step % cfg.log_every == 0 || step == cfg.steps) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      res.train_loss = interval_loss / double(interval_steps);
      char line[200];
      std::snprintf(line, sizeof line,
                    "step %lld/%lld  loss %.3f nats (%.3f bpc)  %.0f chars/s  elapsed %s  eta %s\n",
                    (long long)step, (long long)cfg.steps, res.train_loss,
                    res.train_loss / std::log(2.0), double(res.tokens_trained) / secs,
                    format_seconds(secs).c_str(),
                    format_seconds(secs / double(step) * double(cfg.steps - step)).c_str());
      log << line << std::flush;
      interval_loss = 0;
      interval_steps = 0;
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double nats = evaluate_char_lm(model, val, cfg.seq_len, cfg.batch, &res.val_chars);
  res.val_bpc = nats / std::log(2.0);
  res.val_perplexity = std::exp(nats);
  res.sample = sample_char_lm(model, vocab, "\n", cfg.sample_length, cfg.temperature, rng);

  auto meta = mc.to_metadata();
  std::string syms;
  for (unsigned char ch : vocab.symbols) syms += (syms.empty() ? "" : ",") + std::to_string(int(ch));
  meta["vocab_bytes"] = syms;
  meta["task"] = "char_lm";
  if (!cfg.out_path.empty()) save_safetensors(cfg.out_path, model.state_dict(), meta);
  return res;
}

}  // namespace recur
