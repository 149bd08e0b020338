// NgramModel: a count-based order-N Markov language model over token ids with interpolated
// modified Kneser-Ney smoothing (Chen & Goodman 1998), the baseline the recurrent models must beat.
//
// Notation. The training text is w_1 .. w_T over ids 0 .. V-1. An order-N model predicts w_t from
// the history h = w_{t-N+1} .. w_{t-1}; h' is h without its oldest token. p_k is the order-k
// estimate (context of k-1 tokens); p_0(w) = 1/V is the uniform distribution.
//
// Counts. At the highest order N the count of an n-gram is its raw count a_N(h w) = c(h w). At a
// lower order k < N it is the continuation count a_k(h w) = N1+(. h w): the number of distinct
// tokens x such that x h w occurs in the training text, plus one if h w begins the text (the start
// of the text counts as one more left context, so no observed n-gram has count 0).
//
// Discounts. For each order k, with n_r the number of distinct k-grams whose count a_k is r:
//   Y = n_1 / (n_1 + 2 n_2),
//   D_k1 = 1 - 2 Y n_2 / n_1,   D_k2 = 2 - 3 Y n_3 / n_2,   D_k3+ = 3 - 4 Y n_4 / n_3.
// D_k(a) is 0 for a = 0, D_k1 for a = 1, D_k2 for a = 2 and D_k3+ for a >= 3. Where a
// count-of-counts is zero (tiny or deterministic texts) the defaults D_k1 = 0.5, D_k2 = 1,
// D_k3+ = 1.5 stand in for the undefined estimates, and each D_kr is clamped to [0.01, r] (so that
// a - D_k(a) >= 0 and the backoff weight is positive).
//
// Interpolation. For a context h of k-1 tokens with S_k(h) = sum_w a_k(h w) > 0:
//   p_k(w | h) = max(a_k(h w) - D_k(a_k(h w)), 0) / S_k(h) + gamma_k(h) p_{k-1}(w | h'),
//   gamma_k(h) = (D_k1 N_1(h .) + D_k2 N_2(h .) + D_k3+ N_3+(h .)) / S_k(h),
// where N_r(h .) is the number of distinct w with a_k(h w) = r (r >= 3 for N_3+). A context that
// never occurred with a follower (S_k(h) = 0) falls back to p_k(w | h) = p_{k-1}(w | h'). Each p_k
// sums to one over the vocabulary, and every token, seen or not, gets a probability of at least
// prod_k gamma_k / V > 0. At the start of a sequence (fewer than N-1 previous tokens) the highest
// order used is the number of previous tokens plus one, with its continuation counts.
//
// Storage. Every n-gram of length 1..N in the training text is a node of a trie over reversed
// histories (a node's parent is the n-gram without its oldest token), kept in one open-addressing
// hash table per length keyed exactly by (parent node id, token). About 40 bytes per distinct
// n-gram, twice that while fitting: order 10 on the King James Bible (4.1 M training characters,
// 4.9 M distinct n-grams) fits in about 1.5 s and peaks at about 0.35 GB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recur {

class NgramModel {
 public:
  static constexpr int kMaxOrder = 64;

  // The modified Kneser-Ney discounts of one order: for counts 1, 2 and 3 or more.
  struct Discounts {
    double d1 = 0, d2 = 0, d3 = 0;
  };

  // Counts the n-grams of `train` (ids in [0, vocab)) up to length `order` (1 .. kMaxOrder) and
  // estimates the discounts. Throws recur::Error on an empty text, a bad order or vocabulary size,
  // or an id outside the vocabulary.
  static NgramModel fit(const std::vector<int64_t>& train, int64_t vocab, int order);

  // Natural log of p(next | context). `context` holds `context_len` ids, oldest first; only the
  // last order()-1 of them are used (fewer at the start of a text). Ids must be in [0, vocab).
  double log_prob(const int64_t* context, int64_t context_len, int64_t next) const;
  // Mean negative log-likelihood in nats per token of the whole sequence: ids[t] is predicted from
  // ids[max(0, t-N+1) .. t-1], so the first tokens use shorter contexts. Throws on an empty
  // sequence.
  double mean_nll(const std::vector<int64_t>& ids) const;

  int order() const { return order_; }
  int64_t vocab() const { return vocab_; }
  // Distinct n-grams of length k (1 .. order()) in the training text, and in total.
  int64_t num_ngrams(int k) const;
  int64_t num_ngrams() const { return int64_t(count_.size()) - 1; }
  // The discounts of order k (1 .. order()).
  Discounts discounts(int k) const;

 private:
  // One open-addressing (linear probing) table: exact key (parent id << 32 | token) -> node id.
  struct Table {
    struct Slot {
      uint64_t key;
      uint32_t node;
    };
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    std::vector<Slot> slots;
    uint64_t mask = 0;
    int shift = 64;
    size_t size = 0;

    void reset(size_t capacity_hint);
    size_t slot_of(uint64_t key) const;
    uint32_t find(uint64_t key) const;  // kNone if absent
    // Returns the node stored under `key`, inserting `fresh` if it is absent (then *inserted).
    uint32_t find_or_insert(uint64_t key, uint32_t fresh, bool* inserted);
    void grow();
  };
  static constexpr uint32_t kNone = ~uint32_t(0);
  static uint64_t key(uint32_t parent, int64_t token) {
    return (uint64_t(parent) << 32) | uint64_t(token);
  }
  void check_id(int64_t id, const char* what) const;
  // log p(ids[t] | ids[t-K+1 .. t-1]) with K = min(order, context available + 1).
  double log_prob_at(const int64_t* ids, int64_t t) const;

  int order_ = 0;
  int64_t vocab_ = 0;
  std::vector<Table> tables_;          // tables_[k]: n-grams of length k (index 0 unused)
  std::vector<uint32_t> depth_begin_;  // nodes of length k are [depth_begin_[k], depth_begin_[k+1])
  std::vector<Discounts> discounts_;   // per order, index 0 unused
  std::vector<uint32_t> count_;        // a_k of the node's n-gram (k its length); node 0: root
  std::vector<uint32_t> total_;        // S(h) for the node as a context (lengths 0 .. N-1)
  std::vector<double> gamma_;          // gamma(h) for the node as a context (lengths 0 .. N-1)
};

}  // namespace recur
