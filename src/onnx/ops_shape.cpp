// The shape and data-movement ops of OnnxGraph: constants and shapes, casts, reshapes and
// transposes, concatenation, slicing, gathering and scattering, expand, tile and range.
#include <algorithm>

#include "onnx/ops.h"

namespace recur::onnx_ops {
namespace {

// The axes of Squeeze / Unsqueeze: an input from opset 13, an attribute before.
std::vector<int64_t> axes_of(const Node& n, const Inputs& in) {
  if (in.size() > 1 && in[1]) return as_ints(*in[1]);
  if (n.has("axes")) return n.attrs.at("axes").ints;
  return {};
}

}  // namespace

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
  int64_t inner = 1;
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

std::vector<OnnxValue> op_expand(const Node& n, const Inputs& in) {
  const OnnxValue& x = need(n, in, 0);
  const std::vector<int64_t> target = as_ints(need(n, in, 1));
  const Shape shape = broadcast(x.shape, Shape(target.begin(), target.end()));
  OnnxValue r = like(x, shape);
  const Broadcaster ix(x.shape, shape);
  gather_elements(x, r, [&](int64_t k) { return ix(k); });
  return {r};
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

}  // namespace recur::onnx_ops
