#include "recur/models/classifier_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "recur/core/enum_names.h"
#include "recur/io/file.h"
#include "recur/io/safetensors.h"
#include "recur/models/named_tensors.h"

namespace recur {

namespace {
constexpr EnumNames<ClassifierInput, 3> kClassifierInputNames{{{ClassifierInput::text, "text"},
                                                               {ClassifierInput::image_rows, "image_rows"},
                                                               {ClassifierInput::arrays, "arrays"}}};
}  // namespace

ClassifierInput parse_classifier_input(const std::string& name) {
  return parse_enum(kClassifierInputNames, name, "classifier input");
}
const char* classifier_input_name(ClassifierInput input) {
  return enum_name(kClassifierInputNames, input);
}

void save_classifier_model(const std::string& path, const ClassifierModel& m,
                           const std::map<std::string, std::string>& extra) {
  auto meta = m.net.config.to_metadata();
  meta["task"] = "classify";
  meta["input"] = classifier_input_name(m.input);
  meta["labels"] = m.labels.to_json();
  if (m.input == ClassifierInput::text) {
    for (auto& [k, v] : m.encoder.to_metadata()) meta[k] = v;
    meta["max_len"] = std::to_string(m.max_len);
  }
  for (auto& [k, v] : extra) meta[k] = v;
  save_safetensors(path, m.net.state_dict(), meta);
}

ClassifierModel load_classifier_model(const std::string& path) {
  const Safetensors<float> st = load_safetensors<float>(path);
  auto get = [&](const char* k) {
    auto it = st.metadata.find(k);
    RECUR_CHECK(it != st.metadata.end(), path << ": no '" << k << "' in the metadata");
    return it->second;
  };
  auto task = st.metadata.find("task");
  RECUR_CHECK(task != st.metadata.end() && task->second == "classify",
              path << ": not a recur classifier (its metadata has no task = classify); train one "
                      "with `recur train-classifier`");
  ClassifierModel m;
  try {
    m.input = parse_classifier_input(get("input"));
  } catch (const Error& e) {
    RECUR_FAIL(path << ": metadata 'input': " << e.what());
  }
  m.labels = LabelSet::from_json(get("labels"), path);
  ClassifierConfig cfg;
  try {
    cfg = ClassifierConfig::from_metadata(st.metadata);
  } catch (const Error& e) {
    RECUR_FAIL(path << ": " << e.what());
  }
  RECUR_CHECK(cfg.classes == m.labels.size(), path << ": the network has " << cfg.classes
                                                   << " outputs but " << m.labels.size()
                                                   << " labels");
  if (m.input == ClassifierInput::text) {
    m.encoder = TextEncoder::from_metadata(st.metadata, path);
    RECUR_CHECK(cfg.vocab == m.encoder.vocab_size(),
                path << ": the network reads " << cfg.vocab << " token ids, the encoder makes "
                     << m.encoder.vocab_size());
    try {
      m.max_len = std::stoll(get("max_len"));
    } catch (const std::exception&) {
      RECUR_FAIL(path << ": metadata 'max_len' is not an integer");
    }
  }
  check_parameter_count(parameter_count(cfg), st.tensors, path);
  m.net = SequenceClassifier<float>(cfg);
  m.net.load_state_dict(st.tensors, path);
  return m;
}

ClassifierBatch<float> make_classifier_batch(const std::vector<Example>& examples,
                                             const std::vector<size_t>& indices, bool dense,
                                             int64_t features) {
  ClassifierBatch<float> b;
  b.batch = int64_t(indices.size());
  for (size_t i : indices) b.steps = std::max(b.steps, examples[i].steps);
  if (dense)
    b.values = Tensor<float>({b.steps, b.batch, features});
  else
    b.tokens.assign(size_t(b.steps * b.batch), 0);  // padding id 0 (never read: see classifier.h)
  for (int64_t s = 0; s < b.batch; ++s) {
    const Example& e = examples[indices[size_t(s)]];
    b.lengths.push_back(e.steps);
    b.labels.push_back(e.label);
    for (int64_t t = 0; t < e.steps; ++t) {
      if (dense)
        std::copy_n(e.values.data() + t * features, features,
                    b.values.ptr() + (t * b.batch + s) * features);
      else
        b.tokens[size_t(t * b.batch + s)] = e.tokens[size_t(t)];
    }
  }
  return b;
}

namespace {
// Runs the network over all examples in batches of similar length; calls f(index, logits row).
template <class F>
void for_each_logits(const SequenceClassifier<float>& net, const std::vector<Example>& examples,
                     int64_t batch, F&& f, double* loss_sum, RnnPacks* kept = nullptr) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return examples[a].steps < examples[b].steps; });
  const bool dense = !net.config.tokens();
  const int64_t C = net.config.classes;
  RnnPacks local;  // the weights are fixed for the pass: pack each layer once
  RnnPacks& packs = kept ? *kept : local;
  for (size_t i = 0; i < order.size(); i += size_t(batch)) {
    std::vector<size_t> idx(order.begin() + i,
                            order.begin() + std::min(order.size(), i + size_t(batch)));
    const ClassifierBatch<float> b = make_classifier_batch(examples, idx, dense, net.config.features);
    Tensor<float> logits;
    const float loss = classifier_batch<float>(net, nullptr, b, RnnRunOptions().with_packs(&packs), &logits);
    if (loss_sum) *loss_sum += double(loss) * double(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) f(idx[k], logits.ptr() + k * C);
  }
}
}  // namespace

double ClassifierEvaluation::auc() const {
  std::vector<std::pair<float, bool>> s = scores;
  std::sort(s.begin(), s.end());
  // Mann-Whitney: the rank sum of the positives, tied scores sharing their mean rank.
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && s[j].first == s[i].first) ++j;
    const double mean_rank = double(i + j + 1) / 2;  // ranks i+1 .. j
    for (size_t k = i; k < j; ++k)
      if (s[k].second) rank_sum += mean_rank, ++pos;
    i = j;
  }
  const double neg = double(s.size()) - pos;
  if (pos == 0 || neg == 0) return std::nan("");
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

int64_t ClassifierEvaluation::majority_class(int64_t* count) const {
  const int64_t C = int64_t(std::sqrt(double(confusion.size())) + 0.5);
  int64_t best = 0, best_count = 0;
  for (int64_t r = 0; r < C; ++r) {
    int64_t n = 0;
    for (int64_t k = 0; k < C; ++k) n += confusion[size_t(r * C + k)];
    if (n > best_count) best = r, best_count = n;
  }
  if (count) *count = best_count;
  return best;
}

double ClassifierEvaluation::majority_accuracy() const {
  int64_t count = 0;
  majority_class(&count);
  return examples ? double(count) / double(examples) : 0.0;
}

ClassifierEvaluation evaluate_classifier(const SequenceClassifier<float>& net,
                                         const std::vector<Example>& examples, int64_t batch) {
  RECUR_CHECK(!examples.empty(), "no examples to evaluate");
  const int64_t C = net.config.classes;
  ClassifierEvaluation ev;
  ev.confusion.assign(size_t(C * C), 0);
  double loss_sum = 0;
  for_each_logits(net, examples, batch, [&](size_t i, const float* z) {
    const int64_t pred = int64_t(std::max_element(z, z + C) - z);
    const int64_t truth = examples[i].label;
    if (C == 2) ev.scores.emplace_back(z[1] - z[0], truth == 1);
    ++ev.confusion[size_t(truth * C + pred)];
    ev.correct += pred == truth;
    ++ev.examples;
  }, &loss_sum);
  ev.loss_nats = loss_sum / double(ev.examples);
  return ev;
}

Tensor<float> classifier_probabilities(const SequenceClassifier<float>& net,
                                       const std::vector<Example>& examples, int64_t batch,
                                       RnnPacks* packs) {
  const int64_t C = net.config.classes;
  Tensor<float> p({int64_t(examples.size()), C});
  for_each_logits(net, examples, batch, [&](size_t i, const float* z) {
    const float m = *std::max_element(z, z + C);
    double sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(double(z[c] - m));
    for (int64_t c = 0; c < C; ++c) p[int64_t(i) * C + c] = float(std::exp(double(z[c] - m)) / sum);
  }, nullptr, packs);
  return p;
}

std::string classification_report(const ClassifierEvaluation& ev, const LabelSet& labels) {
  const int64_t C = labels.size();
  size_t w = 5;  // the label column; cw: the confusion matrix's columns (whole labels, >= 6)
  for (const std::string& n : labels.names()) w = std::max(w, n.size());
  const size_t cw = std::max<size_t>(6, w);
  std::ostringstream out;
  char buf[160];
  std::snprintf(buf, sizeof buf, "accuracy %.4f (%lld of %lld), loss %.4f nats\n", ev.accuracy(),
                (long long)ev.correct, (long long)ev.examples, ev.loss_nats);
  out << buf;
  std::snprintf(buf, sizeof buf, "majority baseline %.4f (always %s)\n", ev.majority_accuracy(),
                labels.name(ev.majority_class()).c_str());
  out << buf;
  if (const double auc = ev.auc(); !std::isnan(auc)) {
    std::snprintf(buf, sizeof buf, "AUC %.4f (%s against %s)\n", auc, labels.name(1).c_str(),
                  labels.name(0).c_str());
    out << buf;
  }
  std::snprintf(buf, sizeof buf, "%-*s %9s %9s %9s %8s\n", int(w), "class", "precision", "recall",
                "f1", "support");
  out << buf;
  double macro_f1 = 0;
  for (int64_t c = 0; c < C; ++c) {
    int64_t tp = ev.confusion[size_t(c * C + c)], support = 0, predicted = 0;
    for (int64_t k = 0; k < C; ++k) {
      support += ev.confusion[size_t(c * C + k)];
      predicted += ev.confusion[size_t(k * C + c)];
    }
    const double p = predicted ? double(tp) / double(predicted) : 0.0;
    const double r = support ? double(tp) / double(support) : 0.0;
    const double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    macro_f1 += f1 / double(C);
    std::snprintf(buf, sizeof buf, "%-*s %9.4f %9.4f %9.4f %8lld\n", int(w), labels.name(c).c_str(),
                  p, r, f1, (long long)support);
    out << buf;
  }
  std::snprintf(buf, sizeof buf, "macro F1 %.4f\nconfusion (rows: true class, columns: predicted)\n",
                macro_f1);
  out << buf;
  std::snprintf(buf, sizeof buf, "%-*s", int(w), "");
  out << buf;
  for (int64_t c = 0; c < C; ++c) {
    std::snprintf(buf, sizeof buf, " %*s", int(cw), labels.name(c).c_str());
    out << buf;
  }
  out << "\n";
  for (int64_t r = 0; r < C; ++r) {
    std::snprintf(buf, sizeof buf, "%-*s", int(w), labels.name(r).c_str());
    out << buf;
    for (int64_t c = 0; c < C; ++c) {
      std::snprintf(buf, sizeof buf, " %*lld", int(cw), (long long)ev.confusion[size_t(r * C + c)]);
      out << buf;
    }
    out << "\n";
  }
  return out.str();
}

namespace {
std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}
}  // namespace

std::string confusion_svg(const ClassifierEvaluation& ev, const LabelSet& labels,
                          const std::string& title) {
  const int64_t C = labels.size();
  const int cell = C <= 12 ? 44 : 28, left = 130, top = 90;
  const int width = left + int(C) * cell + 30, height = top + int(C) * cell + 50;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << width / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">"
    << xml_escape(title) << "</text>\n"
    << "<text x=\"" << left + C * cell / 2 << "\" y=\"40\" text-anchor=\"middle\">predicted</text>\n"
    << "<text x=\"14\" y=\"" << top + C * cell / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 14 "
    << top + C * cell / 2 << ")\">true class</text>\n";
  for (int64_t c = 0; c < C; ++c) {
    const int x = left + int(c) * cell + cell / 2;
    s << "<text x=\"" << x << "\" y=\"" << top - 6 << "\" text-anchor=\"start\" transform=\"rotate(-45 "
      << x << " " << top - 6 << ")\">" << xml_escape(labels.name(c)) << "</text>\n";
    s << "<text x=\"" << left - 6 << "\" y=\"" << top + int(c) * cell + cell / 2 + 4
      << "\" text-anchor=\"end\">" << xml_escape(labels.name(c)) << "</text>\n";
  }
  for (int64_t r = 0; r < C; ++r) {
    int64_t row = 0;
    for (int64_t c = 0; c < C; ++c) row += ev.confusion[size_t(r * C + c)];
    for (int64_t c = 0; c < C; ++c) {
      const int64_t n = ev.confusion[size_t(r * C + c)];
      const double f = row ? double(n) / double(row) : 0.0;
      const int shade = int(255 - 200 * f);
      s << "<rect x=\"" << left + c * cell << "\" y=\"" << top + r * cell << "\" width=\"" << cell
        << "\" height=\"" << cell << "\" fill=\"rgb(" << shade << "," << shade << ",255)\" stroke=\"#ccc\"/>\n";
      if (n > 0)
        s << "<text x=\"" << left + c * cell + cell / 2 << "\" y=\"" << top + r * cell + cell / 2 + 4
          << "\" text-anchor=\"middle\" fill=\"" << (f > 0.6 ? "white" : "black") << "\">" << n
          << "</text>\n";
    }
  }
  char acc[64];
  std::snprintf(acc, sizeof acc, "accuracy %.4f over %lld examples", ev.accuracy(),
                (long long)ev.examples);
  s << "<text x=\"" << width / 2 << "\" y=\"" << height - 15 << "\" text-anchor=\"middle\">" << acc
    << "</text>\n</svg>\n";
  return s.str();
}

}  // namespace recur
