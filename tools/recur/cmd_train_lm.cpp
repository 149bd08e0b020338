// `recur train-lm`: trains a character-level language model on a text file and reports validation
// bits per character and perplexity, then prints a sample.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "recur/core/gemm.h"
#include "recur/train/lm_trainer.h"

namespace recur::cli {
namespace {

struct TrainLmArgs {
  LmTrainConfig cfg;
  std::string cell = "lstm", optimizer = "adam", init = "uniform";
  int64_t hidden = 256;
  int layers = 2;
  double lr = 2e-3, weight_decay = 0;
  int threads = 0;
};

void run(TrainLmArgs a) {
  a.cfg.rnn.cell = parse_cell(a.cell);
  a.cfg.init = parse_recurrent_init(a.init);
  a.cfg.rnn.hidden_size = a.hidden;
  a.cfg.rnn.num_layers = a.layers;
  a.cfg.rnn.input_size = a.cfg.embed;
  a.cfg.optimizer.kind = parse_optimizer_kind(a.optimizer);
  a.cfg.optimizer.lr = a.lr;
  a.cfg.optimizer.weight_decay = a.weight_decay;
  set_num_threads(a.threads);
  const LmTrainResult r = train_char_lm(a.cfg, std::cerr);
  std::printf("validation: %.4f bits/char, perplexity %.3f over %lld characters\n", r.val_bpc,
              r.val_perplexity, (long long)r.val_chars);
  std::printf("trained %lld characters in %.1f s (%.0f chars/s)\n", (long long)r.tokens_trained,
              r.seconds, double(r.tokens_trained) / r.seconds);
  if (!a.cfg.out_path.empty()) std::printf("model written to %s\n", a.cfg.out_path.c_str());
  std::printf("sample (temperature %.2f):\n%s\n", a.cfg.temperature, r.sample.c_str());
}

}  // namespace

void add_train_lm(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainLmArgs>();
  CLI::App* c = app.add_subcommand(
      "train-lm",
      "Train a character-level language model on a text file (stateful truncated BPTT over "
      "contiguous streams). The last --val-fraction of the file is the validation split.");
  c->add_option("--text", a->cfg.text_path, "Training text file")->required()->check(CLI::ExistingFile);
  c->add_option("--out", a->cfg.out_path, "Write the trained model here (.safetensors)");
  c->add_option("--cell", a->cell, "Recurrent cell")
      ->capture_default_str()
      ->check(CLI::IsMember({"lstm", "gru", "rnn_tanh", "rnn_relu"}));
  c->add_option("--hidden", a->hidden, "Hidden size")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--layers", a->layers, "Stacked layers")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--embed", a->cfg.embed, "Embedding size")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--init", a->init, "Recurrent weights: uniform (PyTorch), orthogonal, identity (IRNN)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "orthogonal", "identity"}));
  c->add_option("--dropout", a->cfg.rnn.dropout, "Dropout between layers")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  c->add_option("--seq-len", a->cfg.seq_len, "BPTT window (characters)")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--batch", a->cfg.batch, "Parallel streams")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--steps", a->cfg.steps, "Parameter updates")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--optimizer", a->optimizer, "sgd, adam or adamw")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  c->add_option("--lr", a->lr, "Learning rate")->capture_default_str();
  c->add_option("--clip", a->cfg.clip, "Clip gradients to this global norm (0: off)")->capture_default_str();
  c->add_option("--weight-decay", a->weight_decay, "L2 weight decay (decoupled for adamw)")->capture_default_str();
  c->add_option("--val-fraction", a->cfg.val_fraction, "Tail fraction used for validation")->capture_default_str();
  c->add_option("--seed", a->cfg.seed, "Random seed (initialisation, dropout, sampling)")->capture_default_str();
  c->add_option("--threads", a->threads, "GEMM threads (0: all cores)")->capture_default_str();
  c->add_option("--log-every", a->cfg.log_every, "Print progress every N steps")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--sample-length", a->cfg.sample_length, "Characters to sample at the end")->capture_default_str();
  c->add_option("--temperature", a->cfg.temperature, "Sampling temperature")->capture_default_str();
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
