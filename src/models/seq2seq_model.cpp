// Seq2SeqModel: saving and loading, encoding, edit distance, decoding and evaluation.
#include "recur/models/seq2seq_model.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "recur/io/safetensors.h"
#include "recur/models/named_tensors.h"

namespace recur {

std::vector<int64_t> Seq2SeqModel::encode_source(const std::vector<std::string>& tokens) const {
  return source.encode(tokens);
}

std::vector<int64_t> Seq2SeqModel::encode_target(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids = target.encode(tokens);
  for (int64_t& id : ids) id += 2;
  return ids;
}

std::vector<std::string> Seq2SeqModel::decode_target(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  for (int64_t id : ids) {
    RECUR_CHECK(id >= 2 && id - 2 < target.size(), "target id " << id << " is not a token");
    out.push_back(target.token(id - 2));
  }
  return out;
}

void save_seq2seq_model(const std::string& path, const Seq2SeqModel& m,
                        const std::map<std::string, std::string>& extra) {
  auto meta = m.net.config.to_metadata();
  meta["task"] = "seq2seq";
  for (auto& [k, v] : m.source.to_metadata("source_tokens")) meta[k] = v;
  for (auto& [k, v] : m.target.to_metadata("target_tokens")) meta[k] = v;
  for (auto& [k, v] : extra) meta[k] = v;
  save_safetensors(path, m.net.state_dict(), meta);
}

Seq2SeqModel load_seq2seq_model(const std::string& path) {
  const Safetensors<float> st = load_safetensors<float>(path);
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "seq2seq",
              path << ": not a recur seq2seq model (its metadata has no task = seq2seq); train one "
                      "with `recur train-seq2seq`");
  Seq2SeqModel m;
  m.source = TokenIndex::from_metadata(st.metadata, path, "source_tokens");
  m.target = TokenIndex::from_metadata(st.metadata, path, "target_tokens");
  Seq2SeqConfig cfg;
  try {
    cfg = Seq2SeqConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  RECUR_CHECK(cfg.source_vocab == m.source.size() && cfg.target_vocab == 2 + m.target.size(),
              path << ": the network's vocabularies (" << cfg.source_vocab << ", "
                   << cfg.target_vocab << ") do not match the token lists (" << m.source.size()
                   << ", 2 + " << m.target.size() << ")");
  check_parameter_count(parameter_count(cfg), st.tensors, path);
  m.net = Seq2Seq<float>(cfg);
  m.net.load_state_dict(st.tensors, path);
  return m;
}

std::vector<Seq2SeqExample> encode_pairs(const Seq2SeqModel& m,
                                         const std::vector<SequencePair>& pairs) {
  std::vector<Seq2SeqExample> out;
  out.reserve(pairs.size());
  for (const SequencePair& p : pairs) out.push_back({m.encode_source(p.source), m.encode_target(p.target)});
  return out;
}

int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<int64_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), int64_t(0));
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = int64_t(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

size_t SequenceErrors::add(const std::vector<std::string>& hypothesis,
                           const std::vector<const std::vector<std::string>*>& references) {
  RECUR_CHECK(!references.empty(), "an item needs at least one reference");
  int64_t best = -1, best_len = 0;
  size_t closest = 0;
  for (size_t i = 0; i < references.size(); ++i) {
    const int64_t d = edit_distance(hypothesis, *references[i]);
    const int64_t len = int64_t(references[i]->size());
    if (best < 0 || d < best || (d == best && len > best_len)) best = d, best_len = len, closest = i;
  }
  ++items;
  items_wrong += best != 0;
  token_errors += best;
  reference_tokens += best_len;
  return closest;
}

std::vector<SourceGroup> group_by_source(const std::vector<SequencePair>& pairs) {
  std::vector<SourceGroup> groups;
  std::map<std::vector<std::string>, size_t> index;
  for (const SequencePair& p : pairs) {
    auto [it, fresh] = index.emplace(p.source, groups.size());
    if (fresh) groups.push_back({&p.source, {}});
    groups[it->second].references.push_back(&p.target);
  }
  return groups;
}

std::vector<std::vector<std::string>> decode_sources(
    const Seq2SeqModel& m, const std::vector<const std::vector<std::string>*>& sources,
    const DecodeOptions& opt) {
  RECUR_CHECK(opt.beam >= 1 && opt.batch >= 1, "beam and batch must be at least 1");
  std::vector<std::vector<std::string>> out(sources.size());
  std::vector<std::vector<int64_t>> ids;
  ids.reserve(sources.size());
  for (const auto* s : sources) ids.push_back(m.encode_source(*s));
  if (opt.beam > 1) {
    for (size_t i = 0; i < ids.size(); ++i)
      out[i] = m.decode_target(seq2seq_beam(m.net, ids[i], opt.beam, opt.alpha, opt.max_len)[0].tokens);
    return out;
  }
  std::vector<size_t> order(ids.size());  // by length, so that a batch pads little
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  for (size_t start = 0; start < order.size(); start += size_t(opt.batch)) {
    const size_t end = std::min(order.size(), start + size_t(opt.batch));
    std::vector<const std::vector<int64_t>*> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(&ids[order[k]]);
    const auto decoded = seq2seq_greedy(m.net, batch, opt.max_len);
    for (size_t k = start; k < end; ++k) out[order[k]] = m.decode_target(decoded[k - start]);
  }
  return out;
}

Seq2SeqEvaluation evaluate_seq2seq(const Seq2SeqModel& m, const std::vector<SequencePair>& pairs,
                                   const DecodeOptions& opt) {
  Seq2SeqEvaluation ev;
  // Teacher-forced loss, batches of similar lengths.
  const std::vector<Seq2SeqExample> ex = encode_pairs(m, pairs);
  std::vector<size_t> order(ex.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ex[a].source.size() + ex[a].target.size() < ex[b].source.size() + ex[b].target.size();
  });
  double total = 0;
  for (size_t start = 0; start < order.size(); start += size_t(opt.batch)) {
    const size_t end = std::min(order.size(), start + size_t(opt.batch));
    std::vector<const std::vector<int64_t>*> s, t;
    for (size_t k = start; k < end; ++k) {
      s.push_back(&ex[order[k]].source);
      t.push_back(&ex[order[k]].target);
    }
    int64_t n = 0;
    total += double(seq2seq_batch<float>(m.net, nullptr, make_seq2seq_batch(s, t), {}, {}, nullptr, &n)) *
             double(n);
    ev.tokens += n;
  }
  ev.loss_nats = ev.tokens ? total / double(ev.tokens) : 0.0;
  // Decoding against every reference of each source.
  const std::vector<SourceGroup> groups = group_by_source(pairs);
  std::vector<const std::vector<std::string>*> sources;
  for (const SourceGroup& g : groups) sources.push_back(g.source);
  const auto hyps = decode_sources(m, sources, opt);
  for (size_t i = 0; i < groups.size(); ++i) {
    const int64_t wrong_before = ev.errors.items_wrong;
    const size_t closest = ev.errors.add(hyps[i], groups[i].references);
    if (ev.errors.items_wrong > wrong_before && ev.samples.size() < 10)
      ev.samples.push_back({*groups[i].source, hyps[i], *groups[i].references[closest]});
  }
  return ev;
}

std::vector<std::string> split_source(const std::string& text, bool chars) {
  std::vector<std::string> tokens;
  if (chars) {
    for (const char ch : text)
      if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') tokens.push_back(std::string(1, ch));
  } else {
    std::istringstream in(text);
    for (std::string t; in >> t;) tokens.push_back(t);
  }
  return tokens;
}

std::string join_tokens(const std::vector<std::string>& tokens) {
  std::string s;
  for (const std::string& t : tokens) s += (s.empty() ? "" : " ") + t;
  return s;
}

std::string seq2seq_report(const Seq2SeqEvaluation& ev) {
  const SequenceErrors& e = ev.errors;
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "token error rate (PER) %.2f%% (%lld edits / %lld reference tokens)\n"
                "sequence error rate (WER) %.2f%% (%lld of %lld sources wrong)\n"
                "teacher-forced loss %.4f nats per token (%lld tokens)\n",
                100 * e.token_error_rate(), (long long)e.token_errors,
                (long long)e.reference_tokens, 100 * e.sequence_error_rate(),
                (long long)e.items_wrong, (long long)e.items, ev.loss_nats, (long long)ev.tokens);
  std::string out = buf;
  if (!ev.samples.empty()) out += "some errors (source -> output | closest reference):\n";
  for (const auto& s : ev.samples)
    out += "  " + join_tokens(s.source) + " -> " + join_tokens(s.hypothesis) + " | " +
           join_tokens(s.reference) + "\n";
  return out;
}

}  // namespace recur
