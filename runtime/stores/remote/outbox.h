// Outbox: the remote store's durable queue. A request is appended (in one transaction with
// the rest of its batch) before it is sent, and removed once the server acknowledged it or
// it was dead-lettered; what is still there when the process dies (kill -9 included) is
// delivered by the next remote store opened on the same file, or by `weft replay --outbox`.
//
// Backed by SQLite in WAL mode with synchronous=NORMAL (docs/ARCHITECTURE.md#the-outbox says
// why SQLite and not a segment log). Durability: a committed append or remove survives a
// kill of the process (it is in the WAL, in the OS's page cache); an OS crash or power loss
// may undo the last commits since the WAL was last synced (at checkpoints), never part of
// one. A failed transaction leaves nothing of its batch, and the Outbox stays usable.
//
// File format (format version 1, in outbox_meta):
//   outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL,
//          appended_at INTEGER NOT NULL)       -- appended_at: Unix microseconds
//   outbox_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)  -- ('format_version', '1')
// A file with no tables (new, or empty) gets this schema; any other SQLite file without
// both tables, or with a higher format_version, is refused and left untouched.
//
// One writer: an Outbox is used from one thread at a time (the store writer's); none of its
// members may be called concurrently. The file is locked from open until destruction
// (PRAGMA locking_mode=EXCLUSIVE, the lock taken at open): a second Outbox on it, in this
// process or another, fails with failed_precondition naming it, and so does any other
// reader (sqlite3, Python) while it is held. The lock is an fcntl lock, released when the
// process dies; like every SQLite lock it is also dropped if this process opens and
// closes the file by other means than SQLite, so do not. WAL's index lives in heap memory
// (no -shm file).
//
// depth() and bytes() are kept in memory, O(1); open computes them with one scan of the
// bodies (about 0.1 s for 100 MB in the page cache).
//
// What is stored per entry is the request as the dead-letter file stores it: its kind and
// dead_letter_body_json() (runtime/stores/request_body.h), from which parse_request_body
// gives the request back field by field.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <weft/status.h>

namespace weft {

struct OutboxRecord {
  std::string kind;  // "obj_create", "table_create", "file_create", "call_start", "call_end"
  std::string body;  // dead_letter_body_json(request)
};

struct OutboxEntry {
  uint64_t id = 0;  // increasing in append order; never reused within a file
  std::string kind;
  std::string body;
  int64_t appended_at_us = 0;  // Unix microseconds
};

class Outbox {
 public:
  // Opens (creating the file and schema if missing). max_bytes bounds the sum of the
  // stored bodies' sizes in bytes (0: no bound); a file already holding more opens, and
  // refuses appends until removals bring it under. failed_precondition, naming the path,
  // if the file cannot be created or opened (a missing directory, a read-only file), is
  // not an outbox (not SQLite, a foreign database, a newer format), or another process
  // (or Outbox) holds it; other SQLite failures map as in sqlite_store.cc.
  static Result<std::unique_ptr<Outbox>> open(const std::string& path, uint64_t max_bytes);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends all records in one transaction and writes their ids into `ids` (resized), or
  // appends none and leaves `ids` empty: resource_exhausted when they would take the
  // stored bytes past max_bytes (reaching it exactly is allowed; the message says bytes
  // used of the cap and how many records of how many bytes were refused),
  // unavailable/resource_exhausted for an I/O error or a full disk (SQLite codes mapped as
  // sqlite_store.cc maps them). All records of a batch get the same appended_at. An empty
  // batch is a no-op.
  Status append(std::span<const OutboxRecord> records, std::vector<uint64_t>& ids);
  // Removes the entries (ids not present, or repeated, are ignored), in one transaction;
  // depth() and bytes() drop by exactly what was removed. On failure nothing is removed.
  Status remove(std::span<const uint64_t> ids);
  // Every entry with id > after, in id order, at most `limit` of them (for replay in chunks:
  // pass the last id read as `after`). limit 0 gives none.
  Result<std::vector<OutboxEntry>> read(uint64_t after, size_t limit) const;

  uint64_t depth() const;  // entries stored
  uint64_t bytes() const;  // sum of their bodies' sizes
  const std::string& path() const;

 private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
