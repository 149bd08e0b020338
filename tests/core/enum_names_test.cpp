// EnumNames (recur/core/enum_names.h): lookups, the one parse-error wording, and every public
// enum's names spelled exactly as saved model metadata and checkpoints spell them.
#include "recur/core/enum_names.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "expect_error.h"
#include "recur/core/gemm.h"
#include "recur/data/punctuation.h"
#include "recur/data/time_series.h"
#include "recur/data/vocab.h"
#include "recur/layers/rnn.h"
#include "recur/models/classifier.h"
#include "recur/models/conditional_lm.h"
#include "recur/models/forecaster.h"
#include "recur/models/seq2seq.h"
#include "recur/models/tree_rnn.h"
#include "recur/nn/regression_loss.h"
#include "recur/train/long_range.h"
#include "recur/train/nan_guard.h"
#include "recur/train/optimizer.h"
#include "recur/train/seq2seq_trainer.h"

namespace recur {
namespace {

enum class Fruit { apple, pear, plum };
constexpr EnumNames<Fruit, 3> kFruits{
    {{Fruit::apple, "apple"}, {Fruit::pear, "pear"}, {Fruit::plum, "plum"}}};

TEST(EnumNames, NamesAndParses) {
  EXPECT_STREQ(enum_name(kFruits, Fruit::pear), "pear");
  EXPECT_EQ(parse_enum(kFruits, "plum", "fruit"), Fruit::plum);
  ASSERT_NE(find_enum(kFruits, "apple"), nullptr);
  EXPECT_EQ(*find_enum(kFruits, "apple"), Fruit::apple);
  EXPECT_EQ(find_enum(kFruits, "Apple"), nullptr);
  EXPECT_STREQ(enum_name(kFruits, Fruit(7)), "?");
  EXPECT_STREQ(enum_name(kFruits, Fruit(7), "unknown"), "unknown");
}

TEST(EnumNames, OneErrorWording) {
  EXPECT_RECUR_ERROR(parse_enum(kFruits, "fig", "fruit"),
                     "unknown fruit 'fig'; expected apple, pear or plum");
  constexpr EnumNames<Fruit, 2> two{{{Fruit::apple, "apple"}, {Fruit::pear, "pear"}}};
  EXPECT_RECUR_ERROR(parse_enum(two, "", "fruit"), "unknown fruit ''; expected apple or pear");
  constexpr EnumNames<Fruit, 1> one{{{Fruit::apple, "apple"}}};
  EXPECT_RECUR_ERROR(parse_enum(one, "pear", "fruit"), "unknown fruit 'pear'; expected apple");
}

// Each value names as `names` says, and (with a parser) that name parses back to the value.
template <class E, class Name, class Parse>
void expect_names(const std::vector<std::pair<E, const char*>>& names, Name name, Parse parse) {
  for (const auto& [value, text] : names) {
    EXPECT_STREQ(name(value), text);
    if constexpr (!std::is_same_v<Parse, std::nullptr_t>) {
      EXPECT_EQ(parse(text), value) << text;
    }
  }
}

TEST(EnumNames, LayersAndNnKeepTheirNames) {
  expect_names<CellKind>({{CellKind::rnn_tanh, "rnn_tanh"}, {CellKind::rnn_relu, "rnn_relu"},
                          {CellKind::rnn_sigmoid, "rnn_sigmoid"}, {CellKind::lstm, "lstm"},
                          {CellKind::gru, "gru"}},
                         cell_name, parse_cell);
  expect_names<TimeLoop>({{TimeLoop::engine, "engine"}, {TimeLoop::clockwork, "clockwork"},
                          {TimeLoop::skip, "skip"}, {TimeLoop::deep, "deep"}},
                         time_loop_name, nullptr);
  expect_names<RecurrentInit>({{RecurrentInit::uniform, "uniform"},
                               {RecurrentInit::orthogonal, "orthogonal"},
                               {RecurrentInit::identity, "identity"}},
                              recurrent_init_name, parse_recurrent_init);
  expect_names<RegressionLoss>({{RegressionLoss::mse, "mse"}, {RegressionLoss::mae, "mae"}},
                               regression_loss_name, parse_regression_loss);
  expect_names<Precision>({{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}}, precision_name,
                          parse_precision);
  EXPECT_RECUR_ERROR(parse_cell("lsmt"),
                     "unknown cell 'lsmt'; expected lstm, gru, rnn_tanh, rnn_relu, rnn_sigmoid or rnn_linear");
}

TEST(EnumNames, ModelsKeepTheirNames) {
  expect_names<ContextKind>({{ContextKind::last, "last"}, {ContextKind::bridge, "bridge"},
                             {ContextKind::bahdanau, "bahdanau"}, {ContextKind::dot, "dot"},
                             {ContextKind::general, "general"}},
                            context_kind_name, parse_context_kind);
  expect_names<ContextUse>(
      {{ContextUse::init, "init"}, {ContextUse::input, "input"}, {ContextUse::both, "both"}},
      context_use_name, parse_context_use);
  expect_names<ClassifierHead>({{ClassifierHead::pool, "pool"},
                                {ClassifierHead::textrnn2, "textrnn2"},
                                {ClassifierHead::rcnn, "rcnn"}},
                               classifier_head_name, parse_classifier_head);
  expect_names<Pooling>({{Pooling::last, "last"}, {Pooling::mean, "mean"}, {Pooling::max, "max"}},
                        pooling_name, parse_pooling);
  expect_names<ConditionMode>({{ConditionMode::init, "init"}, {ConditionMode::input, "input"},
                               {ConditionMode::both, "both"}},
                              condition_mode_name, parse_condition_mode);
  expect_names<SequenceEnding>({{SequenceEnding::eos, "eos"}, {SequenceEnding::stop, "stop"},
                                {SequenceEnding::length, "length"}},
                               sequence_ending_name, parse_sequence_ending);
  expect_names<ForecastStrategy>(
      {{ForecastStrategy::direct, "direct"}, {ForecastStrategy::recursive, "recursive"}},
      forecast_strategy_name, parse_forecast_strategy);
  expect_names<TreeCell>({{TreeCell::recursive, "recursive"}, {TreeCell::tree_lstm, "tree_lstm"},
                          {TreeCell::binary_lstm, "binary_lstm"}},
                         tree_cell_name, parse_tree_cell);
}

TEST(EnumNames, TrainAndDataKeepTheirNames) {
  expect_names<SamplingSchedule>({{SamplingSchedule::constant, "constant"},
                                  {SamplingSchedule::linear, "linear"},
                                  {SamplingSchedule::inverse_sigmoid, "inverse-sigmoid"}},
                                 sampling_schedule_name, parse_sampling_schedule);
  expect_names<LongRangeTask>({{LongRangeTask::adding, "adding"}, {LongRangeTask::copy, "copy"}},
                              long_range_task_name, parse_long_range_task);
  expect_names<LongRangeModel>(
      {{LongRangeModel::tanh, "tanh"}, {LongRangeModel::irnn, "irnn"},
       {LongRangeModel::lstm, "lstm"}, {LongRangeModel::gru, "gru"},
       {LongRangeModel::leaky, "leaky"}, {LongRangeModel::clockwork, "clockwork"},
       {LongRangeModel::esn, "esn"}, {LongRangeModel::skip, "skip"},
       {LongRangeModel::deep, "deep"}, {LongRangeModel::lnlstm, "lnlstm"}},
      long_range_model_name, parse_long_range_model);
  expect_names<OptimizerKind>({{OptimizerKind::kSgd, "sgd"}, {OptimizerKind::kAdam, "adam"},
                               {OptimizerKind::kAdamW, "adamw"}},
                              optimizer_kind_name, parse_optimizer_kind);
  EXPECT_EQ(parse_on_nan("stop"), OnNan::stop);
  EXPECT_EQ(parse_on_nan("skip"), OnNan::skip);
  expect_names<Casing>({{Casing::lower, "lower"}, {Casing::cap, "Cap"}, {Casing::upper, "UPPER"}},
                       casing_name, nullptr);
  expect_names<Punct>({{Punct::none, "none"}, {Punct::comma, "comma"}, {Punct::period, "period"},
                       {Punct::colon, "colon"}, {Punct::semicolon, "semicolon"},
                       {Punct::question, "question"}, {Punct::exclamation, "exclamation"}},
                      punct_name, nullptr);
  expect_names<TextLayout>({{TextLayout::bible, "bible"}, {TextLayout::lines, "lines"},
                            {TextLayout::sentences, "sentences"}},
                           text_layout_name, parse_text_layout);
  expect_names<TokenMode>({{TokenMode::chars, "char"}, {TokenMode::words, "word"}},
                          token_mode_name, parse_token_mode);
  expect_names<SplitPart>({{SplitPart::train, "train"}, {SplitPart::valid, "valid"},
                           {SplitPart::test, "test"}, {SplitPart::all, "all"}},
                          split_part_name, parse_split_part);
}

}  // namespace
}  // namespace recur
