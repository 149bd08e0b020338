#include "recur/nn/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "recur/core/error.h"

namespace recur {

int64_t sample_from_logits(const float* logits, int64_t V, double temperature, int64_t top_k,
                           Rng& rng) {
  RECUR_CHECK(temperature > 0, "temperature must be positive, got " << temperature);
  RECUR_CHECK(top_k >= 0, "top-k must be >= 0, got " << top_k);
  std::vector<int64_t> order(static_cast<size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  int64_t k = V;
  if (top_k > 0 && top_k < V) {  // candidates: the top k by logit
    k = top_k;
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  }
  std::vector<double> p(static_cast<size_t>(k));
  double mx = -1e300, total = 0;
  for (int64_t j = 0; j < k; ++j) mx = std::max(mx, double(logits[order[size_t(j)]]) / temperature);
  for (int64_t j = 0; j < k; ++j)
    total += p[size_t(j)] = std::exp(double(logits[order[size_t(j)]]) / temperature - mx);
  double r = rng.uniform() * total;
  for (int64_t j = 0; j < k; ++j)
    if ((r -= p[size_t(j)]) < 0) return order[size_t(j)];
  return order[size_t(k - 1)];
}

}  // namespace recur
