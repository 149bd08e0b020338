// recur serve, forecasters: the latest rows of the series in (the model's input columns, in the
// data's units), the next `horizon` values of its targets out.
#include "task.h"

#include <cmath>

#include "recur/models/forecaster_model.h"

namespace recur::serve {
namespace {

struct Forecast final : Service::Task {
  ForecasterModel model;
  Forecast(ForecasterModel m, const Limits& l) : Task(l), model(std::move(m)) {}
  std::string name() const override { return "forecast"; }
  int64_t inputs() const { return model.input_count; }
  json describe() const override {
    json in = json::array(), out = json::array();
    for (int64_t c = 0; c < inputs(); ++c) in.push_back(model.columns[size_t(c)]);
    for (const int64_t t : model.targets) out.push_back(model.columns[size_t(t)]);
    json d = {{"task", "forecast"},
              {"inputs", in},
              {"targets", out},
              {"window", model.window},
              {"horizon", model.horizon()},
              {"request",
               {{"window", "the latest rows, oldest first, at least " + std::to_string(model.window) +
                               " (the last " + std::to_string(model.window) + " are read): each a "
                               "list of the input columns' values, or a number when there is one"}}}};
    for (const auto& [k, v] : model.net.config.to_metadata()) d["network"][k] = v;
    return d;
  }
  // One row of the window: its inputs' values, checked.
  std::vector<double> row(const json& r, size_t i) const {
    const std::string where = "'window' row " + std::to_string(i + 1);
    std::vector<double> v;
    if (r.is_number() && inputs() == 1) {
      v.push_back(r.get<double>());
    } else {
      if (!r.is_array())
        refuse(400, where + " must be a list of " + std::to_string(inputs()) + " numbers");
      if (int64_t(r.size()) != inputs())
        refuse(422, where + " holds " + std::to_string(r.size()) + " values; the model reads " +
                        std::to_string(inputs()) + " input columns");
      for (const json& x : r) {
        if (!x.is_number()) refuse(400, where + " must hold numbers only");
        v.push_back(x.get<double>());
      }
    }
    for (const double x : v)
      if (!std::isfinite(x)) refuse(422, where + " holds a value that is not finite");
    return v;
  }
  json run(const json& request, const Sink*, bool dry) const override {
    const Fields f(request, {"window"});
    const json& w = f.at("window");
    if (!w.is_array()) refuse(400, "'window' must be a list of rows");
    const int64_t W = model.window, I = inputs();
    if (int64_t(w.size()) < W)
      refuse(422, "'window' holds " + std::to_string(w.size()) + " rows; the model reads the last " +
                      std::to_string(W));
    Tensor<double> window({W, I});  // the last W rows
    for (int64_t s = 0; s < W; ++s) {
      const size_t i = w.size() - size_t(W) + size_t(s);
      const std::vector<double> v = row(w[i], i);
      std::copy(v.begin(), v.end(), window.ptr() + s * I);
    }
    if (dry) return json();
    const Tensor<double> ahead = forecast_window(model, window);  // (H,K)
    const int64_t H = model.horizon(), K = int64_t(model.targets.size());
    json steps = json::array(), names = json::array();
    for (const int64_t t : model.targets) names.push_back(model.columns[size_t(t)]);
    for (int64_t h = 0; h < H; ++h)
      steps.push_back(std::vector<double>(ahead.ptr() + h * K, ahead.ptr() + (h + 1) * K));
    return {{"targets", names}, {"horizon", H}, {"forecast", steps}};
  }
};

}  // namespace

std::unique_ptr<Service::Task> forecast_task(const std::string& path, const Limits& limits) {
  return std::make_unique<Forecast>(load_forecaster_model(path), limits);
}

}  // namespace recur::serve
