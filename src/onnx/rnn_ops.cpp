// ONNX's LSTM, GRU and RNN ops on recur's layer. ONNX orders the gates i,o,f,c (LSTM) and z,r,h
// (GRU) where recur (as PyTorch) has i,f,g,o and r,z,n; its peepholes are (i, o, f) against
// recur's (i, f, o); its bias B is [Wb; Rb]. GRU linear_before_reset = 1 is recur's reset_after, 0
// its reset_before. direction "reverse" runs the forward layer on each sequence reversed within
// its length. layout 1 is batch-first. What recur's cells do not have (clip, input_forget, other
// activations) is refused at load time.
#include <algorithm>

#include "onnx/ops.h"
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

std::vector<OnnxValue> run_recurrent(const Node& n, const Inputs& in) {
  const Spec s = spec_of(n);
  const bool lstm = s.cell == CellKind::lstm;
  const std::string direction = n.attr_s("direction", "forward");
  const bool bidir = direction == "bidirectional", reverse = direction == "reverse";
  const int64_t D = bidir ? 2 : 1, H = n.attr_i("hidden_size", 0), G = s.gates;
  const bool batch_first = n.attr_i("layout", 0) == 1;

  Tensor<float> x = as_tensor(need(n, in, 0), n, "X");
  RECUR_CHECK(x.rank() == 3, n.op << " input X must have rank 3, got " << x.shape_string());
  if (batch_first) {  // (B,T,I) -> (T,B,I)
    Tensor<float> t({x.dim(1), x.dim(0), x.dim(2)});
    for (int64_t b = 0; b < x.dim(0); ++b)
      for (int64_t k = 0; k < x.dim(1); ++k)
        std::copy_n(x.ptr() + (b * x.dim(1) + k) * x.dim(2), x.dim(2), t.ptr() + (k * x.dim(0) + b) * x.dim(2));
    x = std::move(t);
  }
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
      Tensor<float> u({D, B, H});
      for (int64_t b = 0; b < B; ++b)
        for (int64_t d = 0; d < D; ++d) std::copy_n(t.ptr() + (b * D + d) * H, H, u.ptr() + (d * B + b) * H);
      return u;
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
  if (reverse) x = reverse_within_lengths(x, lengths);
  Tensor<float> y;
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, p, x, lengths, has_init ? &init : nullptr);
  if (reverse) y = reverse_within_lengths(y, lengths);

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
    OnnxValue v = OnnxValue::floats(batch_first ? Shape{B, D, H} : Shape{D, B, H}, std::vector<float>(size_t(D * B * H)));
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(s.ptr() + (d * B + b) * H, H, v.f.begin() + (batch_first ? (b * D + d) * H : (d * B + b) * H));
    return v;
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
  RECUR_CHECK(!n.has("clip"), where << ": the attribute clip (clipping the gates' inputs) is not supported: "
                                       "recur's cells do not clip");
  RECUR_CHECK(n.attr_i("input_forget", 0) == 0,
              where << ": input_forget = 1 (coupled input and forget gates) is not supported");
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
