#pragma once

// The error model of mlforge. Code that can fail for reasons outside the
// programmer's control returns Status or Result<T>; exceptions from third-party
// libraries are caught at the adapter that calls them and turned into a Status
// with context, so no exception crosses a subsystem boundary.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mlforge::core {

// The closed set of failure kinds. net/ maps each to an HTTP status.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kUnimplemented,
  kUnauthenticated,
  kPermissionDenied,
  kInternal,
};

// Stable upper-case name of a code, e.g. "INVALID_ARGUMENT".
const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // The same code with "context: " put in front of the message; OK stays OK.
  Status WithContext(const std::string& context) const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status UnimplementedError(std::string m) {
  return {StatusCode::kUnimplemented, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value of type T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : storage_(std::move(value)) {}        // NOLINT: implicit on purpose
  Result(Status status) : storage_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(storage_).ok() && "a Result holding a Status must hold an error");
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }

  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(storage_); }

  // Precondition: ok().
  T& value() & {
    assert(ok() && "value() called on a Result holding an error");
    return std::get<T>(storage_);
  }
  const T& value() const& {
    assert(ok() && "value() called on a Result holding an error");
    return std::get<T>(storage_);
  }
  T&& value() && {
    assert(ok() && "value() called on a Result holding an error");
    return std::get<T>(std::move(storage_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace mlforge::core

#define MLFORGE_CONCAT_INNER(a, b) a##b
#define MLFORGE_CONCAT(a, b) MLFORGE_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define MLFORGE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::mlforge::core::Status mlforge_status_ = (expr);  \
    if (!mlforge_status_.ok()) return mlforge_status_; \
  } while (0)

// Evaluates `expr` (a Result<T>); on error returns its Status, otherwise
// moves the value into `lhs`, which may be a declaration (`auto x`).
#define MLFORGE_ASSIGN_OR_RETURN(lhs, expr) \
  MLFORGE_ASSIGN_OR_RETURN_IMPL(MLFORGE_CONCAT(mlforge_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration.
#define MLFORGE_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return result.status();              \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
