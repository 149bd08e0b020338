// Initialisation schemes for recurrent layers: PyTorch's uniform, orthogonal recurrent blocks, and
// the IRNN identity (see recur/layers/rnn.h).
#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/layers/rnn.h"
#include "recur/train/init.h"

namespace recur {

constexpr EnumNames<RecurrentInit, 3> kRecurrentInitNames{
    {{RecurrentInit::uniform, "uniform"},
     {RecurrentInit::orthogonal, "orthogonal"},
     {RecurrentInit::identity, "identity"}}};

const char* recurrent_init_name(RecurrentInit scheme) {
  return enum_name(kRecurrentInitNames, scheme);
}
RecurrentInit parse_recurrent_init(const std::string& name) {
  return parse_enum(kRecurrentInitNames, name, "initialisation");
}

namespace {
// A residual layer h = h_prev + alpha f(W_hh h_prev + ...) starts with W_hh - I: the -I pulls a
// growing state back toward zero (the diffusion term of AntisymmetricRNN, Chang et al. 2019), so a
// state carried over a long stream cannot drift without bound as a bare sum of f's would.
template <class T>
void damp_residual(RnnParams<T>& p) {
  if (!p.config.residual) return;
  const int64_t H = p.config.hidden_size;
  for (RnnCellParams<T>& c : p.cells)
    for (int64_t j = 0; j < H; ++j) c.w_hh[j * H + j] -= T(1);
}
}  // namespace

template <class T>
void init_rnn(RnnParams<T>& p, Rng& rng, RecurrentInit scheme, double identity_scale) {
  if (!p.above.empty()) {  // a mixed stack: each segment in turn, bottom first
    std::vector<RnnParams<T>> above = std::move(p.above);
    p.above.clear();
    init_rnn(p, rng, scheme, identity_scale);
    for (RnnParams<T>& s : above) init_rnn(s, rng, scheme, identity_scale);
    p.above = std::move(above);
    return;
  }
  init_rnn_uniform(p, rng);
  if (scheme == RecurrentInit::uniform) return damp_residual(p);
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
  damp_residual(p);
}

template void init_rnn<float>(RnnParams<float>&, Rng&, RecurrentInit, double);
template void init_rnn<double>(RnnParams<double>&, Rng&, RecurrentInit, double);

}  // namespace recur
