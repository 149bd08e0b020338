// The arithmetic ops of OnnxGraph (element-wise, softmax, matmul, top-k, comparisons, reductions),
// the helpers all the kernels share, and the table of every op's kernel.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "onnx/ops.h"
#include "recur/core/gemm.h"

namespace recur::onnx_ops {
namespace {

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

int64_t count(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<>()); }

std::vector<int64_t> strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int k = int(s.size()) - 2; k >= 0; --k) st[size_t(k)] = st[size_t(k) + 1] * s[size_t(k) + 1];
  return st;
}

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
