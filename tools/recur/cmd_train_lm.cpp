// `recur train-lm`: trains a character- or word-level language model on a text file; Ctrl-C
// writes a checkpoint and stops cleanly.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "train_options.h"
#include "recur/train/lm_trainer.h"

namespace recur::cli {
namespace {

struct TrainLmArgs {
  LmTrainConfig cfg;
  std::string tokens = "char";
  NetworkOptions net{.hidden = 256, .layers = 2};
  int threads = 0;
  int64_t sample_length = 300;
  double temperature = 0.8;
};

void run(TrainLmArgs a) {
  a.cfg.tokens = parse_token_mode(a.tokens);
  apply(a.net, a.cfg.rnn, &a.cfg.init);
  a.cfg.rnn.input_size = a.cfg.embed;
  if (a.cfg.steps == 0 && a.cfg.epochs == 0 && a.cfg.time_limit == 0) a.cfg.steps = 1000;
  start_run(a.cfg.train, a.threads);
  const LmTrainResult r = train_language_model(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  const bool chars = a.cfg.tokens == TokenMode::chars;
  std::printf("validation: %.4f %s, perplexity %.3f over %lld %s\n", r.validation.bits_per_token(),
              chars ? "bits/char" : "bits/word", r.validation.perplexity(),
              (long long)r.validation.tokens, chars ? "characters" : "words");
  std::printf("trained %lld steps, %lld %s in %.1f s\n", (long long)r.steps_done,
              (long long)r.tokens_trained, chars ? "characters" : "words", r.seconds);
  print_run_files(a.cfg.train);
  if (a.sample_length > 0) {
    Rng rng(a.cfg.train.seed + 1);
    const std::vector<int64_t> prime = r.model.vocab.encode("\n", "the priming text");
    SampleOptions so;
    so.length = a.sample_length;
    so.temperature = a.temperature;
    std::printf("sample (temperature %.2f):\n%s\n", a.temperature,
                decode_in_reading_order(r.model, sample_language_model(r.model.net, prime, so, rng)).c_str());
  }
}

}  // namespace

void add_train_lm(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainLmArgs>();
  CLI::App* c = app.add_subcommand(
      "train-lm",
      "Train a language model on a text file: stateful truncated BPTT over contiguous streams. The "
      "last --val-fraction of the file is the validation split. Writes the model, "
      "<out>.metrics.jsonl, <out>.svg and <out>.ckpt.safetensors; Ctrl-C writes the checkpoint "
      "and stops.");
  c->add_option("--text", a->cfg.text_path, "Training text file")->required();
  c->add_option("--tokens", a->tokens, "char or word")
      ->capture_default_str()
      ->check(CLI::IsMember({"char", "word"}));
  c->add_option("--max-words", a->cfg.max_words, "Word mode: vocabulary cap (others are <unk>)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--embed", a->cfg.embed, "Embedding size")->capture_default_str()->check(Positive);
  add_network_options(c, a->net);
  c->add_option("--seq-len", a->cfg.seq_len, "BPTT window (tokens)")->capture_default_str()->check(Positive);
  auto* steps = c->add_option("--steps", a->cfg.steps, "Parameter updates (default 1000)")
                    ->check(Positive);
  auto* epochs =
      c->add_option("--epochs", a->cfg.epochs, "Passes over the training data (fractions allowed)")
          ->check(Positive);
  auto* time = c->add_option("--time", a->cfg.time_limit, "Train for this many seconds")
                   ->check(Positive);
  steps->excludes(epochs)->excludes(time);
  epochs->excludes(time);
  add_train_settings(c, a->cfg.train, a->threads, TrainSettings::Length::own);
  c->add_option("--val-fraction", a->cfg.val_fraction, "Tail fraction used for validation")
      ->capture_default_str()
      ->check(number_in(0, 0.5, /*open=*/true));
  c->add_option("--val-tokens", a->cfg.val_tokens, "Cap on validation tokens (0: all)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--val-every", a->cfg.val_every, "Validation interval (steps; default: 10 per run)")
      ->check(NonNegative);
  c->add_option("--checkpoint-every", a->cfg.checkpoint_every,
                "Checkpoint interval (steps; always at the end and on Ctrl-C)")
      ->check(NonNegative);
  c->add_flag("--right-to-left", a->cfg.right_to_left,
              "Read the text from its end: p(x_T) p(x_{T-1} | x_T) ... (sample and eval-lm read the model "
              "backwards too)");
  c->add_option("--sample-length", a->sample_length, "Tokens to sample at the end (0: none)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--temperature", a->temperature, "Sampling temperature of that sample (> 0)")
      ->capture_default_str()
      ->check(Positive);
  c->callback([a, time, &action] {
    check_usage(!a->cfg.train.cosine_schedule || time->count() == 0,
                "--lr-schedule cosine needs a known length: give --steps or --epochs, not --time");
    action = [a] { run(*a); };
  });
}

}  // namespace recur::cli
