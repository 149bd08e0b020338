// Regressions from fuzzing the loaders (fuzz/, docs/fuzzing.md): each input here once made a
// loader throw something other than recur::Error, read past a bound, overflow, or allocate what
// the file claimed before checking it. Every one must now be a recur::Error naming the file and
// what was expected.
#include <gtest/gtest.h>
#include <zlib.h>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/data/classification.h"
#include "recur/data/idx.h"
#include "recur/data/vocab.h"
#include "recur/io/onnx.h"
#include "recur/io/safetensors.h"
#include "recur/models/classifier_model.h"
#include "recur/models/language_model.h"
#include "recur/models/named_tensors.h"
#include "recur/recur.h"
#include "scratch_dir.h"
#include "tiny_models.h"

namespace recur {
namespace {

using testing::WriteRaw;

class FuzzRegressions : public testing::ScratchDirTest {
 protected:
  // A tiny character language model, as `recur train-lm` writes it.
  std::string SaveLanguageModel(const std::string& name) {
    const std::string path = Path(name);
    save_language_model(path, testing::tiny_char_lm("the quick brown fox\n", 4, 5, 1, 0));
    return path;
  }
  // A tiny Text-RNN v2 byte classifier, as `recur train-classifier --head textrnn2` writes it.
  std::string SaveClassifier(const std::string& name) {
    ClassifierModel m;
    m.input = ClassifierInput::text;
    m.encoder = TextEncoder::bytes();
    m.max_len = 20;
    m.labels = LabelSet(std::vector<LabeledText>{{"a", "x"}, {"b", "y"}});
    ClassifierConfig c;
    c.vocab = m.encoder.vocab_size();
    c.embed = 3;
    c.rnn.cell = CellKind::gru;
    c.rnn.input_size = 3;
    c.rnn.hidden_size = 4;
    c.head = ClassifierHead::textrnn2;
    c.top_hidden = 2;
    c.classes = 2;
    m.net = SequenceClassifier<float>(c);
    const std::string path = Path(name);
    save_classifier_model(path, m);
    return path;
  }
  // Rewrites one metadata value of a safetensors file, keeping its tensors.
  static void SetMetadata(const std::string& path, const std::string& key, const std::string& value) {
    Safetensors<float> st = load_safetensors<float>(path);
    st.metadata[key] = value;
    save_safetensors(path, st.tensors, st.metadata);
  }
};

// Metadata "dropout" went through std::stod: "abc" threw std::invalid_argument, "1e999"
// std::out_of_range, past every recur::Error handler (the serve, sample and eval commands).
TEST_F(FuzzRegressions, ModelDropoutThatIsNoNumberIsARecurError) {
  const std::string path = SaveLanguageModel("lm.safetensors");
  for (const char* bad : {"abc", "1e999", ""}) {
    SetMetadata(path, "dropout", bad);
    EXPECT_RECUR_ERROR(load_language_model(path), path, "dropout");
  }
}

// "num_layers" was cast to int: 4294967297 read as 1 layer and loaded without complaint.
TEST_F(FuzzRegressions, ModelNumLayersBeyondIntIsRefused) {
  const std::string path = SaveLanguageModel("lm.safetensors");
  SetMetadata(path, "num_layers", "4294967297");
  EXPECT_RECUR_ERROR(load_language_model(path), path, "num_layers");
}

// A configuration claiming sizes its tensors cannot hold was allocated before the tensors were
// compared with it: hidden_size 10^12 asked for terabytes (std::bad_alloc or std::length_error).
TEST_F(FuzzRegressions, ModelClaimingHugeSizesIsRefusedBeforeAllocating) {
  const std::string path = SaveLanguageModel("lm.safetensors");
  SetMetadata(path, "hidden_size", "1000000000000");
  EXPECT_RECUR_ERROR(load_language_model(path), path, "parameter values", "the file holds");

  const std::string embed = SaveLanguageModel("embed.safetensors");
  SetMetadata(embed, "embed", "1000000000");
  SetMetadata(embed, "input_size", "1000000000");
  EXPECT_RECUR_ERROR(load_language_model(embed), embed, "parameter values");

  const std::string cls = SaveClassifier("classifier.safetensors");
  EXPECT_NO_THROW(load_classifier_model(cls));
  SetMetadata(cls, "top_hidden", "1000000000");
  EXPECT_RECUR_ERROR(load_classifier_model(cls), cls, "parameter values");
}

// The C API's loader of a recur network (recur_model_load) built RnnParams from the metadata
// before comparing it with the tensors too.
TEST_F(FuzzRegressions, CApiNetworkClaimingHugeSizesIsRefusedBeforeAllocating) {
  RnnConfig cfg;
  cfg.cell = CellKind::gru;
  cfg.input_size = 3;
  cfg.hidden_size = 4;
  RnnParams<float> params(cfg);
  std::map<std::string, Tensor<float>> tensors;
  for (const auto& [name, t] : params.named()) tensors[name] = *t;
  std::map<std::string, std::string> meta = cfg.to_metadata();
  meta["hidden_size"] = "1000000000000";
  const std::string path = Path("rnn.safetensors");
  save_safetensors(path, tensors, meta);
  recur_model* m = nullptr;
  EXPECT_EQ(recur_model_load(path.c_str(), &m), RECUR_ERROR_FILE);
  EXPECT_EQ(m, nullptr);
  const std::string msg = recur_last_error();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("parameter values"), std::string::npos) << msg;
}

// parameter_count() is exact for the models the loaders build (the check must not refuse a
// valid file): here for the two test models, beside their loaded parameters.
TEST_F(FuzzRegressions, ParameterCountIsWhatTheNetworkHolds) {
  const LanguageModel lm = load_language_model(SaveLanguageModel("lm.safetensors"));
  double held = 0;
  for (const auto& [name, t] : lm.net.state_dict()) held += double(t.numel());
  EXPECT_EQ(parameter_count(lm.net.config), held);
  const ClassifierModel cls = load_classifier_model(SaveClassifier("classifier.safetensors"));
  held = 0;
  for (const auto& [name, t] : cls.net.state_dict()) held += double(t.numel());
  EXPECT_EQ(parameter_count(cls.net.config), held);
}

// The IDX header of a file with no images bounds nothing: 0 images of 4294967138 x 2986345216
// passed the size check (0 bytes of data) and overflowed int64 in image_row_sequences (UBSan).
// Zero-sized images likewise leave the count unbounded by the file. A file of no images of a
// sane size stays valid (IdxTest.RawAndGzipFilesReadBackTheSame).
TEST_F(FuzzRegressions, IdxImagesWithoutPixelsAreRefused) {
  const std::string huge = Path("huge_images.idx");
  WriteRaw(huge, std::string("\x00\x00\x08\x03\x00\x00\x00\x00\xff\xff\xff\x62\xb2\x00\x03\x00", 16));
  EXPECT_RECUR_ERROR(read_idx_images(huge), huge, "4294967138 x 2986345216", "at most 2^31 pixels");
  const std::string empty_images = Path("empty_images.idx");
  WriteRaw(empty_images, std::string("\x00\x00\x08\x03\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x1c", 16));
  EXPECT_RECUR_ERROR(read_idx_images(empty_images), empty_images, "0 x 28 pixels",
                     "expected at least 1 x 1");
}

// A gzip-compressed IDX file was inflated whole before its header was compared with the data:
// a few kilobytes could claim gigabytes (a gzip bomb). Now inflation stops as soon as the output
// outgrows what the header describes.
TEST_F(FuzzRegressions, IdxGzipBombStopsAtTheHeadersSize) {
  std::string idx("\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x02", 16);
  idx += std::string(4, '\x7f');                 // the one 2 x 2 image
  idx += std::string(size_t(16) << 20, '\0');  // and 16 MiB the header does not describe
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string gz(deflateBound(&zs, uLong(idx.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(idx.data());
  zs.avail_in = uInt(idx.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = uInt(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(gz.size() - zs.avail_out);
  deflateEnd(&zs);
  ASSERT_LT(gz.size(), size_t(100000));
  const std::string path = Path("bomb.idx.gz");
  WriteRaw(path, gz);
  EXPECT_RECUR_ERROR(read_idx_images(path), path, "decompresses to more than the 20 bytes");
}

// An ONNX tensor's dims were multiplied unchecked: 604916475810192 x 952125 overflowed int64
// (UBSan) in OnnxGraph::load before the data's size was compared with it; negative dims gave a
// negative count.
TEST_F(FuzzRegressions, OnnxTensorDimsThatOverflowAreRefused) {
  for (const std::vector<int64_t>& dims :
       {std::vector<int64_t>{604916475810192, 952125}, std::vector<int64_t>{-1, 4}}) {
    onnx::ModelProto m;
    std::ifstream in(std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/onnx/onnx_lstm_layout1.onnx",
                     std::ios::binary);
    ASSERT_TRUE(m.ParseFromIstream(&in));
    onnx::TensorProto* t = m.mutable_graph()->add_initializer();
    t->set_name("huge");
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->add_float_data(1.0f);
    const std::string path = Path("dims.onnx");
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(m.SerializeToOstream(&out));
    out.close();
    EXPECT_RECUR_ERROR(OnnxGraph::load(path), path, "tensor 'huge'", "expected dimensions >= 0");
  }
}

// Word vocabularies took any lead byte 0xF0-0xF7 and overlong or surrogate sequences as UTF-8;
// a model trained on such text then failed to save with nlohmann's type_error 316 ("invalid UTF-8
// byte") from Vocab::to_metadata. They are now refused when the vocabulary is built, naming the
// source and the offset; valid four-byte characters still round-trip.
TEST_F(FuzzRegressions, WordVocabularyRefusesInvalidUtf8ThatJsonCannotWrite) {
  for (const std::string& bad : {std::string("ly\xf6\x80\x80\x80 x"),  // above U+10FFFF
                                std::string("a \xe0\x80\x80 b"),     // overlong
                                std::string("a \xed\xa0\x80 b"),     // surrogate
                                std::string("a \xf0\x80\x80\x80 b")})  // overlong
    EXPECT_RECUR_ERROR(Vocab::build(bad, TokenMode::words, 100, "text.txt"), "text.txt",
                       "not valid UTF-8");
  const Vocab v = Vocab::build("clef \xf0\x9d\x84\x9e and more\n", TokenMode::words, 100, "text.txt");
  const Vocab back = Vocab::from_metadata(v.to_metadata(), "meta");
  EXPECT_EQ(back.size(), v.size());
}

}  // namespace
}  // namespace recur
