// What every task of `recur serve` shares (src/serve/*.cpp, one task a file): a refusal with its
// status, the request's typed fields, the body's parsing under the limits, the Task interface, and
// each task's constructor from a model file.
//
// Status codes: 400 for a request that is not what the task reads (not JSON, not an object, an
// unknown field, a wrong type), 413 for one over the limits, 422 for a well-formed one that cannot
// be served (a value out of range, a character the model never saw).
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"
#include "recur/serve/service.h"

namespace recur::serve {

using json = nlohmann::json;

// A request the task cannot read (400) or serve (422 and 413), with the message for the client.
struct Refused {
  int status;
  std::string message;
};
[[noreturn]] inline void refuse(int status, const std::string& message) { throw Refused{status, message}; }

// Packed weights for requests that run at the same time (a Service takes any number at once; one
// RnnPacks serves one call at a time): each request borrows one, made at first need and kept, so
// the model's weights, which never change while it serves, are packed once per concurrent request
// rather than once per request.
class PacksPool {
 public:
  class Lease {
   public:
    Lease(PacksPool& pool, std::unique_ptr<RnnPacks> packs) : pool_(pool), packs_(std::move(packs)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      const std::lock_guard<std::mutex> lock(pool_.mutex_);
      pool_.free_.push_back(std::move(packs_));
    }
    RnnPacks* get() const { return packs_.get(); }

   private:
    PacksPool& pool_;
    std::unique_ptr<RnnPacks> packs_;
  };
  Lease borrow() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) return Lease(*this, std::make_unique<RnnPacks>());
    std::unique_ptr<RnnPacks> p = std::move(free_.back());
    free_.pop_back();
    return Lease(*this, std::move(p));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<RnnPacks>> free_;
};


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
    const bool in_range = v.is_number_unsigned()  // a JSON integer >= 0 (perhaps past int64)
                              ? v.get<uint64_t>() <= uint64_t(hi) && int64_t(v.get<uint64_t>()) >= lo
                              : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!in_range)
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

inline json parse_body(const std::string& body, const Limits& limits) {
  if (body.size() > limits.max_body)
    refuse(413, "the request holds " + std::to_string(body.size()) + " bytes; at most " +
                    std::to_string(limits.max_body));
  json j = json::parse(body, nullptr, false);  // no exceptions: a discarded value on bad input
  if (j.is_discarded()) refuse(400, "the request body is not valid JSON");
  return j;
}

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

// The tasks, each from its model file (its own .cpp).
std::unique_ptr<Service::Task> generate_task(const std::string& path, const Limits& limits);
std::unique_ptr<Service::Task> classify_task(const std::string& path, const Limits& limits);
std::unique_ptr<Service::Task> tag_task(const std::string& path, const Limits& limits);
std::unique_ptr<Service::Task> translate_task(const std::string& path, const Limits& limits);
std::unique_ptr<Service::Task> forecast_task(const std::string& path, const Limits& limits);

}  // namespace recur::serve
