// NVMe and USB disks (issue 10): they need PCI, so the backend switches to q35, and the guest finds
// each by the serial vmm gave it (DiskImage::device_id). Checked from inside the guest, which
// boots Debian's generic kernel (the cloud kernel of the other tests has no USB support): the
// guest has no udev, so no /dev/disk/by-id, and the test reads sysfs the way udev would.
// One boot: the disks by serial, their contents both ways, the NVMe save refusal, the q35 power
// button.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "guest_fixture.hpp"
#include "support/guest_agent.hpp"
#include "support/state_log.hpp"
#include "support/wait.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using support::GuestAgent;

// Bounds on hangs under a loaded machine or sanitizers, not performance assertions.
constexpr std::size_t kQ35DiskBytes = 1024 * 1024;

std::filesystem::path make_disk(const std::filesystem::path& path, std::string_view head) {
  std::ofstream(path, std::ios::binary) << head;
  std::filesystem::resize_file(path, kQ35DiskBytes);
  return path;
}

std::string read_at(const std::filesystem::path& path, std::streamoff offset, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

// A guest command that prints the block device (e.g. "sda") whose device, or a device above it in
// sysfs, has the `serial` attribute SERIAL: the NVMe controller above nvme0n1 (its serial is
// space-padded to 20 bytes), the USB device above the SCSI disk of usb-storage. It waits (up to
// 60 s) for it: NVMe namespaces and USB devices are probed asynchronously, after insmod.
std::string block_device_with_serial(std::string_view serial) {
  return fmt::format(
      "n=0; while [ $n -lt 600 ]; do "
      "for b in /sys/block/*; do p=$(readlink -f $b/device 2>/dev/null) || continue; "
      "while [ ${{#p}} -gt 4 ]; do "
      "if [ -r $p/serial ] && [ \"$(tr -d ' ' <$p/serial)\" = '{}' ]; then "
      "echo ${{b##*/}}; exit 0; fi; "
      "p=${{p%/*}}; done; done; usleep 100000; n=$((n + 1)); done; exit 1",
      serial);
}

TEST(QemuQ35Disks, NvmeAndUsbDisksAreFoundInTheGuestByTheirSerial) {
  const auto assets = find_generic_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  TempDir dir;
  DiskImage nvme;
  nvme.path = make_disk(dir.path() / "nvme.img", "host-wrote-nvme\n");
  nvme.bus = BlockBus::nvme;
  nvme.device_id = "vmm-nvme-4711";
  DiskImage usb;
  usb.path = make_disk(dir.path() / "usb.img", "host-wrote-usb\n");
  usb.bus = BlockBus::usb;
  usb.device_id = "vmm-usb-0815";
  auto config = guest_config(assets, "vmm.agent=1")
                    .disk(nvme)
                    .disk(usb)
                    .console_port(std::string(support::agent_port_name))
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  GuestConsole console;
  StateLog states;
  auto vm = VirtualMachine::create(*config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  const auto subscription = (*vm)->on_state_change(states.observer());
  ASSERT_TRUE(support::await((*vm)->start(), kBoot));
  auto channel = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  GuestAgent agent(std::move(*channel));

  // Each disk is the block device under the device with its serial, and holds what the host wrote.
  auto nvme_dev = agent.run(block_device_with_serial(*nvme.device_id), kBoot);
  ASSERT_TRUE(nvme_dev) << nvme_dev.error().to_string();
  ASSERT_EQ(nvme_dev->status, 0) << nvme_dev->output;
  EXPECT_EQ(nvme_dev->output, "nvme0n1\n");
  auto usb_dev = agent.run(block_device_with_serial(*usb.device_id), kBoot);
  ASSERT_TRUE(usb_dev) << usb_dev.error().to_string();
  ASSERT_EQ(usb_dev->status, 0) << usb_dev->output;
  EXPECT_EQ(usb_dev->output, "sda\n");
  // ...and sda is a USB mass-storage disk, not some other SCSI disk.
  auto driver = agent.run("basename $(readlink -f /sys/block/sda/device/../../../driver)");
  ASSERT_TRUE(driver) << driver.error().to_string();
  EXPECT_EQ(driver->output, "usb-storage\n");
  auto read = agent.run("head -n 1 /dev/nvme0n1 && head -n 1 /dev/sda && cat /sys/block/sda/size");
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->output, fmt::format("host-wrote-nvme\nhost-wrote-usb\n{}\n", kQ35DiskBytes / 512));

  // The guest writes to the USB disk (4 KiB in, flushed): the host reads it after the stop.
  auto wrote = agent.run("echo guest-wrote-usb | dd of=/dev/sda bs=4096 seek=1 conv=fsync");
  ASSERT_TRUE(wrote) << wrote.error().to_string();
  ASSERT_EQ(wrote->status, 0) << wrote->output;

  // QEMU's nvme device blocks migration, and a save says so before any attempt.
  ASSERT_TRUE(support::await((*vm)->pause(), kEvent));
  auto saved = support::await((*vm)->save(dir.path() / "q35.bundle"), kEvent);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code(), Errc::unsupported);
  EXPECT_THAT(saved.error().message(), HasSubstr("NVMe"));
  ASSERT_TRUE(support::await((*vm)->resume(), kEvent));
  // q35's ACPI power button reaches the guest too.
  ASSERT_TRUE(support::await((*vm)->request_stop(), kEvent));
  ASSERT_TRUE(states.wait_for(VmState::stopped, kEvent)) << "the guest did not power off";
  EXPECT_EQ(read_at(usb.path, 4096, 16), "guest-wrote-usb\n");
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace vmm::testing
