// The contract between a recurrent cell (src/cells/<cell>.cpp) and the one time loop
// (src/layers/rnn.cpp). A cell knows one step of its maths, forward and backward; the loop knows
// time, directions, lengths, stacking and dropout.
//
// Key: B = batch, H = hidden size, G = gates, W = per-step values a cell caches (cache_width).
// Per step the loop hands the cell the input projection of that step (x W_ih^T + b_ih, computed for
// all steps by one GEMM) and the previous state; the cell adds the recurrent GEMM and its fused
// pointwise kernel. Backward returns the gradient of the gates' pre-activations (dg_ih for the
// input side, dg_hh for the recurrent side; they differ only where the cell scales the recurrent
// term, as the GRU does) and the gradient into the previous state.
//
// Accumulation rule (everywhere in recur): parameter gradients accumulate (+=), activation
// gradients are assigned (=).
#pragma once

#include <cstdint>

#include <vector>

#include "kernels/cpu/packed_gemm.h"
#include "kernels/cpu/parallel.h"
#include "recur/layers/rnn.h"

namespace recur::cells {

// The recurrent weights of one direction, packed once per sequence for the step products
// (kernels/cpu/packed_gemm.h): forward h_prev -> recurrent pre-activations (with b_hh), backward
// dG -> dh_prev. A cell whose step multiplies by parts of W_hh (the reset-before GRU) uses both.
template <class T>
struct StepWeights {
  cpu::PackedGemm<T> main, extra;
  std::vector<T> bias;       // the forward products' biases where the cell folds b_ih into them
  std::vector<T> cell_bias;  // what the cell's pointwise step adds itself (the reset-after GRU's
                             // b_in, which r must not scale); empty for most cells
};

template <class T>
struct StepForward {
  const T* xw;      // (B,G*H) input projection of this step, with b_ih unless the cell folds it
  const T* h_prev;  // (B,H)
  const T* c_prev;  // (B,H) LSTM only
  T* h;             // (B,H) out
  T* c;             // (B,H) out, LSTM only
  T* cache;         // (B,W) out
  T* scratch;       // (B,G*H) workspace
  const StepWeights<T>* w;  // packed for the forward pass
  int block;                // which row block of the loop this is (its prepared products)
  // When a step is split by units (RnnStream's unit split): h_prev, c_prev, h, c and the cache
  // cover this slice of the units, and the recurrent product reads the whole previous state here.
  const T* h_prev_all = nullptr;
  // The row stride of h_prev, c_prev, h and c where a slice of the units of a batch is run (the
  // unit split of an inference forward; only the fused float LSTM and reset-after GRU kernels take
  // it). 0: the cell's hidden size.
  int64_t ld = 0;
  // False when no backward reads this step's cache (inference): a cell may leave it unwritten, or
  // use it as a workspace.
  bool keep_cache = true;
  // The next step's xw for the same rows, or null: the fused kernels prefetch it into L2 while
  // they read this step's (a whole sequence's projection is larger than the cache).
  const T* xw_next = nullptr;

  // What the recurrent product multiplies: the whole previous state.
  const T* product_input() const { return h_prev_all ? h_prev_all : h_prev; }
};

template <class T>
struct StepBackward {
  const T* dh;      // (B,H) gradient w.r.t. this step's new h (zero rows where the step was padding)
  const T* dc;      // (B,H) gradient w.r.t. the new c, LSTM only
  const T* h_prev;  // (B,H)
  const T* c_prev;  // (B,H) LSTM only
  const T* h;       // (B,H) this step's new h
  const T* c;       // (B,H) this step's new c, LSTM only
  const T* cache;   // (B,W) what forward kept
  T* dg_ih;         // (B,G*H) out: d loss / d (input-side pre-activation)
  T* dg_hh;         // (B,G*H) out: d loss / d (recurrent-side pre-activation, incl. b_hh);
                    // the same buffer as dg_ih unless CellOps::hh_grads_differ
  T* dh_prev;       // (B,H) out
  T* dc_prev;       // (B,H) out, LSTM only
  T* dunit;         // accumulated gradient of the cell's per-unit parameters (unit_params_size):
                    // LSTM peepholes (3H), a simple RNN's learned leak logits (H); else null
  T* scratch;       // (B,G*H) workspace
  const StepWeights<T>* w;  // packed for the backward pass
  int block;
};

// How a cell prepares its step products: packed, or in place for a sequence too short to repay
// the packing (cpu::PackedGemm); and the precision of their operands.
struct PackMode {
  bool packed = true;
  Precision precision = Precision::fp32;
};

// One cell's operations. Plain function pointers: a debugger steps straight into them.
template <class T>
struct CellOps {
  int64_t (*cache_width)(const RnnConfig& cfg);
  // Prepares W_hh for the forward or the backward steps of row blocks of the given sizes.
  void (*pack)(StepWeights<T>& w, const RnnCellParams<T>& p, const RnnConfig& cfg, bool backward,
               const std::vector<int64_t>& block_rows, PackMode mode);
  // Whether dg_hh can differ from dg_ih (the reset-after GRU scales the recurrent n term by r).
  // When it cannot, the loop passes one buffer as both and the cell writes each value once.
  bool (*hh_grads_differ)(const RnnConfig& cfg);
  void (*forward_step)(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                       int64_t B);
  void (*backward_step)(const StepBackward<T>& s, const RnnCellParams<T>& p,
                        const RnnConfig& cfg, int64_t B);
  // After the time loop: dW_hh += dG_hh^T @ (recurrent input of each step), db_hh += sum dG_hh.
  // N = T*B rows; h_prev (N,H) is the state each step started from; cache (N,W).
  void (*hh_weight_grads)(RnnCellParams<T>& grads, const T* dg_hh, const T* h_prev,
                          const T* cache, const RnnConfig& cfg, int64_t N, Precision precision);
  // Where the cell folds b_ih into its forward step products, so that the input projection xw
  // leaves it out (one pass less over xw, and its GEMM does not read it first): from b_ih and b_hh
  // ((G*H) each, H = cfg.hidden_size: a whole layer or a unit slice's rows), the products' bias
  // (G*H) and the bias the pointwise step adds itself (StepWeights::cell_bias, or left empty).
  // Null: xw keeps b_ih. pack calls it; so does the layer's unit split for its slices.
  void (*fold_input_bias)(const T* b_ih, const T* b_hh, const RnnConfig& cfg, T* product_bias,
                          std::vector<T>& cell_bias) = nullptr;
};

// The fold of the cells whose pre-activation is the plain sum xw + h W_hh^T (the LSTM, the simple
// RNN): the products add b_ih + b_hh.
template <class T>
void fold_sum(const T* b_ih, const T* b_hh, const RnnConfig& cfg, T* product_bias,
              std::vector<T>& cell_bias) {
  for (int64_t j = 0; j < cfg.gates() * cfg.hidden_size; ++j) product_bias[j] = b_ih[j] + b_hh[j];
  cell_bias.clear();
}

inline bool hh_grads_same(const RnnConfig&) { return false; }

template <class T> CellOps<T> rnn_ops();
template <class T> CellOps<T> lstm_ops();
template <class T> CellOps<T> gru_ops();
template <class T> CellOps<T> ln_lstm_ops();  // layer-normalised (RnnConfig::layer_norm)
template <class T> CellOps<T> ln_gru_ops();
template <class T> CellOps<T> ln_rnn_ops();

// How many per-unit parameters the cell has beside its weights and biases (StepBackward::dunit),
// and which tensor holds them.
inline int64_t unit_params_size(const RnnConfig& cfg) {
  if (cfg.layer_norm) return cfg.layer_norm_size();
  return cfg.peephole ? 3 * cfg.hidden_size : cfg.learn_leak ? cfg.hidden_size : 0;
}
template <class T>
Tensor<T>* unit_params(RnnCellParams<T>& p, const RnnConfig& cfg) {
  if (cfg.layer_norm) return &p.ln;
  return cfg.peephole ? &p.w_peep : cfg.learn_leak ? &p.leak : nullptr;
}

// The operations of cfg.cell: the one place a cell kind picks its file.
template <class T>
CellOps<T> ops_for(const RnnConfig& cfg) {
  switch (cfg.cell) {
    case CellKind::lstm: return cfg.layer_norm ? ln_lstm_ops<T>() : lstm_ops<T>();
    case CellKind::gru: return cfg.layer_norm ? ln_gru_ops<T>() : gru_ops<T>();
    default: return cfg.layer_norm ? ln_rnn_ops<T>() : rnn_ops<T>();
  }
}

// The common packing: forward main = W_hh^T with b_hh (all G*H columns; b_ih + b_hh when
// FoldInputBias, the cell's fold being fold_sum), backward main = W_hh (dG (B,G*H) ->
// dh_prev (B,H)), assigning or, for cells that add other terms first, accumulating.
template <class T, bool AccumulateBackward, bool FoldInputBias = false>
void pack_plain(StepWeights<T>& w, const RnnCellParams<T>& p, const RnnConfig& cfg, bool backward,
                const std::vector<int64_t>& block_rows, PackMode mode) {
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H;
  const T* bias = p.b_hh.ptr();
  if (FoldInputBias && !backward) {
    w.bias.resize(size_t(GH));
    fold_sum(p.b_ih.ptr(), p.b_hh.ptr(), cfg, w.bias.data(), w.cell_bias);
    bias = w.bias.data();
  }
  if (!backward)
    w.main = cpu::PackedGemm<T>(
        {p.w_hh.ptr(), H, true, H, GH, bias, H, GH, false, mode.precision}, block_rows,
        mode.packed);
  else
    w.main = cpu::PackedGemm<T>(
        {p.w_hh.ptr(), H, false, GH, H, nullptr, GH, H, AccumulateBackward, mode.precision},
        block_rows, mode.packed);
}

// The common recurrent-weight gradient: dW_hh += dG^T h_prev, db_hh += column sums of dG.
template <class T>
void hh_weight_grads_plain(RnnCellParams<T>& grads, const T* dg_hh, const T* h_prev,
                           const T* cache, const RnnConfig& cfg, int64_t N, Precision precision);

// Rows g*H + [j0, j1) of a (G*H, cols) matrix (or a (G*H) vector) for every gate g, stacked:
// (G*(j1-j0), cols). A unit split's share of a weight or bias.
template <class T>
Tensor<T> gate_rows(const Tensor<T>& w, int G, int64_t H, int64_t j0, int64_t j1) {
  const int64_t cols = w.numel() / (G * H), n = j1 - j0;
  Tensor<T> out(cols == 1 ? Shape{G * n} : Shape{G * n, cols});
  for (int g = 0; g < G; ++g)
    std::copy_n(w.ptr() + (g * H + j0) * cols, n * cols, out.ptr() + g * n * cols);
  return out;
}

// Below this many elements the bias loops stay on one thread.
inline constexpr int64_t kParallelElements = int64_t(1) << 15;

// rows(B, n) of `bias` broadcast into out (B, n) with leading dimension ld.
template <class T>
inline void broadcast_rows(T* out, const T* bias, int64_t B, int64_t n, int64_t ld) {
  const int blocks = B * n >= kParallelElements ? cpu::row_blocks(B) : 1;
  cpu::for_row_blocks(blocks, B, [&](int, int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for (int64_t j = 0; j < n; ++j) out[b * ld + j] = bias[j];
  });
}

// out[j] += sum over rows of x (N, n) with leading dimension ld. Threads split the columns.
template <class T>
inline void add_column_sums(T* out, const T* x, int64_t N, int64_t n, int64_t ld) {
  const int blocks = N * n >= kParallelElements ? cpu::row_blocks(n) : 1;
  cpu::for_row_blocks(blocks, n, [&](int, int64_t j0, int64_t j1) {
    for (int64_t r = 0; r < N; ++r)
      for (int64_t j = j0; j < j1; ++j) out[j] += x[r * ld + j];
  });
}

}  // namespace recur::cells
