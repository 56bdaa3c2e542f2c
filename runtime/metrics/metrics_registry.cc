#include "runtime/metrics/metrics_registry.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace weft {

thread_local Metrics* t_spawning_metrics = nullptr;

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* actor_kind_name(ActorKind k) {
  switch (k) {
    case ActorKind::kObject: return "object";
    case ActorKind::kTable: return "table";
    case ActorKind::kCall: return "call";
    case ActorKind::kCount: break;
  }
  return "?";
}

void atomic_max(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void LatencyHistogram::record(uint64_t ns) {
  size_t i = 0;
  while (i < kLatencyBucketsNs.size() && ns > kLatencyBucketsNs[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(ns, std::memory_order_relaxed);
  atomic_max(max_, ns);
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary s;
  for (size_t i = 0; i < buckets_.size(); ++i) s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  s.count = 0;
  for (auto b : s.buckets) s.count += b;  // consistent with the buckets, not count_
  s.sum_ns = sum_.load(std::memory_order_relaxed);
  s.max_ns = max_.load(std::memory_order_relaxed);
  s.mean_ns = s.count == 0 ? 0 : static_cast<double>(s.sum_ns) / static_cast<double>(s.count);
  auto quantile = [&](double q) {
    if (s.count == 0) return 0.0;
    double rank = q * static_cast<double>(s.count);
    uint64_t seen = 0;
    for (size_t i = 0; i < s.buckets.size(); ++i) {
      if (s.buckets[i] == 0) continue;
      if (static_cast<double>(seen + s.buckets[i]) >= rank) {
        double lo = i == 0 ? 0.0 : static_cast<double>(kLatencyBucketsNs[i - 1]);
        double hi = i < kLatencyBucketsNs.size() ? static_cast<double>(kLatencyBucketsNs[i])
                                                 : static_cast<double>(s.max_ns);
        double within = (rank - static_cast<double>(seen)) / static_cast<double>(s.buckets[i]);
        return std::min(lo + (hi - lo) * within, static_cast<double>(s.max_ns));
      }
      seen += s.buckets[i];
    }
    return static_cast<double>(s.max_ns);
  };
  s.p50_ns = quantile(0.5);
  s.p99_ns = quantile(0.99);
  return s;
}

void InstanceSlot::describe(ActorKind k, uint64_t actor_id, std::string_view text) {
  seq.fetch_add(1, std::memory_order_acq_rel);  // odd: being written
  kind.store(static_cast<uint8_t>(k), std::memory_order_relaxed);
  id.store(actor_id, std::memory_order_relaxed);
  char buf[64] = {};
  // An empty view may have a null data(): memcpy must not see it (UBSan).
  if (!text.empty()) std::memcpy(buf, text.data(), std::min(text.size(), sizeof buf - 1));
  for (size_t w = 0; w < label.size(); ++w) {
    uint64_t word;
    std::memcpy(&word, buf + 8 * w, 8);
    label[w].store(word, std::memory_order_relaxed);
  }
  seq.fetch_add(1, std::memory_order_acq_rel);  // even: stable
}

void InstanceSlot::set_waiting(uint32_t children, uint32_t summaries, bool end) {
  bool waiting = children != 0 || summaries != 0 || end;
  waiting_children.store(children, std::memory_order_relaxed);
  waiting_summaries.store(summaries, std::memory_order_relaxed);
  waiting_end.store(end, std::memory_order_relaxed);
  int64_t since = waiting_since_ns.load(std::memory_order_relaxed);
  if (waiting && since == 0) waiting_since_ns.store(steady_now_ns(), std::memory_order_relaxed);
  if (!waiting && since != 0) waiting_since_ns.store(0, std::memory_order_relaxed);
}

InstanceRegistry::InstanceRegistry() = default;

InstanceRegistry::~InstanceRegistry() {
  for (auto& c : chunks_) delete[] c.load(std::memory_order_acquire);
}

InstanceSlot* InstanceRegistry::slot(uint32_t index) const {
  return &chunks_[index / kChunk].load(std::memory_order_acquire)[index % kChunk];
}

InstanceSlot* InstanceRegistry::acquire() {
  // Pop the free list (tagged head: no ABA).
  uint64_t head = free_head_.load(std::memory_order_acquire);
  while (static_cast<uint32_t>(head) != 0) {
    uint32_t index = static_cast<uint32_t>(head) - 1;
    InstanceSlot* s = slot(index);
    uint64_t next = ((head >> 32) + 1) << 32 | s->next_free.load(std::memory_order_relaxed);
    if (free_head_.compare_exchange_weak(head, next, std::memory_order_acq_rel, std::memory_order_acquire))
      return s;
  }
  uint32_t index = next_index_.fetch_add(1, std::memory_order_relaxed);
  if (index >= kChunk * kMaxChunks) return nullptr;  // not metered per instance beyond 16M
  auto& chunk = chunks_[index / kChunk];
  if (chunk.load(std::memory_order_acquire) == nullptr) {
    auto* fresh = new InstanceSlot[kChunk];
    InstanceSlot* expected = nullptr;
    if (!chunk.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) delete[] fresh;
  }
  InstanceSlot* s = slot(index);
  s->index.store(index, std::memory_order_relaxed);
  return s;
}

void InstanceRegistry::release(InstanceSlot* s) {
  if (s == nullptr) return;
  s->live.store(false, std::memory_order_release);
  s->enqueued.store(0, std::memory_order_relaxed);
  s->processed.store(0, std::memory_order_relaxed);
  s->set_waiting(0, 0, false);
  s->deadline_since_ns.store(0, std::memory_order_relaxed);
  s->deadline_watched.store(false, std::memory_order_relaxed);
  uint32_t index = s->index.load(std::memory_order_relaxed);
  uint64_t head = free_head_.load(std::memory_order_acquire);
  for (;;) {
    s->next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    uint64_t next = ((head >> 32) + 1) << 32 | (index + 1);
    if (free_head_.compare_exchange_weak(head, next, std::memory_order_acq_rel, std::memory_order_acquire))
      return;
  }
}

void InstanceRegistry::scan(const std::function<void(const InstanceMetrics&, const InstanceSlot&)>& fn) const {
  uint32_t n = std::min(next_index_.load(std::memory_order_acquire), kChunk * kMaxChunks);
  int64_t now = steady_now_ns();
  for (uint32_t i = 0; i < n; ++i) {
    if (chunks_[i / kChunk].load(std::memory_order_acquire) == nullptr) {
      i = (i / kChunk + 1) * kChunk - 1;  // chunk being installed: skip it
      continue;
    }
    const InstanceSlot& s = *slot(i);
    uint32_t seq1 = s.seq.load(std::memory_order_acquire);
    if ((seq1 & 1) != 0 || !s.live.load(std::memory_order_acquire)) continue;
    InstanceMetrics m;
    m.kind = actor_kind_name(static_cast<ActorKind>(s.kind.load(std::memory_order_relaxed)));
    m.id = s.id.load(std::memory_order_relaxed);
    char buf[65] = {};
    for (size_t w = 0; w < s.label.size(); ++w) {
      uint64_t word = s.label[w].load(std::memory_order_relaxed);
      std::memcpy(buf + 8 * w, &word, 8);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != seq1) continue;  // rewritten meanwhile
    m.label = buf;
    uint64_t e = s.enqueued.load(std::memory_order_relaxed), p = s.processed.load(std::memory_order_relaxed);
    m.mailbox_depth = e > p ? e - p : 0;
    int64_t since = s.waiting_since_ns.load(std::memory_order_relaxed);
    m.waiting_seconds = since == 0 ? 0.0 : std::max(0.0, static_cast<double>(now - since) / 1e9);
    uint32_t ch = s.waiting_children.load(std::memory_order_relaxed);
    uint32_t su = s.waiting_summaries.load(std::memory_order_relaxed);
    bool end = s.waiting_end.load(std::memory_order_relaxed);
    if (ch != 0) m.waiting_for = std::to_string(ch) + (ch == 1 ? " child digest" : " child digests");
    if (su != 0)
      m.waiting_for += (m.waiting_for.empty() ? "" : ", ") + std::to_string(su) + " child summaries";
    if (end) m.waiting_for += (m.waiting_for.empty() ? "" : ", ") + std::string("the call's end");
    fn(m, s);
  }
}

}  // namespace weft
