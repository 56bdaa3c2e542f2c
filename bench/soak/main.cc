// weft-soak: a soak benchmark (issue 9, item 8). Not a timing test, and not run by CI.
//
// Soak mode (default): T application threads trace a mixed workload into a SQLite store
// for M minutes: nested calls (a step with 1-3 children, some with a grandchild, some of
// them failing), fresh Objects with nested Objects, a few shared Object instances used by
// every thread, a Table now and then, explicit saves. Faults while it runs: the store is
// paused for 5 s every 20 s (Runtime::pause_store), and the Store is wrapped in one that
// fails ~2 % of batches as unavailable (transient: retried) and refuses a tiny fraction of
// single call_end requests as invalid_argument (permanent: dead-lettered). RSS is sampled
// every second, and a progress line printed every 10 s.
//
// Paused mode (--calls N --paused): N calls with the store paused the whole time, then
// resume + flush: RSS before, at its peak, after the flush, and the refusals (issue 9's
// memory scenario: 1,000,000 calls under a 256 MiB cap).
//
// Both modes end the same way: flush, shutdown, destroy the runtime, then account for
// every request the runtime accepted: it is either a row in the store (counted with
// sqlite3) or a line in the dead-letter file (counted by kind). "unaccounted: N" must be
// 0; the exit status is 1 otherwise (and, in paused mode, if an RSS bound is broken).
#include <malloc.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <weft/runtime.h>
#include <weft/store.h>
#include <weft/version.h>

#include "runtime/core/dead_letter.h"

namespace weft_soak {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using weft::Value;

constexpr double kMiB = 1024.0 * 1024.0;
// The fixed overhead allowed on top of the byte cap (the same figure as
// tests/integration/memory_cap_test.cc): actor system, queues' blocks, SQLite's cache,
// allocator slack.
constexpr uint64_t kFixedOverheadMiB = 96;
// After resume + flush, RSS must be back within this much of the pre-workload RSS.
constexpr uint64_t kReturnSlackMiB = 64;

// ------------------------------------------------------------------------- options

struct Options {
  double minutes = 10;            // --minutes
  uint64_t cap_mib = 256;         // --cap-mib: Config::max_memory_bytes
  std::string store = "/tmp/weft-soak.db";  // --store
  unsigned threads = 4;           // --threads: application (tracing) threads
  unsigned scheduler_threads = 0; // --scheduler-threads: Config::scheduler_threads (0: default)
  uint64_t calls = 0;             // --calls N (with --paused)
  bool paused = false;            // --paused
  double rate = 2000;             // --rate: calls per second over all threads (0: flat out)
  int faults = -1;                // --faults on|off (default: on in soak mode, off when paused)
  double pause_every_s = 20;      // --pause-every
  double pause_for_s = 5;         // --pause-for
  double transient_p = 0.02;      // --transient: share of batch attempts failed as unavailable
  uint64_t invalid_every = 50'000;  // --invalid-every: 1 in N call_end refused (0: never)
  bool keep = false;              // --keep: leave the store and dead-letter files
  bool verbose = false;           // --verbose: stream the runtime's error reports
};

const char* kUsage =
    "usage: weft-soak [--minutes M] [--cap-mib C] [--store PATH] [--threads T]\n"
    "                 [--rate CALLS_PER_S] [--faults on|off] [--scheduler-threads N]\n"
    "                 [--pause-every S] [--pause-for S] [--transient P] [--invalid-every N]\n"
    "                 [--keep] [--verbose]\n"
    "       weft-soak --calls N --paused [--cap-mib C] [--threads T] [--store PATH] ...\n"
    "\n"
    "Soak mode (default): T threads trace a mixed workload for M minutes (default 10) under a\n"
    "C MiB cap (default 256), --rate calls/s in all (default 2000; 0 = as fast as possible),\n"
    "with the store paused --pause-for s (5) every --pause-every s (20) and a fault-injecting\n"
    "store (a share --transient (0.02) of batches fail as unavailable; 1 call_end in\n"
    "--invalid-every (50000) is refused as invalid_argument). Progress every 10 s.\n"
    "Paused mode: N calls (start_call attempts) with the store paused throughout, then resume\n"
    "and flush; RSS before / peak / after flush and the refusals. Faults off unless --faults on.\n"
    "Both end with flush, shutdown, destroy, and an account of every accepted request: in the\n"
    "store or in the dead-letter file. Exit 1 if any is unaccounted (or a paused-mode RSS bound\n"
    "is broken), 2 on bad usage.\n";

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> const char* {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "weft-soak: %s needs a value\n", argv[i]);
      return nullptr;
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = nullptr;
    auto num = [&](double& out) {
      if ((v = need(i)) == nullptr) return false;
      char* end = nullptr;
      out = std::strtod(v, &end);
      if (end == v || *end != '\0' || out < 0) {
        std::fprintf(stderr, "weft-soak: bad value for %s: %s\n", a.c_str(), v);
        return false;
      }
      return true;
    };
    double d = 0;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--minutes") {
      if (!num(o.minutes)) return std::nullopt;
    } else if (a == "--cap-mib") {
      if (!num(d)) return std::nullopt;
      o.cap_mib = static_cast<uint64_t>(d);
    } else if (a == "--store") {
      if ((v = need(i)) == nullptr) return std::nullopt;
      o.store = v;
    } else if (a == "--threads") {
      if (!num(d)) return std::nullopt;
      if (d < 1) {
        std::fprintf(stderr, "weft-soak: --threads must be at least 1\n");
        return std::nullopt;
      }
      o.threads = static_cast<unsigned>(d);
    } else if (a == "--scheduler-threads") {
      if (!num(d)) return std::nullopt;
      o.scheduler_threads = static_cast<unsigned>(d);
    } else if (a == "--calls") {
      if (!num(d)) return std::nullopt;
      o.calls = static_cast<uint64_t>(d);
    } else if (a == "--paused") {
      o.paused = true;
    } else if (a == "--rate") {
      if (!num(o.rate)) return std::nullopt;
    } else if (a == "--faults") {
      if ((v = need(i)) == nullptr) return std::nullopt;
      if (std::string(v) != "on" && std::string(v) != "off") {
        std::fprintf(stderr, "weft-soak: --faults takes on or off\n");
        return std::nullopt;
      }
      o.faults = std::string(v) == "on" ? 1 : 0;
    } else if (a == "--pause-every") {
      if (!num(o.pause_every_s)) return std::nullopt;
    } else if (a == "--pause-for") {
      if (!num(o.pause_for_s)) return std::nullopt;
    } else if (a == "--transient") {
      if (!num(o.transient_p)) return std::nullopt;
      if (o.transient_p >= 1) {
        std::fprintf(stderr, "weft-soak: --transient must be below 1\n");
        return std::nullopt;
      }
    } else if (a == "--invalid-every") {
      if (!num(d)) return std::nullopt;
      o.invalid_every = static_cast<uint64_t>(d);
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--verbose") {
      o.verbose = true;
    } else {
      std::fprintf(stderr, "weft-soak: unknown flag %s\n%s", a.c_str(), kUsage);
      return std::nullopt;
    }
  }
  if (o.paused && o.calls == 0) {
    std::fprintf(stderr, "weft-soak: --paused needs --calls N\n");
    return std::nullopt;
  }
  if (o.calls != 0 && !o.paused) {
    std::fprintf(stderr, "weft-soak: --calls is for --paused mode\n");
    return std::nullopt;
  }
  if (o.faults < 0) o.faults = o.paused ? 0 : 1;
  return o;
}

// ------------------------------------------------------------------------- memory

uint64_t rss_bytes() {
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key(field);
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
  return 0;
}

// Resets VmHWM to the current RSS (Linux: "5" into /proc/self/clear_refs). False if refused.
bool reset_hwm() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

// RSS split as /proc/self/status gives it: anonymous memory (the heap: what the runtime
// holds) and file-backed pages (SQLite maps up to 256 MiB of the database file,
// PRAGMA mmap_size, and its -shm file; those pages count in RSS too).
struct RssSplit {
  uint64_t anon = 0, file = 0, shmem = 0;
};
RssSplit rss_split() {
  RssSplit r;
  std::ifstream in("/proc/self/status");
  std::string line;
  auto kb = [&](const char* key, uint64_t& out) {
    size_t n = std::strlen(key);
    if (line.compare(0, n, key) == 0) out = std::strtoull(line.c_str() + n, nullptr, 10) << 10;
  };
  while (std::getline(in, line)) {
    kb("RssAnon:", r.anon);
    kb("RssFile:", r.file);
    kb("RssShmem:", r.shmem);
  }
  return r;
}

// Bytes the allocator has handed out and not had back (glibc mallinfo2: every arena's
// in-use chunks plus mmapped ones). Set against the anonymous RSS it tells live memory
// from memory freed but kept by the allocator (fragmentation, untrimmed arenas).
uint64_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

// SQLite's own heap, page cache included (sqlite3_memory_used: every connection in the
// process; the store's connection caches up to 64 MiB of pages, PRAGMA cache_size).
uint64_t sqlite_in_use() { return static_cast<uint64_t>(sqlite3_memory_used()); }

// "123.4 MiB (anon 100.1, file 20.0, shmem 3.3; heap in use 80.2, of it SQLite 60.1)"
std::string rss_text(uint64_t rss) {
  RssSplit r = rss_split();
  char buf[192];
  std::snprintf(buf, sizeof buf, "%.1f MiB (anon %.1f, file %.1f, shmem %.1f; heap in use %.1f, of it SQLite %.1f)",
                mib(rss), mib(r.anon), mib(r.file), mib(r.shmem), mib(heap_in_use()), mib(sqlite_in_use()));
  return buf;
}

// Samples RSS on its own thread every `period`; keeps the maximum (of RSS, and of its
// anonymous part).
class RssSampler {
 public:
  explicit RssSampler(std::chrono::milliseconds period) : period_(period) {
    sample();
    thread_ = std::thread([this] {
      while (!stop_.load(std::memory_order_relaxed)) {
        sample();
        nap();
      }
    });
  }
  ~RssSampler() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  void sample() {
    uint64_t r = rss_bytes();
    uint64_t a = rss_split().anon;
    last_.store(r, std::memory_order_relaxed);
    last_anon_.store(a, std::memory_order_relaxed);
    raise(max_, r);
    raise(max_anon_, a);
  }
  // Starts a new maximum from the current RSS.
  void reset_max() {
    max_.store(0);
    max_anon_.store(0);
    sample();
  }
  uint64_t last() const { return last_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_.load(std::memory_order_relaxed); }
  uint64_t last_anon() const { return last_anon_.load(std::memory_order_relaxed); }
  uint64_t max_anon() const { return max_anon_.load(std::memory_order_relaxed); }

 private:
  void nap() {
    // Sleep in short slices so stop() is quick whatever the period.
    auto until = Clock::now() + period_;
    while (!stop_.load(std::memory_order_relaxed) && Clock::now() < until)
      std::this_thread::sleep_for(std::min<Clock::duration>(20ms, until - Clock::now()));
  }
  static void raise(std::atomic<uint64_t>& m, uint64_t v) {
    uint64_t cur = m.load(std::memory_order_relaxed);
    while (v > cur && !m.compare_exchange_weak(cur, v)) {
    }
  }
  std::chrono::milliseconds period_;
  std::atomic<uint64_t> last_{0}, max_{0}, last_anon_{0}, max_anon_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ------------------------------------------------------------------------- faulty store

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Wraps the SQLite store. Per attempt (a batch or its retry), with probability transient_p
// the whole batch fails as unavailable without touching the inner store (so nothing of it
// is written: the runtime retries it whole). Otherwise a call_end whose id hashes to
// 0 mod invalid_every is refused as invalid_argument (the same answer on every attempt: a
// permanent failure, dead-lettered) and the rest of the batch is written.
// Called from the store writer's thread only; the counters are atomics for the progress line.
class FaultStore final : public weft::Store {
 public:
  FaultStore(std::unique_ptr<weft::Store> inner, double transient_p, uint64_t invalid_every)
      : inner_(std::move(inner)), transient_p_(transient_p), invalid_every_(invalid_every) {}

  void write_batch(std::span<const weft::StoreRequest> batch, std::vector<weft::Status>& results) override {
    attempts_.fetch_add(1, std::memory_order_relaxed);
    if (transient_p_ > 0 && uniform_(rng_) < transient_p_) {
      transient_.fetch_add(1, std::memory_order_relaxed);
      results.assign(batch.size(), weft::Status::unavailable("injected: store unavailable"));
      return;
    }
    victims_.clear();
    if (invalid_every_ != 0)
      for (size_t i = 0; i < batch.size(); ++i)
        if (const auto* end = std::get_if<weft::CallEndRequest>(&batch[i]))
          if (fnv1a(end->id) % invalid_every_ == 0) victims_.push_back(i);
    if (victims_.empty()) {
      inner_->write_batch(batch, results);
      return;
    }
    invalid_.fetch_add(victims_.size(), std::memory_order_relaxed);
    std::vector<weft::StoreRequest> rest;
    std::vector<size_t> where;
    rest.reserve(batch.size() - victims_.size());
    for (size_t i = 0, v = 0; i < batch.size(); ++i) {
      if (v < victims_.size() && victims_[v] == i) {
        ++v;
        continue;
      }
      rest.push_back(batch[i]);
      where.push_back(i);
    }
    std::vector<weft::Status> rest_results;
    inner_->write_batch(rest, rest_results);
    results.assign(batch.size(), weft::Status());
    for (size_t v : victims_)
      results[v] = weft::Status::invalid_argument("injected: call_end refused by the soak's store");
    for (size_t j = 0; j < where.size(); ++j)
      results[where[j]] = j < rest_results.size() ? rest_results[j] : weft::Status::internal("no result");
  }
  std::string describe() const override { return "soak-faults(" + inner_->describe() + ")"; }

  uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  uint64_t transient() const { return transient_.load(std::memory_order_relaxed); }
  uint64_t invalid() const { return invalid_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<weft::Store> inner_;
  const double transient_p_;
  const uint64_t invalid_every_;
  std::mt19937_64 rng_{0x50a4};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::vector<size_t> victims_;
  std::atomic<uint64_t> attempts_{0}, transient_{0}, invalid_{0};
};

// ------------------------------------------------------------------------- workload

// Values every thread shares: the ops, and a few Object instances (each saved once).
struct SharedValues {
  Value step_op, predict_op, tool_op, judge_op;
  std::vector<Value> models;  // ChatModel Objects, each holding a Prompt Object
  Value retriever;            // a RetrieverConfig Object
  // What saving them writes: ops (objects of kind op) and their source files, Objects.
  uint64_t ops() const { return 4; }
  uint64_t objects() const { return models.size() * 2 + 1; }
};

SharedValues make_shared_values() {
  SharedValues s;
  s.step_op = weft::make_op("soak_step", "def soak_step(model, example): ...\n");
  s.predict_op = weft::make_op("soak_predict", "def soak_predict(prompt, retriever, i): ...\n");
  s.tool_op = weft::make_op("soak_tool", "def soak_tool(query): ...\n");
  s.judge_op = weft::make_op("soak_judge", "def soak_judge(dataset): ...\n");
  for (int m = 0; m < 4; ++m) {
    Value prompt = weft::make_object(
        "Prompt", {{"system", Value::string("You are soak model " + std::to_string(m) + ". Answer briefly.")},
                   {"template", Value::string("Q: {question}\nA:")}},
        "soak-prompt-" + std::to_string(m));
    s.models.push_back(weft::make_object(
        "ChatModel",
        {{"model_name", Value::string("soak-model-" + std::to_string(m))},
         {"temperature", Value::number(0.1 * m)},
         {"prompt", prompt}},
        "soak-model-" + std::to_string(m), {"Model", "Object", "BaseModel"}));
  }
  s.retriever = weft::make_object("RetrieverConfig",
                                  {{"k", Value::integer(5)}, {"index", Value::string("soak-index-v1")}});
  return s;
}

// Per-thread counters of what the runtime accepted, read by the progress line (relaxed).
struct alignas(64) ThreadCounters {
  std::atomic<uint64_t> attempts{0};       // start_call calls
  std::atomic<uint64_t> recorded{0};       // ... accepted (call_start expected)
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> ended{0};          // finish/fail accepted (call_end expected)
  std::atomic<uint64_t> end_errors{0};     // finish/fail of a recorded call that failed
  std::atomic<uint64_t> objects{0};        // fresh Object instances in accepted events
  std::atomic<uint64_t> tables{0};         // fresh Tables in accepted events
  std::atomic<uint64_t> table_rows{0};     // their rows (all distinct)
  std::atomic<uint64_t> saves{0};          // save() accepted
  std::atomic<uint64_t> saves_refused{0};
};

struct Totals {
  uint64_t attempts = 0, recorded = 0, refused = 0, ended = 0, end_errors = 0, objects = 0, tables = 0,
           table_rows = 0, saves = 0, saves_refused = 0;
};

Totals sum(const std::deque<ThreadCounters>& cs) {
  Totals t;
  for (const auto& c : cs) {
    t.attempts += c.attempts.load(std::memory_order_relaxed);
    t.recorded += c.recorded.load(std::memory_order_relaxed);
    t.refused += c.refused.load(std::memory_order_relaxed);
    t.ended += c.ended.load(std::memory_order_relaxed);
    t.end_errors += c.end_errors.load(std::memory_order_relaxed);
    t.objects += c.objects.load(std::memory_order_relaxed);
    t.tables += c.tables.load(std::memory_order_relaxed);
    t.table_rows += c.table_rows.load(std::memory_order_relaxed);
    t.saves += c.saves.load(std::memory_order_relaxed);
    t.saves_refused += c.saves_refused.load(std::memory_order_relaxed);
  }
  return t;
}

constexpr size_t kTableRows = 8;
const std::string kFiller(160, 'x');  // some text per value, as prompts and answers have

// One application thread's workload. Every fresh value carries a number unique in the
// run, so no two fresh instances have the same digest: each accepted one is exactly one
// row of the store (or one dead-letter line), which is what the account relies on.
class Tracer {
 public:
  Tracer(weft::Runtime& rt, const SharedValues& sv, ThreadCounters& c, unsigned index,
         std::atomic<uint64_t>* budget, uint64_t budget_limit)
      : rt_(rt), sv_(sv), c_(c), base_(uint64_t{index + 1} << 40), budget_(budget), limit_(budget_limit) {}

  // One step: a root call with 1-3 children (each may have a grandchild; 1 in 97 fails),
  // a Table every 100th step, a save every 50th. Returns false once the call budget is spent.
  bool step() {
    const uint64_t n = next_++;
    const uint64_t uid = base_ | n;
    if (!take()) return false;
    std::vector<weft::DictEntry> in{
        {"model", sv_.models[n % sv_.models.size()]},
        {"example", weft::make_object("Example", {{"uid", Value::integer(static_cast<int64_t>(uid))},
                                                   {"question", Value::string("question " + std::to_string(uid) + " " + kFiller)},
                                                   {"label", Value::integer(static_cast<int64_t>(n % 3))}})},
        {"step", Value::integer(static_cast<int64_t>(n))}};
    const bool with_table = n % 100 == 7;
    if (with_table) in.emplace_back("dataset", table(uid));
    weft::CallScope root(rt_, sv_.step_op, Value::dict(std::move(in)));
    if (started(root.call())) {
      c_.objects.fetch_add(1, std::memory_order_relaxed);
      if (with_table) {
        c_.tables.fetch_add(1, std::memory_order_relaxed);
        c_.table_rows.fetch_add(kTableRows, std::memory_order_relaxed);
      }
    }
    const int children = 1 + static_cast<int>(n % 3);
    bool more = true;
    for (int k = 0; k < children && more; ++k) more = child(uid, n, k);
    if (n % 50 == 3) save(uid);
    ended(root.call(), root.finish(Value::dict({{"score", Value::number(static_cast<double>(n % 10) / 10.0)},
                                               {"children", Value::integer(children)}})));
    return more;
  }

 private:
  bool take() {
    if (budget_ == nullptr) return true;
    return budget_->fetch_add(1, std::memory_order_relaxed) < limit_;
  }
  bool started(const weft::Call& call) {
    c_.attempts.fetch_add(1, std::memory_order_relaxed);
    if (call.recorded()) {
      c_.recorded.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    c_.refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  void ended(const weft::Call& call, const weft::Status& st) {
    if (!call.recorded()) return;
    if (st.is_ok())
      c_.ended.fetch_add(1, std::memory_order_relaxed);
    else
      c_.end_errors.fetch_add(1, std::memory_order_relaxed);
  }

  Value table(uint64_t uid) {
    std::vector<Value> rows;
    for (size_t r = 0; r < kTableRows; ++r)
      rows.push_back(Value::dict({{"uid", Value::integer(static_cast<int64_t>(uid))},
                                  {"row", Value::integer(static_cast<int64_t>(r))},
                                  {"text", Value::string("row text " + std::to_string(r))}}));
    return weft::make_table(std::move(rows));
  }

  bool child(uint64_t uid, uint64_t n, int k) {
    if (!take()) return false;
    const uint64_t cid = uid * 4 + static_cast<uint64_t>(k);
    weft::CallScope call(rt_, sv_.predict_op,
                         Value::dict({{"prompt", Value::string("prompt " + std::to_string(cid) + " " + kFiller)},
                                      {"retriever", sv_.retriever},
                                      {"i", Value::integer(k)}}));
    const bool rec = started(call.call());
    bool more = true;
    if (n % 4 == 1 && k == 0) {
      if (!take()) {
        more = false;
      } else {
        weft::CallScope tool(rt_, sv_.tool_op, Value::dict({{"query", Value::string("lookup " + std::to_string(cid))}}));
        started(tool.call());
        ended(tool.call(), tool.finish(Value::dict({{"hits", Value::list({Value::integer(1), Value::integer(2),
                                                                          Value::integer(3)})}})));
      }
    }
    Value usage = weft::make_object("Usage", {{"uid", Value::integer(static_cast<int64_t>(cid))},
                                              {"prompt_tokens", Value::integer(120 + k)},
                                              {"completion_tokens", Value::integer(40 + k)}});
    Value completion = weft::make_object(
        "Completion", {{"uid", Value::integer(static_cast<int64_t>(cid))},
                       {"text", Value::string("answer " + std::to_string(cid) + " " + kFiller)},
                       {"usage", usage},
                       {"model", sv_.models[(n + static_cast<uint64_t>(k)) % sv_.models.size()]}});
    weft::Status st = cid % 97 == 5 ? call.call().fail("ValueError", "soak: injected failure", completion)
                                    : call.finish(completion);
    ended(call.call(), st);
    if (rec && st.is_ok()) c_.objects.fetch_add(2, std::memory_order_relaxed);  // Completion, Usage
    return more;
  }

  void save(uint64_t uid) {
    weft::SavedRef ref = rt_.save(weft::make_object(
        "Checkpoint", {{"uid", Value::integer(static_cast<int64_t>(uid))},
                       {"score", Value::number(static_cast<double>(uid % 1000) / 1000.0)}}));
    // A refused save fails at once with a message that says so; an accepted one may fail
    // later only in the store (then it is dead-lettered, and counted there).
    if (ref.ready() && !ref.ok() && ref.error().find("refused") != std::string::npos) {
      c_.saves_refused.fetch_add(1, std::memory_order_relaxed);
    } else {
      c_.saves.fetch_add(1, std::memory_order_relaxed);
      c_.objects.fetch_add(1, std::memory_order_relaxed);
    }
  }

  weft::Runtime& rt_;
  const SharedValues& sv_;
  ThreadCounters& c_;
  const uint64_t base_;
  uint64_t next_ = 0;
  std::atomic<uint64_t>* budget_;
  uint64_t limit_;
};

// ------------------------------------------------------------------------- errors

// The runtime's error reports: counted, the first and last few kept (--verbose streams them).
class ErrorLog {
 public:
  explicit ErrorLog(bool verbose) : verbose_(verbose) {}
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mu_);
      ++count_;
      if (verbose_) std::fprintf(stderr, "weft: %s\n", m.c_str());
      if (first_.size() < 5) first_.push_back(m);
      else {
        last_.push_back(m);
        if (last_.size() > 5) last_.pop_front();
      }
    };
  }
  void print() {
    std::lock_guard<std::mutex> lock(mu_);
    std::printf("runtime error reports: %" PRIu64 " lines (aggregated by the runtime)\n", count_);
    for (const auto& m : first_) std::printf("  | %s\n", m.c_str());
    if (!last_.empty()) std::printf("  | ...\n");
    for (const auto& m : last_) std::printf("  | %s\n", m.c_str());
  }

 private:
  std::mutex mu_;
  bool verbose_;
  uint64_t count_ = 0;
  std::vector<std::string> first_;
  std::deque<std::string> last_;
};

// ------------------------------------------------------------------------- accounting

struct Expected {
  uint64_t call_start = 0, call_end = 0, objects = 0, ops = 0, files = 0, tables = 0;
};

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "weft-soak: cannot open %s: %s\n", path.c_str(), sqlite3_errmsg(db_));
      std::exit(1);
    }
  }
  ~Db() { sqlite3_close(db_); }
  int64_t count(const char* sql, const std::string& arg = {}, const std::string& arg2 = {}) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "weft-soak: bad query %s: %s\n", sql, sqlite3_errmsg(db_));
      std::exit(1);
    }
    if (sqlite3_bind_parameter_count(st) >= 1) sqlite3_bind_text(st, 1, arg.data(), static_cast<int>(arg.size()), SQLITE_TRANSIENT);
    if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_text(st, 2, arg2.data(), static_cast<int>(arg2.size()), SQLITE_TRANSIENT);
    int64_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

struct DeadLetters {
  uint64_t call_start = 0, call_end = 0, objects = 0, ops = 0, files = 0, tables = 0, bad_lines = 0;
  uint64_t also_in_store = 0;  // a dead-lettered request whose row is in the store too
  uint64_t files_read = 0;
  std::vector<std::pair<std::string, uint64_t>> by_code;  // "call_end invalid_argument" -> n
  void add_code(const std::string& key) {
    for (auto& [k, n] : by_code)
      if (k == key) {
        ++n;
        return;
      }
    by_code.emplace_back(key, 1);
  }
};

DeadLetters read_dead_letters(const std::string& path, const Db& db) {
  DeadLetters d;
  for (const std::string& p : {path + ".2", path + ".1", path}) {
    if (!std::filesystem::exists(p)) continue;
    auto reader = weft::DeadLetterReader::open(p);
    if (!reader) {
      std::fprintf(stderr, "weft-soak: %s\n", reader.error().c_str());
      ++d.bad_lines;
      continue;
    }
    ++d.files_read;
    for (;;) {
      auto next = reader->next();
      if (!next) {
        ++d.bad_lines;
        continue;
      }
      if (!next->has_value()) break;
      const weft::DeadLetterEntry& e = **next;
      d.add_code(e.kind + " " + weft::status_code_id(e.code));
      if (const auto* r = std::get_if<weft::CallStartRequest>(&e.request)) {
        ++d.call_start;
        d.also_in_store += db.count("SELECT count(*) FROM calls WHERE id = ?1 AND op_name IS NOT NULL", r->id) > 0;
      } else if (const auto* r2 = std::get_if<weft::CallEndRequest>(&e.request)) {
        ++d.call_end;
        d.also_in_store += db.count("SELECT count(*) FROM calls WHERE id = ?1 AND ended_at IS NOT NULL", r2->id) > 0;
      } else if (const auto* r3 = std::get_if<weft::ObjCreateRequest>(&e.request)) {
        (r3->kind == "op" ? d.ops : d.objects) += 1;
        d.also_in_store += db.count("SELECT count(*) FROM objects WHERE digest = ?1 AND object_id = ?2",
                                    r3->digest, r3->object_id) > 0;
      } else if (const auto* r4 = std::get_if<weft::TableCreateRequest>(&e.request)) {
        ++d.tables;
        d.also_in_store += db.count("SELECT count(*) FROM tables WHERE digest = ?1", r4->digest) > 0;
      } else if (const auto* r5 = std::get_if<weft::FileCreateRequest>(&e.request)) {
        ++d.files;
        d.also_in_store += db.count("SELECT count(*) FROM files WHERE digest = ?1", r5->digest) > 0;
      }
    }
  }
  return d;
}

// Prints the account; returns the number of requests unaccounted for (missing or extra).
uint64_t account(const std::string& store, const std::string& dl_path, const Expected& x,
                 const weft::RuntimeStats& s) {
  Db db(store);
  DeadLetters d = read_dead_letters(dl_path, db);
  struct Row {
    const char* what;
    uint64_t expected;
    int64_t in_store;
    uint64_t dead;
  };
  const int64_t tables_in_store = db.count("SELECT count(*) FROM tables");
  std::vector<Row> rows{
      {"call_start", x.call_start, db.count("SELECT count(*) FROM calls WHERE op_name IS NOT NULL"), d.call_start},
      {"call_end", x.call_end, db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), d.call_end},
      {"obj_create (objects)", x.objects, db.count("SELECT count(*) FROM objects WHERE kind = 'object'"), d.objects},
      {"obj_create (ops)", x.ops, db.count("SELECT count(*) FROM objects WHERE kind = 'op'"), d.ops},
      {"file_create", x.files, db.count("SELECT count(*) FROM files"), d.files},
      {"table_create", x.tables, tables_in_store, d.tables},
      // Rows come with their table: those of the tables in the store must all be there.
      {"table rows (of stored tables)", static_cast<uint64_t>(tables_in_store) * kTableRows,
       db.count("SELECT count(*) FROM table_rows"), 0},
  };
  std::printf("\naccount (every accepted request: a row in the store or a dead-letter line)\n");
  std::printf("  %-30s %12s %12s %12s %12s\n", "request", "accepted", "in store", "dead-letter", "unaccounted");
  uint64_t unaccounted = 0;
  for (const Row& r : rows) {
    int64_t diff = static_cast<int64_t>(r.expected) - r.in_store - static_cast<int64_t>(r.dead);
    unaccounted += static_cast<uint64_t>(std::llabs(diff));
    std::printf("  %-30s %12" PRIu64 " %12" PRId64 " %12" PRIu64 " %12" PRId64 "\n", r.what, r.expected, r.in_store,
                r.dead, diff);
  }
  std::printf("  calls rows in all: %" PRId64 " (started but never ended in the store: %" PRId64 ")\n",
              db.count("SELECT count(*) FROM calls"),
              db.count("SELECT count(*) FROM calls WHERE op_name IS NOT NULL AND ended_at IS NULL"));
  std::printf("  dead-letter file%s: %s (%" PRIu64 " read), bad lines %" PRIu64
              ", requests both dead-lettered and in the store %" PRIu64 "\n",
              d.files_read > 1 ? "s" : "", dl_path.c_str(), d.files_read, d.bad_lines, d.also_in_store);
  for (const auto& [k, n] : d.by_code) std::printf("    %-40s %" PRIu64 "\n", k.c_str(), n);
  const uint64_t dead_total = d.call_start + d.call_end + d.objects + d.ops + d.files + d.tables;
  std::printf("  runtime: written obj %" PRIu64 " table %" PRIu64 " file %" PRIu64 " start %" PRIu64 " end %" PRIu64
              "; failures %" PRIu64 ", dead-lettered %" PRIu64 " (file holds %" PRIu64 "), lost %" PRIu64 "\n",
              s.obj_create, s.table_create, s.file_create, s.call_start, s.call_end, s.store_failures, s.dead_lettered,
              dead_total, s.lost);
  unaccounted += d.bad_lines + d.also_in_store;
  return unaccounted;
}

// ------------------------------------------------------------------------- the runs

void remove_files(const std::string& store, const std::string& dl) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(store + suffix);
  for (const char* suffix : {"", ".1", ".2", ".3"}) std::filesystem::remove(dl + suffix);
}

std::string now_text() {
  return weft::format_iso8601_micros(weft::now_unix_micros()).substr(0, 19) + "Z";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Setup {
  std::unique_ptr<weft::Runtime> rt;
  std::shared_ptr<FaultStore> faults;  // null when faults are off
  SharedValues sv;
  std::string dl_path;
};

Setup start(const Options& o, ErrorLog& errors) {
  Setup s;
  s.dl_path = o.store + ".dead-letter.jsonl";
  remove_files(o.store, s.dl_path);
  auto inner = weft::open_sqlite_store(o.store);
  if (!inner) {
    std::fprintf(stderr, "weft-soak: cannot open store %s: %s\n", o.store.c_str(), inner.error().c_str());
    std::exit(1);
  }
  weft::Config cfg;
  cfg.project = "weft/soak";
  cfg.store_path = o.store;
  s.faults = std::make_shared<FaultStore>(std::move(inner.value()), o.faults ? o.transient_p : 0.0,
                                          o.faults ? o.invalid_every : 0);
  cfg.store = s.faults;
  cfg.dead_letter_path = s.dl_path;
  cfg.dead_letter_max_bytes = uint64_t{16} << 30;  // no rotation: the account reads every line
  cfg.max_memory_bytes = o.cap_mib << 20;
  cfg.scheduler_threads = o.scheduler_threads;
  cfg.on_error = errors.sink();
  s.rt = std::make_unique<weft::Runtime>(cfg);
  s.sv = make_shared_values();
  // The shared values are saved first, so they are accepted whatever the load later.
  std::vector<weft::SavedRef> refs;
  for (const Value* v : {&s.sv.step_op, &s.sv.predict_op, &s.sv.tool_op, &s.sv.judge_op, &s.sv.retriever})
    refs.push_back(s.rt->save(*v));
  for (const Value& m : s.sv.models) refs.push_back(s.rt->save(m));
  for (const auto& r : refs)
    if (!r.wait(60s) || !r.ok()) {
      std::fprintf(stderr, "weft-soak: saving the shared values failed: %s\n", r.error().c_str());
      std::exit(1);
    }
  return s;
}

// The judge op is used once per run (so every op is used by a call), at warm-up.
void warm_up(Setup& s, ThreadCounters& c, int steps) {
  Tracer t(*s.rt, s.sv, c, 1000, nullptr, 0);
  for (int i = 0; i < steps; ++i) t.step();
  weft::Call j = s.rt->start_call(s.sv.judge_op, Value::dict({{"n", Value::integer(steps)}}));
  if (j.recorded()) {
    c.attempts.fetch_add(1);
    c.recorded.fetch_add(1);
    if (j.finish(Value::number(1.0)).is_ok()) c.ended.fetch_add(1);
  }
}

void print_stats_line(const char* label, const weft::RuntimeStats& s) {
  std::printf("%s: accepted %" PRIu64 " events; refused %" PRIu64 " (calls %" PRIu64 ", saves %" PRIu64
              ", ends %" PRIu64 "; max_memory %" PRIu64 ", max_outstanding %" PRIu64 ", shut down %" PRIu64
              "); held %.1f MiB / %" PRIu64 " events; retries %" PRIu64 "; dead-lettered %" PRIu64 "; lost %" PRIu64 "\n",
              label, s.events_accepted, s.events_refused, s.refused_calls, s.refused_saves, s.refused_ends,
              s.refused_max_memory, s.refused_max_outstanding, s.refused_shut_down, mib(s.bytes_held), s.events_held,
              s.store_retries, s.dead_lettered, s.lost);
}

void print_flush(const char* label, const weft::FlushResult& r, double seconds) {
  std::printf("%s: %s in %.1f s (written %" PRIu64 ", failed %" PRIu64 ", pending %" PRId64 ")\n", label,
              r.complete ? "complete" : "NOT complete", seconds, r.written, r.failed, r.pending);
}

// Flush, shut down, destroy; then the account. Returns the unaccounted count.
uint64_t finish_and_account(Setup& s, const Options& o, const std::deque<ThreadCounters>& counters,
                            RssSampler& sampler) {
  const Totals t = sum(counters);
  auto t0 = Clock::now();
  weft::FlushResult fr = s.rt->flush(600s);
  print_flush("final flush", fr, std::chrono::duration<double>(Clock::now() - t0).count());
  t0 = Clock::now();
  weft::FlushResult sr = s.rt->shutdown(60s);
  print_flush("shutdown", sr, std::chrono::duration<double>(Clock::now() - t0).count());
  const weft::RuntimeStats st = s.rt->stats();
  print_stats_line("runtime", st);
  if (s.faults)
    std::printf("faults injected: %" PRIu64 " of %" PRIu64 " batch attempts failed as unavailable, %" PRIu64
                " call_end refused as invalid_argument\n",
                s.faults->transient(), s.faults->attempts(), s.faults->invalid());
  s.rt.reset();
  s.faults.reset();
  sampler.sample();
  const std::string destroyed = rss_text(rss_bytes());
  malloc_trim(0);
  std::printf("RSS after the runtime was destroyed: %s\n  and after malloc_trim: %s\n", destroyed.c_str(),
              rss_text(rss_bytes()).c_str());

  Expected x;
  x.call_start = t.recorded;
  x.call_end = t.ended;
  x.objects = s.sv.objects() + t.objects;
  x.ops = s.sv.ops();
  x.files = s.sv.ops();
  x.tables = t.tables;
  std::printf("application: %" PRIu64 " start_call, %" PRIu64 " recorded, %" PRIu64 " refused; %" PRIu64
              " ended (%" PRIu64 " end errors); %" PRIu64 " saves accepted, %" PRIu64 " refused; %" PRIu64
              " fresh Objects, %" PRIu64 " Tables accepted\n",
              t.attempts, t.recorded, t.refused, t.ended, t.end_errors, t.saves, t.saves_refused, t.objects, t.tables);
  uint64_t unaccounted = account(o.store, s.dl_path, x, st);
  if (t.end_errors != 0) {
    std::printf("  (%" PRIu64 " finish/fail calls of recorded calls returned an error)\n", t.end_errors);
  }
  std::printf("unaccounted: %" PRIu64 "\n", unaccounted);
  if (!o.keep) remove_files(o.store, s.dl_path);
  return unaccounted;
}

int run_soak(const Options& o) {
  ErrorLog errors(o.verbose);
  std::printf("# weft-soak %s: soak, %.1f min, %u tracing threads, cap %" PRIu64 " MiB, rate %s calls/s, store %s\n",
              WEFT_VERSION_STRING, o.minutes, o.threads, o.cap_mib,
              o.rate > 0 ? std::to_string(static_cast<uint64_t>(o.rate)).c_str() : "unlimited", o.store.c_str());
  std::printf("started %s, load average %s, %u CPUs; faults %s (transient %.1f %% of batch attempts, 1 call_end in %"
              PRIu64 " invalid), store paused %.0f s every %.0f s\n",
              now_text().c_str(), load_average().c_str(), std::thread::hardware_concurrency(),
              o.faults ? "on" : "off", o.faults ? o.transient_p * 100 : 0.0, o.faults ? o.invalid_every : 0,
              o.pause_for_s, o.pause_every_s);
  std::fflush(stdout);
  Setup s = start(o, errors);
  std::deque<ThreadCounters> counters(o.threads + 1);
  warm_up(s, counters.back(), 200);
  s.rt->flush(60s);
  malloc_trim(0);
  RssSampler sampler(1000ms);
  const uint64_t baseline = rss_bytes();
  const uint64_t baseline_anon = rss_split().anon;
  sampler.reset_max();
  std::printf("RSS after warm-up: %s\n", rss_text(baseline).c_str());
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  const auto t_start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < o.threads; ++i) {
    threads.emplace_back([&, i] {
      Tracer tr(*s.rt, s.sv, counters[i], i, nullptr, 0);
      const double per_thread = o.rate / o.threads;  // calls per second
      while (!stop.load(std::memory_order_relaxed)) {
        tr.step();
        if (per_thread > 0) {
          // Pace by calls made: sleep until this thread is back on its schedule.
          double due_s = static_cast<double>(counters[i].attempts.load(std::memory_order_relaxed)) / per_thread;
          auto due = t_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due_s));
          if (due > Clock::now()) std::this_thread::sleep_until(due);
        }
      }
    });
  }

  const auto duration = std::chrono::duration<double>(o.minutes * 60);
  const auto pause_every = std::chrono::duration<double>(o.pause_every_s);
  const auto pause_for = std::chrono::duration<double>(o.pause_for_s);
  bool paused = false;
  uint64_t pauses = 0;
  double paused_s = 0;
  Clock::time_point paused_at{};
  auto next_progress = t_start + 10s;
  auto next_pause = t_start + std::chrono::duration_cast<Clock::duration>(pause_every);
  Totals prev{};
  auto prev_t = t_start;
  // held and queue: the largest seen since the previous line (sampled every 50 ms).
  // RSS and anon (its anonymous part, the heap): now and the largest so far (1 s samples);
  // in use: the allocator's live bytes (mallinfo2) now; sqlite: SQLite's part of them.
  std::printf("%7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %9s %8s %8s %6s %s\n", "elapsed", "calls", "calls/s",
              "refused", "RSS MiB", "max", "anon MiB", "max", "in use", "sqlite", "held MiB", "queue", "retries", "dead",
              "store");
  uint64_t max_held = 0, max_queue = 0;  // since the last progress line
  while (Clock::now() - t_start < duration) {
    std::this_thread::sleep_for(50ms);
    auto now = Clock::now();
    {
      weft::RuntimeStats st = s.rt->stats();
      max_held = std::max(max_held, st.bytes_held);
      max_queue = std::max(max_queue, st.store_queue_depth);
    }
    if (o.pause_every_s > 0 && o.pause_for_s > 0) {
      if (!paused && now >= next_pause && now - t_start + pause_for < duration) {
        s.rt->pause_store();
        paused = true;
        paused_at = now;
        ++pauses;
      } else if (paused && now - paused_at >= pause_for) {
        s.rt->resume_store();
        paused = false;
        paused_s += std::chrono::duration<double>(now - paused_at).count();
        next_pause = paused_at + std::chrono::duration_cast<Clock::duration>(pause_every);
      }
    }
    if (now >= next_progress) {
      next_progress += 10s;
      Totals t = sum(counters);
      weft::RuntimeStats st = s.rt->stats();
      double dt = std::chrono::duration<double>(now - prev_t).count();
      std::printf("%6.0fs %10" PRIu64 " %8.0f %8" PRIu64 " %8.1f %8.1f %8.1f %8.1f %7.1f %7.1f %9.1f %8" PRIu64
                  " %8" PRIu64 " %6" PRIu64 " %s\n",
                  std::chrono::duration<double>(now - t_start).count(), t.recorded,
                  static_cast<double>(t.recorded - prev.recorded) / dt, t.refused + t.saves_refused,
                  mib(sampler.last()), mib(sampler.max()), mib(sampler.last_anon()), mib(sampler.max_anon()),
                  mib(heap_in_use()), mib(sqlite_in_use()), mib(std::max(max_held, st.bytes_held)),
                  std::max(max_queue, st.store_queue_depth), st.store_retries, st.dead_lettered,
                  st.store_paused ? "paused" : (st.store_retrying ? "retrying" : "writing"));
      std::fflush(stdout);
      max_held = max_queue = 0;
      prev = t;
      prev_t = now;
    }
  }
  stop.store(true);
  for (auto& th : threads) th.join();
  if (paused) {
    s.rt->resume_store();
    paused_s += std::chrono::duration<double>(Clock::now() - paused_at).count();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
  const Totals t = sum(counters);
  sampler.sample();
  const uint64_t max_rss = sampler.max();
  std::printf("\ntraced for %.1f s: %" PRIu64 " calls recorded (%.0f/s), %" PRIu64 " refused, %" PRIu64
              " saves refused; store paused %" PRIu64 " times, %.1f s in all; load average %s\n",
              elapsed, t.recorded, static_cast<double>(t.recorded) / elapsed, t.refused, t.saves_refused, pauses,
              paused_s, load_average().c_str());
  print_stats_line("at the end of tracing", s.rt->stats());
  std::printf("RSS at the end of tracing: %s\n", rss_text(rss_bytes()).c_str());
  uint64_t unaccounted = finish_and_account(s, o, counters, sampler);
  std::printf("max RSS: %.1f MiB (sampled every 1 s; VmHWM %.1f MiB); %.1f MiB above the warm-up RSS of %.1f MiB; "
              "cap %" PRIu64 " MiB (+ %" PRIu64 " MiB fixed overhead allowed): %s\n",
              mib(max_rss), static_cast<double>(status_kb("VmHWM:")) / 1024.0, mib(max_rss - std::min(max_rss, baseline)),
              mib(baseline), o.cap_mib, kFixedOverheadMiB,
              max_rss - std::min(max_rss, baseline) <= ((o.cap_mib + kFixedOverheadMiB) << 20) ? "within" : "OVER");
  std::printf("max anon RSS (heap): %.1f MiB; %.1f MiB above the warm-up's %.1f MiB\n", mib(sampler.max_anon()),
              mib(sampler.max_anon() - std::min(sampler.max_anon(), baseline_anon)), mib(baseline_anon));
  errors.print();
  return unaccounted == 0 ? 0 : 1;
}

int run_paused(const Options& o) {
  ErrorLog errors(o.verbose);
  std::printf("# weft-soak %s: paused store, %" PRIu64 " calls from %u threads, cap %" PRIu64 " MiB, store %s\n",
              WEFT_VERSION_STRING, o.calls, o.threads, o.cap_mib, o.store.c_str());
  std::printf("started %s, load average %s, %u CPUs; faults %s\n", now_text().c_str(), load_average().c_str(),
              std::thread::hardware_concurrency(), o.faults ? "on" : "off");
  std::fflush(stdout);
  Setup s = start(o, errors);
  std::deque<ThreadCounters> counters(o.threads + 1);
  // Warm up the fixed parts (queue blocks, actor system, SQLite's cache) with the store live.
  warm_up(s, counters.back(), 2000);
  weft::FlushResult wf = s.rt->flush(120s);
  if (!wf.complete) std::printf("warm-up flush not complete (pending %" PRId64 ")\n", wf.pending);
  malloc_trim(0);
  RssSampler sampler(50ms);
  const uint64_t before = rss_bytes();
  const RssSplit before_split = rss_split();
  const bool hwm = reset_hwm();
  sampler.reset_max();
  std::printf("RSS before the workload: %s\n", rss_text(before).c_str());
  std::fflush(stdout);

  s.rt->pause_store();
  std::atomic<uint64_t> budget{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < o.threads; ++i)
    threads.emplace_back([&, i] {
      Tracer tr(*s.rt, s.sv, counters[i], i, &budget, o.calls);
      while (tr.step()) {
      }
    });
  std::atomic<bool> done{false};
  std::thread progress([&] {
    auto next = t0 + 10s;
    while (!done.load()) {
      std::this_thread::sleep_for(50ms);
      if (Clock::now() < next) continue;
      next += 10s;
      Totals t = sum(counters);
      weft::RuntimeStats st = s.rt->stats();
      std::printf("[%4.0f s] %" PRIu64 " calls: %" PRIu64 " recorded, %" PRIu64 " refused; RSS %.1f MiB (max %.1f); "
                  "held %.1f MiB / %" PRIu64 " events; store queue %" PRIu64 "\n",
                  std::chrono::duration<double>(Clock::now() - t0).count(), t.attempts, t.recorded, t.refused,
                  mib(sampler.last()), mib(sampler.max()), mib(st.bytes_held), st.events_held, st.store_queue_depth);
      std::fflush(stdout);
    }
  });
  for (auto& th : threads) th.join();
  const double traced_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // The runtime keeps turning accepted events into store requests after the last call
  // returned; wait until it has (the queue stops growing) before reading the peak.
  uint64_t last_depth = UINT64_MAX;
  for (int quiet = 0; quiet < 10;) {
    std::this_thread::sleep_for(100ms);
    uint64_t depth = s.rt->stats().store_queue_depth;
    quiet = depth == last_depth ? quiet + 1 : 0;
    last_depth = depth;
  }
  done.store(true);
  progress.join();
  sampler.sample();
  const uint64_t held_rss = rss_bytes();
  const std::string held_text = rss_text(held_rss);
  const uint64_t peak = std::max<uint64_t>(sampler.max(), hwm ? static_cast<uint64_t>(status_kb("VmHWM:")) << 10 : 0);
  const Totals t = sum(counters);
  const weft::RuntimeStats paused_stats = s.rt->stats();
  std::printf("\ntraced %" PRIu64 " calls in %.1f s: %" PRIu64 " recorded, %" PRIu64 " refused; %" PRIu64
              " saves accepted, %" PRIu64 " refused\n",
              t.attempts - counters.back().attempts.load(), traced_s, t.recorded - counters.back().recorded.load(),
              t.refused, t.saves, t.saves_refused);
  print_stats_line("while paused", paused_stats);
  std::printf("store queue while paused: %" PRIu64 " requests\n", paused_stats.store_queue_depth);

  s.rt->resume_store();
  auto t1 = Clock::now();
  weft::FlushResult fr = s.rt->flush(600s);
  print_flush("resume + flush", fr, std::chrono::duration<double>(Clock::now() - t1).count());
  sampler.sample();
  const uint64_t after = rss_bytes();
  const RssSplit after_split = rss_split();
  const std::string after_text = rss_text(after);
  const uint64_t cap_bound = (o.cap_mib + kFixedOverheadMiB) << 20;
  const bool peak_ok = peak <= before + cap_bound;
  const bool after_ok = after <= before + (kReturnSlackMiB << 20);
  std::printf("\nRSS before          %8.1f MiB  (anon %.1f, file %.1f, shmem %.1f)\n", mib(before),
              mib(before_split.anon), mib(before_split.file), mib(before_split.shmem));
  std::printf("RSS peak            %8.1f MiB  (+%.1f; bound: before + cap %" PRIu64 " + %" PRIu64
              " MiB fixed = %.1f MiB: %s)%s\n",
              mib(peak), mib(peak - before), o.cap_mib, kFixedOverheadMiB, mib(before + cap_bound),
              peak_ok ? "ok" : "OVER", hwm ? "" : " [VmHWM reset refused: sampled every 50 ms]");
  std::printf("    anon peak       %8.1f MiB  (+%.1f; sampled every 50 ms)\n", mib(sampler.max_anon()),
              mib(sampler.max_anon() - std::min(sampler.max_anon(), before_split.anon)));
  std::printf("RSS end of workload %s, store still paused\n", held_text.c_str());
  std::printf("RSS after flush     %8.1f MiB  (%+.1f; bound: before + %" PRIu64 " MiB = %.1f MiB: %s)\n", mib(after),
              (static_cast<double>(after) - static_cast<double>(before)) / kMiB, kReturnSlackMiB,
              mib(before + (kReturnSlackMiB << 20)), after_ok ? "ok" : "OVER");
  std::printf("    after flush: %s; anon %+.1f, file %+.1f, shmem %+.1f against before\n", after_text.c_str(),
              (static_cast<double>(after_split.anon) - static_cast<double>(before_split.anon)) / kMiB,
              (static_cast<double>(after_split.file) - static_cast<double>(before_split.file)) / kMiB,
              (static_cast<double>(after_split.shmem) - static_cast<double>(before_split.shmem)) / kMiB);
  std::printf("refused: %" PRIu64 " calls (max_memory %" PRIu64 ", max_outstanding %" PRIu64 "), %" PRIu64
              " saves\n\n",
              paused_stats.refused_calls, paused_stats.refused_max_memory, paused_stats.refused_max_outstanding,
              paused_stats.refused_saves);
  std::fflush(stdout);
  uint64_t unaccounted = finish_and_account(s, o, counters, sampler);
  errors.print();
  if (!peak_ok) std::printf("FAIL: RSS peak above the cap + fixed overhead\n");
  if (!after_ok) std::printf("FAIL: RSS after flush not within %" PRIu64 " MiB of before\n", kReturnSlackMiB);
  return unaccounted == 0 && peak_ok && after_ok ? 0 : 1;
}

}  // namespace weft_soak

int main(int argc, char** argv) {
  auto o = weft_soak::parse(argc, argv);
  if (!o) return 2;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return o->paused ? weft_soak::run_paused(*o) : weft_soak::run_soak(*o);
}
