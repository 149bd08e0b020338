// Seq2Seq: the encoder, the decoder step with its context (fixed or attention), forward and
// backward side by side, the training batch with scheduled sampling, greedy and beam decoding.
// Parameters +=, activations = (see src/cells/cell.h).
#include "recur/models/seq2seq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "cells/cell.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/parallel.h"
#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"

namespace recur {

ContextKind parse_context_kind(const std::string& name) {
  if (name == "last") return ContextKind::last;
  if (name == "bridge") return ContextKind::bridge;
  if (name == "bahdanau") return ContextKind::bahdanau;
  if (name == "dot") return ContextKind::dot;
  if (name == "general") return ContextKind::general;
  RECUR_FAIL("unknown context '" << name << "' (expected last, bridge, bahdanau, dot or general)");
}

const char* context_kind_name(ContextKind k) {
  switch (k) {
    case ContextKind::last: return "last";
    case ContextKind::bridge: return "bridge";
    case ContextKind::bahdanau: return "bahdanau";
    case ContextKind::dot: return "dot";
    case ContextKind::general: return "general";
  }
  return "?";
}

ContextUse parse_context_use(const std::string& name) {
  if (name == "init") return ContextUse::init;
  if (name == "input") return ContextUse::input;
  if (name == "both") return ContextUse::both;
  RECUR_FAIL("unknown context use '" << name << "' (expected init, input or both)");
}

const char* context_use_name(ContextUse u) {
  switch (u) {
    case ContextUse::init: return "init";
    case ContextUse::input: return "input";
    case ContextUse::both: return "both";
  }
  return "?";
}

int64_t Seq2SeqConfig::key_width() const {
  switch (context) {
    case ContextKind::bahdanau: return attention_size;
    case ContextKind::general: return decoder.hidden_size;
    case ContextKind::dot: return encoder_width();
    default: return 0;
  }
}

int64_t Seq2SeqConfig::feed_width() const {
  switch (context) {
    case ContextKind::last: return uses_input() ? encoder_width() : 0;
    case ContextKind::bridge: return uses_input() ? decoder.hidden_size : 0;
    case ContextKind::bahdanau: return encoder_width();
    default: return decoder.hidden_size;  // dot, general: the previous attentional output
  }
}

double parameter_count(const Seq2SeqConfig& c) {
  // In double: encoder_width() and key_width() multiply in int64. Mirrors the constructor.
  const double Vt = double(c.target_vocab), Hd = double(c.decoder.hidden_size);
  const double De = double(c.encoder.output_size());
  const double A = c.context == ContextKind::bahdanau  ? double(c.attention_size)
                   : c.context == ContextKind::general ? Hd
                                                     : De;
  double n = double(c.source_vocab) * double(c.source_embed) + Vt * double(c.target_embed) +
             parameter_count(c.encoder) + parameter_count(c.decoder) + Vt * Hd + Vt;
  if (c.has_bridge()) n += Hd * De + Hd;
  if (c.context == ContextKind::bahdanau || c.context == ContextKind::general) n += A * De;
  if (c.context == ContextKind::bahdanau) n += A * Hd + A;
  if (c.attention()) n += Hd * (Hd + De) + Hd;
  return n;
}

void Seq2SeqConfig::validate() const {
  RECUR_CHECK(source_vocab >= 1, "a seq2seq model needs a source vocabulary");
  RECUR_CHECK(target_vocab >= 3, "a seq2seq model needs target tokens beside <s> and </s>");
  RECUR_CHECK(source_embed > 0 && target_embed > 0, "embedding sizes must be positive");
  RECUR_CHECK(!decoder.bidirectional, "the decoder writes left to right: it cannot be bidirectional");
  RECUR_CHECK(encoder.input_size == source_embed, "encoder input_size " << encoder.input_size
                                                      << " must be the source embedding size "
                                                      << source_embed);
  RECUR_CHECK(decoder.input_size == target_embed + feed_width(),
              "decoder input_size " << decoder.input_size << " must be the target embedding plus the "
                                    << context_kind_name(context) << " context ("
                                    << target_embed + feed_width() << ")");
  RECUR_CHECK(!attention() || use != ContextUse::init,
              "an attention context enters the decoder as input at every step: use 'input' (decoder "
              "starts from zeros) or 'both' (starts from the bridge g(h_N)), not 'init'");
  RECUR_CHECK(context != ContextKind::last || !uses_init() || encoder_width() == decoder.hidden_size,
              "context 'last' as the decoder's initial state needs the encoder's final state ("
                  << encoder_width() << " wide) to be the decoder's size (" << decoder.hidden_size
                  << "); use --context bridge or --context-use input");
  RECUR_CHECK(context != ContextKind::dot || encoder_width() == decoder.hidden_size,
              "dot attention needs encoder outputs (" << encoder_width()
                  << " wide) the decoder's size (" << decoder.hidden_size
                  << "); use --attention general or bahdanau");
  RECUR_CHECK(context != ContextKind::bahdanau || attention_size > 0,
              "bahdanau attention needs a positive attention size");
  encoder.validate();
  decoder.validate();
}

namespace {
std::map<std::string, std::string> with_prefix(const std::map<std::string, std::string>& m,
                                               const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m) out[prefix + k] = v;
  return out;
}
std::map<std::string, std::string> strip_prefix(const std::map<std::string, std::string>& m,
                                                const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}
}  // namespace

std::map<std::string, std::string> Seq2SeqConfig::to_metadata() const {
  auto m = with_prefix(encoder.to_metadata(), "encoder.");
  for (const auto& [k, v] : with_prefix(decoder.to_metadata(), "decoder.")) m[k] = v;
  m["source_vocab"] = std::to_string(source_vocab);
  m["target_vocab"] = std::to_string(target_vocab);
  m["source_embed"] = std::to_string(source_embed);
  m["target_embed"] = std::to_string(target_embed);
  m["context"] = context_kind_name(context);
  m["context_use"] = context_use_name(use);
  m["attention_size"] = std::to_string(attention_size);
  return m;
}

Seq2SeqConfig Seq2SeqConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  Seq2SeqConfig c;
  c.encoder = RnnConfig::from_metadata(strip_prefix(meta, "encoder."));
  c.decoder = RnnConfig::from_metadata(strip_prefix(meta, "decoder."));
  c.source_vocab = metadata_int(meta, "source_vocab", "seq2seq");
  c.target_vocab = metadata_int(meta, "target_vocab", "seq2seq");
  c.source_embed = metadata_int(meta, "source_embed", "seq2seq");
  c.target_embed = metadata_int(meta, "target_embed", "seq2seq");
  c.context = parse_context_kind(metadata_string(meta, "context", "seq2seq"));
  c.use = parse_context_use(metadata_string(meta, "context_use", "seq2seq"));
  c.attention_size = metadata_int(meta, "attention_size", "seq2seq");
  c.validate();
  return c;
}

template <class T>
Seq2Seq<T>::Seq2Seq(const Seq2SeqConfig& cfg)
    : config(cfg),
      source_embedding({cfg.source_vocab, cfg.source_embed}),
      target_embedding({cfg.target_vocab, cfg.target_embed}),
      encoder(cfg.encoder),
      decoder(cfg.decoder),
      w_out({cfg.target_vocab, cfg.decoder.hidden_size}),
      b_out({cfg.target_vocab}) {
  cfg.validate();
  const int64_t Hd = cfg.decoder.hidden_size, De = cfg.encoder_width(), A = cfg.key_width();
  if (cfg.has_bridge()) {
    w_bridge = Tensor<T>({Hd, De});
    b_bridge = Tensor<T>({Hd});
  }
  if (cfg.context == ContextKind::bahdanau || cfg.context == ContextKind::general)
    w_key = Tensor<T>({A, De});
  if (cfg.context == ContextKind::bahdanau) {
    w_query = Tensor<T>({A, Hd});
    v_attention = Tensor<T>({A});
  }
  if (cfg.attention()) {
    w_combine = Tensor<T>({Hd, Hd + De});
    b_combine = Tensor<T>({Hd});
  }
}

template <class T>
void init_seq2seq(Seq2Seq<T>& m, Rng& rng, RecurrentInit scheme) {
  for (auto& v : m.source_embedding.data) v = T(rng.normal());
  for (auto& v : m.target_embedding.data) v = T(rng.normal());
  init_rnn(m.encoder, rng, scheme);
  init_rnn(m.decoder, rng, scheme);
  if (!m.w_bridge.empty()) init_linear_uniform(m.w_bridge, m.b_bridge, rng);
  auto uniform = [&](Tensor<T>& w, int64_t fan_in) {
    const double a = 1.0 / std::sqrt(double(fan_in));
    for (auto& v : w.data) v = T(rng.uniform(-a, a));
  };
  if (!m.w_key.empty()) uniform(m.w_key, m.w_key.dim(1));
  if (!m.w_query.empty()) {
    uniform(m.w_query, m.w_query.dim(1));
    uniform(m.v_attention, m.v_attention.dim(0));
  }
  if (!m.w_combine.empty()) init_linear_uniform(m.w_combine, m.b_combine, rng);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

namespace {
// The sources as one padded, time-major (S,B) block of ids (padding 0) with their lengths.
void pad_sources(const std::vector<const std::vector<int64_t>*>& sources, int64_t& steps,
                 std::vector<int64_t>& ids, std::vector<int64_t>& lengths) {
  const size_t B = sources.size();
  steps = 0;
  lengths.clear();
  for (size_t s = 0; s < B; ++s) {
    RECUR_CHECK(!sources[s]->empty(), "source " << s << " of the batch is empty");
    steps = std::max(steps, int64_t(sources[s]->size()));
    lengths.push_back(int64_t(sources[s]->size()));
  }
  ids.assign(size_t(steps) * B, 0);
  for (size_t s = 0; s < B; ++s)
    for (size_t i = 0; i < sources[s]->size(); ++i) ids[i * B + s] = (*sources[s])[i];
}
}  // namespace

Seq2SeqBatch make_seq2seq_batch(const std::vector<const std::vector<int64_t>*>& sources,
                                const std::vector<const std::vector<int64_t>*>& targets) {
  RECUR_CHECK(!sources.empty() && sources.size() == targets.size(),
              "a seq2seq batch needs one target per source (" << sources.size() << " sources, "
                                                              << targets.size() << " targets)");
  Seq2SeqBatch b;
  b.batch = int64_t(sources.size());
  pad_sources(sources, b.source_steps, b.source, b.source_lengths);
  for (const auto* t : targets) b.target_steps = std::max(b.target_steps, int64_t(t->size()) + 1);
  const int64_t B = b.batch;
  b.inputs.assign(size_t(b.target_steps * B), Seq2SeqConfig::kEos);
  b.targets.assign(size_t(b.target_steps * B), -1);
  for (int64_t s = 0; s < B; ++s) {
    const std::vector<int64_t>& tgt = *targets[size_t(s)];
    const int64_t n = int64_t(tgt.size());
    for (int64_t t = 0; t <= n; ++t) {
      const size_t at = size_t(t * B + s);
      b.inputs[at] = t == 0 ? Seq2SeqConfig::kBos : tgt[size_t(t - 1)];
      b.targets[at] = t < n ? tgt[size_t(t)] : Seq2SeqConfig::kEos;
      RECUR_CHECK(t == n || tgt[size_t(t)] >= 2,
                  "target " << s << " of the batch holds id " << tgt[size_t(t)]
                            << " (0 and 1 are <s> and </s>)");
    }
  }
  return b;
}

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

// ---- The encoder ----

template <class T>
struct Memory {
  int64_t S = 0, B = 0;
  std::vector<int64_t> lengths;
  std::vector<int64_t> source;  // (S,B) ids
  Tensor<T> enc;                // (S,B,De) encoder outputs, zero past each length
  Tensor<T> keys;               // (S,B,A) W_k h_i (bahdanau, general); empty: the keys are enc
  Tensor<T> summary;            // (B,De) h_N
  Tensor<T> embed_mask;         // (S,B,Es) dropout, or empty
  RnnCache<T> cache;
  const T* key_ptr() const { return keys.empty() ? enc.ptr() : keys.ptr(); }
};

template <class T>
Memory<T> encode(const Seq2Seq<T>& m, const std::vector<int64_t>& source,
                 const std::vector<int64_t>& lengths, int64_t S, int64_t B,
                 const RnnRunOptions& opt, const Seq2SeqTraining& tr = {}) {
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

// The encoder's backward, given the gradients of its outputs (denc) and of h_N (dsummary).
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

// ---- Attention ----

// For queries q (B,Hd): scores over each row's source positions, alpha (B,S) (zero past the
// length) and the context ctx (B,De). Bahdanau also keeps the projected query qp (B,A). Threads
// split the rows.
template <class T>
void attend(const Seq2Seq<T>& m, const Memory<T>& mem, const T* q, Tensor<T>& qp, Tensor<T>& alpha,
            Tensor<T>& ctx) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = mem.S, B = mem.B, De = c.encoder_width(), A = c.key_width();
  const int64_t Hd = c.decoder.hidden_size;
  const bool additive = c.context == ContextKind::bahdanau;
  alpha = Tensor<T>({B, S});
  ctx = Tensor<T>({B, De});
  if (additive) {
    qp = Tensor<T>({B, A});
    linear_forward(qp.ptr(), q, m.w_query.ptr(), static_cast<const T*>(nullptr), B, Hd, A);
  }
  const T* K = mem.key_ptr();
  const T* v = m.v_attention.ptr();
  const int blocks = B * S * A >= cells::kParallelElements ? cpu::row_blocks(B) : 1;
  cpu::for_row_blocks(blocks, B, [&](int, int64_t b0, int64_t b1) {
    std::vector<T> u(static_cast<size_t>(additive ? S * A : 0));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t len = mem.lengths[size_t(b)];
      T* a = alpha.ptr() + b * S;
      if (additive) {  // e_i = v . tanh(qp + k_i)
        const T* p = qp.ptr() + b * A;
        for (int64_t i = 0; i < len; ++i) {
          const T* k = K + (i * B + b) * A;
          T* ui = u.data() + i * A;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) ui[j] = p[j] + k[j];
        }
        cpu::tanh_inplace(u.data(), len * A);
        for (int64_t i = 0; i < len; ++i) {
          const T* ui = u.data() + i * A;
          T e = 0;
#pragma omp simd reduction(+ : e)
          for (int64_t j = 0; j < A; ++j) e += v[j] * ui[j];
          a[i] = e;
        }
      } else {  // e_i = q . k_i
        const T* qb = q + b * Hd;
        for (int64_t i = 0; i < len; ++i) {
          const T* k = K + (i * B + b) * A;
          T e = 0;
#pragma omp simd reduction(+ : e)
          for (int64_t j = 0; j < A; ++j) e += qb[j] * k[j];
          a[i] = e;
        }
      }
      const T top = *std::max_element(a, a + len);
      T sum = 0;
      for (int64_t i = 0; i < len; ++i) sum += (a[i] = std::exp(a[i] - top));
      T* cb = ctx.ptr() + b * De;
      for (int64_t i = 0; i < len; ++i) {
        a[i] /= sum;
        const T ai = a[i];
        const T* h = mem.enc.ptr() + (i * B + b) * De;
#pragma omp simd
        for (int64_t j = 0; j < De; ++j) cb[j] += ai * h[j];
      }
    }
  });
}

// Backward of attend: given dctx (B,De), dq (B,Hd) += the query's gradient, denc += through the
// weighted sum (and through the keys for dot), dkeys += through the scores (bahdanau, general).
template <class T>
void attend_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem, const T* q,
                     const Tensor<T>& qp, const Tensor<T>& alpha, const T* dctx, T* dq,
                     Tensor<T>& denc, Tensor<T>& dkeys) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = mem.S, B = mem.B, De = c.encoder_width(), A = c.key_width();
  const int64_t Hd = c.decoder.hidden_size;
  const bool additive = c.context == ContextKind::bahdanau;
  const T* K = mem.key_ptr();
  const T* v = m.v_attention.ptr();
  T* dK = mem.keys.empty() ? denc.ptr() : dkeys.ptr();
  Tensor<T> dqp;
  if (additive) dqp = Tensor<T>({B, A});
  const int blocks = B * S * A >= cells::kParallelElements ? cpu::row_blocks(B) : 1;
  std::vector<std::vector<T>> dv(static_cast<size_t>(blocks),
                                 std::vector<T>(static_cast<size_t>(additive ? A : 0)));
  cpu::for_row_blocks(blocks, B, [&](int blk, int64_t b0, int64_t b1) {
    std::vector<T> da(static_cast<size_t>(S)), u(static_cast<size_t>(additive ? S * A : 0));
    T* dvb = dv[size_t(blk)].data();
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t len = mem.lengths[size_t(b)];
      const T* a = alpha.ptr() + b * S;
      const T* dc = dctx + b * De;
      T weighted = 0;  // sum_i a_i da_i
      for (int64_t i = 0; i < len; ++i) {
        const T* h = mem.enc.ptr() + (i * B + b) * De;
        T* dh = denc.ptr() + (i * B + b) * De;
        const T ai = a[i];
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < De; ++j) {
          s += dc[j] * h[j];
          dh[j] += ai * dc[j];
        }
        da[size_t(i)] = s;
        weighted += ai * s;
      }
      if (additive) {  // recompute u_i = tanh(qp + k_i)
        const T* p = qp.ptr() + b * A;
        for (int64_t i = 0; i < len; ++i) {
          const T* k = K + (i * B + b) * A;
          T* ui = u.data() + i * A;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) ui[j] = p[j] + k[j];
        }
        cpu::tanh_inplace(u.data(), len * A);
      }
      for (int64_t i = 0; i < len; ++i) {
        const T de = a[i] * (da[size_t(i)] - weighted);  // d score_i
        const T* k = K + (i * B + b) * A;
        T* dk = dK + (i * B + b) * A;
        if (additive) {
          const T* ui = u.data() + i * A;
          T* dp = dqp.ptr() + b * A;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) {
            dvb[j] += de * ui[j];
            const T dpre = de * v[j] * (T(1) - ui[j] * ui[j]);
            dk[j] += dpre;
            dp[j] += dpre;
          }
        } else {
          const T* qb = q + b * Hd;
          T* dqb = dq + b * Hd;
#pragma omp simd
          for (int64_t j = 0; j < A; ++j) {
            dqb[j] += de * k[j];
            dk[j] += de * qb[j];
          }
        }
      }
    }
  });
  if (additive) {
    for (const auto& part : dv)
      for (int64_t j = 0; j < A; ++j) g.v_attention[j] += part[size_t(j)];
    Tensor<T> d({B, Hd});  // qp = q W_q^T
    linear_backward(d.ptr(), g.w_query.ptr(), static_cast<T*>(nullptr), dqp.ptr(), q,
                    m.w_query.ptr(), B, Hd, A);
    for (int64_t i = 0; i < B * Hd; ++i) dq[i] += d[i];
  }
}

// ---- The decoder ----

// Where a decoder step starts: the RNN state and what it reads beside the token (feed: the fixed
// context, or the previous attentional output; empty for bahdanau, which attends inside the step,
// and for a context used only as the initial state).
template <class T>
struct DecoderState {
  RnnState<T> rnn;  // (Ld,B,Hd)
  Tensor<T> feed;   // (B,F)
};

// What the start keeps for backward.
template <class T>
struct DecoderStart {
  Tensor<T> bridge;  // (B,Hd) g(h_N)
  Tensor<T> fixed;   // (B,F) the fixed context (last, bridge)
};

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

// Backward of decoder_start: dstate is the gradient of the initial state, dfixed of the fixed
// context over all steps; adds into dsummary (B,De).
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

// One decoder step's values, kept for backward.
template <class T>
struct StepCache {
  std::vector<int64_t> tokens;  // (B) inputs
  Tensor<T> query;              // (B,Hd) the attention's query: bahdanau s_{t-1}, dot/general s_t
  Tensor<T> qp, alpha, ctx;     // attention
  Tensor<T> feed;               // (B,F) what the step read beside the token
  RnnCache<T> rnn;
  Tensor<T> cat;                // (B,Hd+De) [s_t; c_t] (attention)
  Tensor<T> out;                // (B,Hd) o_t
  Tensor<T> out_dropped;        // (B,Hd) o_t after dropout, the output layer's input (or empty)
  Tensor<T> embed_mask, out_mask;  // dropout masks (B,Et), (B,Hd), or empty
};

// One step for tokens (B): logits (B,Vt) and the next state.
template <class T>
void decoder_step(const Seq2Seq<T>& m, const Memory<T>& mem, const std::vector<int64_t>& tokens,
                  const DecoderState<T>& in, DecoderState<T>& next, StepCache<T>& sc, T* logits,
                  const RnnRunOptions& opt, const Seq2SeqTraining& tr = {}) {
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

// Backward of one step. dstate: in, the gradient of the step's new state; out, of its start state.
// dfeed (input feeding): in, the gradient of this step's output as the next step's feed; out, of
// the previous one. dfixed += the gradient of the fixed context fed at this step.
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

template <class T>
int64_t argmax_row(const T* z, int64_t n) {
  return int64_t(std::max_element(z, z + n) - z);
}

}  // namespace

template <class T>
T seq2seq_batch(const Seq2Seq<T>& m, Seq2Seq<T>* grads, const Seq2SeqBatch& b,
                const RnnRunOptions& opt, const Seq2SeqTraining& feeding, Tensor<T>* logits_out,
                int64_t* count) {
  const Seq2SeqConfig& c = m.config;
  const int64_t S = b.source_steps, Tt = b.target_steps, B = b.batch, V = c.target_vocab;
  RECUR_CHECK(int64_t(b.source.size()) == S * B && int64_t(b.source_lengths.size()) == B &&
                  int64_t(b.inputs.size()) == Tt * B && int64_t(b.targets.size()) == Tt * B,
              "malformed seq2seq batch (" << S << " source steps, " << Tt << " target steps, " << B
                                          << " sequences)");
  RECUR_CHECK((feeding.teacher_forcing >= 1 && feeding.dropout <= 0) || feeding.rng,
              "scheduled sampling (teacher forcing below 1) and dropout need a random generator");
  RECUR_CHECK(feeding.dropout >= 0 && feeding.dropout < 1,
              "dropout must be in [0, 1), got " << feeding.dropout);
  const Memory<T> mem = encode(m, b.source, b.source_lengths, S, B, opt, feeding);
  DecoderStart<T> start;
  DecoderState<T> state = decoder_start(m, mem, start);
  Tensor<T> logits({Tt * B, V});
  std::vector<StepCache<T>> steps(static_cast<size_t>(Tt));
  std::vector<int64_t> tokens(static_cast<size_t>(B));
  for (int64_t t = 0; t < Tt; ++t) {
    for (int64_t s = 0; s < B; ++s) {
      int64_t tok = b.inputs[size_t(t * B + s)];
      if (t > 0 && feeding.teacher_forcing < 1 && b.targets[size_t((t - 1) * B + s)] >= 0 &&
          feeding.rng->uniform() >= feeding.teacher_forcing)
        tok = argmax_row(logits.ptr() + ((t - 1) * B + s) * V, V);
      tokens[size_t(s)] = tok;
    }
    DecoderState<T> next;
    decoder_step(m, mem, tokens, state, next, steps[size_t(t)], logits.ptr() + t * B * V, opt,
                 feeding);
    state = std::move(next);
  }
  Tensor<T> dlogits;
  if (grads) dlogits = Tensor<T>({Tt * B, V});
  const T loss = softmax_cross_entropy(grads ? dlogits.ptr() : nullptr, logits.ptr(),
                                       b.targets.data(), Tt * B, V, int64_t(-1));
  if (count)
    *count = int64_t(std::count_if(b.targets.begin(), b.targets.end(), [](int64_t t) { return t >= 0; }));
  if (logits_out) *logits_out = std::move(logits);
  if (!grads) return loss;

  const int64_t De = c.encoder_width(), F = c.feed_width();
  RnnState<T> dstate;
  dstate.h = Tensor<T>(state.rnn.h.shape);
  if (!state.rnn.c.empty()) dstate.c = Tensor<T>(state.rnn.c.shape);
  Tensor<T> dfeed, dfixed;
  if (c.input_feeding()) dfeed = Tensor<T>({B, F});
  if (!start.fixed.empty()) dfixed = Tensor<T>({B, F});
  Tensor<T> denc({S, B, De}), dkeys;
  if (!mem.keys.empty()) dkeys = Tensor<T>(mem.keys.shape);
  for (int64_t t = Tt - 1; t >= 0; --t)
    decoder_step_backward(m, *grads, mem, steps[size_t(t)], dlogits.ptr() + t * B * V, dstate,
                          dfeed, dfixed, denc, dkeys);
  Tensor<T> dsummary({B, De});
  decoder_start_backward(m, *grads, mem, start, dstate, dfixed, dsummary);
  encode_backward(m, *grads, mem, denc, dkeys, dsummary);
  return loss;
}

namespace {
int64_t default_max_len(int64_t source_len, int64_t max_len) {
  return max_len > 0 ? max_len : 2 * source_len + 10;
}

// Keeps rows `from` (new row r = old row from[r]) of a decoder state.
template <class T>
void select_rows(Tensor<T>& t, const std::vector<int64_t>& from, int64_t groups) {
  if (t.empty()) return;
  const int64_t B = int64_t(from.size()), width = t.numel() / (groups * B);
  Tensor<T> out(t.shape);
  for (int64_t gidx = 0; gidx < groups; ++gidx)
    for (int64_t r = 0; r < B; ++r)
      std::copy_n(t.ptr() + (gidx * B + from[size_t(r)]) * width, width,
                  out.ptr() + (gidx * B + r) * width);
  t = std::move(out);
}
}  // namespace

std::vector<std::vector<int64_t>> seq2seq_greedy(const Seq2Seq<float>& m,
                                                 const std::vector<const std::vector<int64_t>*>& sources,
                                                 int64_t max_len) {
  RECUR_CHECK(!sources.empty(), "nothing to decode");
  const int64_t B = int64_t(sources.size()), V = m.config.target_vocab;
  int64_t limit = 0;
  for (const auto* s : sources) {
    RECUR_CHECK(!s->empty(), "cannot decode an empty source");
    limit = std::max(limit, default_max_len(int64_t(s->size()), max_len));
  }
  int64_t S = 0;
  std::vector<int64_t> src, lengths;
  pad_sources(sources, S, src, lengths);
  const Memory<float> mem = encode(m, src, lengths, S, B, {});
  DecoderStart<float> start;
  DecoderState<float> state = decoder_start(m, mem, start);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  std::vector<int64_t> tokens(static_cast<size_t>(B), Seq2SeqConfig::kBos);
  Tensor<float> logits({B, V});
  for (int64_t t = 0; t < limit; ++t) {
    DecoderState<float> next;
    StepCache<float> sc;
    decoder_step(m, mem, tokens, state, next, sc, logits.ptr(), {});
    state = std::move(next);
    bool all = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[size_t(b)]) continue;
      float* z = logits.ptr() + b * V;
      z[Seq2SeqConfig::kBos] = -std::numeric_limits<float>::infinity();  // never a second <s>
      const int64_t tok = argmax_row(z, V);
      const int64_t own_limit = default_max_len(lengths[size_t(b)], max_len);
      if (tok == Seq2SeqConfig::kEos || t + 1 >= own_limit) done[size_t(b)] = true;
      if (tok != Seq2SeqConfig::kEos) out[size_t(b)].push_back(tok);
      tokens[size_t(b)] = tok;
      all = all && done[size_t(b)];
    }
    if (all) break;
  }
  return out;
}

std::vector<BeamHypothesis> seq2seq_beam(const Seq2Seq<float>& m, const std::vector<int64_t>& source,
                                         int64_t beam, double alpha, int64_t max_len) {
  RECUR_CHECK(beam >= 1, "the beam width must be at least 1, got " << beam);
  RECUR_CHECK(!source.empty(), "cannot decode an empty source");
  const int64_t K = beam, S = int64_t(source.size()), V = m.config.target_vocab;
  const int64_t Ld = m.config.decoder.num_layers, limit = default_max_len(S, max_len);
  int64_t steps = 0;  // the source K times: one row per hypothesis
  std::vector<int64_t> src, lengths;
  pad_sources(std::vector<const std::vector<int64_t>*>(static_cast<size_t>(K), &source), steps, src,
              lengths);
  const Memory<float> mem = encode(m, src, lengths, S, K, {});
  DecoderStart<float> start;
  DecoderState<float> state = decoder_start(m, mem, start);

  struct Live {
    std::vector<int64_t> tokens;
    double log_prob;
  };
  std::vector<Live> live = {{{}, 0.0}};  // row r of the state belongs to live[r]
  std::vector<BeamHypothesis> ended;
  auto finish = [&](std::vector<int64_t> tokens, double lp) {
    const double score = lp / std::pow(double(tokens.size() + 1), alpha);
    ended.push_back({std::move(tokens), lp, score});
  };
  std::vector<int64_t> tokens(size_t(K), Seq2SeqConfig::kBos);
  Tensor<float> logits({K, V});
  for (int64_t t = 0; t < limit && int64_t(ended.size()) < K && !live.empty(); ++t) {
    DecoderState<float> next;
    StepCache<float> sc;
    decoder_step(m, mem, tokens, state, next, sc, logits.ptr(), {});
    log_softmax(logits.ptr(), logits.ptr(), K, V);
    struct Cand {
      double lp;
      int64_t row, tok;
    };
    std::vector<Cand> cands;
    for (int64_t r = 0; r < int64_t(live.size()); ++r)
      for (int64_t v = 0; v < V; ++v)
        if (v != Seq2SeqConfig::kBos)
          cands.push_back({live[size_t(r)].log_prob + logits[r * V + v], r, v});
    const int64_t keep = std::min<int64_t>(K - int64_t(ended.size()), int64_t(cands.size()));
    std::partial_sort(cands.begin(), cands.begin() + keep, cands.end(),
                      [](const Cand& a, const Cand& b) { return a.lp > b.lp; });
    std::vector<Live> grown;
    std::vector<int64_t> from;
    for (int64_t i = 0; i < keep; ++i) {
      const Cand& cd = cands[size_t(i)];
      std::vector<int64_t> toks = live[size_t(cd.row)].tokens;
      if (cd.tok == Seq2SeqConfig::kEos) {
        finish(std::move(toks), cd.lp);
        continue;
      }
      toks.push_back(cd.tok);
      if (t + 1 >= limit) {  // out of length: it ends here
        finish(std::move(toks), cd.lp);
        continue;
      }
      grown.push_back({std::move(toks), cd.lp});
      from.push_back(cd.row);
    }
    live = std::move(grown);
    if (live.empty()) break;
    // Rows past the live ones repeat row 0 (their results are never read).
    std::vector<int64_t> rows = from;
    rows.resize(size_t(K), from[0]);
    select_rows(next.rnn.h, rows, Ld);
    select_rows(next.rnn.c, rows, Ld);
    select_rows(next.feed, rows, 1);
    state = std::move(next);
    for (int64_t r = 0; r < K; ++r)
      tokens[size_t(r)] = r < int64_t(live.size()) ? live[size_t(r)].tokens.back() : Seq2SeqConfig::kEos;
  }
  for (Live& l : live)
    if (int64_t(ended.size()) < K) finish(std::move(l.tokens), l.log_prob);
  std::stable_sort(ended.begin(), ended.end(),
                   [](const BeamHypothesis& a, const BeamHypothesis& b) { return a.score > b.score; });
  return ended;
}

#define RECUR_INSTANTIATE(T)                                                                    \
  template struct Seq2Seq<T>;                                                                   \
  template void init_seq2seq<T>(Seq2Seq<T>&, Rng&, RecurrentInit);                              \
  template T seq2seq_batch<T>(const Seq2Seq<T>&, Seq2Seq<T>*, const Seq2SeqBatch&,              \
                              const RnnRunOptions&, const Seq2SeqTraining&, Tensor<T>*, int64_t*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
