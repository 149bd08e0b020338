// Fuzzes the labelled-TSV reader (read_labeled_tsv) and what the classifier and the conditional LM
// build from its rows: the label set, byte and word encoders, encode_labeled.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/data/classification.h"
#include "recur/data/labeled.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("train.tsv", data, size);
  try {
    const auto rows = recur::read_labeled_tsv(path);
    const recur::LabelSet labels(rows);
    recur::LabelSet::from_json(labels.to_json(), path);
    recur::encode_labeled(rows, recur::TextEncoder::bytes(), labels, 64, path);
    const auto words = recur::TextEncoder::words(rows, 100, path);
    recur::TextEncoder::from_metadata(words.to_metadata(), path);
    recur::encode_labeled(rows, words, labels, 64, path);
  } catch (const recur::Error&) {
  }
  return 0;
}
