// Encoder-decoder training: data, vocabularies, the loop with scheduled sampling, validation,
// metrics, checkpoints, resume and the final test report.
#include "recur/train/seq2seq_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "recur/core/enum_names.h"
#include "recur/core/hash.h"
#include "recur/dist/data_parallel.h"
#include "recur/io/file.h"
#include "recur/layers/rnn_spec.h"
#include "recur/train/epoch_loop.h"
#include "recur/train/run_files.h"

namespace recur {

constexpr EnumNames<SamplingSchedule, 3> kSamplingScheduleNames{
    {{SamplingSchedule::constant, "constant"},
     {SamplingSchedule::linear, "linear"},
     {SamplingSchedule::inverse_sigmoid, "inverse-sigmoid"}}};

SamplingSchedule parse_sampling_schedule(const std::string& name) {
  return parse_enum(kSamplingScheduleNames, name, "sampling schedule");
}
const char* sampling_schedule_name(SamplingSchedule s) {
  return enum_name(kSamplingScheduleNames, s);
}

double teacher_forcing_probability(SamplingSchedule s, double p_start, double p_end, double u) {
  u = std::clamp(u, 0.0, 1.0);
  switch (s) {
    case SamplingSchedule::constant: return p_start;
    case SamplingSchedule::linear: return p_start + (p_end - p_start) * u;
    case SamplingSchedule::inverse_sigmoid:
      return p_end + (p_start - p_end) / (1 + std::exp(10 * (u - 0.5)));
  }
  return p_start;
}

void Seq2SeqTrainConfig::validate() const {
  RECUR_CHECK(!train_path.empty(), "a training file is required (--train)");
  RECUR_CHECK(!valid_path.empty(), "a validation file is required (--valid)");
  train.validate();
  RECUR_CHECK(source_embed > 0 && target_embed > 0, "the embedding sizes must be positive");
  RECUR_CHECK(max_tokens > 0 && min_count > 0, "--max-tokens and --min-count must be positive");
  RECUR_CHECK(teacher_forcing_start >= 0 && teacher_forcing_start <= 1 &&
                  teacher_forcing_end >= 0 && teacher_forcing_end <= 1,
              "teacher-forcing probabilities must be in [0, 1]");
  RECUR_CHECK(attention_size >= 0, "--attention-size must be >= 0");
  RECUR_CHECK(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1), got " << dropout);
  RECUR_CHECK(decode.beam >= 1, "--beam must be at least 1");
}

namespace {

std::string summary(const Seq2SeqEvaluation& ev) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "loss %.4f, greedy PER %.2f%%, WER %.2f%%", ev.loss_nats,
                100 * ev.errors.token_error_rate(), 100 * ev.errors.sequence_error_rate());
  return buf;
}

}  // namespace

namespace {
// The network for these vocabularies: the decoder reads left to right whatever the encoder does.
Seq2SeqConfig seq2seq_model_config(const Seq2SeqTrainConfig& cfg, const Seq2SeqModel& model) {
  Seq2SeqConfig mc;
  mc.source_vocab = model.source.size();
  mc.target_vocab = 2 + model.target.size();
  mc.source_embed = cfg.source_embed;
  mc.target_embed = cfg.target_embed;
  mc.encoder = cfg.encoder;
  mc.encoder.input_size = cfg.source_embed;
  mc.decoder = cfg.decoder;
  mc.decoder.bidirectional = false;
  mc.decoder.merge = DirectionMerge::concat;
  mc.context = cfg.context;
  mc.use = cfg.use;
  mc.attention_size = cfg.attention_size > 0 ? cfg.attention_size : cfg.decoder.hidden_size;
  mc.decoder.input_size = mc.target_embed + mc.feed_width();
  return mc;
}

// The log's line on the network and the schedule.
void log_network(std::ostream& log, const Seq2SeqTrainConfig& cfg, const Seq2SeqConfig& mc,
                 int64_t per_epoch) {
  log << "train-seq2seq: encoder " << rnn_summary(mc.encoder) << ", decoder " << rnn_summary(mc.decoder)
      << ", context "
      << context_kind_name(mc.context) << " (" << context_use_name(mc.use) << "), teacher forcing "
      << sampling_schedule_name(cfg.sampling) << " " << cfg.teacher_forcing_start;
  if (cfg.sampling != SamplingSchedule::constant) log << " to " << cfg.teacher_forcing_end;
  log << ", batch " << cfg.train.batch << ", " << cfg.train.epochs << " epochs of " << per_epoch
      << " updates\n";
}
}  // namespace

Seq2SeqTrainResult train_seq2seq(const Seq2SeqTrainConfig& cfg_in, std::ostream& log) {
  const Seq2SeqTrainConfig& cfg = prepare_run(cfg_in);

  Seq2SeqTrainResult res;
  Seq2SeqModel& model = res.model;
  const std::vector<SequencePair> train_pairs = read_sequence_pairs(cfg.train_path);
  const std::vector<SequencePair> valid_pairs = read_sequence_pairs(cfg.valid_path);
  const std::vector<SequencePair> test_pairs =
      cfg.test_path.empty() ? std::vector<SequencePair>() : read_sequence_pairs(cfg.test_path);
  std::vector<const std::vector<std::string>*> sources, targets;
  for (const SequencePair& p : train_pairs) {
    sources.push_back(&p.source);
    targets.push_back(&p.target);
  }
  model.source = TokenIndex::build(sources, cfg.max_tokens, cfg.min_count, cfg.train_path);
  model.target = TokenIndex::build(targets, cfg.max_tokens, cfg.min_count, cfg.train_path);
  const std::vector<Seq2SeqExample> train = encode_pairs(model, train_pairs);
  std::vector<int64_t> lengths;
  int64_t target_tokens = 0;
  for (const Seq2SeqExample& e : train) {
    lengths.push_back(int64_t(e.source.size() + e.target.size()));
    target_tokens += int64_t(e.target.size()) + 1;
  }
  const std::string fingerprint = std::to_string(fnv1a64(read_file_bytes(cfg.train_path)));

  const Seq2SeqConfig mc = seq2seq_model_config(cfg, model);
  model.net = Seq2Seq<float>(mc);
  Rng rng(cfg.train.seed);  // initialisation, then dropout and scheduled sampling
  init_seq2seq(model.net, rng, cfg.init);
  EpochTrainee<Seq2Seq<float>> trainee(model.net, cfg.train.optimizer);

  const int64_t per_epoch = (int64_t(train.size()) + cfg.train.batch - 1) / cfg.train.batch;
  std::map<std::string, std::string> hp = run_settings(cfg.train, fingerprint, mc.to_metadata());
  hp["max-tokens"] = std::to_string(cfg.max_tokens);
  hp["min-count"] = std::to_string(cfg.min_count);
  hp["init"] = recurrent_init_name(cfg.init);
  hp["dropout"] = exact_decimal(cfg.dropout);
  hp["teacher-forcing"] = std::string(sampling_schedule_name(cfg.sampling)) + " " +
                         exact_decimal(cfg.teacher_forcing_start) + " to " +
                         exact_decimal(cfg.teacher_forcing_end);

  log << "train-seq2seq: " << train.size() << " training pairs (" << target_tokens
      << " target tokens with </s>), " << valid_pairs.size() << " validation and "
      << test_pairs.size() << " test pairs; " << model.source.size() << " source and "
      << model.target.size() << " target tokens (with <unk>)\n";
  log_network(log, cfg, mc, per_epoch);

  const std::string title = std::string("recur train-seq2seq: ") + context_kind_name(mc.context) +
                            " " + cell_name(mc.decoder.cell) + " on " +
                            std::filesystem::path(cfg.train_path).filename().string();
  const LossBaseline blind = LossBaseline::uniform(mc.target_vocab, "the target vocabulary");
  EpochLoopSettings loop{"train-seq2seq", cfg.train, lengths, blind, title, hp};
  loop.items = "tok";
  loop.items_are_tokens = true;
  loop.accuracy = "token accuracy";
  const int64_t V = mc.target_vocab;
  DecodeOptions greedy;
  greedy.batch = std::max<int64_t>(cfg.decode.batch, 1);
  double p_teacher = cfg.teacher_forcing_start;
  EpochTask task;
  task.before_batch = [&](int64_t step, int64_t total) {
    p_teacher = teacher_forcing_probability(cfg.sampling, cfg.teacher_forcing_start,
                                            cfg.teacher_forcing_end,
                                            total > 1 ? double(step) / double(total - 1) : 0.0);
  };
  task.train_batch = [&](const std::vector<size_t>& indices, Rng& r) {
    std::vector<const std::vector<int64_t>*> s, t;
    for (size_t i : indices) {
      s.push_back(&train[i].source);
      t.push_back(&train[i].target);
    }
    const Seq2SeqBatch batch = make_seq2seq_batch(s, t);
    zero_grads(trainee.params);
    Tensor<float> logits;
    EpochStep st;
    st.loss_nats = seq2seq_batch(model.net, &trainee.grads, batch,
                                 RnnRunOptions{true, &r, cfg.train.precision},
                                 Seq2SeqTraining{p_teacher, &r, cfg.dropout}, &logits, &st.items);
    for (size_t i = 0; i < batch.targets.size(); ++i) {
      if (batch.targets[i] < 0) continue;
      const float* z = logits.ptr() + int64_t(i) * V;
      st.correct += int64_t(std::max_element(z, z + V) - z) == batch.targets[i];
      ++st.seen;
    }
    return st;
  };
  task.validate = [&](dist::DataParallel&) {  // every rank decodes the whole set
    res.validation = evaluate_seq2seq(model, valid_pairs, greedy);
    return EpochValidation{res.validation.loss_nats, 1 - res.validation.errors.sequence_error_rate(),
                           summary(res.validation)};
  };
  if (!run_epochs(loop, task, trainee, rng, log, res)) return res;  // rank 0 reports and writes
  if (res.validation.errors.items == 0) res.validation = evaluate_seq2seq(model, valid_pairs, greedy);
  std::map<std::string, std::string> extra = {
      {"validation_wer", exact_decimal(res.validation.errors.sequence_error_rate())},
      {"validation_per", exact_decimal(res.validation.errors.token_error_rate())}};
  if (!test_pairs.empty()) {
    res.test = evaluate_seq2seq(model, test_pairs, cfg.decode);
    log << "test set (" << (cfg.decode.beam > 1 ? "beam " + std::to_string(cfg.decode.beam) : "greedy")
        << "):\n"
        << seq2seq_report(res.test);
    extra["test_wer"] = exact_decimal(res.test.errors.sequence_error_rate());
    extra["test_per"] = exact_decimal(res.test.errors.token_error_rate());
  }
  save_seq2seq_model(cfg.train.out_path, model, extra);
  return res;
}

}  // namespace recur
