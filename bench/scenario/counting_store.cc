#include "bench/scenario/counting_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <stdexcept>

namespace weft_bench {

void CountingStore::write_batch(std::span<const weft::StoreRequest> batch, std::vector<weft::Status>& results) {
  inner_->write_batch(batch, results);
  batches_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i < results.size() && !results[i].is_ok()) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    written_[batch[i].index()].fetch_add(1, std::memory_order_relaxed);
  }
}

uint64_t CountingStore::written_total() const {
  uint64_t n = 0;
  for (const auto& w : written_) n += w.load(std::memory_order_relaxed);
  return n;
}

std::shared_ptr<CountingStore> open_counting_store(const std::string& kind, const std::string& tmp_dir,
                                                   std::string& path) {
  path.clear();
  if (kind == "null") return std::make_shared<CountingStore>(weft::make_null_store());
  // mkstemp reserves a unique name; SQLite then creates its schema in the empty file.
  std::string tmpl = tmp_dir + "/weft-bench-XXXXXX.db";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = mkstemps(buf.data(), 3);
  if (fd < 0) throw std::runtime_error("cannot create a temporary SQLite file in " + tmp_dir);
  close(fd);
  path = buf.data();
  auto s = weft::open_sqlite_store(path);
  if (!s) {
    remove_sqlite_files(path);
    throw std::runtime_error("cannot open SQLite store " + path + ": " + s.error());
  }
  return std::make_shared<CountingStore>(std::move(s.value()));
}

void remove_sqlite_files(const std::string& path) {
  if (path.empty()) return;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path + suffix).c_str());
}

}  // namespace weft_bench
