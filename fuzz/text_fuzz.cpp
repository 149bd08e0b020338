// Fuzzes the text loaders around the language model and the line-based formats: the training text
// split and vocabularies (chars and words: build, encode, decode, the metadata round trip), the
// pairs and CMUdict files (text_lines.h), fortune files, and ListOps expressions.
#include <string>

#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/data/cmudict.h"
#include "recur/data/fortunes.h"
#include "recur/data/listops.h"
#include "recur/data/pairs.h"
#include "recur/data/vocab.h"
#include "recur/io/file.h"

namespace {

using recur::fuzz::guarded;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("text.txt", data, size);
  // As `recur train-lm` reads its text (src/train/lm_trainer.cpp).
  guarded([&] {
    const std::string text = recur::read_file_bytes(path);
    const recur::TextSplit split = recur::split_text_tail(text, 0.1);
    for (recur::TokenMode mode : {recur::TokenMode::chars, recur::TokenMode::words}) {
      guarded([&] {
        const recur::Vocab vocab = recur::Vocab::build(split.train, mode, 50, path);
        const auto train = vocab.encode(split.train, path);
        vocab.decode(train);
        recur::Vocab::from_metadata(vocab.to_metadata(), path);
        guarded([&] { vocab.encode(split.validation, path); });
      });
    }
  });
  // The same bytes as a model's vocabulary metadata (a JSON array of strings).
  guarded([&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const char* mode : {"char", "word"})
      guarded([&] {
        recur::Vocab::from_metadata({{"vocab_mode", mode}, {"vocab", text}}, path);
      });
  });
  guarded([&] { recur::read_sequence_pairs(path); });
  guarded([&] { recur::read_cmudict(path); });
  guarded([&] { recur::read_fortune_file(path); });
  guarded([&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const recur::ListOpsTree tree = recur::parse_listops(text, path);
    recur::evaluate_listops(tree);
    recur::binarize_listops(tree);
  });
  return 0;
}
