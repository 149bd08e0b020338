// Minibatches of variable-length examples for the trainers: each epoch shuffles the examples (the
// shuffle depends only on the seed and the epoch, so a resumed run sees the same batches), cuts
// them into pools of 50 batches, sorts every pool by length and cuts it into batches (little
// padding, still random), then shuffles the batch order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recur {

// Batches of example indices for `epoch`; lengths[i] is example i's length.
std::vector<std::vector<size_t>> length_pooled_batches(const std::vector<int64_t>& lengths,
                                                       int64_t batch, uint64_t seed, int64_t epoch);

}  // namespace recur
