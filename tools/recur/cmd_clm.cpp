// `recur train-clm` and `recur sample-clm`: a conditional language model (1 -> N), e.g. fortunes
// written in a requested language, or a description written for a vector; with --classifier,
// sample-clm checks what it wrote with a text classifier (is the text recognised as the language
// asked for?), with --expect against the expected texts.
#include <cstdio>
#include <iostream>
#include <limits>

#include "commands.h"
#include "train_options.h"
#include "recur/models/classifier_model.h"
#include "recur/train/clm_trainer.h"

namespace recur::cli {
namespace {

struct TrainArgs {
  ClmTrainConfig cfg;
  std::string mode = "both", ending = "eos", time_input = "none";
  NetworkOptions net{.hidden = 256};
  int threads = 0;
};

void run_train(TrainArgs a) {
  a.cfg.mode = parse_condition_mode(a.mode);
  a.cfg.ending = parse_sequence_ending(a.ending);
  a.cfg.time_input = parse_time_input(a.time_input);
  apply(a.net, a.cfg.rnn, nullptr);
  start_run(a.cfg.train, a.threads);
  const ClmTrainResult r = train_conditional_lm(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  std::printf("validation: %.4f bits/byte\ntrained %lld epochs (%lld steps) in %.1f s\nmodel: %s\n",
              r.validation_bits, (long long)r.epochs_done, (long long)r.steps_done, r.seconds,
              a.cfg.train.out_path.c_str());
}

struct SampleArgs {
  std::string model, condition, classifier, input, expect;
  int64_t count = 5, length = 200, top_k = 0, target_length = 0;
  double temperature = 0.8;
  uint64_t seed = 1;
  bool quiet = false;
};

// A model of vectors: one text per row of --input, a line each; with --expect (a text per
// line), the count of texts equal to their expected line.
void sample_vectors(const ConditionalTextModel& m, const SampleArgs& a) {
  const int64_t K = m.net.config.conditions;
  RECUR_CHECK(!a.input.empty() && a.condition.empty(),
              a.model << " writes for condition vectors of " << K << " values: give --input X.npy (N, "
                      << K << ")");
  const Tensor<float> x = read_condition_vectors(a.input);
  RECUR_CHECK(x.shape[1] == K, a.input << ": shape " << x.shape_string() << "; expected (N, " << K << ")");
  std::vector<std::string> expected;
  if (!a.expect.empty()) {
    expected = read_text_lines(a.expect, std::numeric_limits<int64_t>::max());
    RECUR_CHECK(int64_t(expected.size()) == x.shape[0],
                a.expect << " has " << expected.size() << " lines; " << a.input << " has "
                         << x.shape[0] << " vectors");
  }
  Rng rng(a.seed);
  const std::vector<std::string> texts =
      sample_conditional_lm(m.net, x.data, a.length, a.temperature, a.top_k, rng, a.target_length);
  int64_t right = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!expected.empty()) right += texts[i] == expected[i];
    if (a.quiet) continue;
    if (expected.empty())
      std::printf("%s\n", texts[i].c_str());
    else
      std::printf("[%s] %s\n", expected[i].c_str(), texts[i].c_str());
  }
  if (!expected.empty())
    std::printf("exact match: %lld of %zu (%.1f%%)\n", (long long)right, texts.size(),
                100.0 * double(right) / double(texts.size()));
}

void run_sample(const SampleArgs& a) {
  const ConditionalTextModel m = load_conditional_text_model(a.model);
  if (m.net.config.vectors) return sample_vectors(m, a);
  RECUR_CHECK(a.input.empty() && a.expect.empty(),
              a.model << " writes for classes (--condition), not for vectors (--input, --expect)");
  std::vector<int64_t> conds;
  if (a.condition.empty()) {
    for (int64_t k = 0; k < m.conditions.size(); ++k) conds.push_back(k);
  } else {
    conds.push_back(m.conditions.id(a.condition, "--condition"));
  }
  ClassifierModel judge;
  const bool judged = !a.classifier.empty();
  if (judged) {
    judge = load_classifier_model(a.classifier);
    RECUR_CHECK(judge.input == ClassifierInput::text, a.classifier << " does not classify text");
  }
  Rng rng(a.seed);
  int64_t all_right = 0, all_total = 0;
  for (int64_t k : conds) {
    const std::string& name = m.conditions.name(k);
    const std::vector<std::string> texts =
        sample_conditional_lm(m.net, k, a.count, a.length, a.temperature, a.top_k, rng, a.target_length);
    std::vector<int64_t> predicted(texts.size(), -1);
    if (judged) {
      std::vector<Example> ex;
      for (const std::string& t : texts) {
        Example e;
        e.tokens = judge.encoder.encode(t.empty() ? std::string(" ") : t, judge.max_len, "a sample");
        e.steps = int64_t(e.tokens.size());
        e.label = 0;
        ex.push_back(std::move(e));
      }
      const Tensor<float> p = classifier_probabilities(judge.net, ex, 64);
      const int64_t C = judge.labels.size();
      for (size_t i = 0; i < texts.size(); ++i) {
        const float* row = p.ptr() + int64_t(i) * C;
        predicted[i] = int64_t(std::max_element(row, row + C) - row);
      }
    }
    int64_t right = 0, bytes = 0;
    for (const std::string& t : texts) bytes += int64_t(t.size());
    std::printf("%s: %zu samples, mean length %.1f bytes (ending: %s)\n", name.c_str(), texts.size(),
                double(bytes) / double(texts.size()), sequence_ending_name(m.net.config.ending));
    for (size_t i = 0; i < texts.size(); ++i) {
      const bool ok = judged && judge.labels.name(predicted[i]) == name;
      right += ok;
      if (a.quiet) continue;
      std::string shown = texts[i];
      for (char& ch : shown)
        if (ch == '\n') ch = ' ';
      if (judged)
        std::printf("[%s -> %s] %s\n", name.c_str(), judge.labels.name(predicted[i]).c_str(), shown.c_str());
      else
        std::printf("[%s] %s\n", name.c_str(), shown.c_str());
    }
    if (judged)
      std::printf("%s: %lld of %lld samples recognised as %s (%.1f%%)\n", name.c_str(),
                  (long long)right, (long long)texts.size(), name.c_str(),
                  100.0 * double(right) / double(texts.size()));
    all_right += right;
    all_total += int64_t(texts.size());
  }
  if (judged && conds.size() > 1)
    std::printf("all conditions: %lld of %lld recognised (%.1f%%)\n", (long long)all_right,
                (long long)all_total, 100.0 * double(all_right) / double(all_total));
}

}  // namespace

void add_clm(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand(
      "train-clm",
      "Train a conditional byte-level language model (1 -> N) on labelled text, each label a "
      "condition to write for, or on your own condition vectors (--arrays). Writes the model, <out>.metrics.jsonl, <out>.svg and "
      "<out>.ckpt.safetensors; Ctrl-C writes the checkpoint and stops.");
  auto* train = c->add_option("--train", a->cfg.train_path, "Training texts (label<TAB>text)");
  c->add_option("--valid", a->cfg.valid_path, "Validation texts (same format)")->needs(train);
  c->add_option("--arrays", a->cfg.arrays_dir,
                "Vectors instead of labels: a directory with x_train.npy (N, K), a condition vector "
                "per text, y_train.txt with the texts (a line each), and the same for valid")
      ->excludes(train);
  c->add_option("--condition-mode", a->mode,
                "How the condition enters: init (initial state), input (every step), both, or "
                "first (input at the first step only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"init", "input", "both", "first"}));
  c->add_option("--ending", a->ending,
                "How samples end: eos (end symbol), stop (learned stop probability) or length "
                "(predicted length)")
      ->capture_default_str()
      ->check(CLI::IsMember({"eos", "stop", "length"}));
  c->add_option("--time-input", a->time_input,
                "Time as an input at every step: none, index (the step) or remaining (the bytes "
                "still to write; sample-clm then takes --target-length)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "index", "remaining"}));
  c->add_option("--max-len", a->cfg.max_len, "Bytes kept per text")->capture_default_str()->check(Positive);
  c->add_option("--embed", a->cfg.embed, "Byte embedding size")->capture_default_str()->check(Positive);
  c->add_option("--cond-embed", a->cfg.cond_embed, "Condition embedding size (input, both)")
      ->capture_default_str()
      ->check(Positive);
  add_network_options(c, a->net, /*with_init=*/false);
  add_train_settings(c, a->cfg.train, a->threads);
  c->callback([a, c, &action] {
    check_usage(c->count("--train") + c->count("--valid") == 2 || c->count("--arrays") == 1,
                "give the data one way: --train and --valid (labelled text) or --arrays (vectors and "
                "their texts)");
    action = [a] { run_train(*a); };
  });

  auto s = std::make_shared<SampleArgs>();
  CLI::App* sc = app.add_subcommand(
      "sample-clm",
      "Generate texts for a condition with a model from train-clm (every condition when "
      "--condition is not given), or one for each vector of --input; with --classifier, report how "
      "many are recognised as the condition asked for, with --expect how many are exact.");
  sc->add_option("--model", s->model, "Model written by train-clm")->required();
  sc->add_option("--condition", s->condition, "Condition (label) to write for (default: each)");
  sc->add_option("--count", s->count, "Texts per condition")->capture_default_str()->check(Positive);
  sc->add_option("--length", s->length, "Maximum bytes per text")->capture_default_str()->check(Positive);
  sc->add_option("--temperature", s->temperature, "Sampling temperature")
      ->capture_default_str()
      ->check(Positive);
  sc->add_option("--top-k", s->top_k, "Sample among the k most likely bytes (0: all)")
      ->capture_default_str()
      ->check(NonNegative);
  sc->add_option("--seed", s->seed, "Random seed")->capture_default_str();
  sc->add_option("--classifier", s->classifier, "A text classifier (train-classifier) to judge the samples");
  sc->add_option("--target-length", s->target_length,
                 "Models with the remaining length as input: the bytes to write (at most --length)")
      ->check(Positive);
  sc->add_option("--input", s->input, "Vector models: the condition vectors, .npy (N, K); a text each");
  sc->add_option("--expect", s->expect, "Vector models: the expected texts, a line each; reports exact matches");
  sc->add_flag("--quiet", s->quiet, "Print only the recognition summary");
  sc->callback([s, &action] { action = [s] { run_sample(*s); }; });
}

}  // namespace recur::cli
