// Training a recursive network (recur/models/tree_rnn.h) to classify trees: Adam on shuffled
// minibatches of trees batched into one forest each, gradient clipping, validation accuracy after
// every epoch, the weights of the best epoch kept.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "recur/data/token_tree.h"
#include "recur/models/tree_rnn.h"
#include "recur/train/nan_guard.h"
#include "recur/train/optimizer.h"

namespace recur {

struct TreeExample {
  TokenTree tree;
  int64_t label = 0;
};

struct TreeTrainConfig {
  int64_t epochs = 10;
  int64_t batch = 32;
  OptimizerConfig optimizer;  // Adam 2e-3 by default (set in the constructor)
  double clip = 5.0;
  GuardSettings guard;  // a NaN/Inf or diverging loss; --patience (recur/train/nan_guard.h)
  uint64_t seed = 1;
  TreeTrainConfig() {
    optimizer.kind = OptimizerKind::kAdam;
    optimizer.lr = 2e-3;
  }
};

struct TreeEpoch {
  int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, valid_accuracy = 0, seconds = 0;
  int64_t skipped_steps = 0;  // --on-nan skip: this epoch's steps whose loss or gradients held NaN/Inf
};

// Trains `m` in place; `on_epoch` (optional) sees every epoch. At the end `m` holds the weights of
// the epoch with the best validation accuracy. With guard.patience > 0 training stops after that
// many epochs in a row without a higher one (recur/train/early_stopping.h), and `summary`
// (optional) receives the line that says so and names the best epoch. Returns the epochs.
std::vector<TreeEpoch> train_tree_classifier(
    TreeRnn<float>& m, const std::vector<TreeExample>& train, const std::vector<TreeExample>& valid,
    const TreeTrainConfig& cfg, const std::function<void(const TreeEpoch&)>& on_epoch = {},
    std::string* summary = nullptr);

// Fraction of examples whose highest logit is their label.
double tree_accuracy(const TreeRnn<float>& m, const std::vector<TreeExample>& examples, int64_t batch = 256);

}  // namespace recur
