// ONNX's LSTM, GRU and RNN ops on recur's layer. ONNX orders the gates i,o,f,c (LSTM) and z,r,h
// (GRU) where recur (as PyTorch) has i,f,g,o and r,z,n; its peepholes are (i, o, f) against
// recur's (i, f, o); its bias B is [Wb; Rb]. GRU linear_before_reset = 1 is recur's reset_after, 0
// its reset_before. direction "reverse" runs the forward layer on each sequence reversed within
// its length. layout 1 is batch-first. ONNX's clip (gate pre-activations clamped to [-clip, clip])
// and input_forget (LSTM: f = 1 - i) are not in recur's cells: a node with either runs the ONNX
// equations directly (direct_forward, plain loops). Other activations are refused at load time.
#include <algorithm>
#include <cmath>

#include "onnx/ops.h"
#include "recur/core/layout.h"
#include "recur/layers/rnn.h"

namespace recur::onnx_ops {
namespace {

struct Spec {
  CellKind cell;
  int gates;
  std::vector<int> order;  // recur's gate k is ONNX's gate order[k]
};

Spec spec_of(const Node& n) {
  if (n.op == "LSTM") return {CellKind::lstm, 4, {0, 2, 3, 1}};  // i f g o <- i o f c
  if (n.op == "GRU") return {CellKind::gru, 3, {1, 0, 2}};        // r z n <- z r h
  const std::string act = n.has("activations") && !n.attrs.at("activations").strings.empty()
                              ? n.attrs.at("activations").strings[0]
                              : "Tanh";
  const CellKind cell = act == "Relu" ? CellKind::rnn_relu : act == "Sigmoid" ? CellKind::rnn_sigmoid
                                                                             : CellKind::rnn_tanh;
  return {cell, 1, {0}};
}

// Rows of gate blocks (G*H, cols) reordered from ONNX's gate order to recur's.
void reorder_gates(const float* src, float* dst, const Spec& s, int64_t H, int64_t cols) {
  for (int k = 0; k < s.gates; ++k)
    std::copy_n(src + int64_t(s.order[size_t(k)]) * H * cols, H * cols, dst + int64_t(k) * H * cols);
}

// Each sequence's first len[b] steps reversed in time (the rest stays): x (T,B,F).
Tensor<float> reverse_within_lengths(const Tensor<float>& x, const std::vector<int64_t>& len) {
  Tensor<float> r = x;
  const int64_t T = x.dim(0), B = x.dim(1), F = x.dim(2);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = len.empty() ? T : len[size_t(b)];
    for (int64_t t = 0; t < L; ++t)
      std::copy_n(x.ptr() + ((L - 1 - t) * B + b) * F, F, r.ptr() + (t * B + b) * F);
  }
  return r;
}

Tensor<float> as_tensor(const OnnxValue& v, const Node& n, const char* what) {
  RECUR_CHECK(v.type == OnnxValue::Type::f32, n.op << " input " << what << " must be float32, got " << v.describe());
  Tensor<float> t(v.shape);
  t.data = v.f;
  return t;
}

// The ONNX equations as written, on recur's parameter layout (gates i,f,g,o / r,z,n, peepholes
// i,f,o), for what recur's cells lack: clip and input_forget. x (T,B,I) time-major; init (D,B,H)
// or empty; reverse_only: the single direction runs backwards. Writes y (T,B,D*H) and fin (D,B,H).
void direct_forward(Tensor<float>& y, RnnState<float>& fin, const RnnParams<float>& p, const Tensor<float>& x,
                    const std::vector<int64_t>& lengths, const RnnState<float>& init, float clip,
                    bool input_forget, bool reverse_only) {
  const RnnConfig& c = p.config;
  const int64_t T = x.dim(0), B = x.dim(1), I = x.dim(2), H = c.hidden_size, G = c.gates(), D = c.directions();
  const bool lstm = c.has_cell_state();
  auto cl = [&](float v) { return clip > 0 ? std::clamp(v, -clip, clip) : v; };
  auto sig = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  auto act = [&](float v) {
    return c.cell == CellKind::rnn_relu ? std::max(v, 0.0f) : c.cell == CellKind::rnn_sigmoid ? sig(v) : std::tanh(v);
  };
  y = Tensor<float>({T, B, D * H});
  fin.h = Tensor<float>({D, B, H});
  fin.c = lstm ? Tensor<float>({D, B, H}) : Tensor<float>();
  const size_t GH = static_cast<size_t>(G * H), Hs = static_cast<size_t>(H);
  std::vector<float> gx(GH), gh(GH), h(Hs), cs(Hs), rh(Hs);
  for (int64_t d = 0; d < D; ++d) {
    const RnnCellParams<float>& w = p.cells[size_t(d)];
    const bool back = d == 1 || reverse_only;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = lengths.empty() ? T : lengths[size_t(b)];
      for (int64_t j = 0; j < H; ++j) {
        h[size_t(j)] = init.h.empty() ? 0.0f : init.h[(d * B + b) * H + j];
        cs[size_t(j)] = !lstm || init.c.empty() ? 0.0f : init.c[(d * B + b) * H + j];
      }
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = back ? len - 1 - s : s;
        const float* xt = x.ptr() + (t * B + b) * I;
        for (int64_t r = 0; r < G * H; ++r) {  // x W_ih^T + b_ih and h W_hh^T + b_hh, per gate row
          float ax = w.b_ih[r], ah = w.b_hh[r];
          for (int64_t k = 0; k < I; ++k) ax += w.w_ih[r * I + k] * xt[k];
          for (int64_t k = 0; k < H; ++k) ah += w.w_hh[r * H + k] * h[size_t(k)];
          gx[size_t(r)] = ax;
          gh[size_t(r)] = ah;
        }
        if (lstm) {
          for (int64_t j = 0; j < H; ++j) {
            const float pi = c.peephole ? w.w_peep[j] : 0, pf = c.peephole ? w.w_peep[H + j] : 0;
            const float po = c.peephole ? w.w_peep[2 * H + j] : 0, cp = cs[size_t(j)];
            const float i = sig(cl(gx[size_t(j)] + gh[size_t(j)] + pi * cp));
            const float f = input_forget ? 1 - i : sig(cl(gx[size_t(H + j)] + gh[size_t(H + j)] + pf * cp));
            const float g = std::tanh(cl(gx[size_t(2 * H + j)] + gh[size_t(2 * H + j)]));
            const float cn = f * cp + i * g;
            const float o = sig(cl(gx[size_t(3 * H + j)] + gh[size_t(3 * H + j)] + po * cn));
            cs[size_t(j)] = cn;
            h[size_t(j)] = o * std::tanh(cn);
          }
        } else if (c.cell == CellKind::gru) {
          if (c.gru == GruConvention::reset_before) {  // W_hn (r * h): the n rows again on r * h
            for (int64_t j = 0; j < H; ++j) rh[size_t(j)] = sig(cl(gx[size_t(j)] + gh[size_t(j)])) * h[size_t(j)];
            for (int64_t j = 0; j < H; ++j) {
              float a = w.b_hh[2 * H + j];
              for (int64_t k = 0; k < H; ++k) a += w.w_hh[(2 * H + j) * H + k] * rh[size_t(k)];
              gh[size_t(2 * H + j)] = a;
            }
          }
          for (int64_t j = 0; j < H; ++j) {
            const float r = sig(cl(gx[size_t(j)] + gh[size_t(j)]));
            const float z = sig(cl(gx[size_t(H + j)] + gh[size_t(H + j)]));
            const float hn = c.gru == GruConvention::reset_after ? r * gh[size_t(2 * H + j)] : gh[size_t(2 * H + j)];
            const float nn = std::tanh(cl(gx[size_t(2 * H + j)] + hn));
            h[size_t(j)] = (1 - z) * nn + z * h[size_t(j)];
          }
        } else {
          for (int64_t j = 0; j < H; ++j) h[size_t(j)] = act(cl(gx[size_t(j)] + gh[size_t(j)]));
        }
        std::copy(h.begin(), h.end(), y.ptr() + (t * B + b) * D * H + d * H);
      }
      std::copy(h.begin(), h.end(), fin.h.ptr() + (d * B + b) * H);
      if (lstm) std::copy(cs.begin(), cs.end(), fin.c.ptr() + (d * B + b) * H);
    }
  }
}

std::vector<OnnxValue> run_recurrent(const Node& n, const Inputs& in) {
  const Spec s = spec_of(n);
  const bool lstm = s.cell == CellKind::lstm;
  const std::string direction = n.attr_s("direction", "forward");
  const bool bidir = direction == "bidirectional", reverse = direction == "reverse";
  const int64_t D = bidir ? 2 : 1, H = n.attr_i("hidden_size", 0), G = s.gates;
  const bool batch_first = n.attr_i("layout", 0) == 1;

  Tensor<float> x = as_tensor(need(n, in, 0), n, "X");
  RECUR_CHECK(x.rank() == 3, n.op << " input X must have rank 3, got " << x.shape_string());
  if (batch_first) x = swap_first_axes(x);  // (B,T,I) -> (T,B,I)
  const int64_t T = x.dim(0), B = x.dim(1), I = x.dim(2);
  const Tensor<float> W = as_tensor(need(n, in, 1), n, "W"), R = as_tensor(need(n, in, 2), n, "R");
  RECUR_CHECK(W.shape == Shape({D, G * H, I}), n.op << " W has shape " << W.shape_string() << ", expected "
                                                     << shape_str({D, G * H, I}));
  RECUR_CHECK(R.shape == Shape({D, G * H, H}), n.op << " R has shape " << R.shape_string() << ", expected "
                                                     << shape_str({D, G * H, H}));
  RnnConfig cfg;
  cfg.cell = s.cell;
  cfg.input_size = I;
  cfg.hidden_size = H;
  cfg.bidirectional = bidir;
  if (n.op == "GRU")
    cfg.gru = n.attr_i("linear_before_reset", 0) ? GruConvention::reset_after : GruConvention::reset_before;
  const bool peephole = lstm && in.size() > 7 && in[7];
  cfg.peephole = peephole;
  RnnParams<float> p(cfg);
  for (int64_t d = 0; d < D; ++d) {
    RnnCellParams<float>& c = p.cells[size_t(d)];
    reorder_gates(W.ptr() + d * G * H * I, c.w_ih.ptr(), s, H, I);
    reorder_gates(R.ptr() + d * G * H * H, c.w_hh.ptr(), s, H, H);
    if (in.size() > 3 && in[3]) {
      const Tensor<float> Bias = as_tensor(*in[3], n, "B");
      RECUR_CHECK(Bias.shape == Shape({D, 2 * G * H}), n.op << " B has shape " << Bias.shape_string()
                                                           << ", expected " << shape_str({D, 2 * G * H}));
      reorder_gates(Bias.ptr() + d * 2 * G * H, c.b_ih.ptr(), s, H, 1);
      reorder_gates(Bias.ptr() + d * 2 * G * H + G * H, c.b_hh.ptr(), s, H, 1);
    }
    if (peephole) {
      const Tensor<float> P = as_tensor(*in[7], n, "P");
      RECUR_CHECK(P.shape == Shape({D, 3 * H}), n.op << " P has shape " << P.shape_string() << ", expected "
                                                     << shape_str({D, 3 * H}));
      const float* pd = P.ptr() + d * 3 * H;
      std::copy_n(pd, H, c.w_peep.ptr());              // i
      std::copy_n(pd + 2 * H, H, c.w_peep.ptr() + H);  // f
      std::copy_n(pd + H, H, c.w_peep.ptr() + 2 * H);  // o
    }
  }
  std::vector<int64_t> lengths;
  if (in.size() > 4 && in[4]) {
    lengths = as_ints(*in[4]);
    RECUR_CHECK(int64_t(lengths.size()) == B, n.op << " sequence_lens has " << lengths.size()
                                                   << " values for a batch of " << B);
  }
  // Initial states: (D,B,H), or (B,D,H) with layout 1.
  auto state_in = [&](size_t k, const char* what) -> Tensor<float> {
    if (in.size() <= k || !in[k]) return Tensor<float>();
    Tensor<float> t = as_tensor(*in[k], n, what);
    if (batch_first) {
      RECUR_CHECK(t.shape == Shape({B, D, H}), n.op << " " << what << " has shape " << t.shape_string()
                                                    << ", expected " << shape_str({B, D, H}));
      return swap_first_axes(t);
    }
    RECUR_CHECK(t.shape == Shape({D, B, H}), n.op << " " << what << " has shape " << t.shape_string()
                                                  << ", expected " << shape_str({D, B, H}));
    return t;
  };
  RnnState<float> init{state_in(5, "initial_h"), lstm ? state_in(6, "initial_c") : Tensor<float>()};
  const bool has_init = !init.h.empty() || !init.c.empty();
  if (has_init) {
    if (init.h.empty()) init.h = Tensor<float>({D, B, H});
    if (lstm && init.c.empty()) init.c = Tensor<float>({D, B, H});
  }
  Tensor<float> y;
  RnnState<float> fin;
  const float clip = n.attr_f("clip", 0.0f);
  const bool input_forget = n.attr_i("input_forget", 0) != 0;
  if (clip > 0 || input_forget) {
    direct_forward(y, fin, p, x, lengths, init, clip, input_forget, reverse);
  } else {
    if (reverse) x = reverse_within_lengths(x, lengths);
    RnnCache<float> cache;
    rnn_forward(y, fin, cache, p, x, lengths, has_init ? &init : nullptr,
                RnnRunOptions().with_inference(true));
    if (reverse) y = reverse_within_lengths(y, lengths);
  }

  // Y (T,D,B,H) or (B,T,D,H); Y_h, Y_c (D,B,H) or (B,D,H).
  OnnxValue Y = OnnxValue::floats(batch_first ? Shape{B, T, D, H} : Shape{T, D, B, H},
                                  std::vector<float>(size_t(T * D * B * H)));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t d = 0; d < D; ++d) {
        const float* src = y.ptr() + (t * B + b) * D * H + d * H;
        const int64_t dst = batch_first ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H;
        std::copy_n(src, H, Y.f.begin() + dst);
      }
  auto state_out = [&](const Tensor<float>& s) {
    const Tensor<float> t = batch_first ? swap_first_axes(s) : s;
    return OnnxValue::floats(t.shape, t.data);
  };
  std::vector<OnnxValue> out{Y, state_out(fin.h)};
  if (lstm) out.push_back(state_out(fin.c));
  return out;
}

}  // namespace

void check_rnn_attributes(const Node& n) {
  const std::string where = n.where();
  RECUR_CHECK(n.attr_i("hidden_size", 0) > 0, where << ": hidden_size must be given and positive");
  const std::string direction = n.attr_s("direction", "forward");
  RECUR_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional",
              where << ": direction '" << direction << "'");
  RECUR_CHECK(!n.has("clip") || n.attr_f("clip", 0) > 0,
              where << ": clip must be positive, got " << n.attr_f("clip", 0));
  RECUR_CHECK(n.attr_i("input_forget", 0) == 0 || n.op == "LSTM", where << ": input_forget is an LSTM attribute");
  const int64_t layout = n.attr_i("layout", 0);
  RECUR_CHECK(layout == 0 || layout == 1, where << ": layout " << layout << " (expected 0 or 1)");
  std::vector<std::string> acts;
  if (n.has("activations")) acts = n.attrs.at("activations").strings;
  RECUR_CHECK(!n.has("activation_alpha") && !n.has("activation_beta"),
              where << ": activation_alpha/beta are not supported");
  const int dirs = direction == "bidirectional" ? 2 : 1;
  std::vector<std::string> want;
  if (n.op == "LSTM") want = {"Sigmoid", "Tanh", "Tanh"};
  if (n.op == "GRU") want = {"Sigmoid", "Tanh"};
  if (n.op == "RNN") {
    const std::string a = acts.empty() ? "Tanh" : acts[0];
    RECUR_CHECK(a == "Tanh" || a == "Relu" || a == "Sigmoid",
                where << ": activation '" << a << "' (recur's simple RNN has Tanh, Relu and Sigmoid)");
    want = {a};
  }
  if (!acts.empty()) {
    std::vector<std::string> full;
    for (int d = 0; d < dirs; ++d) full.insert(full.end(), want.begin(), want.end());
    RECUR_CHECK(acts == full, where << ": activations other than the defaults (" << want.size()
                                    << " per direction: Sigmoid for gates, Tanh) are not supported");
  }
}

std::vector<OnnxValue> lstm(const Node& n, const Inputs& in) { return run_recurrent(n, in); }
std::vector<OnnxValue> gru(const Node& n, const Inputs& in) { return run_recurrent(n, in); }
std::vector<OnnxValue> rnn(const Node& n, const Inputs& in) { return run_recurrent(n, in); }

}  // namespace recur::onnx_ops
