// recur::serve::Service for classifiers and taggers: the served answer is the library's own
// (classifier_probabilities, predict_tags), the same when many threads ask at once (each request
// borrows packed weights from the task's pool, src/serve/task.h), and the same again after.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "recur/models/classifier_model.h"
#include "recur/models/tagger_model.h"
#include "recur/serve/service.h"
#include "scratch_dir.h"

namespace recur::serve {
namespace {

using json = nlohmann::json;

// Eight threads, five requests each, all answered as the first request alone was.
void expect_same_answers_at_once(const Service& svc, const std::string& request, const std::string& want) {
  std::vector<std::string> got(8);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < got.size(); ++i)
    pool.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) got[i] = svc.predict(request).body;
    });
  for (std::thread& t : pool) t.join();
  for (const std::string& g : got) EXPECT_EQ(g, want);
  EXPECT_EQ(svc.predict(request).body, want);
}

class ClassifyTest : public testing::ScratchDirTest {};

TEST_F(ClassifyTest, AnswersTheLibrarysProbabilitiesFromManyThreadsAtOnce) {
  ClassifierModel m;
  m.encoder = TextEncoder::bytes();
  m.max_len = 64;
  m.labels = LabelSet::numbered(3);
  ClassifierConfig c;
  c.vocab = m.encoder.vocab_size();
  c.embed = 8;
  c.rnn.cell = CellKind::lstm;
  c.rnn.input_size = 8;
  c.rnn.hidden_size = 64;  // split by units on two or more threads: the packs hold the slices
  c.rnn.bidirectional = true;
  c.classes = 3;
  m.net = SequenceClassifier<float>(c);
  Rng rng(4);
  init_classifier(m.net, rng);
  save_classifier_model(Path("c.safetensors"), m);
  const std::unique_ptr<Service> svc = Service::load(Path("c.safetensors"));

  const std::vector<std::string> texts = {"in the beginning", "and god said", "let there be light"};
  std::vector<Example> ex;
  for (const std::string& t : texts) {
    Example e;
    e.tokens = m.encoder.encode(t, m.max_len, "test");
    e.steps = int64_t(e.tokens.size());
    ex.push_back(e);
  }
  const Tensor<float> p = classifier_probabilities(m.net, ex, 64);
  const std::string request = R"({"texts": ["in the beginning", "and god said", "let there be light"]})";
  const Reply r = svc->predict(request);
  ASSERT_EQ(r.status, 200) << r.body;
  const json results = json::parse(r.body)["results"];
  ASSERT_EQ(results.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    for (const json& cls : results[i]["classes"]) {
      const int64_t k = m.labels.id(cls["label"].get<std::string>(), "reply");
      EXPECT_NEAR(cls["probability"].get<float>(), p[int64_t(i) * 3 + k], 1e-6) << texts[i];
    }
  expect_same_answers_at_once(*svc, request, r.body);
}

class TagTest : public testing::ScratchDirTest {};

TEST_F(TagTest, AnswersTheLibrarysTagsFromManyThreadsAtOnce) {
  const std::vector<TaggedSequence> seqs = {
      {{"in", "the", "beginning"}, {"Cap", "lower", "lower,period"}},
      {{"and", "god", "said"}, {"Cap", "Cap", "lower,comma"}},
  };
  TaggerModel m;
  m.words = TokenIndex::build(seqs, 100, 1, "seqs");
  m.tags = LabelSet::from_json(R"(["Cap","lower","lower,comma","lower,period"])", "tags");
  SequenceModelConfig c;
  c.vocab = m.words.size();
  c.outputs = m.tags.size();
  c.embed = 6;
  c.rnn.cell = CellKind::gru;
  c.rnn.input_size = 6;
  c.rnn.hidden_size = 64;  // split by units on two or more threads: the packs hold the slices
  c.rnn.bidirectional = true;
  m.net = SequenceModel<float>(c);
  Rng rng(5);
  init_sequence_model(m.net, rng);
  save_tagger_model(Path("t.safetensors"), m);
  const std::unique_ptr<Service> svc = Service::load(Path("t.safetensors"));

  const std::vector<std::string> words = {"and", "the", "beginning", "said"};
  const auto pred = predict_tags(m.net, {TagExample{m.words.encode(words), {}}}, 1);
  const std::string request = R"({"text": "and the beginning said"})";
  const Reply r = svc->predict(request);
  ASSERT_EQ(r.status, 200) << r.body;
  const json tags = json::parse(r.body)["tags"];
  ASSERT_EQ(tags.size(), words.size()) << r.body;
  for (size_t t = 0; t < words.size(); ++t) EXPECT_EQ(tags[t].get<std::string>(), m.tags.name(pred[0][t]));
  expect_same_answers_at_once(*svc, request, r.body);
}

}  // namespace
}  // namespace recur::serve
