// The dead-letter file (see dead_letter.h): one JSON line per request, written with
// stdio and flushed per line, rotated by renaming.
#include "runtime/core/dead_letter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include <weft/ids.h>
#include <weft/json.h>

#include "runtime/model/json_escape.h"

namespace weft {
namespace {

// What kind of failure an errno is: a full disk (or quota, or out of descriptors) is a
// limit; a path we may not write, or that does not lead anywhere, is a precondition.
Status errno_status(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return Status::resource_exhausted(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case ETXTBSY:
      return Status::failed_precondition(std::move(message));
    default:
      return Status::internal(std::move(message));
  }
}

// The body and the line nest a few levels above the embedded values, which may be as deep
// as weft's writer made them: no limit beyond the text's own (the parser uses no stack).
ParseOptions unlimited_depth() {
  ParseOptions options;
  options.max_depth = std::numeric_limits<size_t>::max() - 8;
  return options;
}

}  // namespace

std::string status_code_id(StatusCode code) {
  std::string id = status_code_name(code);
  std::replace(id.begin(), id.end(), ' ', '_');
  return id;
}

std::optional<StatusCode> parse_status_code_id(std::string_view id) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    const auto code = static_cast<StatusCode>(c);
    if (status_code_id(code) == id) return code;
  }
  return std::nullopt;
}

// --- Writing ---------------------------------------------------------------------------

DeadLetterFile::DeadLetterFile(std::string path, uint64_t max_bytes, uint32_t max_files)
    : path_(std::move(path)), max_bytes_(max_bytes), max_files_(std::max<uint32_t>(max_files, 1)) {}

DeadLetterFile::~DeadLetterFile() {
  if (file_) std::fclose(file_);
}

uint64_t DeadLetterFile::written_total() const {
  uint64_t total = 0;
  for (uint64_t n : written_) total += n;
  return total;
}

Status DeadLetterFile::append(const StoreRequest& r, const Status& reason, uint32_t attempts) {
  return append(r, reason, attempts, now_unix_micros());
}

Status DeadLetterFile::append(const StoreRequest& r, const Status& reason, uint32_t attempts,
                              int64_t at_unix_micros) {
  std::string line = "{\"at\":";
  append_json_string(format_iso8601_micros(at_unix_micros), line);
  line += ",\"kind\":";
  append_json_string(request_kind_name(r), line);
  line += ",\"code\":";
  append_json_string(status_code_id(reason.code()), line);
  line += ",\"reason\":";
  append_json_string(reason.message(), line);
  line += ",\"attempts\":";
  line += std::to_string(attempts);
  line += ",\"body\":";
  line += dead_letter_body_json(r);
  line += '}';
  // Valid JSON has line breaks only as whitespace between tokens (inside strings they are
  // escaped), and weft's canonical text has none at all: a space keeps the line one line.
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::replace(line.begin(), line.end(), '\r', ' ');
  line += '\n';

  if (!file_) {
    if (Status st = open_file(); !st) return fail(std::move(st));
  }
  if (size_ > 0 && size_ + line.size() > max_bytes_) {
    if (Status st = rotate(); !st) return fail(std::move(st));
  }
  errno = 0;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    const int err = errno != 0 ? errno : EIO;
    return fail(errno_status(err, "cannot write dead-letter file " + path_));
  }
  size_ += line.size();
  ++written_[r.index()];
  return Status::ok();
}

Status DeadLetterFile::open_file() {
  // "a+": appends, and lets us look at the last byte of what is there.
  std::FILE* f = std::fopen(path_.c_str(), "a+b");
  if (!f) return errno_status(errno, "cannot open dead-letter file " + path_);
  struct stat st {};
  uint64_t size = 0;
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode))
    size = static_cast<uint64_t>(st.st_size);
  // A line cut short (a full disk, a crash) would swallow the next one: end it first, so
  // that it alone reads as bad.
  char last = '\n';
  if (size > 0 && ::pread(::fileno(f), &last, 1, static_cast<off_t>(size - 1)) == 1 &&
      last != '\n') {
    errno = 0;
    if (std::fputc('\n', f) == EOF || std::fflush(f) != 0) {
      const int err = errno != 0 ? errno : EIO;
      std::fclose(f);
      return errno_status(err, "cannot write dead-letter file " + path_);
    }
    ++size;
  }
  file_ = f;
  size_ = size;
  return Status::ok();
}

Status DeadLetterFile::rotate() {
  std::fclose(file_);  // everything in it was flushed line by line
  file_ = nullptr;
  if (max_files_ == 1) {
    if (std::remove(path_.c_str()) != 0 && errno != ENOENT)
      return errno_status(errno, "cannot rotate dead-letter file " + path_);
  }
  // path.(N-2) -> path.(N-1) (replacing the oldest), ..., path -> path.1.
  for (uint32_t k = max_files_ - 1; k >= 1; --k) {
    const std::string from = k == 1 ? path_ : path_ + "." + std::to_string(k - 1);
    const std::string to = path_ + "." + std::to_string(k);
    if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
      return errno_status(errno, "cannot rotate dead-letter file " + from + " to " + to);
  }
  ++rotations_;
  return open_file();
}

Status DeadLetterFile::fail(Status st) {
  ++failed_appends_;
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  return st;
}

// --- Reading ---------------------------------------------------------------------------

Result<DeadLetterEntry> parse_dead_letter_line(std::string_view text, size_t line) {
  Result<Value> parsed = parse_json(text, unlimited_depth());
  if (!parsed) return parsed.status();
  const Value& v = *parsed;
  if (v.kind() != ValueKind::kDict) return Status::invalid_argument("expected a JSON object");
  auto string_member = [&v](std::string_view key) -> Result<std::string> {
    const Value* m = v.find(key);
    if (!m || m->kind() != ValueKind::kString)
      return Status::invalid_argument(std::string(key) + (m ? ": expected a string" : ": missing"));
    return std::string(m->as_string());
  };

  DeadLetterEntry e;
  e.line = line;
  Result<std::string> at = string_member("at");
  if (!at) return at.status();
  std::optional<int64_t> at_us = parse_iso8601_micros(*at);
  if (!at_us)
    return Status::invalid_argument("at: expected a time like 2026-11-27T10:38:23.123456Z");
  e.at_unix_micros = *at_us;

  Result<std::string> kind = string_member("kind");
  if (!kind) return kind.status();
  e.kind = std::move(kind).value();

  Result<std::string> code = string_member("code");
  if (!code) return code.status();
  std::optional<StatusCode> c = parse_status_code_id(*code);
  if (!c) return Status::invalid_argument("code: unknown status code '" + *code + "'");
  e.code = *c;

  Result<std::string> reason = string_member("reason");
  if (!reason) return reason.status();
  e.reason = std::move(reason).value();

  const Value* attempts = v.find("attempts");
  if (!attempts || attempts->kind() != ValueKind::kInt || attempts->as_int() < 0 ||
      attempts->as_int() > std::numeric_limits<uint32_t>::max())
    return Status::invalid_argument(attempts ? "attempts: expected an integer in [0, 2^32)"
                                             : "attempts: missing");
  e.attempts = static_cast<uint32_t>(attempts->as_int());

  const Value* body = v.find("body");
  if (!body) return Status::invalid_argument("body: missing");
  Result<StoreRequest> request = parse_request_body(e.kind, *body);
  if (!request) return request.status();
  e.request = std::move(request).value();
  return e;
}

Result<DeadLetterReader> DeadLetterReader::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    const int err = errno;
    const std::string what = "cannot open dead-letter file " + path;
    if (err == ENOENT) return Status::not_found(what + ": " + std::strerror(err));
    return errno_status(err, what);
  }
  return DeadLetterReader(f);
}

DeadLetterReader::DeadLetterReader(DeadLetterReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      line_(other.line_),
      buffer_(std::exchange(other.buffer_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)) {}

DeadLetterReader::~DeadLetterReader() {
  if (file_) std::fclose(file_);
  std::free(buffer_);
}

Result<std::optional<DeadLetterEntry>> DeadLetterReader::next() {
  while (true) {
    errno = 0;
    const ssize_t n = ::getline(&buffer_, &capacity_, file_);
    if (n < 0) {
      if (std::ferror(file_))
        return errno_status(errno != 0 ? errno : EIO,
                            "cannot read line " + std::to_string(line_ + 1));
      return std::optional<DeadLetterEntry>();
    }
    ++line_;
    std::string_view text(buffer_, static_cast<size_t>(n));
    if (text.ends_with('\n')) text.remove_suffix(1);
    if (text.ends_with('\r')) text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
    Result<DeadLetterEntry> e = parse_dead_letter_line(text, line_);
    if (!e) return e.status().with_context("line " + std::to_string(line_));
    return std::optional<DeadLetterEntry>(std::move(e).value());
  }
}

Result<std::vector<DeadLetterEntry>> DeadLetterFile::read(const std::string& path) {
  Result<DeadLetterReader> reader = DeadLetterReader::open(path);
  if (!reader) return reader.status();
  std::vector<DeadLetterEntry> entries;
  while (true) {
    Result<std::optional<DeadLetterEntry>> e = reader->next();
    if (!e) return e.status().with_context(path);
    if (!*e) return entries;
    entries.push_back(std::move(**e));
  }
}

}  // namespace weft
