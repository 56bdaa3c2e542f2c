// Reading the Prometheus text exposition format (0.0.4), for `weft top`: just enough for
// weft's own /metrics (names, labels, values; timestamps ignored), plus the quantile
// estimate Prometheus's histogram_quantile() makes from cumulative buckets.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <weft/status.h>

namespace weft::cli {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromScrape {
  std::vector<PromSample> samples;

  // The value of name{label=value} (label empty: the sample without labels), or fallback.
  double get(const std::string& name, const std::string& label = {}, const std::string& value = {},
             double fallback = 0) const;
  // The values of `label` that `name` has samples for, in order of appearance.
  std::vector<std::string> label_values(const std::string& name, const std::string& label) const;
  // name's cumulative (le, count) buckets for label=value, in order of appearance.
  std::vector<std::pair<double, double>> buckets(const std::string& name, const std::string& label,
                                                 const std::string& value) const;
};

Result<PromScrape> parse_prom_text(const std::string& text);

// Prometheus's histogram_quantile: linear within the bucket holding rank q * total; in
// the +Inf bucket, the largest finite bound. -1 when there are no observations.
double histogram_quantile(double q, const std::vector<std::pair<double, double>>& cumulative);

}  // namespace weft::cli
