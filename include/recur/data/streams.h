// Contiguous token streams read window by window, time-major: the layout every language-model
// loop (training and evaluation) feeds to a SequenceModel.
#pragma once

#include <cstdint>
#include <vector>

namespace recur {

// Fills one window of B streams, streams first .. first+B-1 of the text, stream s starting at
// ids[s * stride]: for t < T and b < B, with s = first + b,
//   x[t*B + b] = ids[s*stride + pos + t],  y[t*B + b] = ids[s*stride + pos + t + 1] (next token).
// (A data-parallel rank reads its own consecutive streams of the run's streams.) The caller
// guarantees every index read is inside ids.
void stream_window(std::vector<int64_t>& x, std::vector<int64_t>& y,
                   const std::vector<int64_t>& ids, int64_t stride, int64_t pos, int64_t T,
                   int64_t B, int64_t first = 0);

}  // namespace recur
