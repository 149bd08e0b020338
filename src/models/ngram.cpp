// NgramModel: counting n-grams into per-length hash tables and interpolated modified Kneser-Ney.
#include "recur/models/ngram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "recur/core/error.h"

namespace recur {

namespace {

constexpr double kMaxLoad = 0.7;

uint64_t mix(uint64_t h) {  // MurmurHash3's 64-bit finaliser
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Chen & Goodman's estimates from the counts-of-counts n[1..4], with defaults where they are
// undefined, clamped so that 0 < D_r <= r.
NgramModel::Discounts estimate_discounts(const uint64_t n[5]) {
  NgramModel::Discounts d{0.5, 1.0, 1.5};
  const double n1 = double(n[1]), n2 = double(n[2]), n3 = double(n[3]), n4 = double(n[4]);
  if (n1 > 0) {
    const double y = n1 / (n1 + 2 * n2);
    d.d1 = 1 - 2 * y * n2 / n1;
    if (n2 > 0) d.d2 = 2 - 3 * y * n3 / n2;
    if (n3 > 0) d.d3 = 3 - 4 * y * n4 / n3;
  }
  d.d1 = std::clamp(d.d1, 0.01, 1.0);
  d.d2 = std::clamp(d.d2, 0.01, 2.0);
  d.d3 = std::clamp(d.d3, 0.01, 3.0);
  return d;
}

double discount(const NgramModel::Discounts& d, uint32_t a) {
  return a == 0 ? 0.0 : a == 1 ? d.d1 : a == 2 ? d.d2 : d.d3;
}

}  // namespace

void NgramModel::Table::reset(size_t capacity_hint) {
  size_t cap = 16;
  while (double(cap) * kMaxLoad < double(capacity_hint)) cap *= 2;
  slots.assign(cap, Slot{kEmpty, 0});
  mask = cap - 1;
  shift = 64 - std::countr_zero(cap);
  size = 0;
}

size_t NgramModel::Table::slot_of(uint64_t key) const { return size_t(mix(key) >> shift); }

uint32_t NgramModel::Table::find(uint64_t key) const {
  if (slots.empty()) return kNone;
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.key == key) return s.node;
    if (s.key == kEmpty) return kNone;
  }
}

uint32_t NgramModel::Table::find_or_insert(uint64_t key, uint32_t fresh, bool* inserted) {
  if (double(size + 1) > kMaxLoad * double(slots.size())) grow();
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    Slot& s = slots[i];
    if (s.key == key) {
      *inserted = false;
      return s.node;
    }
    if (s.key == kEmpty) {
      s = Slot{key, fresh};
      ++size;
      *inserted = true;
      return fresh;
    }
  }
}

void NgramModel::Table::grow() {
  std::vector<Slot> old = std::move(slots);
  reset(old.size());  // at kMaxLoad this doubles the capacity
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = slot_of(s.key);
    while (slots[i].key != kEmpty) i = (i + 1) & mask;
    slots[i] = s;
    ++size;
  }
}

NgramModel NgramModel::fit(const std::vector<int64_t>& train, int64_t vocab, int order) {
  RECUR_CHECK(order >= 1 && order <= kMaxOrder,
              "n-gram order must be in 1.." << kMaxOrder << ", got " << order);
  RECUR_CHECK(vocab >= 1 && vocab < int64_t(kNone),
              "n-gram vocabulary size must be in 1.." << int64_t(kNone) - 1 << ", got " << vocab);
  RECUR_CHECK(!train.empty(), "the n-gram model needs a non-empty training sequence");
  RECUR_CHECK(train.size() < size_t(kNone) / 2, "the n-gram training sequence is too long ("
                                                    << train.size() << " tokens, at most "
                                                    << kNone / 2 - 1 << ")");
  for (size_t i = 0; i < train.size(); ++i)
    RECUR_CHECK(train[i] >= 0 && train[i] < vocab,
                "n-gram training token " << i << " is id " << train[i]
                                         << ", outside the vocabulary 0.." << vocab - 1);
  NgramModel m;
  m.order_ = order;
  m.vocab_ = vocab;
  const size_t n = train.size();

  // Pass k adds the k-grams: the one ending at t extends the (k-1)-gram ending at t (its parent in
  // the reversed trie) by the older token train[t-k+1]; its context, the k-gram without its newest
  // token, is the (k-1)-gram ending at t-1. Node 0 is the root (the empty n-gram).
  std::vector<uint32_t> parent{kNone}, context{kNone}, raw{0};
  std::vector<uint8_t> at_start{0};      // the n-gram begins the training text
  std::vector<uint32_t> end_node(n, 0);  // before pass k: the (k-1)-gram ending at t
  m.tables_.resize(size_t(order) + 1);
  m.depth_begin_ = {0, 1};
  for (int k = 1; k <= order; ++k) {
    Table& table = m.tables_[size_t(k)];
    const size_t prev_nodes = m.depth_begin_[size_t(k)] - m.depth_begin_[size_t(k) - 1];
    table.reset(std::min(n, k == 1 ? size_t(vocab) : 2 * prev_nodes));
    if (size_t(k) <= n) {
      uint32_t prev_end = k == 1 ? 0 : end_node[size_t(k) - 2];  // (k-1)-gram ending at t-1
      for (size_t t = size_t(k) - 1; t < n; ++t) {
        const uint32_t par = end_node[t];
        bool inserted = false;
        const uint32_t node = table.find_or_insert(key(par, train[t + 1 - size_t(k)]),
                                                   uint32_t(raw.size()), &inserted);
        if (inserted) {
          RECUR_CHECK(raw.size() + 1 < size_t(kNone), "too many distinct n-grams for the model");
          parent.push_back(par);
          context.push_back(prev_end);
          raw.push_back(0);
          at_start.push_back(0);
        }
        ++raw[node];
        if (t + 1 == size_t(k)) at_start[node] = 1;
        prev_end = par;
        end_node[t] = node;
      }
    }
    m.depth_begin_.push_back(uint32_t(raw.size()));
  }
  std::vector<uint32_t>().swap(end_node);
  const size_t nodes = raw.size();
  const uint32_t top_begin = m.depth_begin_[size_t(order)];  // first node of length N

  // a_k: raw counts at length N, continuation counts (distinct left extensions, the start of text
  // counting as one) below.
  std::vector<uint32_t> cont(at_start.begin(), at_start.begin() + top_begin);
  for (size_t g = m.depth_begin_[2]; g < nodes; ++g) ++cont[parent[g]];
  std::vector<uint32_t>().swap(parent);
  std::vector<uint8_t>().swap(at_start);
  m.count_ = std::move(raw);
  std::copy(cont.begin() + 1, cont.end(), m.count_.begin() + 1);
  m.count_[0] = 0;
  std::vector<uint32_t>().swap(cont);

  // Discounts per order from the counts-of-counts of a_k.
  m.discounts_.assign(size_t(order) + 1, Discounts{});
  for (int k = 1; k <= order; ++k) {
    uint64_t coc[5] = {0, 0, 0, 0, 0};
    for (uint32_t g = m.depth_begin_[size_t(k)]; g < m.depth_begin_[size_t(k) + 1]; ++g)
      if (m.count_[g] <= 4) ++coc[m.count_[g]];
    m.discounts_[size_t(k)] = estimate_discounts(coc);
  }

  // Context statistics S(h) and gamma(h) for the n-grams of lengths 0 .. N-1.
  m.total_.assign(top_begin, 0);
  m.gamma_.assign(top_begin, 0.0);
  for (int k = 1; k <= order; ++k) {
    const Discounts& d = m.discounts_[size_t(k)];
    for (uint32_t g = m.depth_begin_[size_t(k)]; g < m.depth_begin_[size_t(k) + 1]; ++g) {
      m.total_[context[g]] += m.count_[g];
      m.gamma_[context[g]] += discount(d, m.count_[g]);
    }
  }
  for (size_t h = 0; h < top_begin; ++h)
    m.gamma_[h] = m.total_[h] > 0 ? m.gamma_[h] / double(m.total_[h]) : 0.0;
  return m;
}

void NgramModel::check_id(int64_t id, const char* what) const {
  RECUR_CHECK(id >= 0 && id < vocab_,
              "n-gram " << what << " id " << id << " is outside the vocabulary 0.." << vocab_ - 1);
}

double NgramModel::log_prob_at(const int64_t* ids, int64_t t) const {
  const int kmax = int(std::min<int64_t>(order_, t + 1));
  double p = 1.0 / double(vocab_);
  uint32_t ctx = 0, ev = 0;  // the context h (k-1 tokens) and the n-gram h w (k tokens)
  for (int k = 1; k <= kmax; ++k) {
    const uint64_t tok = uint64_t(ids[t + 1 - k]);
    if (k >= 2) {
      ctx = tables_[size_t(k) - 1].find(key(ctx, int64_t(tok)));
      if (ctx == kNone) break;
    }
    const uint32_t total = total_[ctx];
    if (total == 0) break;  // the context never had a follower: p_k = p_{k-1}
    uint32_t a = 0;
    if (ev != kNone) {
      ev = tables_[size_t(k)].find(key(ev, int64_t(tok)));
      if (ev != kNone) a = count_[ev];
    }
    p = (double(a) - discount(discounts_[size_t(k)], a)) / double(total) + gamma_[ctx] * p;
  }
  return std::log(p);
}

double NgramModel::log_prob(const int64_t* context, int64_t context_len, int64_t next) const {
  RECUR_CHECK(context_len >= 0 && (context_len == 0 || context != nullptr),
              "n-gram context length must be >= 0, got " << context_len);
  const int64_t used = std::min<int64_t>(context_len, order_ - 1);
  std::vector<int64_t> buf(context + (context_len - used), context + context_len);
  for (int64_t id : buf) check_id(id, "context");
  check_id(next, "next token");
  buf.push_back(next);
  return log_prob_at(buf.data(), used);
}

double NgramModel::mean_nll(const std::vector<int64_t>& ids) const {
  RECUR_CHECK(!ids.empty(), "cannot evaluate an n-gram model on an empty sequence");
  for (int64_t id : ids) check_id(id, "token");
  double sum = 0;
  for (size_t t = 0; t < ids.size(); ++t) sum -= log_prob_at(ids.data(), int64_t(t));
  return sum / double(ids.size());
}

int64_t NgramModel::num_ngrams(int k) const {
  RECUR_CHECK(k >= 1 && k <= order_, "n-gram length must be in 1.." << order_ << ", got " << k);
  return int64_t(depth_begin_[size_t(k) + 1]) - int64_t(depth_begin_[size_t(k)]);
}

NgramModel::Discounts NgramModel::discounts(int k) const {
  RECUR_CHECK(k >= 1 && k <= order_, "n-gram order must be in 1.." << order_ << ", got " << k);
  return discounts_[size_t(k)];
}

}  // namespace recur
