// OnnxGraph: the model file parsed with ONNX's protobuf classes into nodes and initializers, every
// op and attribute checked at load time, then run node by node in the file's (topological) order.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "onnx/ops.h"
#include "recur/io/onnx.h"

namespace recur {

int64_t OnnxValue::numel() const { return type == Type::f32 ? int64_t(f.size()) : int64_t(i.size()); }

std::string OnnxValue::describe() const {
  return std::string(type == Type::f32 ? "float32 " : "int64 ") + shape_str(shape);
}

OnnxValue OnnxValue::floats(Shape shape, std::vector<float> values) {
  OnnxValue v;
  v.type = Type::f32;
  v.shape = std::move(shape);
  v.f = std::move(values);
  return v;
}

OnnxValue OnnxValue::ints(Shape shape, std::vector<int64_t> values) {
  OnnxValue v;
  v.type = Type::i64;
  v.shape = std::move(shape);
  v.i = std::move(values);
  return v;
}

struct OnnxGraph::Impl {
  std::string path;
  std::vector<onnx_ops::Node> nodes;
  std::map<std::string, OnnxValue> initializers;
  std::vector<std::string> inputs, outputs;
  std::map<std::string, std::pair<OnnxValue::Type, int>> input_decl;
};

namespace {

// A TensorProto's values: float, double (as float), int64, int32 and bool (as int64); from
// raw_data or the typed fields.
OnnxValue tensor_value(const onnx::TensorProto& t, const std::string& where) {
  Shape shape(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : shape)
    RECUR_CHECK(d >= 0 && !__builtin_mul_overflow(n, d, &n),
                where << ": tensor '" << t.name() << "' has shape " << shape_str(shape)
                      << "; expected dimensions >= 0 whose product fits in 64 bits");
  RECUR_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL,
              where << ": tensor '" << t.name() << "' keeps its data in an external file, which recur does not read");
  const std::string& raw = t.raw_data();
  auto check_size = [&](size_t have, size_t width) {
    RECUR_CHECK(have == size_t(n), where << ": tensor '" << t.name() << "' of shape " << shape_str(shape)
                                         << " holds " << have << " values (" << raw.size() / std::max<size_t>(width, 1)
                                         << " raw), expected " << n);
  };
  auto from_raw = [&](auto sample) {
    using V = decltype(sample);
    check_size(raw.size() / sizeof(V), sizeof(V));
    RECUR_CHECK(raw.size() % sizeof(V) == 0, where << ": tensor '" << t.name() << "' raw data is truncated");
    std::vector<V> v(static_cast<size_t>(n));
    if (n) std::memcpy(v.data(), raw.data(), raw.size());
    return v;
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      if (!raw.empty()) return OnnxValue::floats(shape, from_raw(float()));
      check_size(size_t(t.float_data_size()), 4);
      return OnnxValue::floats(shape, std::vector<float>(t.float_data().begin(), t.float_data().end()));
    }
    case onnx::TensorProto::DOUBLE: {
      std::vector<double> d = !raw.empty() ? from_raw(double())
                                           : std::vector<double>(t.double_data().begin(), t.double_data().end());
      check_size(d.size(), 8);
      return OnnxValue::floats(shape, std::vector<float>(d.begin(), d.end()));
    }
    case onnx::TensorProto::INT64: {
      if (!raw.empty()) return OnnxValue::ints(shape, from_raw(int64_t()));
      check_size(size_t(t.int64_data_size()), 8);
      return OnnxValue::ints(shape, std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end()));
    }
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL: {
      std::vector<int64_t> v;
      if (!raw.empty()) {
        if (t.data_type() == onnx::TensorProto::INT32) {
          const auto w = from_raw(int32_t());
          v.assign(w.begin(), w.end());
        } else {
          const auto w = from_raw(uint8_t());
          v.assign(w.begin(), w.end());
        }
      } else {
        v.assign(t.int32_data().begin(), t.int32_data().end());
      }
      check_size(v.size(), 4);
      return OnnxValue::ints(shape, v);
    }
    default:
      RECUR_FAIL(where << ": tensor '" << t.name() << "' has element type "
                       << onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(t.data_type()))
                       << "; recur reads float, double, int64, int32 and bool");
  }
}

onnx_ops::Attr attribute(const onnx::AttributeProto& a, const std::string& where) {
  onnx_ops::Attr r;
  r.i = a.i();
  r.f = a.f();
  r.s = a.s();
  r.ints.assign(a.ints().begin(), a.ints().end());
  r.floats.assign(a.floats().begin(), a.floats().end());
  for (const auto& s : a.strings()) r.strings.push_back(s);
  if (a.has_t()) r.t = tensor_value(a.t(), where + " attribute '" + a.name() + "'");
  return r;
}

}  // namespace

OnnxGraph OnnxGraph::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  RECUR_CHECK(in, "cannot open '" << path << "': " << std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  RECUR_CHECK(!bytes.empty(), "'" << path << "' is empty; expected an ONNX model");
  onnx::ModelProto model;
  RECUR_CHECK(model.ParseFromString(bytes),
              "'" << path << "' is not a valid ONNX model (the protobuf does not parse: a truncated or "
                             "corrupt file?)");
  RECUR_CHECK(model.has_graph() && model.graph().node_size() > 0,
              "'" << path << "' holds no graph nodes; expected an ONNX model");
  int64_t opset = 0;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  RECUR_CHECK(opset > 0, path << ": the model imports no version of the standard ONNX operator set");

  auto impl = std::make_shared<Impl>();
  impl->path = path;
  const onnx::GraphProto& g = model.graph();
  for (const auto& t : g.initializer()) impl->initializers[t.name()] = tensor_value(t, path);
  for (const auto& v : g.input()) {
    if (impl->initializers.count(v.name())) continue;
    impl->inputs.push_back(v.name());
    OnnxValue::Type type = OnnxValue::Type::f32;
    int rank = -1;
    if (v.type().has_tensor_type()) {
      const auto& tt = v.type().tensor_type();
      if (tt.elem_type() == onnx::TensorProto::INT64 || tt.elem_type() == onnx::TensorProto::INT32)
        type = OnnxValue::Type::i64;
      if (tt.has_shape()) rank = tt.shape().dim_size();
    }
    impl->input_decl[v.name()] = {type, rank};
  }
  for (const auto& v : g.output()) impl->outputs.push_back(v.name());
  std::set<std::string> known(impl->inputs.begin(), impl->inputs.end());
  for (const auto& [name, v] : impl->initializers) known.insert(name);
  int k = 0;
  for (const auto& pn : g.node()) {
    onnx_ops::Node n;
    n.op = pn.op_type();
    n.name = pn.name().empty() ? n.op + "_" + std::to_string(k) : pn.name();
    n.opset = opset;
    ++k;
    const std::string where = path + ": " + n.where();
    RECUR_CHECK(pn.domain().empty() || pn.domain() == "ai.onnx",
                where << " is from operator domain '" << pn.domain() << "', which recur does not run");
    RECUR_CHECK(onnx_ops::find_kernel(n.op) != nullptr,
                where << ": recur does not run the op '" << n.op << "'");
    n.inputs.assign(pn.input().begin(), pn.input().end());
    n.outputs.assign(pn.output().begin(), pn.output().end());
    for (const auto& a : pn.attribute()) n.attrs[a.name()] = attribute(a, where);
    for (const std::string& i : n.inputs)
      RECUR_CHECK(i.empty() || known.count(i),
                  where << ": input '" << i << "' is produced by no earlier node, initializer or graph input");
    try {
      onnx_ops::check_attributes(n);
    } catch (const Error& e) {
      RECUR_FAIL(path << ": " << e.what());
    }
    for (const std::string& o : n.outputs) known.insert(o);
    impl->nodes.push_back(std::move(n));
  }
  for (const std::string& o : impl->outputs)
    RECUR_CHECK(known.count(o), path << ": graph output '" << o << "' is produced by no node");
  OnnxGraph graph;
  graph.impl_ = impl;
  return graph;
}

const std::vector<std::string>& OnnxGraph::inputs() const { return impl_->inputs; }
const std::vector<std::string>& OnnxGraph::outputs() const { return impl_->outputs; }
OnnxValue::Type OnnxGraph::input_type(const std::string& name) const {
  auto it = impl_->input_decl.find(name);
  RECUR_CHECK(it != impl_->input_decl.end(), "the model has no input '" << name << "'");
  return it->second.first;
}
int OnnxGraph::input_rank(const std::string& name) const {
  auto it = impl_->input_decl.find(name);
  RECUR_CHECK(it != impl_->input_decl.end(), "the model has no input '" << name << "'");
  return it->second.second;
}

std::map<std::string, OnnxValue> OnnxGraph::run(const std::map<std::string, OnnxValue>& feeds) const {
  std::map<std::string, OnnxValue> env;
  for (const std::string& name : impl_->inputs) {
    auto it = feeds.find(name);
    RECUR_CHECK(it != feeds.end(), impl_->path << ": no value given for the model's input '" << name << "'");
    const auto [type, rank] = impl_->input_decl.at(name);
    RECUR_CHECK(it->second.type == type, impl_->path << ": input '" << name << "' must be "
                                                     << (type == OnnxValue::Type::f32 ? "float32" : "int64")
                                                     << ", got " << it->second.describe());
    RECUR_CHECK(rank < 0 || int(it->second.shape.size()) == rank,
                impl_->path << ": input '" << name << "' must have rank " << rank << ", got "
                            << it->second.describe());
    env[name] = it->second;
  }
  for (const auto& [name, v] : feeds)
    RECUR_CHECK(env.count(name), impl_->path << ": the model has no input named '" << name << "'");
  for (const onnx_ops::Node& n : impl_->nodes) {
    onnx_ops::Inputs in;
    for (const std::string& name : n.inputs) {
      if (name.empty()) {
        in.push_back(nullptr);
        continue;
      }
      auto e = env.find(name);
      if (e != env.end()) {
        in.push_back(&e->second);
      } else {
        in.push_back(&impl_->initializers.at(name));
      }
    }
    std::vector<OnnxValue> out;
    try {
      out = onnx_ops::find_kernel(n.op)(n, in);
    } catch (const Error& e) {
      RECUR_FAIL(impl_->path << ": " << n.where() << ": " << e.what());
    }
    for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k)
      if (!n.outputs[k].empty()) env[n.outputs[k]] = std::move(out[k]);
  }
  std::map<std::string, OnnxValue> result;
  for (const std::string& o : impl_->outputs) {
    auto it = env.find(o);
    if (it == env.end()) it = env.emplace(o, impl_->initializers.at(o)).first;
    result[o] = it->second;
  }
  return result;
}

}  // namespace recur
