// recur::serve::Service (recur/serve/service.h): loading a model by its task, and each task's
// request validation and work. Status codes: 400 for a request that is not what the task reads
// (not JSON, not an object, an unknown field, a wrong type), 413 for one over the limits, 422 for a
// well-formed one that cannot be served (a value out of range, a character the model never saw).
#include "recur/serve/service.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "recur/core/error.h"
#include "recur/data/punctuation.h"
#include "recur/io/safetensors.h"
#include "recur/models/classifier_model.h"
#include "recur/models/language_model.h"
#include "recur/models/tagger_model.h"
#include "recur/nn/sampling.h"

namespace recur::serve {

using json = nlohmann::json;

std::string error_body(const std::string& message) {
  // Bytes that are not UTF-8 (a client's path or text quoted back) become U+FFFD, never a throw.
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// A request the task cannot read (400) or serve (422 and 413), with the message for the client.
struct Refused {
  int status;
  std::string message;
};
[[noreturn]] void refuse(int status, const std::string& message) { throw Refused{status, message}; }


// The request's fields, checked against what the task reads; typed getters name the field and
// the expected type or range.
class Fields {
 public:
  Fields(const json& body, std::initializer_list<const char*> known) : body_(body) {
    if (!body.is_object()) refuse(400, "the request body must be a JSON object");
    std::set<std::string> names(known.begin(), known.end());
    for (const auto& [name, value] : body.items())
      if (!names.count(name)) {
        std::string list;
        for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
        refuse(400, "unknown field '" + name + "'; this model reads " + list);
      }
  }
  bool has(const char* name) const { return body_.contains(name); }
  std::string text(const char* name, size_t max_bytes) const {
    const json& v = at(name);
    if (!v.is_string()) refuse(400, std::string("'") + name + "' must be a string");
    const std::string s = v.get<std::string>();
    if (s.size() > max_bytes)
      refuse(413, std::string("'") + name + "' holds " + std::to_string(s.size()) +
                      " bytes; at most " + std::to_string(max_bytes));
    return s;
  }
  int64_t integer(const char* name, int64_t fallback, int64_t lo, int64_t hi) const {
    if (!has(name)) return fallback;
    const json& v = at(name);
    if (!v.is_number_integer())
      refuse(400, std::string("'") + name + "' must be an integer");
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(hi) : v.get<int64_t>() < lo ||
                                                                       v.get<int64_t>() > hi)
      refuse(422, std::string("'") + name + "' must be in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    return v.get<int64_t>();
  }
  double number(const char* name, double fallback, double lo, double hi, bool open_low) const {
    if (!has(name)) return fallback;
    const json& v = at(name);
    if (!v.is_number()) refuse(400, std::string("'") + name + "' must be a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || (open_low ? x <= lo : x < lo) || x > hi) {
      std::ostringstream os;
      os << "'" << name << "' must be in " << (open_low ? "(" : "[") << lo << ", " << hi << "], got "
         << x;
      refuse(422, os.str());
    }
    return x;
  }
  bool flag(const char* name) const {
    if (!has(name)) return false;
    if (!at(name).is_boolean()) refuse(400, std::string("'") + name + "' must be true or false");
    return at(name).get<bool>();
  }
  const json& at(const char* name) const {
    if (!has(name)) refuse(400, std::string("'") + name + "' is required");
    return body_.at(name);
  }

 private:
  const json& body_;
};

json parse_body(const std::string& body, const Limits& limits) {
  if (body.size() > limits.max_body)
    refuse(413, "the request holds " + std::to_string(body.size()) + " bytes; at most " +
                    std::to_string(limits.max_body));
  json j = json::parse(body, nullptr, false);  // no exceptions: a discarded value on bad input
  if (j.is_discarded()) refuse(400, "the request body is not valid JSON");
  return j;
}

}  // namespace

struct Service::Task {
  explicit Task(const Limits& l) : limits(l) {}
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual json describe() const = 0;
  virtual bool streams() const { return false; }
  // The task's work on a parsed request; with a sink, streams its output there and returns null.
  // dry: validate only (throws as the real run would), no work.
  virtual json run(const json& request, const Sink* sink, bool dry = false) const = 0;
  Limits limits;
};

namespace {

// Text generation from a language model, all at once or token by token.
struct Generate final : Service::Task {
  LanguageModel lm;
  Generate(LanguageModel m, const Limits& l) : Task(l), lm(std::move(m)) {}
  std::string name() const override { return "lm"; }
  json describe() const override {
    json d = {{"task", "lm"},
              {"tokens", token_mode_name(lm.vocab.mode())},
              {"vocabulary", lm.vocab.size()},
              {"request", {{"prompt", "string (required)"},
                           {"length", "tokens to generate, default 200, at most " +
                                          std::to_string(limits.max_length)},
                           {"temperature", "> 0, default 1"},
                           {"top_k", "0 (all) or the k most likely tokens, default 0"},
                           {"seed", "integer, default 1"},
                           {"stream", "true: the text arrives as it is generated"}}}};
    for (const auto& [k, v] : lm.net.config.to_metadata()) d["network"][k] = v;
    return d;
  }
  bool streams() const override { return true; }
  json run(const json& request, const Sink* sink, bool dry) const override {
    const Fields f(request, {"prompt", "length", "temperature", "top_k", "seed", "stream"});
    const std::string prompt = f.text("prompt", limits.max_text);
    if (prompt.empty()) refuse(422, "'prompt' is empty; give at least one character");
    const int64_t length = f.integer("length", 200, 0, limits.max_length);
    const double temperature = f.number("temperature", 1.0, 0.0, 100.0, true);
    const int64_t top_k = f.integer("top_k", 0, 0, lm.vocab.size());
    const int64_t seed = f.integer("seed", 1, 0, std::numeric_limits<int64_t>::max());
    std::vector<int64_t> ids;
    try {
      ids = lm.vocab.encode(prompt, "'prompt'");
    } catch (const Error& e) {
      refuse(422, e.what());
    }
    if (ids.empty()) refuse(422, "'prompt' holds no token the model knows");
    f.flag("stream");  // its type
    if (dry) return json();
    const int64_t V = lm.net.config.outputs;
    Rng rng(static_cast<uint64_t>(seed));
    RnnState<float> state;
    Tensor<float> logits;
    for (int64_t id : ids) sequence_model_step(logits, lm.net, {id}, state);
    std::vector<int64_t> out;
    std::string text;
    for (int64_t i = 0; i < length; ++i) {
      const int64_t pick = sample_from_logits(logits.ptr(), V, temperature, top_k, rng);
      out.push_back(pick);
      if (sink) {  // words: what decoding the whole output adds; chars: the token's bytes
        const std::string piece = lm.vocab.mode() == TokenMode::chars
                                      ? lm.vocab.token(pick)
                                      : lm.vocab.decode(out).substr(text.size());
        text += piece;
        if (!(*sink)(piece)) return json();  // the client left
      }
      sequence_model_step(logits, lm.net, {pick}, state);
    }
    if (sink) return json();
    return {{"text", lm.vocab.decode(out)}, {"tokens", int64_t(out.size())}};
  }
};

// Text classification: one text or a list, with every class's probability.
struct Classify final : Service::Task {
  ClassifierModel model;
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
    const Tensor<float> p = classifier_probabilities(model.net, ex, 64);
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

// Sequence tagging: the tag of every word, and for a punctuation model the restored text.
struct Tag final : Service::Task {
  TaggerModel model;
  bool restore;
  Tag(TaggerModel m, const Limits& l)
      : Task(l), model(std::move(m)), restore(is_restoration_tagset(model.tags)) {}
  std::string name() const override { return "tag"; }
  json describe() const override {
    json tags = json::array();
    for (int64_t c = 0; c < model.tags.size(); ++c) tags.push_back(model.tags.name(c));
    json d = {{"task", "tag"}, {"tags", tags}, {"restoration", restore},
              {"request", {{"text", "string: words separated by spaces"}}}};
    for (const auto& [k, v] : model.net.config.to_metadata()) d["network"][k] = v;
    return d;
  }
  json run(const json& request, const Sink*, bool dry) const override {
    const Fields f(request, {"text"});
    const std::string text = f.text("text", limits.max_text);
    std::vector<std::string> words;
    if (restore) {
      words = plain_words(text);
    } else {
      std::istringstream in(text);
      for (std::string w; in >> w;) words.push_back(w);
    }
    if (words.empty()) refuse(422, "'text' holds no words");
    if (dry) return json();
    const std::vector<std::vector<int64_t>> pred =
        predict_tags(model.net, {TagExample{model.words.encode(words), {}}}, 1);
    json tags = json::array();
    for (int64_t t : pred[0]) tags.push_back(model.tags.name(t));
    json out = {{"words", words}, {"tags", tags}};
    if (restore) {
      std::vector<RestorationTag> r(words.size());
      for (size_t j = 0; j < words.size(); ++j) parse_restoration_tag(model.tags.name(pred[0][j]), &r[j]);
      out["text"] = restore_text(words, r);
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Service> Service::load(const std::string& path, const Limits& limits) {
  const Safetensors<float> st = load_safetensors<float>(path);
  const auto it = st.metadata.find("task");
  const std::string task = it == st.metadata.end() ? std::string() : it->second;
  std::unique_ptr<Task> t;
  if (task == "lm") t = std::make_unique<Generate>(load_language_model(path), limits);
  else if (task == "classify") {
    ClassifierModel m = load_classifier_model(path);
    RECUR_CHECK(m.input == ClassifierInput::text,
                path << " classifies images; recur serve takes text classifiers");
    t = std::make_unique<Classify>(std::move(m), limits);
  } else if (task == "tag") t = std::make_unique<Tag>(load_tagger_model(path), limits);
  else
    RECUR_FAIL(path << ": a model of task '" << (task.empty() ? "none" : task)
                    << "'; recur serve takes language models (train-lm), text classifiers "
                       "(train-classifier) and taggers (train-tagger)");
  return std::unique_ptr<Service>(new Service(std::move(t)));
}

Service::Service(std::unique_ptr<Task> task) : task_(std::move(task)) {}
Service::~Service() = default;

std::string Service::task() const { return task_->name(); }
std::string Service::describe() const { return task_->describe().dump(); }

namespace {

// Runs one request's work (a function returning the 200 Reply); a refusal or an error becomes its
// status and a JSON message. Never throws.
template <class Work>
Reply answer(Work work) {
  try {
    return work();
  } catch (const Refused& r) {
    return Reply{r.status, error_body(r.message)};
  } catch (const std::exception& e) {  // the model refused the input (recur::Error) or worse
    return Reply{422, error_body(e.what())};
  }
}

}  // namespace

Reply Service::predict(const std::string& body) const {
  return answer([&] { return Reply{200, task_->run(parse_body(body, task_->limits), nullptr).dump()}; });
}

Reply Service::check(const std::string& body) const {
  return answer([&] {
    task_->run(parse_body(body, task_->limits), nullptr, true);
    return Reply{200, ""};
  });
}

bool Service::wants_stream(const std::string& body) const {
  if (!task_->streams() || body.size() > task_->limits.max_body) return false;
  const json j = json::parse(body, nullptr, false);
  return j.is_object() && j.contains("stream") && j["stream"].is_boolean() && j["stream"].get<bool>();
}

Reply Service::stream(const std::string& body, const Sink& sink) const {
  bool started = false;
  const Sink counted = [&](const std::string& chunk) {
    started = true;
    return sink(chunk);
  };
  const Reply r = answer([&] {
    task_->run(parse_body(body, task_->limits), &counted);
    return Reply{200, ""};
  });
  return started ? Reply{200, ""} : r;  // once the stream has begun, a failure just ends it
}

}  // namespace recur::serve
