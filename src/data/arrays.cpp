#include "recur/data/arrays.h"

#include <cmath>
#include <filesystem>

#include "recur/io/npy.h"

namespace recur {
namespace {

std::string index_str(std::initializer_list<int64_t> idx) {
  std::string s = "[";
  for (int64_t i : idx) s += (s.size() > 1 ? ", " : "") + std::to_string(i);
  return s + "]";
}

std::vector<int64_t> read_lengths(const std::string& path, int64_t n, int64_t steps) {
  if (path.empty()) return std::vector<int64_t>(size_t(n), steps);
  Shape shape;
  std::vector<int64_t> len = load_npy_int(path, &shape);
  RECUR_CHECK(shape == Shape{n}, "'" << path << "': lengths of shape " << shape_str(shape)
                                     << "; expected (" << n << ",), one per sequence");
  for (int64_t i = 0; i < n; ++i)
    RECUR_CHECK(len[size_t(i)] >= 1 && len[size_t(i)] <= steps,
                "'" << path << "': length " << len[size_t(i)] << " at index " << i
                    << "; expected 1 to " << steps << " (the features' T)");
  return len;
}

// Every feature within a sequence's length is finite; the padding past it may hold anything.
void check_finite(const LabeledArrays& a) {
  const int64_t steps = a.steps(), f = a.features();
  for (int64_t i = 0; i < a.count(); ++i) {
    const float* row = a.x.ptr() + i * steps * f;
    for (int64_t k = 0; k < a.lengths[size_t(i)] * f; ++k)
      RECUR_CHECK(std::isfinite(row[k]), "'" << a.source << "': " << row[k] << " at "
                                             << index_str({i, k / f, k % f})
                                             << "; expected finite features");
  }
}

// The labels of a's sequences: (N,) or (N, T), each >= 0 within its sequence's length.
std::vector<int64_t> read_labels(const std::string& path, const LabeledArrays& a, ArrayLabels kind) {
  const int64_t n = a.count(), steps = a.steps();
  Shape shape;
  std::vector<int64_t> labels = load_npy_int(path, &shape);
  const bool per_step = kind == ArrayLabels::per_step;
  const Shape want = per_step ? Shape{n, steps} : Shape{n};
  RECUR_CHECK(shape == want, "'" << path << "': labels of shape " << shape_str(shape) << "; expected "
                                 << shape_str(want)
                                 << (per_step ? ", a class per step of " : ", a class per sequence of ")
                                 << a.source);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < (per_step ? a.lengths[size_t(i)] : 1); ++t) {
      const int64_t y = labels[size_t(per_step ? i * steps + t : i)];
      RECUR_CHECK(y >= 0, "'" << path << "': label " << y << " at "
                              << (per_step ? index_str({i, t}) : index_str({i}))
                              << "; expected a class index >= 0");
    }
  return labels;
}

}  // namespace

LabeledArrays read_labeled_arrays(const std::string& x_path, const std::string& y_path,
                                  const std::string& lengths_path, ArrayLabels kind) {
  LabeledArrays a;
  a.source = x_path;
  a.x = load_npy<float>(x_path);
  const Shape& xs = a.x.shape;
  RECUR_CHECK(xs.size() == 3 && xs[0] > 0 && xs[1] > 0 && xs[2] > 0,
              "'" << x_path << "': features of shape " << shape_str(xs)
                  << "; expected (N, T, F), sequences x steps x features, none of them 0");
  a.lengths = read_lengths(lengths_path, a.count(), a.steps());

  if (!y_path.empty()) a.labels = read_labels(y_path, a, kind);
  check_finite(a);
  return a;
}

std::optional<LabeledArrays> read_array_split(const std::string& dir, const std::string& split,
                                              ArrayLabels kind) {
  namespace fs = std::filesystem;
  auto file = [&](const char* prefix) { return (fs::path(dir) / (prefix + split + ".npy")).string(); };
  const std::string x = file("x_"), y = file("y_"), len = file("lengths_");
  if (!fs::exists(x)) return std::nullopt;
  RECUR_CHECK(fs::exists(y), "'" << x << "' has no labels: expected '" << y << "' beside it");
  return read_labeled_arrays(x, y, fs::exists(len) ? len : std::string(), kind);
}

std::vector<Example> array_examples(const LabeledArrays& a) {
  const bool labelled = !a.labels.empty();
  RECUR_CHECK(!labelled || int64_t(a.labels.size()) == a.count(),
              a.source << ": expected a label per sequence, not per step");
  std::vector<Example> out(size_t(a.count()));
  const int64_t row = a.steps() * a.features();
  for (int64_t i = 0; i < a.count(); ++i) {
    Example& e = out[size_t(i)];
    e.steps = a.lengths[size_t(i)];
    e.values.assign(a.x.ptr() + i * row, a.x.ptr() + i * row + e.steps * a.features());
    e.label = labelled ? a.labels[size_t(i)] : -1;
  }
  return out;
}

}  // namespace recur
