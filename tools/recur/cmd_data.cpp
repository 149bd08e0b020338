// `recur data`: makes the classification data sets from Debian packages: fortunes-lang and
// fortunes-topic write labeled TSV splits (docs/data.md), fashion-mnist checks and summarises the
// IDX files that the trainer reads directly; the tagging set: kjv-punct writes CoNLL splits for
// punctuation and capitalisation restoration (docs/tagging.md); and the sequence-to-sequence set:
// cmudict writes grapheme-to-phoneme pairs (source<TAB>target) split by word (docs/data.md).
// listops writes generated ListOps expressions with their values (label<TAB>expression).
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/data/cmudict.h"
#include "recur/data/listops.h"
#include "recur/data/fortunes.h"
#include "recur/data/idx.h"
#include "recur/data/labeled.h"
#include "recur/data/pairs.h"
#include "recur/data/punctuation.h"
#include "recur/io/file.h"

namespace recur::cli {
namespace {

namespace fs = std::filesystem;

void make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  RECUR_CHECK(!ec,
              "cannot create the output directory '" << dir << "' for --out: " << ec.message());
}

// ---- fortunes-lang, fortunes-topic ----

struct FortuneArgs {
  std::string out, root = "/usr/share/games/fortunes";
  FortuneFilter filter;
};

void run_fortunes(const char* name, const std::vector<FortuneClass>& classes,
                  const FortuneArgs& a) {
  const FortuneDataset ds = build_fortune_dataset(a.root, classes, a.filter);
  const std::pair<const char*, const std::vector<LabeledText>*> splits[] = {
      {"train", &ds.train}, {"valid", &ds.valid}, {"test", &ds.test}};
  for (const auto& [split, rows] : splits)
    RECUR_CHECK(!rows->empty(), "the " << split << " split is empty; raise --max-per-class (now "
                                       << a.filter.max_per_class
                                       << ") or widen --min-chars/--max-chars");

  std::printf(
      "%s: %zu classes from %s, entries of %lld..%lld code points, at most %lld per class\n", name,
      classes.size(), a.root.c_str(), (long long)a.filter.min_chars, (long long)a.filter.max_chars,
      (long long)a.filter.max_per_class);
  for (const std::string& s : ds.skipped) std::printf("skipped %s\n", s.c_str());
  std::printf("%-10s %6s %8s %9s %7s %7s %7s %6s %6s\n", "class", "files", "entries", "in-range",
              "shared", "unique", "train", "valid", "test");
  FortuneClassStats total;
  total.label = "total";
  for (const FortuneClassStats& s : ds.stats) {
    total.files += s.files, total.entries += s.entries, total.in_range += s.in_range;
    total.shared += s.shared, total.unique += s.unique;
    total.train += s.train, total.valid += s.valid, total.test += s.test;
  }
  std::vector<FortuneClassStats> table = ds.stats;
  table.push_back(total);
  for (const FortuneClassStats& s : table)
    std::printf("%-10s %6lld %8lld %9lld %7lld %7lld %7lld %6lld %6lld\n", s.label.c_str(),
                (long long)s.files, (long long)s.entries, (long long)s.in_range,
                (long long)s.shared, (long long)s.unique, (long long)s.train, (long long)s.valid,
                (long long)s.test);

  make_dir(a.out);
  for (const auto& [split, rows] : splits) {
    const std::string path = (fs::path(a.out) / (std::string(split) + ".tsv")).string();
    write_labeled_tsv(path, *rows);
    std::printf("wrote %s (%zu example%s)\n", path.c_str(), rows->size(),
                rows->size() == 1 ? "" : "s");
  }
}

void add_fortunes(CLI::App& data, Action& action, const char* name, const char* description,
                  std::vector<FortuneClass> (*classes)()) {
  auto a = std::make_shared<FortuneArgs>();
  CLI::App* c = data.add_subcommand(name, description);
  c->add_option("--out", a->out, "Write train.tsv, valid.tsv and test.tsv here (made if missing)")
      ->required()
      ->type_name("DIR");
  c->add_option("--root", a->root, "Debian's fortune files")
      ->capture_default_str()
      ->type_name("DIR");
  c->add_option("--max-per-class", a->filter.max_per_class,
                "Keep at most N texts per class (a fixed sample by hash of the text)")
      ->capture_default_str()
      ->check(Positive)
      ->type_name("N");
  c->add_option("--min-chars", a->filter.min_chars, "Drop entries shorter than N code points")
      ->capture_default_str()
      ->check(NonNegative)
      ->type_name("N");
  c->add_option("--max-chars", a->filter.max_chars, "Drop entries longer than N code points")
      ->capture_default_str()
      ->check(Positive)
      ->type_name("N");
  c->callback([a, &action, name, classes] {
    action = [a, name, classes] { run_fortunes(name, classes(), *a); };
  });
}

// ---- fashion-mnist ----

// Fashion-MNIST's labels 0-9 (Xiao, Rasul and Vollgraf 2017).
const char* const kFashionClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
constexpr int kFashionNumClasses = 10;

struct FashionArgs {
  std::string out, root = "/usr/share/datasets/fashion-mnist";
};

struct FashionSplit {
  std::string images_path, labels_path;
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<int64_t> histogram = std::vector<int64_t>(kFashionNumClasses, 0);
  double pixel_mean = 0, pixel_std = 0;  // over all pixels, 0..255
};

// Reads and cross-checks one split's images and labels.
FashionSplit check_fashion_split(const std::string& root, const std::string& prefix) {
  FashionSplit s;
  s.images_path = (fs::path(root) / (prefix + "-images-idx3-ubyte.gz")).string();
  s.labels_path = (fs::path(root) / (prefix + "-labels-idx1-ubyte.gz")).string();
  for (const std::string& p : {s.images_path, s.labels_path})
    RECUR_CHECK(fs::exists(p), "'" << p
                                   << "' is missing; install dataset-fashion-mnist "
                                      "(scripts/setup.sh) or pass --root");
  const IdxImages images = read_idx_images(s.images_path);
  const std::vector<uint8_t> labels = read_idx_labels(s.labels_path);
  RECUR_CHECK(int64_t(labels.size()) == images.count,
              "'" << s.labels_path << "' holds " << labels.size() << " labels but '"
                  << s.images_path << "' holds " << images.count
                  << " images; expected one label per image");
  RECUR_CHECK(images.count > 0, "'" << s.images_path << "' holds no images");
  s.count = images.count, s.rows = images.rows, s.cols = images.cols;
  for (size_t i = 0; i < labels.size(); ++i) {
    RECUR_CHECK(labels[i] < kFashionNumClasses, "'" << s.labels_path << "': label "
                                                    << int(labels[i]) << " at index " << i
                                                    << "; expected 0.." << kFashionNumClasses - 1);
    ++s.histogram[labels[i]];
  }
  double sum = 0, sum_sq = 0;
  for (uint8_t p : images.pixels) sum += p, sum_sq += double(p) * p;
  const double n = double(images.pixels.size());
  s.pixel_mean = sum / n;
  s.pixel_std = std::sqrt(std::max(0.0, sum_sq / n - s.pixel_mean * s.pixel_mean));
  return s;
}

void run_fashion(const FashionArgs& a) {
  const FashionSplit train = check_fashion_split(a.root, "train");
  const FashionSplit test = check_fashion_split(a.root, "t10k");
  RECUR_CHECK(train.rows == test.rows && train.cols == test.cols,
              "'" << train.images_path << "' holds " << train.rows << "x" << train.cols
                  << " images but '" << test.images_path << "' holds " << test.rows << "x"
                  << test.cols << "; expected one image size");
  std::printf("fashion-mnist: %s\n", a.root.c_str());
  for (const FashionSplit* s : {&train, &test})
    std::printf("%-5s %6lld images of %lldx%lld, pixel mean %.2f std %.2f (0..255)  %s\n",
                s == &train ? "train" : "test", (long long)s->count, (long long)s->rows,
                (long long)s->cols, s->pixel_mean, s->pixel_std, s->images_path.c_str());
  std::printf("%-2s %-12s %6s %6s\n", "id", "class", "train", "test");
  for (int k = 0; k < kFashionNumClasses; ++k)
    std::printf("%-2d %-12s %6lld %6lld\n", k, kFashionClasses[k], (long long)train.histogram[k],
                (long long)test.histogram[k]);
  if (a.out.empty()) return;

  // The same summary, for scripts and trainers: where the files are and what they hold.
  nlohmann::json j;
  j["root"] = a.root;
  j["classes"] = std::vector<std::string>(std::begin(kFashionClasses), std::end(kFashionClasses));
  for (const FashionSplit* s : {&train, &test})
    j[s == &train ? "train" : "test"] = {{"images", s->images_path},
                                         {"labels", s->labels_path},
                                         {"count", s->count},
                                         {"rows", s->rows},
                                         {"cols", s->cols},
                                         {"label_counts", s->histogram},
                                         {"pixel_mean", s->pixel_mean},
                                         {"pixel_std", s->pixel_std}};
  make_dir(a.out);
  const std::string path = (fs::path(a.out) / "fashion-mnist.json").string();
  write_file_atomic(path, j.dump(2) + "\n");
  std::printf("wrote %s\n", path.c_str());
}

void add_fashion(CLI::App& data, Action& action) {
  auto a = std::make_shared<FashionArgs>();
  CLI::App* c = data.add_subcommand(
      "fashion-mnist",
      "Check Fashion-MNIST's four IDX files (package dataset-fashion-mnist) and summarise them: "
      "counts, image size, pixel statistics and the label histogram. Trainers read the IDX files "
      "directly; nothing is converted.");
  c->add_option("--root", a->root, "Directory of the four .gz IDX files")
      ->capture_default_str()
      ->type_name("DIR");
  c->add_option("--out", a->out, "Also write the summary to DIR/fashion-mnist.json")
      ->type_name("DIR");
  c->callback([a, &action] { action = [a] { run_fashion(*a); }; });
}

// ---- kjv-punct ----

struct PunctArgs {
  std::string out, text, format = "bible";
  int64_t max_words = 80;
};

// The whole King James Bible as Debian's `bible` prints it (as scripts/demo.sh takes it).
std::string read_bible() {
  FILE* p = popen("bible \"Gen1:1-Rev22:21\" 2>/dev/null", "r");
  RECUR_CHECK(p, "cannot run `bible`; install bible-kjv (scripts/setup.sh) or give --text FILE");
  std::string text;
  char buf[1 << 16];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  const int status = pclose(p);
  const int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  RECUR_CHECK(code == 0 && !text.empty(),
              "`bible \"Gen1:1-Rev22:21\"` failed (exit status "
                  << code << (code == 127 ? ": command not found" : "")
                  << "); install bible-kjv (scripts/setup.sh) or give --text FILE");
  return text;
}

void run_kjv_punct(const PunctArgs& a) {
  const TextLayout layout = parse_text_layout(a.format);
  const std::string source = a.text.empty() ? "bible \"Gen1:1-Rev22:21\"" : a.text;
  const std::string text = a.text.empty() ? read_bible() : read_file_bytes(a.text);
  const PunctuationDataset ds = build_punctuation_dataset(text, layout, a.max_words, source);
  const std::pair<const char*, const std::vector<TaggedSequence>*> splits[] = {
      {"train", &ds.train}, {"valid", &ds.valid}, {"test", &ds.test}};
  for (const auto& [split, seqs] : splits)
    RECUR_CHECK(!seqs->empty(), source << ": the " << split << " split is empty ("
                                       << ds.units << " sequences in all); give a longer text");

  std::printf("kjv-punct: %s, layout %s: %lld sequences; skipped %lld without words and %lld of "
              "more than %lld words\n",
              source.c_str(), text_layout_name(layout), (long long)ds.units, (long long)ds.empty,
              (long long)ds.too_long, (long long)a.max_words);
  std::printf("%-6s %9s %9s\n", "split", "sequences", "words");
  for (const auto& [split, seqs] : splits) {
    int64_t words = 0;
    for (const TaggedSequence& q : *seqs) words += int64_t(q.tokens.size());
    std::printf("%-6s %9zu %9lld\n", split, seqs->size(), (long long)words);
  }
  // The training tags, most frequent first: the first one's share is the majority baseline.
  std::map<std::string, int64_t> counts;
  int64_t total = 0;
  for (const TaggedSequence& q : ds.train)
    for (const std::string& t : q.tags) ++counts[t], ++total;
  std::vector<std::pair<std::string, int64_t>> byfreq(counts.begin(), counts.end());
  std::stable_sort(byfreq.begin(), byfreq.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  std::printf("training tags (%zu):", byfreq.size());
  for (const auto& [tag, n] : byfreq)
    std::printf(" %s %.3g%%", tag.c_str(), 100.0 * double(n) / double(total));
  std::printf("\n");

  make_dir(a.out);
  for (const auto& [split, seqs] : splits) {
    const std::string path = (fs::path(a.out) / (std::string(split) + ".conll")).string();
    write_conll(path, *seqs);
    std::printf("wrote %s (%zu sequences)\n", path.c_str(), seqs->size());
  }
}

void add_kjv_punct(CLI::App& data, Action& action) {
  auto a = std::make_shared<PunctArgs>();
  CLI::App* c = data.add_subcommand(
      "kjv-punct",
      "Punctuation and capitalisation restoration as tagging: every verse of the King James Bible "
      "(Debian's bible-kjv, `bible \"Gen1:1-Rev22:21\"`) or every unit of --text becomes "
      "lower-cased words without punctuation, each tagged with its casing and the mark after it "
      "(lower, Cap,comma, UPPER,period, ...); split 80/10/10 by a hash of the text into CoNLL "
      "files (token<TAB>tag, an empty line between sequences). docs/tagging.md");
  c->add_option("--out", a->out, "Write train.conll, valid.conll and test.conll here (made if missing)")
      ->required()
      ->type_name("DIR");
  c->add_option("--text", a->text, "Read this file instead of running `bible`")->type_name("FILE");
  c->add_option("--format", a->format,
                "How the text is cut into sequences: bible (`bible` output: one per verse), lines "
                "(one per non-empty line) or sentences (running text cut after . ? !)")
      ->capture_default_str()
      ->check(CLI::IsMember({"bible", "lines", "sentences"}));
  c->add_option("--max-words", a->max_words, "Drop sequences of more than N words (0: keep all)")
      ->capture_default_str()
      ->check(NonNegative)
      ->type_name("N");
  c->callback([a, &action] { action = [a] { run_kjv_punct(*a); }; });
}

// ---- cmudict ----

struct CmudictArgs {
  std::string out, dict = kCmudictPath;
  int valid_permille = 50, test_permille = 50;
};

void run_cmudict(const CmudictArgs& a) {
  RECUR_CHECK(a.valid_permille + a.test_permille <= 1000,
              "--valid-permille " << a.valid_permille << " and --test-permille " << a.test_permille
                                  << " add up to more than 1000");
  RECUR_CHECK(fs::exists(a.dict), "'" << a.dict
                                      << "' is missing; install pocketsphinx-en-us "
                                         "(scripts/setup.sh) or pass --dict");
  const std::vector<Pronunciation> prons = read_cmudict(a.dict);
  const G2pSplit ds = split_g2p(prons, a.valid_permille, a.test_permille);
  const std::pair<const char*, const std::vector<SequencePair>*> splits[] = {
      {"train", &ds.train}, {"valid", &ds.valid}, {"test", &ds.test}};
  const int64_t words[] = {ds.words_train, ds.words_valid, ds.words_test};
  for (const auto& [split, rows] : splits)
    RECUR_CHECK(!rows->empty(), a.dict << ": the " << split
                                       << " split is empty; change --valid-permille (now "
                                       << a.valid_permille << ") or --test-permille (now "
                                       << a.test_permille << ")");

  const int64_t kept_words = ds.words_train + ds.words_valid + ds.words_test;
  const int64_t total_words = kept_words + int64_t(ds.dropped_words.size());
  std::printf("cmudict: %s: %zu pronunciations of %lld words\n", a.dict.c_str(), prons.size(),
              (long long)total_words);
  if (!ds.dropped_words.empty()) {
    std::printf("dropped %zu word%s (%lld pronunciation%s) with characters other than a-z ' - .:",
                ds.dropped_words.size(), ds.dropped_words.size() == 1 ? "" : "s",
                (long long)ds.dropped_pronunciations, ds.dropped_pronunciations == 1 ? "" : "s");
    for (const std::string& w : ds.dropped_words) std::printf(" %s", w.c_str());
    std::printf("\n");
  }
  std::printf("split by fnv1a64(word) %% 1000: below %d test, then %d valid, the rest train\n",
              a.test_permille, a.valid_permille);
  std::printf("%-6s %7s %15s\n", "split", "words", "pronunciations");
  int64_t total_rows = 0;
  for (size_t k = 0; k < 3; ++k) {
    std::printf("%-6s %7lld %15zu\n", splits[k].first, (long long)words[k],
                splits[k].second->size());
    total_rows += int64_t(splits[k].second->size());
  }
  std::printf("%-6s %7lld %15lld\n", "total", (long long)kept_words, (long long)total_rows);
  std::set<std::string> graphemes, phonemes;
  for (const auto& [split, rows] : splits)
    for (const SequencePair& p : *rows) {
      graphemes.insert(p.source.begin(), p.source.end());
      phonemes.insert(p.target.begin(), p.target.end());
    }
  const std::pair<const char*, const std::set<std::string>*> inventories[] = {
      {"graphemes", &graphemes}, {"phonemes", &phonemes}};
  for (const auto& [what, tokens] : inventories) {
    std::printf("%zu %s:", tokens->size(), what);
    for (const std::string& t : *tokens) std::printf(" %s", t.c_str());
    std::printf("\n");
  }

  make_dir(a.out);
  for (const auto& [split, rows] : splits) {
    const std::string path = (fs::path(a.out) / (std::string(split) + ".tsv")).string();
    write_sequence_pairs(path, *rows);
    std::printf("wrote %s (%zu pairs)\n", path.c_str(), rows->size());
  }
}

void add_cmudict(CLI::App& data, Action& action) {
  auto a = std::make_shared<CmudictArgs>();
  CLI::App* c = data.add_subcommand(
      "cmudict",
      "Grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary (Debian's "
      "pocketsphinx-en-us): one row per pronunciation, the word's letters as source tokens and its "
      "ARPAbet phonemes as target (a b o u t<TAB>AH B AW T); words with characters other than "
      "a-z ' - . are dropped; split by a hash of the word, so all pronunciations of a word are in "
      "one split. docs/data.md");
  c->add_option("--out", a->out, "Write train.tsv, valid.tsv and test.tsv here (made if missing)")
      ->required()
      ->type_name("DIR");
  c->add_option("--dict", a->dict, "The dictionary file (word(n) PHONEME... per line)")
      ->capture_default_str()
      ->type_name("FILE");
  c->add_option("--valid-permille", a->valid_permille,
                "Send the words with fnv1a64(word) % 1000 in [test, test + N) to validation")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000))
      ->type_name("N");
  c->add_option("--test-permille", a->test_permille,
                "Send the words with fnv1a64(word) % 1000 below N to test")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000))
      ->type_name("N");
  c->callback([a, &action] { action = [a] { run_cmudict(*a); }; });
}

// ---- listops ----

struct ListOpsArgs {
  std::string out;
  int64_t train = 20000, valid = 1000, test = 1000;
  uint64_t seed = 1;
  ListOpsOptions o;
};

void run_listops(const ListOpsArgs& a) {
  // One seeded stream, drawn in order: train, then validation, then test; an expression already
  // drawn is drawn again, so the three splits share none.
  Rng rng(a.seed);
  std::set<std::string> seen;
  make_dir(a.out);
  const std::pair<const char*, int64_t> splits[] = {{"train", a.train}, {"valid", a.valid}, {"test", a.test}};
  for (const auto& [split, count] : splits) {
    std::vector<LabeledText> rows;
    int64_t tokens = 0, counts[10] = {};
    while (int64_t(rows.size()) < count) {
      const ListOpsExample x = generate_listops(rng, a.o);
      if (!seen.insert(x.expression).second) continue;
      rows.push_back({std::to_string(x.value), x.expression});
      tokens += 1 + int64_t(std::count(x.expression.begin(), x.expression.end(), ' '));
      ++counts[x.value];
    }
    const std::string path = (fs::path(a.out) / (std::string(split) + ".tsv")).string();
    write_labeled_tsv(path, rows);
    std::printf("wrote %s: %lld expressions, %.1f tokens on average; values 0-9:", path.c_str(),
                (long long)count, double(tokens) / double(count));
    for (int64_t c : counts) std::printf(" %lld", (long long)c);
    std::printf("\n");
  }
}

void add_listops(CLI::App& data, Action& action) {
  auto a = std::make_shared<ListOpsArgs>();
  CLI::App* c = data.add_subcommand(
      "listops",
      "ListOps (Nangia & Bowman 2018): nested MAX/MIN/MED/SM expressions over digits with their "
      "value as the label, generated from a seed (recur/data/listops.h) into train.tsv, valid.tsv "
      "and test.tsv (label<TAB>expression) with no expression in two splits.");
  c->add_option("--out", a->out, "Write train.tsv, valid.tsv and test.tsv here (made if missing)")
      ->required()
      ->type_name("DIR");
  c->add_option("--train-size", a->train, "Training expressions")->capture_default_str()->check(Positive);
  c->add_option("--valid-size", a->valid, "Validation expressions")->capture_default_str()->check(Positive);
  c->add_option("--test-size", a->test, "Test expressions")->capture_default_str()->check(Positive);
  c->add_option("--seed", a->seed, "Generator seed")->capture_default_str();
  c->add_option("--max-depth", a->o.max_depth, "Deepest operator nesting")->capture_default_str()->check(Positive);
  c->add_option("--max-args", a->o.max_args, "Most arguments of an operator")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  c->add_option("--max-tokens", a->o.max_tokens, "Longest expression in tokens")
      ->capture_default_str()
      ->check(CLI::Range(4, 100000));
  c->add_option("--leaf-probability", a->o.leaf_probability, "Chance an argument is a digit")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->callback([a, &action] { action = [a] { run_listops(*a); }; });
}

}  // namespace

void add_data(CLI::App& app, Action& action) {
  CLI::App* data = app.add_subcommand(
      "data",
      "Make or check the classification, tagging and sequence-to-sequence data sets from Debian "
      "packages (docs/data.md, docs/tagging.md)");
  data->require_subcommand(1);
  add_fortunes(*data, action, "fortunes-lang",
               "Language identification from Debian's fortune files: 12 classes (bg br cs de en eo "
               "es ga it pl ru zh), entries filtered by length, deduplicated, capped per class and "
               "split 80/10/10 by a hash of the text into labeled TSV files (label<TAB>text).",
               fortune_language_classes);
  add_fortunes(*data, action, "fortunes-topic",
               "English topic classification from Debian's `fortunes` categories (computers "
               "drugs education food law love politics science sports startrek), filtered, "
               "deduplicated, capped and split as fortunes-lang.",
               fortune_topic_classes);
  add_fashion(*data, action);
  add_kjv_punct(*data, action);
  add_cmudict(*data, action);
  add_listops(*data, action);
}

}  // namespace recur::cli
