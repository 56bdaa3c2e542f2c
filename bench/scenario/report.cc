#include "bench/scenario/report.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "bench/common/thread_cpu.h"
#include "bench/scenario/metrics.h"

namespace weft_bench {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

const RunResult* find_run(const std::vector<RunResult>& runs, const std::string& design, const std::string& store) {
  for (const auto& r : runs)
    if (r.design == design && r.store == store) return &r;
  return nullptr;
}

double mean(const std::vector<int64_t>& v) {
  double sum = 0;
  for (int64_t x : v) sum += static_cast<double>(x);
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

bool has_latencies(const RunResult& r) { return !r.op_ns.empty(); }
bool has_throughput(const RunResult& r) { return r.status == "ok"; }

std::string ratio(double num, double den) {
  if (!(num > 0) || !(den > 0)) return "–";
  double x = num / den;
  return fmt(x >= 100 ? "%.0f×" : x >= 10 ? "%.1f×" : "%.2f×", x);
}

// Process CPU (minus building the values) per obj_create written, in µs; 0 if none.
double cpu_per_object_us(const RunResult& r) {
  return r.objects > 0 ? r.cpu_s * 1e6 / static_cast<double>(r.objects) : 0;
}

// This run's CPU per object over pool-then-gated's on the same store (0 if either is missing).
double cpu_per_object_ratio(const std::vector<RunResult>& runs, const RunResult& r) {
  const RunResult* g = find_run(runs, "pool-then-gated", r.store);
  double mine = cpu_per_object_us(r), theirs = g ? cpu_per_object_us(*g) : 0;
  return mine > 0 && theirs > 0 ? mine / theirs : 0;
}

double context_switches_per_op(const RunResult& r) {
  return r.op_ns.empty() ? 0 : static_cast<double>(r.context_switches) / static_cast<double>(r.op_ns.size());
}

}  // namespace

void print_main_table(std::ostream& out, const std::vector<RunResult>& runs) {
  out << "| store | design | status | p50 ns | p99 ns | max ns | mean ns | p50: sync-walk ÷ this | median step ms | "
         "drain ms | CPU s | RSS peak MB (Δ) | objects/s | objects/s: this ÷ sync-walk |\n"
         "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& r : runs) {
    const RunResult* sync = find_run(runs, "pool-sync-walk", r.store);
    const bool lat = has_latencies(r);
    int64_t p50 = percentile(r.op_ns, 50);
    out << "| " << r.store << " | " << r.design << " | " << r.status;
    out << " | " << (lat ? with_commas(static_cast<uint64_t>(p50)) : "–")
        << " | " << (lat ? with_commas(static_cast<uint64_t>(percentile(r.op_ns, 99))) : "–")
        << " | " << (lat ? with_commas(static_cast<uint64_t>(r.op_ns.back())) : "–")
        << " | " << (lat ? with_commas(static_cast<uint64_t>(std::llround(mean(r.op_ns)))) : "–")
        << " | " << (sync && lat && has_latencies(*sync) ? ratio(static_cast<double>(percentile(sync->op_ns, 50)), static_cast<double>(p50)) : "–")
        << " | " << (r.step_ms.empty() ? "–" : fmt("%.2f", median(r.step_ms)))
        << " | " << (r.status == "ok" ? fmt("%.1f", r.drain_ms) : r.status)
        << " | " << fmt("%.2f", r.cpu_s)
        << " | " << fmt("%.0f", r.rss_peak_mb) << " (" << fmt("%+.0f", r.rss_peak_mb - r.rss_baseline_mb) << ")"
        << " | " << (has_throughput(r) ? with_commas(static_cast<uint64_t>(std::llround(r.objects_per_s))) : "–")
        << " | " << (sync && has_throughput(r) && has_throughput(*sync) ? ratio(r.objects_per_s, sync->objects_per_s) : "–")
        << " |\n";
  }
  bool any_notes = false;
  for (const auto& r : runs) {
    if (r.status == "ok" && r.detail.empty()) continue;
    if (!any_notes) out << "\n";
    any_notes = true;
    out << "- " << r.design << " (" << r.store << "): " << r.status;
    if (!r.detail.empty()) out << ": " << r.detail;
    out << "; ran " << r.steps_run << " steps";
    if (r.status != "ok") out << " (stopped feeding it once the deadlock was seen)";
    out << "\n";
  }
}

void print_cpu_table(std::ostream& out, const std::vector<RunResult>& runs) {
  out << "CPU per saved object (process CPU over the run, minus building the values, ÷ obj_create written), "
         "split per thread kind: app = the bench's main thread; scheduler = weft.sched (weft's workers), caf.multiplexer (CAF's) "
         "or pool.worker; dispatch = weft.dispatch; store = weft.store or pool.store; clock = caf.clock, "
         "weft.deadline; other = every other live thread; exited = getrusage minus the live threads.\n\n"
         "| store | design | status | objects | CPU µs/object | app | scheduler | dispatch | store | clock | other | "
         "exited | context switches/op | CPU/object ÷ pool-then-gated's |\n"
         "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& r : runs) {
    const double per = cpu_per_object_us(r);
    const double n = static_cast<double>(r.objects);
    auto us = [&](double s) { return per > 0 ? fmt("%.2f", s * 1e6 / n) : std::string("–"); };
    out << "| " << r.store << " | " << r.design << " | " << r.status << " | " << with_commas(r.objects) << " | "
        << (per > 0 ? fmt("%.2f", per) : "–");
    for (double k : r.kind_cpu_s) out << " | " << us(k);
    const double q = cpu_per_object_ratio(runs, r);
    out << " | " << us(r.exited_cpu_s) << " | " << (r.op_ns.empty() ? "–" : fmt("%.2f", context_switches_per_op(r)))
        << " | " << (q > 0 ? fmt("%.2f", q) : "–") << " |\n";
  }
}

void print_scenario_table(std::ostream& out, const std::vector<ScenarioResult>& scenarios, const Options& o) {
  const size_t k = std::max(o.scenario_ops, 2 * static_cast<size_t>(o.pool) + 8);
  out << "Paused-store scenario (weave PR 6740): store paused; " << k << " predict calls, then " << k
      << " score calls each taking an earlier prediction as input; resume; drain.\n\n"
         "| design | threads | status | app ms (store paused) | requests while paused | after resume ms | objects | call_end | detail |\n"
         "|---|--:|---|--:|--:|--:|--:|--:|---|\n";
  for (const auto& s : scenarios) {
    out << "| " << s.design << " | " << s.threads << (s.design.rfind("weft", 0) == 0 ? " scheduler" : " pool") << " | "
        << s.status << " | " << fmt("%.2f", s.app_ms) << " | " << s.written_while_paused << " | "
        << fmt("%.0f", s.after_resume_ms) << " | " << s.objects << " | " << s.call_ends << " | "
        << (s.detail.empty() ? "" : s.detail) << " |\n";
  }
}

std::string write_csv(const std::string& path, const std::vector<RunResult>& runs,
                      const std::vector<ScenarioResult>& scenarios) {
  std::ofstream f(path);
  if (!f) return "cannot write " + path;
  f << "kind,store,design,status,ops_timed,steps_run,p50_ns,p90_ns,p99_ns,max_ns,mean_ns,median_step_ms,drain_ms,"
       "end_to_end_s,cpu_s,value_build_cpu_s,rss_baseline_mb,rss_peak_mb,rss_reset_ok,objects,calls,requests,"
       "objects_per_s,blocking_waits,json_bytes_per_op,objects_per_op,p50_sync_walk_over_this,"
       "objects_per_s_this_over_sync_walk,app_ms,written_while_paused,after_resume_ms,detail,"
       "cpu_per_object_us,cpu_app_s,cpu_scheduler_s,cpu_dispatch_s,cpu_store_s,cpu_clock_s,cpu_other_s,"
       "cpu_exited_s,context_switches,voluntary_context_switches,context_switches_per_op,"
       "cpu_per_object_this_over_then_gated\n";
  auto q = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  for (const auto& r : runs) {
    const RunResult* sync = find_run(runs, "pool-sync-walk", r.store);
    double p50 = static_cast<double>(percentile(r.op_ns, 50));
    double lat_ratio = sync && p50 > 0 ? static_cast<double>(percentile(sync->op_ns, 50)) / p50 : 0;
    double tput_ratio = sync && sync->objects_per_s > 0 ? r.objects_per_s / sync->objects_per_s : 0;
    f << "main," << r.store << "," << r.design << "," << r.status << "," << r.op_ns.size() << ","
      << r.steps_run << "," << percentile(r.op_ns, 50) << "," << percentile(r.op_ns, 90) << ","
      << percentile(r.op_ns, 99) << "," << (r.op_ns.empty() ? 0 : r.op_ns.back()) << ","
      << fmt("%.1f", mean(r.op_ns)) << ","
      << fmt("%.3f", median(r.step_ms)) << "," << fmt("%.3f", r.drain_ms) << "," << fmt("%.4f", r.end_to_end_s)
      << "," << fmt("%.4f", r.cpu_s) << "," << fmt("%.4f", r.value_build_cpu_s) << ","
      << fmt("%.1f", r.rss_baseline_mb) << "," << fmt("%.1f", r.rss_peak_mb) << "," << (r.rss_reset_ok ? 1 : 0)
      << "," << r.objects << "," << r.calls << "," << r.requests << "," << fmt("%.1f", r.objects_per_s) << ","
      << r.blocking_waits << "," << r.json_bytes_per_op << "," << r.objects_per_op << ","
      << fmt("%.3f", lat_ratio) << "," << fmt("%.3f", tput_ratio) << ",,,," << q(r.detail) << ","
      << fmt("%.3f", cpu_per_object_us(r));
    for (double k : r.kind_cpu_s) f << "," << fmt("%.4f", k);
    f << "," << fmt("%.4f", r.exited_cpu_s) << "," << r.context_switches << "," << r.voluntary_context_switches
      << "," << fmt("%.3f", context_switches_per_op(r)) << "," << fmt("%.3f", cpu_per_object_ratio(runs, r)) << "\n";
  }
  for (const auto& s : scenarios) {
    f << "paused,null," << s.design << "," << s.status << ",,,,,,,,,,,,,,,," << s.objects << "," << s.call_ends
      << ",,,,,,,," << fmt("%.3f", s.app_ms) << "," << s.written_while_paused << ","
      << fmt("%.1f", s.after_resume_ms) << "," << q(s.detail) << ",,,,,,,,,,,,\n";
  }
  return f ? "" : "error writing " + path;
}

std::string draw_chart(const std::string& png_path, const std::vector<RunResult>& runs, const std::string& tmp_dir) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return "gnuplot is not installed: chart skipped";
  std::string dir_tmpl = tmp_dir + "/weft-bench-chart-XXXXXX";
  std::vector<char> buf(dir_tmpl.begin(), dir_tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "cannot create a directory for the chart data: chart skipped";
  const std::string dir = buf.data();

  // One file per run: (latency ns, fraction of ops at least that slow), dense in the tail.
  std::vector<std::string> stores;
  std::vector<std::pair<const RunResult*, std::string>> files;
  for (const auto& r : runs) {
    if (r.op_ns.empty()) continue;
    bool seen = false;
    for (const auto& s : stores) seen |= s == r.store;
    if (!seen) stores.push_back(r.store);
    std::string file = dir + "/" + r.store + "-" + r.design + ".dat";
    std::ofstream f(file);
    const size_t n = r.op_ns.size();
    size_t last = n;  // index written last, to skip repeats
    for (int j = 0; j <= 600; ++j) {
      // fraction slower: from 1 down to 1/n, log-spaced
      double frac = std::pow(10.0, -static_cast<double>(j) / 600.0 * std::log10(static_cast<double>(n)));
      size_t idx = std::min(n - 1, static_cast<size_t>(std::llround((1.0 - frac) * static_cast<double>(n))));
      if (idx == last) continue;
      last = idx;
      f << r.op_ns[idx] << " " << fmt("%.6g", static_cast<double>(n - idx) / static_cast<double>(n)) << "\n";
    }
    files.emplace_back(&r, file);
  }
  if (files.empty()) return "no latencies to chart";
  const std::string script = dir + "/chart.gp";
  {
    std::ofstream g(script);
    g << "set terminal pngcairo size 1200,520 font 'DejaVu Sans,10'\n"
      << "set output '" << png_path << "'\n"
      << "set multiplot layout 1," << stores.size() << " title 'Calling-thread time of start + finish per op "
      << "(fraction of ops at least that slow)'\n"
      << "set logscale xy\nset grid\nset xlabel 'ns per op (start + finish)'\n"
      << "set ylabel 'fraction of ops >= x'\nset format x '10^{%L}'\nset format y '10^{%L}'\n"
      << "set key top right\n";
    const char* colors[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a"};
    const char* names[] = {"weft", "pool-sync-walk", "pool-naive-defer", "pool-then-gated"};
    for (const auto& s : stores) {
      g << "set title '" << s << " store'\nplot ";
      bool first = true;
      for (const auto& [r, file] : files) {
        if (r->store != s) continue;
        const char* color = "#000000";
        for (int i = 0; i < 4; ++i)
          if (r->design == names[i]) color = colors[i];
        g << (first ? "" : ", ") << "'" << file << "' using 1:2 with lines lw 2 lc rgb '" << color << "' title '"
          << r->design << "'";
        first = false;
      }
      g << "\n";
    }
    g << "unset multiplot\n";
  }
  std::string cmd = "gnuplot '" + script + "' 2>'" + dir + "/gnuplot.err'";
  int rc = std::system(cmd.c_str());
  std::string note = rc == 0 ? "chart: " + png_path : "gnuplot failed (see " + dir + "/gnuplot.err): chart skipped";
  if (rc == 0) {
    for (const auto& [r, file] : files) unlink(file.c_str());
    unlink(script.c_str());
    unlink((dir + "/gnuplot.err").c_str());
    rmdir(dir.c_str());
  }
  return note;
}

std::string summary_line(const std::vector<RunResult>& runs, const std::vector<ScenarioResult>& scenarios) {
  // The null store isolates the API's own cost; SQLite only if that is all that ran.
  std::string store = find_run(runs, "weft", "null") || find_run(runs, "pool-sync-walk", "null") ? "null" : "sqlite";
  const RunResult* w = find_run(runs, "weft", store);
  const RunResult* s = find_run(runs, "pool-sync-walk", store);
  int64_t wp = w ? percentile(w->op_ns, 50) : 0, sp = s ? percentile(s->op_ns, 50) : 0;
  auto outcome = [&](const std::string& design, bool deadlock_word) {
    for (const auto& sc : scenarios) {
      if (sc.design != design) continue;
      if (deadlock_word) return std::string(sc.status == "DEADLOCK" ? "DEADLOCK" : "ok");
      return std::string(sc.status == "ok" ? "ok" : "DEADLOCK");
    }
    return std::string("n/a");
  };
  const double cpu_ratio = w ? cpu_per_object_ratio(runs, *w) : 0;
  return "summary: weft_p50_ns=" + std::to_string(wp) + " sync_walk_p50_ns=" + std::to_string(sp) +
         " ratio=" + fmt("%.1f", wp > 0 ? static_cast<double>(sp) / static_cast<double>(wp) : 0.0) +
         " naive_defer=" + outcome("pool-naive-defer", true) + " then_gated=" + outcome("pool-then-gated", false) +
         " cpu_per_object_ratio=" + (cpu_ratio > 0 ? fmt("%.2f", cpu_ratio) : std::string("n/a"));
}

}  // namespace weft_bench
