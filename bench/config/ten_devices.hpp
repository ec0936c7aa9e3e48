// The benchmarks' 10-device config: 3 networks, 2 shares, 3 disks, vsock, balloon.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "host_files.hpp"
#include "vmm/config.hpp"

namespace vmm_bench {

// 10 devices: 3 networks, 2 shares, 3 disks, vsock, balloon; plus a serial log and entropy. Only
// device forms every backend supports (the plans benchmarks use the same config). MACs and the
// machine identifier are left to build(), as most callers do.
inline vmm::VmConfigBuilder ten_device_builder() {
  const auto& files = HostFiles::get();
  auto builder = vmm::VmConfig::builder();
  builder.cpus(4)
      .memory(vmm::Size::gib(2))
      .linux_boot(files.path("vmlinuz"), files.path("initrd.img"), "console=hvc0 root=/dev/vda rw")
      .kernel_command_line_fragment("quiet")
      .nat_network()
      .network(vmm::UnixDatagramNetwork{"/tmp/vmm-bench.sock", 9000})
      .network(vmm::FileHandleNetwork{files.datagram_fd(), 1500})
      .share("home", files.path("home"))
      .share("src", files.path("src"))
      .disk(vmm::DiskImage{files.path("root.img"), vmm::DiskFormat::raw, false,
                           vmm::CachingMode::cached, vmm::SyncMode::fsync, vmm::BlockBus::virtio,
                           "root", {}})
      .disk(files.path("data.img"))
      .disk(files.path("seed.iso"), true)
      .vsock()
      .balloon()
      .entropy()
      .serial(vmm::SerialToFile{files.path("serial.log"), true});
  return builder;
}

inline vmm::VmConfig ten_device_config() {
  auto config = ten_device_builder().build();
  if (!config) {
    std::fprintf(stderr, "bench config is invalid: %s\n", config.error().to_string().c_str());
    std::abort();
  }
  return std::move(config).value();
}

}  // namespace vmm_bench
