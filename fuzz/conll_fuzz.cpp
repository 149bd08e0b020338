// Fuzzes the CoNLL reader (read_conll) and the tagger's word index built from its sequences.
#include "fuzz_util.h"
#include "recur/core/error.h"
#include "recur/data/conll.h"
#include "recur/data/token_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = recur::fuzz::write_input("train.conll", data, size);
  try {
    const auto seqs = recur::read_conll(path);
    const auto index = recur::TokenIndex::build(seqs, 1000, 1, path);
    recur::TokenIndex::from_metadata(index.to_metadata(), path);
    for (const auto& s : seqs) index.encode(s.tokens);
  } catch (const recur::Error&) {
  }
  return 0;
}
