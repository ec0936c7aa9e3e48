// MacAddress::parse on arbitrary text. On success: to_string() is the input in lower case
// (the grammar has exactly one spelling per address up to case), parses back to the same
// address, and the address is unicast and non-zero. On failure: the input is not of that
// grammar, or names a multicast or all-zero address.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "vmm/mac_address.hpp"

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An independent reading of "six two-digit hex groups separated by ':'".
bool well_formed(std::string_view text) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool ok =
        i % 3 == 2 ? text[i] == ':' : std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = vmm::MacAddress::parse(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code() == vmm::Errc::invalid_config, parsed.error().to_string());
    if (well_formed(text)) {
      const auto first = std::stoi(std::string(text.substr(0, 2)), nullptr, 16);
      const bool zero = lower(text) == "00:00:00:00:00:00";
      FUZZ_CHECK((first & 1) != 0 || zero, "well-formed unicast address rejected");
    }
    return 0;
  }
  const auto& mac = *parsed;
  const auto spelled = mac.to_string();
  FUZZ_CHECK(well_formed(text), "accepted text outside the grammar");
  FUZZ_CHECK(spelled == lower(text), spelled);
  FUZZ_CHECK(!mac.is_multicast(), spelled);
  FUZZ_CHECK(mac != vmm::MacAddress(), spelled);
  const auto again = vmm::MacAddress::parse(spelled);
  FUZZ_CHECK(again.has_value() && *again == mac, spelled);
  return 0;
}
