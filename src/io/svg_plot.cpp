// SVG line charts with round-number axes, and the bits-per-token training-curve plot.
#include "recur/io/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>
#include <utility>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

constexpr double kWidth = 800, kHeight = 480;
constexpr double kCharWidth = 7;  // Rough advance of a 12px sans-serif character.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters other than tab, newline and carriage return.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

double step_of(const std::vector<double>& ticks) {
  return ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
}

// Labels for tick values: as many decimals as the step needs, or scientific notation for very
// large or very small values, so that neighbouring labels always differ.
std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  const double step = step_of(ticks);
  double max_abs = 0;
  for (double t : ticks) max_abs = std::max(max_abs, std::abs(t));
  const int step_exp = int(std::floor(std::log10(step) + 1e-9));
  const bool sci = max_abs >= 1e7 || step_exp < -4;
  std::vector<std::string> out;
  for (double t : ticks) {
    if (std::abs(t) < step * 1e-6) t = 0;  // No "-0".
    char buf[48];
    if (sci && t == 0) {
      std::snprintf(buf, sizeof(buf), "0");
    } else if (sci) {
      const int max_exp = max_abs > 0 ? int(std::floor(std::log10(max_abs) + 1e-9)) : step_exp;
      std::snprintf(buf, sizeof(buf), "%.*e", std::clamp(max_exp - step_exp, 0, 15), t);
    } else {
      std::snprintf(buf, sizeof(buf), "%.*f", std::max(0, -step_exp), t);
    }
    out.push_back(buf);
  }
  return out;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (!(hi > lo)) {  // One value: centre it in a range a tenth of its size each way.
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 1);
  const double raw = (hi - lo) / target;
  if (!std::isfinite(raw) || raw <= 0) return {lo, hi};
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / mag;
  const double step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * mag;
  const double k0 = std::floor(lo / step + 1e-9), k1 = std::ceil(hi / step - 1e-9);
  if (!(k1 - k0 >= 1 && k1 - k0 <= 100)) return {lo, hi};  // Values too big for the step.
  std::vector<double> ticks;
  for (double k = k0; k <= k1; ++k) ticks.push_back(k * step);
  return ticks;
}

namespace {
// The ranges the series' finite points span, checking that each series has as many y as x.
void data_ranges(const PlotSpec& spec, Range& xr, Range& yr) {
  for (const Series& s : spec.series) {
    RECUR_CHECK(s.x.size() == s.y.size(), "plot series '" << s.name << "' has " << s.x.size()
                                                          << " x values but " << s.y.size()
                                                          << " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  }
}
}  // namespace

std::string render_svg(const PlotSpec& spec) {
  Range xr, yr;
  data_ranges(spec, xr, yr);
  const bool no_data = xr.empty();
  if (no_data) xr = {0, 1}, yr = {0, 1};
  const std::vector<double> xt = nice_ticks(xr.lo, xr.hi), yt = nice_ticks(yr.lo, yr.hi);
  const std::vector<std::string> xl = tick_labels(xt), yl = tick_labels(yt);

  // Layout: room on the left for the y tick labels and axis label, on the right for the legend.
  size_t widest_y = 0, widest_name = 0;
  for (const std::string& l : yl) widest_y = std::max(widest_y, l.size());
  for (const Series& s : spec.series) widest_name = std::max(widest_name, s.name.size());
  const double legend_w = spec.series.empty() ? 0 : 48 + kCharWidth * double(widest_name);
  const double left = 36 + kCharWidth * double(widest_y);
  const double right = kWidth - 20 - std::min(legend_w, kWidth / 3);
  const double top = spec.title.empty() ? 20 : 44, bottom = kHeight - 52;
  const double x_lo = xt.front(), x_hi = xt.back(), y_lo = yt.front(), y_hi = yt.back();
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); };

  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" +
       num(kHeight) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!spec.title.empty())
    o += "<text class=\"title\" x=\"" + num((left + right) / 2) +
         "\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" +
         escape(spec.title) + "</text>\n";

  // Grid lines, tick marks and tick labels.
  o += "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double t : xt)
    o += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(t)) +
         "\" y2=\"" + num(bottom) + "\"/>\n";
  for (double t : yt)
    o += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(right) +
         "\" y2=\"" + num(py(t)) + "\"/>\n";
  o += "</g>\n<g stroke=\"#333333\" stroke-width=\"1\">\n";
  for (double t : xt)
    o += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(bottom) + "\" x2=\"" + num(px(t)) +
         "\" y2=\"" + num(bottom + 5) + "\"/>\n";
  for (double t : yt)
    o += "<line x1=\"" + num(left - 5) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(left) +
         "\" y2=\"" + num(py(t)) + "\"/>\n";
  o += "</g>\n<g fill=\"#333333\">\n";
  for (size_t i = 0; i < xt.size(); ++i)
    o += "<text class=\"tick-x\" x=\"" + num(px(xt[i])) + "\" y=\"" + num(bottom + 19) +
         "\" text-anchor=\"middle\">" + xl[i] + "</text>\n";
  for (size_t i = 0; i < yt.size(); ++i)
    o += "<text class=\"tick-y\" x=\"" + num(left - 8) + "\" y=\"" + num(py(yt[i])) +
         "\" dy=\"0.35em\" text-anchor=\"end\">" + yl[i] + "</text>\n";
  o += "</g>\n";
  if (!spec.x_label.empty())
    o += "<text class=\"x-label\" x=\"" + num((left + right) / 2) + "\" y=\"" +
         num(kHeight - 14) + "\" text-anchor=\"middle\">" + escape(spec.x_label) + "</text>\n";
  if (!spec.y_label.empty()) {
    const std::string cx = "16", cy = num((top + bottom) / 2);
    o += "<text class=\"y-label\" x=\"" + cx + "\" y=\"" + cy + "\" transform=\"rotate(-90 " +
         cx + " " + cy + ")\" text-anchor=\"middle\">" + escape(spec.y_label) + "</text>\n";
  }
  if (no_data)
    o += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num((top + bottom) / 2) +
         "\" text-anchor=\"middle\" fill=\"#888888\" font-size=\"16\">no data</text>\n";

  // The series: a path per run of finite points, dots for markers and for isolated points.
  for (size_t k = 0; k < spec.series.size(); ++k) {
    const Series& s = spec.series[k];
    const std::string colour = kPalette[k % std::size(kPalette)];
    std::string path, dots;
    auto dot = [&](double x, double y, double r) {
      dots += "<circle cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"" + num(r) + "\"/>";
    };
    for (size_t i = 0; i < s.x.size();) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < s.x.size() && std::isfinite(s.x[j]) && std::isfinite(s.y[j])) ++j;
      if (j - i == 1 && !s.markers) dot(s.x[i], s.y[i], 2.5);
      if (j - i > 1)
        for (size_t m = i; m < j; ++m)
          path += (m == i ? "M" : " L") + num(px(s.x[m])) + " " + num(py(s.y[m]));
      if (s.markers)
        for (size_t m = i; m < j; ++m) dot(s.x[m], s.y[m], 3.5);
      i = j;
    }
    o += "<g class=\"series\" data-name=\"" + escape(s.name) + "\">\n";
    if (!path.empty())
      o += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    if (!dots.empty())
      o += "<g fill=\"" + colour + "\" stroke=\"white\" stroke-width=\"1\">" + dots + "</g>\n";
    o += "</g>\n";
  }

  // Frame on top of the grid, then the legend.
  o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) +
       "\" height=\"" + num(bottom - top) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  for (size_t k = 0; k < spec.series.size(); ++k) {
    const Series& s = spec.series[k];
    const std::string colour = kPalette[k % std::size(kPalette)];
    const double lx = right + 16, ly = top + 10 + 20 * double(k);
    o += "<g class=\"legend\"><line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" +
         num(lx + 24) + "\" y2=\"" + num(ly) + "\" stroke=\"" + colour + "\" stroke-width=\"2\"/>";
    if (s.markers)
      o += "<circle cx=\"" + num(lx + 12) + "\" cy=\"" + num(ly) + "\" r=\"3.5\" fill=\"" + colour +
           "\" stroke=\"white\" stroke-width=\"1\"/>";
    o += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly) + "\" dy=\"0.35em\">" + escape(s.name) +
         "</text></g>\n";
  }
  o += "</svg>\n";
  return o;
}

void plot_training_curves(const std::vector<MetricRecord>& records, const std::string& svg_path,
                          const std::string& title) {
  std::vector<std::pair<double, double>> train, val;
  for (const MetricRecord& r : records) {
    if (!std::isfinite(r.bits_per_token)) continue;
    if (r.kind == "train") train.emplace_back(double(r.step), r.bits_per_token);
    if (r.kind == "val") val.emplace_back(double(r.step), r.bits_per_token);
  }
  RECUR_CHECK(!train.empty() || !val.empty(),
              "cannot plot '" << svg_path << "': no train or val record has a bits_per_token value");
  PlotSpec spec{title, "step", "bits per token", {}};
  auto add = [&](std::vector<std::pair<double, double>>& points, const char* name, bool markers) {
    if (points.empty()) return;
    std::stable_sort(points.begin(), points.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Series s{name, {}, {}, markers};
    for (const auto& [x, y] : points) {
      s.x.push_back(x);
      s.y.push_back(y);
    }
    spec.series.push_back(std::move(s));
  };
  add(train, "train", false);
  add(val, "validation", true);
  write_file_atomic(svg_path, render_svg(spec));
}

}  // namespace recur
