// recur serve, seq2seq models: a source sequence in, the decoded target out (greedy or beam search,
// with the n best hypotheses on request).
#include "task.h"

#include "recur/models/seq2seq_model.h"

namespace recur::serve {
namespace {

struct Translate final : Service::Task {
  static constexpr int64_t kMaxBeam = 32, kMaxSourceTokens = 1000;
  Seq2SeqModel model;
  Translate(Seq2SeqModel m, const Limits& l) : Task(l), model(std::move(m)) {}
  std::string name() const override { return "seq2seq"; }
  json describe() const override {
    json d = {{"task", "seq2seq"},
              {"source_vocabulary", model.source.size()},
              {"target_vocabulary", model.target.size()},
              {"request",
               {{"text", "string: tokens separated by spaces (required)"},
                {"chars", "true: every character of 'text' is a token (spelling input), default false"},
                {"beam", "1 (greedy) to " + std::to_string(kMaxBeam) + ", default 1"},
                {"alpha", "beam search length normalisation in [0, 5], default 1"},
                {"nbest", "hypotheses to return, at most 'beam', default 1"},
                {"max_length", "output tokens, default 2 * source length + 10"}}}};
    for (const auto& [k, v] : model.net.config.to_metadata()) d["network"][k] = v;
    return d;
  }
  json run(const json& request, const Sink*, bool dry) const override {
    const Fields f(request, {"text", "chars", "beam", "alpha", "nbest", "max_length"});
    const std::string text = f.text("text", limits.max_text);
    const std::vector<std::string> source = split_source(text, f.flag("chars"));
    if (source.empty()) refuse(422, "'text' holds no tokens");
    if (int64_t(source.size()) > kMaxSourceTokens)
      refuse(413, "'text' holds " + std::to_string(source.size()) + " tokens; at most " +
                      std::to_string(kMaxSourceTokens));
    const int64_t beam = f.integer("beam", 1, 1, kMaxBeam);
    const double alpha = f.number("alpha", 1.0, 0.0, 5.0, false);
    const int64_t nbest = f.integer("nbest", 1, 1, beam);
    const int64_t max_length = f.integer("max_length", 0, 1, limits.max_length);
    int64_t unknown = 0;
    const std::vector<int64_t> ids = model.encode_source(source);
    for (const int64_t id : ids) unknown += id == 0;  // <unk>
    if (dry) return json();
    json out = {{"source", source}, {"unknown_source_tokens", unknown}};
    if (nbest > 1) {
      json hyps = json::array();
      const auto found = seq2seq_beam(model.net, ids, beam, alpha, max_length);
      for (size_t i = 0; i < found.size() && int64_t(i) < nbest; ++i) {
        const std::vector<std::string> tokens = model.decode_target(found[i].tokens);
        hyps.push_back({{"text", join_tokens(tokens)}, {"tokens", tokens}, {"score", found[i].score},
                        {"log_prob", found[i].log_prob}});
      }
      out["text"] = hyps.empty() ? "" : hyps[0]["text"];
      out["hypotheses"] = hyps;
      return out;
    }
    DecodeOptions o;
    o.beam = beam;
    o.alpha = alpha;
    o.max_len = max_length;
    const std::vector<std::string> tokens = decode_sources(model, {&source}, o)[0];
    out["text"] = join_tokens(tokens);
    out["tokens"] = tokens;
    return out;
  }
};

}  // namespace

std::unique_ptr<Service::Task> translate_task(const std::string& path, const Limits& limits) {
  return std::make_unique<Translate>(load_seq2seq_model(path), limits);
}

}  // namespace recur::serve
