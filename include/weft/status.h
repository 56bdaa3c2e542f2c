// Errors as values: Status for operations that return nothing, Result<T> for those that
// return a value. Each error carries a code (what kind of failure, for callers to branch on)
// and a message (for people). No exceptions cross weft's API boundary except where a
// function documents one (the Runtime constructor, builder misuse).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace weft {

// The kinds of failure, after the codes gRPC and Abseil use, so they read familiar.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the input is malformed: bad JSON, a bad ref, a bad project name
  kNotFound,            // the thing asked for does not exist (an object, a file, a call)
  kAlreadyExists,       // creating something that is there already
  kFailedPrecondition,  // the call is not valid in this state (a call finished twice)
  kResourceExhausted,   // a limit was hit: max_outstanding, memory, a full disk
  kUnavailable,         // transient: a locked store, a server that is down; retrying may help
  kDeadlineExceeded,    // the deadline passed before the operation completed
  kCancelled,           // the runtime was shut down underneath the operation
  kInternal,            // a broken invariant or an unexpected failure of a dependency
};

// "ok", "invalid argument", ... for messages.
constexpr const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDeadlineExceeded: return "deadline exceeded";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

class Status {
 public:
  Status() = default;  // OK
  // REQUIRES: code != kOk (an OK status has no message; use Status()).
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    if (code_ == StatusCode::kOk) code_ = StatusCode::kInternal;  // misuse is an error, not OK
  }

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status failed_precondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status resource_exhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status deadline_exceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  // "" for OK.
  const std::string& message() const { return message_; }
  // "invalid argument: bad ref ..." (or "ok").
  std::string to_string() const {
    return is_ok() ? "ok" : std::string(status_code_name(code_)) + ": " + message_;
  }
  // The same failure, with context in front: s.with_context("cannot open store") keeps the code.
  Status with_context(const std::string& context) const {
    return is_ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Thrown where weft's API documents an exception (the Runtime constructor): a
// std::runtime_error whose what() is status().to_string(), with the Status kept.
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status)
      : std::runtime_error(status.to_string()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}       // NOLINT: implicit on purpose
  Result(Status error) : v_(std::move(error)) {   // NOLINT: REQUIRES !error.is_ok()
    if (std::get<1>(v_).is_ok()) v_ = Status::internal("Result built from an OK status");
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  // OK when a value is held.
  Status status() const { return is_ok() ? Status() : std::get<1>(v_); }
  StatusCode code() const { return is_ok() ? StatusCode::kOk : std::get<1>(v_).code(); }
  // The error's message ("" when a value is held).
  const std::string& error() const {
    static const std::string kNone;
    return is_ok() ? kNone : std::get<1>(v_).message();
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace weft
