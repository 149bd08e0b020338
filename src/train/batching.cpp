#include "recur/train/batching.h"

#include <algorithm>
#include <numeric>

#include "recur/core/rng.h"

namespace recur {

std::vector<std::vector<size_t>> length_pooled_batches(const std::vector<int64_t>& lengths,
                                                       int64_t batch, uint64_t seed, int64_t epoch) {
  Rng rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) + 1);
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const size_t pool = size_t(batch) * 50;
  std::vector<std::vector<size_t>> batches;
  for (size_t p = 0; p < order.size(); p += pool) {
    auto first = order.begin() + std::ptrdiff_t(p);
    auto last = order.begin() + std::ptrdiff_t(std::min(order.size(), p + pool));
    std::stable_sort(first, last, [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(batch, last - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(batch, last - it));
  }
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.below(i)]);
  return batches;
}

}  // namespace recur
