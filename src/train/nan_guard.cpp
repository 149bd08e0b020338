// The training steps' NaN/Inf guard; the policies are described in recur/train/nan_guard.h.
#include "recur/train/nan_guard.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"

namespace recur {

constexpr EnumNames<OnNan, 2> kOnNanNames{{{OnNan::stop, "stop"}, {OnNan::skip, "skip"}}};

OnNan parse_on_nan(const std::string& name) {
  return parse_enum(kOnNanNames, name, "--on-nan value");
}

namespace {

// Whether every value is finite: a branch-free pass the compiler vectorises (the common case).
bool all_finite(const std::vector<float>& v) {
  bool ok = true;
  for (const float x : v) ok &= std::isfinite(x);
  return ok;
}

}  // namespace

std::string describe_non_finite_gradient(const std::vector<Param<float>>& params) {
  for (const Param<float>& p : params) {
    if (all_finite(p.grad->data)) continue;
    int64_t nans = 0, infs = 0;
    for (const float x : p.grad->data) nans += std::isnan(x), infs += std::isinf(x);
    std::ostringstream os;
    os << "the gradient of '" << p.name << "' holds " << nans << " NaN and " << infs << " Inf of "
       << p.grad->data.size() << " values";
    return os.str();
  }
  return "";
}

LossBaseline LossBaseline::uniform(int64_t k, const std::string& over) {
  std::ostringstream os;
  os << "ln " << k << ", a uniform guess over " << over;
  return {std::log(double(std::max<int64_t>(k, 2))), os.str()};
}

NanGuard::NanGuard(const GuardSettings& s, LossBaseline baseline, int64_t max_consecutive)
    : policy_(s.on_nan), max_consecutive_(max_consecutive), diverge_ratio_(s.diverge_ratio),
      baseline_(std::move(baseline)) {
  RECUR_CHECK(diverge_ratio_ >= 0, "--diverge-ratio must be >= 0, got " << diverge_ratio_);
  RECUR_CHECK(diverge_ratio_ == 0 || baseline_.loss > 0,
              "the divergence check needs a positive baseline loss, got " << baseline_.loss);
}

bool NanGuard::step_ok(double loss, const std::vector<Param<float>>& params, int64_t step,
                       const std::string& hint) {
  RECUR_CHECK(!(diverge_ratio_ > 0 && std::isfinite(loss) && loss > diverge_ratio_ * baseline_.loss),
              "step " << step << ": the loss " << loss << " is over " << diverge_ratio_ << " x "
                      << baseline_.loss << " (" << baseline_.what
                      << "): the run diverged, so it stopped and the last checkpoint was left as "
                         "it was ("
                      << hint << "; --diverge-ratio 0 turns this check off)");
  std::string what;
  if (!std::isfinite(loss)) {
    std::ostringstream os;
    os << "the loss is " << loss;
    what = os.str();
    const std::string grad = describe_non_finite_gradient(params);
    if (!grad.empty()) what += " and " + grad;
  } else {
    what = describe_non_finite_gradient(params);
  }
  if (what.empty()) {
    in_a_row_ = 0;
    return true;
  }
  RECUR_CHECK(policy_ == OnNan::skip, "step " << step << ": " << what
                                              << "; stopped (--on-nan stop) and the last checkpoint "
                                                 "was left as it was ("
                                              << hint << ", or --on-nan skip)");
  ++skipped_;
  ++in_a_row_;
  RECUR_CHECK(in_a_row_ < max_consecutive_,
              "step " << step << ": " << what << "; " << in_a_row_
                      << " steps in a row were skipped (--on-nan skip), so the run stopped and "
                         "the last checkpoint was left as it was ("
                      << hint << ")");
  message_ = "step " + std::to_string(step) + ": " + what + "; step skipped (--on-nan skip)";
  return false;
}

std::string NanGuard::summary() const {
  return skipped_ > 0 ? std::to_string(skipped_) + " steps were skipped (--on-nan skip)" : "";
}

}  // namespace recur
