// Helpers shared by the runtime tests: temp store files, SQLite queries, the thread count.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <weft/runtime.h>

namespace weft::testing {

// Scheduler threads for runtime tests: WEFT_TEST_THREADS (ctest runs the suite with 1 and 2).
inline unsigned test_threads() {
  const char* s = std::getenv("WEFT_TEST_THREADS");
  return s != nullptr ? static_cast<unsigned>(std::atoi(s)) : 2u;
}

// A fresh store file path, removed (with its WAL files) on destruction.
class TempStore {
 public:
  TempStore() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("weft-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".db"))
                .string();
    remove();
  }
  ~TempStore() { remove(); }
  const std::string& path() const { return path_; }

 private:
  // The database, its -wal and -shm, and whatever else a runtime named after it (the
  // dead-letter file "<db>.dl.jsonl" or "<db>.dead-letter.jsonl" and their rotations): left
  // behind, a later process that got the same pid would append to them and count wrong.
  void remove() {
    const std::filesystem::path p(path_);
    const std::string name = p.filename().string();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(p.parent_path(), ec)) {
      const std::string other = entry.path().filename().string();
      if (other.compare(0, name.size(), name) == 0) std::filesystem::remove(entry.path(), ec);
    }
  }
  std::string path_;
};

// Read-only queries against a store file.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int64_t count(const std::string& sql) const {
    std::string t = text(sql);
    return t.empty() ? 0 : std::stoll(t);
  }
  // First column of the first row as text ("" if no row or NULL).
  std::string text(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("bad query: ") + sqlite3_errmsg(db_) + ": " + sql);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Collects the errors a runtime reports (Config::on_error), from any thread.
class ErrorLog {
 public:
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(m);
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  bool contains(const std::string& s) {
    for (const auto& l : snapshot())
      if (l.find(s) != std::string::npos) return true;
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// One op for tests that trace many calls of the same thing.
inline const Value& test_op() {
  static const Value op = make_op("step", "def step(i): ...\n");
  return op;
}

// Config for a test runtime writing to `store`; errors are collected, not printed.
inline Config test_config(const TempStore& store) {
  Config c;
  c.project = "test-entity/test-project";
  c.store_path = store.path();
  c.scheduler_threads = test_threads();
  return c;
}

}  // namespace weft::testing
