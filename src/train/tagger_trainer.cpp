// Tagger training: data, batching, the loop, validation, metrics, checkpoints, resume.
#include "recur/train/tagger_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "recur/core/hash.h"
#include "recur/io/file.h"
#include "recur/dist/data_parallel.h"
#include "recur/layers/rnn_spec.h"
#include "recur/train/epoch_loop.h"
#include "recur/train/run_files.h"

namespace recur {

void TaggerTrainConfig::validate() const {
  RECUR_CHECK(!train_path.empty(), "a training file is required (--train)");
  RECUR_CHECK(!valid_path.empty(), "a validation file is required (--valid)");
  train.validate();
  RECUR_CHECK(embed > 0, "embed must be positive");
  RECUR_CHECK(max_words > 0 && min_count > 0, "--max-words and --min-count must be positive");
}

std::string TaggerTrainConfig::confusion_path() const {
  return output_stem(train.out_path) + ".confusion.svg";
}

namespace {

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
  const TaggerTrainConfig& cfg = prepare_run(cfg_in);

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
  Rng rng(cfg.train.seed);  // initialisation, then dropout
  init_sequence_model(model.net, rng, cfg.init);
  EpochTrainee<SequenceModel<float>> trainee(model.net, cfg.train.optimizer);

  const int64_t per_epoch = (int64_t(train.size()) + cfg.train.batch - 1) / cfg.train.batch;
  std::map<std::string, std::string> hp = run_settings(cfg.train, fingerprint, mc.to_metadata());
  hp["max-words"] = std::to_string(cfg.max_words);
  hp["min-count"] = std::to_string(cfg.min_count);
  hp["init"] = recurrent_init_name(cfg.init);

  char unk_share[32];
  std::snprintf(unk_share, sizeof unk_share, "%.2f%%",
                100.0 * double(unknown) / double(train_tokens));
  log << "train-tagger: " << train.size() << " training sequences (" << train_tokens << " tokens), "
      << valid.size() << " validation and " << test.size() << " test sequences; "
      << model.words.size() << " input words (<unk> " << unk_share << " of training tokens), "
      << model.tags.size() << " tags (" << unseen_tags << " not in the training data)\n"
      << "train-tagger: " << rnn_summary(mc.rnn) << ", embedding " << mc.embed << ", batch " << cfg.train.batch << ", " << cfg.train.epochs
      << " epochs of " << per_epoch << " updates\n";

  const std::string title = std::string("recur train-tagger: ") + rnn_title(mc.rnn) + " on " +
                            std::filesystem::path(cfg.train_path).filename().string();
  const LossBaseline blind = LossBaseline::uniform(mc.outputs, "the tags");
  EpochLoopSettings loop{"train-tagger", cfg.train, lengths, blind, title, hp};
  loop.items = "tok";
  loop.items_are_tokens = true;
  loop.accuracy = "token accuracy";
  const int64_t C = mc.outputs, eval_batch = 2 * cfg.train.batch;
  EpochTask task;
  task.train_batch = [&](const std::vector<size_t>& indices, Rng& r) {
    const TaggerBatch batch = make_tagger_batch(train, indices);
    zero_grads(trainee.params);
    Tensor<float> logits;
    EpochStep st;
    st.loss_nats = tagger_batch(model.net, &trainee.grads, batch,
                                RnnRunOptions{true, &r, cfg.train.precision}, &logits, &st.items);
    for (size_t i = 0; i < batch.targets.size(); ++i) {
      if (batch.targets[i] < 0) continue;
      const float* z = logits.ptr() + int64_t(i) * C;
      st.correct += int64_t(std::max_element(z, z + C) - z) == batch.targets[i];
      ++st.seen;
    }
    return st;
  };
  task.validate = [&](dist::DataParallel&) {  // every rank scores the whole set
    res.validation = evaluate_tagger(model.net, model.tags, valid, eval_batch);
    return EpochValidation{res.validation.tokens.loss_nats, res.validation.tokens.accuracy(),
                           summary(res.validation)};
  };
  if (!run_epochs(loop, task, trainee, rng, log, res)) return res;  // rank 0 reports and writes
  if (res.validation.sequences == 0)
    res.validation = evaluate_tagger(model.net, model.tags, valid, eval_batch);
  const bool has_test = !test.empty();
  if (has_test) res.test = evaluate_tagger(model.net, model.tags, test, eval_batch);
  const TaggerEvaluation& shown = has_test ? res.test : res.validation;
  log << (has_test ? "test set:\n" : "validation set:\n") << tagging_report(shown, model.tags);
  write_file_atomic(
      cfg.confusion_path(),
      confusion_svg(shown.tokens, model.tags, title + (has_test ? " (test)" : " (validation)")));
  std::map<std::string, std::string> extra = {
      {"validation_token_accuracy", exact_decimal(res.validation.tokens.accuracy())}};
  if (has_test) extra["test_token_accuracy"] = exact_decimal(res.test.tokens.accuracy());
  save_tagger_model(cfg.train.out_path, model, extra);
  return res;
}

}  // namespace recur
