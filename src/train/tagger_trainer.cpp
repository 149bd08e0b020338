// Tagger training: data, batching, the loop, validation, metrics, checkpoints, resume.
#include "recur/train/tagger_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "recur/core/hash.h"
#include "recur/io/file.h"
#include "recur/io/metrics.h"
#include "recur/io/svg_plot.h"
#include "recur/train/batching.h"
#include "recur/train/checkpoint.h"
#include "recur/train/clip.h"
#include "recur/train/progress.h"
#include "recur/train/run_files.h"

namespace recur {

void TaggerTrainConfig::validate() const {
  RECUR_CHECK(!train_path.empty(), "a training file is required (--train)");
  RECUR_CHECK(!valid_path.empty(), "a validation file is required (--valid)");
  RECUR_CHECK(!out_path.empty(), "an output model path is required (--out)");
  RECUR_CHECK(batch > 0 && epochs > 0 && embed > 0, "batch, epochs and embed must be positive");
  RECUR_CHECK(max_words > 0 && min_count > 0, "--max-words and --min-count must be positive");
  RECUR_CHECK(clip >= 0, "--clip must be >= 0, got " << clip);
  RECUR_CHECK(log_every > 0, "--log-every must be positive");
  RECUR_CHECK(lr_min_factor >= 0 && lr_min_factor <= 1, "--lr-min must be in [0, 1]");
  optimizer.validate();
}

std::string TaggerTrainConfig::metrics_path() const {
  return output_stem(out_path) + ".metrics.jsonl";
}
std::string TaggerTrainConfig::plot_path() const { return output_stem(out_path) + ".svg"; }
std::string TaggerTrainConfig::confusion_path() const {
  return output_stem(out_path) + ".confusion.svg";
}
std::string TaggerTrainConfig::checkpoint_path() const {
  return output_stem(out_path) + ".ckpt.safetensors";
}

namespace {

using Clock = std::chrono::steady_clock;

// The output tags, sorted: the whole restoration scheme (all 21 tags) when every training tag is
// one of it, else the distinct tags of the training, validation and test files (a tag that only
// the held-out files have is never predicted, and is scored as an error rather than refused).
// At least two tags must occur in training: one tag is nothing to learn.
LabelSet output_tags(const std::vector<const std::vector<TaggedSequence>*>& files,
                     const std::string& source, int64_t* unseen) {
  std::set<std::string> train, all;
  for (const TaggedSequence& q : *files.front()) train.insert(q.tags.begin(), q.tags.end());
  RECUR_CHECK(train.size() >= 2, source << ": the training data has " << train.size()
                                        << " distinct tag; a tagger needs at least 2");
  RestorationTag r;
  bool restoration = true;
  for (const std::string& t : train) restoration = restoration && parse_restoration_tag(t, &r);
  if (restoration) {
    for (int c = 0; c < kNumCasings; ++c)
      for (int p = 0; p < kNumPuncts; ++p) all.insert(restoration_tag_name({Casing(c), Punct(p)}));
  } else {
    for (const auto* f : files)
      for (const TaggedSequence& q : *f) all.insert(q.tags.begin(), q.tags.end());
  }
  *unseen = int64_t(all.size() - train.size());
  return LabelSet::from_json(
      nlohmann::json(std::vector<std::string>(all.begin(), all.end())).dump(), source);
}

// "validation loss 0.1234, token accuracy 0.9500[, punctuation F1 0.8, capitalisation F1 0.9]"
std::string summary(const TaggerEvaluation& ev) {
  char buf[200];
  int n = std::snprintf(buf, sizeof buf, "loss %.4f, token accuracy %.4f", ev.tokens.loss_nats,
                        ev.tokens.accuracy());
  if (ev.restoration)
    std::snprintf(buf + n, sizeof buf - size_t(n), ", punctuation F1 %.4f, capitalisation F1 %.4f",
                  ev.model.punct_present.f1(), ev.model.capitalised.f1());
  return buf;
}

}  // namespace

TaggerTrainResult train_tagger(const TaggerTrainConfig& cfg_in, std::ostream& log) {
  TaggerTrainConfig cfg = cfg_in;
  cfg.validate();
  make_output_directory(cfg.out_path);

  // Data and the vocabularies.
  TaggerTrainResult res;
  TaggerModel& model = res.model;
  const std::vector<TaggedSequence> train_seqs = read_conll(cfg.train_path);
  const std::vector<TaggedSequence> valid_seqs = read_conll(cfg.valid_path);
  const std::vector<TaggedSequence> test_seqs =
      cfg.test_path.empty() ? std::vector<TaggedSequence>() : read_conll(cfg.test_path);
  model.words = TokenIndex::build(train_seqs, cfg.max_words, cfg.min_count, cfg.train_path);
  int64_t unseen_tags = 0;
  model.tags = output_tags({&train_seqs, &valid_seqs, &test_seqs}, cfg.train_path, &unseen_tags);
  const std::vector<TagExample> train =
      encode_tagged(train_seqs, model.words, model.tags, cfg.train_path);
  const std::vector<TagExample> valid =
      encode_tagged(valid_seqs, model.words, model.tags, cfg.valid_path);
  const std::vector<TagExample> test =
      encode_tagged(test_seqs, model.words, model.tags, cfg.test_path);
  std::vector<int64_t> lengths;
  int64_t train_tokens = 0, unknown = 0;
  for (const TagExample& e : train) {
    lengths.push_back(int64_t(e.tokens.size()));
    train_tokens += lengths.back();
    for (int64_t id : e.tokens) unknown += id == 0;
  }
  const std::string fingerprint = std::to_string(fnv1a64(read_file_bytes(cfg.train_path)));

  SequenceModelConfig mc;
  mc.vocab = model.words.size();
  mc.outputs = model.tags.size();
  mc.embed = cfg.embed;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = cfg.embed;
  model.net = SequenceModel<float>(mc);
  Rng rng(cfg.seed);  // initialisation, then dropout
  init_sequence_model(model.net, rng, cfg.init);
  SequenceModel<float> grads(mc);
  std::vector<Param<float>> params = param_list(model.net, grads);
  Optimizer<float> opt(cfg.optimizer);

  const int64_t per_epoch = (int64_t(train.size()) + cfg.batch - 1) / cfg.batch;
  const int64_t total = per_epoch * cfg.epochs;
  const OptimizerConfig& o = cfg.optimizer;
  const std::map<std::string, std::string> hp = {
      {"data", fingerprint},
      {"max-words", std::to_string(cfg.max_words)},
      {"min-count", std::to_string(cfg.min_count)},
      {"model",
       [&] {
         std::string s;
         for (const auto& [k, v] : mc.to_metadata()) s += k + "=" + v + ";";
         return s;
       }()},
      {"init", recurrent_init_name(cfg.init)},
      {"batch", std::to_string(cfg.batch)},
      {"optimizer", optimizer_kind_name(o.kind)},
      {"lr", exact_decimal(o.lr)},
      {"momentum", exact_decimal(o.momentum)},
      {"weight-decay", exact_decimal(o.weight_decay)},
      {"clip", exact_decimal(cfg.clip)},
      {"lr-schedule",
       cfg.cosine_schedule ? "cosine to " + exact_decimal(cfg.lr_min_factor) : "constant"},
      {"seed", std::to_string(cfg.seed)}};

  int64_t step = 0, tokens_done = 0;
  double seconds_before = 0, interval_loss = 0;
  int64_t interval_steps = 0, interval_correct = 0, interval_seen = 0;
  const std::string metrics = cfg.metrics_path();
  if (!cfg.resume_path.empty()) {
    const Checkpoint ck = load_checkpoint(cfg.resume_path);
    check_checkpoint_settings(ck, hp, cfg.resume_path, "--epochs and the output intervals");
    model.net.load_state_dict(ck.model, cfg.resume_path);
    opt.import_state(ck.optimizer);
    rng.set_state(decode_rng_state(checkpoint_get(ck, "rng", cfg.resume_path), cfg.resume_path));
    step = checkpoint_get_int(ck, "run.step", cfg.resume_path);
    tokens_done = checkpoint_get_int(ck, "run.tokens", cfg.resume_path);
    seconds_before = checkpoint_get_double(ck, "run.seconds", cfg.resume_path);
    interval_loss = checkpoint_get_double(ck, "run.interval_loss", cfg.resume_path);
    interval_steps = checkpoint_get_int(ck, "run.interval_steps", cfg.resume_path);
    interval_correct = checkpoint_get_int(ck, "run.interval_correct", cfg.resume_path);
    interval_seen = checkpoint_get_int(ck, "run.interval_seen", cfg.resume_path);
    if (std::filesystem::exists(metrics)) truncate_metrics_after(metrics, step);
    log << "train-tagger: resumed from " << cfg.resume_path << " at step " << step << "\n";
  } else {
    std::filesystem::remove(metrics);
  }
  auto write_checkpoint = [&](double seconds) {
    Checkpoint ck;
    ck.model = model.net.state_dict();
    ck.optimizer = opt.export_state();
    set_checkpoint_settings(ck, hp);
    ck.metadata["rng"] = encode_rng_state(rng.state());
    ck.metadata["run.step"] = std::to_string(step);
    ck.metadata["run.tokens"] = std::to_string(tokens_done);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps);
    ck.metadata["run.interval_correct"] = std::to_string(interval_correct);
    ck.metadata["run.interval_seen"] = std::to_string(interval_seen);
    save_checkpoint(cfg.checkpoint_path(), ck);
  };

  char unk_share[32];
  std::snprintf(unk_share, sizeof unk_share, "%.2f%%",
                100.0 * double(unknown) / double(train_tokens));
  log << "train-tagger: " << train.size() << " training sequences (" << train_tokens << " tokens), "
      << valid.size() << " validation and " << test.size() << " test sequences; "
      << model.words.size() << " input words (<unk> " << unk_share << " of training tokens), "
      << model.tags.size() << " tags (" << unseen_tags << " not in the training data)\n"
      << "train-tagger: " << (mc.rnn.bidirectional ? "bidirectional " : "")
      << cell_name(mc.rnn.cell) << " " << mc.rnn.num_layers << "x" << mc.rnn.hidden_size
      << ", embedding " << mc.embed << ", batch " << cfg.batch << ", " << cfg.epochs
      << " epochs of " << per_epoch << " updates\n";

  const std::string title = std::string("recur train-tagger: ") + cell_name(mc.rnn.cell) + " on " +
                            std::filesystem::path(cfg.train_path).filename().string();
  Progress progress(log, cfg.progress_bar);
  const auto t0 = Clock::now();
  auto elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const int64_t start_step = step, start_tokens = tokens_done;
  double eval_seconds = 0;
  auto validate = [&] {
    const auto v0 = Clock::now();
    res.validation = evaluate_tagger(model.net, model.tags, valid, 2 * cfg.batch);
    MetricRecord r;
    r.kind = "val";
    r.step = step;
    r.tokens = double(tokens_done);
    r.seconds = elapsed();
    r.loss_nats = res.validation.tokens.loss_nats;
    r.bits_per_token = r.loss_nats / std::log(2.0);
    r.accuracy = res.validation.tokens.accuracy();
    append_metric(metrics, r);
    progress.line("epoch " + std::to_string(step / per_epoch) + " (step " + std::to_string(step) +
                  "): validation " + summary(res.validation));
    plot_training_curves(read_metrics(metrics), cfg.plot_path(), title);
    eval_seconds += std::chrono::duration<double>(Clock::now() - v0).count();
  };

  std::vector<std::vector<size_t>> plan;
  int64_t plan_epoch_no = -1;
  const int64_t C = mc.outputs;
  while (step < total) {
    if (cfg.stop && cfg.stop->load()) {
      res.interrupted = true;
      break;
    }
    const int64_t epoch = step / per_epoch, k = step % per_epoch;
    if (epoch != plan_epoch_no) {
      plan = length_pooled_batches(lengths, cfg.batch, cfg.seed, epoch);
      plan_epoch_no = epoch;
    }
    if (cfg.cosine_schedule) {
      const double lo = o.lr * cfg.lr_min_factor;
      opt.set_lr(lo + 0.5 * (o.lr - lo) *
                          (1 + std::cos(3.141592653589793 * double(step) / double(total))));
    }
    const TaggerBatch batch = make_tagger_batch(train, plan[size_t(k)]);
    zero_grads(params);
    Tensor<float> logits;
    int64_t count = 0;
    const float loss =
        tagger_batch(model.net, &grads, batch, RnnRunOptions{true, &rng}, &logits, &count);
    RECUR_CHECK(std::isfinite(loss), "training loss became " << loss << " at step " << step + 1
                                                             << "; the last checkpoint was left as "
                                                                "it was (try a lower --lr)");
    if (cfg.clip > 0) clip_grad_norm(params, float(cfg.clip));
    opt.step(params);
    ++step;
    tokens_done += count;
    interval_loss += loss;
    ++interval_steps;
    for (size_t i = 0; i < batch.targets.size(); ++i) {
      if (batch.targets[i] < 0) continue;
      const float* z = logits.ptr() + int64_t(i) * C;
      interval_correct += int64_t(std::max_element(z, z + C) - z) == batch.targets[i];
      ++interval_seen;
    }
    const double secs = elapsed();
    const double train_secs = std::max(1e-9, secs - seconds_before - eval_seconds);
    const double rate = double(tokens_done - start_tokens) / train_secs;
    const double eta = double(total - step) * train_secs / double(step - start_step);
    progress.bar(step, total, interval_loss / double(interval_steps) / std::log(2.0), "bits", rate,
                 "tok", eta);
    if (step % cfg.log_every == 0 || step % per_epoch == 0) {
      MetricRecord r;
      r.kind = "train";
      r.step = step;
      r.tokens = double(tokens_done);
      r.seconds = secs;
      r.loss_nats = interval_loss / double(interval_steps);
      r.bits_per_token = r.loss_nats / std::log(2.0);
      r.tokens_per_second = rate;
      r.learning_rate = opt.config().lr;
      if (interval_seen > 0) r.accuracy = double(interval_correct) / double(interval_seen);
      append_metric(metrics, r);
      if (!progress.is_bar()) {
        char line[200];
        std::snprintf(
            line, sizeof line,
            "step %lld/%lld  loss %.4f  token accuracy %.3f  %.0f tok/s  elapsed %s  eta %s",
            (long long)step, (long long)total, r.loss_nats,
            interval_seen ? double(interval_correct) / double(interval_seen) : 0.0, rate,
            format_duration(secs).c_str(), format_duration(eta).c_str());
        progress.line(line);
      }
      interval_loss = 0;
      interval_steps = 0;
      interval_correct = interval_seen = 0;
    }
    if (step % per_epoch == 0) {
      validate();
      write_checkpoint(elapsed());
    }
  }
  res.steps_done = step;
  res.epochs_done = step / per_epoch;
  res.seconds = elapsed();
  if (res.interrupted) {
    write_checkpoint(res.seconds);
    progress.line("train-tagger: stopped at step " + std::to_string(step) +
                  "; checkpoint written to " + cfg.checkpoint_path() + " (continue with --resume)");
    return res;
  }
  if (res.validation.sequences == 0)
    res.validation = evaluate_tagger(model.net, model.tags, valid, 2 * cfg.batch);
  const bool has_test = !test.empty();
  if (has_test) res.test = evaluate_tagger(model.net, model.tags, test, 2 * cfg.batch);
  const TaggerEvaluation& shown = has_test ? res.test : res.validation;
  log << (has_test ? "test set:\n" : "validation set:\n") << tagging_report(shown, model.tags);
  write_file_atomic(
      cfg.confusion_path(),
      confusion_svg(shown.tokens, model.tags, title + (has_test ? " (test)" : " (validation)")));
  std::map<std::string, std::string> extra = {
      {"validation_token_accuracy", exact_decimal(res.validation.tokens.accuracy())}};
  if (has_test) extra["test_token_accuracy"] = exact_decimal(res.test.tokens.accuracy());
  save_tagger_model(cfg.out_path, model, extra);
  return res;
}

}  // namespace recur
