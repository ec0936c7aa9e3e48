// vmm internal (VZ backend, portable): the /var/db/dhcpd_leases reader (dhcp_leases.hpp).
#include "vz/dhcp_leases.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace vmm::vz {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "0x6763c1d4" (bootpd's form) or plain hex digits; nullopt when not a 64-bit hex number.
std::optional<std::uint64_t> parse_hex(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    const int digit = hex_digit(c);
    if (digit < 0) return std::nullopt;
    value = value * 16 + static_cast<std::uint64_t>(digit);
  }
  return value;
}

bool ipv4_address(const std::string& text) {
  in_addr parsed{};
  return ::inet_pton(AF_INET, text.c_str(), &parsed) == 1;
}

Unexpected malformed(std::size_t line, std::string_view what) {
  return make_error(Errc::invalid_config,
                    fmt::format("dhcpd_leases line {}: {}", line, what));
}

}  // namespace

std::optional<MacAddress> parse_lease_mac(std::string_view text) {
  MacAddress::Bytes bytes{};
  std::size_t octet = 0;
  std::size_t digits = 0;
  unsigned value = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ':') {
      if (digits == 0 || octet == bytes.size()) return std::nullopt;
      bytes[octet++] = static_cast<std::uint8_t>(value);
      digits = 0;
      value = 0;
      continue;
    }
    const int digit = hex_digit(text[i]);
    if (digit < 0 || ++digits > 2) return std::nullopt;
    value = value * 16 + static_cast<unsigned>(digit);
  }
  if (octet != bytes.size()) return std::nullopt;
  return MacAddress(bytes);
}

Result<std::vector<DhcpLease>> parse_dhcp_leases(std::string_view text) {
  std::vector<DhcpLease> leases;
  std::optional<DhcpLease> current;
  bool readable = false;  // the current block has a valid ip_address
  std::size_t number = 0;
  std::size_t opened_at = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty()) continue;
    if (line == "{") {
      if (current) {
        return malformed(number,
                         fmt::format("a block opens inside the block of line {}", opened_at));
      }
      current.emplace();
      readable = false;
      opened_at = number;
      continue;
    }
    if (line == "}") {
      if (!current) return malformed(number, "a block closes that was not opened");
      if (readable) leases.push_back(std::move(*current));
      current.reset();
      continue;
    }
    if (!current) return malformed(number, "text outside a lease block");
    const auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return malformed(number, "expected key=value");
    const auto key = trim(line.substr(0, equals));
    const auto value = trim(line.substr(equals + 1));
    if (key == "name") {
      current->name = std::string(value);
    } else if (key == "ip_address") {
      current->ip_address = std::string(value);
      readable = ipv4_address(current->ip_address);
    } else if (key == "hw_address") {
      // "<type>,<address>": only type 1 (Ethernet) is a MAC.
      const auto comma = value.find(',');
      if (comma != std::string_view::npos && trim(value.substr(0, comma)) == "1")
        current->hardware = parse_lease_mac(trim(value.substr(comma + 1)));
    } else if (key == "lease") {
      current->expires = parse_hex(value).value_or(0);
    }
    // Other keys (identifier, ...) are not needed for a lookup.
  }
  if (current) return malformed(opened_at, "a block is not closed");
  return leases;
}

std::optional<std::string> leased_address(const std::vector<DhcpLease>& leases,
                                          const MacAddress& mac) {
  const DhcpLease* newest = nullptr;
  for (const auto& lease : leases) {
    if (lease.hardware != mac) continue;
    if (newest == nullptr || lease.expires > newest->expires) newest = &lease;
  }
  if (newest == nullptr) return std::nullopt;
  return newest->ip_address;
}

Result<std::string> read_dhcp_leases(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return std::string();
    return make_error(Errc::io, fmt::format("cannot read {}", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, fmt::format("cannot read {}", path.string()));
  return text.str();
}

LeaseSource lease_file(std::filesystem::path path) {
  auto name = path.string();
  return LeaseSource{std::move(name), [path = std::move(path)] { return read_dhcp_leases(path); }};
}

Result<std::optional<std::string>> lookup_leased_address(const LeaseSource& source,
                                                         const MacAddress& mac) {
  auto text = source.read();
  if (!text) return text.error();
  auto leases = parse_dhcp_leases(*text);
  if (!leases) {
    return make_error(leases.error().code(),
                      fmt::format("{}: {}", source.name, leases.error().message()));
  }
  return leased_address(*leases, mac);
}

Result<std::optional<std::string>> lookup_leased_address(const std::filesystem::path& path,
                                                         const MacAddress& mac) {
  return lookup_leased_address(lease_file(path), mac);
}

}  // namespace vmm::vz
