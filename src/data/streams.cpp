// One time-major window of contiguous token streams.
#include "recur/data/streams.h"

#include <cstddef>

namespace recur {

void stream_window(std::vector<int64_t>& x, std::vector<int64_t>& y,
                   const std::vector<int64_t>& ids, int64_t stride, int64_t pos, int64_t T,
                   int64_t B, int64_t first) {
  x.resize(size_t(T * B));
  y.resize(size_t(T * B));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) {
      const size_t i = size_t((first + b) * stride + pos + t);
      x[size_t(t * B + b)] = ids[i];
      y[size_t(t * B + b)] = ids[i + 1];
    }
}

}  // namespace recur
