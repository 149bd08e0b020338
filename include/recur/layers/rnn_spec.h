// The recurrent stack spec: one typed description of a stack of recurrent layers, written the same
// way in every trainer (`--rnn`), the Python module and the C API (docs/rnn-spec.md):
//
//   "lstm:256,peephole,bi=sum;lstm:256,peephole,bi=sum"
//
// Layers are separated by ';', a layer's fields by ','; they may differ (a mixed stack). The first field is kind:hidden; the others
// are options (flags, or name=value):
//   kind      rnn_tanh rnn_relu rnn_sigmoid rnn_linear lstm gru, and the layers with their own time loop:
//             clockwork skip deep (one unidirectional tanh layer each)
//   periods=1/2/4/8            clockwork: the modules' periods (the default)
//   delay=D, no_short          skip: links from D steps back (2); without the length-1 links
//   depth=K                    deep: tanh layers inside the transition (2)
//   peephole, coupled          lstm: gates see the cell state; i = 1 - f
//   reset_before               gru: the seeds' (Cho 2014) candidate; the default is reset_after
//   leak=A, learn_leak         rnn_*: h = (1 - A) h_prev + A f(z), A in (0, 1] (learned per unit)
//   residual, residual=A       rnn_*: h = h_prev + A f(z), A = 1 by default (learn_leak learns it)
//   ln                         lstm, gru: layer normalisation of every gate
//   dropout=P                  on this layer's output, before the next layer (not on the last)
//   bi, bi=concat, bi=sum      both directions, their outputs concatenated (2H wide) or summed (H)
// Parsing validates everything once; errors name the layer, its text and the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"

namespace recur {

struct RnnLayerSpec {
  CellKind cell = CellKind::lstm;
  int64_t hidden = 0;
  bool peephole = false, coupled = false, reset_before = false;
  double leak = 1.0;
  std::vector<double> leak_scales;  // leak=A/B/C: groups of units at fixed time scales
  bool learn_leak = false, residual = false, layer_norm = false;
  double dropout = 0.0;
  bool bidirectional = false;
  DirectionMerge merge = DirectionMerge::concat;
  TimeLoop loop = TimeLoop::engine;  // clockwork, skip, deep (cell is then rnn_tanh)
  std::vector<int64_t> periods = clockwork_default_periods();
  int64_t delay = 2;
  bool no_short = false;
  int depth = 2;
  bool operator==(const RnnLayerSpec&) const = default;
};

struct RnnSpec {
  std::vector<RnnLayerSpec> layers;
};

// Parses and validates a spec string; throws recur::Error naming the layer and the field.
RnnSpec parse_rnn_spec(const std::string& text);
// The canonical string of a spec (options in a fixed order, defaults left out); parses back equal.
std::string format_rnn_spec(const RnnSpec& spec);

// The RnnConfig of a spec: runs of alike layers (same kind, size, options and dropout) become one
// uniform segment each; a stack of several segments is a mixed stack (RnnConfig::above). input_size
// is the caller's (the embedding, the features).
RnnConfig rnn_config_from_spec(const RnnSpec& spec, int64_t input_size = 0);
RnnSpec rnn_spec_from_config(const RnnConfig& config);

// What the trainers' logs and plot titles call a network: "bidirectional lstm 2x128" and "lstm"
// for a stack of alike engine layers; the spec for a mixed stack or an own-loop layer.
std::string rnn_summary(const RnnConfig& config);
std::string rnn_title(const RnnConfig& config);

}  // namespace recur
