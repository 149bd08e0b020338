// TaggerModel: saving and loading, padded batches, evaluation (token scores, baselines,
// restoration scores) and the report.
#include "recur/models/tagger_model.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "recur/io/safetensors.h"
#include "recur/models/named_tensors.h"

namespace recur {

void save_tagger_model(const std::string& path, const TaggerModel& m,
                       const std::map<std::string, std::string>& extra) {
  auto meta = m.net.config.to_metadata();
  meta["task"] = "tag";
  meta["tags"] = m.tags.to_json();
  for (auto& [k, v] : m.words.to_metadata()) meta[k] = v;
  for (auto& [k, v] : extra) meta[k] = v;
  save_safetensors(path, m.net.state_dict(), meta);
}

TaggerModel load_tagger_model(const std::string& path) {
  const Safetensors<float> st = load_safetensors<float>(path);
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "tag",
              path << ": not a recur tagger (its metadata has no task = tag); train one with "
                      "`recur train-tagger`");
  auto tags = st.metadata.find("tags");
  RECUR_CHECK(tags != st.metadata.end(), path << ": no 'tags' in the metadata");
  TaggerModel m;
  m.tags = LabelSet::from_json(tags->second, path);
  m.words = TokenIndex::from_metadata(st.metadata, path);
  SequenceModelConfig cfg;
  try {
    cfg = SequenceModelConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  RECUR_CHECK(cfg.outputs == m.tags.size(), path << ": the network has " << cfg.outputs
                                                 << " outputs but " << m.tags.size() << " tags");
  RECUR_CHECK(cfg.vocab == m.words.size(), path << ": the network reads " << cfg.vocab
                                                << " word ids, the word list has "
                                                << m.words.size());
  check_parameter_count(parameter_count(cfg), st.tensors, path);
  m.net = SequenceModel<float>(cfg);
  m.net.load_state_dict(st.tensors, path);
  return m;
}

bool is_restoration_tagset(const LabelSet& tags) {
  RestorationTag t;
  for (const std::string& n : tags.names())
    if (!parse_restoration_tag(n, &t)) return false;
  return tags.size() > 0;
}

std::vector<TagExample> encode_tagged(const std::vector<TaggedSequence>& seqs,
                                      const TokenIndex& words, const LabelSet& tags,
                                      const std::string& source) {
  std::vector<TagExample> out;
  out.reserve(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    TagExample e;
    e.tokens = words.encode(seqs[i].tokens);
    const std::string where = source + " sequence " + std::to_string(i + 1);
    for (const std::string& t : seqs[i].tags) e.tags.push_back(tags.id(t, where));
    out.push_back(std::move(e));
  }
  return out;
}

TaggerBatch make_tagger_batch(const std::vector<TagExample>& examples,
                              const std::vector<size_t>& indices) {
  TaggerBatch b;
  b.batch = int64_t(indices.size());
  for (size_t i : indices) b.steps = std::max(b.steps, int64_t(examples[i].tokens.size()));
  b.tokens.assign(size_t(b.steps * b.batch), 0);    // padding: any valid id (never read)
  b.targets.assign(size_t(b.steps * b.batch), -1);  // padding: not scored
  for (int64_t s = 0; s < b.batch; ++s) {
    const TagExample& e = examples[indices[size_t(s)]];
    const int64_t len = int64_t(e.tokens.size());
    RECUR_CHECK(len > 0, "example " << indices[size_t(s)] << " has no tokens");
    b.lengths.push_back(len);
    for (int64_t t = 0; t < len; ++t) {
      b.tokens[size_t(t * b.batch + s)] = e.tokens[size_t(t)];
      if (!e.tags.empty()) b.targets[size_t(t * b.batch + s)] = e.tags[size_t(t)];
    }
  }
  return b;
}

namespace {

// Runs the network over all examples in batches of similar length; calls f(example, step, logits
// row) for every real token. Adds loss * scored tokens to *loss_sum when not null.
template <class F>
void for_each_token_logits(const SequenceModel<float>& net, const std::vector<TagExample>& examples,
                           int64_t batch, F&& f, double* loss_sum, RnnPacks* kept = nullptr) {
  RECUR_CHECK(batch > 0, "the evaluation batch must be positive, got " << batch);
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].tokens.size() < examples[b].tokens.size();
  });
  const int64_t C = net.config.outputs;
  RnnPacks local;  // the weights are fixed for the pass: pack each layer once
  RnnPacks& packs = kept ? *kept : local;
  for (size_t i = 0; i < order.size(); i += size_t(batch)) {
    const std::vector<size_t> idx(
        order.begin() + std::ptrdiff_t(i),
        order.begin() + std::ptrdiff_t(std::min(order.size(), i + size_t(batch))));
    const TaggerBatch b = make_tagger_batch(examples, idx);
    Tensor<float> logits;
    int64_t count = 0;
    const float loss = tagger_batch<float>(net, nullptr, b, RnnRunOptions().with_packs(&packs), &logits, &count);
    if (loss_sum) *loss_sum += double(loss) * double(count);
    for (int64_t s = 0; s < b.batch; ++s)
      for (int64_t t = 0; t < b.lengths[size_t(s)]; ++t)
        f(idx[size_t(s)], t, logits.ptr() + (t * b.batch + s) * C);
  }
}

int64_t argmax(const float* z, int64_t n) { return int64_t(std::max_element(z, z + n) - z); }

void add_binary(PrfCounts& c, bool truth, bool predicted, int64_t n) {
  if (truth && predicted)
    c.tp += n;
  else if (predicted)
    c.fp += n;
  else if (truth)
    c.fn += n;
}

}  // namespace

void RestorationScores::add(RestorationTag truth, RestorationTag predicted, int64_t n) {
  tokens += n;
  if (truth == predicted) correct += n;
  add_binary(punct_present, truth.punct != Punct::none, predicted.punct != Punct::none, n);
  if (truth.punct != Punct::none && predicted.punct == truth.punct) {
    punct_mark.tp += n;
  } else {
    if (predicted.punct != Punct::none) punct_mark.fp += n;
    if (truth.punct != Punct::none) punct_mark.fn += n;
  }
  add_binary(capitalised, truth.casing != Casing::lower, predicted.casing != Casing::lower, n);
  for (int k = 1; k < kNumPuncts; ++k)
    add_binary(per_punct[size_t(k)], truth.punct == Punct(k), predicted.punct == Punct(k), n);
  for (int k = 0; k < kNumCasings; ++k)
    add_binary(per_casing[size_t(k)], truth.casing == Casing(k), predicted.casing == Casing(k), n);
}

TaggerEvaluation evaluate_tagger(const SequenceModel<float>& net, const LabelSet& tags,
                                 const std::vector<TagExample>& examples, int64_t batch) {
  RECUR_CHECK(!examples.empty(), "no sequences to evaluate");
  const int64_t C = net.config.outputs;
  RECUR_CHECK(C == tags.size(),
              "the network has " << C << " outputs but " << tags.size() << " tags");
  TaggerEvaluation ev;
  ev.tokens.confusion.assign(size_t(C * C), 0);
  ev.sequences = int64_t(examples.size());
  std::vector<int64_t> wrong(examples.size(), 0);
  double loss_sum = 0;
  for_each_token_logits(
      net, examples, batch,
      [&](size_t i, int64_t t, const float* z) {
        const int64_t pred = argmax(z, C), truth = examples[i].tags[size_t(t)];
        ++ev.tokens.confusion[size_t(truth * C + pred)];
        ev.tokens.correct += pred == truth;
        wrong[i] += pred != truth;
        ++ev.tokens.examples;
      },
      &loss_sum);
  ev.tokens.loss_nats = loss_sum / double(ev.tokens.examples);
  for (int64_t w : wrong) ev.sequences_correct += w == 0;
  ev.restoration = is_restoration_tagset(tags);
  if (ev.restoration) {
    std::vector<RestorationTag> rt(tags.names().size());
    for (int64_t c = 0; c < C; ++c) parse_restoration_tag(tags.name(c), &rt[size_t(c)]);
    for (int64_t t = 0; t < C; ++t)
      for (int64_t p = 0; p < C; ++p)
        if (const int64_t n = ev.tokens.confusion[size_t(t * C + p)])
          ev.model.add(rt[size_t(t)], rt[size_t(p)], n);
    for (const TagExample& e : examples) {
      const size_t n = e.tags.size();
      for (size_t k = 0; k < n; ++k)
        ev.positional.add(rt[size_t(e.tags[k])], {k == 0 ? Casing::cap : Casing::lower,
                                                  k + 1 == n ? Punct::period : Punct::none});
    }
  }
  return ev;
}

std::vector<std::vector<int64_t>> predict_tags(const SequenceModel<float>& net,
                                               const std::vector<TagExample>& examples,
                                               int64_t batch, RnnPacks* packs) {
  std::vector<std::vector<int64_t>> out(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) out[i].resize(examples[i].tokens.size());
  const int64_t C = net.config.outputs;
  for_each_token_logits(
      net, examples, batch,
      [&](size_t i, int64_t t, const float* z) { out[i][size_t(t)] = argmax(z, C); }, nullptr, packs);
  return out;
}

std::string tagging_report(const TaggerEvaluation& ev, const LabelSet& tags) {
  std::ostringstream out;
  char buf[200];
  std::snprintf(
      buf, sizeof buf,
      "token accuracy %.4f (%lld of %lld tokens in %lld sequences), loss %.4f nats/token\n",
      ev.tokens.accuracy(), (long long)ev.tokens.correct, (long long)ev.tokens.examples,
      (long long)ev.sequences, ev.tokens.loss_nats);
  out << buf;
  std::snprintf(buf, sizeof buf, "sequences all correct %.4f (%lld of %lld)\n",
                ev.sequences ? double(ev.sequences_correct) / double(ev.sequences) : 0.0,
                (long long)ev.sequences_correct, (long long)ev.sequences);
  out << buf;
  std::snprintf(buf, sizeof buf,
                "majority baseline %.4f (every token '%s', the most frequent tag here)\n",
                ev.majority_accuracy(), tags.name(ev.tokens.majority_class()).c_str());
  out << buf;
  if (ev.restoration) {
    out << "\nrestoration         ---------- model ----------   baseline: first word Cap, last "
           "period\n";
    std::snprintf(buf, sizeof buf, "%-19s %9s %8s %8s   %9s %8s %8s %8s\n", "", "precision",
                  "recall", "f1", "precision", "recall", "f1", "support");
    out << buf;
    std::snprintf(buf, sizeof buf, "%-19s %9s %8s %8.4f   %9s %8s %8.4f\n", "token accuracy", "",
                  "", ev.model.accuracy(), "", "", ev.positional.accuracy());
    out << buf;
    auto row = [&](const std::string& name, const PrfCounts& m, const PrfCounts& b) {
      std::snprintf(buf, sizeof buf, "%-19s %9.4f %8.4f %8.4f   %9.4f %8.4f %8.4f %8lld\n",
                    name.c_str(), m.precision(), m.recall(), m.f1(), b.precision(), b.recall(),
                    b.f1(), (long long)(m.tp + m.fn));
      out << buf;
    };
    row("punctuation present", ev.model.punct_present, ev.positional.punct_present);
    row("punctuation mark", ev.model.punct_mark, ev.positional.punct_mark);
    row("capitalised", ev.model.capitalised, ev.positional.capitalised);
    for (int k = 1; k < kNumPuncts; ++k)
      row(std::string("  ") + punct_name(Punct(k)), ev.model.per_punct[size_t(k)],
          ev.positional.per_punct[size_t(k)]);
    for (int k = 0; k < kNumCasings; ++k)
      row(std::string("  ") + casing_name(Casing(k)), ev.model.per_casing[size_t(k)],
          ev.positional.per_casing[size_t(k)]);
  }
  // The classifier's table; its text confusion matrix names columns by their first 6 characters,
  // which clash for restoration tags (Cap,colon / Cap,comma), so past 12 tags it is left to the
  // SVG (confusion_svg; train-tagger writes one, eval-tagger --confusion).
  std::string per_tag = classification_report(ev.tokens, tags);
  const size_t matrix = per_tag.find("confusion (rows");
  if (tags.size() > 12 && matrix != std::string::npos)
    per_tag.replace(matrix, std::string::npos,
                    "confusion matrix: as SVG only for this many tags (eval-tagger --confusion)\n");
  out << "\nper tag (" << tags.size() << " tags):\n" << per_tag;
  return out.str();
}

}  // namespace recur
