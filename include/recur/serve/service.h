// What `recur serve` answers, without the HTTP: a trained model loaded once, and the JSON requests
// of its task validated and run. The HTTP layer (tools/recur/cmd_serve.cpp) only moves bytes, so
// everything a client can send is tested here (tests/serve).
//
//   language model   {"prompt": "...", "length": 200, "temperature": 0.8, "top_k": 0, "seed": 1,
//                     "stream": false}                       -> {"text": "...", "tokens": n}
//   classifier       {"text": "..."} or {"texts": [...]}, "top": k  -> label and probabilities
//   tagger           {"text": "..."}                         -> tokens, tags, the restored text
//   seq2seq          {"text": "...", "chars", "beam", "nbest"} -> the decoded tokens (n best)
//   forecaster       {"window": [[...], ...]}                -> the next horizon steps' targets
//
// A Service is read-only after load: any number of threads may call predict() at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace recur::serve {

struct Limits {
  size_t max_body = size_t(1) << 20;  // bytes of one request
  int64_t max_length = 10000;         // tokens one generation may ask for
  int64_t max_texts = 256;            // texts in one classification request
  size_t max_text = 100000;           // bytes of one text or prompt
};

struct Reply {
  int status = 200;  // 200, or 400 (malformed), 413 (too large), 422 (well-formed, unusable)
  std::string body;  // JSON: the result, or {"error": "..."}
};

// {"error": message} as JSON (every error reply's body).
std::string error_body(const std::string& message);

// Receives streamed output, chunk by chunk; returns false when the client is gone (stop).
using Sink = std::function<bool(const std::string& chunk)>;

class Service {
 public:
  // Loads the model at `path` by its task (safetensors metadata "task"); a file that is no model
  // recur serves is an error naming it.
  static std::unique_ptr<Service> load(const std::string& path, const Limits& limits = {});
  ~Service();

  std::string task() const;
  // GET /v1/model: the task, the network's configuration, the labels or vocabulary size, and what
  // a request looks like.
  std::string describe() const;
  // POST /v1/predict. Never throws: every failure is a Reply with its status and message.
  Reply predict(const std::string& body) const;
  // Whether the request asks for streamed output ({"stream": true}; generation only). Then
  // stream() writes the output to `sink` as it is made. A failure found before the first chunk is
  // returned as a Reply (status != 200); the stream just ends at one found later.
  bool wants_stream(const std::string& body) const;
  // Every check predict() makes, without the work: a 200 Reply means stream() will start.
  Reply check(const std::string& body) const;
  Reply stream(const std::string& body, const Sink& sink) const;

  struct Task;  // one per task (src/serve/service.cpp)

 private:
  explicit Service(std::unique_ptr<Task> task);
  std::unique_ptr<Task> task_;
};

}  // namespace recur::serve
