// recur serve, taggers: a tag for every word, and for a punctuation model the restored text.
#include "task.h"

#include "recur/data/punctuation.h"
#include "recur/models/tagger_model.h"

namespace recur::serve {
namespace {

// Sequence tagging: the tag of every word, and for a punctuation model the restored text.
struct Tag final : Service::Task {
  TaggerModel model;
  mutable PacksPool packs;  // the weights packed once per concurrent request (task.h)
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
        predict_tags(model.net, {TagExample{model.words.encode(words), {}}}, 1,
                     packs.borrow().get());
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

std::unique_ptr<Service::Task> tag_task(const std::string& path, const Limits& limits) {
  return std::make_unique<Tag>(load_tagger_model(path), limits);
}

}  // namespace recur::serve
