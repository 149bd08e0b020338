// recur::serve::Service for seq2seq models and forecasters: the served answer is the library's own
// (decode_sources and seq2seq_beam; forecast_part's network forecast for the same window, in the
// data's units), and malformed or out-of-range requests get their status and a message naming the
// field.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "recur/models/forecaster_model.h"
#include "recur/models/seq2seq_model.h"
#include "recur/serve/service.h"
#include "scratch_dir.h"

namespace recur::serve {
namespace {

using json = nlohmann::json;

std::string error_of(const Reply& r) {
  const json j = json::parse(r.body);
  return j.contains("error") ? j["error"].get<std::string>() : "";
}

class TranslateTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    std::vector<std::string> src = {"a", "b", "c", "d", "e"}, tgt = {"x", "y", "z", "w"};
    m_.source = TokenIndex::build({&src}, 100, 1, "test");
    m_.target = TokenIndex::build({&tgt}, 100, 1, "test");
    Seq2SeqConfig c;
    c.source_vocab = m_.source.size();
    c.target_vocab = 2 + m_.target.size();
    c.source_embed = c.target_embed = 6;
    c.encoder.cell = c.decoder.cell = CellKind::gru;
    c.encoder.hidden_size = c.decoder.hidden_size = 8;
    c.encoder.input_size = 6;
    c.attention_size = 5;
    c.decoder.input_size = c.target_embed + c.feed_width();
    m_.net = Seq2Seq<float>(c);
    Rng rng(11);
    init_seq2seq(m_.net, rng);
    save_seq2seq_model(Path("s2s.safetensors"), m_);
    svc_ = Service::load(Path("s2s.safetensors"));
  }
  Seq2SeqModel m_;
  std::unique_ptr<Service> svc_;
};

TEST_F(TranslateTest, AnswersWhatTheLibraryDecodes) {
  EXPECT_EQ(svc_->task(), "seq2seq");
  EXPECT_EQ(json::parse(svc_->describe())["source_vocabulary"].get<int64_t>(), 6);  // <unk> + 5
  const std::vector<std::string> source = {"c", "a", "b", "q"};
  const Reply r = svc_->predict(R"({"text": "c a b q"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["tokens"].get<std::vector<std::string>>(), decode_sources(m_, {&source}, {})[0]);
  EXPECT_EQ(j["unknown_source_tokens"].get<int64_t>(), 1);  // "q"
  // Characters as tokens: "cab" reads as c a b.
  const std::vector<std::string> cab = {"c", "a", "b"};
  const json jc = json::parse(svc_->predict(R"({"text": "cab", "chars": true})").body);
  EXPECT_EQ(jc["tokens"].get<std::vector<std::string>>(), decode_sources(m_, {&cab}, {})[0]);
  // The 3 best of a beam of 4, best first, as seq2seq_beam ranks them.
  const json jb = json::parse(svc_->predict(R"({"text": "c a b", "beam": 4, "nbest": 3})").body);
  const auto hyps = seq2seq_beam(m_.net, m_.encode_source(cab), 4, 1.0, 0);
  ASSERT_EQ(jb["hypotheses"].size(), std::min<size_t>(3, hyps.size()));
  for (size_t i = 0; i < jb["hypotheses"].size(); ++i) {
    EXPECT_EQ(jb["hypotheses"][i]["tokens"].get<std::vector<std::string>>(),
              m_.decode_target(hyps[i].tokens));
    EXPECT_DOUBLE_EQ(jb["hypotheses"][i]["score"].get<double>(), hyps[i].score);
  }
  EXPECT_EQ(jb["text"], jb["hypotheses"][0]["text"]);
}

TEST_F(TranslateTest, RefusesMalformedRequestsNamingTheField) {
  struct Case {
    const char* body;
    int status;
    const char* needle;
  };
  for (const Case& c : {Case{R"({"text": "   "})", 422, "no tokens"},
                        Case{R"({"text": 5})", 400, "'text' must be a string"},
                        Case{R"({"txt": "a"})", 400, "unknown field 'txt'"},
                        Case{R"({"text": "a", "beam": 0})", 422, "'beam' must be in [1, 32]"},
                        Case{R"({"text": "a", "beam": 2, "nbest": 3})", 422, "'nbest' must be in [1, 2]"},
                        Case{R"({"text": "a", "alpha": -1})", 422, "'alpha'"},
                        Case{R"({"text": "a", "chars": "yes"})", 400, "'chars' must be true or false"}}) {
    SCOPED_TRACE(c.body);
    const Reply r = svc_->predict(c.body);
    EXPECT_EQ(r.status, c.status);
    EXPECT_NE(error_of(r).find(c.needle), std::string::npos) << r.body;
  }
}

class ForecastTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    // Two columns: a load driven by a temperature, 120 rows.
    CsvSeries s{"", {}, 2, {}};
    for (int r = 0; r < 120; ++r) {
      const double temp = 10 + 8 * std::sin(r * 0.3), load = 50 + 2 * temp + std::cos(r * 1.7);
      s.values.push_back(temp);
      s.values.push_back(load);
      s.lines.push_back(r + 2);
    }
    data_ = {s};
    set_forecaster_columns(m_, {"temp", "load"}, {"load"});
    m_.window = 6;
    m_.norm = fit_zscore(data_);
    ForecasterConfig c;
    c.rnn.cell = CellKind::lstm;
    c.rnn.input_size = 2;
    c.rnn.hidden_size = 5;
    c.horizon = 3;
    c.targets = 1;
    m_.net = Forecaster<float>(c);
    Rng rng(4);
    init_forecaster(m_.net, rng);
    fit_forecaster_ar(m_, data_, 1e-3);
    save_forecaster_model(Path("f.safetensors"), m_);
    svc_ = Service::load(Path("f.safetensors"));
  }
  std::vector<CsvSeries> data_;
  ForecasterModel m_;
  std::unique_ptr<Service> svc_;
};

TEST_F(ForecastTest, AnswersTheNetworksForecastForThatWindow) {
  EXPECT_EQ(svc_->task(), "forecast");
  const json d = json::parse(svc_->describe());
  EXPECT_EQ(d["window"].get<int64_t>(), 6);
  EXPECT_EQ(d["horizon"].get<int64_t>(), 3);
  const ForecastSet s = forecast_part(m_, data_, SplitPart::test);
  for (const size_t b : {size_t(0), s.origins.size() - 1}) {
    const Origin o = s.origins[b];
    json window = json::array();
    for (int64_t t = o.t - 9; t <= o.t; ++t)  // 10 rows: the last 6 are read
      window.push_back({data_[0].at(t, 0), data_[0].at(t, 1)});
    const Reply r = svc_->predict(json{{"window", window}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["targets"], json::array({"load"}));
    ASSERT_EQ(j["forecast"].size(), 3u);
    for (int64_t h = 0; h < 3; ++h) {
      const double want = s.forecasts[0][int64_t(b) * 3 + h];
      // float arithmetic: one window here, the part's windows in one batch there
      EXPECT_NEAR(j["forecast"][h][0].get<double>(), want, 1e-5 * std::abs(want)) << "step " << h;
    }
  }
}

TEST_F(ForecastTest, RefusesMalformedWindowsNamingTheRow) {
  struct Case {
    const char* body;
    int status;
    const char* needle;
  };
  for (const Case& c :
       {Case{R"({"window": [[1, 2], [3, 4]]})", 422, "holds 2 rows; the model reads the last 6"},
        Case{R"({"window": [1, 2, 3, 4, 5, 6]})", 400, "'window' row 1 must be a list of 2 numbers"},
        Case{R"({"window": [[1,2],[1,2],[1,2],[1,2],[1,2],[1,2,3]]})", 422, "row 6 holds 3 values"},
        Case{R"({"window": [[1,2],[1,2],[1,2],[1,2],[1,2],[1,"x"]]})", 400, "row 6 must hold numbers"},
        Case{R"({"window": [[1,2],[1,2],[1,2],[1,2],[1,2],[1,1e400]]})", 400, "not valid JSON"},
        Case{R"({"window": "1 2 3"})", 400, "'window' must be a list of rows"},
        Case{R"({})", 400, "'window' is required"}}) {
    SCOPED_TRACE(c.body);
    const Reply r = svc_->predict(c.body);
    EXPECT_EQ(r.status, c.status);
    EXPECT_NE(error_of(r).find(c.needle), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace recur::serve
