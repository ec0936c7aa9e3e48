// The facts decided once in config/config_facts.hpp and config/enum_names.hpp: whether a VM has
// a vsock device, when a backend replaces the machine identifier, and the kind names of the
// config's variants.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "config/config_facts.hpp"
#include "config/enum_names.hpp"
#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using vmm_test::TempDir;

class ConfigFactsTest : public testing::Test {
 protected:
  VmConfigBuilder booting() const { return VmConfig::builder().linux_boot(kernel_); }

  TempDir temp_;
  std::filesystem::path kernel_ = temp_.file("vmlinuz", "kernel");
};

TEST_F(ConfigFactsTest, VsockDeviceIsRequiredNamingTheOperation) {
  const auto without = booting().build();
  ASSERT_TRUE(without);
  const auto refused = detail::require_vsock_device(*without, "connect_vsock");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid_config);
  EXPECT_EQ(refused.error().message(), "connect_vsock: the VM has no vsock device");

  const auto with = booting().vsock().build();
  ASSERT_TRUE(with);
  EXPECT_TRUE(detail::require_vsock_device(*with, "listen_vsock"));
}

TEST_F(ConfigFactsTest, AGeneratedIdentifierIsReplacedByTheOneInUse) {
  const auto config = booting().build();
  ASSERT_TRUE(config);
  ASSERT_TRUE(config->machine_identifier_generated());
  const std::vector<std::uint8_t> in_use(24, 0x5a);
  const VmConfig effective = detail::with_machine_identifier_in_use(*config, in_use);
  EXPECT_EQ(effective.machine_identifier(), in_use);
  EXPECT_FALSE(effective.machine_identifier_generated()) << "a restore must reuse it";
  EXPECT_EQ(effective.cpus(), config->cpus());
}

TEST_F(ConfigFactsTest, AGeneratedIdentifierAlreadyInUseStaysGenerated) {
  const auto config = booting().build();
  ASSERT_TRUE(config);
  const VmConfig effective =
      detail::with_machine_identifier_in_use(*config, config->machine_identifier());
  EXPECT_EQ(effective.machine_identifier(), config->machine_identifier());
  EXPECT_TRUE(effective.machine_identifier_generated());
}

TEST_F(ConfigFactsTest, AChosenIdentifierIsNeverReplaced) {
  const std::vector<std::uint8_t> chosen{1, 2, 3, 4};
  const auto config = booting().machine_identifier(chosen).build();
  ASSERT_TRUE(config);
  const VmConfig effective =
      detail::with_machine_identifier_in_use(*config, std::vector<std::uint8_t>(16, 0x11));
  EXPECT_EQ(effective.machine_identifier(), chosen);
  EXPECT_FALSE(effective.machine_identifier_generated());
}

TEST_F(ConfigFactsTest, NothingInUseLeavesTheIdentifier) {
  const auto config = booting().build();
  ASSERT_TRUE(config);
  const VmConfig effective = detail::with_machine_identifier_in_use(*config, std::nullopt);
  EXPECT_EQ(effective.machine_identifier(), config->machine_identifier());
  EXPECT_TRUE(effective.machine_identifier_generated());
}

TEST(VariantKinds, EachAlternativeHasItsOwnName) {
  EXPECT_EQ(network_kind(NatNetwork{}), "nat");
  EXPECT_EQ(network_kind(BridgedNetwork{"en0"}), "bridged");
  EXPECT_EQ(network_kind(FileHandleNetwork{3, 1500}), "file_handle");
  EXPECT_EQ(network_kind(UnixDatagramNetwork{"/tmp/s", 1500}), "unix_datagram");
  EXPECT_EQ(network_kind(VmnetNetwork{}), "vmnet");
  EXPECT_EQ(detail::kind_name(detail::kSerialKindNames, SerialConsole{SerialToFd{3}}), "fd");
  EXPECT_EQ(detail::kind_name(detail::kBootKindNames, Boot{EfiBoot{}}), "efi");
}

TEST(VariantKinds, NamesReadBackToTheirAlternative) {
  using detail::alternative_index;
  EXPECT_EQ(detail::kind_index(detail::kNetworkKindNames, "unix_datagram"),
            (alternative_index<NetworkAttachment, UnixDatagramNetwork>));
  EXPECT_EQ(detail::kind_index(detail::kSerialKindNames, "none"),
            (alternative_index<SerialConsole, std::monostate>));
  EXPECT_EQ(detail::kind_index(detail::kBootKindNames, "linux"),
            (alternative_index<Boot, LinuxBoot>));
  EXPECT_FALSE(detail::kind_index(detail::kBootKindNames, "bios"));
  EXPECT_FALSE(detail::kind_index(detail::kNetworkKindNames, "NAT")) << "names are exact";
}

}  // namespace
