#include "config/json_reader.hpp"

#include <fmt/format.h>

namespace vmm::detail {

std::string json_type_name(const nlohmann::json& value) {
  if (value.is_number_unsigned() || value.is_number_integer()) return "an integer";
  if (value.is_number_float()) return "a number with a fraction";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  if (value.is_array()) return "an array";
  return "an object";
}

Result<nlohmann::json> parse_json_document(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(Errc::invalid_config,
                      fmt::format("{} is malformed at byte {}: {}", what, e.byte, e.what()));
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406: a number literal too large for a double ("1e999").
    return make_error(Errc::invalid_config, fmt::format("{} is malformed: {}", what, e.what()));
  }
}

void json_fail(const std::string& path, std::string_view message) {
  throw JsonPathError(fmt::format("{}: {}", path, message));
}

JsonObject::JsonObject(const nlohmann::json& value, std::string path,
                       std::initializer_list<std::string_view> allowed)
    : value_(value), path_(std::move(path)) {
  if (!value_.is_object()) json_fail(path_, "expected an object, got " + json_type_name(value_));
  for (const auto& item : value_.items()) {
    bool known = false;
    for (auto name : allowed) known = known || name == item.key();
    if (!known) json_fail(path_of(item.key()), "unknown field");
  }
}

bool JsonObject::has(std::string_view key) const {
  return value_.contains(std::string(key));
}

std::string JsonObject::path_of(std::string_view key) const {
  return fmt::format("{}.{}", path_, key);
}

const nlohmann::json& JsonObject::at(std::string_view key) const {
  const auto it = value_.find(std::string(key));
  if (it == value_.end()) json_fail(path_of(key), "missing required field");
  return *it;
}

std::string JsonObject::string(std::string_view key) const {
  const auto& v = at(key);
  if (!v.is_string()) json_fail(path_of(key), "expected a string, got " + json_type_name(v));
  return v.get<std::string>();
}

std::optional<std::string> JsonObject::optional_string(std::string_view key) const {
  if (!has(key) || at(key).is_null()) return std::nullopt;
  return string(key);
}

bool JsonObject::boolean(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = at(key);
  if (!v.is_boolean()) json_fail(path_of(key), "expected a boolean, got " + json_type_name(v));
  return v.get<bool>();
}

std::uint64_t JsonObject::unsigned_integer(std::string_view key, std::uint64_t max) const {
  const auto& v = at(key);
  if (!v.is_number_integer())
    json_fail(path_of(key), "expected a non-negative integer, got " + json_type_name(v));
  if (v.is_number_unsigned()) {
    const auto n = v.get<std::uint64_t>();
    if (n <= max) return n;
  } else if (v.get<std::int64_t>() >= 0 && static_cast<std::uint64_t>(v.get<std::int64_t>()) <= max) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  // Type limits are not ranges a user chose: say which bound was crossed, not "0..4294967295".
  if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) {
    json_fail(path_of(key), fmt::format("{} is negative", v.dump()));
  }
  json_fail(path_of(key), fmt::format("{} is above the maximum of {}", v.dump(), max));
}

std::optional<std::uint64_t> JsonObject::optional_unsigned(std::string_view key,
                                                           std::uint64_t max) const {
  if (!has(key)) return std::nullopt;
  return unsigned_integer(key, max);
}

std::int64_t JsonObject::integer(std::string_view key) const {
  const auto& v = at(key);
  if (!v.is_number_integer()) json_fail(path_of(key), "expected an integer, got " + json_type_name(v));
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    json_fail(path_of(key), "integer out of range");
  return v.get<std::int64_t>();
}

}  // namespace vmm::detail
