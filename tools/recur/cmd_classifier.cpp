// `recur train-classifier`, `recur eval-classifier` and `recur classify`: sequence classification
// (N -> 1) of labelled text, of images read row by row, or of the user's .npy arrays.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "train_options.h"
#include "recur/core/gemm.h"
#include "recur/data/arrays.h"
#include "recur/io/file.h"
#include "recur/train/classifier_trainer.h"

namespace recur::cli {
namespace {

struct TrainClassifierArgs {
  ClassifierTrainConfig cfg;
  std::string tokens = "char", head = "pool", pooling = "last", output = "softmax", keep = "first";
  NetworkOptions net{.hidden = 128};
  int threads = 0;
};

void run_train(TrainClassifierArgs a) {
  a.cfg.tokens = parse_token_mode(a.tokens);
  apply(a.net, a.cfg.rnn, &a.cfg.init);
  if (a.net.rnn.empty()) a.cfg.rnn.bidirectional = !a.net.unidirectional;
  a.cfg.head = parse_classifier_head(a.head);
  a.cfg.pooling = parse_pooling(a.pooling);
  a.cfg.output = parse_classifier_output(a.output);
  a.cfg.keep_last = a.keep == "last";
  start_run(a.cfg.train, a.threads);
  const ClassifierTrainResult r = train_classifier(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  // Accuracy, and for two classes the AUC, against always answering the most frequent class.
  auto report = [](const char* split, const ClassifierEvaluation& e) {
    std::printf("%s accuracy: %.4f (%lld examples; majority baseline %.4f)\n", split, e.accuracy(),
                (long long)e.examples, e.majority_accuracy());
    if (const double auc = e.auc(); !std::isnan(auc)) std::printf("%s AUC: %.4f\n", split, auc);
  };
  report("validation", r.validation);
  if (r.test.examples > 0) report("test", r.test);
  print_epoch_run(r, a.cfg.train, "confusion", a.cfg.confusion_path());
}

struct EvalArgs {
  std::string model, data, idx_dir, arrays, split = "test", confusion;
  int64_t batch = 64;
  double val_fraction = 0.1;
  int threads = 0;
};

std::vector<Example> examples_for(const ClassifierModel& m, const EvalArgs& a) {
  if (m.input != ClassifierInput::text) {
    const bool images = m.input == ClassifierInput::image_rows;
    RECUR_CHECK(!(images ? a.idx_dir : a.arrays).empty(),
                a.model << (images ? " reads images: give --idx-dir" : " reads arrays: give --arrays"));
    ClassifierData d = images ? load_classifier_images(a.idx_dir, a.val_fraction)
                              : load_classifier_arrays(a.arrays, a.val_fraction, m.labels.size(),
                                                       m.net.config.features);
    RECUR_CHECK(a.split != "test" || !d.test.empty(),
                a.arrays << " has no x_test.npy: give --split valid or train");
    if (a.split == "train") return d.train;
    if (a.split == "valid") return d.valid;
    return d.test;
  }
  RECUR_CHECK(!a.data.empty(), a.model << " reads text: give --data FILE (label<TAB>text lines)");
  return encode_labeled(read_labeled_tsv(a.data), m.encoder, m.labels, m.max_len, a.data);
}

void run_eval(const EvalArgs& a) {
  set_num_threads(a.threads);
  const ClassifierModel m = load_classifier_model(a.model);
  const std::vector<Example> ex = examples_for(m, a);
  const ClassifierEvaluation ev = evaluate_classifier(m.net, ex, a.batch);
  std::printf("%s", classification_report(ev, m.labels).c_str());
  if (!a.confusion.empty()) {
    write_file_atomic(a.confusion, confusion_svg(ev, m.labels, "recur eval-classifier: " + a.model));
    std::printf("confusion matrix: %s\n", a.confusion.c_str());
  }
}

struct ClassifyArgs {
  std::string model, input, lengths;
  TextInputs texts;
  int64_t top = 1;
};

// The examples to classify: texts, or for an array model the sequences of --input.
std::vector<Example> inputs_for(const ClassifierModel& m, const ClassifyArgs& a) {
  std::vector<Example> ex;
  if (m.input == ClassifierInput::arrays) {
    RECUR_CHECK(!a.input.empty(), a.model << " classifies arrays: give --input X.npy (N, T, F)");
    const LabeledArrays arr = read_labeled_arrays(a.input, "", a.lengths, ArrayLabels::per_sequence);
    RECUR_CHECK(arr.features() == m.net.config.features,
                a.input << ": " << arr.features() << " features per step; " << a.model << " reads "
                        << m.net.config.features);
    return array_examples(arr);
  }
  RECUR_CHECK(m.input == ClassifierInput::text && a.input.empty(),
              a.model << " classifies " << classifier_input_name(m.input)
                      << (a.input.empty() ? "" : ", not arrays (--input)")
                      << (m.input == ClassifierInput::text ? "" : "; use `recur eval-classifier`"));
  const std::vector<std::string> texts = read_text_inputs(a.texts, /*keep_empty=*/false);
  RECUR_CHECK(!texts.empty(), "nothing to classify: give a TEXT argument, --text FILE or lines on "
                              "standard input");
  for (size_t i = 0; i < texts.size(); ++i)
    ex.push_back({m.encoder.encode(texts[i], m.max_len, "text " + std::to_string(i + 1)),
                  {}, 0, 0});
  for (Example& e : ex) e.steps = int64_t(e.tokens.size());
  return ex;
}

// One text per argument, line of --text or of standard input, or one sequence per row of
// --input: prints the top classes with their probabilities.
void run_classify(const ClassifyArgs& a) {
  const ClassifierModel m = load_classifier_model(a.model);
  const std::vector<Example> ex = inputs_for(m, a);
  const Tensor<float> p = classifier_probabilities(m.net, ex, 64);
  const int64_t C = m.labels.size(), top = std::min<int64_t>(a.top, C);
  for (size_t i = 0; i < ex.size(); ++i) {
    std::vector<int64_t> order(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) order[size_t(c)] = c;
    const float* row = p.ptr() + int64_t(i) * C;
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int64_t x, int64_t y) { return row[x] > row[y]; });
    for (int64_t k = 0; k < top; ++k)
      std::printf("%s%s %.4f", k ? "  " : "", m.labels.name(order[size_t(k)]).c_str(),
                  double(row[order[size_t(k)]]));
    std::printf("\n");
  }
}

}  // namespace

void add_classifier(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainClassifierArgs>();
  CLI::App* c = app.add_subcommand(
      "train-classifier",
      "Train a sequence classifier (N -> 1) on labelled text files (label<TAB>text per line), on "
      "images read row by row (--idx-dir, Fashion-MNIST layout) or on your own arrays (--arrays). "
      "Writes the model, "
      "<out>.metrics.jsonl, <out>.svg, <out>.confusion.svg and <out>.ckpt.safetensors; Ctrl-C "
      "writes the checkpoint and stops.");
  c->add_option("--train", a->cfg.train_path, "Training examples (label<TAB>text)");
  c->add_option("--valid", a->cfg.valid_path, "Validation examples (same format)");
  c->add_option("--test", a->cfg.test_path, "Test examples, reported at the end (optional)");
  c->add_option("--idx-dir", a->cfg.idx_dir,
                "Images instead of text: a directory with train-/t10k- IDX files");
  c->add_option("--arrays", a->cfg.arrays_dir,
                "Arrays instead of text: a directory with x_train.npy (N,T,F), y_train.npy (N,), "
                "optional lengths_train.npy (N,), and the same for valid and test (both optional)");
  c->add_option("--val-fraction", a->cfg.val_fraction,
                "Images, arrays without valid: the tail of train held out for validation")
      ->capture_default_str()
      ->check(number_in(0, 0.5, /*open=*/true));
  c->add_option("--tokens", a->tokens, "Text: char (bytes) or word")
      ->capture_default_str()
      ->check(CLI::IsMember({"char", "word"}));
  c->add_option("--max-words", a->cfg.max_words, "Word mode: vocabulary cap (others are <unk>)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--max-len", a->cfg.max_len, "Text: tokens kept per example (see --keep)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--keep", a->keep,
                "Text over --max-len: keep its first or its last tokens (Keras's default)")
      ->capture_default_str()
      ->check(CLI::IsMember({"first", "last"}));
  add_network_options(c, a->net);
  add_unidirectional_option(c, a->net, "One direction only (default: bidirectional)");
  c->add_option("--embed", a->cfg.embed, "Text: embedding size")->capture_default_str()->check(Positive);
  c->add_option("--head", a->head,
                "pool (pooling of the encoder; last + bidirectional = Text-RNN v1), textrnn2 (a "
                "second LSTM over the encoder, Text-RNN v2) or rcnn (recurrent CNN)")
      ->capture_default_str()
      ->check(CLI::IsMember({"pool", "textrnn2", "rcnn"}));
  c->add_option("--pooling", a->pooling, "pool head: last, mean or max")
      ->capture_default_str()
      ->check(CLI::IsMember({"last", "mean", "max"}));
  c->add_option("--top-hidden", a->cfg.top_hidden, "textrnn2: second LSTM size; rcnn: projection size")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--dense", a->cfg.dense, "A ReLU layer of this size between the head and the output")
      ->check(Positive);
  c->add_option("--output", a->output,
                "softmax (cross-entropy over the classes) or sigmoid (2 classes: one logit, binary "
                "cross-entropy)")
      ->capture_default_str()
      ->check(CLI::IsMember({"softmax", "sigmoid"}));
  c->add_option("--input-dropout", a->cfg.input_dropout,
                "Dropout on the encoder's input, one mask per sequence (Keras's LSTM(dropout=p))")
      ->check(number_in(0, 0.95));
  c->add_option("--head-dropout", a->cfg.head_dropout,
                "Dropout on the head's features (the concatenated states) and the dense layer")
      ->check(number_in(0, 0.95));
  add_train_settings(c, a->cfg.train, a->threads);
  c->callback([a, c, &action] {
    const size_t given = c->count("--train") + c->count("--idx-dir") + c->count("--arrays");
    check_usage(given == 1 && c->count("--train") == c->count("--valid"),
                "give the data one way: --train and --valid (labelled text), --idx-dir (images) or "
                "--arrays (.npy arrays)");
    action = [a] { run_train(*a); };
  });

  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand(
      "eval-classifier",
      "Score a trained classifier on labelled data: accuracy, per-class precision/recall/F1 and "
      "the confusion matrix (text, and an SVG with --confusion).");
  ev->add_option("--model", e->model, "Classifier written by train-classifier")->required();
  ev->add_option("--data", e->data, "Text models: labelled examples (label<TAB>text)");
  ev->add_option("--idx-dir", e->idx_dir, "Image models: the IDX directory");
  ev->add_option("--arrays", e->arrays, "Array models: the directory of x_<split>.npy, y_<split>.npy");
  ev->add_option("--split", e->split, "Image and array models: train, valid or test")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "valid", "test"}));
  ev->add_option("--val-fraction", e->val_fraction, "Image and array models: as in training")
      ->capture_default_str()
      ->check(number_in(0, 0.5, /*open=*/true));
  ev->add_option("--confusion", e->confusion, "Write the confusion matrix as SVG here");
  ev->add_option("--batch", e->batch, "Examples per forward pass")->capture_default_str()->check(Positive);
  add_threads_option(ev, e->threads);
  ev->callback([e, &action] { action = [e] { run_eval(*e); }; });

  auto k = std::make_shared<ClassifyArgs>();
  CLI::App* cl = app.add_subcommand(
      "classify",
      "Classify with a trained classifier: the TEXT arguments, the lines of --text FILE, or else "
      "the lines of standard input; or for a model trained on arrays, the sequences of --input. "
      "Prints the top classes and their probabilities, a line per text or sequence.");
  cl->add_option("--model", k->model, "Classifier written by train-classifier")->required();
  add_text_inputs(cl, k->texts, "text");
  cl->add_option("--input", k->input, "Array models: sequences to classify, .npy (N, T, F)");
  cl->add_option("--lengths", k->lengths, "Array models: their lengths, .npy (N,) (default: all T)");
  cl->add_option("--top", k->top, "Classes to print per text")->capture_default_str()->check(Positive);
  cl->callback([k, &action] { action = [k] { run_classify(*k); }; });
}

}  // namespace recur::cli
