// `recur train-tagger`, `recur eval-tagger` and `recur tag`: synchronous tagging (N -> N) of
// CoNLL-style files, e.g. punctuation and capitalisation restoration (`recur data kjv-punct`).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "train_options.h"
#include "recur/core/gemm.h"
#include "recur/io/file.h"
#include "recur/train/tagger_trainer.h"

namespace recur::cli {
namespace {

struct TrainTaggerArgs {
  TaggerTrainConfig cfg;
  NetworkOptions net{.hidden = 128};
  int threads = 0;
};

void run_train(TrainTaggerArgs a) {
  apply(a.net, a.cfg.rnn, &a.cfg.init);
  if (a.net.rnn.empty()) a.cfg.rnn.bidirectional = !a.net.unidirectional;
  start_run(a.cfg.train, a.threads);
  const TaggerTrainResult r = train_tagger(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  auto line = [](const char* split, const TaggerEvaluation& ev) {
    std::printf("%s token accuracy: %.4f (%lld tokens)", split, ev.tokens.accuracy(),
                (long long)ev.tokens.examples);
    if (ev.restoration)
      std::printf("  punctuation F1: %.4f  capitalisation F1: %.4f", ev.model.punct_present.f1(),
                  ev.model.capitalised.f1());
    std::printf("  majority baseline: %.4f\n", ev.majority_accuracy());
  };
  line("validation", r.validation);
  if (r.test.sequences > 0) line("test", r.test);
  print_epoch_run(r, a.cfg.train, "confusion", a.cfg.confusion_path());
}

struct EvalArgs {
  std::string model, data, confusion;
  int64_t batch = 64;
  int threads = 0;
};

void run_eval(const EvalArgs& a) {
  set_num_threads(a.threads);
  const TaggerModel m = load_tagger_model(a.model);
  const std::vector<TagExample> ex = encode_tagged(read_conll(a.data), m.words, m.tags, a.data);
  const TaggerEvaluation ev = evaluate_tagger(m.net, m.tags, ex, a.batch);
  std::printf("%s", tagging_report(ev, m.tags).c_str());
  if (!a.confusion.empty()) {
    write_file_atomic(a.confusion,
                      confusion_svg(ev.tokens, m.tags, "recur eval-tagger: " + a.model));
    std::printf("confusion matrix: %s\n", a.confusion.c_str());
  }
}

struct TagArgs {
  std::string model;
  TextInputs texts;
  int64_t batch = 64;
  int threads = 0;
};

// One sequence per TEXT argument, line of --text or of standard input. A restoration model reads any text as its words
// (lower-cased, punctuation stripped) and prints it restored; any other tagger reads
// whitespace-separated tokens and prints token/TAG pairs.
void run_tag(const TagArgs& a) {
  set_num_threads(a.threads);
  const TaggerModel m = load_tagger_model(a.model);
  const bool restore = is_restoration_tagset(m.tags);
  const std::vector<std::string> lines = read_text_inputs(a.texts, /*keep_empty=*/true);
  RECUR_CHECK(!lines.empty(), "nothing to tag: give a TEXT argument, --text FILE or lines on "
                              "standard input");
  std::vector<std::vector<std::string>> words(lines.size());
  std::vector<TagExample> ex;
  std::vector<size_t> which;  // input line of each example (lines without words are echoed empty)
  for (size_t i = 0; i < lines.size(); ++i) {
    if (restore) {
      words[i] = plain_words(lines[i]);
    } else {
      std::istringstream in(lines[i]);
      for (std::string w; in >> w;) words[i].push_back(w);
    }
    if (words[i].empty()) continue;
    ex.push_back({m.words.encode(words[i]), {}});
    which.push_back(i);
  }
  std::vector<std::vector<int64_t>> pred;
  if (!ex.empty()) pred = predict_tags(m.net, ex, a.batch);
  std::vector<std::string> out(lines.size());
  for (size_t k = 0; k < ex.size(); ++k) {
    const std::vector<std::string>& w = words[which[k]];
    std::string& o = out[which[k]];
    if (restore) {
      std::vector<RestorationTag> tags(w.size());
      for (size_t j = 0; j < w.size(); ++j)
        parse_restoration_tag(m.tags.name(pred[k][j]), &tags[j]);
      o = restore_text(w, tags);
    } else {
      for (size_t j = 0; j < w.size(); ++j)
        o += (j ? " " : "") + w[j] + "/" + m.tags.name(pred[k][j]);
    }
  }
  for (const std::string& o : out) std::printf("%s\n", o.c_str());
}

}  // namespace

void add_tagger(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainTaggerArgs>();
  CLI::App* c = app.add_subcommand(
      "train-tagger",
      "Train a synchronous tagger (N -> N: one tag per token) on CoNLL-style files (token<TAB>tag "
      "lines, an empty line between sequences), e.g. from `recur data kjv-punct`. Embedding -> "
      "(bidirectional) RNN -> softmax per token. Writes the model, <out>.metrics.jsonl, <out>.svg, "
      "<out>.confusion.svg and <out>.ckpt.safetensors; Ctrl-C writes the checkpoint and stops.");
  c->add_option("--train", a->cfg.train_path, "Training sequences (CoNLL: token<TAB>tag)")
      ->required();
  c->add_option("--valid", a->cfg.valid_path, "Validation sequences (same format)")->required();
  c->add_option("--test", a->cfg.test_path, "Test sequences, reported at the end (optional)");
  c->add_option("--max-words", a->cfg.max_words, "Input vocabulary cap (others are <unk>)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--min-count", a->cfg.min_count,
                "Training occurrences a word needs for its own id (rarer ones train <unk>)")
      ->capture_default_str()
      ->check(Positive);
  add_network_options(c, a->net);
  add_unidirectional_option(
      c, a->net,
      "One direction only (default: bidirectional; a mark after a word depends on the next)");
  c->add_option("--embed", a->cfg.embed, "Word embedding size")
      ->capture_default_str()
      ->check(Positive);
  add_train_settings(c, a->cfg.train, a->threads);
  c->callback([a, &action] { action = [a] { run_train(*a); }; });

  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand(
      "eval-tagger",
      "Score a trained tagger on a CoNLL file: token accuracy, the majority-tag baseline, "
      "per-tag precision/recall/F1 and the confusion matrix; for punctuation restoration also "
      "punctuation and capitalisation F1 beside a positional baseline.");
  ev->add_option("--model", e->model, "Tagger written by train-tagger")->required();
  ev->add_option("--data", e->data, "Tagged sequences (token<TAB>tag)")->required();
  ev->add_option("--confusion", e->confusion, "Write the confusion matrix as SVG here");
  ev->add_option("--batch", e->batch, "Sequences per forward pass")
      ->capture_default_str()
      ->check(Positive);
  add_threads_option(ev, e->threads);
  ev->callback([e, &action] { action = [e] { run_eval(*e); }; });

  auto t = std::make_shared<TagArgs>();
  CLI::App* tg = app.add_subcommand(
      "tag",
      "Tag text with a trained tagger, one sequence per TEXT argument, line of --text FILE or "
      "else line of standard input. A "
      "punctuation-restoration model reads any text as lower-cased words without punctuation and "
      "prints it capitalised and punctuated; other taggers print token/TAG.");
  tg->add_option("--model", t->model, "Tagger written by train-tagger")->required();
  add_text_inputs(tg, t->texts, "text");
  tg->add_option("--batch", t->batch, "Lines per forward pass")
      ->capture_default_str()
      ->check(Positive);
  add_threads_option(tg, t->threads);
  tg->callback([t, &action] { action = [t] { run_tag(*t); }; });
}

}  // namespace recur::cli
