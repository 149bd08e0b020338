// `recur train-seq2seq`, `recur eval-seq2seq` and `recur translate`: encoder-decoder models
// (N -> M) on pairs files (source<TAB>target), e.g. grapheme-to-phoneme from `recur data cmudict`.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "train_options.h"
#include "recur/core/gemm.h"
#include "recur/train/seq2seq_trainer.h"

namespace recur::cli {
namespace {

struct DecodeFlags {
  int64_t beam = 5;
  double alpha = 1.0;
  int64_t max_len = 0;
};

void add_decode_options(CLI::App* c, DecodeFlags& d, const char* beam_help) {
  c->add_option("--beam", d.beam, beam_help)->capture_default_str()->check(Positive);
  c->add_option("--length-alpha", d.alpha,
                "Beam search: rank outputs by log P / (length + 1)^alpha (0: raw log P)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 4.0));
  c->add_option("--max-len", d.max_len, "Longest output (0: 2 x source length + 10)")
      ->capture_default_str()
      ->check(NonNegative);
}

DecodeOptions decode_options(const DecodeFlags& d) {
  DecodeOptions o;
  o.beam = d.beam;
  o.alpha = d.alpha;
  o.max_len = d.max_len;
  return o;
}

struct TrainArgs {
  Seq2SeqTrainConfig cfg;
  NetworkOptions net{.hidden = 128};
  DecodeFlags decode;
  int64_t decoder_hidden = 0;
  int decoder_layers = 0;
  std::string context = "bahdanau", use = "both", sampling = "constant";
  int threads = 0;
};

void run_train(TrainArgs a) {
  apply(a.net, a.cfg.encoder, &a.cfg.init);
  a.cfg.dropout = a.net.dropout;  // also on the embeddings and o_t, not only between layers
  if (a.net.rnn.empty()) a.cfg.encoder.bidirectional = !a.net.unidirectional;
  a.cfg.decoder = a.cfg.encoder.top();  // a mixed encoder's top segment
  if (a.cfg.decoder.own_loop()) {  // the decoder steps one token at a time: a tanh RNN
    a.cfg.decoder = RnnConfig();
    a.cfg.decoder.cell = CellKind::rnn_tanh;
  }
  a.cfg.decoder.bidirectional = false;
  a.cfg.decoder.merge = DirectionMerge::concat;
  a.cfg.decoder.hidden_size =
      a.decoder_hidden > 0 ? a.decoder_hidden : a.cfg.encoder.output_size();
  if (a.decoder_layers > 0) a.cfg.decoder.num_layers = a.decoder_layers;
  a.cfg.context = parse_context_kind(a.context);
  a.cfg.use = parse_context_use(a.use);
  a.cfg.sampling = parse_sampling_schedule(a.sampling);
  a.cfg.decode = decode_options(a.decode);
  start_run(a.cfg.train, a.threads);
  const Seq2SeqTrainResult r = train_seq2seq(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  auto line = [](const char* split, const char* how, const Seq2SeqEvaluation& ev) {
    std::printf("%s (%s): PER %.2f%%  WER %.2f%%  (%lld sources, loss %.4f)\n", split, how,
                100 * ev.errors.token_error_rate(), 100 * ev.errors.sequence_error_rate(),
                (long long)ev.errors.items, ev.loss_nats);
  };
  line("validation", "greedy", r.validation);
  const std::string how = a.cfg.decode.beam > 1 ? "beam " + std::to_string(a.cfg.decode.beam) : "greedy";
  if (r.test.errors.items > 0) line("test", how.c_str(), r.test);
  print_epoch_run(r, a.cfg.train);
}

struct EvalArgs {
  std::string model, data;
  DecodeFlags decode;
  int threads = 0;
};

void run_eval(const EvalArgs& a) {
  set_num_threads(a.threads);
  const Seq2SeqModel m = load_seq2seq_model(a.model);
  const Seq2SeqEvaluation ev = evaluate_seq2seq(m, read_sequence_pairs(a.data), decode_options(a.decode));
  std::printf("%s", seq2seq_report(ev).c_str());
}

struct TranslateArgs {
  std::string model;
  TextInputs texts;
  DecodeFlags decode;
  bool chars = false;
  int64_t nbest = 1;
  int threads = 0;
};

// One source per TEXT argument, line of --text or of standard input: its space-separated tokens, or with --chars
// its characters (bytes; spaces dropped). Prints the output tokens, one line per source; with
// --nbest N > 1 the N best outputs of the beam, each with its score and log-probability.
void run_translate(const TranslateArgs& a) {
  set_num_threads(a.threads);
  const Seq2SeqModel m = load_seq2seq_model(a.model);
  const std::vector<std::string> lines = read_text_inputs(a.texts, /*keep_empty=*/true);
  RECUR_CHECK(!lines.empty(), "nothing to translate: give a TEXT argument, --text FILE or lines "
                              "on standard input");
  for (const std::string& line : lines) {
    const std::vector<std::string> src = split_source(line, a.chars);
    if (src.empty()) {
      std::printf("\n");
      continue;
    }
    if (a.nbest > 1) {
      const auto hyps = seq2seq_beam(m.net, m.encode_source(src), a.decode.beam, a.decode.alpha,
                                     a.decode.max_len);
      for (size_t i = 0; i < hyps.size() && int64_t(i) < a.nbest; ++i)
        std::printf("%s\t%s\tscore %.4f\tlog P %.4f\n", join_tokens(src).c_str(),
                    join_tokens(m.decode_target(hyps[i].tokens)).c_str(), hyps[i].score, hyps[i].log_prob);
      continue;
    }
    DecodeOptions o = decode_options(a.decode);
    std::printf("%s\n", join_tokens(decode_sources(m, {&src}, o)[0]).c_str());
  }
}

}  // namespace

void add_seq2seq(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand(
      "train-seq2seq",
      "Train an encoder-decoder (N -> M) on pairs files (source<TAB>target, tokens separated by "
      "spaces), e.g. from `recur data cmudict`. The encoder is a (bidirectional) RNN; the decoder "
      "an RNN that reads the encoder through its context: the final state h_N (last), g(h_N) "
      "(bridge), or attention (bahdanau: additive; dot, general: Luong's, with input feeding). "
      "Writes the model, <out>.metrics.jsonl, <out>.svg and <out>.ckpt.safetensors; Ctrl-C "
      "writes the checkpoint and stops.");
  c->add_option("--train", a->cfg.train_path, "Training pairs (source<TAB>target)")->required();
  c->add_option("--valid", a->cfg.valid_path, "Validation pairs (same format)")->required();
  c->add_option("--test", a->cfg.test_path, "Test pairs, reported at the end (optional)");
  c->add_option("--max-tokens", a->cfg.max_tokens, "Cap of each vocabulary (others are <unk>)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--min-count", a->cfg.min_count, "Training occurrences a token needs for its own id")
      ->capture_default_str()
      ->check(Positive);
  add_network_options(c, a->net);
  c->get_option("--dropout")
      ->description("Dropout on both embeddings and the decoder's output, and between layers");
  add_unidirectional_option(c, a->net, "One-directional encoder (default: bidirectional)");
  c->add_option("--decoder-hidden", a->decoder_hidden,
                "Decoder hidden size (0: the encoder's output width, directions x --hidden)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--decoder-layers", a->decoder_layers, "Decoder layers (0: as --layers)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--embed", a->cfg.source_embed, "Source token embedding size")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--target-embed", a->cfg.target_embed, "Target token embedding size")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--context", a->context,
                "What links encoder and decoder: last (h_N), bridge (tanh(W h_N + b)), bahdanau "
                "(additive attention), dot or general (Luong attention)")
      ->capture_default_str()
      ->check(CLI::IsMember({"last", "bridge", "bahdanau", "dot", "general"}));
  c->add_option("--context-use", a->use,
                "How a fixed context enters the decoder: init (initial state), input (every "
                "step), both; with attention, both also starts the decoder from the bridge")
      ->capture_default_str()
      ->check(CLI::IsMember({"init", "input", "both"}));
  c->add_option("--attention-size", a->cfg.attention_size,
                "Bahdanau attention's hidden size (0: the decoder's)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--teacher-forcing", a->cfg.teacher_forcing_start,
                "Probability of feeding the true previous token (at the start of a schedule)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--teacher-forcing-end", a->cfg.teacher_forcing_end,
                "Scheduled sampling: the probability at the end of training")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--sampling-schedule", a->sampling,
                "Scheduled sampling: constant, linear or inverse-sigmoid from --teacher-forcing "
                "to --teacher-forcing-end over the run")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "linear", "inverse-sigmoid"}));
  add_decode_options(c, a->decode, "Decoding of the final test report: beam width (1: greedy)");
  add_train_settings(c, a->cfg.train, a->threads);
  // Here --dropout also drops embeddings and outputs, so it stays beside --rnn.
  c->get_option("--rnn")->remove_excludes(c->get_option("--dropout"));
  c->callback([a, &action] { action = [a] { run_train(*a); }; });

  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand(
      "eval-seq2seq",
      "Score a trained encoder-decoder on a pairs file: token error rate (PER) and sequence error "
      "rate (WER) of its decoding against the references (pairs that share a source are one item "
      "with several references; the closest counts), and the teacher-forced loss.");
  ev->add_option("--model", e->model, "Model written by train-seq2seq")->required();
  ev->add_option("--data", e->data, "Pairs file (source<TAB>target)")->required();
  add_decode_options(ev, e->decode, "Beam width (1: greedy)");
  add_threads_option(ev, e->threads);
  ev->callback([e, &action] { action = [e] { run_eval(*e); }; });

  auto t = std::make_shared<TranslateArgs>();
  CLI::App* tr = app.add_subcommand(
      "translate",
      "Decode sources with a trained encoder-decoder, one per TEXT argument, line of --text FILE "
      "or else line of standard input "
      "(space-separated tokens, or characters with --chars): prints the output tokens, or with "
      "--nbest the beam's best outputs with their scores.");
  tr->add_option("--model", t->model, "Model written by train-seq2seq")->required();
  add_text_inputs(tr, t->texts, "source");
  tr->add_flag("--chars", t->chars, "Each character of the line is a token (spelling input)");
  tr->add_option("--nbest", t->nbest, "Print this many beam outputs with their scores")
      ->capture_default_str()
      ->check(Positive);
  add_decode_options(tr, t->decode, "Beam width (1: greedy)");
  add_threads_option(tr, t->threads);
  tr->callback([t, &action] {
    check_usage(t->nbest <= t->decode.beam, "--nbest " + std::to_string(t->nbest) +
                                                " needs --beam of at least as many, got --beam " +
                                                std::to_string(t->decode.beam));
    action = [t] { run_translate(*t); };
  });
}

}  // namespace recur::cli
