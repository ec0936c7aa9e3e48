// VmConfig JSON on arbitrary bytes, through two doors:
//  - the public VmConfig::from_json, which also checks the host (files exist, fds are open), so
//    most inputs stop at validation;
//  - detail::config_from_json with HostChecks::off (the snapshot-manifest path), where every
//    structurally valid document gets through, so the reader and the value rules are deep.
// Properties: any accepted config survives to_json -> from_json unchanged (and the second
// to_json is byte-identical); no accepted string holds a NUL byte (paths, tags, command lines
// and names all reach C APIs or argv, which would silently cut them there); a config the
// host-checked reader accepts is accepted without host checks too; every rejection is an
// invalid_config error naming a JSON path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/json.hpp"
#include "fuzz_check.hpp"
#include "vmm/config.hpp"

namespace {

using vmm::detail::HostChecks;

void check_rejection(const vmm::Error& error) {
  FUZZ_CHECK(error.code() == vmm::Errc::invalid_config, error.to_string());
  const auto& message = error.message();
  FUZZ_CHECK(message.rfind("$", 0) == 0 || message.rfind("config JSON is malformed", 0) == 0,
             "error does not name a JSON path: " + message);
}

// Every key and string value in the written document, recursively.
bool has_nul(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (value.is_array()) {
    for (const auto& item : value)
      if (has_nul(item)) return true;
  }
  if (value.is_object()) {
    for (const auto& item : value.items())
      if (item.key().find('\0') != std::string::npos || has_nul(item.value())) return true;
  }
  return false;
}

// to_json -> parse -> read gives the same config, and writing it again gives the same text.
void check_round_trip(const vmm::VmConfig& config, HostChecks host) {
  const auto text = config.to_json();
  const auto document = nlohmann::json::parse(text);  // our own output must be JSON
  FUZZ_CHECK(!has_nul(document), "accepted a string with a NUL byte:\n" + text);
  const auto again = vmm::detail::config_from_json(document, host);
  FUZZ_CHECK(again.has_value(),
             "written config rejected: " + again.error().message() + "\n" + text);
  FUZZ_CHECK(*again == config, "round trip changed the config:\n" + text + "\n" + again->to_json());
  FUZZ_CHECK(again->to_json() == text, "second to_json differs:\n" + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto checked = vmm::VmConfig::from_json(text);
  if (checked) {
    check_round_trip(*checked, HostChecks::on);
  } else {
    check_rejection(checked.error());
  }

  const auto document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return 0;
  const auto structural = vmm::detail::config_from_json(document, HostChecks::off);
  if (!structural) {
    check_rejection(structural.error());
    FUZZ_CHECK(!checked,
               "accepted with host checks but not without: " + structural.error().message());
    return 0;
  }
  check_round_trip(*structural, HostChecks::off);
  return 0;
}
