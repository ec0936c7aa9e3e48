#include "qemu/host.hpp"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "vmm/format.hpp"

namespace vmm::qemu {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls f(key, value) for each "key : value" line until f returns true.
template <typename F>
void for_each_field(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (f(trim(line.substr(0, colon)), trim(line.substr(colon + 1)))) return;
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool is_executable(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

bool nested_enabled(const std::filesystem::path& parameter) {
  const auto text = read_text(parameter);
  return !text.empty() && (text[0] == 'Y' || text[0] == 'y' || text[0] == '1');
}

}  // namespace

bool cpuinfo_has_hardware_virtualization(std::string_view cpuinfo) {
  bool found = false;
  for_each_field(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key != "flags") return false;
    // Whole words only: "vmx" must not match inside another flag name.
    while (!value.empty()) {
      const auto space = value.find(' ');
      const auto word = value.substr(0, space);
      if (word == "vmx" || word == "svm") found = true;
      if (space == std::string_view::npos) break;
      value.remove_prefix(space + 1);
    }
    return true;  // the first processor's flags speak for the host
  });
  return found;
}

std::uint64_t cpuinfo_tsc_khz(std::string_view cpuinfo) {
  std::uint64_t khz = 0;
  for_each_field(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key != "cpu MHz") return false;
    // "2596.122" -> 2596122: integer arithmetic, no locale-dependent parsing.
    std::uint64_t whole = 0;
    std::uint64_t fraction = 0;
    int fraction_digits = 0;
    bool seen_dot = false;
    bool ok = !value.empty();
    for (const char c : value) {
      if (c == '.' && !seen_dot) {
        seen_dot = true;
      } else if (c >= '0' && c <= '9') {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (!seen_dot) {
          whole = whole * 10 + digit;
          if (whole > 1'000'000) ok = false;  // 1 THz: not a CPU
        } else if (fraction_digits < 3) {
          fraction = fraction * 10 + digit;
          ++fraction_digits;
        }
      } else {
        ok = false;
      }
    }
    while (fraction_digits < 3) {
      fraction *= 10;
      ++fraction_digits;
    }
    if (ok) khz = whole * 1000 + fraction;
    return true;
  });
  return khz;
}

Result<HostArch> host_arch_from_machine(std::string_view machine) {
  if (auto arch = parse_arch(machine)) return *arch;
  return make_error(Errc::unsupported,
                    fmt::format("host architecture {}: the QEMU backend runs x86_64 and aarch64 "
                                "hosts",
                                machine.empty() ? "(unknown)" : machine));
}

const QemuTarget& qemu_target(HostArch arch) noexcept {
  // Debian's 2 MiB OVMF build pairs OVMF_CODE.fd with OVMF_VARS.fd (the _4M files go
  // together); AAVMF's are the 64 MiB flash images QEMU's virt machine takes as they are.
  static constexpr QemuTarget x86_64{"qemu-system-x86_64", "qemu-system-x86",
                                     "/usr/share/OVMF/OVMF_CODE.fd",
                                     "/usr/share/OVMF/OVMF_VARS.fd", "ovmf"};
  static constexpr QemuTarget aarch64{"qemu-system-aarch64", "qemu-system-arm",
                                      "/usr/share/AAVMF/AAVMF_CODE.fd",
                                      "/usr/share/AAVMF/AAVMF_VARS.fd", "qemu-efi-aarch64"};
  return arch == HostArch::aarch64 ? aarch64 : x86_64;
}

Result<Acceleration> resolve_acceleration(Acceleration requested, bool kvm_opens,
                                          std::string_view cpuinfo, HostArch arch) {
  switch (requested) {
    case Acceleration::tcg:
      return Acceleration::tcg;
    case Acceleration::kvm:
      if (!kvm_opens) {
        return make_error(Errc::unsupported,
                          "acceleration kvm: /dev/kvm cannot be opened on this host");
      }
      return Acceleration::kvm;
    case Acceleration::hvf:
      return make_error(Errc::unsupported,
                        "acceleration hvf: the QEMU backend runs on Linux with kvm or tcg");
    case Acceleration::automatic:
      break;
  }
  const bool cpu_can = arch == HostArch::aarch64 || cpuinfo_has_hardware_virtualization(cpuinfo);
  return kvm_opens && cpu_can ? Acceleration::kvm : Acceleration::tcg;
}

Result<std::filesystem::path> find_executable(const std::filesystem::path& configured,
                                              std::string_view name, std::string_view path_env,
                                              std::string_view package) {
  if (!configured.empty()) {
    if (is_executable(configured)) return configured;
    return make_error(Errc::not_found, fmt::format("{} is not an executable file (install the "
                                                   "Debian package {})",
                                                   configured.string(), package));
  }
  while (!path_env.empty()) {
    const auto colon = path_env.find(':');
    const auto dir = path_env.substr(0, colon);
    path_env = colon == std::string_view::npos ? std::string_view{} : path_env.substr(colon + 1);
    if (dir.empty()) continue;  // an empty entry would mean the current directory: skip it
    const auto candidate = std::filesystem::path(dir) / name;
    if (is_executable(candidate)) return candidate;
  }
  return make_error(Errc::not_found, fmt::format("{} was not found on PATH (install the Debian "
                                                 "package {})",
                                                 name, package));
}

Result<QemuHostFacts> probe_host(const QemuOptions& options) {
  const char* path_env = std::getenv("PATH");
  const std::string_view path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  struct utsname host {};
  ::uname(&host);
  auto arch = host_arch_from_machine(host.machine);
  if (!arch) return std::move(arch).error();
  const QemuTarget& target = qemu_target(*arch);
  auto binary = find_executable(options.binary, target.binary, path, target.package);
  if (!binary) return std::move(binary).error();

  QemuHostFacts facts;
  facts.arch = *arch;
  facts.binary = *binary;
  const auto cpuinfo = read_text("/proc/cpuinfo");
  const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  const bool kvm_opens = kvm >= 0;
  if (kvm >= 0) ::close(kvm);
  auto acceleration = resolve_acceleration(options.acceleration, kvm_opens, cpuinfo, *arch);
  if (!acceleration) return std::move(acceleration).error();
  facts.acceleration = *acceleration;
  facts.tsc_khz = cpuinfo_tsc_khz(cpuinfo);
  facts.kvm_nested = nested_enabled("/sys/module/kvm_intel/parameters/nested") ||
                     nested_enabled("/sys/module/kvm_amd/parameters/nested");

  std::error_code ec;
  facts.vhost_vsock = std::filesystem::exists("/dev/vhost-vsock", ec);
  if (!options.virtiofsd.empty()) {
    if (is_executable(options.virtiofsd)) facts.virtiofsd = options.virtiofsd;
  } else if (is_executable("/usr/lib/qemu/virtiofsd")) {
    facts.virtiofsd = "/usr/lib/qemu/virtiofsd";
  } else if (auto found = find_executable({}, "virtiofsd", path, "qemu-system-common")) {
    facts.virtiofsd = *found;
  }
  if (std::filesystem::exists(target.firmware_code, ec) &&
      std::filesystem::exists(target.firmware_vars, ec)) {
    facts.ovmf_code = std::filesystem::path(target.firmware_code);
    facts.ovmf_vars = std::filesystem::path(target.firmware_vars);
  }
  return facts;
}

}  // namespace vmm::qemu
