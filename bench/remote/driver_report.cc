#include "bench/remote/driver_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

namespace weft_remote_bench {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, x);
  return buf;
}

// Thousands separators: 12,345.
std::string count(uint64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

const CaseResult* find(const std::vector<CaseResult>& cases, const std::string& name) {
  for (const auto& c : cases)
    if (c.name == name && c.ok) return &c;
  return nullptr;
}

bool is_remote(const CaseResult& c) { return c.name != "weft sqlite"; }

// The ratios the issue sets goals for; 0 when a side is missing.
struct Ratios {
  double remote_over_sqlite_app = 0;  // calling-thread cost, goal <= 1.10
  double remote_over_sqlite_p50 = 0;  // the same on the median pair (no preemption in it)
  double weft_over_ts_calls = 0;      // calls/s against TS awaiting each call, goal >= 10
  double weft_over_ts_best_calls = 0; // against the fastest TS run
};

Ratios ratios(const std::vector<CaseResult>& cases) {
  Ratios r;
  const CaseResult* remote = find(cases, "weft remote");
  const CaseResult* sqlite = find(cases, "weft sqlite");
  const CaseResult* ts = find(cases, "ts await");
  if (remote && sqlite && sqlite->app_ns_per_call > 0) r.remote_over_sqlite_app = remote->app_ns_per_call / sqlite->app_ns_per_call;
  if (remote && sqlite && sqlite->app_p50_ns > 0) r.remote_over_sqlite_p50 = remote->app_p50_ns / sqlite->app_p50_ns;
  if (remote && ts && ts->calls_per_s() > 0) r.weft_over_ts_calls = remote->calls_per_s() / ts->calls_per_s();
  double best = 0;
  for (const auto& c : cases)
    if (c.ok && c.name.rfind("ts ", 0) == 0) best = std::max(best, c.calls_per_s());
  if (remote && best > 0) r.weft_over_ts_best_calls = remote->calls_per_s() / best;
  return r;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';  // control characters (an error's newlines) as spaces: the line stays one line
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

CaseResult median_of(const std::vector<CaseResult>& runs) {
  if (runs.size() == 1) return runs[0];
  auto med = [&](double CaseResult::*field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*field);
    return median(v);
  };
  std::vector<const CaseResult*> by_wall;
  for (const auto& r : runs) by_wall.push_back(&r);
  std::sort(by_wall.begin(), by_wall.end(), [](auto* a, auto* b) { return a->wall_s < b->wall_s; });
  CaseResult m = *by_wall[by_wall.size() / 2];  // its counts and notes
  for (double CaseResult::*f : {&CaseResult::wall_s, &CaseResult::calls_s, &CaseResult::drain_s, &CaseResult::cpu_s,
                                &CaseResult::app_ns_per_call, &CaseResult::app_p50_ns, &CaseResult::app_p99_ns})
    m.*f = med(f);
  m.ok = std::all_of(runs.begin(), runs.end(), [](const CaseResult& r) { return r.ok; });
  for (const auto& r : runs)
    if (!r.ok && m.error.empty()) m.error = r.error;
  return m;
}

void print_report(const std::vector<CaseResult>& cases, const Workload& w, const Options& o) {
  const size_t expected_calls = w.calls, expected_objects = expected_objects_of(w);
  std::vector<std::pair<std::string, std::function<std::string(const CaseResult&)>>> rows = {
      {"status", [](const CaseResult& c) { return std::string(c.ok ? "ok" : "FAILED"); }},
      {"wall s (until all acknowledged)", [](const CaseResult& c) { return fmt("%.3f", c.wall_s); }},
      {"  of it: dataset + calls loop s", [](const CaseResult& c) { return fmt("%.3f", c.calls_s); }},
      {"  of it: drain (flush) s", [](const CaseResult& c) { return fmt("%.3f", c.drain_s); }},
      {"calls delivered", [&](const CaseResult& c) { return count(c.calls) + (c.calls == expected_calls ? "" : " (!)"); }},
      {"objects delivered", [&](const CaseResult& c) { return count(c.objects) + (c.objects == expected_objects ? "" : " (!)"); }},
      {"calls/s", [](const CaseResult& c) { return count(static_cast<uint64_t>(c.calls_per_s() + 0.5)); }},
      {"objects/s", [](const CaseResult& c) { return count(static_cast<uint64_t>(c.objects_per_s() + 0.5)); }},
      {"client CPU s", [](const CaseResult& c) { return fmt("%.3f", c.cpu_s); }},
      {"client CPU per call us", [&](const CaseResult& c) { return fmt("%.1f", c.cpu_s * 1e6 / static_cast<double>(w.calls)); }},
      {"calling thread per call ns (mean)", [](const CaseResult& c) { return fmt("%.0f", c.app_ns_per_call); }},
      {"calling thread p50 / p99 ns",
       [](const CaseResult& c) {
         return c.app_p50_ns > 0 ? fmt("%.0f", c.app_p50_ns) + " / " + fmt("%.0f", c.app_p99_ns) : std::string("-");
       }},
      {"calling thread: preempted / page faults",
       [](const CaseResult& c) {
         return c.app_p50_ns > 0 ? count(c.app_involuntary_switches) + " / " + count(c.app_minor_faults) : std::string("-");
       }},
      {"sink CPU s", [](const CaseResult& c) { return is_remote(c) ? fmt("%.3f", c.server.cpu_s) : std::string("-"); }},
      {"requests (sink's count)", [](const CaseResult& c) { return is_remote(c) ? count(c.server.requests) : std::string("-"); }},
      {"bytes received (sink)", [](const CaseResult& c) { return is_remote(c) ? count(c.server.bytes) : std::string("-"); }},
      {"requests not 2xx", [](const CaseResult& c) { return is_remote(c) ? count(c.server.not_ok) : std::string("-"); }},
  };
  std::set<std::string> routes;
  for (const auto& c : cases)
    for (const auto& r : c.server.routes) routes.insert(r.route);
  for (const auto& route : routes)
    rows.push_back({"  " + route, [route](const CaseResult& c) {
                      for (const auto& r : c.server.routes)
                        if (r.route == route) return count(r.requests);
                      return std::string(is_remote(c) ? "0" : "-");
                    }});
  rows.push_back({"note", [](const CaseResult& c) { return c.note; }});

  std::printf("\nweft-remote-bench: %zu calls x %zu objects + a %zu-row dataset; nproc %u; repeat %zu (medians)\n\n",
              w.calls, w.objects_per_call, w.rows, std::thread::hardware_concurrency(), o.repeat);
  size_t label_w = 0;
  for (const auto& r : rows) label_w = std::max(label_w, r.first.size());
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> col_w;
  for (const auto& c : cases) {
    std::vector<std::string> col;
    size_t width = c.name.size();
    for (const auto& r : rows) {
      col.push_back(r.second(c));
      width = std::max(width, col.back().size());
    }
    cells.push_back(std::move(col));
    col_w.push_back(width);
  }
  std::printf("%-*s", static_cast<int>(label_w), "");
  for (size_t j = 0; j < cases.size(); ++j) std::printf("  %*s", static_cast<int>(col_w[j]), cases[j].name.c_str());
  std::printf("\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    std::printf("%-*s", static_cast<int>(label_w), rows[i].first.c_str());
    for (size_t j = 0; j < cases.size(); ++j) std::printf("  %*s", static_cast<int>(col_w[j]), cells[j][i].c_str());
    std::printf("\n");
  }
  std::printf("\nexpected: %s calls, %s objects (parts + model + dataset + op) in every column\n",
              count(expected_calls).c_str(), count(expected_objects).c_str());
  for (const auto& c : cases)
    if (!c.ok) std::printf("%s FAILED: %s\n", c.name.c_str(), c.error.c_str());

  const Ratios r = ratios(cases);
  std::printf("\ngoals (reported, not asserted):\n");
  if (r.remote_over_sqlite_app > 0)
    std::printf("  calling thread per call, weft remote / weft sqlite: %.2fx (goal <= 1.10: %s)\n",
                r.remote_over_sqlite_app, r.remote_over_sqlite_app <= 1.10 ? "met" : "missed");
  if (r.remote_over_sqlite_p50 > 0)
    std::printf("    (p50 of the pair: %.2fx; the mean also carries the pairs in which the thread was preempted)\n",
                r.remote_over_sqlite_p50);
  if (r.weft_over_ts_calls > 0)
    std::printf("  calls/s, weft remote / ts await: %.1fx (goal >= 10: %s)\n", r.weft_over_ts_calls,
                r.weft_over_ts_calls >= 10 ? "met" : "missed");
  if (r.weft_over_ts_best_calls > 0)
    std::printf("  calls/s, weft remote / fastest ts run: %.1fx\n", r.weft_over_ts_best_calls);
  std::fflush(stdout);
}

std::string report_json(const std::vector<CaseResult>& cases, const Workload& w, const Options& o) {
  auto num = [](double x) { return fmt("%.6g", x); };
  std::string out = "{\"bench\": \"weft-remote-bench\", \"workload\": {\"calls\": " + std::to_string(w.calls) +
                    ", \"objects_per_call\": " + std::to_string(w.objects_per_call) + ", \"rows\": " +
                    std::to_string(w.rows) + "}, \"repeat\": " + std::to_string(o.repeat) + ", \"nproc\": " +
                    std::to_string(std::thread::hardware_concurrency()) + ", \"cases\": [";
  for (size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    if (i) out += ", ";
    out += "{\"name\": " + json_string(c.name) + ", \"ok\": " + (c.ok ? "true" : "false") +
           ", \"note\": " + json_string(c.note) + ", \"wall_s\": " + num(c.wall_s) + ", \"calls_loop_s\": " +
           num(c.calls_s) + ", \"drain_s\": " + num(c.drain_s) + ", \"calls\": " + std::to_string(c.calls) +
           ", \"objects\": " + std::to_string(c.objects) + ", \"calls_per_s\": " + num(c.calls_per_s()) +
           ", \"objects_per_s\": " + num(c.objects_per_s()) + ", \"client_cpu_s\": " + num(c.cpu_s) +
           ", \"app_ns_per_call\": " + num(c.app_ns_per_call) + ", \"app_p50_ns\": " + num(c.app_p50_ns) +
           ", \"app_p99_ns\": " + num(c.app_p99_ns) + ", \"app_preempted\": " +
           std::to_string(c.app_involuntary_switches) + ", \"app_minor_faults\": " + std::to_string(c.app_minor_faults);
    if (is_remote(c)) {
      out += ", \"sink_cpu_s\": " + num(c.server.cpu_s) + ", \"requests\": " + std::to_string(c.server.requests) +
             ", \"bytes\": " + std::to_string(c.server.bytes) + ", \"by_route\": {";
      for (size_t k = 0; k < c.server.routes.size(); ++k)
        out += (k ? ", " : "") + json_string(c.server.routes[k].route) + ": " + std::to_string(c.server.routes[k].requests);
      out += "}";
    }
    if (!c.ok) out += ", \"error\": " + json_string(c.error);
    out += "}";
  }
  const Ratios r = ratios(cases);
  out += "], \"ratios\": {\"remote_over_sqlite_app_ns\": " + num(r.remote_over_sqlite_app) +
         ", \"remote_over_sqlite_app_p50\": " + num(r.remote_over_sqlite_p50) +
         ", \"weft_over_ts_await_calls_per_s\": " + num(r.weft_over_ts_calls) +
         ", \"weft_over_fastest_ts_calls_per_s\": " + num(r.weft_over_ts_best_calls) + "}}";
  return out;
}

}  // namespace weft_remote_bench
