// Status and Result: how every module reports failure across its boundary.
// Domain codes, not HTTP codes; api/ maps them to responses in one place.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace octohub {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the caller's input is wrong (bad query, invalid document)
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the system is not in a state to do this
  kUnavailable,         // a dependency (PostgreSQL, upstream API, index) cannot be reached
  kDeadlineExceeded,
  kResourceExhausted,
  kCancelled,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

// One problem in a submitted document: where (RFC 6901 JSON Pointer) and why.
struct FieldError {
  std::string pointer;
  std::string reason;
  bool operator==(const FieldError&) const = default;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::vector<FieldError> field_errors = {})
      : code_(code), message_(std::move(message)), field_errors_(std::move(field_errors)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<FieldError>& field_errors() const { return field_errors_; }

  // "context: message", keeping the code; for adding where a failure happened.
  Status WithContext(const std::string& context) const {
    return Status(code_, context + ": " + message_, field_errors_);
  }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<FieldError> field_errors_;
};

inline Status InvalidArgument(std::string m, std::vector<FieldError> e = {}) {
  return {StatusCode::kInvalidArgument, std::move(m), std::move(e)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status explaining why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace octohub
