// vmm: error codes, the Error value and Result<T>, a std::expected-shaped return type.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace vmm {

// What kind of failure. Stable: callers switch on it.
enum class Errc {
  invalid_config,  // a VmConfig field, JSON document or manifest is wrong
  invalid_state,   // the operation is not allowed in the VM's current state
  unsupported,     // this backend, host or OS version cannot do it
  not_found,       // a file, binary or device does not exist
  io,              // reading or writing a file or socket failed
  backend,         // the hypervisor reported a failure or died
  timeout,         // the hypervisor did not answer in time
  cancelled,       // the operation was abandoned (e.g. the VM was destroyed)
};

std::string_view to_string(Errc code) noexcept;

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "invalid_config: cpus: 0 is below the minimum of 1"
  std::string to_string() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  Errc code_;
  std::string message_;
};

// Wraps an Error so that Result<T> can be built from it unambiguously, as std::unexpected does.
class Unexpected {
 public:
  explicit Unexpected(Error error) : error_(std::move(error)) {}
  const Error& error() const& noexcept { return error_; }
  Error&& error() && noexcept { return std::move(error_); }

 private:
  Error error_;
};

inline Unexpected make_error(Errc code, std::string message) {
  return Unexpected(Error(code, std::move(message)));
}

// The std::expected<T, Error> shape, for C++20. Accessing the wrong alternative is a
// programming error and asserts; check has_value() / operator bool first.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Result> &&
                                        !std::is_same_v<std::decay_t<U>, Unexpected> &&
                                        !std::is_same_v<std::decay_t<U>, Error>>>
  Result(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Unexpected e) : storage_(std::in_place_index<1>, std::move(e).error()) {}  // NOLINT
  Result(Error e) : storage_(std::in_place_index<1>, std::move(e)) {}               // NOLINT

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(storage_));
  }

  T& operator*() & { return checked(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T& checked() {
    assert(has_value());
    return std::get<0>(storage_);
  }
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Unexpected e) : error_(std::move(e).error()), failed_(true) {}  // NOLINT
  Result(Error e) : error_(std::move(e)), failed_(true) {}               // NOLINT

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const { assert(!failed_); }
  void operator*() const { assert(!failed_); }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  Error error_{Errc::backend, {}};
  bool failed_ = false;
};

}  // namespace vmm
