// vmm internal: strict reading of JSON objects: every field has a known name and type, and every
// error names its JSON path ("$.disks[1].caching: expected a string, got 3").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::detail {

// Parses a whole JSON document. Every nlohmann failure (syntax, a number literal too large for a
// double, ...) is an invalid_config error "<what> is malformed ...", never an exception.
Result<nlohmann::json> parse_json_document(std::string_view text, std::string_view what);

// Thrown inside the readers only; caught at their entry points and turned into a Result.
struct JsonPathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string json_type_name(const nlohmann::json& value);
[[noreturn]] void json_fail(const std::string& path, std::string_view message);

// A JSON object at `path`, whose fields must all be among `allowed`.
class JsonObject {
 public:
  JsonObject(const nlohmann::json& value, std::string path,
             std::initializer_list<std::string_view> allowed);

  bool has(std::string_view key) const;
  std::string path_of(std::string_view key) const;
  const nlohmann::json& at(std::string_view key) const;  // required

  std::string string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  bool boolean(std::string_view key, bool fallback) const;
  std::uint64_t unsigned_integer(std::string_view key, std::uint64_t max) const;
  std::optional<std::uint64_t> optional_unsigned(std::string_view key, std::uint64_t max) const;
  std::int64_t integer(std::string_view key) const;

 private:
  const nlohmann::json& value_;
  std::string path_;
};

}  // namespace vmm::detail
