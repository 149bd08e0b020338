// RnnConfig: names, validation and the metadata round trip; RnnParams: shapes, PyTorch names,
// default initialisation and construction from a PyTorch state_dict.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/named_tensors.h"

namespace recur {

constexpr EnumNames<CellKind, 6> kCellNames{{{CellKind::lstm, "lstm"},
                                             {CellKind::gru, "gru"},
                                             {CellKind::rnn_tanh, "rnn_tanh"},
                                             {CellKind::rnn_relu, "rnn_relu"},
                                             {CellKind::rnn_sigmoid, "rnn_sigmoid"},
                                             {CellKind::rnn_linear, "rnn_linear"}}};
constexpr EnumNames<TimeLoop, 4> kTimeLoopNames{{{TimeLoop::engine, "engine"},
                                                 {TimeLoop::clockwork, "clockwork"},
                                                 {TimeLoop::skip, "skip"},
                                                 {TimeLoop::deep, "deep"}}};

const char* cell_name(CellKind kind) { return enum_name(kCellNames, kind); }
CellKind parse_cell(const std::string& name) { return parse_enum(kCellNames, name, "cell"); }

const char* time_loop_name(TimeLoop loop) { return enum_name(kTimeLoopNames, loop); }

std::vector<int64_t> clockwork_default_periods() { return {1, 2, 4, 8}; }

ClockworkConfig RnnConfig::clockwork() const { return {input_size, hidden_size, periods}; }
SkipRnnConfig RnnConfig::skip() const { return {input_size, hidden_size, delay, short_links}; }
DeepTransitionConfig RnnConfig::deep() const { return {input_size, hidden_size, depth, true}; }

bool RnnConfig::any_own_loop() const {
  for (const RnnConfig& s : above)
    if (s.own_loop()) return true;
  return own_loop();
}

int RnnConfig::gates() const {
  switch (cell) {
    case CellKind::lstm: return 4;
    case CellKind::gru: return 3;
    default: return 1;
  }
}

int64_t RnnConfig::layer_norm_size() const {
  if (!layer_norm) return 0;
  return (cell == CellKind::lstm ? 10 : 2 * gates()) * hidden_size;
}

void RnnConfig::validate() const {
  RECUR_CHECK(input_size > 0, "RnnConfig.input_size must be positive, got " << input_size);
  RECUR_CHECK(hidden_size > 0, "RnnConfig.hidden_size must be positive, got " << hidden_size);
  RECUR_CHECK(num_layers > 0, "RnnConfig.num_layers must be positive, got " << num_layers);
  RECUR_CHECK(dropout >= 0.0 && dropout < 1.0, "RnnConfig.dropout must be in [0, 1), got " << dropout);
  RECUR_CHECK(!(peephole || coupled) || cell == CellKind::lstm,
              "peephole and coupled gates exist only for the LSTM, not " << cell_name(cell));
  RECUR_CHECK(leak > 0.0 && leak <= 1.0, "RnnConfig.leak must be in (0, 1], got " << leak);
  RECUR_CHECK(!learn_leak || leak < 1.0 || !leak_scales.empty(),
              "a learned leak starts at RnnConfig.leak, which must then be below 1 (got " << leak << ")");
  if (!leak_scales.empty()) {
    RECUR_CHECK(leak_scales.size() >= 2 && int64_t(leak_scales.size()) <= hidden_size && !residual,
                "RnnConfig.leak_scales: 2 to hidden_size (" << hidden_size << ") groups of leaky "
                "units, not with the residual recurrence; got " << leak_scales.size() << " groups");
    for (double a : leak_scales)
      RECUR_CHECK(a > 0.0 && a <= 1.0 && (!learn_leak || a < 1.0),
                  "RnnConfig.leak_scales must be in (0, 1]" << (learn_leak ? " and below 1 when learned" : "")
                                                           << ", got " << a);
  }
  RECUR_CHECK(!layer_norm || ((cell == CellKind::lstm && !peephole && !coupled) ||
                               (cell == CellKind::gru && gru == GruConvention::reset_after) ||
                               (gates() == 1 && !learn_leak)),
              "layer normalisation is for the plain LSTM (no peepholes, no coupled gates), the "
              "reset_after GRU and the simple RNN without a learned leak, not this "
                  << cell_name(cell));
  RECUR_CHECK(bidirectional || merge == DirectionMerge::concat,
              "summed directions need a bidirectional layer");
  RECUR_CHECK(!mixes_state() || gates() == 1,
              "leaky units and the residual recurrence are options of the simple RNN, not "
                  << cell_name(cell));
  if (own_loop()) {
    RECUR_CHECK(num_layers == 1 && !bidirectional && cell == CellKind::rnn_tanh && !mixes_state() &&
                    !layer_norm && !peephole && !coupled,
                "a " << time_loop_name(loop) << " segment is one unidirectional tanh layer with no "
                     << "other options");
    if (loop == TimeLoop::clockwork) clockwork().validate();
    if (loop == TimeLoop::skip) skip().validate();
    if (loop == TimeLoop::deep) deep().validate();
  }
  int64_t width = layer_output_size();
  for (const RnnConfig& s : above) {
    RECUR_CHECK(s.above.empty(), "RnnConfig.above: a segment of a mixed stack holds no segments itself");
    RECUR_CHECK(s.input_size == width, "RnnConfig.above: a segment reads " << s.input_size
                                           << " features but the one below it gives " << width);
    s.validate();
    width = s.layer_output_size();
  }
}

bool RnnConfig::any_bidirectional() const {
  for (const RnnConfig& s : above)
    if (s.bidirectional) return true;
  return bidirectional;
}

int RnnConfig::total_layers() const {
  int n = num_layers;
  for (const RnnConfig& s : above) n += s.num_layers;
  return n;
}

double parameter_count(const RnnConfig& c) {
  if (c.own_loop()) {  // the layer's tensors (a clockwork's whole (H,H), unused blocks too)
    const double H = double(c.hidden_size), I = double(c.input_size), HH = H * H;
    double n = c.loop == TimeLoop::clockwork ? H * I + HH + H
               : c.loop == TimeLoop::skip    ? H * I + (c.short_links ? HH : 0) + HH + H
                                             : H * I + HH + H + (c.depth - 1) * (HH + H) + 2 * HH + H;
    for (const RnnConfig& s : c.above) n += parameter_count(s);
    return n;
  }
  const double H = double(c.hidden_size), GH = double(c.gates()) * H, D = double(c.directions());
  double per_direction_extra = 2 * GH;  // b_ih, b_hh
  if (c.peephole) per_direction_extra += 3 * H;
  if (c.learn_leak) per_direction_extra += H;
  per_direction_extra += double(c.layer_norm_size());
  // w_ih (GH, in) with in = input_size in the first layer and D*H above it, w_hh (GH, H).
  const double first = GH * double(c.input_size) + GH * H + per_direction_extra;
  const double upper = GH * double(c.layer_output_size()) + GH * H + per_direction_extra;
  double n = D * (first + double(c.num_layers - 1) * upper);
  for (const RnnConfig& s : c.above) n += parameter_count(s);
  return n;
}

std::map<std::string, std::string> RnnConfig::to_metadata() const {
  std::map<std::string, std::string> m{{"cell", cell_name(cell)},
          {"input_size", std::to_string(input_size)},
          {"hidden_size", std::to_string(hidden_size)},
          {"num_layers", std::to_string(num_layers)},
          {"bidirectional", bidirectional ? "true" : "false"},
          {"dropout", std::to_string(dropout)},
          {"peephole", peephole ? "true" : "false"},
          {"coupled", coupled ? "true" : "false"},
          {"gru_convention", gru == GruConvention::reset_after ? "reset_after" : "reset_before"}};
  // The later options are written only when set, so files without them read as before.
  if (leak != 1.0) m["leak"] = exact_double(leak);
  if (!leak_scales.empty()) {
    std::string scales;
    for (double a : leak_scales) scales += (scales.empty() ? "" : "/") + exact_double(a);
    m["leak_scales"] = scales;
  }
  if (learn_leak) m["learn_leak"] = "true";
  if (residual) m["residual_recurrence"] = "true";
  if (layer_norm) m["layer_norm"] = "true";
  if (merge == DirectionMerge::sum) m["merge"] = "sum";
  // For people; the keys above rule, except in a mixed stack, which only the spec describes whole
  // (the keys above are then its bottom segment's).
  m["rnn_spec"] = format_rnn_spec(rnn_spec_from_config(*this));
  return m;
}

RnnConfig RnnConfig::from_metadata(const std::map<std::string, std::string>& m) {
  RnnConfig c;
  c.cell = parse_cell(metadata_string(m, "cell", "model"));
  c.input_size = metadata_int(m, "input_size", "model");
  c.hidden_size = metadata_int(m, "hidden_size", "model");
  const int64_t layers = metadata_int(m, "num_layers", "model");
  RECUR_CHECK(layers > 0 && layers <= 1000000,
              "model metadata num_layers = " << layers << "; expected 1 to 1000000");
  c.num_layers = int(layers);
  c.bidirectional = metadata_bool(m, "bidirectional", "model");
  if (m.count("dropout")) c.dropout = metadata_double(m, "dropout", "model");
  c.peephole = metadata_bool(m, "peephole", "model");
  c.coupled = metadata_bool(m, "coupled", "model");
  if (m.count("leak")) c.leak = metadata_double(m, "leak", "model");
  if (m.count("leak_scales")) {
    std::istringstream in(m.at("leak_scales"));
    for (std::string part; std::getline(in, part, '/');) {
      const Metadata one{{"leak_scales", part}};
      c.leak_scales.push_back(metadata_double(one, "leak_scales", "model"));
    }
  }
  c.learn_leak = metadata_bool(m, "learn_leak", "model");
  c.residual = metadata_bool(m, "residual_recurrence", "model");
  c.layer_norm = metadata_bool(m, "layer_norm", "model");
  if (m.count("merge")) {
    const std::string g = m.at("merge");
    RECUR_CHECK(g == "concat" || g == "sum", "model metadata merge = '" << g << "'; expected concat or sum");
    c.merge = g == "sum" ? DirectionMerge::sum : DirectionMerge::concat;
  }
  if (m.count("gru_convention")) {
    const std::string g = m.at("gru_convention");
    RECUR_CHECK(g == "reset_after" || g == "reset_before",
                "model metadata gru_convention = '" << g << "'; expected reset_after or reset_before");
    c.gru = g == "reset_after" ? GruConvention::reset_after : GruConvention::reset_before;
  }
  if (m.count("rnn_spec")) {
    RnnConfig stack = rnn_config_from_spec(parse_rnn_spec(m.at("rnn_spec")), c.input_size);
    if (!stack.one_engine_segment()) c = std::move(stack);
  }
  c.validate();
  return c;
}

template <class T>
RnnParams<T>::RnnParams(const RnnConfig& cfg) : config(cfg) {
  cfg.validate();
  if (cfg.loop == TimeLoop::clockwork) layer = ClockworkParams<T>(cfg.clockwork());
  if (cfg.loop == TimeLoop::skip) layer = SkipRnnParams<T>(cfg.skip());
  if (cfg.loop == TimeLoop::deep) layer = DeepTransitionParams<T>(cfg.deep());
  const int own_loop_layers = cfg.own_loop() ? cfg.num_layers : 0;  // no cells for those
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H;
  const int D = cfg.directions();
  for (int l = own_loop_layers; l < cfg.num_layers; ++l) {
    const int64_t in = l == 0 ? cfg.input_size : cfg.layer_output_size();
    for (int d = 0; d < D; ++d) {
      RnnCellParams<T> p;
      p.w_ih = Tensor<T>({GH, in});
      p.w_hh = Tensor<T>({GH, H});
      p.b_ih = Tensor<T>({GH});
      p.b_hh = Tensor<T>({GH});
      if (cfg.peephole) p.w_peep = Tensor<T>({3 * H});
      if (cfg.learn_leak) p.leak = Tensor<T>({H});
      if (cfg.layer_norm) p.ln = Tensor<T>({cfg.layer_norm_size()});
      cells.push_back(std::move(p));
    }
  }
  for (const RnnConfig& s : cfg.above) above.emplace_back(s);
}

template <class T>
void init_rnn_uniform(RnnParams<T>& p, Rng& rng) {
  // Segment by segment (each with its own H), an own-loop layer by its own initialiser (a
  // clockwork layer keeps its unused blocks at zero).
  if (auto* c = std::get_if<ClockworkParams<T>>(&p.layer)) init_clockwork(*c, rng);
  if (auto* s = std::get_if<SkipRnnParams<T>>(&p.layer)) init_skip_rnn(*s, rng);
  if (auto* d = std::get_if<DeepTransitionParams<T>>(&p.layer)) init_deep_transition(*d, rng);
  const double a = 1.0 / std::sqrt(double(p.config.hidden_size));
  for (auto& c : p.cells)
    for (Tensor<T>* t : {&c.w_ih, &c.w_hh, &c.b_ih, &c.b_hh, &c.w_peep, &c.leak, &c.ln})
      for (auto& v : t->data) v = T(rng.uniform(-a, a));
  // A learned leak starts at the configured one: lambda_j = logit(alpha_j).
  for (auto& c : p.cells)
    for (int64_t j = 0; j < c.leak.numel(); ++j) {
      const double a = p.config.leak_of(j);
      c.leak[j] = T(std::log(a / (1 - a)));
    }
  // Layer normalisation starts as the identity: gains 1, biases 0 (the gains come first in each
  // group: LSTM gates [0, 4H) and cell [8H, 9H); GRU [0, 3H); RNN [0, H)).
  if (p.config.layer_norm) {
    const int64_t H = p.config.hidden_size;
    const bool lstm = p.config.cell == CellKind::lstm;
    for (auto& c : p.cells) {
      c.ln.fill(T(0));
      for (int64_t j = 0; j < p.config.gates() * H; ++j) c.ln[j] = T(1);
      if (lstm)
        for (int64_t j = 8 * H; j < 9 * H; ++j) c.ln[j] = T(1);
    }
  }
  for (RnnParams<T>& s : p.above) init_rnn_uniform(s, rng);
}

namespace {
// A PyTorch RNN parameter name: {weight,bias}_{ih,hh}_l<k>[_reverse] or weight_peep_l<k>[_reverse].
struct RnnKey {
  int layer = -1;  // -1: not an RNN parameter name
  bool reverse = false, peephole = false;
};

RnnKey parse_rnn_key(std::string name) {
  RnnKey key;
  const std::string rev = "_reverse";
  if (name.size() > rev.size() && name.compare(name.size() - rev.size(), rev.size(), rev) == 0) {
    key.reverse = true;
    name.resize(name.size() - rev.size());
  }
  static const char* kPrefixes[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l",
                                    "weight_peep_l"};
  for (const char* prefix : kPrefixes) {
    const std::string p = prefix;
    if (name.compare(0, p.size(), p) != 0) continue;
    const std::string digits = name.substr(p.size());
    if (digits.empty() || digits.size() > 4 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return {};
    key.layer = std::stoi(digits);
    key.peephole = p == "weight_peep_l";
    return key;
  }
  return {};
}
}  // namespace

template <class T>
RnnParams<T> params_from_named(CellKind cell, const std::map<std::string, Tensor<T>>& tensors,
                               const std::string& source, GruConvention gru) {
  int max_layer = -1;
  bool reverse = false, peep = false;
  for (const auto& [name, t] : tensors) {
    const RnnKey key = parse_rnn_key(name);
    RECUR_CHECK(key.layer >= 0, source << ": unexpected tensor '" << name
                                       << "'; expected PyTorch RNN names like weight_ih_l0, "
                                          "bias_hh_l1_reverse");
    max_layer = std::max(max_layer, key.layer);
    reverse = reverse || key.reverse;
    peep = peep || key.peephole;
  }
  RECUR_CHECK(max_layer >= 0, source << ": no RNN weights found (expected weight_ih_l0, ...)");
  auto get = [&](const std::string& k) -> const Tensor<T>& {
    auto it = tensors.find(k);
    RECUR_CHECK(it != tensors.end(), source << ": missing tensor '" << k << "'");
    return it->second;
  };
  const Tensor<T>& w_hh0 = get("weight_hh_l0");
  const Tensor<T>& w_ih0 = get("weight_ih_l0");
  RECUR_CHECK(w_hh0.rank() == 2 && w_ih0.rank() == 2,
              source << ": weight_hh_l0 and weight_ih_l0 must be 2-D, got "
                     << w_hh0.shape_string() << " and " << w_ih0.shape_string());
  RnnConfig cfg;
  cfg.cell = cell;
  cfg.gru = gru;
  cfg.hidden_size = w_hh0.dim(1);
  cfg.input_size = w_ih0.dim(1);
  cfg.num_layers = max_layer + 1;
  cfg.bidirectional = reverse;
  cfg.peephole = peep;
  // Summed directions (not a PyTorch layout) show as an upper layer reading H features, not 2H.
  if (reverse && cfg.num_layers > 1 && get("weight_ih_l1").rank() == 2 &&
      get("weight_ih_l1").dim(1) == cfg.hidden_size)
    cfg.merge = DirectionMerge::sum;
  const int64_t G = cfg.gates();
  RECUR_CHECK(w_hh0.dim(0) == G * cfg.hidden_size,
              source << ": weight_hh_l0 has shape " << w_hh0.shape_string() << "; a "
                     << cell_name(cell) << " with hidden size " << cfg.hidden_size << " needs ("
                     << G * cfg.hidden_size << ", " << cfg.hidden_size << ")");
  RnnParams<T> p(cfg);
  for (auto& [name, dst] : p.named()) {
    const Tensor<T>& src = get(name);
    RECUR_CHECK(src.shape == dst->shape, source << ": tensor '" << name << "' has shape "
                                                << src.shape_string() << ", expected "
                                                << dst->shape_string());
    *dst = src;
  }
  RECUR_CHECK(p.named().size() == tensors.size(),
              source << ": holds " << tensors.size() << " tensors but a " << cfg.num_layers
                     << "-layer " << (reverse ? "bidirectional " : "") << cell_name(cell)
                     << " has " << p.named().size());
  return p;
}

template <class T>
void top_final_state(T* summary, const RnnState<T>& stack_fin, const RnnConfig& stack, int64_t B) {
  const RnnConfig& c = stack.top();
  const RnnState<T>& fin = stack.mixed() ? stack_fin.above.back() : stack_fin;
  const int64_t H = c.hidden_size, D = c.directions(), OW = c.output_size(), top = c.num_layers - 1;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d) {
      const T* h = fin.h.ptr() + ((top * D + d) * B + b) * H;
      T* out = summary + b * OW;
      if (c.sums_directions() && d == 1)
        for (int64_t j = 0; j < H; ++j) out[j] += h[j];
      else
        std::copy_n(h, H, out + (c.sums_directions() ? 0 : d * H));
    }
}

namespace {
// Zero final-state gradients shaped as a segment's states (the segments above it included).
template <class T>
void zero_state(RnnState<T>& s, const RnnConfig& c, int64_t B) {
  const int64_t rows = int64_t(c.num_layers) * c.directions();
  s.h = Tensor<T>({rows, B, c.hidden_size});
  s.c = c.has_cell_state() ? Tensor<T>({rows, B, c.hidden_size}) : Tensor<T>();
  s.above.resize(c.above.size());
  for (size_t k = 0; k < c.above.size(); ++k) zero_state(s.above[k], c.above[k], B);
}
}  // namespace

template <class T>
void top_final_state_backward(RnnState<T>& stack_dfin, const T* dsummary, const RnnConfig& stack,
                              int64_t B) {
  zero_state(stack_dfin, stack, B);
  const RnnConfig& c = stack.top();
  RnnState<T>& dfin = stack.mixed() ? stack_dfin.above.back() : stack_dfin;
  const int64_t H = c.hidden_size, D = c.directions(), OW = c.output_size(), top = c.num_layers - 1;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d)
      std::copy_n(dsummary + b * OW + (c.sums_directions() ? 0 : d * H), H,
                  dfin.h.ptr() + ((top * D + d) * B + b) * H);
}

template void top_final_state<float>(float*, const RnnState<float>&, const RnnConfig&, int64_t);
template void top_final_state<double>(double*, const RnnState<double>&, const RnnConfig&, int64_t);
template void top_final_state_backward<float>(RnnState<float>&, const float*, const RnnConfig&, int64_t);
template void top_final_state_backward<double>(RnnState<double>&, const double*, const RnnConfig&,
                                               int64_t);

template struct RnnParams<float>;
template struct RnnParams<double>;
template void init_rnn_uniform<float>(RnnParams<float>&, Rng&);
template void init_rnn_uniform<double>(RnnParams<double>&, Rng&);
template RnnParams<float> params_from_named<float>(CellKind, const std::map<std::string, Tensor<float>>&,
                                                   const std::string&, GruConvention);
template RnnParams<double> params_from_named<double>(CellKind,
                                                     const std::map<std::string, Tensor<double>>&,
                                                     const std::string&, GruConvention);

}  // namespace recur
