// The tensor ops of OnnxGraph: what torch.onnx puts around the recurrent ops. Plain loops: these
// ops move a few small tensors (shapes, states) or run once per sequence (the output head), so the
// time is in the recurrent layers and the GEMMs, which go to recur's kernels.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "onnx/ops.h"
#include "recur/core/gemm.h"

namespace recur::onnx_ops {
namespace {

using Type = OnnxValue::Type;

int64_t count(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<>()); }

// Row-major strides of a shape.
std::vector<int64_t> strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int k = int(s.size()) - 2; k >= 0; --k) st[size_t(k)] = st[size_t(k) + 1] * s[size_t(k) + 1];
  return st;
}

// A negative axis counts from the end.
int64_t axis_of(int64_t axis, int64_t rank) {
  if (axis < 0) axis += rank;
  RECUR_CHECK(axis >= 0 && axis < rank, "axis " << axis << " is outside a rank-" << rank << " tensor");
  return axis;
}

OnnxValue like(const OnnxValue& v, Shape shape) {
  OnnxValue r;
  r.type = v.type;
  r.shape = std::move(shape);
  if (r.type == Type::f32) r.f.resize(size_t(count(r.shape)));
  else r.i.resize(size_t(count(r.shape)));
  return r;
}

// out[k] = in[src(k)] for every element: the data movement ops share this.
template <class F>
void gather_elements(const OnnxValue& in, OnnxValue& out, F&& src) {
  const int64_t N = count(out.shape);
  if (in.type == Type::f32)
    for (int64_t k = 0; k < N; ++k) out.f[size_t(k)] = in.f[size_t(src(k))];
  else
    for (int64_t k = 0; k < N; ++k) out.i[size_t(k)] = in.i[size_t(src(k))];
}

// Numpy broadcasting of two shapes.
Shape broadcast(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t k = 0; k < r; ++k) {
    const int64_t da = k + a.size() >= r ? a[k + a.size() - r] : 1;
    const int64_t db = k + b.size() >= r ? b[k + b.size() - r] : 1;
    RECUR_CHECK(da == db || da == 1 || db == 1,
                "shapes " << shape_str(a) << " and " << shape_str(b) << " do not broadcast");
    out[k] = std::max(da, db);
  }
  return out;
}

// The flat index into `s` (broadcast to `out`) of the out element at flat index k.
struct Broadcaster {
  Shape out;
  std::vector<int64_t> out_st, in_st;  // in_st: 0 where the input's dimension broadcasts
  Broadcaster(const Shape& in, const Shape& o) : out(o), out_st(strides(o)), in_st(o.size(), 0) {
    const std::vector<int64_t> st = strides(in);
    for (size_t k = 0; k < in.size(); ++k) {
      const size_t ko = k + o.size() - in.size();
      in_st[ko] = in[k] == 1 ? 0 : st[k];
    }
  }
  int64_t operator()(int64_t k) const {
    int64_t idx = 0;
    for (size_t d = 0; d < out.size(); ++d) {
      idx += (k / out_st[d]) * in_st[d];
      k %= out_st[d];
    }
    return idx;
  }
};

template <class Op>
std::vector<OnnxValue> binary(const Node& n, const Inputs& in, Op op) {
  const OnnxValue& a = need(n, in, 0);
  const OnnxValue& b = need(n, in, 1);
  RECUR_CHECK(a.type == b.type, "operands " << a.describe() << " and " << b.describe() << " differ in type");
  const Shape shape = broadcast(a.shape, b.shape);
  OnnxValue r = like(a, shape);
  const Broadcaster ia(a.shape, shape), ib(b.shape, shape);
  const int64_t N = count(shape);
  const bool same = a.shape == shape && b.shape == shape;
  if (a.type == Type::f32)
    for (int64_t k = 0; k < N; ++k)
      r.f[size_t(k)] = op(a.f[size_t(same ? k : ia(k))], b.f[size_t(same ? k : ib(k))]);
  else
    for (int64_t k = 0; k < N; ++k)
      r.i[size_t(k)] = op(a.i[size_t(same ? k : ia(k))], b.i[size_t(same ? k : ib(k))]);
  return {r};
}

template <class Op>
std::vector<OnnxValue> unary(const Node& n, const Inputs& in, Op op) {
  const OnnxValue& x = need(n, in, 0);
  RECUR_CHECK(x.type == Type::f32, n.op << " takes float32, got " << x.describe());
  OnnxValue r = x;
  for (float& v : r.f) v = op(v);
  return {r};
}

std::vector<OnnxValue> op_add(const Node& n, const Inputs& in) { return binary(n, in, [](auto a, auto b) { return a + b; }); }
std::vector<OnnxValue> op_sub(const Node& n, const Inputs& in) { return binary(n, in, [](auto a, auto b) { return a - b; }); }
std::vector<OnnxValue> op_mul(const Node& n, const Inputs& in) { return binary(n, in, [](auto a, auto b) { return a * b; }); }
std::vector<OnnxValue> op_div(const Node& n, const Inputs& in) {
  const OnnxValue& b = need(n, in, 1);
  if (b.type == Type::i64)
    for (int64_t v : b.i) RECUR_CHECK(v != 0, "integer division by zero");
  return binary(n, in, [](auto a, auto b) { return a / b; });
}
std::vector<OnnxValue> op_relu(const Node& n, const Inputs& in) { return unary(n, in, [](float v) { return v > 0 ? v : 0.0f; }); }
std::vector<OnnxValue> op_tanh(const Node& n, const Inputs& in) { return unary(n, in, [](float v) { return std::tanh(v); }); }
std::vector<OnnxValue> op_sigmoid(const Node& n, const Inputs& in) {
  return unary(n, in, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
}

std::vector<OnnxValue> softmax_like(const Node& n, const Inputs& in, bool log) {
  const OnnxValue& x = need(n, in, 0);
  RECUR_CHECK(x.type == Type::f32, n.op << " takes float32, got " << x.describe());
  const int64_t rank = int64_t(x.shape.size());
  // opset >= 13: along one axis (default -1); before: over the axes from `axis` on (default 1).
  const int64_t axis = axis_of(n.attr_i("axis", n.opset >= 13 ? -1 : 1), rank);
  OnnxValue r = x;
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : d == axis ? len : inner) *= x.shape[size_t(d)];
  if (n.opset < 13) {  // the coerced 2-D form: everything from axis on is one row
    len *= inner;
    inner = 1;
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      float* p = r.f.data() + o * len * inner + i;
      float m = -INFINITY;
      for (int64_t k = 0; k < len; ++k) m = std::max(m, p[k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(double(p[k * inner] - m));
      const float lse = m + float(std::log(sum));
      for (int64_t k = 0; k < len; ++k)
        p[k * inner] = log ? p[k * inner] - lse : float(std::exp(double(p[k * inner] - lse)));
    }
  return {r};
}
std::vector<OnnxValue> op_softmax(const Node& n, const Inputs& in) { return softmax_like(n, in, false); }
std::vector<OnnxValue> op_log_softmax(const Node& n, const Inputs& in) { return softmax_like(n, in, true); }

std::vector<OnnxValue> op_identity(const Node& n, const Inputs& in) { return {need(n, in, 0)}; }

std::vector<OnnxValue> op_constant(const Node& n, const Inputs&) {
  if (n.has("value")) return {*n.attrs.at("value").t};
  if (n.has("value_float")) return {OnnxValue::floats({}, {n.attr_f("value_float", 0)})};
  if (n.has("value_floats")) {
    const auto& v = n.attrs.at("value_floats").floats;
    return {OnnxValue::floats({int64_t(v.size())}, v)};
  }
  if (n.has("value_int")) return {OnnxValue::ints({}, {n.attr_i("value_int", 0)})};
  if (n.has("value_ints")) {
    const auto& v = n.attrs.at("value_ints").ints;
    return {OnnxValue::ints({int64_t(v.size())}, v)};
  }
  RECUR_FAIL("Constant without a value, value_float(s) or value_int(s) attribute");
}

std::vector<OnnxValue> op_shape(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const int64_t rank = int64_t(x.shape.size());
  int64_t start = n.attr_i("start", 0), end = n.attr_i("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.shape.begin() + start, x.shape.begin() + end);
  return {OnnxValue::ints({int64_t(dims.size())}, dims)};
}

std::vector<OnnxValue> op_constant_of_shape(const Node& n, const Inputs& in) {
  const std::vector<int64_t> shape = as_ints(need(n, in, 0));
  OnnxValue fill = n.has("value") ? *n.attrs.at("value").t : OnnxValue::floats({1}, {0.0f});
  RECUR_CHECK(fill.numel() == 1, "ConstantOfShape's value must hold one element");
  OnnxValue r = like(fill, Shape(shape.begin(), shape.end()));
  if (r.type == Type::f32) std::fill(r.f.begin(), r.f.end(), fill.f[0]);
  else std::fill(r.i.begin(), r.i.end(), fill.i[0]);
  return {r};
}

std::vector<OnnxValue> op_cast(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const int64_t to = n.attr_i("to", 1);
  const bool to_float = to == 1 || to == 11;  // FLOAT, DOUBLE
  const bool to_int = to == 7 || to == 6 || to == 9;  // INT64, INT32, BOOL
  RECUR_CHECK(to_float || to_int, "Cast to element type " << to << " (recur holds float32 and int64)");
  if (to_float) {
    if (x.type == Type::f32) return {x};
    return {OnnxValue::floats(x.shape, std::vector<float>(x.i.begin(), x.i.end()))};
  }
  if (x.type == Type::i64) return {x};
  std::vector<int64_t> v(x.f.size());
  for (size_t k = 0; k < v.size(); ++k) v[k] = to == 9 ? int64_t(x.f[k] != 0) : int64_t(x.f[k]);
  return {OnnxValue::ints(x.shape, v)};
}

std::vector<OnnxValue> op_reshape(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  std::vector<int64_t> shape = as_ints(need(n, in, 1));
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 0 && n.attr_i("allowzero", 0) == 0) {
      RECUR_CHECK(k < x.shape.size(), "Reshape copies dimension " << k << " of a rank-" << x.shape.size() << " tensor");
      shape[k] = x.shape[k];
    }
    if (shape[k] == -1) {
      RECUR_CHECK(infer < 0, "Reshape with two -1 dimensions");
      infer = int64_t(k);
    } else {
      known *= shape[k];
    }
  }
  if (infer >= 0) {
    RECUR_CHECK(known > 0 && x.numel() % known == 0,
                "cannot reshape " << x.describe() << " to " << shape_str(Shape(shape.begin(), shape.end())));
    shape[size_t(infer)] = x.numel() / known;
  }
  OnnxValue r = x;
  r.shape = Shape(shape.begin(), shape.end());
  RECUR_CHECK(count(r.shape) == x.numel(), "cannot reshape " << x.describe() << " to " << shape_str(r.shape));
  return {r};
}

// The axes of Squeeze / Unsqueeze: an input from opset 13, an attribute before.
std::vector<int64_t> axes_of(const Node& n, const Inputs& in) {
  if (in.size() > 1 && in[1]) return as_ints(*in[1]);
  if (n.has("axes")) return n.attrs.at("axes").ints;
  return {};
}

std::vector<OnnxValue> op_squeeze(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> axes = axes_of(n, in);
  for (int64_t& a : axes) a = axis_of(a, rank);
  OnnxValue r = x;
  r.shape.clear();
  for (int64_t d = 0; d < rank; ++d) {
    const bool listed = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (listed) RECUR_CHECK(x.shape[size_t(d)] == 1, "Squeeze of dimension " << d << " of " << x.describe());
    if (axes.empty() ? x.shape[size_t(d)] != 1 : !listed) r.shape.push_back(x.shape[size_t(d)]);
  }
  return {r};
}

std::vector<OnnxValue> op_unsqueeze(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  std::vector<int64_t> axes = axes_of(n, in);
  const int64_t rank = int64_t(x.shape.size() + axes.size());
  for (int64_t& a : axes) a = axis_of(a, rank);
  std::sort(axes.begin(), axes.end());
  OnnxValue r = x;
  r.shape = x.shape;
  for (int64_t a : axes) r.shape.insert(r.shape.begin() + a, 1);
  return {r};
}

std::vector<OnnxValue> op_transpose(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm = n.has("perm") ? n.attrs.at("perm").ints : std::vector<int64_t>();
  if (perm.empty())
    for (size_t k = 0; k < rank; ++k) perm.push_back(int64_t(rank - 1 - k));
  RECUR_CHECK(perm.size() == rank, "Transpose perm has " << perm.size() << " axes for " << x.describe());
  Shape shape(rank);
  for (size_t k = 0; k < rank; ++k) shape[k] = x.shape[size_t(axis_of(perm[k], int64_t(rank)))];
  OnnxValue r = like(x, shape);
  const std::vector<int64_t> in_st = strides(x.shape), out_st = strides(shape);
  gather_elements(x, r, [&](int64_t k) {
    int64_t idx = 0;
    for (size_t d = 0; d < rank; ++d) {
      idx += (k / out_st[d]) * in_st[size_t(perm[d])];
      k %= out_st[d];
    }
    return idx;
  });
  return {r};
}

std::vector<OnnxValue> op_concat(const Node& n, const Inputs& in) {
  const OnnxValue& first = need(n, in, 0);
  const int64_t rank = int64_t(first.shape.size());
  const int64_t axis = axis_of(n.attr_i("axis", 0), rank);
  Shape shape = first.shape;
  shape[size_t(axis)] = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const OnnxValue& v = need(n, in, k);
    RECUR_CHECK(v.type == first.type && int64_t(v.shape.size()) == rank,
                "Concat of " << first.describe() << " and " << v.describe());
    for (int64_t d = 0; d < rank; ++d)
      RECUR_CHECK(d == axis || v.shape[size_t(d)] == first.shape[size_t(d)],
                  "Concat of " << first.describe() << " and " << v.describe() << " along axis " << axis);
    shape[size_t(axis)] += v.shape[size_t(axis)];
  }
  OnnxValue r = like(first, shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[size_t(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[size_t(d)];
  int64_t offset = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const OnnxValue& v = *in[k];
    const int64_t len = v.shape[size_t(axis)] * inner, row = shape[size_t(axis)] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      if (v.type == Type::f32) std::copy_n(v.f.begin() + o * len, len, r.f.begin() + o * row + offset);
      else std::copy_n(v.i.begin() + o * len, len, r.i.begin() + o * row + offset);
    }
    offset += len;
  }
  return {r};
}

std::vector<OnnxValue> op_slice(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset >= 10) {
    starts = as_ints(need(n, in, 1));
    ends = as_ints(need(n, in, 2));
    if (in.size() > 3 && in[3]) axes = as_ints(*in[3]);
    if (in.size() > 4 && in[4]) steps = as_ints(*in[4]);
  } else {
    starts = n.attrs.at("starts").ints;
    ends = n.attrs.at("ends").ints;
    if (n.has("axes")) axes = n.attrs.at("axes").ints;
  }
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(int64_t(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  RECUR_CHECK(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
              "Slice with " << starts.size() << " starts, " << ends.size() << " ends, " << axes.size()
                            << " axes and " << steps.size() << " steps");
  std::vector<int64_t> begin(size_t(rank), 0), step(size_t(rank), 1);
  Shape shape = x.shape;
  for (size_t k = 0; k < starts.size(); ++k) {
    const int64_t a = axis_of(axes[k], rank), dim = x.shape[size_t(a)], s = steps[k];
    RECUR_CHECK(s != 0, "Slice with step 0");
    int64_t b = starts[k] < 0 ? starts[k] + dim : starts[k];
    int64_t e = ends[k] < 0 ? ends[k] + dim : ends[k];
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      shape[size_t(a)] = std::max<int64_t>(0, (e - b + s - 1) / s);
    } else {
      b = std::clamp<int64_t>(b, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      shape[size_t(a)] = std::max<int64_t>(0, (b - e - s - 1) / -s);
    }
    begin[size_t(a)] = b;
    step[size_t(a)] = s;
  }
  OnnxValue r = like(x, shape);
  const std::vector<int64_t> in_st = strides(x.shape), out_st = strides(shape);
  gather_elements(x, r, [&](int64_t k) {
    int64_t idx = 0;
    for (int64_t d = 0; d < rank; ++d) {
      idx += (begin[size_t(d)] + (k / out_st[size_t(d)]) * step[size_t(d)]) * in_st[size_t(d)];
      k %= out_st[size_t(d)];
    }
    return idx;
  });
  return {r};
}

std::vector<OnnxValue> op_gather(const Node& n, const Inputs& in) {
  const OnnxValue& data = need(n, in, 0);
  const std::vector<int64_t> idx = as_ints(need(n, in, 1));
  const Shape& ishape = in[1]->shape;
  const int64_t rank = int64_t(data.shape.size());
  const int64_t axis = axis_of(n.attr_i("axis", 0), rank), dim = data.shape[size_t(axis)];
  Shape shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), ishape.begin(), ishape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.shape[size_t(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= data.shape[size_t(d)];
  for (size_t k = 0; k < idx.size(); ++k)
    RECUR_CHECK(idx[k] >= -dim && idx[k] < dim,
                "index " << idx[k] << " (entry " << k << ") is outside [0, " << dim << ")");
  OnnxValue r = like(data, shape);
  const int64_t M = int64_t(idx.size());
  gather_elements(data, r, [&](int64_t k) {
    const int64_t o = k / (M * inner), m = (k / inner) % M, i = k % inner;
    const int64_t j = idx[size_t(m)] < 0 ? idx[size_t(m)] + dim : idx[size_t(m)];
    return (o * dim + j) * inner + i;
  });
  return {r};
}

// C = A B with numpy's matmul broadcasting over leading dimensions (B may be 2-D).
std::vector<OnnxValue> op_matmul(const Node& n, const Inputs& in) {
  const OnnxValue& a = need(n, in, 0);
  const OnnxValue& b = need(n, in, 1);
  RECUR_CHECK(a.type == Type::f32 && b.type == Type::f32, "MatMul of " << a.describe() << " and " << b.describe());
  RECUR_CHECK(a.shape.size() >= 2 && b.shape.size() >= 2,
              "MatMul of " << a.describe() << " and " << b.describe() << " (recur needs rank >= 2)");
  const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
  RECUR_CHECK(b.shape[b.shape.size() - 2] == K, "MatMul of " << a.describe() << " and " << b.describe());
  if (b.shape.size() == 2) {  // the common case: one GEMM over all leading rows
    Shape shape = a.shape;
    shape.back() = N;
    OnnxValue r = OnnxValue::floats(shape, std::vector<float>(size_t(count(shape))));
    gemm<float>(false, false, count(a.shape) / K, N, K, 1.0f, a.f.data(), K, b.f.data(), N, 0.0f, r.f.data(), N);
    return {r};
  }
  const Shape ba(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  const Shape batch = broadcast(ba, bb);
  Shape shape = batch;
  shape.push_back(M);
  shape.push_back(N);
  OnnxValue r = OnnxValue::floats(shape, std::vector<float>(size_t(count(shape))));
  const Broadcaster ia(ba, batch), ib(bb, batch);
  for (int64_t k = 0; k < count(batch); ++k)
    gemm<float>(false, false, M, N, K, 1.0f, a.f.data() + ia(k) * M * K, K, b.f.data() + ib(k) * K * N, N,
                0.0f, r.f.data() + k * M * N, N);
  return {r};
}

std::vector<OnnxValue> op_gemm(const Node& n, const Inputs& in) {
  const OnnxValue& a = need(n, in, 0);
  const OnnxValue& b = need(n, in, 1);
  RECUR_CHECK(a.type == Type::f32 && b.type == Type::f32 && a.shape.size() == 2 && b.shape.size() == 2,
              "Gemm of " << a.describe() << " and " << b.describe());
  const bool ta = n.attr_i("transA", 0) != 0, tb = n.attr_i("transB", 0) != 0;
  const float alpha = n.attr_f("alpha", 1.0f), beta = n.attr_f("beta", 1.0f);
  const int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const int64_t N = tb ? b.shape[0] : b.shape[1];
  RECUR_CHECK((tb ? b.shape[1] : b.shape[0]) == K, "Gemm of " << a.describe() << " and " << b.describe());
  OnnxValue r = OnnxValue::floats({M, N}, std::vector<float>(size_t(M * N), 0.0f));
  if (in.size() > 2 && in[2]) {
    const OnnxValue& c = *in[2];
    const Broadcaster ic(c.shape, r.shape);
    RECUR_CHECK(broadcast(c.shape, r.shape) == r.shape, "Gemm's C " << c.describe() << " does not broadcast to (" << M << ", " << N << ")");
    for (int64_t k = 0; k < M * N; ++k) r.f[size_t(k)] = beta * c.f[size_t(ic(k))];
  }
  gemm<float>(ta, tb, M, N, K, alpha, a.f.data(), a.shape[1], b.f.data(), b.shape[1], 1.0f, r.f.data(), N);
  return {r};
}

std::vector<OnnxValue> op_expand(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const std::vector<int64_t> target = as_ints(need(n, in, 1));
  const Shape shape = broadcast(x.shape, Shape(target.begin(), target.end()));
  OnnxValue r = like(x, shape);
  const Broadcaster ix(x.shape, shape);
  gather_elements(x, r, [&](int64_t k) { return ix(k); });
  return {r};
}

// The k largest (or smallest) along an axis, ties to the lower index; values and int64 indices.
std::vector<OnnxValue> op_top_k(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const int64_t k = as_ints(need(n, in, 1)).at(0), rank = int64_t(x.shape.size());
  const int64_t axis = axis_of(n.attr_i("axis", -1), rank), len = x.shape[size_t(axis)];
  const bool largest = n.attr_i("largest", 1) != 0;
  RECUR_CHECK(k >= 0 && k <= len, "TopK k = " << k << " for an axis of " << len);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x.shape[size_t(d)];
  Shape shape = x.shape;
  shape[size_t(axis)] = k;
  OnnxValue values = like(x, shape), indices = OnnxValue::ints(shape, std::vector<int64_t>(size_t(count(shape))));
  auto at = [&](int64_t flat) { return x.type == Type::f32 ? double(x.f[size_t(flat)]) : double(x.i[size_t(flat)]); };
  std::vector<int64_t> order(static_cast<size_t>(len));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::iota(order.begin(), order.end(), int64_t(0));
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const double va = at((o * len + a) * inner + i), vb = at((o * len + b) * inner + i);
        return largest ? va > vb : va < vb;
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t src = (o * len + order[size_t(j)]) * inner + i, dst = (o * k + j) * inner + i;
        indices.i[size_t(dst)] = order[size_t(j)];
        if (x.type == Type::f32) values.f[size_t(dst)] = x.f[size_t(src)];
        else values.i[size_t(dst)] = x.i[size_t(src)];
      }
    }
  return {values, indices};
}

std::vector<OnnxValue> op_scatter_elements(const Node& n, const Inputs& in) {
  const OnnxValue& data = need(n, in, 0);
  const OnnxValue& idx = need(n, in, 1);
  const OnnxValue& upd = need(n, in, 2);
  RECUR_CHECK(n.attr_s("reduction", "none") == "none", "ScatterElements with a reduction");
  RECUR_CHECK(upd.type == data.type && idx.shape == upd.shape && idx.shape.size() == data.shape.size(),
              "ScatterElements of " << upd.describe() << " at " << idx.describe() << " into " << data.describe());
  const int64_t rank = int64_t(data.shape.size()), axis = axis_of(n.attr_i("axis", 0), rank);
  const std::vector<int64_t> ind = as_ints(idx), ist = strides(idx.shape), dst = strides(data.shape);
  OnnxValue r = data;
  for (int64_t k = 0; k < int64_t(ind.size()); ++k) {
    int64_t flat = 0, rest = k;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t c = rest / ist[size_t(d)];
      rest %= ist[size_t(d)];
      if (d == axis) {
        const int64_t dim = data.shape[size_t(d)];
        c = ind[size_t(k)] < 0 ? ind[size_t(k)] + dim : ind[size_t(k)];
        RECUR_CHECK(c >= 0 && c < dim, "ScatterElements index " << ind[size_t(k)] << " outside [0, " << dim << ")");
      }
      flat += c * dst[size_t(d)];
    }
    if (r.type == Type::f32) r.f[size_t(flat)] = upd.f[size_t(k)];
    else r.i[size_t(flat)] = upd.i[size_t(k)];
  }
  return {r};
}

std::vector<OnnxValue> op_tile(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const std::vector<int64_t> reps = as_ints(need(n, in, 1));
  RECUR_CHECK(reps.size() == x.shape.size(), "Tile with " << reps.size() << " repeats for " << x.describe());
  Shape shape = x.shape;
  for (size_t d = 0; d < shape.size(); ++d) shape[d] *= reps[d];
  OnnxValue r = like(x, shape);
  const std::vector<int64_t> in_st = strides(x.shape), out_st = strides(shape);
  gather_elements(x, r, [&](int64_t k) {
    int64_t idx = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      idx += ((k / out_st[d]) % x.shape[d]) * in_st[d];
      k %= out_st[d];
    }
    return idx;
  });
  return {r};
}

std::vector<OnnxValue> op_range(const Node& n, const Inputs& in) {
  const OnnxValue& start = need(n, in, 0);
  if (start.type == Type::i64) {
    const int64_t s = as_ints(start).at(0), l = as_ints(need(n, in, 1)).at(0), d = as_ints(need(n, in, 2)).at(0);
    RECUR_CHECK(d != 0, "Range with delta 0");
    std::vector<int64_t> v;
    for (int64_t x = s; d > 0 ? x < l : x > l; x += d) v.push_back(x);
    return {OnnxValue::ints({int64_t(v.size())}, v)};
  }
  const float s = start.f.at(0), l = need(n, in, 1).f.at(0), d = need(n, in, 2).f.at(0);
  RECUR_CHECK(d != 0, "Range with delta 0");
  std::vector<float> v;
  for (int64_t k = 0; d > 0 ? s + float(k) * d < l : s + float(k) * d > l; ++k) v.push_back(s + float(k) * d);
  return {OnnxValue::floats({int64_t(v.size())}, v)};
}

// Comparisons give int64 0/1 (recur holds booleans as int64).
template <class Cmp>
std::vector<OnnxValue> compare(const Node& n, const Inputs& in, Cmp cmp) {
  const OnnxValue& a = need(n, in, 0);
  const OnnxValue& b = need(n, in, 1);
  RECUR_CHECK(a.type == b.type, "operands " << a.describe() << " and " << b.describe() << " differ in type");
  const Shape shape = broadcast(a.shape, b.shape);
  const Broadcaster ia(a.shape, shape), ib(b.shape, shape);
  std::vector<int64_t> r(size_t(count(shape)));
  for (int64_t k = 0; k < int64_t(r.size()); ++k)
    r[size_t(k)] = a.type == Type::f32 ? cmp(a.f[size_t(ia(k))], b.f[size_t(ib(k))])
                                       : cmp(a.i[size_t(ia(k))], b.i[size_t(ib(k))]);
  return {OnnxValue::ints(shape, r)};
}
std::vector<OnnxValue> op_less(const Node& n, const Inputs& in) { return compare(n, in, [](auto a, auto b) { return a < b; }); }

// Reduction over axes (ReduceSum: an input from opset 13; ReduceMax: an attribute until opset 18;
// all axes when none are given), keepdims as asked.
template <class Combine>
std::vector<OnnxValue> reduce(const Node& n, const Inputs& in, float init, Combine combine) {
  const OnnxValue& x = need(n, in, 0);
  RECUR_CHECK(x.type == Type::f32, n.op << " takes float32, got " << x.describe());
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> axes = in.size() > 1 && in[1] ? as_ints(*in[1]) : n.has("axes") ? n.attrs.at("axes").ints : std::vector<int64_t>();
  if (axes.empty() && n.attr_i("noop_with_empty_axes", 0) == 0)
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  std::vector<bool> reduced(size_t(rank), false);
  for (int64_t a : axes) reduced[size_t(axis_of(a, rank))] = true;
  Shape kept = x.shape, out_shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[size_t(d)]) kept[size_t(d)] = 1;
    if (!reduced[size_t(d)] || n.attr_i("keepdims", 1)) out_shape.push_back(kept[size_t(d)]);
  }
  OnnxValue r = OnnxValue::floats(out_shape, std::vector<float>(size_t(count(kept)), init));
  const std::vector<int64_t> xs = strides(x.shape), ks = strides(kept);
  for (int64_t k = 0; k < x.numel(); ++k) {
    int64_t rest = k, idx = 0;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t c = rest / xs[size_t(d)];
      rest %= xs[size_t(d)];
      if (!reduced[size_t(d)]) idx += c * ks[size_t(d)];
    }
    r.f[size_t(idx)] = combine(r.f[size_t(idx)], x.f[size_t(k)]);
  }
  return {r};
}
std::vector<OnnxValue> op_reduce_sum(const Node& n, const Inputs& in) {
  return reduce(n, in, 0.0f, [](float a, float b) { return a + b; });
}
std::vector<OnnxValue> op_reduce_max(const Node& n, const Inputs& in) {
  return reduce(n, in, -INFINITY, [](float a, float b) { return std::max(a, b); });
}

struct Entry {
  const char* op;
  Kernel kernel;
};

const Entry kKernels[] = {
    {"Add", op_add},           {"Sub", op_sub},
    {"Mul", op_mul},           {"Div", op_div},
    {"Relu", op_relu},         {"Tanh", op_tanh},
    {"Sigmoid", op_sigmoid},   {"Softmax", op_softmax},
    {"LogSoftmax", op_log_softmax}, {"Identity", op_identity},
    {"Dropout", op_identity},  {"Constant", op_constant},
    {"Shape", op_shape},       {"ConstantOfShape", op_constant_of_shape},
    {"Cast", op_cast},         {"Reshape", op_reshape},
    {"Squeeze", op_squeeze},   {"Unsqueeze", op_unsqueeze},
    {"Transpose", op_transpose}, {"Concat", op_concat},
    {"Slice", op_slice},       {"Gather", op_gather},
    {"MatMul", op_matmul},     {"Gemm", op_gemm},
    {"LSTM", lstm},            {"GRU", gru},
    {"RNN", rnn},              {"Expand", op_expand},
    {"TopK", op_top_k},        {"ScatterElements", op_scatter_elements},
    {"Range", op_range},       {"Less", op_less},
    {"Tile", op_tile},
    {"ReduceSum", op_reduce_sum}, {"ReduceMax", op_reduce_max},
};

}  // namespace

const OnnxValue& need(const Node& n, const Inputs& in, size_t k) {
  RECUR_CHECK(k < in.size() && in[k], n.op << " needs input " << k);
  return *in[k];
}

std::vector<int64_t> as_ints(const OnnxValue& v) {
  if (v.type == OnnxValue::Type::i64) return v.i;
  std::vector<int64_t> r;
  for (float f : v.f) r.push_back(int64_t(f));
  return r;
}

Kernel find_kernel(const std::string& op) {
  for (const Entry& e : kKernels)
    if (op == e.op) return e.kernel;
  return nullptr;
}

void check_attributes(const Node& n) {
  if (n.op == "LSTM" || n.op == "GRU" || n.op == "RNN") return check_rnn_attributes(n);
  if (n.op == "Dropout")  // inference: Dropout is the identity unless asked to train
    RECUR_CHECK(n.inputs.size() < 3 || n.inputs[2].empty(),
                n.where() << ": Dropout in training mode; recur runs ONNX graphs for inference");
}

}  // namespace recur::onnx_ops
