// `recur eval-lm`: bits per token and perplexity of a trained language model on a text file.
#include <cstdio>

#include "commands.h"
#include "recur/core/gemm.h"
#include "recur/io/file.h"
#include "recur/models/language_model.h"

namespace recur::cli {
namespace {

struct EvalArgs {
  std::string model, text;
  int64_t seq_len = 100, streams = 1;
  int threads = 0;
};

void run(const EvalArgs& a) {
  set_num_threads(a.threads);
  const LanguageModel lm = load_language_model(a.model);
  const std::string text = read_file_bytes(a.text);
  RECUR_CHECK(!text.empty(), "'" << a.text << "' is empty; expected text to evaluate");
  const std::vector<int64_t> ids = encode_in_model_order(lm, text, a.text);
  RECUR_CHECK(ids.size() >= 2, "'" << a.text << "' holds fewer than 2 tokens");
  const LmEvaluation ev = evaluate_language_model(lm.net, ids, a.seq_len, a.streams);
  const bool chars = lm.vocab.mode() == TokenMode::chars;
  std::printf("%s: %.4f %s, perplexity %.3f, %lld %s evaluated\n", a.text.c_str(),
              ev.bits_per_token(), chars ? "bits/char" : "bits/word", ev.perplexity(),
              (long long)ev.tokens, chars ? "characters" : "words");
}

}  // namespace

void add_eval_lm(CLI::App& app, Action& action) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = app.add_subcommand(
      "eval-lm",
      "Bits per token and perplexity of a train-lm model on a text file. The text is read as "
      "--streams contiguous pieces in windows of --seq-len, the state carried across windows.");
  c->add_option("--model", a->model, "Language model (.safetensors from train-lm)")->required();
  c->add_option("--text", a->text, "Text to evaluate")->required();
  c->add_option("--seq-len", a->seq_len, "Window length")->capture_default_str()->check(Positive);
  c->add_option("--streams", a->streams, "Parallel pieces")->capture_default_str()->check(Positive);
  add_threads_option(c, a->threads);
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
