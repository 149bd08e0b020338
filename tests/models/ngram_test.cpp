// NgramModel: normalisation, a hand-computed order-1 value, agreement with a direct map-based
// implementation of interpolated modified Kneser-Ney, backoff on unseen contexts, and bad input.
#include "recur/models/ngram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "expect_error.h"

namespace recur {
namespace {

using Ids = std::vector<int64_t>;

Ids random_ids(size_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(0, vocab - 1);
  Ids ids(n);
  for (auto& x : ids) x = dist(rng);
  return ids;
}

// A text with structure at several ranges: a few "words" (fixed token strings) drawn at random,
// each followed by a separator token, with a first-order dependency between consecutive words.
Ids structured_ids(size_t n, uint32_t seed) {
  const std::vector<Ids> words = {{1, 2, 3}, {1, 4, 5, 6}, {2, 7, 3}, {8, 9}, {4, 1, 9, 9, 2}};
  std::mt19937 rng(seed);
  Ids ids;
  size_t w = 0;
  while (ids.size() < n) {
    w = (w + 1 + rng() % 2) % words.size();
    ids.insert(ids.end(), words[w].begin(), words[w].end());
    ids.push_back(0);
  }
  ids.resize(n);
  return ids;
}

double sum_probs(const NgramModel& m, const Ids& context) {
  double sum = 0;
  for (int64_t w = 0; w < m.vocab(); ++w)
    sum += std::exp(m.log_prob(context.data(), int64_t(context.size()), w));
  return sum;
}

TEST(NgramTest, ProbabilitiesSumToOne) {
  const int64_t vocab = 7;
  const Ids train = random_ids(3000, vocab - 1, 1);  // id 6 never occurs in training
  std::mt19937 rng(2);
  for (int order = 1; order <= 5; ++order) {
    const NgramModel m = NgramModel::fit(train, vocab, order);
    EXPECT_EQ(m.order(), order);
    for (int trial = 0; trial < 40; ++trial) {
      // Contexts seen in training, random ones (often unseen at high orders), and short ones.
      Ids context;
      const size_t len = rng() % 7;
      if (trial % 2 == 0) {
        const size_t at = rng() % (train.size() - len);
        context.assign(train.begin() + int64_t(at), train.begin() + int64_t(at + len));
      } else {
        for (size_t i = 0; i < len; ++i) context.push_back(int64_t(rng() % vocab));
      }
      EXPECT_NEAR(sum_probs(m, context), 1.0, 1e-9) << "order " << order << " trial " << trial;
    }
  }
}

TEST(NgramTest, OrderOneMatchesHandComputedValue) {
  // Counts 1, 2, 3, 4, 5 for ids 0..4; id 5 unseen; V = 6. Counts-of-counts n1..n4 are all 1, so
  // Y = 1/3, D1 = 1/3, D2 = 2 - 3Y = 1, D3+ = 3 - 4Y = 5/3. S = 15 and
  // gamma = (D1 + D2 + 3 D3+) / 15 = (19/3) / 15, so p(w) = max(c - D, 0) / 15 + (19/3)/15 / 6:
  // p = 31, 37, 43, 61, 79, 19 (all / 270), which sums to 270/270.
  const Ids train = {4, 3, 4, 2, 1, 4, 3, 0, 2, 4, 1, 3, 4, 2, 3};
  const NgramModel m = NgramModel::fit(train, 6, 1);
  const NgramModel::Discounts d = m.discounts(1);
  EXPECT_NEAR(d.d1, 1.0 / 3, 1e-15);
  EXPECT_NEAR(d.d2, 1.0, 1e-15);
  EXPECT_NEAR(d.d3, 5.0 / 3, 1e-15);
  const double expected[6] = {31, 37, 43, 61, 79, 19};
  for (int64_t w = 0; w < 6; ++w)
    EXPECT_NEAR(m.log_prob(nullptr, 0, w), std::log(expected[w] / 270), 1e-12) << "id " << w;
  // The context is ignored at order 1, and mean_nll averages -log p over the sequence.
  const Ids ctx = {1, 2, 3};
  EXPECT_DOUBLE_EQ(m.log_prob(ctx.data(), 3, 4), m.log_prob(nullptr, 0, 4));
  const Ids seq = {0, 5, 4};
  EXPECT_NEAR(m.mean_nll(seq),
              -(std::log(31.0 / 270) + std::log(19.0 / 270) + std::log(79.0 / 270)) / 3, 1e-12);
}

// A direct implementation of the equations in ngram.h over std::map, for comparison.
class ReferenceKn {
 public:
  ReferenceKn(const Ids& train, int64_t vocab, int order) : vocab_(vocab), order_(order) {
    std::vector<std::map<Ids, std::set<int64_t>>> left(size_t(order) + 1);
    std::vector<std::map<Ids, int64_t>> raw(size_t(order) + 1);
    for (int k = 1; k <= order; ++k)
      for (size_t i = 0; i + size_t(k) <= train.size(); ++i) {
        const Ids g(train.begin() + int64_t(i), train.begin() + int64_t(i) + k);
        ++raw[size_t(k)][g];
        left[size_t(k)][g].insert(i == 0 ? -1 : train[i - 1]);  // -1: the start of the text
      }
    counts_.resize(size_t(order) + 1);
    d_.resize(size_t(order) + 1);
    for (int k = 1; k <= order; ++k) {
      for (const auto& [g, c] : raw[size_t(k)])
        counts_[size_t(k)][g] = k == order ? c : int64_t(left[size_t(k)][g].size());
      double n[5] = {0, 0, 0, 0, 0};
      for (const auto& [g, c] : counts_[size_t(k)])
        if (c <= 4) ++n[c];
      double d1 = 0.5, d2 = 1, d3 = 1.5;
      if (n[1] > 0) {
        const double y = n[1] / (n[1] + 2 * n[2]);
        d1 = 1 - 2 * y * n[2] / n[1];
        if (n[2] > 0) d2 = 2 - 3 * y * n[3] / n[2];
        if (n[3] > 0) d3 = 3 - 4 * y * n[4] / n[3];
      }
      d_[size_t(k)] = {std::clamp(d1, 0.01, 1.0), std::clamp(d2, 0.01, 2.0),
                       std::clamp(d3, 0.01, 3.0)};
    }
  }

  double prob(const Ids& context, int64_t w) const {
    const size_t used = std::min(context.size(), size_t(order_ - 1));
    const Ids h(context.end() - int64_t(used), context.end());
    return p(h, w, int(used) + 1);
  }

 private:
  double disc(int k, int64_t a) const {
    const auto& d = d_[size_t(k)];
    return a == 0 ? 0 : a == 1 ? d[0] : a == 2 ? d[1] : d[2];
  }
  double p(const Ids& h, int64_t w, int k) const {
    if (k == 0) return 1.0 / double(vocab_);
    const Ids lower_h(h.begin() + (h.empty() ? 0 : 1), h.end());
    const double lower = p(lower_h, w, k - 1);
    double total = 0, gamma = 0, a = 0;
    for (const auto& [g, c] : counts_[size_t(k)]) {
      if (!std::equal(h.begin(), h.end(), g.begin())) continue;
      total += double(c);
      gamma += disc(k, c);
      if (g.back() == w) a = double(c);
    }
    if (total == 0) return lower;
    return (a - disc(k, int64_t(a))) / total + gamma / total * lower;
  }

  int64_t vocab_;
  int order_;
  std::vector<std::map<Ids, int64_t>> counts_;
  std::vector<std::array<double, 3>> d_;
};

TEST(NgramTest, MatchesDirectImplementation) {
  const int64_t vocab = 5;
  Ids train = structured_ids(400, 3);
  const Ids noise = random_ids(200, vocab, 4);
  train.insert(train.end(), noise.begin(), noise.end());
  for (int64_t& x : train) x %= vocab;
  std::mt19937 rng(5);
  for (int order = 1; order <= 4; ++order) {
    const NgramModel m = NgramModel::fit(train, vocab, order);
    const ReferenceKn ref(train, vocab, order);
    for (int trial = 0; trial < 30; ++trial) {
      Ids context;
      const size_t len = rng() % 5;
      const size_t at = rng() % (train.size() - len);
      if (trial % 3 == 0)
        for (size_t i = 0; i < len; ++i) context.push_back(int64_t(rng() % vocab));
      else
        context.assign(train.begin() + int64_t(at), train.begin() + int64_t(at + len));
      for (int64_t w = 0; w < vocab; ++w)
        EXPECT_NEAR(m.log_prob(context.data(), int64_t(context.size()), w),
                    std::log(ref.prob(context, w)), 1e-10)
            << "order " << order << " trial " << trial << " w " << w;
    }
  }
}

TEST(NgramTest, DeterministicSequenceIsNearlyFree) {
  Ids train;
  for (int i = 0; i < 3000; ++i) train.push_back(i % 3);  // abcabc...
  Ids test;
  for (int i = 0; i < 300; ++i) test.push_back((i + 1) % 3);
  const double bits1 = NgramModel::fit(train, 3, 1).mean_nll(test) / std::log(2.0);
  EXPECT_GT(bits1, 1.5);  // order 1 is about log2(3) = 1.58 bits
  for (int order = 2; order <= 6; ++order) {
    const double bits = NgramModel::fit(train, 3, order).mean_nll(test) / std::log(2.0);
    // Only the first token (no context) costs about log2(3) bits; the rest are nearly certain.
    EXPECT_LT(bits, 0.01) << "order " << order;
  }
}

TEST(NgramTest, HigherOrdersBeatUnigram) {
  const Ids train = structured_ids(20000, 6);
  const Ids test = structured_ids(2000, 7);
  const double nll1 = NgramModel::fit(train, 10, 1).mean_nll(test);
  double prev = nll1;
  for (int order = 2; order <= 4; ++order) {
    const double nll = NgramModel::fit(train, 10, order).mean_nll(test);
    EXPECT_LT(nll, prev - 0.05) << "order " << order;
    prev = nll;
  }
  EXPECT_LT(prev, 0.5 * nll1);
}

TEST(NgramTest, UnseenContextsAndTokensBackOff) {
  // Random ids 0..9 with "1 2 3" planted often and "1 2 4" less often; ids 11 and 12 only end the
  // text, so the context "12" never had a follower; ids 13..49 never occur.
  const int64_t vocab = 50;
  Ids train = random_ids(2000, 10, 8);
  for (size_t i = 0; i < 1900; i += 20) {
    const int64_t third = i % 60 == 0 ? 4 : 3;
    train[i] = 1, train[i + 1] = 2, train[i + 2] = third;
  }
  train.push_back(11);
  train.push_back(12);
  const NgramModel m = NgramModel::fit(train, vocab, 4);
  const Ids unseen = {40, 41, 42};  // never in training
  const Ids seen_end = {5, 11, 12};
  for (const Ids& ctx : {unseen, seen_end, Ids{}, Ids{3}, Ids{7, 1, 2}}) {
    double sum = 0;
    for (int64_t w = 0; w < vocab; ++w) {
      const double lp = m.log_prob(ctx.data(), int64_t(ctx.size()), w);
      EXPECT_TRUE(std::isfinite(lp));
      EXPECT_LT(lp, 0.0);
      sum += std::exp(lp);
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  // An unseen context, or one that never had a follower, gives the order-1 distribution.
  for (int64_t w = 0; w < vocab; ++w) {
    EXPECT_NEAR(m.log_prob(unseen.data(), 3, w), m.log_prob(nullptr, 0, w), 1e-12);
    EXPECT_NEAR(m.log_prob(seen_end.data(), 3, w), m.log_prob(nullptr, 0, w), 1e-12);
  }
  // A full context (raw counts at the top order) prefers what followed it: after "1 2", 3 beats 4
  // beats 0 beats an unseen id. (With a shorter context the top level used is a lower order, whose
  // continuation counts rank by distinct left neighbours instead.)
  const NgramModel m3 = NgramModel::fit(train, vocab, 3);
  const Ids ctx = {1, 2};
  EXPECT_GT(m3.log_prob(ctx.data(), 2, 3), m3.log_prob(ctx.data(), 2, 4));
  EXPECT_GT(m3.log_prob(ctx.data(), 2, 4), m3.log_prob(ctx.data(), 2, 0));
  EXPECT_GT(m3.log_prob(ctx.data(), 2, 0), m3.log_prob(ctx.data(), 2, 30));
  EXPECT_GT(m3.log_prob(ctx.data(), 2, 3), std::log(0.4));
  EXPECT_EQ(m.num_ngrams(1), 12);
  EXPECT_GT(m.num_ngrams(), m.num_ngrams(1));
}

TEST(NgramTest, RejectsBadInput) {
  const Ids train = {0, 1, 2};
  EXPECT_RECUR_ERROR(NgramModel::fit(train, 3, 0), "order", "got 0");
  EXPECT_RECUR_ERROR(NgramModel::fit(train, 3, NgramModel::kMaxOrder + 1), "order");
  EXPECT_RECUR_ERROR(NgramModel::fit({}, 3, 2), "empty");
  EXPECT_RECUR_ERROR(NgramModel::fit(train, 2, 2), "token 2", "outside the vocabulary");
  EXPECT_RECUR_ERROR(NgramModel::fit(train, 0, 2), "vocabulary size");
  const NgramModel m = NgramModel::fit(train, 3, 2);
  EXPECT_RECUR_ERROR(m.log_prob(nullptr, 0, 3), "outside the vocabulary");
  EXPECT_RECUR_ERROR(m.mean_nll({}), "empty");
  EXPECT_RECUR_ERROR(m.mean_nll({0, -1}), "outside the vocabulary");
  EXPECT_RECUR_ERROR(m.discounts(3), "order");
}

}  // namespace
}  // namespace recur
