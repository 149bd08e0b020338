// Classifier training: data, batching, the loop, validation, metrics, checkpoints, resume.
#include "recur/train/classifier_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "recur/io/file.h"
#include "recur/core/hash.h"
#include "recur/data/arrays.h"
#include "recur/dist/data_parallel.h"
#include "recur/layers/rnn_spec.h"
#include "recur/train/epoch_loop.h"
#include "recur/train/run_files.h"

namespace recur {

void ClassifierTrainConfig::validate() const {
  RECUR_CHECK(int(!train_path.empty()) + int(!idx_dir.empty()) + int(!arrays_dir.empty()) == 1,
              "give the data one way: text files (train_path, valid_path), an image directory "
              "(idx_dir) or an array directory (arrays_dir)");
  RECUR_CHECK(!train_path.empty() ? !valid_path.empty() : true,
              "a validation file (valid_path) is required with a training file");
  train.validate();
  RECUR_CHECK(embed > 0 && max_len > 0, "embed and max-len must be positive");
  RECUR_CHECK(val_fraction > 0 && val_fraction < 0.5,
              "val_fraction must be in (0, 0.5), got " << val_fraction);
  RECUR_CHECK(head == ClassifierHead::pool || top_hidden > 0, "top_hidden must be positive");
  RECUR_CHECK(dense >= 0, "dense must be 0 (none) or positive, got " << dense);
  RECUR_CHECK(input_dropout >= 0 && input_dropout < 1 && head_dropout >= 0 && head_dropout < 1,
              "input_dropout and head_dropout must be in [0, 1), got " << input_dropout << " and "
                                                                        << head_dropout);
}

std::string ClassifierTrainConfig::confusion_path() const {
  return output_stem(train.out_path) + ".confusion.svg";
}

namespace {
// The last val_fraction of `all`, moved out of it.
std::vector<Example> hold_out_tail(std::vector<Example>& all, double val_fraction,
                                   const std::string& source) {
  const size_t n_val = size_t(double(all.size()) * val_fraction);
  RECUR_CHECK(n_val > 0 && n_val < all.size(),
              source << ": " << all.size() << " examples are too few to hold out a validation part of "
                     << val_fraction);
  std::vector<Example> valid(std::make_move_iterator(all.end() - std::ptrdiff_t(n_val)),
                             std::make_move_iterator(all.end()));
  all.resize(all.size() - n_val);
  return valid;
}
}  // namespace

ClassifierData load_classifier_images(const std::string& dir, double val_fraction) {
  auto file = [&](const char* name) {
    const std::string p = (std::filesystem::path(dir) / name).string();
    RECUR_CHECK(std::filesystem::exists(p),
                "'" << p << "' not found; expected the Fashion-MNIST layout (train-images-idx3-ubyte.gz, "
                       "train-labels-idx1-ubyte.gz, t10k-...; Debian: dataset-fashion-mnist, "
                       "installed by scripts/setup.sh)");
    return p;
  };
  const std::string ti = file("train-images-idx3-ubyte.gz"), tl = file("train-labels-idx1-ubyte.gz");
  const std::string si = file("t10k-images-idx3-ubyte.gz"), sl = file("t10k-labels-idx1-ubyte.gz");
  ClassifierData d;
  d.train = image_row_sequences(read_idx_images(ti), read_idx_labels(tl), ti);
  d.test = image_row_sequences(read_idx_images(si), read_idx_labels(sl), si);
  d.valid = hold_out_tail(d.train, val_fraction, ti);
  return d;
}

ClassifierData load_classifier_arrays(const std::string& dir, double val_fraction, int64_t classes,
                                      int64_t features) {
  RECUR_CHECK(std::filesystem::is_directory(dir),
              "'" << dir << "' is not a directory; expected one holding x_train.npy and y_train.npy");
  std::optional<LabeledArrays> train = read_array_split(dir, "train", ArrayLabels::per_sequence);
  RECUR_CHECK(train, "'" << dir << "' has no x_train.npy; expected x_train.npy (N, T, F) and "
                            "y_train.npy (N,), and optionally lengths_train.npy (N,)");
  const std::string expected = features ? "the model reads " + std::to_string(features)
                                         : train->source + " has " + std::to_string(train->features());
  if (!features) features = train->features();
  auto check_features = [&](const LabeledArrays& a) {
    RECUR_CHECK(a.features() == features,
                a.source << ": " << a.features() << " features per step; " << expected);
  };
  check_features(*train);
  ClassifierData d;
  d.train = array_examples(*train);
  if (classes == 0)
    for (const Example& e : d.train) classes = std::max(classes, e.label + 1);
  auto split = [&](const char* name, std::vector<Example>& out) {
    std::optional<LabeledArrays> a = read_array_split(dir, name, ArrayLabels::per_sequence);
    if (!a) return false;
    check_features(*a);
    out = array_examples(*a);
    return true;
  };
  if (!split("valid", d.valid)) d.valid = hold_out_tail(d.train, val_fraction, train->source);
  split("test", d.test);
  for (const auto* part : {&d.train, &d.valid, &d.test})
    for (size_t i = 0; i < part->size(); ++i)
      RECUR_CHECK((*part)[i].label < classes,
                  dir << ": label " << (*part)[i].label << " of example " << i << " in the "
                      << (part == &d.train ? "train" : part == &d.valid ? "valid" : "test")
                      << " split; expected a class below " << classes);
  return d;
}

namespace {

void check_labels_seen(const std::vector<Example>& train, int64_t classes, const std::string& src) {
  for (const Example& e : train)
    RECUR_CHECK(e.label >= 0 && e.label < classes,
                src << ": label " << e.label << " outside [0, " << classes << ")");
  RECUR_CHECK(classes >= 2, src << ": the training data has only " << classes
                                << " class; a classifier needs at least 2");
}

// Data parallel: this rank scores its share of the examples; the ranks' counts and confusion
// matrices add up to the whole set's evaluation, on every rank.
ClassifierEvaluation evaluate_classifier_share(const SequenceClassifier<float>& net,
                                              const std::vector<Example>& examples, int64_t batch,
                                              dist::DataParallel& dp) {
  const dist::Range r = dp.share(int64_t(examples.size()));
  const int64_t C = net.config.classes;
  ClassifierEvaluation mine;
  mine.confusion.assign(size_t(C * C), 0);
  if (r.size() > 0)
    mine = evaluate_classifier(
        net, std::vector<Example>(examples.begin() + r.begin, examples.begin() + r.end), batch);
  std::vector<double> v = {mine.loss_nats * double(mine.examples), double(mine.examples),
                           double(mine.correct)};
  v.insert(v.end(), mine.confusion.begin(), mine.confusion.end());
  v = dp.sum(std::move(v));
  ClassifierEvaluation all;
  all.examples = int64_t(v[1]);
  all.loss_nats = v[0] / v[1];
  all.correct = int64_t(v[2]);
  for (size_t i = 3; i < v.size(); ++i) all.confusion.push_back(int64_t(v[i]));
  return all;
}

}  // namespace

namespace {
// The network for this input (token ids or rows of values) and these labels.
ClassifierConfig classifier_model_config(const ClassifierTrainConfig& cfg, const ClassifierModel& model,
                                         const ClassifierData& data) {
  ClassifierConfig mc;
  if (model.input == ClassifierInput::text) {
    mc.vocab = model.encoder.vocab_size();
    mc.embed = cfg.embed;
  } else {
    mc.features = int64_t(data.train.front().values.size()) / data.train.front().steps;
  }
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = mc.input_size();
  mc.head = cfg.head;
  mc.pooling = cfg.pooling;
  mc.top_hidden = cfg.head == ClassifierHead::pool ? 0 : cfg.top_hidden;
  mc.dense = cfg.dense;
  mc.output = cfg.output;
  mc.input_dropout = cfg.input_dropout;
  mc.head_dropout = cfg.head_dropout;
  mc.classes = model.labels.size();
  return mc;
}
}  // namespace

ClassifierTrainResult train_classifier(const ClassifierTrainConfig& cfg_in, std::ostream& log) {
  const ClassifierTrainConfig& cfg = prepare_run(cfg_in);

  // Data and the input side of the model.
  ClassifierTrainResult res;
  ClassifierModel& model = res.model;
  ClassifierData data;
  std::string fingerprint;  // of the training data, compared on resume
  if (!cfg.idx_dir.empty() || !cfg.arrays_dir.empty()) {
    const bool images = !cfg.idx_dir.empty();
    data = images ? load_classifier_images(cfg.idx_dir, cfg.val_fraction)
                  : load_classifier_arrays(cfg.arrays_dir, cfg.val_fraction);
    model.input = images ? ClassifierInput::image_rows : ClassifierInput::arrays;
    int64_t classes = 0;
    for (const Example& e : data.train) classes = std::max(classes, e.label + 1);
    model.labels = LabelSet::numbered(classes);
    fingerprint = (images ? cfg.idx_dir : cfg.arrays_dir) + " " + std::to_string(data.train.size());
  } else {
    const std::vector<LabeledText> train = read_labeled_tsv(cfg.train_path);
    const std::vector<LabeledText> valid = read_labeled_tsv(cfg.valid_path);
    model.labels = LabelSet(train);
    model.encoder = cfg.tokens == TokenMode::chars
                        ? TextEncoder::bytes()
                        : TextEncoder::words(train, cfg.max_words, cfg.train_path);
    model.encoder.keep_last = cfg.keep_last;
    model.max_len = cfg.max_len;
    data.train = encode_labeled(train, model.encoder, model.labels, cfg.max_len, cfg.train_path);
    data.valid = encode_labeled(valid, model.encoder, model.labels, cfg.max_len, cfg.valid_path);
    if (!cfg.test_path.empty())
      data.test = encode_labeled(read_labeled_tsv(cfg.test_path), model.encoder, model.labels,
                                 cfg.max_len, cfg.test_path);
    fingerprint = std::to_string(fnv1a64(read_file_bytes(cfg.train_path)));
  }
  const std::string source =
      !cfg.idx_dir.empty() ? cfg.idx_dir : !cfg.arrays_dir.empty() ? cfg.arrays_dir : cfg.train_path;
  check_labels_seen(data.train, model.labels.size(), source);

  const ClassifierConfig mc = classifier_model_config(cfg, model, data);
  model.net = SequenceClassifier<float>(mc);
  Rng rng(cfg.train.seed);  // initialisation, then dropout
  init_classifier(model.net, rng, cfg.init);
  EpochTrainee<SequenceClassifier<float>> trainee(model.net, cfg.train.optimizer);

  const int64_t per_epoch = (int64_t(data.train.size()) + cfg.train.batch - 1) / cfg.train.batch;
  std::map<std::string, std::string> hp = run_settings(cfg.train, fingerprint, mc.to_metadata());
  hp["tokens"] = model.input == ClassifierInput::text ? token_mode_name(cfg.tokens)
                                                      : classifier_input_name(model.input);
  hp["max-len"] = std::to_string(cfg.max_len);
  if (cfg.keep_last) hp["keep"] = "last";
  hp["init"] = recurrent_init_name(cfg.init);

  log << "train-classifier: " << data.train.size() << " training, " << data.valid.size()
      << " validation and " << data.test.size() << " test examples, " << model.labels.size()
      << " classes\n"
      << "train-classifier: " << rnn_summary(mc.rnn) << ", "
      << classifier_head_name(mc.head)
      << (mc.head == ClassifierHead::pool ? std::string(" (") + pooling_name(mc.pooling) + ")" : "")
      << ", batch " << cfg.train.batch << ", " << cfg.train.epochs << " epochs of " << per_epoch
      << " updates\n";

  const std::string title = std::string("recur train-classifier: ") + rnn_title(mc.rnn) +
                            " on " + std::filesystem::path(source).filename().string();
  const bool dense = model.input != ClassifierInput::text;
  const int64_t eval_batch = 2 * cfg.train.batch;
  const LossBaseline blind = LossBaseline::uniform(mc.classes, "the classes");
  EpochLoopSettings loop{"train-classifier", cfg.train, {}, blind, title, hp};
  for (const Example& e : data.train) loop.lengths.push_back(e.steps);
  EpochTask task;
  task.train_batch = [&](const std::vector<size_t>& indices, Rng& r) {
    const ClassifierBatch<float> batch = make_classifier_batch(data.train, indices, dense, mc.features);
    zero_grads(trainee.params);
    Tensor<float> logits;
    EpochStep st;
    st.loss_nats = classifier_batch(model.net, &trainee.grads, batch,
                                    RnnRunOptions{true, &r, cfg.train.precision}, &logits);
    st.items = batch.batch;
    for (int64_t b = 0; b < batch.batch; ++b) {
      const float* z = logits.ptr() + b * mc.classes;
      st.correct += int64_t(std::max_element(z, z + mc.classes) - z) == batch.labels[size_t(b)];
      ++st.seen;
    }
    return st;
  };
  task.validate = [&](dist::DataParallel& dp) {
    res.validation = dp.active() ? evaluate_classifier_share(model.net, data.valid, eval_batch, dp)
                                 : evaluate_classifier(model.net, data.valid, eval_batch);
    char line[120];
    std::snprintf(line, sizeof line, "loss %.4f, accuracy %.4f", res.validation.loss_nats,
                  res.validation.accuracy());
    return EpochValidation{res.validation.loss_nats, res.validation.accuracy(), line};
  };
  if (!run_epochs(loop, task, trainee, rng, log, res)) return res;  // rank 0 reports and writes
  if (res.validation.examples == 0)
    res.validation = evaluate_classifier(model.net, data.valid, eval_batch);
  const bool has_test = !data.test.empty();
  if (has_test) res.test = evaluate_classifier(model.net, data.test, eval_batch);
  const ClassifierEvaluation& shown = has_test ? res.test : res.validation;
  log << (has_test ? "test set:\n" : "validation set:\n")
      << classification_report(shown, model.labels);
  write_file_atomic(cfg.confusion_path(),
                    confusion_svg(shown, model.labels,
                                  title + (has_test ? " (test)" : " (validation)")));
  std::map<std::string, std::string> extra = {
      {"validation_accuracy", exact_decimal(res.validation.accuracy())}};
  if (has_test) extra["test_accuracy"] = exact_decimal(res.test.accuracy());
  save_classifier_model(cfg.train.out_path, model, extra);
  return res;
}

}  // namespace recur
