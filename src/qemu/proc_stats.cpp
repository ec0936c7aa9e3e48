// vmm internal (QEMU backend): /proc parsers (see proc_stats.hpp).
#include "qemu/proc_stats.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <vector>

namespace vmm::qemu {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t begin = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > begin) out.push_back(text.substr(begin, i - begin));
  }
  return out;
}

}  // namespace

std::optional<CpuTicks> parse_proc_stat_cpu(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto rest = stat.substr(close + 1);
  if (const auto newline = rest.find('\n'); newline != std::string_view::npos) {
    rest = rest.substr(0, newline);
  }
  const auto f = fields(rest);  // f[0] is field 3 (state)
  if (f.size() < 13) return std::nullopt;
  const auto user = number(f[11]);
  const auto system = number(f[12]);
  if (!user || !system) return std::nullopt;
  return CpuTicks{*user, *system};
}

std::optional<std::uint64_t> parse_kib_field(std::string_view text, std::string_view key) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
        line[key.size()] != ':') {
      continue;
    }
    const auto f = fields(line.substr(key.size() + 1));
    if (f.size() != 2 || f[1] != "kB") return std::nullopt;
    const auto kib = number(f[0]);
    if (!kib || *kib > (UINT64_MAX >> 10)) return std::nullopt;
    return *kib * 1024;
  }
  return std::nullopt;
}

std::optional<InterfaceCounters> parse_net_dev(std::string_view net_dev, std::string_view ifname) {
  std::size_t begin = 0;
  while (begin < net_dev.size()) {
    std::size_t end = net_dev.find('\n', begin);
    if (end == std::string_view::npos) end = net_dev.size();
    const auto line = net_dev.substr(begin, end - begin);
    begin = end + 1;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto name = fields(line.substr(0, colon));
    if (name.size() != 1 || name[0] != ifname) continue;
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets ...
    const auto f = fields(line.substr(colon + 1));
    if (f.size() < 10) return std::nullopt;
    const auto rx_bytes = number(f[0]);
    const auto rx_packets = number(f[1]);
    const auto tx_bytes = number(f[8]);
    const auto tx_packets = number(f[9]);
    if (!rx_bytes || !rx_packets || !tx_bytes || !tx_packets) return std::nullopt;
    return InterfaceCounters{*rx_bytes, *rx_packets, *tx_bytes, *tx_packets};
  }
  return std::nullopt;
}

std::optional<std::string> read_proc_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace vmm::qemu
