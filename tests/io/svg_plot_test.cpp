// SVG plots: well-formed XML, legend names, round tick labels, skipped NaN points, one-point series.
#include "recur/io/svg_plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/io/file.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr const char* kPython = "/usr/bin/python3";

class SvgPlotTest : public testing::ScratchDirTest {
 protected:
  // True when Python's XML parser accepts the SVG (callers skip when there is no python3).
  bool ParsesAsXml(const std::string& svg, const std::string& name = "plot.svg") const {
    write_file_atomic(Path(name), svg);
    const std::string cmd = std::string(kPython) +
                            " -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' '" +
                            Path(name) + "'";
    return std::system(cmd.c_str()) == 0;
  }
};

bool HavePython() { return ::access(kPython, X_OK) == 0; }

// The text of every <text class="cls"> element.
std::vector<std::string> Texts(const std::string& svg, const std::string& cls) {
  std::vector<std::string> out;
  const std::regex re("class=\"" + cls + "\"[^>]*>([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

// Tick labels must be short decimal numbers, equally spaced by 1, 2 or 5 times a power of ten,
// each a whole multiple of that step, and cover [lo, hi].
void ExpectRoundTicks(const std::vector<std::string>& labels, double lo, double hi) {
  ASSERT_GE(labels.size(), 2u);
  std::vector<double> v;
  for (const std::string& l : labels) {
    EXPECT_LE(l.size(), 8u) << l;
    EXPECT_EQ(l.find_first_not_of("-0123456789."), std::string::npos) << l;
    EXPECT_NE(l, "-0");
    v.push_back(std::stod(l));
  }
  const double step = v[1] - v[0];
  ASSERT_GT(step, 0);
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
              std::abs(mantissa - 5) < 1e-6)
      << "step " << step;
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(v[i], v[0] + double(i) * step, step * 1e-6) << labels[i];
    EXPECT_NEAR(v[i] / step, std::round(v[i] / step), 1e-6) << labels[i];
  }
  EXPECT_LE(v.front(), lo);
  EXPECT_GE(v.back(), hi);
  EXPECT_LE(v.size(), 16u);
}

PlotSpec TwoSeries() {
  PlotSpec spec{"Loss <&> \"curves\"", "step", "bits per token", {}};
  Series train{"train bits/token", {}, {}, false}, val{"validation & co", {}, {}, true};
  for (int i = 1; i <= 50; ++i) {
    train.x.push_back(20.0 * i);
    train.y.push_back(1.3 + 5.0 / i);
  }
  for (int i = 1; i <= 5; ++i) {
    val.x.push_back(200.0 * i);
    val.y.push_back(1.5 + 1.0 / i);
  }
  spec.series = {train, val};
  return spec;
}

TEST(SvgNiceTicks, StepsAreOneTwoFiveTimesAPowerOfTen) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(nice_ticks(1, 1000), (std::vector<double>{0, 200, 400, 600, 800, 1000}));
  EXPECT_EQ(nice_ticks(1.33, 6.3), (std::vector<double>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(nice_ticks(-3, 47).front(), -10);
  EXPECT_EQ(nice_ticks(-3, 47).back(), 50);
  // One value: widened around it.
  EXPECT_EQ(nice_ticks(0, 0).front(), -1);
  EXPECT_EQ(nice_ticks(0, 0).back(), 1);
  const std::vector<double> t = nice_ticks(5, 5);
  EXPECT_LT(t.front(), 5);
  EXPECT_GT(t.back(), 5);
}

TEST_F(SvgPlotTest, OutputIsWellFormedXmlWithBothNamesEscaped) {
  const std::string svg = render_svg(TwoSeries());
  EXPECT_NE(svg.find("train bits/token"), std::string::npos);
  EXPECT_NE(svg.find("validation &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("Loss &lt;&amp;&gt; &quot;curves&quot;"), std::string::npos);
  EXPECT_EQ(Texts(svg, "x-label"), std::vector<std::string>{"step"});
  EXPECT_EQ(Texts(svg, "y-label"), std::vector<std::string>{"bits per token"});
  // Two series in different colours; the validation series has a marker per point.
  EXPECT_NE(svg.find("#1f77b4"), std::string::npos);
  EXPECT_NE(svg.find("#ff7f0e"), std::string::npos);
  EXPECT_GE(std::count(svg.begin(), svg.end(), 'M'), 2);
  if (!HavePython()) GTEST_SKIP() << kPython << " not found; XML well-formedness not checked";
  EXPECT_TRUE(ParsesAsXml(svg));
}

TEST_F(SvgPlotTest, TickLabelsAreRoundNumbers) {
  const std::string svg = render_svg(TwoSeries());
  ExpectRoundTicks(Texts(svg, "tick-x"), 20, 1000);
  ExpectRoundTicks(Texts(svg, "tick-y"), 1.4, 6.3);
  PlotSpec small{"", "", "", {{"s", {0.001, 0.0013, 0.0017}, {-0.31, 0.07, 0.52}, false}}};
  const std::string svg2 = render_svg(small);
  ExpectRoundTicks(Texts(svg2, "tick-x"), 0.001, 0.0017);
  ExpectRoundTicks(Texts(svg2, "tick-y"), -0.31, 0.52);
}

TEST_F(SvgPlotTest, NonFinitePointsAreSkipped) {
  PlotSpec spec{"t", "x", "y", {{"gappy", {1, 2, 3, 4, 5, 6, 7}, {1, 2, kNaN, 4, 5, kInf, 7}, false},
                                {"bad x", {kNaN, -kInf}, {1e9, 1e9}, false}}};
  const std::string svg = render_svg(spec);
  for (const char* bad : {"nan", "NaN", "inf", "Inf"})
    EXPECT_EQ(svg.find(bad), std::string::npos) << bad;
  // The axes cover the finite points only (not the 1e9 with a NaN x).
  ExpectRoundTicks(Texts(svg, "tick-y"), 1, 7);
  EXPECT_LE(std::stod(Texts(svg, "tick-y").back()), 10);
  // The gaps break the line: two runs of two points, and the isolated last point is a dot.
  const std::regex path_re("<path d=\"([^\"]*)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, path_re));
  const std::string d = m[1];
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2) << d;
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 2) << d;
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  if (!HavePython()) GTEST_SKIP() << kPython << " not found";
  EXPECT_TRUE(ParsesAsXml(svg));
}

TEST_F(SvgPlotTest, SinglePointAndConstantSeriesGetAVisibleRange) {
  PlotSpec one{"one", "step", "bpt", {{"only", {100}, {2.5}, false}}};
  const std::string svg = render_svg(one);
  EXPECT_NE(svg.find("<circle"), std::string::npos);  // Visible without markers.
  ExpectRoundTicks(Texts(svg, "tick-x"), 100, 100);
  ExpectRoundTicks(Texts(svg, "tick-y"), 2.5, 2.5);
  EXPECT_LT(std::stod(Texts(svg, "tick-x").front()), 100);
  EXPECT_GT(std::stod(Texts(svg, "tick-x").back()), 100);
  PlotSpec flat{"flat", "", "", {{"flat", {0, 1, 2, 3}, {0, 0, 0, 0}, true}}};
  const std::string svg2 = render_svg(flat);
  ExpectRoundTicks(Texts(svg2, "tick-y"), -0.5, 0.5);
  PlotSpec empty{"empty", "", "", {{"none", {kNaN}, {1}, false}}};
  const std::string svg3 = render_svg(empty);
  EXPECT_NE(svg3.find("no data"), std::string::npos);
  if (!HavePython()) GTEST_SKIP() << kPython << " not found";
  EXPECT_TRUE(ParsesAsXml(svg, "one.svg"));
  EXPECT_TRUE(ParsesAsXml(svg2, "flat.svg"));
  EXPECT_TRUE(ParsesAsXml(svg3, "empty.svg"));
}

TEST_F(SvgPlotTest, MismatchedSeriesLengthsAreAnError) {
  PlotSpec spec{"", "", "", {{"lopsided", {1, 2, 3}, {1, 2}, false}}};
  EXPECT_RECUR_ERROR(render_svg(spec), "lopsided", "3 x values but 2 y values");
}

TEST_F(SvgPlotTest, TrainingCurvesPlotTrainAndValidationBitsPerToken) {
  std::vector<MetricRecord> records;
  for (int64_t s = 10; s <= 300; s += 10) {
    MetricRecord r;
    r.kind = "train";
    r.step = s;
    r.bits_per_token = 1.5 + 100.0 / double(s);
    records.push_back(r);
    if (s % 100 == 0) {
      r.kind = "val";
      r.bits_per_token += 0.2;
      records.push_back(r);
    }
  }
  MetricRecord no_bpt;
  no_bpt.kind = "train";
  no_bpt.step = 305;  // No bits_per_token: left out, does not break the line.
  records.push_back(no_bpt);
  plot_training_curves(records, Path("curves.svg"), "char LM");
  const std::string svg = read_file_bytes(Path("curves.svg"));
  EXPECT_NE(svg.find(">train<"), std::string::npos);
  EXPECT_NE(svg.find(">validation<"), std::string::npos);
  EXPECT_NE(svg.find(">char LM<"), std::string::npos);
  const std::regex path_re("<path d=\"([^\"]*)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, path_re));
  EXPECT_EQ(std::count(m[1].first, m[1].second, 'M'), 1);
  // Three validation markers plus the legend's one.
  size_t circles = 0;
  for (size_t p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1))
    ++circles;
  EXPECT_EQ(circles, 4u);
  EXPECT_RECUR_ERROR(plot_training_curves({no_bpt}, Path("none.svg"), "t"), "bits_per_token");
  EXPECT_FALSE(fs::exists(Path("none.svg")));
  if (!HavePython()) GTEST_SKIP() << kPython << " not found";
  EXPECT_TRUE(ParsesAsXml(svg, "curves2.svg"));
}

}  // namespace
}  // namespace recur
