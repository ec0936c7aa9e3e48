// vmm::vfkit::parse_command_line on arbitrary argument lists (the input split at NUL bytes).
// Properties: no crash and no exception escapes; an error is invalid_config or unsupported
// (or the builder's own code for a file it checked); an accepted machine either has canonical
// arguments that read back to the same machine and settings, or is named as inexpressible.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "vmm/vfkit.hpp"

namespace {

// The config without a generated machine identifier, which vfkit has no flag for.
nlohmann::json comparable(const vmm::VmConfig& config) {
  auto json = nlohmann::json::parse(config.to_json());
  if (config.machine_identifier_generated()) json.erase("machine_identifier");
  return json;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.emplace_back();
    else args.back() += static_cast<char>(data[i]);
  }
  if (args.size() > 64) return -1;
  auto parsed = vmm::vfkit::parse_command_line(args);
  if (!parsed) {
    const auto code = parsed.error().code();
    FUZZ_CHECK(code == vmm::Errc::invalid_config || code == vmm::Errc::unsupported ||
                   code == vmm::Errc::not_found || code == vmm::Errc::io,
               parsed.error().to_string());
    FUZZ_CHECK(!parsed.error().message().empty(), "an empty error message");
    return 0;
  }
  if (!parsed->config) return 0;
  auto written = vmm::vfkit::to_command_line(*parsed->config, parsed->settings);
  if (!written) {
    FUZZ_CHECK(written.error().code() == vmm::Errc::invalid_config &&
                   written.error().message().find("vfkit arguments cannot express") != std::string::npos,
               written.error().to_string());
    return 0;
  }
  auto back = vmm::vfkit::parse_command_line(*written);
  FUZZ_CHECK(back.has_value(), back ? "" : back.error().to_string());
  FUZZ_CHECK(back->config.has_value(), "the canonical arguments describe no machine");
  FUZZ_CHECK(comparable(*back->config) == comparable(*parsed->config), comparable(*back->config).dump());
  FUZZ_CHECK(back->settings == parsed->settings, "the settings differ after a round trip");
  auto again = vmm::vfkit::to_command_line(*back->config, back->settings);
  FUZZ_CHECK(again.has_value() && *again == *written, "the canonical arguments are not canonical");
  return 0;
}
