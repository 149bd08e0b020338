// Seq2Seq: the configuration and its metadata, the parameters, batches, and the training batch
// (forward and backward, with scheduled sampling). The network's inside is in seq2seq_network.h.
#include "recur/models/seq2seq.h"

#include <algorithm>
#include <cmath>

#include "models/seq2seq_network.h"
#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"

namespace recur {

constexpr EnumNames<ContextKind, 5> kContextKindNames{{{ContextKind::last, "last"},
                                                       {ContextKind::bridge, "bridge"},
                                                       {ContextKind::bahdanau, "bahdanau"},
                                                       {ContextKind::dot, "dot"},
                                                       {ContextKind::general, "general"}}};
constexpr EnumNames<ContextUse, 3> kContextUseNames{
    {{ContextUse::init, "init"}, {ContextUse::input, "input"}, {ContextUse::both, "both"}}};

ContextKind parse_context_kind(const std::string& name) {
  return parse_enum(kContextKindNames, name, "context");
}
const char* context_kind_name(ContextKind k) { return enum_name(kContextKindNames, k); }

ContextUse parse_context_use(const std::string& name) {
  return parse_enum(kContextUseNames, name, "context use");
}
const char* context_use_name(ContextUse u) { return enum_name(kContextUseNames, u); }

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
  RECUR_CHECK(!decoder.any_bidirectional(), "the decoder writes left to right: it cannot be bidirectional");
  RECUR_CHECK(decoder.one_engine_segment(), "the decoder starts every layer from the encoder's context, so its "
                                "layers share one kind and size, and it steps one token at a time; a mixed decoder stack, or a "
                                "clockwork, skip or deep decoder, is not supported");
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

namespace seq2seq_net {

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
}  // namespace seq2seq_net

using namespace seq2seq_net;

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

#define RECUR_INSTANTIATE(T)                                                                    \
  template struct Seq2Seq<T>;                                                                   \
  template void init_seq2seq<T>(Seq2Seq<T>&, Rng&, RecurrentInit);                              \
  template T seq2seq_batch<T>(const Seq2Seq<T>&, Seq2Seq<T>*, const Seq2SeqBatch&,              \
                              const RnnRunOptions&, const Seq2SeqTraining&, Tensor<T>*, int64_t*);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
