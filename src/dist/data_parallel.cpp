// Bucketed, weighted gradient averaging over a Communicator (recur/dist/data_parallel.h).
#include "recur/dist/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <ostream>
#include <streambuf>

namespace recur::dist {

DataParallel::DataParallel(const std::vector<Param<float>>& params, Communicator& comm,
                           size_t bucket_bytes)
    : comm_(&comm), params_(params) {
  if (!active()) return;
  const size_t cap = std::max<size_t>(1, bucket_bytes / sizeof(float));
  size_t filled = cap;  // start a bucket at the first parameter
  bucket_of_.resize(params_.size());
  marked_.resize(params_.size());
  for (size_t i = params_.size(); i-- > 0;) {
    const size_t n = params_[i].grad->data.size();
    if (filled + n > cap && filled > 0) {
      buckets_.emplace_back();
      filled = 0;
    }
    buckets_.back().params.push_back(i);
    index_of_[params_[i].grad] = i;
    bucket_of_[i] = buckets_.size() - 1;
    filled += n;
  }
  for (Bucket& b : buckets_) {
    size_t n = 0;
    for (size_t i : b.params) n += params_[i].grad->data.size();
    b.buffer.resize(n);
  }
}

void DataParallel::broadcast_parameters() {
  if (!active()) return;
  for (const Param<float>& p : params_) comm_->broadcast(p.value->data.data(), p.value->data.size(), 0);
}

void DataParallel::own_dropout_stream(Rng& rng, uint64_t seed, int64_t step) const {
  if (rank() > 0) rng.reseed(seed ^ (0x9E3779B97F4A7C15ull * uint64_t(rank())) ^ uint64_t(step));
}

void DataParallel::begin(double local_weight) {
  local_weight_ = local_weight;
  begun_ = true;
  std::fill(marked_.begin(), marked_.end(), 0);
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    b.ticket = -1;
  }
}

void DataParallel::start(Bucket& b) {
  float* out = b.buffer.data();
  const float w = float(local_weight_);
  for (size_t i : b.params)
    for (float g : params_[i].grad->data) *out++ = g * w;
  b.ticket = comm_->start_allreduce_sum(b.buffer.data(), b.buffer.size());
}

void DataParallel::ready(const Tensor<float>* grad) {
  if (!active() || grad->data.empty()) return;
  const auto it = index_of_.find(grad);
  RECUR_CHECK(it != index_of_.end(), "DataParallel::ready: not one of the parameters' gradients");
  RECUR_CHECK(!marked_[it->second], "DataParallel::ready: '" << params_[it->second].name
                                                             << "' marked twice in one step");
  marked_[it->second] = 1;
  Bucket& b = buckets_[bucket_of_[it->second]];
  if (--b.pending == 0) start(b);
  comm_->progress();
}

std::function<void(int)> DataParallel::layer_hook(RnnParams<float>& rnn,
                                                  std::vector<const Tensor<float>*> earlier) {
  if (!active()) return {};
  const int top = rnn.config.total_layers() - 1;
  return [this, &rnn, earlier = std::move(earlier), top](int layer) {
    if (layer == top)
      for (const Tensor<float>* g : earlier) ready(g);
    // Stack layer -> the segment that holds it and its layer there (a mixed stack has several).
    const RnnParams<float>* s = &rnn;
    int l = layer;
    for (size_t k = 0; l >= s->config.num_layers; ++k) {
      l -= s->config.num_layers;
      s = &rnn.above[k];
    }
    std::visit([this](const auto& layer) {  // a layer with its own time loop
      if constexpr (!std::is_same_v<std::decay_t<decltype(layer)>, std::monostate>)
        for_each_param(layer, [this](const std::string&, const Tensor<float>& g) { ready(&g); });
    }, s->layer);
    const int D = s->config.directions();
    for (int d = 0; d < D && !s->config.own_loop(); ++d) {
      const RnnCellParams<float>& c = s->cells[size_t(l * D + d)];
      for (const Tensor<float>* g : {&c.w_ih, &c.w_hh, &c.b_ih, &c.b_hh, &c.w_peep, &c.leak, &c.ln})
        ready(g);
    }
  };
}

size_t DataParallel::gradient_floats() const {
  size_t n = 0;
  for (const Param<float>& p : params_) n += p.grad->data.size();
  return n;
}

void DataParallel::finish(double total_weight) {
  if (!active()) return;
  RECUR_CHECK(total_weight > 0, "DataParallel::finish: the batch holds nothing to average over");
  const auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_)
    if (b.ticket < 0) start(b);
  const float inv = float(1.0 / total_weight);
  for (Bucket& b : buckets_) {
    comm_->wait(b.ticket);
    const float* in = b.buffer.data();
    for (size_t i : b.params)
      for (float& g : params_[i].grad->data) g = *in++ * inv;
  }
  reduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++reduced_steps_;
  begun_ = false;
}

double DataParallel::reduce_step(double loss, double weight, std::vector<double>* counts) {
  if (!active()) return loss;
  if (!begun_) begin(weight);
  std::vector<double> totals = {weight > 0 ? loss * weight : 0.0, weight};
  if (counts) totals.insert(totals.end(), counts->begin(), counts->end());
  totals = sum(std::move(totals));
  if (counts) std::copy(totals.begin() + 2, totals.end(), counts->begin());
  finish(totals[1]);  // also when the mean is not finite: the caller stops, nothing is left pending
  return totals[0] / totals[1];
}

std::vector<double> DataParallel::sum(std::vector<double> values) {
  if (active()) comm_->allreduce_sum(values.data(), values.size());
  return values;
}

bool DataParallel::any(bool flag) {
  if (!active()) return flag;
  return sum({flag ? 1.0 : 0.0})[0] > 0;
}

std::ostream& null_stream() {
  struct Discard : std::streambuf {
    int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
  };
  static Discard buffer;
  static std::ostream stream(&buffer);
  return stream;
}

}  // namespace recur::dist
