// Initialisation schemes for recurrent layers: PyTorch's uniform, orthogonal recurrent blocks, and
// the IRNN identity (see recur/layers/rnn.h).
#include <cmath>

#include "recur/layers/rnn.h"
#include "recur/train/init.h"

namespace recur {

const char* recurrent_init_name(RecurrentInit scheme) {
  switch (scheme) {
    case RecurrentInit::uniform: return "uniform";
    case RecurrentInit::orthogonal: return "orthogonal";
    case RecurrentInit::identity: return "identity";
  }
  return "?";
}

RecurrentInit parse_recurrent_init(const std::string& name) {
  for (RecurrentInit s : {RecurrentInit::uniform, RecurrentInit::orthogonal, RecurrentInit::identity})
    if (name == recurrent_init_name(s)) return s;
  RECUR_FAIL("unknown initialisation '" << name << "'; expected uniform, orthogonal or identity");
}

template <class T>
void init_rnn(RnnParams<T>& p, Rng& rng, RecurrentInit scheme, double identity_scale) {
  init_rnn_uniform(p, rng);
  if (scheme == RecurrentInit::uniform) return;
  const RnnConfig& cfg = p.config;
  const int64_t H = cfg.hidden_size, G = cfg.gates();
  for (RnnCellParams<T>& c : p.cells) {
    c.b_ih.fill(T(0));
    c.b_hh.fill(T(0));
    for (int64_t gate = 0; gate < G; ++gate) {
      Tensor<T> block({H, H});
      if (scheme == RecurrentInit::orthogonal)
        init_orthogonal(block, rng);
      else
        init_identity(block, T(identity_scale));
      std::copy_n(block.ptr(), H * H, c.w_hh.ptr() + gate * H * H);
    }
    if (scheme == RecurrentInit::identity)
      for (auto& v : c.w_ih.data) v = T(0.001 * rng.normal());
    if (cfg.cell == CellKind::lstm && scheme == RecurrentInit::orthogonal)
      for (int64_t j = 0; j < H; ++j) c.b_ih[H + j] = T(1);  // forget gate open
  }
}

template void init_rnn<float>(RnnParams<float>&, Rng&, RecurrentInit, double);
template void init_rnn<double>(RnnParams<double>&, Rng&, RecurrentInit, double);

}  // namespace recur
