// DeadLetterFile: where the store writer puts requests it could not write, one JSON line
// each, so that `weft replay` can write them later.
//
// A line (compact JSON, '\n'-terminated; embedded values keep their canonical ", "
// separators and may hold NaN/Infinity, as Python's json writes and reads them):
//
//   {"at":"2026-11-27T10:38:23.123456Z","kind":"call_end","code":"unavailable",
//    "reason":"database is locked","attempts":3,"body":{"end":{...},"weft":{...}}}
//
//   at        when the request was given up, ISO-8601 UTC with microseconds
//   kind      obj_create, table_create, file_create, call_start or call_end
//   code      the failure's StatusCode in snake case: invalid_argument, unavailable, ...
//   reason    the failure's message
//   attempts  how many times the store was tried
//   body      dead_letter_body_json(request): the Weave request body plus the "weft"
//             member holding what it leaves out (runtime/stores/request_body.h)
//
// Rotation: a line that would take the file past max_bytes first moves path to path.1,
// path.1 to path.2, ... keeping max_files files in all (path included; the oldest is
// dropped), so the files never hold much more than max_files * max_bytes. A line longer
// than max_bytes still goes into a file of its own. Nothing is created until the first
// append; an existing file is appended to.
//
// Threads: one DeadLetterFile belongs to one thread (the store writer's). It has no locks
// and none of its members may be called concurrently, counters included.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <weft/status.h>
#include <weft/store_requests.h>

#include "runtime/stores/request_body.h"

namespace weft {

// One line of a dead-letter file, read back.
struct DeadLetterEntry {
  size_t line = 0;              // 1-based line number in its file
  int64_t at_unix_micros = 0;   // "at"
  std::string kind;             // "call_end"
  StatusCode code = StatusCode::kInternal;
  std::string reason;
  uint32_t attempts = 0;
  StoreRequest request;
};

// "invalid_argument", "resource_exhausted", ...: status_code_name with '_' for ' '.
std::string status_code_id(StatusCode code);
std::optional<StatusCode> parse_status_code_id(std::string_view id);

class DeadLetterFile {
 public:
  static constexpr uint32_t kDefaultMaxFiles = 3;

  // max_files counts path itself; 0 is taken as 1 (rotation then discards the old lines).
  DeadLetterFile(std::string path, uint64_t max_bytes, uint32_t max_files = kDefaultMaxFiles);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  // Writes r's line (at = now) and flushes it to the OS (fwrite + fflush; no fsync).
  // Errors: the file cannot be opened or rotated (failed_precondition for a path we may
  // not write, else internal); a full disk or quota (resource_exhausted); other write
  // errors (internal). A failed append is counted, and the file is closed: the next
  // append opens it again, first ending any partial line left behind with '\n' (so the
  // reader reports that one line as bad and reads the rest).
  Status append(const StoreRequest& r, const Status& reason, uint32_t attempts);
  // The same with a given "at" (microseconds since the Unix epoch).
  Status append(const StoreRequest& r, const Status& reason, uint32_t attempts,
                int64_t at_unix_micros);

  // Lines appended, per request kind (the StoreRequest variant index, < kRequestKindCount).
  uint64_t written(size_t kind_index) const { return written_[kind_index]; }
  uint64_t written_total() const;
  uint64_t failed_appends() const { return failed_appends_; }
  uint64_t rotations() const { return rotations_; }
  const std::string& path() const { return path_; }

  // Every entry of a dead-letter file, in order. The first bad line fails the whole read
  // with "PATH: line N: why"; DeadLetterReader reads past bad lines.
  static Result<std::vector<DeadLetterEntry>> read(const std::string& path);

 private:
  Status open_file();
  Status rotate();
  Status fail(Status st);  // counts st, closes the file, returns st

  std::string path_;
  uint64_t max_bytes_;
  uint32_t max_files_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;  // bytes in the open file
  std::array<uint64_t, kRequestKindCount> written_{};
  uint64_t failed_appends_ = 0;
  uint64_t rotations_ = 0;
};

// Reads a dead-letter file a line at a time (bounded memory, whatever the file's size).
class DeadLetterReader {
 public:
  // failed_precondition (or not_found) when the file cannot be opened.
  static Result<DeadLetterReader> open(const std::string& path);
  ~DeadLetterReader();
  DeadLetterReader(DeadLetterReader&& other) noexcept;
  DeadLetterReader& operator=(DeadLetterReader&&) = delete;
  DeadLetterReader(const DeadLetterReader&) = delete;

  // The next entry, or nullopt at the end of the file. A bad line gives invalid_argument
  // "line N: why" and the next call goes on with the line after it. Blank lines are skipped.
  Result<std::optional<DeadLetterEntry>> next();
  // The number of the line read last.
  size_t line() const { return line_; }

 private:
  explicit DeadLetterReader(std::FILE* file) : file_(file) {}
  std::FILE* file_;
  size_t line_ = 0;
  char* buffer_ = nullptr;  // getline's, grown to the longest line
  size_t capacity_ = 0;
};

// Parses one line of a dead-letter file (without its '\n'); `line` goes into the entry.
Result<DeadLetterEntry> parse_dead_letter_line(std::string_view text, size_t line = 0);

}  // namespace weft
