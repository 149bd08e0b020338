// Contiguous token streams read window by window, time-major: the layout every language-model
// loop (training and evaluation) feeds to a SequenceModel.
#pragma once

#include <cstdint>
#include <vector>

namespace recur {

// Fills one window of B streams, stream b starting at ids[b * stride]: for t < T,
//   x[t*B + b] = ids[b*stride + pos + t],  y[t*B + b] = ids[b*stride + pos + t + 1] (next token).
// The caller guarantees every index read is inside ids.
void stream_window(std::vector<int64_t>& x, std::vector<int64_t>& y,
                   const std::vector<int64_t>& ids, int64_t stride, int64_t pos, int64_t T,
                   int64_t B);

}  // namespace recur
