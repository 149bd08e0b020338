// `recur ngram`: fits a count-based n-gram language model (interpolated modified Kneser-Ney) on a
// text file and reports validation bits per token and perplexity, the baseline for train-lm.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/data/vocab.h"
#include "recur/io/file.h"
#include "recur/models/ngram.h"

namespace recur::cli {
namespace {

struct NgramArgs {
  std::string text_path, eval_path, tokens = "char";
  int order = 5, max_order = 0;
  bool sweep = false;  // --max-order was given
  int64_t max_words = 10000;
  double val_fraction = 0.05;
};

struct OrderResult {
  int order = 0;
  double bits = 0, perplexity = 0, fit_seconds = 0;
  int64_t ngrams = 0;
};

void run(const NgramArgs& a) {
  const TokenMode mode = parse_token_mode(a.tokens);
  const int first = a.sweep ? 1 : a.order;
  const int last = a.sweep ? a.max_order : a.order;

  const std::string text = read_file_bytes(a.text_path);
  RECUR_CHECK(!text.empty(), "'" << a.text_path << "' is empty; expected text");
  const TextSplit split = split_text_tail(text, a.val_fraction);
  RECUR_CHECK(!split.train.empty(), "'" << a.text_path << "': the training part is empty (the last "
                                        << a.val_fraction * 100
                                        << "% is validation); use a smaller --val-fraction");
  const Vocab vocab = Vocab::build(split.train, mode, a.max_words, a.text_path);
  const std::vector<int64_t> train = vocab.encode(split.train, a.text_path);
  const char* unit = mode == TokenMode::chars ? "char" : "word";
  const char* units = mode == TokenMode::chars ? "characters" : "words";
  RECUR_CHECK(!train.empty(), "'" << a.text_path << "': the training part holds no " << units);

  std::vector<int64_t> eval;
  std::string eval_name;
  if (a.eval_path.empty()) {
    eval_name = "validation";
    RECUR_CHECK(!split.validation.empty(),
                "'" << a.text_path << "' is too short: its validation split (the last "
                    << a.val_fraction * 100
                    << "%, moved to the next whitespace) is empty; use a longer text or a larger "
                       "--val-fraction");
    if (mode == TokenMode::chars) {
      // A byte the training part lacks: name its offset in the whole file.
      bool known[256] = {};
      for (int64_t id = 0; id < vocab.size(); ++id) known[(unsigned char)vocab.token(id)[0]] = true;
      for (size_t i = 0; i < split.validation.size(); ++i) {
        const unsigned char c = (unsigned char)split.validation[i];
        RECUR_CHECK(known[c], "'" << a.text_path << "': byte " << int(c) << " at offset "
                                  << split.train.size() + i
                                  << " is in the validation split but not in the training part, so "
                                     "the character model cannot score it; use a larger text or a "
                                     "different --val-fraction");
      }
    }
    eval = vocab.encode(split.validation, a.text_path);
  } else {
    eval_name = "eval";
    const std::string eval_text = read_file_bytes(a.eval_path);
    RECUR_CHECK(!eval_text.empty(), "'" << a.eval_path << "' is empty; expected text to evaluate");
    eval = vocab.encode(eval_text, a.eval_path);
  }
  RECUR_CHECK(!eval.empty(), "'" << (a.eval_path.empty() ? a.text_path : a.eval_path) << "': the "
                                 << eval_name << " text holds no " << units);

  std::cerr << "ngram: " << a.text_path << ": " << train.size() << " training " << units << ", "
            << eval.size() << " " << eval_name << " " << units << " (";
  if (a.eval_path.empty())
    std::cerr << "the last " << a.val_fraction * 100 << "%";
  else
    std::cerr << a.eval_path;
  std::cerr << "), vocabulary " << vocab.size() << "\n";

  OrderResult best;
  for (int order = first; order <= last; ++order) {
    const auto t0 = std::chrono::steady_clock::now();
    const NgramModel model = NgramModel::fit(train, vocab.size(), order);
    const auto t1 = std::chrono::steady_clock::now();
    const double nll = model.mean_nll(eval);
    OrderResult r;
    r.order = order;
    r.bits = nll / std::log(2.0);
    r.perplexity = std::exp(nll);
    r.fit_seconds = std::chrono::duration<double>(t1 - t0).count();
    r.ngrams = model.num_ngrams();
    std::printf(
        "order %d: %s %.4f bits/%s, perplexity %.3f over %lld %s (fit %.1f s, %lld n-grams)\n",
        order, eval_name.c_str(), r.bits, unit, r.perplexity, (long long)eval.size(), units,
        r.fit_seconds, (long long)r.ngrams);
    std::fflush(stdout);
    if (best.order == 0 || r.bits < best.bits) best = r;
  }
  if (a.sweep)
    std::printf("best: order %d: %s %.4f bits/%s, perplexity %.3f over %lld %s\n", best.order,
                eval_name.c_str(), best.bits, unit, best.perplexity, (long long)eval.size(), units);
}

}  // namespace

void add_ngram(CLI::App& app, Action& action) {
  auto a = std::make_shared<NgramArgs>();
  CLI::App* c = app.add_subcommand(
      "ngram",
      "Fit a count-based n-gram language model (interpolated modified Kneser-Ney smoothing) on a "
      "text file and report bits per token and perplexity: the baseline for train-lm. The text is "
      "split as train-lm splits it: the last --val-fraction is validation, the rest is training "
      "(the model is always fit on the training part).");
  c->add_option("--text", a->text_path, "Text file to fit on (and to validate on)")
      ->required()
      ->type_name("FILE");
  auto* order = c->add_option("--order", a->order,
                              "Markov order N: each token is predicted from the N-1 before it")
                    ->capture_default_str()
                    ->check(CLI::Range(1, NgramModel::kMaxOrder))
                    ->type_name("N");
  auto* max_order =
      c->add_option("--max-order", a->max_order,
                    "Fit and evaluate every order 1..N and report the best (instead of --order)")
          ->excludes(order)
          ->check(CLI::Range(1, NgramModel::kMaxOrder))
          ->type_name("N");
  c->add_option("--tokens", a->tokens,
                "Tokens: char (bytes) or word (words and punctuation; rare words become <unk>)")
      ->capture_default_str()
      ->check(CLI::IsMember({"char", "word"}))
      ->type_name("char|word");
  c->add_option("--max-words", a->max_words, "Word mode: keep the N most frequent training words")
      ->capture_default_str()
      ->check(Positive)
      ->type_name("N");
  c->add_option("--val-fraction", a->val_fraction, "Tail fraction of --text used for validation")
      ->capture_default_str()
      ->check(number_in(0, 1, /*open=*/true))
      ->type_name("X");
  c->add_option("--eval", a->eval_path,
                "Evaluate on this file instead of the validation split (char mode: it may only use "
                "characters of the training part; word mode: unknown words count as <unk>)")
      ->type_name("FILE");
  c->callback([a, max_order, &action] {
    a->sweep = max_order->count() > 0;
    action = [a] { run(*a); };
  });
}

}  // namespace recur::cli
