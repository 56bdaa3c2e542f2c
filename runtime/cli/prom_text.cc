#include "runtime/cli/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace weft::cli {

namespace {

double parse_value(const std::string& s, bool& ok) {
  ok = true;
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  ok = !s.empty() && *end == '\0';
  return v;
}

// Parses `{a="x",b="y"}` starting at line[i] == '{'; leaves i after the '}'.
Status parse_labels(const std::string& line, size_t& i, std::map<std::string, std::string>& out) {
  ++i;
  while (i < line.size() && line[i] != '}') {
    size_t eq = line.find('=', i);
    if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return Status::invalid_argument("bad label");
    std::string key = line.substr(i, eq - i);
    std::string value;
    i = eq + 2;
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char c = line[++i];
        value += c == 'n' ? '\n' : c;  // \\ and \" stand for themselves
      } else {
        value += line[i];
      }
      ++i;
    }
    if (i >= line.size()) return Status::invalid_argument("unterminated label value");
    ++i;  // the closing quote
    out.emplace(std::move(key), std::move(value));
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return Status::invalid_argument("missing '}'");
  ++i;
  return Status::ok();
}

}  // namespace

Result<PromScrape> parse_prom_text(const std::string& text) {
  PromScrape scrape;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    PromSample s;
    size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) return Status::invalid_argument("line " + std::to_string(line_no) + ": no value");
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      if (Status st = parse_labels(line, i, s.labels); !st)
        return Status::invalid_argument("line " + std::to_string(line_no) + ": " + st.message());
    }
    while (i < line.size() && line[i] == ' ') ++i;
    size_t end = line.find(' ', i);  // an optional timestamp follows
    bool ok = false;
    s.value = parse_value(line.substr(i, end == std::string::npos ? std::string::npos : end - i), ok);
    if (!ok) return Status::invalid_argument("line " + std::to_string(line_no) + ": bad value");
    scrape.samples.push_back(std::move(s));
  }
  return scrape;
}

double PromScrape::get(const std::string& name, const std::string& label, const std::string& value,
                       double fallback) const {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    if (label.empty() ? s.labels.empty() : (s.labels.count(label) != 0 && s.labels.at(label) == value))
      return s.value;
  }
  return fallback;
}

std::vector<std::string> PromScrape::label_values(const std::string& name, const std::string& label) const {
  std::vector<std::string> out;
  for (const auto& s : samples) {
    auto it = s.labels.find(label);
    if (s.name == name && it != s.labels.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<std::pair<double, double>> PromScrape::buckets(const std::string& name, const std::string& label,
                                                           const std::string& value) const {
  std::vector<std::pair<double, double>> out;
  const std::string bucket = name + "_bucket";
  for (const auto& s : samples) {
    if (s.name != bucket) continue;
    auto l = s.labels.find(label), le = s.labels.find("le");
    if (l == s.labels.end() || l->second != value || le == s.labels.end()) continue;
    bool ok = false;
    double bound = parse_value(le->second, ok);
    if (ok) out.emplace_back(bound, s.value);
  }
  return out;
}

double histogram_quantile(double q, const std::vector<std::pair<double, double>>& cumulative) {
  if (cumulative.empty() || cumulative.back().second <= 0) return -1;
  double rank = q * cumulative.back().second;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : cumulative) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;
      if (count == prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

}  // namespace weft::cli
