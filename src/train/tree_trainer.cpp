// The tree classifier's training loop (recur/train/tree_trainer.h).
#include "recur/train/tree_trainer.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "recur/core/error.h"
#include "recur/dist/data_parallel.h"
#include "recur/nn/loss.h"
#include "recur/train/clip.h"
#include "recur/train/early_stopping.h"
#include "recur/train/nan_guard.h"
#include "recur/train/param.h"

namespace recur {
namespace {

Forest forest_of(const std::vector<TreeExample>& ex, const std::vector<int64_t>& idx, int64_t vocab,
                 std::vector<int64_t>& labels) {
  std::vector<const TokenTree*> trees;
  labels.clear();
  for (int64_t i : idx) {
    trees.push_back(&ex[size_t(i)].tree);
    labels.push_back(ex[size_t(i)].label);
  }
  return make_forest(trees, vocab);
}

int64_t correct(const Tensor<float>& logits, const std::vector<int64_t>& labels) {
  const int64_t R = logits.dim(0), C = logits.dim(1);
  int64_t right = 0;
  for (int64_t r = 0; r < R; ++r) {
    const float* row = logits.ptr() + r * C;
    right += (std::max_element(row, row + C) - row) == labels[size_t(r)];
  }
  return right;
}

}  // namespace

double tree_accuracy(const TreeRnn<float>& m, const std::vector<TreeExample>& examples, int64_t batch) {
  RECUR_CHECK(!examples.empty(), "tree_accuracy: no examples");
  // Data parallel: each rank scores its share (recur/dist/communicator.h), the counts add up.
  dist::Communicator& comm = dist::world();
  const dist::Range mine = dist::share(int64_t(examples.size()), comm.rank(), comm.size());
  int64_t right = 0;
  std::vector<int64_t> labels;
  for (size_t s = size_t(mine.begin); s < size_t(mine.end); s += size_t(batch)) {
    std::vector<int64_t> idx;
    for (size_t i = s; i < std::min(size_t(mine.end), s + size_t(batch)); ++i) idx.push_back(int64_t(i));
    const Forest f = forest_of(examples, idx, m.config.vocab, labels);
    Tensor<float> logits;
    TreeCache<float> cache;
    tree_forward(logits, cache, m, f);
    right += correct(logits, labels);
  }
  double r = double(right);
  comm.allreduce_sum(&r, 1);  // (nothing to add on one process)
  right = int64_t(r);
  return double(right) / double(examples.size());
}

std::vector<TreeEpoch> train_tree_classifier(TreeRnn<float>& m, const std::vector<TreeExample>& train,
                                             const std::vector<TreeExample>& valid,
                                             const TreeTrainConfig& cfg,
                                             const std::function<void(const TreeEpoch&)>& on_epoch,
                                             std::string* summary) {
  RECUR_CHECK(!train.empty() && !valid.empty(), "tree training needs training and validation examples");
  RECUR_CHECK(cfg.epochs >= 1 && cfg.batch >= 1, "tree training: epochs and batch must be >= 1");
  for (const auto* set : {&train, &valid})
    for (size_t i = 0; i < set->size(); ++i)
      RECUR_CHECK((*set)[i].label >= 0 && (*set)[i].label < m.config.classes,
                  "example " << i << " has label " << (*set)[i].label << ", outside [0, " << m.config.classes << ")");
  TreeRnn<float> grads(m.config), best = m;
  const auto params = pair_params(m.named(), grads.named());
  Optimizer<float> opt(cfg.optimizer);
  // Data parallel (recur/dist/data_parallel.h): updates of ranks x batch trees, each rank its share
  // (the shuffle is the same on every rank: same seed, no dropout).
  dist::DataParallel dp(params);
  dp.broadcast_parameters();
  const size_t batch = size_t(cfg.batch * dp.size());
  Rng rng(cfg.seed);
  std::vector<int64_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<TreeEpoch> epochs;
  EarlyStopping early(cfg.guard.patience);  // keeps the best epoch's weights, --patience or not
  const int64_t per_epoch = int64_t((train.size() + batch - 1) / batch);
  std::vector<int64_t> labels;
  NanGuard nan_guard(cfg.guard, LossBaseline::uniform(m.config.classes, "the classes"));
  int64_t step = 0;
  for (int64_t e = 1; e <= cfg.epochs && !early.should_stop(); ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    double loss_sum = 0;
    int64_t right = 0;
    double counted = 0;  // trees of the steps taken
    const int64_t skipped_before = nan_guard.skipped();
    for (size_t s = 0; s < order.size(); s += batch) {
      const size_t n = std::min(order.size(), s + batch) - s;
      const dist::Range mine = dp.share(int64_t(n));
      const std::vector<int64_t> idx(order.begin() + int64_t(s) + mine.begin,
                                     order.begin() + int64_t(s) + mine.end);
      zero_grads(params);
      double loss = 0;                      // mean cross-entropy over this rank's trees
      std::vector<double> counts = {0, 0};  // trees, right answers
      if (!idx.empty()) {
        const Forest f = forest_of(train, idx, m.config.vocab, labels);
        Tensor<float> logits;
        TreeCache<float> cache;
        tree_forward(logits, cache, m, f);
        Tensor<float> dlogits(logits.shape);
        counts = {double(logits.dim(0)), double(correct(logits, labels))};
        loss = double(softmax_cross_entropy(dlogits.ptr(), logits.ptr(), labels.data(),
                                            logits.dim(0), m.config.classes));
        tree_backward(grads, cache, m, f, dlogits);
      }
      // The mean over every rank's trees, its gradient, and the counts of all ranks.
      loss = dp.reduce_step(loss, counts[0], &counts);
      ++step;
      if (!nan_guard.step_ok(loss, params, step, "try a lower --lr")) continue;  // alike on all ranks
      loss_sum += loss * counts[0];
      right += int64_t(counts[1]);
      counted += counts[0];
      if (cfg.clip > 0) clip_grad_norm(params, float(cfg.clip));
      opt.step(params);
    }
    TreeEpoch ep;
    ep.epoch = e;
    ep.train_loss = loss_sum / std::max(1.0, counted);
    ep.train_accuracy = double(right) / std::max(1.0, counted);
    ep.valid_accuracy = tree_accuracy(m, valid);
    ep.skipped_steps = nan_guard.skipped() - skipped_before;
    ep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The error rate as the score (lower is better): a higher accuracy is an improvement.
    if (early.update(1 - ep.valid_accuracy, step)) best = m;
    epochs.push_back(ep);
    if (on_epoch) on_epoch(ep);
  }
  m = best;
  if (summary && early.on())
    *summary = early.summary(step, per_epoch, "validation error (1 - accuracy)");
  return epochs;
}

}  // namespace recur
