// recur::serve::Service, what `recur serve` answers, without the network: a language model's
// generation (deterministic per seed, streamed = whole), every malformed or out-of-range request
// answered with its status and a message naming the field, limits enforced before any work, many
// threads at once, and files that are no servable model refused. (The HTTP layer: serve_smoke.sh.)
#include "recur/serve/service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "recur/core/error.h"
#include "recur/models/language_model.h"
#include "recur/io/safetensors.h"
#include "scratch_dir.h"
#include "tiny_models.h"

namespace recur::serve {
namespace {

using json = nlohmann::json;

class ServiceTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    const LanguageModel lm =
        testing::tiny_char_lm("the quick brown fox jumps over the lazy dog.\n", 8, 16, 1, 7);
    path_ = Path("lm.safetensors");
    save_language_model(path_, lm);
    vocab_ = lm.vocab.size();
    Limits limits;
    limits.max_body = 4096;
    limits.max_length = 500;
    limits.max_text = 1000;
    svc_ = Service::load(path_, limits);
  }
  // The reply's status, and its error message when it has one.
  static std::string error_of(const Reply& r) {
    const json j = json::parse(r.body);
    return j.contains("error") ? j["error"].get<std::string>() : "";
  }
  std::string path_;
  int64_t vocab_ = 0;
  std::unique_ptr<Service> svc_;
};

TEST_F(ServiceTest, GeneratesDeterministicallyPerSeed) {
  EXPECT_EQ(svc_->task(), "lm");
  const json d = json::parse(svc_->describe());
  EXPECT_EQ(d["task"], "lm");
  EXPECT_EQ(d["vocabulary"].get<int64_t>(), vocab_);
  EXPECT_EQ(vocab_, 29);  // a-z, space, '.', newline
  const Reply a = svc_->predict(R"({"prompt": "the ", "length": 40, "temperature": 0.8, "seed": 3})");
  ASSERT_EQ(a.status, 200) << a.body;
  const json ja = json::parse(a.body);
  EXPECT_EQ(ja["text"].get<std::string>().size(), 40u);
  EXPECT_EQ(ja["tokens"].get<int64_t>(), 40);
  EXPECT_EQ(svc_->predict(R"({"prompt": "the ", "length": 40, "temperature": 0.8, "seed": 3})").body, a.body);
  EXPECT_NE(svc_->predict(R"({"prompt": "the ", "length": 40, "temperature": 0.8, "seed": 4})").body, a.body);
  const Reply zero = svc_->predict(R"({"prompt": "dog", "length": 0})");
  ASSERT_EQ(zero.status, 200);
  EXPECT_EQ(json::parse(zero.body)["text"], "");
}

TEST_F(ServiceTest, StreamedTextIsTheWholeText) {
  const std::string req = R"({"prompt": "lazy ", "length": 60, "seed": 9, "stream": true})";
  ASSERT_TRUE(svc_->wants_stream(req));
  EXPECT_FALSE(svc_->wants_stream(R"({"prompt": "lazy ", "stream": false})"));
  EXPECT_FALSE(svc_->wants_stream("not json"));
  EXPECT_EQ(svc_->check(req).status, 200);
  std::string streamed;
  int chunks = 0;
  const Reply r = svc_->stream(req, [&](const std::string& c) {
    streamed += c;
    ++chunks;
    return true;
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(chunks, 60);  // token by token
  const Reply whole = svc_->predict(R"({"prompt": "lazy ", "length": 60, "seed": 9})");
  EXPECT_EQ(streamed, json::parse(whole.body)["text"].get<std::string>());
  // A client that leaves stops the generation.
  int taken = 0;
  svc_->stream(req, [&](const std::string&) { return ++taken < 5; });
  EXPECT_EQ(taken, 5);
  // A bad streamed request is refused before the first chunk.
  const std::string bad = R"({"prompt": "lazy ", "length": -2, "stream": true})";
  EXPECT_EQ(svc_->check(bad).status, 422);
  EXPECT_EQ(svc_->stream(bad, [](const std::string&) { return true; }).status, 422);
}

TEST_F(ServiceTest, EveryMalformedRequestGetsItsStatusAndNamesTheProblem) {
  struct Case {
    const char* body;
    int status;
    const char* says;
  };
  const Case cases[] = {
      {"", 400, "not valid JSON"},
      {"{\"prompt\": ", 400, "not valid JSON"},
      {"\xff\xfe", 400, "not valid JSON"},
      {"[1, 2]", 400, "must be a JSON object"},
      {"\"prompt\"", 400, "must be a JSON object"},
      {"{}", 400, "'prompt' is required"},
      {R"({"prompt": 5})", 400, "'prompt' must be a string"},
      {R"({"prompt": "the", "colour": "red"})", 400, "unknown field 'colour'"},
      {R"({"prompt": ""})", 422, "'prompt' is empty"},
      {R"({"prompt": "the", "length": -1})", 422, "'length' must be in [0, 500]"},
      {R"({"prompt": "the", "length": 501})", 422, "'length' must be in [0, 500]"},
      {R"({"prompt": "the", "length": 1e9})", 400, "'length' must be an integer"},
      {R"({"prompt": "the", "length": 18446744073709551615})", 422, "'length' must be in"},
      {R"({"prompt": "the", "length": "ten"})", 400, "'length' must be an integer"},
      {R"({"prompt": "the", "temperature": 0})", 422, "'temperature' must be in (0, 100]"},
      {R"({"prompt": "the", "temperature": -1.5})", 422, "'temperature' must be in"},
      {R"({"prompt": "the", "temperature": "hot"})", 400, "'temperature' must be a number"},
      {R"({"prompt": "the", "top_k": 30})", 422, "'top_k' must be in [0, 29]"},  // V = 29
      {R"({"prompt": "the", "seed": -1})", 422, "'seed' must be in"},
      {R"({"prompt": "the", "stream": "yes"})", 400, "'stream' must be true or false"},
      {R"({"prompt": "THE"})", 422, "'prompt'"},  // bytes the model never saw
      {R"({"prompt": null})", 400, "'prompt' must be a string"},
  };
  for (const Case& c : cases) {
    const Reply r = svc_->predict(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(error_of(r).find(c.says), std::string::npos) << c.body << " -> " << r.body;
  }
}

TEST_F(ServiceTest, LimitsAreEnforcedBeforeAnyWork) {
  const std::string big(5000, ' ');
  const Reply body = svc_->predict("{\"prompt\": \"the\"}" + big);
  EXPECT_EQ(body.status, 413);
  EXPECT_NE(error_of(body).find("at most 4096"), std::string::npos) << body.body;
  const Reply prompt = svc_->predict("{\"prompt\": \"" + std::string(1001, 'o') + "\"}");
  EXPECT_EQ(prompt.status, 413);
  EXPECT_NE(error_of(prompt).find("at most 1000"), std::string::npos) << prompt.body;
}

TEST_F(ServiceTest, ManyThreadsAtOnceGetTheOneThreadAnswers) {
  const std::string req = R"({"prompt": "quick ", "length": 100, "seed": 11})";
  const std::string want = svc_->predict(req).body;
  std::vector<std::string> got(8);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < got.size(); ++i)
    pool.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) got[i] = svc_->predict(req).body;
    });
  for (std::thread& t : pool) t.join();
  for (const std::string& g : got) EXPECT_EQ(g, want);
}

TEST_F(ServiceTest, FilesThatAreNoServableModelAreRefused) {
  EXPECT_THROW(Service::load(Path("missing.safetensors")), Error);
  testing::WriteRaw(Path("junk.safetensors"), "not a model at all");
  EXPECT_THROW(Service::load(Path("junk.safetensors")), Error);
  save_safetensors(Path("plain.safetensors"), std::map<std::string, Tensor<float>>{{"w", Tensor<float>({2})}});
  try {
    Service::load(Path("plain.safetensors"));
    FAIL() << "a file without a task was loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("task 'none'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace recur::serve
