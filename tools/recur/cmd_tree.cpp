// `recur train-tree`: a recursive network (plain recursive or child-sum Tree-LSTM) trained on
// ListOps expressions given with their true trees (labeled TSV: value<TAB>expression, as written
// by `recur data listops`); prints validation accuracy per epoch and the test accuracy of the best
// epoch, and saves the model.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/data/labeled.h"
#include "recur/data/listops.h"
#include "recur/dist/communicator.h"
#include "recur/io/safetensors.h"
#include "recur/train/run_files.h"
#include "recur/train/tree_trainer.h"
#include "train_options.h"

namespace recur::cli {
namespace {

struct TreeArgs {
  std::string train, valid, test, out, cell = "tree_lstm";
  int64_t embed = 32, hidden = 64;
  TreeTrainConfig cfg;
  int threads = 0;
};

// Reads value<TAB>expression rows; the label must be a digit (the expression's value). The binary
// composition reads the binarised trees (recur/data/listops.h), the others the nested ones.
std::vector<TreeExample> read_listops_tsv(const std::string& path, bool binary) {
  std::vector<TreeExample> out;
  const std::vector<LabeledText> rows = read_labeled_tsv(path);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string where = path + " example " + std::to_string(i + 1);
    const std::string& l = rows[i].label;
    RECUR_CHECK(l.size() == 1 && l[0] >= '0' && l[0] <= '9',
                where << ": label '" << l << "' is not a digit 0-9");
    const ListOpsTree t = parse_listops(rows[i].text, where);
    out.push_back({binary ? binarize_listops(t) : t, l[0] - '0'});
  }
  return out;
}

void run(const TreeArgs& a) {
  set_num_threads(a.threads);
  if (!a.out.empty()) make_output_directory(a.out);  // now, not found missing after training
  TreeRnnConfig nc;
  nc.cell = parse_tree_cell(a.cell);
  const bool binary = nc.cell == TreeCell::binary_lstm;
  const std::vector<TreeExample> train = read_listops_tsv(a.train, binary),
                                 valid = read_listops_tsv(a.valid, binary);
  nc.vocab = kListOpsBinaryTokens;
  nc.embed = a.embed;
  nc.hidden = a.hidden;
  nc.classes = 10;
  TreeRnn<float> m(nc);
  Rng rng(a.cfg.seed);
  init_tree_rnn(m, rng);
  std::printf("%s, embed %lld, hidden %lld: %zu training and %zu validation trees\n", a.cell.c_str(),
              (long long)a.embed, (long long)a.hidden, train.size(), valid.size());
  const bool root = dist::world().rank() == 0;  // data parallel: rank 0 prints and writes
  std::string early_stopping;  // --patience: how the run ended and which epoch was best
  train_tree_classifier(m, train, valid, a.cfg, [root](const TreeEpoch& e) {
    if (!root) return;
    std::printf("epoch %lld: train loss %.4f, train accuracy %.2f%%, validation accuracy %.2f%% (%.1f s)\n",
                (long long)e.epoch, e.train_loss, 100 * e.train_accuracy, 100 * e.valid_accuracy, e.seconds);
    if (e.skipped_steps > 0)
      std::printf("epoch %lld: %lld steps skipped: their loss or gradients held NaN or Inf (--on-nan skip)\n",
                  (long long)e.epoch, (long long)e.skipped_steps);
    std::fflush(stdout);
  }, &early_stopping);
  if (!root) return;
  if (!early_stopping.empty()) std::printf("train-tree: %s\n", early_stopping.c_str());
  double test_acc = -1;
  if (!a.test.empty()) {
    test_acc = tree_accuracy(m, read_listops_tsv(a.test, binary));
    std::printf("test accuracy %.2f%% (the best validation epoch's weights)\n", 100 * test_acc);
  }
  if (!a.out.empty()) {
    auto md = nc.to_metadata();
    md["task"] = "tree";
    md["data"] = "listops";
    if (test_acc >= 0) md["test_accuracy"] = std::to_string(test_acc);
    save_safetensors(a.out, m.state_dict(), md);
    std::printf("wrote %s\n", a.out.c_str());
  }
}

}  // namespace

void add_tree(CLI::App& app, Action& action) {
  auto a = std::make_shared<TreeArgs>();
  CLI::App* c = app.add_subcommand(
      "train-tree",
      "Train a recursive network over the true trees of ListOps expressions (recur data listops): "
      "the plain recursive composition, the child-sum Tree-LSTM over the nested trees, or the "
      "binary Tree-LSTM over the binarised trees, batched by depth; validation accuracy per "
      "epoch, test accuracy of the best epoch.");
  c->add_option("--train", a->train, "Training TSV (value<TAB>expression)")->required()->check(CLI::ExistingFile);
  c->add_option("--valid", a->valid, "Validation TSV")->required()->check(CLI::ExistingFile);
  c->add_option("--test", a->test, "Test TSV")->check(CLI::ExistingFile);
  c->add_option("--cell", a->cell,
                "recursive, tree_lstm (child-sum, nested trees) or binary_lstm (N-ary, binarised trees)")
      ->capture_default_str()
      ->check(CLI::IsMember({"recursive", "tree_lstm", "binary_lstm"}));
  c->add_option("--embed", a->embed, "Token embedding size")->capture_default_str()->check(Positive);
  c->add_option("--hidden", a->hidden, "Hidden size")->capture_default_str()->check(Positive);
  c->add_option("--epochs", a->cfg.epochs, "Epochs")->capture_default_str()->check(Positive);
  c->add_option("--batch", a->cfg.batch, "Trees per update (per rank under mpirun)")->capture_default_str()->check(Positive);
  c->add_option("--lr", a->cfg.optimizer.lr, "Adam learning rate")->capture_default_str()->check(Positive);
  c->add_option("--clip", a->cfg.clip, "Gradient norm clip (0: off)")
      ->capture_default_str()
      ->check(NonNegative);
  add_guard_options(c, a->cfg.guard);
  c->add_option("--seed", a->cfg.seed, "Seed of weights and shuffling")->capture_default_str();
  add_threads_option(c, a->threads);
  c->add_option("--out", a->out, "Save the model (safetensors)");
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
