// Seq2Seq's decoding (recur/models/seq2seq.h): greedy over a batch of sources, and beam search
// over one source with length-normalised scores.
#include <algorithm>
#include <cmath>
#include <limits>

#include "models/seq2seq_network.h"
#include "recur/nn/loss.h"

namespace recur {

using namespace seq2seq_net;

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

}  // namespace recur
