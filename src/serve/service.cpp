// recur::serve::Service (recur/serve/service.h): loading a model by its task (the tasks are
// src/serve/<task>.cpp, their shared parts task.h), and the requests' replies: every refusal or
// error becomes its status and a JSON message.
#include "recur/serve/service.h"

#include "recur/core/error.h"
#include "recur/io/safetensors.h"
#include "task.h"

namespace recur::serve {

std::string error_body(const std::string& message) {
  // Bytes that are not UTF-8 (a client's path or text quoted back) become U+FFFD, never a throw.
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::unique_ptr<Service> Service::load(const std::string& path, const Limits& limits) {
  const Safetensors<float> st = load_safetensors<float>(path);
  const auto it = st.metadata.find("task");
  const std::string task = it == st.metadata.end() ? std::string() : it->second;
  std::unique_ptr<Task> t;
  if (task == "lm") t = generate_task(path, limits);
  else if (task == "classify") t = classify_task(path, limits);
  else if (task == "tag") t = tag_task(path, limits);
  else if (task == "seq2seq") t = translate_task(path, limits);
  else if (task == "forecast") t = forecast_task(path, limits);
  else
    RECUR_FAIL(path << ": a model of task '" << (task.empty() ? "none" : task)
                    << "'; recur serve takes language models (train-lm), text classifiers "
                       "(train-classifier), taggers (train-tagger), seq2seq models "
                       "(train-seq2seq) and forecasters (train-forecaster)");
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
