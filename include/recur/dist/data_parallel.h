// Data-parallel training: every rank holds the whole model, trains on its share of each batch, and
// the gradients are averaged before the (identical) optimizer step on every rank, so the weights
// stay equal everywhere. With the weighting below, N ranks with per-rank batch B take the same step
// as one process with batch N*B (up to the order of float additions).
//
// One step:
//   dp.begin(w);                     // optional: only needed before ready() (w as below)
//   ... zero the gradients, forward, backward; optionally dp.ready(&grad) as each is final ...
//   loss = dp.reduce_step(loss, w);  // w: what this rank's loss is the mean over (examples,
//                                    // tokens); every gradient becomes sum_r w_r g_r / sum_r w_r
// On one process every call is a no-op and training is bit for bit what it was.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <unordered_map>
#include <vector>

#include "recur/dist/communicator.h"
#include "recur/layers/rnn.h"
#include "recur/train/param.h"

namespace recur::dist {

class DataParallel {
 public:
  // Gradients are reduced in buckets of about `bucket_bytes`, formed in reverse parameter order
  // (the order backward finishes them: the output layer first, the embedding last).
  explicit DataParallel(const std::vector<Param<float>>& params, Communicator& comm = world(),
                        size_t bucket_bytes = size_t(1) << 20);

  int rank() const { return comm_->rank(); }
  int size() const { return comm_->size(); }
  bool active() const { return size() > 1; }
  bool is_root() const { return rank() == 0; }
  Communicator& comm() { return *comm_; }
  size_t buckets() const { return buckets_.size(); }

  // This rank's contiguous share of n items.
  Range share(int64_t n) const { return dist::share(n, rank(), size()); }

  // Rank 0's parameter values on every rank (after initialisation or a resume).
  void broadcast_parameters();
  // Gives every rank but 0 its own generator for dropout masks, from the run's seed, its rank and
  // the step it starts at; rank 0 keeps the run's generator (the one checkpoints hold). So a run on
  // N ranks is the one-process run exactly only without dropout.
  void own_dropout_stream(Rng& rng, uint64_t seed, int64_t step) const;

  void begin(double local_weight);
  // The gradient `grad` (one of the parameters') is final for this step: when its bucket is
  // complete, that bucket's reduction starts while backward goes on.
  void ready(const Tensor<float>* grad);  // (an empty tensor, an absent parameter, is skipped)
  // For RnnRunOptions::layer_grads_done of a model whose recurrent layers' gradients are `rnn`:
  // marks each layer's gradients ready as backward finishes it, and with the top layer also
  // `earlier` (e.g. the output layer's, final before the recurrent backward began). Empty (no
  // hook) on one process.
  std::function<void(int layer)> layer_hook(RnnParams<float>& rnn,
                                            std::vector<const Tensor<float>*> earlier = {});
  void finish(double total_weight);
  // The end of a step, when this rank's loss is the mean over `weight` items: returns the mean
  // over every rank's items, with the gradients made the gradients of that mean (begin() and
  // finish() in one, begin() skipped when the caller already began the step). `counts` (items,
  // hits, ...) are summed over the ranks in place. On one process `loss` comes back as it was.
  double reduce_step(double loss, double weight, std::vector<double>* counts = nullptr);

  // Element-wise sums over ranks, in double.
  std::vector<double> sum(std::vector<double> values);
  // True on every rank when `flag` is true on any.
  bool any(bool flag);
  // Returns on every rank once every rank has called it.
  void barrier() { any(false); }

  // Time this rank spent in finish() (reducing gradients, including waiting for slower ranks), and
  // the steps it reduced.
  double reduce_seconds() const { return reduce_seconds_; }
  int64_t reduced_steps() const { return reduced_steps_; }
  size_t gradient_floats() const;

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<float> buffer;
    size_t pending = 0;
    int ticket = -1;
  };
  void start(Bucket& b);

  Communicator* comm_;
  std::vector<Param<float>> params_;
  std::vector<Bucket> buckets_;
  std::unordered_map<const Tensor<float>*, size_t> index_of_;  // a gradient's parameter
  std::vector<size_t> bucket_of_;                               // a parameter's bucket
  std::vector<char> marked_;                                    // ready() this step
  double local_weight_ = 1;
  bool begun_ = false;  // begin() called and finish() not yet
  double reduce_seconds_ = 0;
  int64_t reduced_steps_ = 0;
};

// A stream that discards what is written: the log of every rank but rank 0.
std::ostream& null_stream();

}  // namespace recur::dist
