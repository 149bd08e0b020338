// The simple RNN's activation f (tanh, ReLU, sigmoid, identity) and its derivative read off v = f(u), which
// the plain (rnn.cpp) and the layer-normalised (ln_rnn.cpp) cells share.
#pragma once

#include <cmath>

#include "recur/layers/rnn.h"

namespace recur::cells {

template <class T>
T rnn_activate(CellKind kind, T u) {
  switch (kind) {
    case CellKind::rnn_relu: return u > T(0) ? u : T(0);
    case CellKind::rnn_sigmoid: return T(1) / (T(1) + std::exp(-u));
    case CellKind::rnn_linear: return u;
    default: return std::tanh(u);
  }
}

// f'(u) expressed through v = f(u).
template <class T>
T rnn_activation_grad(CellKind kind, T v) {
  switch (kind) {
    case CellKind::rnn_relu: return v > T(0) ? T(1) : T(0);
    case CellKind::rnn_sigmoid: return v * (T(1) - v);
    case CellKind::rnn_linear: return T(1);
    default: return T(1) - v * v;
  }
}

}  // namespace recur::cells
