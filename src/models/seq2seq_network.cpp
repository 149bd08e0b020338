// Seq2Seq's encoder, decoder start and decoder step (recur/models/seq2seq.h), each with its
// backward (parameter gradients +=, activation gradients =, as src/cells/cell.h).
#include <algorithm>
#include <vector>

#include "kernels/cpu/activations.h"
#include "models/seq2seq_network.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"

namespace recur::seq2seq_net {
namespace {

// Inverted dropout: a mask of 0 and 1/(1-p) the shape of x, applied in place; empty when p = 0.
template <class T>
Tensor<T> apply_dropout(T* x, const Shape& shape, double p, Rng* rng) {
  if (p <= 0) return {};
  Tensor<T> mask(shape);
  const T keep = T(1 / (1 - p));
  for (int64_t i = 0; i < mask.numel(); ++i) {
    mask[i] = rng->uniform() >= p ? keep : T(0);
    x[i] *= mask[i];
  }
  return mask;
}

template <class T>
void scale_by(T* x, const Tensor<T>& mask) {
  for (int64_t i = 0; i < mask.numel(); ++i) x[i] *= mask[i];
}

}  // namespace

template <class T>
Memory<T> encode(const Seq2Seq<T>& m, const std::vector<int64_t>& source,
                 const std::vector<int64_t>& lengths, int64_t S, int64_t B,
                 const RnnRunOptions& opt, const Seq2SeqTraining& tr) {
  const Seq2SeqConfig& c = m.config;
  const int64_t Es = c.source_embed, De = c.encoder.output_size();
  Memory<T> mem;
  mem.S = S, mem.B = B, mem.lengths = lengths, mem.source = source;
  Tensor<T> x({S, B, Es});
  embedding_forward(x.ptr(), source.data(), m.source_embedding.ptr(), S * B, c.source_vocab, Es);
  mem.embed_mask = apply_dropout(x.ptr(), x.shape, tr.dropout, tr.rng);
  RnnState<T> fin;
  rnn_forward(mem.enc, fin, mem.cache, m.encoder, x, lengths, nullptr, opt);
  mem.summary = Tensor<T>({B, De});
  top_final_state(mem.summary.ptr(), fin, c.encoder, B);
  if (!m.w_key.empty()) {
    const int64_t A = c.key_width();
    mem.keys = Tensor<T>({S, B, A});
    linear_forward(mem.keys.ptr(), mem.enc.ptr(), m.w_key.ptr(), static_cast<const T*>(nullptr),
                   S * B, De, A);
  }
  return mem;
}

template <class T>
void encode_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem, Tensor<T>& denc,
                     const Tensor<T>& dkeys, const Tensor<T>& dsummary) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = mem.S, B = mem.B, De = c.encoder.output_size();
  if (!mem.keys.empty()) {  // keys = enc W_k^T
    Tensor<T> d({S, B, De});
    linear_backward(d.ptr(), g.w_key.ptr(), static_cast<T*>(nullptr), dkeys.ptr(), mem.enc.ptr(),
                    m.w_key.ptr(), S * B, De, c.key_width());
    for (int64_t i = 0; i < d.numel(); ++i) denc[i] += d[i];
  }
  RnnState<T> dfin;
  top_final_state_backward(dfin, dsummary.ptr(), c.encoder, B);
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, g.encoder, mem.cache, m.encoder, denc, &dfin);
  scale_by(dx.ptr(), mem.embed_mask);
  embedding_backward(g.source_embedding.ptr(), dx.ptr(), mem.source.data(), S * B, c.source_vocab,
                     c.source_embed);
}

template <class T>
DecoderState<T> decoder_start(const Seq2Seq<T>& m, const Memory<T>& mem, DecoderStart<T>& st) {
  const Seq2SeqConfig& c = m.config;
  const int64_t B = mem.B, Hd = c.decoder.hidden_size, Ld = c.decoder.num_layers;
  const int64_t De = c.encoder_width();
  DecoderState<T> s;
  s.rnn.h = Tensor<T>({Ld, B, Hd});
  if (c.decoder.has_cell_state()) s.rnn.c = Tensor<T>({Ld, B, Hd});
  if (c.has_bridge()) {
    st.bridge = Tensor<T>({B, Hd});
    linear_forward(st.bridge.ptr(), mem.summary.ptr(), m.w_bridge.ptr(), m.b_bridge.ptr(), B, De, Hd);
    cpu::tanh_inplace(st.bridge.ptr(), st.bridge.numel());
  }
  const Tensor<T>* c0 = nullptr;  // the state every decoder layer starts from
  if (c.context == ContextKind::last) c0 = &mem.summary;
  else if (c.has_bridge()) c0 = &st.bridge;
  if (c0 && c.uses_init())
    for (int64_t l = 0; l < Ld; ++l) std::copy_n(c0->ptr(), B * Hd, s.rnn.h.ptr() + l * B * Hd);
  if (!c.attention() && c.uses_input()) st.fixed = *c0;
  if (c.input_feeding()) s.feed = Tensor<T>({B, Hd});
  else if (!st.fixed.empty()) s.feed = st.fixed;
  return s;
}

template <class T>
void decoder_start_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem,
                            const DecoderStart<T>& st, const RnnState<T>& dstate,
                            const Tensor<T>& dfixed, Tensor<T>& dsummary) {
  const Seq2SeqConfig& c = m.config;
  const int64_t B = mem.B, Hd = c.decoder.hidden_size, Ld = c.decoder.num_layers;
  const int64_t De = c.encoder_width();
  Tensor<T> dc0({B, Hd});  // the gradient of the start context (last: De = Hd when used)
  bool any = false;
  if (c.uses_init() && (c.context == ContextKind::last || c.has_bridge())) {
    any = true;
    for (int64_t l = 0; l < Ld; ++l)
      for (int64_t i = 0; i < B * Hd; ++i) dc0[i] += dstate.h[l * B * Hd + i];
  }
  Tensor<T> dctx = c.context == ContextKind::last ? Tensor<T>({B, De}) : Tensor<T>();
  if (c.context == ContextKind::last) {
    if (any)
      for (int64_t i = 0; i < B * Hd; ++i) dctx[i] += dc0[i];
    if (!dfixed.empty())
      for (int64_t i = 0; i < B * De; ++i) dctx[i] += dfixed[i];
    for (int64_t i = 0; i < B * De; ++i) dsummary[i] += dctx[i];
    return;
  }
  if (!c.has_bridge()) return;
  if (!dfixed.empty())
    for (int64_t i = 0; i < B * Hd; ++i) dc0[i] += dfixed[i];
  for (int64_t i = 0; i < B * Hd; ++i) dc0[i] *= T(1) - st.bridge[i] * st.bridge[i];
  Tensor<T> d({B, De});
  linear_backward(d.ptr(), g.w_bridge.ptr(), g.b_bridge.ptr(), dc0.ptr(), mem.summary.ptr(),
                  m.w_bridge.ptr(), B, De, Hd);
  for (int64_t i = 0; i < B * De; ++i) dsummary[i] += d[i];
}

template <class T>
void decoder_step(const Seq2Seq<T>& m, const Memory<T>& mem, const std::vector<int64_t>& tokens,
                  const DecoderState<T>& in, DecoderState<T>& next, StepCache<T>& sc, T* logits,
                  const RnnRunOptions& opt, const Seq2SeqTraining& tr) {
  const Seq2SeqConfig& c = m.config;
  const int64_t B = mem.B, Hd = c.decoder.hidden_size, Ld = c.decoder.num_layers;
  const int64_t De = c.encoder_width(), Et = c.target_embed, F = c.feed_width();
  sc.tokens = tokens;
  if (c.context == ContextKind::bahdanau) {
    sc.query = Tensor<T>({B, Hd});
    std::copy_n(in.rnn.h.ptr() + (Ld - 1) * B * Hd, B * Hd, sc.query.ptr());
    attend(m, mem, sc.query.ptr(), sc.qp, sc.alpha, sc.ctx);
    sc.feed = sc.ctx;
  } else {
    sc.feed = in.feed;
  }
  Tensor<T> e({B, Et});
  embedding_forward(e.ptr(), tokens.data(), m.target_embedding.ptr(), B, c.target_vocab, Et);
  sc.embed_mask = apply_dropout(e.ptr(), e.shape, tr.dropout, tr.rng);
  Tensor<T> x({1, B, Et + F});
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(e.ptr() + b * Et, Et, x.ptr() + b * (Et + F));
    if (F) std::copy_n(sc.feed.ptr() + b * F, F, x.ptr() + b * (Et + F) + Et);
  }
  Tensor<T> y;
  rnn_forward(y, next.rnn, sc.rnn, m.decoder, x, {}, &in.rnn, opt);
  if (c.attention()) {
    if (c.context != ContextKind::bahdanau) {
      sc.query = Tensor<T>({B, Hd}, y.data);
      attend(m, mem, sc.query.ptr(), sc.qp, sc.alpha, sc.ctx);
    }
    sc.cat = Tensor<T>({B, Hd + De});
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(y.ptr() + b * Hd, Hd, sc.cat.ptr() + b * (Hd + De));
      std::copy_n(sc.ctx.ptr() + b * De, De, sc.cat.ptr() + b * (Hd + De) + Hd);
    }
    sc.out = Tensor<T>({B, Hd});
    linear_forward(sc.out.ptr(), sc.cat.ptr(), m.w_combine.ptr(), m.b_combine.ptr(), B, Hd + De, Hd);
    cpu::tanh_inplace(sc.out.ptr(), sc.out.numel());
  } else {
    sc.out = Tensor<T>({B, Hd}, std::move(y.data));
  }
  next.feed = c.input_feeding() ? sc.out : in.feed;
  const T* o = sc.out.ptr();
  if (tr.dropout > 0) {
    sc.out_dropped = sc.out;
    sc.out_mask = apply_dropout(sc.out_dropped.ptr(), sc.out.shape, tr.dropout, tr.rng);
    o = sc.out_dropped.ptr();
  }
  linear_forward(logits, o, m.w_out.ptr(), m.b_out.ptr(), B, Hd, c.target_vocab);
}

template <class T>
void decoder_step_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem,
                           const StepCache<T>& sc, const T* dlogits, RnnState<T>& dstate,
                           Tensor<T>& dfeed, Tensor<T>& dfixed, Tensor<T>& denc, Tensor<T>& dkeys) {
  const Seq2SeqConfig& c = m.config;
  const int64_t B = mem.B, Hd = c.decoder.hidden_size, Ld = c.decoder.num_layers;
  const int64_t De = c.encoder_width(), Et = c.target_embed, F = c.feed_width();
  Tensor<T> dout({B, Hd});
  linear_backward(dout.ptr(), g.w_out.ptr(), g.b_out.ptr(), dlogits,
                  sc.out_dropped.empty() ? sc.out.ptr() : sc.out_dropped.ptr(), m.w_out.ptr(), B,
                  Hd, c.target_vocab);
  scale_by(dout.ptr(), sc.out_mask);
  Tensor<T> ds({1, B, Hd}), dctx;
  if (c.attention()) {
    if (c.input_feeding())
      for (int64_t i = 0; i < B * Hd; ++i) dout[i] += dfeed[i];
    for (int64_t i = 0; i < B * Hd; ++i) dout[i] *= T(1) - sc.out[i] * sc.out[i];
    Tensor<T> dcat({B, Hd + De});
    linear_backward(dcat.ptr(), g.w_combine.ptr(), g.b_combine.ptr(), dout.ptr(), sc.cat.ptr(),
                    m.w_combine.ptr(), B, Hd + De, Hd);
    dctx = Tensor<T>({B, De});
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(dcat.ptr() + b * (Hd + De), Hd, ds.ptr() + b * Hd);
      std::copy_n(dcat.ptr() + b * (Hd + De) + Hd, De, dctx.ptr() + b * De);
    }
    if (c.context != ContextKind::bahdanau)  // dot, general: the query was s_t
      attend_backward(m, g, mem, sc.query.ptr(), sc.qp, sc.alpha, dctx.ptr(), ds.ptr(), denc, dkeys);
  } else {
    ds.data = std::move(dout.data);
  }
  Tensor<T> dx;
  RnnState<T> dinit;
  rnn_backward(dx, dinit, g.decoder, sc.rnn, m.decoder, ds, &dstate);
  dstate = std::move(dinit);
  Tensor<T> de({B, Et}), df;
  if (F) df = Tensor<T>({B, F});
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(dx.ptr() + b * (Et + F), Et, de.ptr() + b * Et);
    if (F) std::copy_n(dx.ptr() + b * (Et + F) + Et, F, df.ptr() + b * F);
  }
  scale_by(de.ptr(), sc.embed_mask);
  embedding_backward(g.target_embedding.ptr(), de.ptr(), sc.tokens.data(), B, c.target_vocab, Et);
  if (c.context == ContextKind::bahdanau) {  // the feed was c_t, attended from the start state
    for (int64_t i = 0; i < B * De; ++i) dctx[i] += df[i];
    attend_backward(m, g, mem, sc.query.ptr(), sc.qp, sc.alpha, dctx.ptr(),
                    dstate.h.ptr() + (Ld - 1) * B * Hd, denc, dkeys);
  } else if (c.input_feeding()) {
    dfeed = std::move(df);
  } else if (F) {
    for (int64_t i = 0; i < B * F; ++i) dfixed[i] += df[i];
  }
}

#define RECUR_INSTANTIATE(T)                                                                       \
  template Memory<T> encode<T>(const Seq2Seq<T>&, const std::vector<int64_t>&,                     \
      const std::vector<int64_t>&, int64_t, int64_t, const RnnRunOptions&,                         \
      const Seq2SeqTraining&);                                                                     \
  template void encode_backward<T>(const Seq2Seq<T>&, Seq2Seq<T>&, const Memory<T>&, Tensor<T>&,   \
      const Tensor<T>&, const Tensor<T>&);                                                         \
  template DecoderState<T> decoder_start<T>(const Seq2Seq<T>&, const Memory<T>&,                   \
      DecoderStart<T>&);                                                                           \
  template void decoder_start_backward<T>(const Seq2Seq<T>&, Seq2Seq<T>&, const Memory<T>&,        \
      const DecoderStart<T>&, const RnnState<T>&, const Tensor<T>&, Tensor<T>&);                   \
  template void decoder_step<T>(const Seq2Seq<T>&, const Memory<T>&, const std::vector<int64_t>&,  \
      const DecoderState<T>&, DecoderState<T>&, StepCache<T>&, T*, const RnnRunOptions&,           \
      const Seq2SeqTraining&);                                                                     \
  template void decoder_step_backward<T>(const Seq2Seq<T>&, Seq2Seq<T>&, const Memory<T>&,         \
      const StepCache<T>&, const T*, RnnState<T>&, Tensor<T>&, Tensor<T>&, Tensor<T>&,             \
      Tensor<T>&);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur::seq2seq_net
