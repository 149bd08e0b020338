// The packed step products of an rnn_forward, kept from one call to the next by PreparedRnn
// (src/layers/rnn.cpp builds them; a plain rnn_forward builds them for its call alone), and the
// unit split of an inference forward (src/layers/rnn_unit_split.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "cells/cell.h"

namespace recur {

// One thread's units [j0, j1) of a layer and direction in the unit split, with their rows of W_hh
// packed for the step products of the whole batch.
template <class T>
struct UnitSliceWeights {
  int64_t j0 = 0, j1 = 0;
  RnnConfig cfg;  // hidden_size = j1 - j0: the cell's pointwise maths over this slice
  cells::StepWeights<T> w;
  // PreparedRnn: the slice's input projection on its rows of W_ih packed once (see DirPacks).
  cpu::PackedGemm<T> projection;
  int64_t projection_rows = 0;
};

// One layer and direction: the row split's products, or the unit split's slices.
template <class T>
struct DirPacks {
  cells::StepWeights<T> rows;
  bool rows_packed = false;
  // PreparedRnn's input projection x W_ih^T (+ b_ih unless the cell folds it) on W_ih packed once,
  // for T*B = projection_rows rows (built again when that changes).
  cpu::PackedGemm<T> projection;
  int64_t projection_rows = 0;
  std::vector<UnitSliceWeights<T>> slices;
};

// Every layer and direction, for one batch size, row-block count, thread budget and precision.
template <class T>
struct ForwardPacks {
  int64_t batch = -1;
  int blocks = 0, threads = 0;
  Precision precision = Precision::fp32;
  std::vector<DirPacks<T>> dirs;  // l * D + d
};

// How many threads an inference forward splits the units of each layer between (0: split the
// rows). packs_pay: the sequence is long enough to pack for, or the packs are kept; kept: by
// PreparedRnn, whose slices keep their projections packed.
template <class T>
int unit_split_threads(const RnnConfig& cfg, const RnnRunOptions& opt, bool packs_pay, int64_t B);

// The unit slices of one layer and direction, their rows of W_hh packed for B rows.
template <class T>
std::vector<UnitSliceWeights<T>> pack_unit_slices(const RnnCellParams<T>& p, const RnnConfig& cfg,
                                                  const cells::CellOps<T>& ops, int64_t B, int P,
                                                  Precision precision);

// One layer and direction of an inference forward on unit slices: y's columns of direction d and
// the states in dc's two slots; the input projection into xw, slice after slice (with `kept`, on
// each slice's packed W_ih rows). h_new, c_new: the caller's (B,H) workspaces for padded steps.
template <class T>
void forward_unit_split(Tensor<T>& y, RnnDirCache<T>& dc, Tensor<T>& xw, Tensor<T>& scratch,
                        Tensor<T>& h_new, Tensor<T>& c_new, const RnnCellParams<T>& p, const RnnConfig& cfg,
                        const cells::CellOps<T>& ops, const T* input, int64_t in, int64_t Ts,
                        int64_t B, const std::vector<int64_t>& len, int d,
                        std::vector<UnitSliceWeights<T>>& slices, bool kept, Precision precision);

}  // namespace recur
