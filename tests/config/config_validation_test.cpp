// Every rule of src/config/validation.cpp, through VmConfigBuilder::build(): the bad value is
// rejected with invalid_config and a message that starts with the field and quotes the value;
// the boundary values next to it are accepted. This file: cpus, memory, boot, serial, the
// single devices, the identifier and the checks kept without the host; the network rules are
// in config_validation_network_test.cpp, the share and disk rules in
// config_validation_storage_test.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "config/access.hpp"
#include "config/test_support.hpp"
#include "validation_fixture.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using vmm_test::closed_fd;
using vmm_test::IsInvalid;
using vmm_test::IsOk;
using vmm_test::ValidationTest;
namespace fs = std::filesystem;

// ---- cpus and memory -------------------------------------------------------------------------

TEST_F(ValidationTest, Cpus) {
  EXPECT_TRUE(IsInvalid(valid().cpus(0).build(), "cpus", "0 is below the minimum of 1"));
  EXPECT_TRUE(IsInvalid(valid().cpus(256).build(), "cpus", "256 is above the maximum of 255"));
  EXPECT_TRUE(IsOk(valid().cpus(1).build()));
  EXPECT_TRUE(IsOk(valid().cpus(255).build()));
}

TEST_F(ValidationTest, Memory) {
  EXPECT_TRUE(IsInvalid(valid().memory(Size::mib(64)).build(), "memory",
                        "64MiB is below the minimum of 128MiB"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::mib(127)).build(), "memory", "127MiB is below"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::bytes(Size::gib(1).as_bytes() + 1)).build(), "memory",
                        "1073741825B is not a whole number of MiB"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::kib(128 * 1024 + 512)).build(), "memory",
                        "131584KiB is not a whole number of MiB"));
  EXPECT_TRUE(IsOk(valid().memory(Size::mib(128)).build()));
  EXPECT_TRUE(IsOk(valid().memory(Size::mib(1025)).build()));
}

TEST_F(ValidationTest, ReportsTheFirstBrokenRule) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().cpus(0).memory(Size::mib(1)).build(), "cpus", "0"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().memory(Size::mib(1)).build(), "memory", "1MiB"));
}

// ---- boot --------------------------------------------------------------------------------------

TEST_F(ValidationTest, NoBoot) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().build(), "boot", "no boot loader given"));
}

TEST_F(ValidationTest, KernelEmptyMissingOrADirectory) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot("").build(), "boot.kernel",
                        "no kernel path given"));
  const auto missing = temp_.path() / "no-such-kernel";
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(missing).build(), "boot.kernel",
                        missing.string() + " does not exist"));
  const auto directory = temp_.dir("kernel-dir");
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(directory).build(), "boot.kernel",
                        directory.string() + " is not a regular file"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot("/dev/null").build(), "boot.kernel",
                        "/dev/null is not a regular file"));
}

TEST_F(ValidationTest, KernelUnreadable) {
  if (vmm_test::running_as_root())
    GTEST_SKIP() << "running as root: access(R_OK) succeeds on a mode-000 file";
  const auto kernel = temp_.file("locked-kernel");
  fs::permissions(kernel, fs::perms::none);
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel).build(), "boot.kernel",
                        kernel.string() + " is not readable"));
}

TEST_F(ValidationTest, Initrd) {
  const auto missing = temp_.path() / "no-such-initrd";
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, missing).build(), "boot.initrd",
                        missing.string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, fs::path()).build(), "boot.initrd",
                        "no path given"));
  const auto directory = temp_.dir("initrd-dir");
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, directory).build(), "boot.initrd",
                        directory.string() + " is not a regular file"));
  EXPECT_TRUE(IsOk(VmConfig::builder().linux_boot(kernel_, temp_.file("initrd")).build()));
}

TEST_F(ValidationTest, EmptyCommandLineFragment) {
  EXPECT_TRUE(IsInvalid(valid().kernel_command_line_fragment("quiet").kernel_command_line_fragment("").build(),
                        "boot.extra_command_line[1]", "empty fragment"));
  // Fragments given in the LinuxBoot come first in the numbering.
  EXPECT_TRUE(IsInvalid(VmConfig::builder()
                            .linux_boot(LinuxBoot{kernel_, {}, "", {"a", "b"}})
                            .kernel_command_line_fragment("")
                            .build(),
                        "boot.extra_command_line[2]", "empty fragment"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(LinuxBoot{kernel_, {}, "", {""}}).build(),
                        "boot.extra_command_line[0]", "empty fragment"));
}

TEST_F(ValidationTest, FragmentsNeedALinuxBoot) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder()
                            .efi_boot(EfiBoot{temp_.path() / "nvram", true})
                            .kernel_command_line_fragment("quiet")
                            .build(),
                        "boot.extra_command_line", "need a Linux boot"));
}

TEST_F(ValidationTest, EfiVariableStore) {
  const auto efi = [](EfiBoot boot) { return VmConfig::builder().efi_boot(std::move(boot)).build(); };
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{"", true}), "boot.variable_store", "no path given"));
  const auto missing = temp_.path() / "nvram.bin";
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{missing, false}), "boot.variable_store",
                        missing.string() + " does not exist and create_if_missing is false"));
  const auto in_missing_dir = temp_.path() / "no-such-dir" / "nvram.bin";
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{in_missing_dir, true}), "boot.variable_store",
                        "directory " + (temp_.path() / "no-such-dir").string() + " does not exist"));
  const auto directory = temp_.dir("nvram-dir");
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{directory, true}), "boot.variable_store",
                        directory.string() + " is not a regular file"));
  // Accepted: to be created in an existing directory, or an existing writable file.
  EXPECT_TRUE(IsOk(efi(EfiBoot{missing, true})));
  EXPECT_TRUE(IsOk(efi(EfiBoot{temp_.file("existing-nvram"), false})));
}

TEST_F(ValidationTest, EfiVariableStoreNotWritable) {
  if (vmm_test::running_as_root())
    GTEST_SKIP() << "running as root: access(W_OK) succeeds on a read-only file";
  const auto store = temp_.file("ro-nvram");
  fs::permissions(store, fs::perms::owner_read);
  EXPECT_TRUE(IsInvalid(VmConfig::builder().efi_boot(EfiBoot{store, false}).build(),
                        "boot.variable_store", store.string() + " is not writable"));
}

// ---- serial, single devices, identifier ----------------------------------------------------------

TEST_F(ValidationTest, SerialFile) {
  const auto missing_dir = temp_.path() / "no-such-dir";
  const auto log = missing_dir / "serial.log";
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{log, true}).build(), "serial.path",
                        log.string() + ": directory " + missing_dir.string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{"", true}).build(), "serial.path", "no path given"));
  EXPECT_TRUE(IsOk(valid().serial(SerialToFile{temp_.path() / "serial.log", true}).build()));
  EXPECT_TRUE(IsOk(valid().serial(SerialToFile{temp_.file("existing.log"), true}).build()));
}

// An existing path must be a file the VM can write to, as for the EFI variable store; a
// directory passes the "its directory exists" rule today and fails only when the VM starts.
TEST_F(ValidationTest, SerialFileThatIsADirectory) {
  const auto directory = temp_.dir("serial-dir");
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{directory, true}).build(), "serial.path",
                        directory.string()));
}

TEST_F(ValidationTest, SerialFd) {
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFd{-1}).build(), "serial.fd", "-1 is not a file descriptor"));
  const int closed = closed_fd();
  ASSERT_EQ(::fcntl(closed, F_GETFD), -1);
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFd{closed}).build(), "serial.fd",
                        "descriptor " + std::to_string(closed) + " is not open"));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_TRUE(IsOk(valid().serial(SerialToFd{fds[1]}).build()));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(ValidationTest, AtMostOneVsockAndOneBalloon) {
  EXPECT_TRUE(IsOk(valid().vsock().balloon().build()));
  EXPECT_TRUE(IsInvalid(valid().vsock().vsock().build(), "vsock", "2 vsock devices given, at most 1"));
  EXPECT_TRUE(IsInvalid(valid().balloon().balloon().build(), "balloon",
                        "2 memory balloons given, at most 1"));
}

TEST_F(ValidationTest, EmptyMachineIdentifier) {
  EXPECT_TRUE(IsInvalid(valid().machine_identifier({}).build(), "machine_identifier", "empty identifier"));
  EXPECT_TRUE(IsOk(valid().machine_identifier({0}).build()));
}

// ---- without host checks (configs read back from a snapshot manifest) ----------------------------

TEST_F(ValidationTest, WithoutHostChecksOnlyTheValuesAreChecked) {
  const auto missing = temp_.path() / "gone";
  auto builder = VmConfig::builder()
                     .linux_boot(missing, missing / "initrd")
                     .disk(missing / "disk.img")
                     .share("t", missing)
                     .serial(SerialToFd{closed_fd()})
                     .network(FileHandleNetwork{closed_fd(), 1500});
  EXPECT_FALSE(builder.build());
  EXPECT_TRUE(IsOk(ConfigAccess::build_without_host_checks(builder)));

  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(VmConfig::builder().linux_boot("")),
                        "boot.kernel", "no kernel path given"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing, fs::path())),
                        "boot.initrd", "no path given"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).serial(SerialToFd{-1})),
                        "serial.fd", "-1 is not a file descriptor"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).network(FileHandleNetwork{-1, 1500})),
                        "networks[0].fd", "-1 is not a file descriptor"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).share("t", "")),
                        "shares[0].directory", "no directory given"));
}

}  // namespace
