// Drawing a token from a row of logits: softmax(logits / temperature) over every token, or over
// the top_k most likely ones only. The generators (language models, conditional models) share it.
#pragma once

#include <cstdint>

#include "recur/core/rng.h"

namespace recur {

// temperature > 0 (below 1 sharpens, above 1 flattens); top_k = 0: the whole vocabulary.
int64_t sample_from_logits(const float* logits, int64_t V, double temperature, int64_t top_k, Rng& rng);

}  // namespace recur
