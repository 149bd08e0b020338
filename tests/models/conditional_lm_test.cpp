// ConditionalLm: finite-difference gradients (double) in each condition mode, for class and vector
// conditions, and a model that must use its condition to generate (the texts of the two conditions
// share no byte).
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/models/conditional_lm.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"

namespace recur {
namespace {

ConditionalLmConfig config(ConditionMode mode, CellKind cell, int layers) {
  ConditionalLmConfig c;
  c.conditions = 3;
  c.mode = mode;
  c.embed = 3;
  c.cond_embed = 2;
  c.rnn.cell = cell;
  c.rnn.hidden_size = 4;
  c.rnn.num_layers = layers;
  c.rnn.input_size = c.embed + (c.uses_input() ? c.cond_embed : 0);
  return c;
}

// `steps` Adam updates (lr 1e-2) of m on the texts with their conditions, from m's weights.
void fit(ConditionalLm<float>& m, const std::vector<std::string>& texts,
         const std::vector<int64_t>& conditions, int steps) {
  ConditionalLm<float> g(m.config);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = 1e-2;
  Optimizer<float> opt(oc);
  auto params = param_list(m, g);
  std::vector<const std::string*> ptrs;
  for (auto& t : texts) ptrs.push_back(&t);
  const ClmBatch b = make_clm_batch(ptrs, conditions);
  for (int step = 0; step < steps; ++step) {
    for (auto& p : params) p.grad->fill(0.0f);
    conditional_lm_batch(m, &g, b, {});
    opt.step(params);
  }
}

TEST(ConditionalLm, EndingHeadsGradientsMatchFiniteDifferences) {
  const std::string t0 = "abca", t1 = "", t2 = "cb";
  const ClmBatch batch = make_clm_batch({&t0, &t1, &t2}, {2, 0, 1});
  for (SequenceEnding ending : {SequenceEnding::stop, SequenceEnding::length}) {
    ConditionalLmConfig cfg = config(ConditionMode::both, CellKind::lstm, 1);
    cfg.ending = ending;
    ConditionalLm<double> m(cfg);
    Rng rng(9);
    init_conditional_lm(m, rng);
    for (auto& v : m.w_end.data) v *= 5;
    ConditionalLm<double> g(m.config);
    double end_loss = 0;
    conditional_lm_batch<double>(m, &g, batch, {}, nullptr, &end_loss);
    EXPECT_GT(end_loss, 0);
    auto loss = [&] {
      double e = 0;
      const double ce = conditional_lm_batch<double>(m, nullptr, batch, {}, nullptr, &e);
      return ce + e;
    };
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i) {
      if (pn[i].first == "embedding.weight") continue;
      testing::expect_grad_matches(std::string(sequence_ending_name(ending)) + "." + pn[i].first,
                                   *pn[i].second, *gn[i].second, loss);
    }
  }
  EXPECT_EQ(parse_sequence_ending("length"), SequenceEnding::length);
  EXPECT_RECUR_ERROR(parse_sequence_ending("never"), "unknown ending 'never'");
}

TEST(ConditionalLm, LearnedEndingsStopNearTheTrainedLengths) {
  // Condition 0: texts of 3 bytes; condition 1: texts of 9 bytes. Each head must learn to end
  // its samples at about those lengths, with EOS never drawn.
  for (SequenceEnding ending : {SequenceEnding::eos, SequenceEnding::stop, SequenceEnding::length}) {
    ConditionalLmConfig cfg = config(ConditionMode::both, CellKind::gru, 1);
    cfg.conditions = 2;
    cfg.rnn.hidden_size = 16;
    cfg.ending = ending;
    ConditionalLm<float> m(cfg);
    Rng rng(2);
    init_conditional_lm(m, rng);
    std::vector<std::string> texts;
    std::vector<int64_t> conds;
    for (int i = 0; i < 16; ++i) {
      texts.push_back(std::string(i % 2 ? 9 : 3, 'a'));
      conds.push_back(i % 2);
    }
    fit(m, texts, conds, 300);
    Rng srng(3);
    for (int64_t k = 0; k < 2; ++k) {
      double mean = 0;
      const auto samples = sample_conditional_lm(m, k, 40, 30, 1.0, 0, srng);
      for (const auto& s : samples) mean += double(s.size()) / double(samples.size());
      EXPECT_NEAR(mean, k ? 9.0 : 3.0, 1.0) << sequence_ending_name(ending) << " condition " << k;
    }
  }
}

// Time as an input: gradients with the step index and with the remaining length; and a model
// told the bytes still to write learns where a text ends: every training text is a run of 'a'
// closed by '.', of 3 to 14 bytes, so only the remaining length says when the '.' comes.
TEST(ConditionalLm, TimeInputGradientsAndTheRemainingLengthEndsTexts) {
  const std::string t0 = "abca", t1 = "", t2 = "cb";
  const ClmBatch batch = make_clm_batch({&t0, &t1, &t2}, {2, 0, 1});
  for (TimeInput time : {TimeInput::index, TimeInput::remaining}) {
    ConditionalLmConfig cfg = config(ConditionMode::both, CellKind::lstm, 1);
    cfg.time_input = time;
    cfg.rnn.input_size = cfg.input_width();
    ConditionalLm<double> m(cfg);
    Rng rng(5);
    init_conditional_lm(m, rng);
    ConditionalLm<double> g(m.config);
    conditional_lm_batch(m, &g, batch, {});
    auto loss = [&] { return conditional_lm_batch<double>(m, nullptr, batch, {}); };
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i)
      if (pn[i].first != "embedding.weight")
        testing::expect_grad_matches(std::string(time_input_name(time)) + "." + pn[i].first, *pn[i].second,
                                     *gn[i].second, loss);
  }
  ConditionalLmConfig cfg = config(ConditionMode::input, CellKind::gru, 1);
  cfg.conditions = 1;
  cfg.rnn.hidden_size = 16;
  cfg.time_input = TimeInput::remaining;
  cfg.rnn.input_size = cfg.input_width();
  ConditionalLm<float> m(cfg);
  Rng rng(2);
  init_conditional_lm(m, rng);
  std::vector<std::string> texts;
  for (int n = 3; n <= 14; ++n) texts.push_back(std::string(size_t(n - 1), 'a') + ".");
  fit(m, texts, std::vector<int64_t>(texts.size(), 0), 300);
  Rng srng(3);
  for (int64_t target : {4, 9, 13}) {
    int64_t right = 0;
    for (const std::string& s : sample_conditional_lm(m, 0, 20, 30, 1.0, 0, srng, target))
      right += s == std::string(size_t(target - 1), 'a') + ".";
    EXPECT_GE(right, 16) << "target " << target;
  }
  EXPECT_RECUR_ERROR(sample_conditional_lm(m, 0, 1, 30, 1.0, 0, srng), "give the length to write");
  ConditionalLmConfig bad = cfg;
  bad.ending = SequenceEnding::length;
  EXPECT_RECUR_ERROR(bad.validate(), "exclude each other");
}

TEST(ConditionalLm, GradientsMatchFiniteDifferencesInEveryMode) {
  const std::string t0 = "abca", t1 = "", t2 = "cb";
  const ClmBatch batch = make_clm_batch({&t0, &t1, &t2}, {2, 0, 1});
  for (ConditionMode mode : {ConditionMode::init, ConditionMode::input, ConditionMode::both, ConditionMode::first})
    for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
      ConditionalLm<double> m(config(mode, cell, 2));
      Rng rng(6);
      init_conditional_lm(m, rng);
      for (auto& v : m.cond_init.data) v *= 10;  // init states well away from zero
      ConditionalLm<double> g(m.config);
      conditional_lm_batch(m, &g, batch, {});
      auto loss = [&] { return conditional_lm_batch<double>(m, nullptr, batch, {}); };
      auto pn = m.named();
      auto gn = g.named();
      // The byte embedding table is 258 rows; only the rows of bytes in the batch matter.
      for (size_t i = 0; i < pn.size(); ++i) {
        if (pn[i].first == "embedding.weight") continue;
        testing::expect_grad_matches(std::string(condition_mode_name(mode)) + "." +
                                         cell_name(cell) + "." + pn[i].first,
                                     *pn[i].second, *gn[i].second, loss);
      }
      for (int64_t id : {int64_t('a'), int64_t('c'), ConditionalLmConfig::kBos})
        for (int64_t j = 0; j < m.config.embed; ++j) {
          const int64_t k = id * m.config.embed + j;
          const double saved = m.embedding[k];
          m.embedding[k] = saved + 1e-6;
          const double lp = loss();
          m.embedding[k] = saved - 1e-6;
          const double lm = loss();
          m.embedding[k] = saved;
          EXPECT_NEAR(g.embedding[k], (lp - lm) / 2e-6, 1e-7 + 1e-5 * std::abs(g.embedding[k]))
              << condition_mode_name(mode) << " embedding row " << id;
        }
    }
}

// Real condition vectors: gradients in every mode; a one-hot vector is its class exactly.
TEST(ConditionalLm, VectorConditionsGradientsAndOneHotEqualsClass) {
  const std::string t0 = "abca", t1 = "", t2 = "cb";
  const std::vector<const std::string*> texts{&t0, &t1, &t2};
  const std::vector<float> vectors{0.5f, -1.0f, 0.25f, 0.0f, 2.0f, -0.75f, 1.5f, 0.0f, 0.5f};
  for (ConditionMode mode : {ConditionMode::init, ConditionMode::input, ConditionMode::both, ConditionMode::first}) {
    ConditionalLmConfig cfg = config(mode, CellKind::gru, 2);
    cfg.vectors = true;
    ConditionalLm<double> m(cfg);
    Rng rng(4);
    init_conditional_lm(m, rng);
    for (auto& v : m.cond_init.data) v *= 5;
    const ClmBatch batch = make_clm_vector_batch(texts, vectors);
    ConditionalLm<double> g(m.config);
    conditional_lm_batch(m, &g, batch, {});
    auto loss = [&] { return conditional_lm_batch<double>(m, nullptr, batch, {}); };
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i)
      if (pn[i].first != "embedding.weight")
        testing::expect_grad_matches(std::string("vectors.") + condition_mode_name(mode) + "." + pn[i].first,
                                     *pn[i].second, *gn[i].second, loss);
    ConditionalLm<double> classes = m;  // the same weights, read by class id
    classes.config.vectors = false;
    const double by_class = conditional_lm_batch<double>(classes, nullptr, make_clm_batch(texts, {2, 0, 1}), {});
    const double by_one_hot = conditional_lm_batch<double>(
        m, nullptr, make_clm_vector_batch(texts, {0, 0, 1, 1, 0, 0, 0, 1, 0}), {});
    EXPECT_EQ(by_class, by_one_hot) << condition_mode_name(mode);
  }
  ConditionalLmConfig cfg = config(ConditionMode::both, CellKind::gru, 1);
  cfg.vectors = true;
  EXPECT_EQ(ConditionalLmConfig::from_metadata(cfg.to_metadata()).vectors, true);
  ConditionalLm<double> m(cfg);
  EXPECT_RECUR_ERROR(conditional_lm_batch<double>(m, nullptr, make_clm_batch(texts, {0, 1, 2}), {}),
                     "conditioned on vectors of 3 values");
  EXPECT_RECUR_ERROR(make_clm_vector_batch(texts, std::vector<float>(4)), "one condition vector per text");
}

TEST(ConditionalLm, BatchChecks) {
  const std::string t = "ab";
  EXPECT_RECUR_ERROR(make_clm_batch({&t}, {0, 1}), "one condition per text");
  ConditionalLm<double> m(config(ConditionMode::both, CellKind::lstm, 1));
  EXPECT_RECUR_ERROR(conditional_lm_batch<double>(m, nullptr, make_clm_batch({&t}, {3}), {}),
                     "condition 3 is outside [0, 3)");
  ConditionalLmConfig bad = m.config;
  bad.rnn.bidirectional = true;
  EXPECT_RECUR_ERROR(bad.validate(), "no bidirectional");
}

// Condition 0's texts are runs of 'x', condition 1's runs of 'y': after training, samples for a
// condition must be made of its own byte. With `init` the condition is only in the first state.
TEST(ConditionalLm, GeneratesWhatItsConditionAsksFor) {
  for (ConditionMode mode : {ConditionMode::init, ConditionMode::input}) {
    ConditionalLmConfig c = config(mode, CellKind::lstm, 1);
    c.conditions = 2;
    c.embed = 8;
    c.rnn.hidden_size = 16;
    c.rnn.input_size = c.embed + (c.uses_input() ? c.cond_embed : 0);
    ConditionalLm<float> m(c);
    Rng rng(2);
    init_conditional_lm(m, rng);
    std::vector<std::string> texts;
    std::vector<int64_t> conds;
    for (int i = 0; i < 16; ++i) {
      texts.push_back(std::string(size_t(3 + i % 5), i % 2 ? 'y' : 'x'));
      conds.push_back(i % 2);
    }
    fit(m, texts, conds, 400);
    Rng srng(5);
    for (int64_t k = 0; k < 2; ++k) {
      const char want = k ? 'y' : 'x';
      int64_t right = 0, total = 0;
      for (const std::string& s : sample_conditional_lm(m, k, 20, 12, 1.0, 0, srng))
        for (char ch : s) {
          right += ch == want;
          ++total;
        }
      ASSERT_GT(total, 0) << condition_mode_name(mode);
      EXPECT_GT(double(right) / double(total), 0.9) << condition_mode_name(mode) << " condition " << k;
    }
  }
}

}  // namespace
}  // namespace recur
