// The recurrent stack spec: parsing with errors that name the layer and field, the canonical
// string, and the round trip to the engine's RnnConfig.
#include "recur/layers/rnn_spec.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "recur/core/error.h"

namespace recur {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

// The shortest text that reads back as the same double (0.1, not 0.10000000000000001).
std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// "layer 2 (gru:128,peephole)": how every message starts.
std::string where(size_t index, const std::string& text) {
  return "--rnn layer " + std::to_string(index + 1) + " ('" + text + "')";
}

double parse_number(const std::string& value, const std::string& at, const std::string& field) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  RECUR_CHECK(used > 0 && used == value.size() && std::isfinite(v),
              at << ": " << field << " must be a number, got '" << value << "'");
  return v;
}

// kind:hidden, the layer's first field.
void parse_kind(RnnLayerSpec& L, const std::string& field, const std::string& at) {
  const size_t colon = field.find(':');
  RECUR_CHECK(colon != std::string::npos,
              at << ": expected kind:hidden first (e.g. lstm:256), got '" << field << "'");
  const std::string kind = trim(field.substr(0, colon)), size = trim(field.substr(colon + 1));
  bool known = false;
  for (TimeLoop k : {TimeLoop::clockwork, TimeLoop::skip, TimeLoop::deep})
    if (kind == time_loop_name(k)) {
      L.loop = k;
      L.cell = CellKind::rnn_tanh;
      known = true;
    }
  for (CellKind k : {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::rnn_sigmoid, CellKind::rnn_linear,
                     CellKind::lstm, CellKind::gru})
    if (kind == cell_name(k)) {
      L.cell = k;
      known = true;
    }
  RECUR_CHECK(known, at << ": unknown kind '" << kind
                        << "'; expected rnn_tanh, rnn_relu, rnn_sigmoid, rnn_linear, lstm, gru, clockwork, skip or deep");
  const double h = parse_number(size, at, "the hidden size");
  RECUR_CHECK(h >= 1 && h <= 1e6 && h == std::floor(h),
              at << ": the hidden size must be a whole number from 1 to 1000000, got '" << size << "'");
  L.hidden = int64_t(h);
}

// periods=1/2/4/8 (clockwork), delay=D and no_short (skip), depth=K (deep).
void parse_loop_option(RnnLayerSpec& L, const std::string& name, bool has_value, const std::string& value,
                       const std::string& at) {
  const TimeLoop owner = name == "periods" ? TimeLoop::clockwork : name == "depth" ? TimeLoop::deep : TimeLoop::skip;
  RECUR_CHECK(L.loop == owner, at << ": option '" << name << "' is for " << time_loop_name(owner) << " layers only");
  if (name == "no_short") {
    RECUR_CHECK(!has_value, at << ": option 'no_short' takes no value");
    L.no_short = true;
    return;
  }
  RECUR_CHECK(has_value, at << ": option '" << name << "' needs a value (" << name << "=...)");
  auto whole = [&](const std::string& text, const char* what) {
    const double v = parse_number(text, at, what);
    RECUR_CHECK(v >= 1 && v <= 1e6 && v == std::floor(v),
                at << ": " << what << " must be a whole number from 1 to 1000000, got '" << text << "'");
    return int64_t(v);
  };
  if (name == "delay") L.delay = whole(value, "delay");
  if (name == "depth") L.depth = int(whole(value, "depth"));
  if (name == "periods") {
    L.periods.clear();
    for (const std::string& p : split(value, '/')) {
      L.periods.push_back(whole(trim(p), "a period"));
      RECUR_CHECK(L.periods.size() == 1 || L.periods.back() > L.periods[L.periods.size() - 2],
                  at << ": periods must increase (fastest module first), got '" << value << "'");
    }
  }
}

void parse_option(RnnLayerSpec& L, const std::string& field, const std::string& at) {
  const size_t eq = field.find('=');
  const std::string name = trim(field.substr(0, eq));
  const bool has_value = eq != std::string::npos;
  const std::string value = has_value ? trim(field.substr(eq + 1)) : "";
  const bool lstm = L.cell == CellKind::lstm, gru = L.cell == CellKind::gru;
  const bool own = L.loop != TimeLoop::engine, simple = !lstm && !gru && !own;
  if (name == "periods" || name == "delay" || name == "depth" || name == "no_short")
    return parse_loop_option(L, name, has_value, value, at);
  RECUR_CHECK(!own || name == "dropout", at << ": option '" << name << "' is not for a " << time_loop_name(L.loop)
                                            << " layer (it takes dropout=P and its own: periods, "
                                               "delay, no_short, depth)");
  auto flag = [&](bool& dst, bool allowed, const char* cells) {
    RECUR_CHECK(!has_value, at << ": option '" << name << "' takes no value");
    RECUR_CHECK(allowed, at << ": option '" << name << "' is for " << cells << " layers only");
    dst = true;
  };
  if (name == "peephole") return flag(L.peephole, lstm, "lstm");
  if (name == "coupled") return flag(L.coupled, lstm, "lstm");
  if (name == "reset_before") return flag(L.reset_before, gru, "gru");
  if (name == "learn_leak") return flag(L.learn_leak, simple, "rnn_tanh, rnn_relu, rnn_sigmoid and rnn_linear");
  if (name == "residual" && !has_value) {
    RECUR_CHECK(L.leak == 1, at << ": leak and residual exclude each other; use residual=A to scale "
                                   "the residual branch");
    return flag(L.residual, simple, "rnn_tanh, rnn_relu, rnn_sigmoid and rnn_linear");
  }
  if (name == "ln") return flag(L.layer_norm, true, "");
  if (name == "bi") {
    L.bidirectional = true;
    RECUR_CHECK(value.empty() == !has_value && (value.empty() || value == "concat" || value == "sum"),
                at << ": bi takes concat or sum (bi alone is concat), got '" << field << "'");
    L.merge = value == "sum" ? DirectionMerge::sum : DirectionMerge::concat;
    return;
  }
  if (name == "leak" && value.find('/') != std::string::npos) {  // leak=A/B/C: groups of units
    RECUR_CHECK(simple, at << ": option 'leak' is for rnn_tanh, rnn_relu, rnn_sigmoid and rnn_linear layers only");
    RECUR_CHECK(L.leak == 1 && !L.residual && L.leak_scales.empty(),
                at << ": leak and residual exclude each other, and each is given once");
    for (const std::string& part : split(value, '/')) {
      const double v = parse_number(trim(part), at, name);
      RECUR_CHECK(v > 0 && v <= 1, at << ": every leak of a group must be in (0, 1], got " << part);
      L.leak_scales.push_back(v);
    }
    L.leak = L.leak_scales.front();
    return;
  }
  if (name == "leak" || name == "dropout" || name == "residual") {
    RECUR_CHECK(has_value, at << ": option '" << name << "' needs a value (" << name << "=...)");
    const double v = parse_number(value, at, name);
    if (name != "dropout") {  // leak=A, residual=A: the share alpha of f(z) in h
      RECUR_CHECK(simple, at << ": option '" << name << "' is for rnn_tanh, rnn_relu, rnn_sigmoid and rnn_linear layers only");
      RECUR_CHECK(v > 0 && v <= 1, at << ": " << name << " must be in (0, 1], got " << value);
      RECUR_CHECK(L.leak == 1 && !L.residual,
                  at << ": leak and residual exclude each other, and each is given once; use "
                        "residual=A to scale the residual branch");
      L.leak = v;
      L.residual = name == "residual";
    } else {
      RECUR_CHECK(v >= 0 && v < 1, at << ": dropout must be in [0, 1), got " << value);
      L.dropout = v;
    }
    return;
  }
  RECUR_FAIL(at << ": unknown option '" << name << "'; expected peephole, coupled, reset_before, "
                << "leak=A (or A/B/...), learn_leak, residual[=A], ln, dropout=P, bi or bi=sum");
}

// The checks between options of one layer, as RnnConfig::validate makes them, named here.
void check_layer(const RnnLayerSpec& L, const std::string& at) {
  RECUR_CHECK(!L.learn_leak || L.leak < 1,
              at << ": learn_leak starts at leak=A (or residual=A), which must then be below 1 (e.g. "
                    "leak=0.5)");
  for (double a : L.leak_scales)
    RECUR_CHECK(!L.learn_leak || a < 1, at << ": learn_leak starts every group at its leak, which "
                                               "must then be below 1, got " << a);
  RECUR_CHECK(L.leak_scales.empty() || int64_t(L.leak_scales.size()) <= L.hidden,
              at << ": " << L.leak_scales.size() << " groups of leaky units need at least as many units, "
                 << "not " << L.hidden);
  RECUR_CHECK(!L.layer_norm || !(L.peephole || L.coupled || L.reset_before || L.learn_leak),
              at << ": ln is not combined with peephole, coupled, reset_before or learn_leak");
  RECUR_CHECK(L.loop != TimeLoop::clockwork || L.hidden % int64_t(L.periods.size()) == 0,
              at << ": a clockwork layer splits its " << L.hidden << " units into " << L.periods.size()
                 << " modules of equal size; give a hidden size divisible by " << L.periods.size());
}

}  // namespace

RnnSpec parse_rnn_spec(const std::string& text) {
  RnnSpec spec;
  RECUR_CHECK(!trim(text).empty(), "--rnn: the spec is empty; expected e.g. 'lstm:256;lstm:256'");
  const std::vector<std::string> layers = split(text, ';');
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string layer_text = trim(layers[i]);
    const std::string at = where(i, layer_text);
    RECUR_CHECK(!layer_text.empty(), at << ": empty layer (two ';' in a row, or one at the end?)");
    const std::vector<std::string> fields = split(layer_text, ',');
    RnnLayerSpec L;
    parse_kind(L, trim(fields[0]), at);
    for (size_t f = 1; f < fields.size(); ++f) {
      RECUR_CHECK(!trim(fields[f]).empty(), at << ": empty option (two ',' in a row?)");
      parse_option(L, trim(fields[f]), at);
    }
    check_layer(L, at);
    spec.layers.push_back(L);
  }
  const RnnLayerSpec& last = spec.layers.back();
  RECUR_CHECK(last.dropout == 0, where(spec.layers.size() - 1, trim(layers.back()))
                                     << ": dropout=P acts between layers, and this is the last one");
  return spec;
}

std::string format_rnn_spec(const RnnSpec& spec) {
  std::ostringstream os;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const RnnLayerSpec& L = spec.layers[i];
    const bool own = L.loop != TimeLoop::engine;
    os << (i ? ";" : "") << (own ? time_loop_name(L.loop) : cell_name(L.cell)) << ':' << L.hidden;
    if (L.loop == TimeLoop::clockwork && L.periods != RnnLayerSpec().periods) {
      os << ",periods=";
      for (size_t k = 0; k < L.periods.size(); ++k) os << (k ? "/" : "") << L.periods[k];
    }
    if (L.loop == TimeLoop::skip && L.delay != RnnLayerSpec().delay) os << ",delay=" << L.delay;
    if (L.loop == TimeLoop::skip && L.no_short) os << ",no_short";
    if (L.loop == TimeLoop::deep && L.depth != RnnLayerSpec().depth) os << ",depth=" << L.depth;
    if (L.peephole) os << ",peephole";
    if (L.coupled) os << ",coupled";
    if (L.reset_before) os << ",reset_before";
    if (!L.leak_scales.empty()) {
      os << ",leak=";
      for (size_t k = 0; k < L.leak_scales.size(); ++k) os << (k ? "/" : "") << shortest(L.leak_scales[k]);
    } else if (L.leak != 1) {
      os << (L.residual ? ",residual=" : ",leak=") << shortest(L.leak);
    }
    if (L.residual && L.leak == 1) os << ",residual";
    if (L.learn_leak) os << ",learn_leak";
    if (L.layer_norm) os << ",ln";
    if (L.dropout != 0) os << ",dropout=" << shortest(L.dropout);
    if (L.bidirectional) os << (L.merge == DirectionMerge::sum ? ",bi=sum" : ",bi");
  }
  return os.str();
}

namespace {
// Layer i joins the segment that starts at layer `first` when it matches it in all but dropout,
// and the segment's one dropout (between its layers) is also layer i's (the top layer has none).
bool same_segment(const RnnSpec& spec, size_t first, size_t i) {
  RnnLayerSpec a = spec.layers[first], b = spec.layers[i];
  if (a.loop != TimeLoop::engine || b.loop != TimeLoop::engine) return false;  // one layer each
  const bool top = i + 1 == spec.layers.size();
  if (!top && b.dropout != a.dropout) return false;
  b.dropout = a.dropout;
  return a == b;
}

RnnConfig segment_config(const RnnLayerSpec& first, int layers, int64_t input_size) {
  RnnConfig c;
  c.cell = first.cell;
  c.input_size = input_size;
  c.hidden_size = first.hidden;
  c.num_layers = layers;
  c.bidirectional = first.bidirectional;
  c.merge = first.merge;
  c.dropout = first.dropout;
  c.peephole = first.peephole;
  c.coupled = first.coupled;
  c.gru = first.reset_before ? GruConvention::reset_before : GruConvention::reset_after;
  c.leak = first.leak;
  c.leak_scales = first.leak_scales;
  c.learn_leak = first.learn_leak;
  c.residual = first.residual;
  c.layer_norm = first.layer_norm;
  c.loop = first.loop;
  c.periods = first.periods;
  c.delay = first.delay;
  c.short_links = !first.no_short;
  c.depth = first.depth;
  return c;
}
}  // namespace

RnnConfig rnn_config_from_spec(const RnnSpec& spec, int64_t input_size) {
  RECUR_CHECK(!spec.layers.empty(), "--rnn: the spec has no layers");
  std::vector<RnnConfig> segments;
  for (size_t first = 0; first < spec.layers.size();) {
    size_t end = first + 1;
    while (end < spec.layers.size() && same_segment(spec, first, end)) ++end;
    const int64_t in = segments.empty() ? input_size : segments.back().layer_output_size();
    segments.push_back(segment_config(spec.layers[first], int(end - first), in));
    first = end;
  }
  RnnConfig c = std::move(segments.front());
  c.above.assign(std::make_move_iterator(segments.begin() + 1), std::make_move_iterator(segments.end()));
  return c;
}

std::string rnn_summary(const RnnConfig& c) {
  if (!c.one_engine_segment()) return "'" + format_rnn_spec(rnn_spec_from_config(c)) + "'";
  return std::string(c.bidirectional ? "bidirectional " : "") + cell_name(c.cell) + " " +
         std::to_string(c.num_layers) + "x" + std::to_string(c.hidden_size);
}

std::string rnn_title(const RnnConfig& c) {
  return c.one_engine_segment() ? cell_name(c.cell) : format_rnn_spec(rnn_spec_from_config(c));
}

RnnSpec rnn_spec_from_config(const RnnConfig& stack) {
  RnnSpec spec;
  for (size_t k = 0; k <= stack.above.size(); ++k) {
    const RnnConfig& c = k == 0 ? stack : stack.above[k - 1];
    RnnLayerSpec L;
    L.cell = c.cell;
    L.hidden = c.hidden_size;
    L.peephole = c.peephole;
    L.coupled = c.coupled;
    L.reset_before = c.cell == CellKind::gru && c.gru == GruConvention::reset_before;
    L.leak = c.leak;
    L.leak_scales = c.leak_scales;
    L.learn_leak = c.learn_leak;
    L.residual = c.residual;
    L.layer_norm = c.layer_norm;
    L.bidirectional = c.bidirectional;
    L.merge = c.merge;
    L.dropout = c.dropout;  // between this segment's layers, and on its output below the next
    L.loop = c.loop;
    L.periods = c.periods;
    L.delay = c.delay;
    L.no_short = !c.short_links;
    L.depth = c.depth;
    for (int l = 0; l < c.num_layers; ++l) spec.layers.push_back(L);
  }
  spec.layers.back().dropout = 0.0;
  return spec;
}

}  // namespace recur
