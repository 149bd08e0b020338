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
#include "recur/io/npy.h"
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
  RECUR_CHECK(arrays_dir.empty() ? !train_path.empty() && !valid_path.empty() : train_path.empty(),
              "give the data one way: training and validation files (train_path, valid_path) or an "
              "array directory (arrays_dir)");
  train.validate();
  RECUR_CHECK(embed > 0 && cond_embed > 0 && max_len > 0,
              "embed, cond-embed and max-len must be positive");
}

ClmBatch ClmTexts::batch(const std::vector<size_t>& indices) const {
  std::vector<const std::string*> t;
  for (size_t i : indices) t.push_back(&texts[i]);
  if (width == 0) {
    std::vector<int64_t> c;
    for (size_t i : indices) c.push_back(conditions[i]);
    return make_clm_batch(t, c);
  }
  std::vector<float> v;
  for (size_t i : indices)
    v.insert(v.end(), vectors.begin() + std::ptrdiff_t(i) * width,
             vectors.begin() + std::ptrdiff_t(i + 1) * width);
  return make_clm_vector_batch(t, std::move(v));
}

ClmTexts ClmTexts::slice(size_t begin, size_t end) const {
  ClmTexts s;
  s.width = width;
  s.texts.assign(texts.begin() + std::ptrdiff_t(begin), texts.begin() + std::ptrdiff_t(end));
  if (width == 0)
    s.conditions.assign(conditions.begin() + std::ptrdiff_t(begin), conditions.begin() + std::ptrdiff_t(end));
  else
    s.vectors.assign(vectors.begin() + std::ptrdiff_t(begin) * width,
                     vectors.begin() + std::ptrdiff_t(end) * width);
  return s;
}

double evaluate_conditional_lm(const ConditionalLm<float>& net, const ClmTexts& data, int64_t batch,
                               int64_t* targets_out) {
  RECUR_CHECK(data.size() > 0, "nothing to evaluate");
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return data.texts[a].size() < data.texts[b].size();
  });
  double nats = 0;
  int64_t targets = 0;
  RnnPacks packs;  // the weights are fixed for the pass: pack each layer once
  for (size_t i = 0; i < order.size(); i += size_t(batch)) {
    const std::vector<size_t> idx(order.begin() + std::ptrdiff_t(i),
                                  order.begin() + std::ptrdiff_t(std::min(order.size(), i + size_t(batch))));
    int64_t n = 0;
    nats += double(conditional_lm_batch<float>(net, nullptr, data.batch(idx),
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

// The rows of `path` as texts cut to max_len bytes and condition ids.
ClmTexts texts_of(const std::vector<LabeledText>& rows, const std::string& path, const LabelSet& labels,
                  int64_t max_len) {
  ClmTexts t;
  for (size_t i = 0; i < rows.size(); ++i) {
    t.texts.push_back(cut_utf8(rows[i].text, max_len));
    t.conditions.push_back(labels.id(rows[i].label, path + " example " + std::to_string(i + 1)));
  }
  return t;
}

}  // namespace

Tensor<float> read_condition_vectors(const std::string& path) {
  Tensor<float> x = load_npy<float>(path);
  RECUR_CHECK(x.shape.size() == 2 && x.shape[0] > 0 && x.shape[1] > 0,
              "'" << path << "': shape " << x.shape_string() << "; expected (N, K), a vector per text");
  for (int64_t k = 0; k < x.numel(); ++k)
    RECUR_CHECK(std::isfinite(x[k]), "'" << path << "': " << x[k] << " at [" << k / x.shape[1] << ", "
                                         << k % x.shape[1] << "]; expected finite values");
  return x;
}

std::vector<std::string> read_text_lines(const std::string& path, int64_t max_len) {
  const std::string text = read_file_bytes(path);
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(cut_utf8(text.substr(at, end - at), max_len));
    RECUR_CHECK(!lines.back().empty(), "'" << path << "' line " << lines.size() << " is empty");
    at = end + 1;
  }
  return lines;
}

ClmTexts read_clm_arrays(const std::string& dir, const std::string& split, int64_t max_len) {
  namespace fs = std::filesystem;
  const std::string xp = (fs::path(dir) / ("x_" + split + ".npy")).string();
  const std::string yp = (fs::path(dir) / ("y_" + split + ".txt")).string();
  RECUR_CHECK(fs::exists(xp) && fs::exists(yp),
              "'" << dir << "' lacks " << (fs::exists(xp) ? yp : xp) << "; expected x_" << split
                  << ".npy (N, K), a condition vector per text, and y_" << split
                  << ".txt, a text per line");
  const Tensor<float> x = read_condition_vectors(xp);
  ClmTexts t;
  t.width = x.shape[1];
  t.vectors = x.data;
  t.texts = read_text_lines(yp, max_len);
  RECUR_CHECK(int64_t(t.texts.size()) == x.shape[0],
              "'" << yp << "' has " << t.texts.size() << " lines; " << xp << " has " << x.shape[0]
                  << " vectors");
  return t;
}

ClmTrainResult train_conditional_lm(const ClmTrainConfig& cfg_in, std::ostream& log) {
  const ClmTrainConfig& cfg = prepare_run(cfg_in);
  ClmTrainResult res;
  ConditionalTextModel& model = res.model;
  const bool vectors = !cfg.arrays_dir.empty();
  ClmTexts train, valid;
  if (vectors) {
    train = read_clm_arrays(cfg.arrays_dir, "train", cfg.max_len);
    valid = read_clm_arrays(cfg.arrays_dir, "valid", cfg.max_len);
    RECUR_CHECK(valid.width == train.width, cfg.arrays_dir << ": x_valid.npy has vectors of " << valid.width
                                                           << " values, x_train.npy of " << train.width);
    model.conditions = LabelSet::numbered(train.width);
  } else {
    const std::vector<LabeledText> train_rows = read_labeled_tsv(cfg.train_path);
    model.conditions = LabelSet(train_rows);
    train = texts_of(train_rows, cfg.train_path, model.conditions, cfg.max_len);
    valid = texts_of(read_labeled_tsv(cfg.valid_path), cfg.valid_path, model.conditions, cfg.max_len);
  }
  const std::string source = vectors ? cfg.arrays_dir : cfg.train_path;

  ConditionalLmConfig mc;
  mc.conditions = model.conditions.size();
  mc.vectors = vectors;
  mc.mode = cfg.mode;
  mc.ending = cfg.ending;
  mc.embed = cfg.embed;
  mc.cond_embed = cfg.cond_embed;
  mc.time_input = cfg.time_input;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = mc.input_width();
  model.net = ConditionalLm<float>(mc);
  Rng rng(cfg.train.seed);
  init_conditional_lm(model.net, rng);
  EpochTrainee<ConditionalLm<float>> trainee(model.net, cfg.train.optimizer);

  const int64_t per_epoch = (int64_t(train.texts.size()) + cfg.train.batch - 1) / cfg.train.batch;
  // The settings checked on resume: not run_settings, since this trainer's checkpoints have always
  // held the whole model metadata (rnn_spec too) and no momentum, and they must go on resuming.
  std::map<std::string, std::string> hp = optimisation_settings(cfg.train);
  hp.erase("momentum");
  hp["data"] = vectors ? source + " " + std::to_string(train.size())
                       : std::to_string(fnv1a64(read_file_bytes(cfg.train_path)));
  hp["max-len"] = std::to_string(cfg.max_len);
  hp["model"] = "";
  for (const auto& [k, v] : mc.to_metadata()) hp["model"] += k + "=" + v + ";";

  log << "train-clm: " << train.size() << " training and " << valid.size() << " validation texts, "
      << (vectors ? "condition vectors of " : "") << mc.conditions
      << (vectors ? " values" : " conditions") << ", the condition as "
      << condition_mode_name(mc.mode) << "\ntrain-clm: " << rnn_summary(mc.rnn) << ", batch " << cfg.train.batch << ", "
      << cfg.train.epochs << " epochs of " << per_epoch << " updates\n";
  const std::string title = std::string("recur train-clm: ") + rnn_title(mc.rnn) + " on " +
                            std::filesystem::path(source).filename().string();
  const LossBaseline blind =
      LossBaseline::uniform(ConditionalLmConfig::kVocab, "the bytes and markers");
  EpochLoopSettings loop{"train-clm", cfg.train, {}, blind, title, hp};
  for (const std::string& t : train.texts) loop.lengths.push_back(int64_t(t.size()));
  loop.items = "texts";
  const int64_t eval_batch = 2 * cfg.train.batch;
  EpochTask task;
  task.train_batch = [&](const std::vector<size_t>& indices, Rng& r) {
    zero_grads(trainee.params);
    EpochStep st;
    int64_t targets = 0;
    st.loss_nats = conditional_lm_batch(model.net, &trainee.grads, train.batch(indices),
                                        RnnRunOptions{true, &r, cfg.train.precision}, &targets);
    st.items = int64_t(indices.size());
    st.weight = double(targets);  // the text loss is the mean over them
    return st;
  };
  task.validate = [&](dist::DataParallel& dp) {
    if (!dp.active()) {
      res.validation_bits = evaluate_conditional_lm(model.net, valid, eval_batch);
    } else {  // this rank's share of the texts; the ranks' nats and targets add up
      const dist::Range r = dp.share(int64_t(valid.size()));
      int64_t n = 0;
      const double bits =
          r.size() == 0 ? 0.0
                        : evaluate_conditional_lm(model.net, valid.slice(size_t(r.begin), size_t(r.end)),
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
    res.validation_bits = evaluate_conditional_lm(model.net, valid, eval_batch);
  save_conditional_text_model(cfg.train.out_path, model,
                              {{"validation_bits_per_byte", exact_decimal(res.validation_bits)}});
  return res;
}

}  // namespace recur
