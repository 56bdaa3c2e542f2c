// weft-call-cpu-bench (issue 11, item 7): what one traced call costs in CPU, on the calling
// thread and on the runtime's own threads, and the rate the runtime sustains.
//
// Cases: `small` (inputs {"question": <string>}, output a string) and `nested` (the same
// inputs, output a ChatCompletion Object holding a Usage Object and a Choice Object with
// its Message Object: 4 Objects, the shape of bench/call_cost_bench.cc). Stores: the null
// store and SQLite (a fresh temporary file per round). Each round starts a fresh Runtime,
// warms it up (1,000 calls + flush), builds the N calls' values, then measures
//   [t0] N x (start_call + finish) on this thread [t1] rt.flush() returns complete [t2]
// and reports per call:
//   calling     this thread's CPU during the N calls (CLOCK_THREAD_CPUTIME_ID)
//   background  process CPU (getrusage) over t0..t2 minus this thread's CPU over t0..t2,
//               split per thread kind (bench/common/thread_cpu.h); `exited` is the part
//               no live thread accounts for
//   flush wait  this thread's CPU inside flush()
//   csw         context switches of the whole process (ru_nvcsw + ru_nivcsw) over t0..t2
//   burst       N / (t1 - t0): how fast this thread hands calls off
//   sustained   N / (t2 - t0): how fast the runtime takes them all the way to the store
// Rounds are interleaved (round 1 of every case and store, then round 2, ...); every
// figure is the median over the rounds. Then the idle runtime: start, 1,000 calls, flush,
// and the process's CPU over --idle-seconds of nothing.
//
// Public API only (<weft/weft.h>).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <weft/weft.h>

#include "bench/common/thread_cpu.h"

namespace {

using weft::Value;
namespace tc = weft_bench_common;
using Clock = std::chrono::steady_clock;

struct Options {
  size_t calls = 200'000;    // --calls: small calls per round
  size_t nested_calls = 0;   // --nested-calls: nested calls per round (0: calls / 4)
  int rounds = 5;            // --rounds
  unsigned scheduler_threads = 2;  // --scheduler-threads (weft::Config::scheduler_threads)
  std::vector<std::string> stores{"null", "sqlite"};  // --store null|sqlite|both
  std::vector<std::string> cases{"small", "nested"};  // --cases small,nested
  double idle_seconds = 2;   // --idle-seconds (0: skip the idle measurement)
  std::string tmp_dir = "/tmp";  // --tmp-dir
};

const char* kUsage = R"(usage: weft-call-cpu-bench [flags]

CPU per traced call on the calling thread and on the runtime's threads (per thread kind),
context switches per call, and the sustained calls/s (N calls / time until flush()
returns complete), for a small call and a call with 4 nested Objects, on the null and
the SQLite store; then the idle runtime's CPU per second.

  --calls N              small calls per round (default 200000)
  --nested-calls N       nested calls per round (default: --calls / 4)
  --rounds N             interleaved rounds, median reported (default 5)
  --scheduler-threads N  weft::Config::scheduler_threads (default 2)
  --store S              null, sqlite or both (default both)
  --cases LIST           small,nested (default both)
  --idle-seconds S       length of the idle measurement (default 2; 0 skips it)
  --tmp-dir DIR          where the SQLite files go (default /tmp)
  --help                 this text

Lines starting with "result:" and "idle:" carry every figure, one case and store a line.
)";

bool parse(int argc, char** argv, Options& o, std::string& err) {
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--help" || f == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      err = "flag " + f + " needs a value (or is unknown; try --help)";
      return false;
    }
    std::string v = argv[++i];
    char* end = nullptr;
    auto num = [&](double lo) {
      double x = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || x < lo) {
        err = "bad value '" + v + "' for " + f;
        return -1.0;
      }
      return x;
    };
    if (f == "--calls" || f == "--nested-calls" || f == "--rounds" || f == "--scheduler-threads") {
      double x = num(f == "--nested-calls" ? 0 : 1);
      if (x < 0) return false;
      if (f == "--calls") o.calls = static_cast<size_t>(x);
      else if (f == "--nested-calls") o.nested_calls = static_cast<size_t>(x);
      else if (f == "--rounds") o.rounds = static_cast<int>(x);
      else o.scheduler_threads = static_cast<unsigned>(x);
    } else if (f == "--idle-seconds") {
      double x = num(0);
      if (x < 0) return false;
      o.idle_seconds = x;
    } else if (f == "--store") {
      if (v == "both") o.stores = {"null", "sqlite"};
      else if (v == "null" || v == "sqlite") o.stores = {v};
      else {
        err = "bad value '" + v + "' for --store: null, sqlite or both";
        return false;
      }
    } else if (f == "--cases") {
      o.cases.clear();
      std::stringstream ss(v);
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (c != "small" && c != "nested") {
          err = "bad case '" + c + "': small, nested";
          return false;
        }
        if (std::find(o.cases.begin(), o.cases.end(), c) == o.cases.end()) o.cases.push_back(c);
      }
      if (o.cases.empty()) {
        err = "--cases needs small and/or nested";
        return false;
      }
    } else if (f == "--tmp-dir") {
      o.tmp_dir = v;
    } else {
      err = "unknown flag '" + f + "' (try --help)";
      return false;
    }
  }
  if (o.nested_calls == 0) o.nested_calls = std::max<size_t>(1, o.calls / 4);
  return true;
}

// bench/call_cost_bench.cc's output: 4 Objects.
Value response(size_t i) {
  const auto n = static_cast<int64_t>(i);
  Value usage = weft::make_object("Usage", {{"prompt_tokens", Value::integer(40 + n % 7)},
                                            {"completion_tokens", Value::integer(n)},
                                            {"total_tokens", Value::integer(40 + n % 7 + n)}});
  Value message = weft::make_object("Message", {{"role", Value::string("assistant")},
                                                {"content", Value::string("answer " + std::to_string(i))}});
  Value choice = weft::make_object("Choice", {{"index", Value::integer(0)}, {"message", message}});
  return weft::make_object("ChatCompletion", {{"model", Value::string("gpt-4o-mini")},
                                              {"usage", usage},
                                              {"choices", Value::list({choice})}});
}

Value inputs_of(size_t i) { return Value::dict({{"question", Value::string("question " + std::to_string(i))}}); }
Value output_of(const std::string& kind, size_t i) {
  return kind == "small" ? Value::string("answer " + std::to_string(i)) : response(i);
}

// A store and, for SQLite, its temporary file (removed with it).
struct StoreHandle {
  std::shared_ptr<weft::Store> store;
  std::string path;
  ~StoreHandle() {
    store.reset();
    if (!path.empty())
      for (const char* s : {"", "-wal", "-shm", "-journal"}) unlink((path + s).c_str());
  }
};

std::unique_ptr<StoreHandle> open_store(const std::string& kind, const std::string& tmp_dir) {
  auto h = std::make_unique<StoreHandle>();
  if (kind == "null") {
    h->store = weft::make_null_store();
    return h;
  }
  std::string tmpl = tmp_dir + "/weft-call-cpu-XXXXXX.db";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = mkstemps(buf.data(), 3);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + tmp_dir);
  close(fd);
  h->path = buf.data();
  auto s = weft::open_sqlite_store(h->path);
  if (!s) throw std::runtime_error("cannot open SQLite store " + h->path + ": " + s.error());
  h->store = std::shared_ptr<weft::Store>(std::move(s.value()));
  return h;
}

std::unique_ptr<weft::Runtime> start_runtime(const Options& o, std::shared_ptr<weft::Store> store,
                                             std::shared_ptr<uint64_t> errors) {
  weft::Config c;
  c.project = "bench/call-cpu";
  c.store = std::move(store);
  c.scheduler_threads = o.scheduler_threads;
  c.destructor_flush_timeout = std::chrono::milliseconds(60'000);
  // N calls are handed off in one burst before the flush; at 3 KiB charged per event
  // (runtime/core's kEventOverheadBytes) 200,000 small calls would pass the default 1 GiB
  // byte cap and be refused in part. The cap is not what is measured here: 8 GiB.
  c.max_memory_bytes = uint64_t{8} << 30;
  c.on_error = [errors](const std::string&) { ++*errors; };  // counted, reported below
  return std::make_unique<weft::Runtime>(c);
}

void run_calls(weft::Runtime& rt, const Value& op, std::vector<Value>& in, std::vector<Value>& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    weft::Call c = rt.start_call(op, std::move(in[i]));
    (void)c.finish(std::move(out[i]));
  }
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// One round's figures, per call (ns) unless named otherwise.
struct Sample {
  double calling_ns = 0, background_ns = 0, flush_wait_ns = 0, process_ns = 0;
  std::array<double, tc::kKinds> kind_ns{};  // kApp: unused (the calling thread is app)
  double exited_ns = 0, csw = 0, vcsw = 0;
  double burst_cps = 0, sustained_cps = 0, wall_s = 0;
};

Sample one_round(const Options& o, const std::string& kind, const std::string& store_kind, const Value& op,
                 std::string& problem) {
  const size_t n = kind == "small" ? o.calls : o.nested_calls;
  auto store = open_store(store_kind, o.tmp_dir);
  auto errors = std::make_shared<uint64_t>(0);
  auto rt = start_runtime(o, store->store, errors);
  {
    std::vector<Value> in, out;
    for (size_t i = 0; i < 1000; ++i) {
      in.push_back(inputs_of(i));
      out.push_back(output_of(kind, i));
    }
    run_calls(*rt, op, in, out);
    if (!rt->flush(std::chrono::seconds(120))) problem = "warm-up flush did not complete";
  }
  std::vector<Value> in, out;
  in.reserve(n);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    in.push_back(inputs_of(1000 + i));
    out.push_back(output_of(kind, 1000 + i));
  }
  const uint64_t ends0 = rt->stats().call_end;

  const tc::CpuSnapshot s0 = tc::take_cpu_snapshot();
  const int64_t c0 = tc::this_thread_cpu_ns();
  const auto t0 = Clock::now();
  run_calls(*rt, op, in, out);
  const auto t1 = Clock::now();
  const int64_t c1 = tc::this_thread_cpu_ns();
  weft::FlushResult fr = rt->flush(std::chrono::seconds(600));
  const auto t2 = Clock::now();
  const int64_t c2 = tc::this_thread_cpu_ns();
  const tc::CpuSnapshot s1 = tc::take_cpu_snapshot();

  const uint64_t ends = rt->stats().call_end - ends0;
  if (!fr.complete) problem = "flush did not complete (" + std::to_string(fr.pending) + " pending)";
  else if (ends != n) problem = std::to_string(ends) + " call_end written, expected " + std::to_string(n);
  if (uint64_t refused = rt->stats().events_refused; refused != 0)
    problem += (problem.empty() ? "" : "; ") + std::to_string(refused) + " events refused";
  if (*errors != 0) problem += (problem.empty() ? "" : "; ") + std::to_string(*errors) + " runtime errors";

  const tc::CpuDelta d = tc::cpu_delta(s0, s1);
  const double N = static_cast<double>(n);
  Sample s;
  s.calling_ns = static_cast<double>(c1 - c0) / N;
  s.flush_wait_ns = static_cast<double>(c2 - c1) / N;
  s.process_ns = static_cast<double>(d.process_ns) / N;
  s.background_ns = static_cast<double>(d.process_ns - (c2 - c0)) / N;
  for (int k = 0; k < tc::kKinds; ++k) s.kind_ns[static_cast<size_t>(k)] = static_cast<double>(d.kind_ns[static_cast<size_t>(k)]) / N;
  s.exited_ns = static_cast<double>(d.exited_ns) / N;
  s.csw = static_cast<double>(d.csw) / N;
  s.vcsw = static_cast<double>(d.vcsw) / N;
  s.burst_cps = N / seconds(t0, t1);
  s.sustained_cps = N / seconds(t0, t2);
  s.wall_s = seconds(t0, t2);
  rt.reset();  // outside the measured window
  return s;
}

double med(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string f0(double x) {
  if (x > -0.5 && x < 0.5) x = 0;  // no "-0"
  char b[64];
  std::snprintf(b, sizeof b, "%.0f", x);
  std::string s = b, out;
  size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}
std::string f2(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f", x);
  return b;
}

std::string load_average() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  char a[64] = {0};
  if (f) {
    if (!std::fgets(a, sizeof a, f)) a[0] = 0;
    std::fclose(f);
  }
  std::string s = a;
  auto sp = s.find(' ');
  sp = sp == std::string::npos ? sp : s.find(' ', sp + 1);
  sp = sp == std::string::npos ? sp : s.find(' ', sp + 1);
  return s.substr(0, sp);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string err;
  if (!parse(argc, argv, o, err)) {
    std::fprintf(stderr, "weft-call-cpu-bench: %s\n", err.c_str());
    return 2;
  }
  const Value op = weft::make_op("predict", "def predict(question): ...\n");
  std::printf("# weft-call-cpu-bench\n\nweft %s; %u scheduler threads; %zu small / %zu nested calls per round; "
              "%d interleaved rounds, medians; load average at start %s\n\n",
              std::string(weft::version()).c_str(), o.scheduler_threads, o.calls, o.nested_calls, o.rounds,
              load_average().c_str());

  std::map<std::string, std::vector<Sample>> samples;  // "case/store"
  std::map<std::string, std::string> problems;
  for (int r = 0; r < o.rounds; ++r) {
    for (const auto& c : o.cases) {
      for (const auto& s : o.stores) {
        std::fprintf(stderr, "round %d/%d: %s call, %s store ...", r + 1, o.rounds, c.c_str(), s.c_str());
        std::string problem;
        Sample x;
        try {
          x = one_round(o, c, s, op, problem);
        } catch (const std::exception& e) {
          problem = e.what();
        }
        std::fprintf(stderr, " %.2f s%s%s\n", x.wall_s, problem.empty() ? "" : ": ", problem.c_str());
        if (!problem.empty()) problems[c + "/" + s] = problem;
        else samples[c + "/" + s].push_back(x);
      }
    }
  }

  std::printf("Per call, ns of CPU (medians over the rounds). calling = the calling thread during the calls; "
              "background = process CPU until flush() returned, minus the calling thread; its split per thread kind "
              "(scheduler = weft.sched or caf.multiplexer, dispatch = weft.dispatch, store = weft.store, clock = caf.clock + "
              "weft.deadline, other = the rest alive, exited = threads gone by the end); flush wait = the calling "
              "thread inside flush(). Each column is its own median, so the split need not add up exactly.\n\n");
  std::printf("| call | store | N | calling ns | background ns | scheduler | dispatch | store | clock | other | exited | "
              "flush wait ns | context switches/call (voluntary) | burst calls/s | sustained calls/s |\n"
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  std::vector<std::string> lines;
  for (const auto& c : o.cases) {
    for (const auto& s : o.stores) {
      const std::string key = c + "/" + s;
      const auto& v = samples[key];
      const size_t n = c == "small" ? o.calls : o.nested_calls;
      if (v.empty()) {
        std::printf("| %s | %s | %zu | FAILED: %s |\n", c.c_str(), s.c_str(), n, problems[key].c_str());
        lines.push_back("result: case=" + c + " store=" + s + " status=FAILED");
        continue;
      }
      auto m = [&](auto get) {
        std::vector<double> xs;
        for (const auto& x : v) xs.push_back(get(x));
        return med(xs);
      };
      const double calling = m([](const Sample& x) { return x.calling_ns; });
      const double bg = m([](const Sample& x) { return x.background_ns; });
      std::array<double, tc::kKinds> kinds{};
      for (int k = 0; k < tc::kKinds; ++k)
        kinds[static_cast<size_t>(k)] = m([k](const Sample& x) { return x.kind_ns[static_cast<size_t>(k)]; });
      const double exited = m([](const Sample& x) { return x.exited_ns; });
      const double fw = m([](const Sample& x) { return x.flush_wait_ns; });
      const double csw = m([](const Sample& x) { return x.csw; });
      const double vcsw = m([](const Sample& x) { return x.vcsw; });
      const double burst = m([](const Sample& x) { return x.burst_cps; });
      const double sus = m([](const Sample& x) { return x.sustained_cps; });
      std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s |\n", c.c_str(),
                  s.c_str(), f0(static_cast<double>(n)).c_str(), f0(calling).c_str(), f0(bg).c_str(),
                  f0(kinds[tc::kScheduler]).c_str(), f0(kinds[tc::kDispatch]).c_str(), f0(kinds[tc::kStore]).c_str(),
                  f0(kinds[tc::kClock]).c_str(), f0(kinds[tc::kOther]).c_str(), f0(exited).c_str(), f0(fw).c_str(),
                  f2(csw).c_str(), f2(vcsw).c_str(), f0(burst).c_str(), f0(sus).c_str());
      char line[768];
      std::snprintf(line, sizeof line,
                    "result: case=%s store=%s calls=%zu rounds=%zu scheduler_threads=%u calling_ns=%.0f "
                    "background_ns=%.0f scheduler_ns=%.0f dispatch_ns=%.0f store_ns=%.0f clock_ns=%.0f other_ns=%.0f "
                    "exited_ns=%.0f flush_wait_ns=%.0f csw_per_call=%.3f vcsw_per_call=%.3f burst_calls_per_s=%.0f "
                    "sustained_calls_per_s=%.0f",
                    c.c_str(), s.c_str(), n, v.size(), o.scheduler_threads, calling, bg, kinds[tc::kScheduler],
                    kinds[tc::kDispatch], kinds[tc::kStore], kinds[tc::kClock], kinds[tc::kOther], exited, fw, csw,
                    vcsw, burst, sus);
      lines.push_back(line);
    }
  }
  for (const auto& [key, p] : problems)
    if (!samples[key].empty()) std::printf("\nnote: %s: a round failed (%s) and was left out\n", key.c_str(), p.c_str());

  if (o.idle_seconds > 0) {
    std::printf("\nIdle runtime: started, 1,000 small calls, flush(), then %.1f s of nothing. CPU ms per second of "
                "idleness, per thread kind, and context switches per second.\n\n"
                "| store | CPU ms/s | app | scheduler | dispatch | store | clock | other | exited | context switches/s |\n"
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
                o.idle_seconds);
    for (const auto& s : o.stores) {
      auto store = open_store(s, o.tmp_dir);
      auto errors = std::make_shared<uint64_t>(0);
      auto rt = start_runtime(o, store->store, errors);
      std::vector<Value> in, out;
      for (size_t i = 0; i < 1000; ++i) {
        in.push_back(inputs_of(i));
        out.push_back(output_of("small", i));
      }
      run_calls(*rt, op, in, out);
      (void)rt->flush(std::chrono::seconds(60));
      const tc::CpuSnapshot s0 = tc::take_cpu_snapshot();
      const auto t0 = Clock::now();
      std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
      const tc::CpuSnapshot s1 = tc::take_cpu_snapshot();
      const double secs = seconds(t0, Clock::now());
      const tc::CpuDelta d = tc::cpu_delta(s0, s1);
      auto ms = [&](int64_t ns) { return static_cast<double>(ns) / 1e6 / secs; };
      std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.c_str(), f2(ms(d.process_ns)).c_str(),
                  f2(ms(d.kind_ns[tc::kApp])).c_str(), f2(ms(d.kind_ns[tc::kScheduler])).c_str(),
                  f2(ms(d.kind_ns[tc::kDispatch])).c_str(), f2(ms(d.kind_ns[tc::kStore])).c_str(),
                  f2(ms(d.kind_ns[tc::kClock])).c_str(), f2(ms(d.kind_ns[tc::kOther])).c_str(),
                  f2(ms(d.exited_ns)).c_str(), f0(static_cast<double>(d.csw) / secs).c_str());
      char line[512];
      std::snprintf(line, sizeof line,
                    "idle: store=%s scheduler_threads=%u seconds=%.2f cpu_ms_per_s=%.3f scheduler_ms_per_s=%.3f "
                    "dispatch_ms_per_s=%.3f store_ms_per_s=%.3f clock_ms_per_s=%.3f other_ms_per_s=%.3f csw_per_s=%.0f",
                    s.c_str(), o.scheduler_threads, secs, ms(d.process_ns), ms(d.kind_ns[tc::kScheduler]),
                    ms(d.kind_ns[tc::kDispatch]), ms(d.kind_ns[tc::kStore]), ms(d.kind_ns[tc::kClock]),
                    ms(d.kind_ns[tc::kOther]), static_cast<double>(d.csw) / secs);
      lines.push_back(line);
    }
  }
  std::printf("\nload average at the end: %s\n\n", load_average().c_str());
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  return problems.empty() ? 0 : 1;
}
