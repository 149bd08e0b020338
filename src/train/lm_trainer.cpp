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
  RECUR_CHECK(!out_path.empty(), "an output model path is required (--out)");
  RECUR_CHECK(seq_len > 0 && batch > 0 && embed > 0, "seq-len, batch and embed must be positive");
  RECUR_CHECK(steps >= 0 && epochs >= 0 && time_limit >= 0, "steps, epochs and time must be >= 0");
  RECUR_CHECK(steps > 0 || epochs > 0 || time_limit > 0,
              "say how long to train: --steps, --epochs or --time");
  RECUR_CHECK(val_fraction > 0 && val_fraction < 0.5,
              "--val-fraction must be in (0, 0.5), got " << val_fraction);
  RECUR_CHECK(clip >= 0, "--clip must be >= 0, got " << clip);
  RECUR_CHECK(log_every > 0, "--log-every must be positive");
  RECUR_CHECK(val_every >= 0 && checkpoint_every >= 0, "intervals must be >= 0");
  RECUR_CHECK(!cosine_schedule || steps > 0 || epochs > 0,
              "the cosine schedule needs a known length: give --steps or --epochs, not --time");
  RECUR_CHECK(lr_min_factor >= 0 && lr_min_factor <= 1, "--lr-min must be in [0, 1]");
  RECUR_CHECK(!rnn.bidirectional,
              "a language model predicts the next token, so its layers read left to right; drop bi "
              "from --rnn");
  optimizer.validate();
}


std::string LmTrainConfig::metrics_path() const { return metrics_path_for(out_path); }
std::string LmTrainConfig::plot_path() const { return plot_path_for(out_path); }
std::string LmTrainConfig::checkpoint_path() const {
  return checkpoint_path_for(out_path);
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
  const OptimizerConfig& o = c.optimizer;
  std::map<std::string, std::string> hp = {{"tokens", token_mode_name(c.tokens)},
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
          {"batch", std::to_string(streams)},
          {"optimizer", optimizer_kind_name(o.kind)},
          {"lr", exact_decimal(o.lr)},
          {"momentum", exact_decimal(o.momentum)},
          {"nesterov", o.nesterov ? "true" : "false"},
          {"weight-decay", exact_decimal(o.weight_decay)},
          {"l1", exact_decimal(o.l1)},
          {"clip", exact_decimal(c.clip)},
          {"lr-schedule", c.cosine_schedule ? "cosine to " + exact_decimal(c.lr_min_factor) : "constant"},
          {"seed", std::to_string(c.seed)},
          {"text-bytes", std::to_string(text.size())},
          {"precision", precision_name(c.precision)},
          {"text-fnv1a", std::to_string(fnv1a64(text))}};
  // The layer's options beyond cell, size, layers and dropout (peephole, residual, ...), as the
  // spec writes them; absent for the plain cells, as in checkpoints written before the spec.
  RnnConfig plain = c.rnn;
  plain.dropout = 0;
  const std::string layer = format_rnn_spec({{rnn_spec_from_config(plain).layers.front()}});
  const size_t comma = layer.find(',');
  if (comma != std::string::npos) hp["rnn-options"] = layer.substr(comma + 1);
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

}  // namespace

LmTrainResult train_language_model(const LmTrainConfig& cfg_in, std::ostream& log_in) {
  LmTrainConfig cfg = cfg_in;
  cfg.validate();
  // Data parallel (recur/dist/data_parallel.h): rank r of N reads streams r*B .. r*B+B-1 of N*B;
  // rank 0 alone prints and writes files.
  dist::Communicator& comm = dist::world();
  const bool root = comm.rank() == 0;
  std::ostream& log = root ? log_in : dist::null_stream();
  const int64_t all_streams = cfg.batch * comm.size(), first_stream = cfg.batch * comm.rank();
  make_output_directory(cfg.out_path);  // now, not found missing when the first file is written
  const std::string text = read_file_bytes(cfg.text_path);
  RECUR_CHECK(!text.empty(), "'" << cfg.text_path << "' is empty; expected text to train on");
  const size_t nul = text.find('\0');
  RECUR_CHECK(nul == std::string::npos, "'" << cfg.text_path << "' holds a NUL byte at offset "
                                            << nul << "; it looks like a binary file, not text");
  const TextSplit split = split_text_tail(text, cfg.val_fraction);
  // Characters: the symbol inventory of the whole file (no statistics leak); words: the training
  // part's most frequent words, so validation words can be unknown.
  const Vocab vocab = cfg.tokens == TokenMode::chars
                          ? Vocab::build(text, cfg.tokens, 0, cfg.text_path)
                          : Vocab::build(split.train, cfg.tokens, cfg.max_words, cfg.text_path);
  const std::vector<int64_t> train = vocab.encode(split.train, cfg.text_path);
  const std::vector<int64_t> val = vocab.encode(split.validation, cfg.text_path);
  std::vector<int64_t> val_periodic = val;
  if (cfg.val_tokens > 0 && int64_t(val.size()) > cfg.val_tokens)
    val_periodic.resize(size_t(cfg.val_tokens));
  const char* noun = cfg.tokens == TokenMode::chars ? "characters" : "words";
  const char* unit = cfg.tokens == TokenMode::chars ? "bpc" : "bits/word";
  RECUR_CHECK(int64_t(train.size()) / all_streams >= cfg.seq_len + 1,
              "'" << cfg.text_path << "' has " << train.size() << " training " << noun
                  << ": too few for one batch of " << all_streams << " streams x " << cfg.seq_len + 1
                  << " (lower --batch or --seq-len, or give more text)");
  RECUR_CHECK(val.size() >= 2, "'" << cfg.text_path << "': the validation tail holds " << val.size()
                                   << " " << noun << "; raise --val-fraction or give more text");

  SequenceModelConfig mc;
  mc.vocab = mc.outputs = vocab.size();
  mc.embed = cfg.embed;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = cfg.embed;
  LmTrainResult res;
  res.model.vocab = vocab;
  res.model.net = SequenceModel<float>(mc);
  SequenceModel<float>& net = res.model.net;
  Rng rng(cfg.seed);
  init_sequence_model(net, rng, cfg.init);
  SequenceModel<float> grads(mc);
  auto params = param_list(net, grads);
  Optimizer<float> opt(cfg.optimizer);
  dist::DataParallel dp(params, comm);
  const std::function<void(int)> layer_hook = dp.layer_hook(grads.rnn, {&grads.w_out, &grads.b_out});

  Streams streams(train, all_streams, cfg.batch, first_stream, cfg.seq_len);
  int64_t total = cfg.steps;
  if (total == 0 && cfg.epochs > 0)
    total = std::max<int64_t>(1, int64_t(std::ceil(cfg.epochs * double(streams.windows_per_epoch()))));
  if (total == 0) total = std::numeric_limits<int64_t>::max();  // bounded by --time
  const bool known_total = total != std::numeric_limits<int64_t>::max();
  const int64_t val_every = cfg.val_every > 0 ? cfg.val_every
                            : known_total     ? std::max<int64_t>(1, total / 10)
                                              : 500;
  const auto hp = hyperparameters(cfg, all_streams, text);

  // Run state (all of it goes into a checkpoint).
  int64_t step = 0, epoch = 0;
  double seconds_before = 0, interval_loss = 0, interval_norm = 0;
  int64_t interval_steps = 0;
  RnnState<float> state;
  EarlyStopping early(cfg.guard.patience);  // --patience: the best weights and the count

  const std::string metrics = cfg.metrics_path();
  if (!cfg.resume_path.empty()) {
    const Checkpoint ck = load_checkpoint(cfg.resume_path);
    check_checkpoint_settings(ck, hp, cfg.resume_path,
                              "--steps/--epochs/--time and the output intervals");
    net.load_state_dict(ck.model, cfg.resume_path);
    opt.import_state(ck.optimizer);
    if (ck.state.count("h")) state.h = state_rows(ck.state.at("h"), first_stream, cfg.batch);
    if (ck.state.count("c")) state.c = state_rows(ck.state.at("c"), first_stream, cfg.batch);
    rng.set_state(decode_rng_state(checkpoint_get(ck, "rng", cfg.resume_path), cfg.resume_path));
    step = checkpoint_get_int(ck, "run.step", cfg.resume_path);
    epoch = checkpoint_get_int(ck, "run.epoch", cfg.resume_path);
    streams.pos = checkpoint_get_int(ck, "run.position", cfg.resume_path);
    seconds_before = checkpoint_get_double(ck, "run.seconds", cfg.resume_path);
    interval_loss = checkpoint_get_double(ck, "run.interval_loss", cfg.resume_path);
    interval_norm = checkpoint_get_double(ck, "run.interval_norm", cfg.resume_path);
    interval_steps = checkpoint_get_int(ck, "run.interval_steps", cfg.resume_path);
    early.load(ck, cfg.resume_path);
    RECUR_CHECK(streams.pos >= 0 && streams.pos <= streams.stream_len,
                cfg.resume_path << ": data position " << streams.pos << " is outside the text");
    if (root && std::filesystem::exists(metrics)) truncate_metrics_after(metrics, step);
    log << "train-lm: resumed from " << cfg.resume_path << " at step " << step << "\n";
  } else if (root) {
    std::filesystem::remove(metrics);
  }
  dp.broadcast_parameters();  // equal already (same seed or checkpoint); now certainly
  dp.own_dropout_stream(rng, cfg.seed, step);

  auto write_checkpoint = [&](double seconds) {  // collective: every rank calls it
    Checkpoint ck;
    if (!state.h.empty()) ck.state["h"] = gather_state_rows(dp, state.h, all_streams, first_stream);
    if (!state.c.empty()) ck.state["c"] = gather_state_rows(dp, state.c, all_streams, first_stream);
    if (!root) return;
    ck.model = net.state_dict();
    ck.optimizer = opt.export_state();
    set_checkpoint_settings(ck, hp);
    ck.metadata["rng"] = encode_rng_state(rng.state());
    ck.metadata["run.step"] = std::to_string(step);
    ck.metadata["run.epoch"] = std::to_string(epoch);
    ck.metadata["run.position"] = std::to_string(streams.pos);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss);
    ck.metadata["run.interval_norm"] = exact_hex(interval_norm);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps);
    early.save(ck);
    save_checkpoint(cfg.checkpoint_path(), ck);
  };

  log << "train-lm: " << cfg.text_path << ": " << train.size() << " training and " << val.size()
      << " validation " << noun << " (the last " << cfg.val_fraction * 100 << "% of the file), "
      << vocab.size() << " tokens in the vocabulary\n"
      << "train-lm: " << cell_name(mc.rnn.cell) << " " << mc.rnn.num_layers << "x"
      << mc.rnn.hidden_size << ", embedding " << mc.embed << ", " << all_streams << " streams"
      << (dp.active() ? " (" + std::to_string(cfg.batch) + " on each of " +
                            std::to_string(comm.size()) + " ranks)"
                      : std::string())
      << " x "
      << cfg.seq_len << " steps, "
      << (known_total ? std::to_string(total) + " updates" : "for " + format_duration(cfg.time_limit))
      << " (" << streams.windows_per_epoch() << " per epoch)\n";

  Progress progress(log, cfg.progress_bar);
  const auto t0 = Clock::now();
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  const int64_t start_step = step;
  const int64_t tokens_per_step = cfg.seq_len * all_streams;
  double validation_seconds = 0;  // this process's time in validation (not training throughput)
  bool restored = false;           // --patience: the model holds the best weights again
  auto validate_now = [&](bool final) {
    const auto v0 = Clock::now();
    // Periodic checks read the run's streams, each rank its share (fast); the final one reads the
    // split as one stream, so every token is scored with its whole history, as the n-gram
    // baseline scores it (on rank 0 alone).
    if (final) {
      if (!root) return;
      res.validation = evaluate_language_model(net, val, cfg.seq_len, 1, cfg.precision);
    } else {
      const LmEvaluation mine = evaluate_language_model(net, val_periodic, cfg.seq_len, all_streams,
                                                        cfg.precision, comm.rank(), comm.size());
      const std::vector<double> t =
          dp.sum({mine.tokens ? mine.nats_per_token * double(mine.tokens) : 0.0,
                  double(mine.tokens)});
      res.validation.tokens = int64_t(t[1]);
      res.validation.nats_per_token = dp.active() ? t[0] / t[1] : mine.nats_per_token;
      if (early.on())  // alike on every rank: the summed score
        early.update(res.validation.bits_per_token(), step, [&] { return net.state_dict(); });
      if (!root) return;
    }
    if (restored) {  // the best weights, not step's: no metrics record for this step
      char line[200];
      std::snprintf(line, sizeof line, "final validation (the weights of step %lld): %.4f %s, "
                    "perplexity %.3f over %lld %s", (long long)early.best_step(),
                    res.validation.bits_per_token(), unit, res.validation.perplexity(),
                    (long long)res.validation.tokens, noun);
      progress.line(line);
      return;
    }
    MetricRecord r;
    r.kind = "val";
    r.step = step;
    r.tokens = double(step * tokens_per_step);
    r.seconds = elapsed();
    r.loss_nats = res.validation.nats_per_token;
    r.bits_per_token = res.validation.bits_per_token();
    r.perplexity = res.validation.perplexity();
    append_metric(metrics, r);
    char line[200];
    std::snprintf(line, sizeof line, "validation at step %lld: %.4f %s, perplexity %.3f over %lld %s",
                  (long long)step, r.bits_per_token, unit, r.perplexity,
                  (long long)res.validation.tokens, noun);
    progress.line(line);
    validation_seconds += std::chrono::duration<double>(Clock::now() - v0).count();
    plot_training_curves(read_metrics(metrics), cfg.plot_path(),
                         std::string("recur train-lm: ") + cell_name(mc.rnn.cell) + " on " +
                             std::filesystem::path(cfg.text_path).filename().string());
  };

  std::vector<int64_t> x, y;
  NanGuard nan_guard(cfg.guard, LossBaseline::uniform(mc.outputs, "the vocabulary"));
  while (step < total) {
    if (early.should_stop()) {  // also when resumed from the checkpoint of a run that stopped so
      res.stopped_early = true;
      break;
    }
    bool stop = cfg.stop && cfg.stop->load();
    bool out_of_time = cfg.time_limit > 0 && elapsed() >= cfg.time_limit;
    if (dp.active()) {  // every rank stops at the same step
      const std::vector<double> f = dp.sum({stop ? 1.0 : 0.0, out_of_time ? 1.0 : 0.0});
      stop = f[0] > 0;
      out_of_time = f[1] > 0;
    }
    if (stop) {
      res.interrupted = true;
      break;
    }
    if (out_of_time) break;
    if (!streams.next(x, y)) {  // an epoch ended: restart the streams with a fresh state
      ++epoch;
      streams.pos = 0;
      state = RnnState<float>{};
      streams.next(x, y);
    }
    if (cfg.cosine_schedule) {  // lr at this step, from the step count alone (resume-safe)
      const double progress = known_total ? double(step) / double(total) : 0.0;
      const double lo = cfg.optimizer.lr * cfg.lr_min_factor;
      opt.set_lr(lo + 0.5 * (cfg.optimizer.lr - lo) * (1 + std::cos(3.141592653589793 * progress)));
    }
    zero_grads(params);
    const double weight = double(cfg.seq_len * cfg.batch);  // the loss is the mean over them
    dp.begin(weight);  // before backward: the layer hook starts buckets
    RnnRunOptions run{true, &rng, cfg.precision};
    // Each layer's gradient reduction starts as soon as backward is past it (the output layer's
    // with the top layer's); the embedding's goes last, in finish().
    run.layer_grads_done = layer_hook;
    float loss = sequence_model_window(net, &grads, x, y, cfg.seq_len, cfg.batch, state, run);
    loss = float(dp.reduce_step(loss, weight));  // the mean over every rank's tokens
    if (cfg.after_backward) cfg.after_backward(step + 1, params);
    if (nan_guard.step_ok(loss, params, step + 1)) {  // the same on every rank: reduced values
      const float norm = cfg.clip > 0 ? clip_grad_norm(params, float(cfg.clip)) : 0.0f;
      opt.step(params);
      interval_loss += loss;
      interval_norm += norm;
      ++interval_steps;
    } else {
      progress.line(nan_guard.message());
      state = RnnState<float>{};  // it may hold the NaN; the next window starts from zeros
    }
    ++step;
    const double secs = elapsed();
    const double rate = double((step - start_step) * tokens_per_step) /
                        std::max(1e-9, secs - seconds_before - validation_seconds);
    const double eta = known_total ? double(total - step) * tokens_per_step / rate
                                   : cfg.time_limit - secs;
    progress.bar(step, known_total ? total : step,
                 interval_loss / double(std::max<int64_t>(1, interval_steps)) / std::log(2.0),
                 unit, rate, "tok", eta);
    if ((step % cfg.log_every == 0 || step == total) && interval_steps > 0) {
      MetricRecord r;
      r.kind = "train";
      r.step = step;
      r.tokens = double(step * tokens_per_step);
      r.seconds = secs;
      r.loss_nats = interval_loss / double(interval_steps);
      r.bits_per_token = r.loss_nats / std::log(2.0);
      r.perplexity = std::exp(r.loss_nats);
      r.tokens_per_second = rate;
      r.learning_rate = opt.config().lr;
      if (cfg.clip > 0) r.grad_norm = interval_norm / double(interval_steps);
      if (root) append_metric(metrics, r);
      res.train_bits = r.bits_per_token;
      if (!progress.is_bar()) {
        char line[200];
        std::snprintf(line, sizeof line, "step %lld%s  loss %.4f %s  %.0f tok/s  elapsed %s  eta %s",
                      (long long)step,
                      known_total ? ("/" + std::to_string(total)).c_str() : "", r.bits_per_token,
                      unit, rate, format_duration(secs).c_str(), format_duration(eta).c_str());
        progress.line(line);
      }
      interval_loss = interval_norm = 0;
      interval_steps = 0;
    }
    if (step % val_every == 0 && step != total) validate_now(false);
    if (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) write_checkpoint(elapsed());
  }
  res.seconds = elapsed();
  res.steps_done = step;
  res.skipped_steps = nan_guard.skipped();
  if (res.skipped_steps > 0) progress.line(nan_guard.summary());
  if (dp.active() && dp.reduced_steps() > 0) {
    char line[240];
    std::snprintf(line, sizeof line,
                  "data parallel: %d ranks x %lld streams; the gradient allreduce (%.1f MB, %zu "
                  "buckets) took %.2f ms per step on rank 0, waiting for the others included",
                  comm.size(), (long long)cfg.batch, double(dp.gradient_floats()) * 4e-6,
                  dp.buckets(), 1e3 * dp.reduce_seconds() / double(dp.reduced_steps()));
    progress.line(line);
  }
  res.tokens_trained = (step - start_step) * tokens_per_step;
  // --patience: the last weights compete too (unless they were just validated, or this run
  // resumed at its end and trained nothing).
  const bool validated = step % val_every == 0 && step != total;  // in the loop, just now
  if (early.on() && !res.interrupted && step > start_step && !validated) validate_now(false);
  write_checkpoint(res.seconds);
  dp.barrier();  // no rank leaves (an interrupted one with a non-zero status) before it is written
  if (res.interrupted) {  // the checkpoint holds everything; the model file is left as it was
    progress.line("train-lm: interrupted at step " + std::to_string(step) + "; checkpoint written to " +
                  cfg.checkpoint_path() + " (continue with --resume " + cfg.checkpoint_path() + ")");
    return res;
  }
  if (early.on()) {
    restored = early.has_best() && early.best_step() != step;
    if (restored) net.load_state_dict(early.best_weights(), "the best weights (--patience)");
    res.best_step = early.best_step();
    progress.line("train-lm: " + early.summary(step, 0, std::string("validation ") + unit));
  }
  validate_now(true);
  if (!root) return res;
  std::map<std::string, std::string> meta = {
      {"trained_steps", std::to_string(step)},
      {"validation_bits_per_token", exact_decimal(res.validation.bits_per_token())}};
  if (early.on() && early.has_best()) meta["best_step"] = std::to_string(early.best_step());
  save_language_model(cfg.out_path, res.model, meta);
  return res;
}

}  // namespace recur
