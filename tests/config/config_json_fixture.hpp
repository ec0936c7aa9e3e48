// The fixture shared by the VmConfig JSON tests (config_json*_test.cpp): a kernel, initrd and disk
// image in a temporary directory, the smallest document that builds, and a config that sets
// every field.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <map>
#include <string>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace vmm_test {

class ConfigJsonTest : public ::testing::Test {
 protected:
  ConfigJsonTest() {
    if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram_.data()) != 0) dgram_ = {-1, -1};
  }
  ~ConfigJsonTest() override {
    for (int fd : dgram_)
      if (fd >= 0) ::close(fd);
  }

  // The smallest document that builds.
  nlohmann::json minimal() const {
    return nlohmann::json{{"schema_version", 1},
                          {"boot", {{"type", "linux"}, {"kernel", kernel_.string()}}}};
  }
  nlohmann::json with_disks() const {
    auto doc = minimal();
    doc["disks"] = nlohmann::json::array(
        {nlohmann::json{{"path", image_.string()}}, nlohmann::json{{"path", image_.string()}}});
    return doc;
  }
  static vmm::Result<vmm::VmConfig> read(const nlohmann::json& doc) {
    return vmm::VmConfig::from_json(doc.dump());
  }

  // A config that sets every field (Linux boot).
  vmm::Result<vmm::VmConfig> everything() const {
    vmm::DiskImage data;
    data.path = image_;
    data.format = vmm::DiskFormat::qcow2;
    data.read_only = true;
    data.caching = vmm::CachingMode::uncached;
    data.sync = vmm::SyncMode::full;
    data.bus = vmm::BlockBus::nvme;
    data.device_id = "data-0001";
    vmm::DiskImage usb;
    usb.path = image_;
    usb.format = vmm::DiskFormat::asif;
    usb.caching = vmm::CachingMode::automatic;
    usb.sync = vmm::SyncMode::none;
    usb.bus = vmm::BlockBus::usb;
    return vmm::VmConfig::builder()
        .cpus(3)
        .memory(vmm::Size::mib(1536))
        .linux_boot(vmm::LinuxBoot{kernel_, initrd_, "console=hvc0 root=/dev/vda", {"given"}})
        .kernel_command_line_fragment("quiet")
        .nat_network()
        .network(vmm::BridgedNetwork{"en0"}, kMacA)
        .network(vmm::FileHandleNetwork{dgram_[0], 9000})
        .network(vmm::UnixDatagramNetwork{"/tmp/vmm-net.sock", 65535}, kMacB)
        .network(vmm::VmnetNetwork{"192.168.105.0/24"})
        .network(vmm::VmnetNetwork{})
        .network(vmm::TapNetwork{"tap0"})
        .share("single", temp_.dir("single"), true)
        .share(vmm::VirtiofsShare{"multi",
                                  std::map<std::string, vmm::SharedDirectory>{
                                      {"docs", vmm::SharedDirectory{temp_.dir("docs"), true}},
                                      {"src", vmm::SharedDirectory{temp_.dir("src"), false}}}})
        .disk(data)
        .disk(usb)
        .vsock()
        .serial(vmm::SerialToFile{temp_.path() / "serial.log", false})
        .entropy()
        .balloon()
        .rosetta("rosetta")
        .nested_virtualization()
        .machine_identifier({0x00, 0x01, 0xab, 0xcd, 0xef, 0xff})
        .build();
  }

  TempDir temp_;
  fs::path kernel_ = temp_.file("vmlinuz", "kernel");
  fs::path initrd_ = temp_.file("initrd.img", "initrd");
  fs::path image_ = temp_.file("root.img", "disk");
  std::array<int, 2> dgram_{-1, -1};
};

}  // namespace vmm_test
