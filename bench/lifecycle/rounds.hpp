// bench/lifecycle: one side of one round. vmm_round drives a vmm VirtualMachine; base_round
// drives the same QEMU argv directly (RawQemu). Each records boot, pause and resume (first size
// only), save, restore to running and stop, in milliseconds, per side.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <vmm/vmm.hpp>

#include "common/measure.hpp"
#include "lifecycle/guest_lines.hpp"

namespace lifecycle {

using vmm_bench::Samples;

// Per side (vmm = 0, baseline = 1), per operation, in milliseconds.
struct Results {
  std::map<std::string, std::array<Samples, 2>> ops;
  std::vector<std::string> order;
  void add(const std::string& op, int side, double ms) {
    if (ops.find(op) == ops.end()) order.push_back(op);
    ops[op][static_cast<std::size_t>(side)].add(ms);
  }
};

struct Options {
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  int rounds = 5;
  int pause_iterations = 20;
};

struct Size {
  std::string label;
  vmm::Size memory;
};

struct Machine {
  Size size;
  std::shared_ptr<vmm::VirtualMachine> vm;
  GuestLines vmm_guest;
  GuestLines base_guest;
  std::vector<std::string> base_argv;  // without -S / -incoming defer
  bool argv_checked = false;
};

void vmm_round(Machine& m, const std::filesystem::path& dir, Results& results,
               const Options& options, bool first_size);
void base_round(Machine& m, const std::filesystem::path& dir, Results& results,
                const Options& options, bool first_size);

}  // namespace lifecycle
