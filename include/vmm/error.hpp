// vmm: error codes, the Error value and Result<T>, a std::expected-shaped return type.
#pragma once

#include <cassert>
#include <functional>
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

template <typename T>
class Result;

namespace detail {
template <typename>
inline constexpr bool is_result = false;
template <typename T>
inline constexpr bool is_result<Result<T>> = true;
}  // namespace detail

// The std::expected<T, Error> shape, for C++20. Accessing the wrong alternative is a
// programming error and asserts; check has_value() / operator bool first.
// The monadic members (and_then, transform, or_else, transform_error) follow std::expected's
// semantics, with one difference: the error type is always vmm::Error, so transform_error's
// function maps an Error to an Error (or to something an Error is constructible from).
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = Error;
  template <typename U>
  using rebind = Result<U>;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Result> &&
                                        !std::is_same_v<std::decay_t<U>, Unexpected> &&
                                        !std::is_same_v<std::decay_t<U>, Error>>>
  Result(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Unexpected e) : storage_(std::in_place_index<1>, std::move(e).error()) {}  // NOLINT
  Result(Error e) : storage_(std::in_place_index<1>, std::move(e)) {}               // NOLINT
  // Builds the value in place (also a value of a type that converts to Error, unlike Result(U)).
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : storage_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }

  Error& error() & {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(storage_));
  }
  const Error&& error() const&& {
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
  template <typename U>
  T value_or(U&& fallback) && {
    return has_value() ? std::move(std::get<0>(storage_)) : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename G = Error>
  Error error_or(G&& fallback) const& {
    return has_value() ? static_cast<Error>(std::forward<G>(fallback)) : error();
  }
  template <typename G = Error>
  Error error_or(G&& fallback) && {
    return has_value() ? static_cast<Error>(std::forward<G>(fallback)) : std::move(*this).error();
  }

#define VMM_RESULT_MONADIC_(name)                                                              \
  template <typename F>                                                                        \
  auto name(F&& f)& { return name##_(*this, std::forward<F>(f)); }                             \
  template <typename F>                                                                        \
  auto name(F&& f) const& { return name##_(*this, std::forward<F>(f)); }                       \
  template <typename F>                                                                        \
  auto name(F&& f)&& { return name##_(std::move(*this), std::forward<F>(f)); }                 \
  template <typename F>                                                                        \
  auto name(F&& f) const&& { return name##_(std::move(*this), std::forward<F>(f)); }
  // Each in four overloads (&, const&, &&, const&&) as std::expected has them.
  VMM_RESULT_MONADIC_(and_then)
  VMM_RESULT_MONADIC_(transform)
  VMM_RESULT_MONADIC_(or_else)
  VMM_RESULT_MONADIC_(transform_error)

 private:
  // The value and the error with the value category of the Result itself (so that the monadic
  // members of an rvalue Result move, as std::expected's do).
  template <typename R>
  static decltype(auto) value_of(R&& r) {
    return std::get<0>(std::forward<R>(r).storage_);
  }
  template <typename R>
  static decltype(auto) error_of(R&& r) {
    return std::get<1>(std::forward<R>(r).storage_);
  }

  // f(value) -> Result<U>; an error passes through.
  template <typename Self, typename F>
  static auto and_then_(Self&& self, F&& f) {
    using U = std::remove_cvref_t<
        std::invoke_result_t<F, decltype(value_of(std::forward<Self>(self)))>>;
    static_assert(detail::is_result<U>, "and_then's function must return a vmm::Result");
    if (self.has_value()) return std::invoke(std::forward<F>(f), value_of(std::forward<Self>(self)));
    return U(error_of(std::forward<Self>(self)));
  }
  // f(value) -> U, wrapped in a Result<U> (U may be void); an error passes through.
  template <typename Self, typename F>
  static auto transform_(Self&& self, F&& f) {
    using U = std::remove_cv_t<
        std::invoke_result_t<F, decltype(value_of(std::forward<Self>(self)))>>;
    if (!self.has_value()) return Result<U>(error_of(std::forward<Self>(self)));
    if constexpr (std::is_void_v<U>) {
      std::invoke(std::forward<F>(f), value_of(std::forward<Self>(self)));
      return Result<U>();  // Result<void>, named through U so that it is looked up later
    } else {
      return Result<U>(std::in_place,
                       std::invoke(std::forward<F>(f), value_of(std::forward<Self>(self))));
    }
  }
  // f(error) -> Result<T>; a value passes through.
  template <typename Self, typename F>
  static auto or_else_(Self&& self, F&& f) {
    using G = std::remove_cvref_t<std::invoke_result_t<F, decltype(error_of(std::forward<Self>(self)))>>;
    static_assert(detail::is_result<G>, "or_else's function must return a vmm::Result");
    static_assert(std::is_same_v<typename G::value_type, T>,
                  "or_else's function must return a Result of the same value type");
    if (self.has_value()) return G(std::in_place, value_of(std::forward<Self>(self)));
    return std::invoke(std::forward<F>(f), error_of(std::forward<Self>(self)));
  }
  // f(error) -> something an Error is made from; a value passes through.
  template <typename Self, typename F>
  static Result transform_error_(Self&& self, F&& f) {
    if (self.has_value()) return Result(std::in_place, value_of(std::forward<Self>(self)));
    return Result(Error(std::invoke(std::forward<F>(f), error_of(std::forward<Self>(self)))));
  }

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

  using error_type = Error;
  template <typename U>
  using rebind = Result<U>;

  Result() = default;
  explicit Result(std::in_place_t) {}
  Result(Unexpected e) : error_(std::move(e).error()), failed_(true) {}  // NOLINT
  Result(Error e) : error_(std::move(e)), failed_(true) {}               // NOLINT

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const { assert(!failed_); }
  void operator*() const { assert(!failed_); }
  Error& error() & {
    assert(failed_);
    return error_;
  }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }
  const Error&& error() const&& {
    assert(failed_);
    return std::move(error_);
  }
  template <typename G = Error>
  Error error_or(G&& fallback) const& {
    return failed_ ? error_ : static_cast<Error>(std::forward<G>(fallback));
  }
  template <typename G = Error>
  Error error_or(G&& fallback) && {
    return failed_ ? std::move(error_) : static_cast<Error>(std::forward<G>(fallback));
  }

  VMM_RESULT_MONADIC_(and_then)
  VMM_RESULT_MONADIC_(transform)
  VMM_RESULT_MONADIC_(or_else)
  VMM_RESULT_MONADIC_(transform_error)
#undef VMM_RESULT_MONADIC_

 private:
  template <typename R>
  static decltype(auto) error_of(R&& r) {
    return (std::forward<R>(r).error_);
  }
  // As Result<T>'s, with functions that take no value.
  template <typename Self, typename F>
  static auto and_then_(Self&& self, F&& f) {
    using U = std::remove_cvref_t<std::invoke_result_t<F>>;
    static_assert(detail::is_result<U>, "and_then's function must return a vmm::Result");
    if (!self.failed_) return std::invoke(std::forward<F>(f));
    return U(error_of(std::forward<Self>(self)));
  }
  template <typename Self, typename F>
  static auto transform_(Self&& self, F&& f) {
    using U = std::remove_cv_t<std::invoke_result_t<F>>;
    if (self.failed_) return Result<U>(error_of(std::forward<Self>(self)));
    if constexpr (std::is_void_v<U>) {
      std::invoke(std::forward<F>(f));
      return Result<void>();
    } else {
      return Result<U>(std::in_place, std::invoke(std::forward<F>(f)));
    }
  }
  template <typename Self, typename F>
  static auto or_else_(Self&& self, F&& f) {
    using G = std::remove_cvref_t<std::invoke_result_t<F, decltype(error_of(std::forward<Self>(self)))>>;
    static_assert(std::is_same_v<G, Result<void>>, "or_else's function must return a Result<void>");
    if (!self.failed_) return G();
    return std::invoke(std::forward<F>(f), error_of(std::forward<Self>(self)));
  }
  template <typename Self, typename F>
  static Result transform_error_(Self&& self, F&& f) {
    if (!self.failed_) return Result();
    return Result(Error(std::invoke(std::forward<F>(f), error_of(std::forward<Self>(self)))));
  }

  Error error_{Errc::backend, {}};
  bool failed_ = false;
};

}  // namespace vmm
