// recur serve, text classifiers: the label of one text or of a list, with the classes' probabilities.
#include "task.h"

#include <algorithm>

#include "recur/core/error.h"
#include "recur/models/classifier_model.h"

namespace recur::serve {
namespace {

// Text classification: one text or a list, with every class's probability.
struct Classify final : Service::Task {
  ClassifierModel model;
  mutable PacksPool packs;  // the weights packed once per concurrent request (task.h)
  Classify(ClassifierModel m, const Limits& l) : Task(l), model(std::move(m)) {}
  std::string name() const override { return "classify"; }
  json describe() const override {
    json labels = json::array();
    for (int64_t c = 0; c < model.labels.size(); ++c) labels.push_back(model.labels.name(c));
    json d = {{"task", "classify"},
              {"labels", labels},
              {"request", {{"text", "string, or"},
                           {"texts", "a list of at most " + std::to_string(limits.max_texts) +
                                         " strings"},
                           {"top", "classes to list per text, default all"}}}};
    for (const auto& [k, v] : model.net.config.to_metadata()) d["network"][k] = v;
    return d;
  }
  json run(const json& request, const Sink*, bool dry) const override {
    const Fields f(request, {"text", "texts", "top"});
    if (f.has("text") == f.has("texts")) refuse(400, "give either 'text' or 'texts'");
    std::vector<std::string> texts;
    if (f.has("text")) {
      texts.push_back(f.text("text", limits.max_text));
    } else {
      const json& list = f.at("texts");
      if (!list.is_array()) refuse(400, "'texts' must be a list of strings");
      if (list.empty()) refuse(422, "'texts' is empty");
      if (int64_t(list.size()) > limits.max_texts)
        refuse(413, "'texts' holds " + std::to_string(list.size()) + " texts; at most " +
                        std::to_string(limits.max_texts));
      for (const json& t : list) {
        if (!t.is_string()) refuse(400, "'texts' must be a list of strings");
        if (t.get_ref<const std::string&>().size() > limits.max_text)
          refuse(413, "a text holds more than " + std::to_string(limits.max_text) + " bytes");
        texts.push_back(t.get<std::string>());
      }
    }
    const int64_t C = model.labels.size();
    const int64_t top = f.integer("top", C, 1, C);
    std::vector<Example> ex;
    for (size_t i = 0; i < texts.size(); ++i) {
      Example e;
      try {
        e.tokens = model.encoder.encode(texts[i], model.max_len, "text " + std::to_string(i + 1));
      } catch (const Error& err) {
        refuse(422, err.what());
      }
      if (e.tokens.empty()) refuse(422, "text " + std::to_string(i + 1) + " is empty");
      e.steps = int64_t(e.tokens.size());
      ex.push_back(std::move(e));
    }
    if (dry) return json();
    const Tensor<float> p = classifier_probabilities(model.net, ex, 64, packs.borrow().get());
    json results = json::array();
    for (size_t i = 0; i < ex.size(); ++i) {
      const float* row = p.ptr() + int64_t(i) * C;
      std::vector<int64_t> order(static_cast<size_t>(C));
      for (int64_t c = 0; c < C; ++c) order[size_t(c)] = c;
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
      json probs = json::array();
      for (int64_t k = 0; k < top; ++k)
        probs.push_back({{"label", model.labels.name(order[size_t(k)])},
                         {"probability", row[order[size_t(k)]]}});
      results.push_back({{"label", model.labels.name(order[0])}, {"classes", probs}});
    }
    return f.has("text") ? results[0] : json{{"results", results}};
  }
};

}  // namespace

std::unique_ptr<Service::Task> classify_task(const std::string& path, const Limits& limits) {
  ClassifierModel m = load_classifier_model(path);
  RECUR_CHECK(m.input == ClassifierInput::text,
              path << " classifies images; recur serve takes text classifiers");
  return std::make_unique<Classify>(std::move(m), limits);
}

}  // namespace recur::serve
