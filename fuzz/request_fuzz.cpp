// Fuzzes `recur serve`'s request handling (recur::serve::Service, what the HTTP layer hands every
// POST /v1/predict body to) on small models built once: a character and a word language model, a
// text classifier, a punctuation-restoration tagger, a seq2seq model with attention and a
// forecaster. The first byte picks the model and the
// call, the rest is the body. predict() and stream() must never throw; every reply must be JSON
// with a status of 200, 400, 413 or 422; and a request that check() passes must not then fail in
// predict() (a failure past validation is a bug the client would see as a 422 with an internal
// message).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "recur/core/rng.h"
#include "recur/models/classifier_model.h"
#include "recur/models/forecaster_model.h"
#include "recur/models/seq2seq_model.h"
#include "recur/models/language_model.h"
#include "recur/models/tagger_model.h"
#include "recur/serve/service.h"
#include "recur/train/init.h"

namespace {

using recur::serve::Reply;
using recur::serve::Service;

std::vector<std::unique_ptr<Service>> services;

const char* kText =
    "In the beginning God created the heaven and the earth.\nAnd the earth was without form, "
    "and void; and darkness was upon the face of the deep.\n";

recur::RnnConfig small_rnn(recur::CellKind cell, int64_t input, bool bidirectional) {
  recur::RnnConfig r;
  r.cell = cell;
  r.input_size = input;
  r.hidden_size = 6;
  r.num_layers = 1;
  r.bidirectional = bidirectional;
  return r;
}

template <class Net>
void randomise(Net& net, uint64_t seed) {
  recur::Rng rng(seed);
  for (auto& [name, t] : net.named()) recur::init_uniform(*t, rng, 0.5f);
}

std::unique_ptr<Service> language_model(recur::TokenMode mode, const std::string& path,
                                        const recur::serve::Limits& limits) {
  recur::LanguageModel lm;
  lm.vocab = recur::Vocab::build(kText, mode, 20, "text");
  recur::SequenceModelConfig mc;
  mc.vocab = mc.outputs = lm.vocab.size();
  mc.embed = 4;
  mc.rnn = small_rnn(recur::CellKind::lstm, 4, false);
  lm.net = recur::SequenceModel<float>(mc);
  randomise(lm.net, 1);
  recur::save_language_model(path, lm);
  return Service::load(path, limits);
}

std::unique_ptr<Service> classifier(const std::string& path, const recur::serve::Limits& limits) {
  recur::ClassifierModel m;
  m.input = recur::ClassifierInput::text;
  m.encoder = recur::TextEncoder::bytes();
  m.max_len = 50;
  m.labels = recur::LabelSet({{"en", "the earth"}, {"de", "die Erde"}, {"fr", "la terre"}});
  recur::ClassifierConfig c;
  c.vocab = m.encoder.vocab_size();
  c.embed = 4;
  c.rnn = small_rnn(recur::CellKind::gru, 4, true);
  c.classes = m.labels.size();
  m.net = recur::SequenceClassifier<float>(c);
  randomise(m.net, 2);
  recur::save_classifier_model(path, m);
  return Service::load(path, limits);
}

std::unique_ptr<Service> tagger(const std::string& path, const recur::serve::Limits& limits) {
  recur::TaggerModel m;
  const recur::TaggedSequence seq = recur::punctuation_sequence(kText);
  m.words = recur::TokenIndex::build(std::vector<recur::TaggedSequence>{seq}, 100, 1, "text");
  m.tags = recur::LabelSet(std::vector<recur::LabeledText>{
      {"lower", ""}, {"Cap", ""}, {"lower,period", ""}, {"UPPER,comma", ""}});
  recur::SequenceModelConfig mc;
  mc.vocab = m.words.size();
  mc.outputs = m.tags.size();
  mc.embed = 4;
  mc.rnn = small_rnn(recur::CellKind::rnn_tanh, 4, true);
  m.net = recur::SequenceModel<float>(mc);
  randomise(m.net, 3);
  recur::save_tagger_model(path, m);
  return Service::load(path, limits);
}

std::unique_ptr<Service> seq2seq(const std::string& path, const recur::serve::Limits& limits) {
  recur::Seq2SeqModel m;
  const std::vector<std::string> src = {"t", "h", "e", "a", "r"}, tgt = {"DH", "AH", "ER", "TH"};
  m.source = recur::TokenIndex::build({&src}, 100, 1, "text");
  m.target = recur::TokenIndex::build({&tgt}, 100, 1, "text");
  recur::Seq2SeqConfig c;
  c.source_vocab = m.source.size();
  c.target_vocab = 2 + m.target.size();
  c.source_embed = c.target_embed = 4;
  c.encoder = small_rnn(recur::CellKind::gru, 4, true);
  c.decoder = small_rnn(recur::CellKind::lstm, 0, false);
  c.attention_size = 3;
  c.decoder.input_size = c.target_embed + c.feed_width();
  m.net = recur::Seq2Seq<float>(c);
  randomise(m.net, 4);
  recur::save_seq2seq_model(path, m);
  return Service::load(path, limits);
}

std::unique_ptr<Service> forecaster(const std::string& path, const recur::serve::Limits& limits) {
  recur::CsvSeries s{"", {}, 2, {}};
  for (int r = 0; r < 60; ++r) {
    s.values.push_back(double(r % 7));
    s.values.push_back(double(r % 5) * 1.5);
    s.lines.push_back(r + 2);
  }
  const std::vector<recur::CsvSeries> data = {s};
  recur::ForecasterModel m;
  recur::set_forecaster_columns(m, {"a", "b"}, {"b"});
  m.window = 4;
  m.norm = recur::fit_zscore(data);
  recur::ForecasterConfig c;
  c.rnn = small_rnn(recur::CellKind::lstm, 2, false);
  c.horizon = 2;
  m.net = recur::Forecaster<float>(c);
  randomise(m.net, 5);
  recur::fit_forecaster_ar(m, data, 1e-3);
  recur::save_forecaster_model(path, m);
  return Service::load(path, limits);
}

[[noreturn]] void bug(const char* what, const std::string& body, const Reply& r) {
  std::fprintf(stderr, "request_fuzz: %s\nrequest: %s\nreply %d: %s\n", what, body.c_str(),
               r.status, r.body.c_str());
  std::abort();
}

void check_reply(const std::string& body, const Reply& r, bool empty_ok) {
  if (r.status != 200 && r.status != 400 && r.status != 413 && r.status != 422)
    bug("unexpected status", body, r);
  if (r.body.empty() && empty_ok && r.status == 200) return;
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) bug("the reply is not JSON", body, r);
  if (r.status != 200 && !(j.is_object() && j.contains("error") && j["error"].is_string()))
    bug("an error reply without {\"error\": string}", body, r);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  recur::serve::Limits limits;
  limits.max_body = 4096;
  limits.max_length = 40;
  limits.max_texts = 8;
  limits.max_text = 512;
  const std::string dir = recur::fuzz::scratch_dir();
  try {
    services.push_back(language_model(recur::TokenMode::chars, dir + "/lm_char.safetensors", limits));
    services.push_back(language_model(recur::TokenMode::words, dir + "/lm_word.safetensors", limits));
    services.push_back(classifier(dir + "/classifier.safetensors", limits));
    services.push_back(tagger(dir + "/tagger.safetensors", limits));
    services.push_back(seq2seq(dir + "/seq2seq.safetensors", limits));
    services.push_back(forecaster(dir + "/forecaster.safetensors", limits));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "request_fuzz: cannot build the models: %s\n", e.what());
    std::abort();
  }
  for (const auto& s : services) s->describe();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Service& svc = *services[data[0] % services.size()];
  const bool streamed = (data[0] / services.size()) % 2 == 1;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const Reply checked = svc.check(body);
  check_reply(body, checked, true);
  if (streamed && svc.wants_stream(body)) {
    std::string out;
    const Reply r = svc.stream(body, [&](const std::string& chunk) {
      out += chunk;
      return out.size() < 100000;
    });
    check_reply(body, r, true);
    if (checked.status == 200 && r.status != 200) bug("check() passed, stream() failed", body, r);
  } else {
    const Reply r = svc.predict(body);
    check_reply(body, r, false);
    if (checked.status == 200 && r.status != 200) bug("check() passed, predict() failed", body, r);
    if (checked.status != 200 && r.status != checked.status)
      bug("check() and predict() disagree on the status", body, r);
  }
  return 0;
}
