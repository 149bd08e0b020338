// Conditional language-model training: data, the loop, validation, metrics, checkpoints, resume.
#include "recur/train/clm_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <ostream>

#include "recur/core/hash.h"
#include "recur/io/file.h"
#include "recur/io/safetensors.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/named_tensors.h"
#include "recur/dist/data_parallel.h"
#include "recur/train/epoch_loop.h"
#include "recur/train/run_files.h"

namespace recur {

void save_conditional_text_model(const std::string& path, const ConditionalTextModel& m,
                                 const std::map<std::string, std::string>& extra) {
  auto meta = m.net.config.to_metadata();
  meta["task"] = "conditional-lm";
  meta["labels"] = m.conditions.to_json();
  for (auto& [k, v] : extra) meta[k] = v;
  save_safetensors(path, m.net.state_dict(), meta);
}

ConditionalTextModel load_conditional_text_model(const std::string& path) {
  const Safetensors<float> st = load_safetensors<float>(path);
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "conditional-lm",
              path << ": not a recur conditional language model (no task = conditional-lm in its "
                      "metadata); train one with `recur train-clm`");
  auto labels = st.metadata.find("labels");
  RECUR_CHECK(labels != st.metadata.end(), path << ": no condition names ('labels') in the metadata");
  ConditionalTextModel m;
  m.conditions = LabelSet::from_json(labels->second, path);
  ConditionalLmConfig cfg;
  try {
    cfg = ConditionalLmConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  RECUR_CHECK(cfg.conditions == m.conditions.size(),
              path << ": " << cfg.conditions << " conditions but " << m.conditions.size() << " names");
  check_parameter_count(parameter_count(cfg), st.tensors, path);  // before allocating
  m.net = ConditionalLm<float>(cfg);
  m.net.load_state_dict(st.tensors, path);
  return m;
}

void ClmTrainConfig::validate() const {
  RECUR_CHECK(!train_path.empty() && !valid_path.empty(),
              "training and validation files are required (--train, --valid)");
  train.validate();
  RECUR_CHECK(embed > 0 && cond_embed > 0 && max_len > 0,
              "embed, cond-embed and max-len must be positive");
}

double evaluate_conditional_lm(const ConditionalLm<float>& net, const std::vector<std::string>& texts,
                               const std::vector<int64_t>& conditions, int64_t batch,
                               int64_t* targets_out) {
  RECUR_CHECK(!texts.empty() && texts.size() == conditions.size(), "nothing to evaluate");
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return texts[a].size() < texts[b].size(); });
  double nats = 0;
  int64_t targets = 0;
  RnnPacks packs;  // the weights are fixed for the pass: pack each layer once
  for (size_t i = 0; i < order.size(); i += size_t(batch)) {
    std::vector<const std::string*> t;
    std::vector<int64_t> c;
    for (size_t k = i; k < std::min(order.size(), i + size_t(batch)); ++k) {
      t.push_back(&texts[order[k]]);
      c.push_back(conditions[order[k]]);
    }
    int64_t n = 0;
    nats += double(conditional_lm_batch<float>(net, nullptr, make_clm_batch(t, c),
                                                    RnnRunOptions().with_packs(&packs), &n)) * double(n);
    targets += n;
  }
  if (targets_out) *targets_out = targets;
  return nats / double(targets) / std::log(2.0);
}

namespace {

// The first max_len bytes of a text, cut back to the start of a UTF-8 character.
std::string cut_utf8(const std::string& s, int64_t max_len) {
  if (int64_t(s.size()) <= max_len) return s;
  size_t n = size_t(max_len);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

struct Texts {
  std::vector<std::string> texts;
  std::vector<int64_t> conditions;
};

// The rows of `path` as texts cut to max_len bytes and condition ids.
Texts texts_of(const std::vector<LabeledText>& rows, const std::string& path, const LabelSet& labels,
               int64_t max_len) {
  Texts t;
  for (size_t i = 0; i < rows.size(); ++i) {
    t.texts.push_back(cut_utf8(rows[i].text, max_len));
    t.conditions.push_back(labels.id(rows[i].label, path + " example " + std::to_string(i + 1)));
  }
  return t;
}

}  // namespace

ClmTrainResult train_conditional_lm(const ClmTrainConfig& cfg_in, std::ostream& log) {
  const ClmTrainConfig& cfg = prepare_run(cfg_in);
  ClmTrainResult res;
  ConditionalTextModel& model = res.model;
  const std::vector<LabeledText> train_rows = read_labeled_tsv(cfg.train_path);
  model.conditions = LabelSet(train_rows);
  const Texts train = texts_of(train_rows, cfg.train_path, model.conditions, cfg.max_len);
  const Texts valid =
      texts_of(read_labeled_tsv(cfg.valid_path), cfg.valid_path, model.conditions, cfg.max_len);

  ConditionalLmConfig mc;
  mc.conditions = model.conditions.size();
  mc.mode = cfg.mode;
  mc.ending = cfg.ending;
  mc.embed = cfg.embed;
  mc.cond_embed = cfg.cond_embed;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = mc.embed + (mc.uses_input() ? mc.cond_embed : 0);
  model.net = ConditionalLm<float>(mc);
  Rng rng(cfg.train.seed);
  init_conditional_lm(model.net, rng);
  EpochTrainee<ConditionalLm<float>> trainee(model.net, cfg.train.optimizer);

  const int64_t per_epoch = (int64_t(train.texts.size()) + cfg.train.batch - 1) / cfg.train.batch;
  // The settings checked on resume: not run_settings, since this trainer's checkpoints have always
  // held the whole model metadata (rnn_spec too) and no momentum, and they must go on resuming.
  std::map<std::string, std::string> hp = optimisation_settings(cfg.train);
  hp.erase("momentum");
  hp["data"] = std::to_string(fnv1a64(read_file_bytes(cfg.train_path)));
  hp["max-len"] = std::to_string(cfg.max_len);
  hp["model"] = "";
  for (const auto& [k, v] : mc.to_metadata()) hp["model"] += k + "=" + v + ";";

  log << "train-clm: " << train.texts.size() << " training and " << valid.texts.size()
      << " validation texts, " << mc.conditions << " conditions, the condition as "
      << condition_mode_name(mc.mode) << "\ntrain-clm: " << rnn_summary(mc.rnn) << ", batch " << cfg.train.batch << ", "
      << cfg.train.epochs << " epochs of " << per_epoch << " updates\n";
  const std::string title = std::string("recur train-clm: ") + rnn_title(mc.rnn) + " on " +
                            std::filesystem::path(cfg.train_path).filename().string();
  const LossBaseline blind =
      LossBaseline::uniform(ConditionalLmConfig::kVocab, "the bytes and markers");
  EpochLoopSettings loop{"train-clm", cfg.train, {}, blind, title, hp};
  for (const std::string& t : train.texts) loop.lengths.push_back(int64_t(t.size()));
  loop.items = "texts";
  const int64_t eval_batch = 2 * cfg.train.batch;
  EpochTask task;
  task.train_batch = [&](const std::vector<size_t>& indices, Rng& r) {
    std::vector<const std::string*> texts;
    std::vector<int64_t> conds;
    for (size_t i : indices) {
      texts.push_back(&train.texts[i]);
      conds.push_back(train.conditions[i]);
    }
    zero_grads(trainee.params);
    EpochStep st;
    int64_t targets = 0;
    st.loss_nats = conditional_lm_batch(model.net, &trainee.grads, make_clm_batch(texts, conds),
                                        RnnRunOptions{true, &r, cfg.train.precision}, &targets);
    st.items = int64_t(indices.size());
    st.weight = double(targets);  // the text loss is the mean over them
    return st;
  };
  task.validate = [&](dist::DataParallel& dp) {
    if (!dp.active()) {
      res.validation_bits =
          evaluate_conditional_lm(model.net, valid.texts, valid.conditions, eval_batch);
    } else {  // this rank's share of the texts; the ranks' nats and targets add up
      const dist::Range r = dp.share(int64_t(valid.texts.size()));
      int64_t n = 0;
      const double bits =
          r.size() == 0
              ? 0.0
              : evaluate_conditional_lm(
                    model.net,
                    std::vector<std::string>(valid.texts.begin() + r.begin, valid.texts.begin() + r.end),
                    std::vector<int64_t>(valid.conditions.begin() + r.begin,
                                         valid.conditions.begin() + r.end),
                    eval_batch, &n);
      const std::vector<double> t = dp.sum({bits * double(n), double(n)});
      res.validation_bits = t[0] / t[1];
    }
    char line[64];
    std::snprintf(line, sizeof line, "%.4f bits/byte", res.validation_bits);
    return EpochValidation{res.validation_bits * std::log(2.0),
                           std::numeric_limits<double>::quiet_NaN(), line};
  };
  if (!run_epochs(loop, task, trainee, rng, log, res)) return res;  // rank 0 reports and writes
  if (res.validation_bits == 0)
    res.validation_bits =
        evaluate_conditional_lm(model.net, valid.texts, valid.conditions, eval_batch);
  save_conditional_text_model(cfg.train.out_path, model,
                              {{"validation_bits_per_byte", exact_decimal(res.validation_bits)}});
  return res;
}

}  // namespace recur
