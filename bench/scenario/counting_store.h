// A Store decorator that counts what reaches the real store, by request kind. Every
// design writes through one, so "objects written" and "everything is in the store" mean
// the same thing for weft and for the reference models.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <weft/store.h>

namespace weft_bench {

class CountingStore final : public weft::Store {
 public:
  // Request kinds, in StoreRequest's order.
  enum Kind { kObj, kTable, kFile, kCallStart, kCallEnd, kKinds };

  explicit CountingStore(std::unique_ptr<weft::Store> inner) : inner_(std::move(inner)) {}

  void write_batch(std::span<const weft::StoreRequest> batch, std::vector<weft::Status>& results) override;
  std::string describe() const override { return inner_->describe(); }

  uint64_t written(Kind k) const { return written_[k].load(std::memory_order_relaxed); }
  uint64_t written_total() const;
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<weft::Store> inner_;
  std::array<std::atomic<uint64_t>, kKinds> written_{};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> batches_{0};
};

// A fresh store of the given kind ("null" or "sqlite"). For SQLite, a new file under
// tmp_dir (its path in `path`, so the caller can remove it and its -wal/-shm files).
// Throws std::runtime_error with the reason if it cannot.
std::shared_ptr<CountingStore> open_counting_store(const std::string& kind, const std::string& tmp_dir,
                                                   std::string& path);
void remove_sqlite_files(const std::string& path);

}  // namespace weft_bench
