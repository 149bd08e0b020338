// recur serve, language models: text generation, all at once or streamed token by token.
#include "task.h"

#include <limits>

#include "recur/core/error.h"
#include "recur/models/language_model.h"

namespace recur::serve {
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
    Rng rng(static_cast<uint64_t>(seed));
    std::string text;
    auto send = [&](int64_t token) {  // what decoding the reply so far adds for this token
      const std::string piece = lm.vocab.decode_next(text, token);
      text += piece;
      return (*sink)(piece);  // false: the client left
    };
    SampleOptions o;
    o.length = length;
    o.temperature = temperature;
    o.top_k = top_k;
    const std::vector<int64_t> out =
        sample_language_model(lm.net, ids, o, rng, sink ? std::function<bool(int64_t)>(send) : nullptr);
    if (sink) return json();
    return {{"text", lm.vocab.decode(out)}, {"tokens", int64_t(out.size())}};
  }
};

}  // namespace

std::unique_ptr<Service::Task> generate_task(const std::string& path, const Limits& limits) {
  LanguageModel lm = load_language_model(path);
  require_left_to_right(lm, path, "recur serve");
  return std::make_unique<Generate>(std::move(lm), limits);
}

}  // namespace recur::serve
