// Language-model training: data streams, the loop, validation, metrics, checkpoints, resume.
#include "recur/train/lm_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <ostream>

#include "recur/data/streams.h"
#include "recur/dist/data_parallel.h"
#include "recur/io/file.h"
#include "recur/io/metrics.h"
#include "recur/io/svg_plot.h"
#include "recur/layers/rnn_spec.h"
#include "recur/train/checkpoint.h"
#include "recur/train/clip.h"
#include "recur/train/early_stopping.h"
#include "recur/train/nan_guard.h"
#include "recur/train/progress.h"
#include "recur/core/hash.h"
#include "recur/train/run_files.h"

namespace recur {

void LmTrainConfig::validate() const {
  RECUR_CHECK(!text_path.empty(), "a training text file is required (--text)");
  train.validate(TrainSettings::Length::own);
  RECUR_CHECK(seq_len > 0 && embed > 0, "seq-len and embed must be positive");
  RECUR_CHECK(steps >= 0 && epochs >= 0 && time_limit >= 0, "steps, epochs and time must be >= 0");
  RECUR_CHECK(steps > 0 || epochs > 0 || time_limit > 0,
              "say how long to train: --steps, --epochs or --time");
  RECUR_CHECK(val_fraction > 0 && val_fraction < 0.5,
              "--val-fraction must be in (0, 0.5), got " << val_fraction);
  RECUR_CHECK(val_every >= 0 && checkpoint_every >= 0, "intervals must be >= 0");
  RECUR_CHECK(!train.cosine_schedule || steps > 0 || epochs > 0,
              "the cosine schedule needs a known length: give --steps or --epochs, not --time");
  RECUR_CHECK(!rnn.any_bidirectional(),
              "a language model predicts the next token, so its layers read left to right; drop bi "
              "from --rnn");
}

namespace {

using Clock = std::chrono::steady_clock;

// The run's contiguous streams over the training ids (see the header); this process reads B of
// them, from stream `first` (a data-parallel rank's share; all of them on one process).
struct Streams {
  const std::vector<int64_t>& ids;
  int64_t B, first, T, stream_len, pos = 0;
  Streams(const std::vector<int64_t>& data, int64_t streams, int64_t batch, int64_t first_stream,
          int64_t seq)
      : ids(data), B(batch), first(first_stream), T(seq),
        stream_len(int64_t(data.size()) / streams) {}
  int64_t windows_per_epoch() const { return (stream_len - 1) / T; }
  bool next(std::vector<int64_t>& x, std::vector<int64_t>& y) {
    if (pos + T + 1 > stream_len) return false;
    stream_window(x, y, ids, stream_len, pos, T, B, first);
    pos += T;
    return true;
  }
};

// The settings a resumed run must share with the run that wrote the checkpoint.
// (batch: the streams of the whole run, every rank's together, so a run resumes on any number of
// ranks that read as many streams in all.)
std::map<std::string, std::string> hyperparameters(const LmTrainConfig& c, int64_t streams,
                                                   const std::string& text) {
  const OptimizerConfig& o = c.train.optimizer;
  std::map<std::string, std::string> hp = optimisation_settings(c.train);
  hp.insert({{"tokens", token_mode_name(c.tokens)},
             {"max-words", std::to_string(c.max_words)},
             {"val-fraction", exact_decimal(c.val_fraction)},
             {"val-tokens", std::to_string(c.val_tokens)},
             {"cell", cell_name(c.rnn.cell)},
             {"hidden", std::to_string(c.rnn.hidden_size)},
             {"layers", std::to_string(c.rnn.num_layers)},
             {"dropout", exact_decimal(c.rnn.dropout)},
             {"embed", std::to_string(c.embed)},
             {"init", recurrent_init_name(c.init)},
             {"seq-len", std::to_string(c.seq_len)},
             {"nesterov", o.nesterov ? "true" : "false"},
             {"l1", exact_decimal(o.l1)},
             {"text-bytes", std::to_string(text.size())},
             {"precision", precision_name(c.train.precision)},
             {"text-fnv1a", std::to_string(fnv1a64(text))}});
  hp["batch"] = std::to_string(streams);
  // The layer's options beyond cell, size, layers and dropout (peephole, residual, ...), as the
  // spec writes them; absent for the plain cells, as in checkpoints written before the spec.
  RnnConfig plain = c.rnn;
  plain.dropout = 0;
  const std::string layer = format_rnn_spec({{rnn_spec_from_config(plain).layers.front()}});
  const size_t comma = layer.find(',');
  if (comma != std::string::npos) hp["rnn-options"] = layer.substr(comma + 1);
  if (!c.rnn.one_engine_segment()) hp["rnn"] = format_rnn_spec(rnn_spec_from_config(c.rnn));  // the whole stack
  if (c.right_to_left) hp["order"] = "right_to_left";  // absent: left to right, as before the option
  return hp;
}

// Rows [first, first + count) of dimension 1 of a (layers, streams, hidden) state.
Tensor<float> state_rows(const Tensor<float>& full, int64_t first, int64_t count) {
  const int64_t L = full.dim(0), S = full.dim(1), H = full.dim(2);
  RECUR_CHECK(first >= 0 && first + count <= S, "state of " << S << " streams has no streams "
                                                            << first << ".." << first + count - 1);
  Tensor<float> out({L, count, H});
  for (int64_t l = 0; l < L; ++l)
    std::copy_n(full.ptr() + (l * S + first) * H, count * H, out.ptr() + l * count * H);
  return out;
}

// Every rank's (layers, B, hidden) state as one (layers, streams, hidden) tensor, on every rank.
Tensor<float> gather_state_rows(dist::DataParallel& dp, const Tensor<float>& mine, int64_t streams,
                                int64_t first) {
  if (!dp.active()) return mine;
  const int64_t L = mine.dim(0), B = mine.dim(1), H = mine.dim(2);
  Tensor<float> full({L, streams, H});
  for (int64_t l = 0; l < L; ++l)
    std::copy_n(mine.ptr() + l * B * H, B * H, full.ptr() + (l * streams + first) * H);
  dp.comm().allreduce_sum(full.ptr(), full.data.size());
  return full;
}

// The text of a run, split and encoded: the training ids, the whole validation tail (the final
// score) and its first --val-tokens (the periodic checks).
struct LmData {
  std::string text;
  Vocab vocab;
  std::vector<int64_t> train, val, val_periodic;
  const char* noun;  // "characters" or "words"
  const char* unit;  // "bpc" or "bits/word"
};

LmData read_lm_data(const LmTrainConfig& cfg, int64_t all_streams) {
  LmData d;
  d.text = read_file_bytes(cfg.text_path);
  RECUR_CHECK(!d.text.empty(), "'" << cfg.text_path << "' is empty; expected text to train on");
  const size_t nul = d.text.find('\0');
  RECUR_CHECK(nul == std::string::npos, "'" << cfg.text_path << "' holds a NUL byte at offset "
                                            << nul << "; it looks like a binary file, not text");
  const TextSplit split = split_text_tail(d.text, cfg.val_fraction);
  // Characters: the symbol inventory of the whole file (no statistics leak); words: the training
  // part's most frequent words, so validation words can be unknown.
  d.vocab = cfg.tokens == TokenMode::chars
                ? Vocab::build(d.text, cfg.tokens, 0, cfg.text_path)
                : Vocab::build(split.train, cfg.tokens, cfg.max_words, cfg.text_path);
  d.train = d.vocab.encode(split.train, cfg.text_path);
  d.val = d.vocab.encode(split.validation, cfg.text_path);
  if (cfg.right_to_left) {
    std::reverse(d.train.begin(), d.train.end());
    std::reverse(d.val.begin(), d.val.end());
  }
  d.val_periodic = d.val;
  if (cfg.val_tokens > 0 && int64_t(d.val.size()) > cfg.val_tokens)
    d.val_periodic.resize(size_t(cfg.val_tokens));
  d.noun = cfg.tokens == TokenMode::chars ? "characters" : "words";
  d.unit = cfg.tokens == TokenMode::chars ? "bpc" : "bits/word";
  RECUR_CHECK(int64_t(d.train.size()) / all_streams >= cfg.seq_len + 1,
              "'" << cfg.text_path << "' has " << d.train.size() << " training " << d.noun
                  << ": too few for one batch of " << all_streams << " streams x " << cfg.seq_len + 1
                  << " (lower --batch or --seq-len, or give more text)");
  RECUR_CHECK(d.val.size() >= 2, "'" << cfg.text_path << "': the validation tail holds "
                                     << d.val.size() << " " << d.noun
                                     << "; raise --val-fraction or give more text");
  return d;
}

SequenceModelConfig lm_model_config(const LmTrainConfig& cfg, const Vocab& vocab) {
  SequenceModelConfig mc;
  mc.vocab = mc.outputs = vocab.size();
  mc.embed = cfg.embed;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = cfg.embed;
  return mc;
}

// One train-lm run: its data, model, optimiser and the state a checkpoint holds, and the pieces of
// its loop. Data parallel (recur/dist/data_parallel.h): rank r of N reads streams r*B .. r*B+B-1
// of N*B; rank 0 alone prints and writes files.
class LmRun {
 public:
  LmRun(const LmTrainConfig& cfg, std::ostream& log_in)
      : cfg_(cfg), ts_(cfg.train), comm_(dist::world()), root_(comm_.rank() == 0),
        log_(root_ ? log_in : dist::null_stream()), all_streams_(cfg.train.batch * comm_.size()),
        first_stream_(cfg.train.batch * comm_.rank()), data_(read_lm_data(cfg, all_streams_)),
        mc_(lm_model_config(cfg, data_.vocab)), rng_(cfg.train.seed), grads_(mc_),
        opt_(cfg.train.optimizer),
        streams_(data_.train, all_streams_, cfg.train.batch, first_stream_, cfg.seq_len),
        hp_(hyperparameters(cfg, all_streams_, data_.text)), metrics_(cfg.train.metrics_path()),
        early_(cfg.train.guard.patience), progress_(log_, cfg.train.progress_bar),
        nan_guard_(cfg.train.guard, LossBaseline::uniform(mc_.outputs, "the vocabulary")) {
    res_.model.vocab = data_.vocab;
    res_.model.right_to_left = cfg.right_to_left;
    res_.model.net = SequenceModel<float>(mc_);
    init_sequence_model(net(), rng_, cfg.init);
    params_ = param_list(net(), grads_);
    dp_ = std::make_unique<dist::DataParallel>(params_, comm_);
    layer_hook_ = dp_->layer_hook(grads_.rnn, {&grads_.w_out, &grads_.b_out});
    total_ = cfg.steps;
    if (total_ == 0 && cfg.epochs > 0)
      total_ = std::max<int64_t>(1, int64_t(std::ceil(cfg.epochs * double(streams_.windows_per_epoch()))));
    if (total_ == 0) total_ = std::numeric_limits<int64_t>::max();  // bounded by --time
    known_total_ = total_ != std::numeric_limits<int64_t>::max();
    val_every_ = cfg.val_every > 0 ? cfg.val_every
                 : known_total_    ? std::max<int64_t>(1, total_ / 10)
                                   : 500;
  }

  LmTrainResult run() {
    resume_or_start();
    print_header();
    t0_ = Clock::now();
    start_step_ = step_;
    while (step_ < total_ && train_step()) {
      if (step_ % val_every_ == 0 && step_ != total_) validate(false);
      if (cfg_.checkpoint_every > 0 && step_ % cfg_.checkpoint_every == 0) write_checkpoint(elapsed());
    }
    return finish();
  }

 private:
  SequenceModel<float>& net() { return res_.model.net; }
  int64_t tokens_per_step() const { return cfg_.seq_len * all_streams_; }
  double elapsed() const {
    return seconds_before_ + std::chrono::duration<double>(Clock::now() - t0_).count();
  }

  void resume_or_start() {
    if (!ts_.resume_path.empty()) {
      const std::string& from = ts_.resume_path;
      const Checkpoint ck = resume_checkpoint(
          from, hp_, "--steps/--epochs/--time and the output intervals", opt_, rng_);
      net().load_state_dict(ck.model, from);
      load_states(ck, from);
      step_ = checkpoint_get_int(ck, "run.step", from);
      epoch_ = checkpoint_get_int(ck, "run.epoch", from);
      streams_.pos = checkpoint_get_int(ck, "run.position", from);
      seconds_before_ = checkpoint_get_double(ck, "run.seconds", from);
      interval_loss_ = checkpoint_get_double(ck, "run.interval_loss", from);
      interval_norm_ = checkpoint_get_double(ck, "run.interval_norm", from);
      interval_steps_ = checkpoint_get_int(ck, "run.interval_steps", from);
      early_.load(ck, from);
      RECUR_CHECK(streams_.pos >= 0 && streams_.pos <= streams_.stream_len,
                  from << ": data position " << streams_.pos << " is outside the text");
      log_ << "train-lm: resumed from " << from << " at step " << step_ << "\n";
    }
    if (root_) start_metrics(metrics_, !ts_.resume_path.empty(), step_);
    dp_->broadcast_parameters();  // equal already (same seed or checkpoint); now certainly
    dp_->own_dropout_stream(rng_, ts_.seed, step_);
  }

  // The carried states in a checkpoint: h and c of the bottom segment, h.1, c.1, ... of a mixed
  // stack's segments above it; none before the first window.
  static std::string state_key(const char* name, size_t segment) {
    return segment ? name + ("." + std::to_string(segment)) : std::string(name);
  }
  void load_states(const Checkpoint& ck, const std::string& from) {
    if (!ck.state.count("h")) return;
    state_.above.resize(mc_.rnn.above.size());
    for (size_t k = 0; k <= state_.above.size(); ++k) {
      RnnState<float>& s = k == 0 ? state_ : state_.above[k - 1];
      const std::string h = state_key("h", k), c = state_key("c", k);
      RECUR_CHECK(ck.state.count(h), from << ": holds no state '" << h << "' for the stack's segment " << k + 1);
      s.h = state_rows(ck.state.at(h), first_stream_, ts_.batch);
      if (ck.state.count(c)) s.c = state_rows(ck.state.at(c), first_stream_, ts_.batch);
    }
  }

  void write_checkpoint(double seconds) {  // collective: every rank calls it
    std::map<std::string, Tensor<float>> state;  // every rank's streams, every segment's
    for (size_t k = 0; k <= state_.above.size(); ++k) {
      const RnnState<float>& s = k == 0 ? state_ : state_.above[k - 1];
      if (!s.h.empty()) state[state_key("h", k)] = gather_state_rows(*dp_, s.h, all_streams_, first_stream_);
      if (!s.c.empty()) state[state_key("c", k)] = gather_state_rows(*dp_, s.c, all_streams_, first_stream_);
    }
    if (!root_) return;
    Checkpoint ck = run_checkpoint(opt_, hp_, rng_);
    ck.state = std::move(state);
    ck.model = net().state_dict();
    ck.metadata["run.step"] = std::to_string(step_);
    ck.metadata["run.epoch"] = std::to_string(epoch_);
    ck.metadata["run.position"] = std::to_string(streams_.pos);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss_);
    ck.metadata["run.interval_norm"] = exact_hex(interval_norm_);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps_);
    early_.save(ck);
    save_checkpoint(ts_.checkpoint_path(), ck);
  }

  void print_header() {
    log_ << "train-lm: " << cfg_.text_path << ": " << data_.train.size() << " training and "
         << data_.val.size() << " validation " << data_.noun << " (the last "
         << cfg_.val_fraction * 100 << "% of the file), " << data_.vocab.size()
         << " tokens in the vocabulary\n"
         << "train-lm: " << rnn_summary(mc_.rnn) << ", embedding " << mc_.embed << ", " << all_streams_ << " streams"
         << (dp_->active() ? " (" + std::to_string(ts_.batch) + " on each of " +
                                 std::to_string(comm_.size()) + " ranks)"
                           : std::string())
         << " x " << cfg_.seq_len << " steps, "
         << (known_total_ ? std::to_string(total_) + " updates"
                          : "for " + format_duration(cfg_.time_limit))
         << " (" << streams_.windows_per_epoch() << " per epoch)\n";
  }

  // Periodic checks read the run's streams, each rank its share (fast); the final one reads the
  // split as one stream, so every token is scored with its whole history, as the n-gram
  // baseline scores it (on rank 0 alone).
  void validate(bool final) {
    const auto v0 = Clock::now();
    LmEvaluation& v = res_.validation;
    if (final) {
      if (!root_) return;
      v = evaluate_language_model(net(), data_.val, cfg_.seq_len, 1, ts_.precision);
    } else {
      const LmEvaluation mine =
          evaluate_language_model(net(), data_.val_periodic, cfg_.seq_len, all_streams_,
                                  ts_.precision, comm_.rank(), comm_.size());
      const std::vector<double> t =
          dp_->sum({mine.tokens ? mine.nats_per_token * double(mine.tokens) : 0.0,
                    double(mine.tokens)});
      v.tokens = int64_t(t[1]);
      v.nats_per_token = dp_->active() ? t[0] / t[1] : mine.nats_per_token;
      if (early_.on())  // alike on every rank: the summed score
        early_.update(v.bits_per_token(), step_, [&] { return net().state_dict(); });
      if (!root_) return;
    }
    char line[200];
    if (restored_) {  // the best weights, not step's: no metrics record for this step
      std::snprintf(line, sizeof line, "final validation (the weights of step %lld): %.4f %s, "
                    "perplexity %.3f over %lld %s", (long long)early_.best_step(),
                    v.bits_per_token(), data_.unit, v.perplexity(), (long long)v.tokens, data_.noun);
      progress_.line(line);
      return;
    }
    MetricRecord r;
    r.kind = "val";
    r.step = step_;
    r.tokens = double(step_ * tokens_per_step());
    r.seconds = elapsed();
    r.loss_nats = v.nats_per_token;
    r.bits_per_token = v.bits_per_token();
    r.perplexity = v.perplexity();
    append_metric(metrics_, r);
    std::snprintf(line, sizeof line, "validation at step %lld: %.4f %s, perplexity %.3f over %lld %s",
                  (long long)step_, r.bits_per_token, data_.unit, r.perplexity, (long long)v.tokens,
                  data_.noun);
    progress_.line(line);
    validation_seconds_ += std::chrono::duration<double>(Clock::now() - v0).count();
    plot_training_curves(read_metrics(metrics_), ts_.plot_path(),
                         std::string("recur train-lm: ") + rnn_title(mc_.rnn) + " on " +
                             std::filesystem::path(cfg_.text_path).filename().string());
  }

  // Whether to stop before the next step: early stopping, Ctrl-C, --time (alike on every rank).
  bool stop_now() {
    if (early_.should_stop()) {  // also when resumed from the checkpoint of a run that stopped so
      res_.stopped_early = true;
      return true;
    }
    bool stop = ts_.stop && ts_.stop->load();
    bool out_of_time = cfg_.time_limit > 0 && elapsed() >= cfg_.time_limit;
    if (dp_->active()) {  // every rank stops at the same step
      const std::vector<double> f = dp_->sum({stop ? 1.0 : 0.0, out_of_time ? 1.0 : 0.0});
      stop = f[0] > 0;
      out_of_time = f[1] > 0;
    }
    if (stop) res_.interrupted = true;
    return stop || out_of_time;
  }

  // One update on the next window of every stream; false when the run should stop instead.
  bool train_step() {
    if (stop_now()) return false;
    if (!streams_.next(x_, y_)) {  // an epoch ended: restart the streams with a fresh state
      ++epoch_;
      streams_.pos = 0;
      state_ = RnnState<float>{};
      streams_.next(x_, y_);
    }
    if (ts_.cosine_schedule) {  // lr at this step, from the step count alone (resume-safe)
      const double progress = known_total_ ? double(step_) / double(total_) : 0.0;
      opt_.set_lr(cosine_lr(ts_.optimizer.lr, ts_.lr_min_factor, 3.141592653589793 * progress));
    }
    zero_grads(params_);
    const double weight = double(cfg_.seq_len * ts_.batch);  // the loss is the mean over them
    dp_->begin(weight);  // before backward: the layer hook starts buckets
    RnnRunOptions run{true, &rng_, ts_.precision};
    // Each layer's gradient reduction starts as soon as backward is past it (the output layer's
    // with the top layer's); the embedding's goes last, in finish().
    run.layer_grads_done = layer_hook_;
    float loss =
        sequence_model_window(net(), &grads_, x_, y_, cfg_.seq_len, ts_.batch, state_, run);
    loss = float(dp_->reduce_step(loss, weight));  // the mean over every rank's tokens
    if (cfg_.after_backward) cfg_.after_backward(step_ + 1, params_);
    if (nan_guard_.step_ok(loss, params_, step_ + 1)) {  // the same on every rank: reduced values
      const float norm = ts_.clip > 0 ? clip_grad_norm(params_, float(ts_.clip)) : 0.0f;
      opt_.step(params_);
      interval_loss_ += loss;
      interval_norm_ += norm;
      ++interval_steps_;
    } else {
      progress_.line(nan_guard_.message());
      state_ = RnnState<float>{};  // it may hold the NaN; the next window starts from zeros
    }
    ++step_;
    report_progress();
    return true;
  }

  // The progress bar after every step; a metrics record (and a line) every --log-every steps.
  void report_progress() {
    const double secs = elapsed();
    const double rate = double((step_ - start_step_) * tokens_per_step()) /
                        std::max(1e-9, secs - seconds_before_ - validation_seconds_);
    const double eta = known_total_ ? double(total_ - step_) * tokens_per_step() / rate
                                    : cfg_.time_limit - secs;
    progress_.bar(step_, known_total_ ? total_ : step_,
                  interval_loss_ / double(std::max<int64_t>(1, interval_steps_)) / std::log(2.0),
                  data_.unit, rate, "tok", eta);
    if (!((step_ % ts_.log_every == 0 || step_ == total_) && interval_steps_ > 0)) return;
    MetricRecord r;
    r.kind = "train";
    r.step = step_;
    r.tokens = double(step_ * tokens_per_step());
    r.seconds = secs;
    r.loss_nats = interval_loss_ / double(interval_steps_);
    r.bits_per_token = r.loss_nats / std::log(2.0);
    r.perplexity = std::exp(r.loss_nats);
    r.tokens_per_second = rate;
    r.learning_rate = opt_.config().lr;
    if (ts_.clip > 0) r.grad_norm = interval_norm_ / double(interval_steps_);
    if (root_) append_metric(metrics_, r);
    res_.train_bits = r.bits_per_token;
    if (!progress_.is_bar()) {
      char line[200];
      std::snprintf(line, sizeof line, "step %lld%s  loss %.4f %s  %.0f tok/s  elapsed %s  eta %s",
                    (long long)step_, known_total_ ? ("/" + std::to_string(total_)).c_str() : "",
                    r.bits_per_token, data_.unit, rate, format_duration(secs).c_str(),
                    format_duration(eta).c_str());
      progress_.line(line);
    }
    interval_loss_ = interval_norm_ = 0;
    interval_steps_ = 0;
  }

  LmTrainResult finish() {
    res_.seconds = elapsed();
    res_.steps_done = step_;
    res_.skipped_steps = nan_guard_.skipped();
    if (res_.skipped_steps > 0) progress_.line(nan_guard_.summary());
    if (dp_->active() && dp_->reduced_steps() > 0) {
      char line[240];
      std::snprintf(line, sizeof line,
                    "data parallel: %d ranks x %lld streams; the gradient allreduce (%.1f MB, %zu "
                    "buckets) took %.2f ms per step on rank 0, waiting for the others included",
                    comm_.size(), (long long)ts_.batch, double(dp_->gradient_floats()) * 4e-6,
                    dp_->buckets(), 1e3 * dp_->reduce_seconds() / double(dp_->reduced_steps()));
      progress_.line(line);
    }
    res_.tokens_trained = (step_ - start_step_) * tokens_per_step();
    // --patience: the last weights compete too (unless they were just validated, or this run
    // resumed at its end and trained nothing).
    const bool validated = step_ % val_every_ == 0 && step_ != total_;  // in the loop, just now
    if (early_.on() && !res_.interrupted && step_ > start_step_ && !validated) validate(false);
    write_checkpoint(res_.seconds);
    dp_->barrier();  // no rank leaves (an interrupted one with a non-zero status) before it is written
    if (res_.interrupted) {  // the checkpoint holds everything; the model file is left as it was
      progress_.line("train-lm: interrupted at step " + std::to_string(step_) +
                     "; checkpoint written to " + ts_.checkpoint_path() +
                     " (continue with --resume " + ts_.checkpoint_path() + ")");
      return std::move(res_);
    }
    if (early_.on()) {
      restored_ = early_.has_best() && early_.best_step() != step_;
      if (restored_) net().load_state_dict(early_.best_weights(), "the best weights (--patience)");
      res_.best_step = early_.best_step();
      progress_.line("train-lm: " + early_.summary(step_, 0, std::string("validation ") + data_.unit));
    }
    validate(true);
    if (!root_) return std::move(res_);
    std::map<std::string, std::string> meta = {
        {"trained_steps", std::to_string(step_)},
        {"validation_bits_per_token", exact_decimal(res_.validation.bits_per_token())}};
    if (early_.on() && early_.has_best()) meta["best_step"] = std::to_string(early_.best_step());
    save_language_model(ts_.out_path, res_.model, meta);
    return std::move(res_);
  }

  const LmTrainConfig& cfg_;
  const TrainSettings& ts_;  // cfg_.train
  dist::Communicator& comm_;
  const bool root_;
  std::ostream& log_;
  const int64_t all_streams_, first_stream_;
  const LmData data_;
  const SequenceModelConfig mc_;
  LmTrainResult res_;  // its model is the network being trained
  Rng rng_;
  SequenceModel<float> grads_;
  std::vector<Param<float>> params_;
  Optimizer<float> opt_;
  std::unique_ptr<dist::DataParallel> dp_;
  std::function<void(int)> layer_hook_;
  Streams streams_;
  const std::map<std::string, std::string> hp_;
  const std::string metrics_;
  int64_t total_ = 0, val_every_ = 0;
  bool known_total_ = false;
  // The run's state: all of it goes into a checkpoint.
  int64_t step_ = 0, epoch_ = 0;
  double seconds_before_ = 0, interval_loss_ = 0, interval_norm_ = 0;
  int64_t interval_steps_ = 0;
  RnnState<float> state_;
  EarlyStopping early_;  // --patience: the best weights and the count
  // This process's own bookkeeping.
  Progress progress_;
  NanGuard nan_guard_;
  Clock::time_point t0_ = Clock::now();
  int64_t start_step_ = 0;
  double validation_seconds_ = 0;  // time in validation (not training throughput)
  bool restored_ = false;          // --patience: the model holds the best weights again
  std::vector<int64_t> x_, y_;
};

}  // namespace

LmTrainResult train_language_model(const LmTrainConfig& cfg_in, std::ostream& log) {
  return LmRun(prepare_run(cfg_in), log).run();
}

}  // namespace recur
