#include "common/host_facts.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>


namespace vmm_bench {

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<pid_t> child_qemu_pids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const std::string text = read_whole(entry.path() / "stat");
    const auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (text.compare(open + 1, 11, "qemu-system") != 0) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (!(rest >> state >> ppid) || ppid != ::getpid()) continue;
    pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

std::optional<std::vector<std::string>> process_argv(pid_t pid) {
  const std::string raw = read_whole(fs::path("/proc") / std::to_string(pid) / "cmdline");
  if (raw.empty()) return std::nullopt;
  std::vector<std::string> argv;
  std::size_t start = 0;
  for (auto nul = raw.find('\0'); nul != std::string::npos; nul = raw.find('\0', start)) {
    argv.push_back(raw.substr(start, nul - start));
    start = nul + 1;
  }
  return argv;
}

long smaps_rollup_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  while (in >> key) {
    if (key == field + ":") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(4096, '\n');
  }
  return -1;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string first_line_of(const std::string& command) {
  std::string text;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 512> line{};
    if (std::fgets(line.data(), static_cast<int>(line.size()), pipe) != nullptr) text = line.data();
    ::pclose(pipe);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "unknown" : text;
}

}  // namespace vmm_bench
