// Outbox: the remote store's durable queue. A request is appended (in one transaction with
// the rest of its batch) before it is sent, and removed once the server acknowledged it or
// it was dead-lettered; what is still there when the process dies (kill -9 included) is
// delivered by the next remote store opened on the same file, or by `weft replay --outbox`.
//
// Backed by SQLite in WAL mode with synchronous=NORMAL (a committed append survives a
// process kill; docs/ARCHITECTURE.md#the-outbox says why SQLite and not a segment log).
// One writer: an Outbox is used from one thread at a time (the store writer's), and the
// file is locked against a second process opening it (failed_precondition, naming it).
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
  // stored bodies' sizes (0: no bound). failed_precondition if the file cannot be created
  // or opened, is not an outbox, or another process holds it.
  static Result<std::unique_ptr<Outbox>> open(const std::string& path, uint64_t max_bytes);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends all records in one transaction and writes their ids into `ids` (resized), or
  // appends none: resource_exhausted when they would take the stored bytes past max_bytes
  // (the message says how full it is), unavailable/resource_exhausted for a busy or full
  // disk (SQLite codes mapped as sqlite_store.cc maps them).
  Status append(std::span<const OutboxRecord> records, std::vector<uint64_t>& ids);
  // Removes the entries (ids not present are ignored), in one transaction.
  Status remove(std::span<const uint64_t> ids);
  // Every entry with id > after, in id order, at most `limit` of them (for replay in chunks).
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
