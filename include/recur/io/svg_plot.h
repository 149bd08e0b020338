// A small dependency-free SVG line-chart writer, and the training-curve plot built on it.
#pragma once

#include <string>
#include <vector>

#include "recur/io/metrics.h"

namespace recur {

// One line on the chart. Points whose x or y is NaN or infinite are skipped and break the line;
// a point with no finite neighbour is drawn as a dot so that it stays visible.
struct Series {
  std::string name;  // Shown in the legend.
  std::vector<double> x, y;  // Same length.
  bool markers = false;  // Draw a dot at every point as well as the line.
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<Series> series;  // Coloured in order from a ten-colour palette.
};

// Tick values covering [lo, hi] on a linear axis: equally spaced multiples of a 1-, 2- or 5-times
// power of ten step, about `target` intervals, the first <= lo and the last >= hi. An empty or
// zero-width range is widened around its value first.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// An 800x480 SVG document: title, axes with round tick labels and grid lines, one coloured line per
// series and a legend at the right. The axes cover every finite point; a chart with no finite point
// says "no data". Throws recur::Error when a series has x and y of different lengths.
std::string render_svg(const PlotSpec& spec);

// Plots bits per token against step: the "train" records as a line and the "val" records as a line
// with markers (records without a finite bits_per_token are left out), and writes the SVG to
// `svg_path` with write_file_atomic. Throws recur::Error when no record has bits_per_token.
void plot_training_curves(const std::vector<MetricRecord>& records, const std::string& svg_path,
                          const std::string& title);

}  // namespace recur
