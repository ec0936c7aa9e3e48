// Template bundles: the manifest's "template" field, the rules a template's config must meet,
// and the RAM file checks a clone's restore makes before QEMU starts.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "snapshot/compat.hpp"
#include "snapshot/manifest.hpp"
#include "machine/virtual_machine_impl.hpp"
#include "support/fake_engine.hpp"
#include "support/fake_vm.hpp"
#include "vmm/mac_address.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

class TemplateBundle : public ::testing::Test {
 protected:
  TempDir dir_;

  VmConfig config(bool nat = true, bool read_only_disk = true) {
    auto builder = VmConfig::builder();
    builder.cpus(1)
        .memory(Size::mib(256))
        .linux_boot(dir_.file("vmlinuz"))
        .machine_identifier(std::vector<std::uint8_t>(16, 0x42))
        .disk(dir_.file("root.img"), read_only_disk);
    const auto mac = *MacAddress::parse("52:54:00:12:34:56");
    if (nat) {
      builder.nat_network(mac);
    } else {
      builder.network(UnixDatagramNetwork{.socket = dir_.path() / "net.sock"}, mac);
    }
    auto built = builder.build();
    EXPECT_TRUE(built) << built.error().to_string();
    return *built;
  }

  SnapshotManifest manifest(VmConfig config) {
    SnapshotManifest m{.format_version = SnapshotManifest::current_format_version,
                       .backend = "qemu",
                       .config = std::move(config),
                       .state_file = "state.qemu",
                       .created_at = "2026-11-22T21:40:00Z",
                       .library_version = "0.1.0",
                       .serial_port = false,
                       .digests = {{"state.qemu", "xxh3-128:0123456789abcdef0123456789abcdef"}}};
    m.template_memory = TemplateMemory{"memory.ram", 256u << 20};
    return m;
  }

  std::string parse_error_after(const std::function<void(json&)>& edit) {
    auto doc = json::parse(detail::manifest_to_json(manifest(config())));
    edit(doc);
    auto parsed = detail::parse_snapshot_manifest(doc.dump());
    if (parsed) return "(accepted)";
    EXPECT_EQ(parsed.error().code(), Errc::invalid_config);
    return parsed.error().message();
  }
};

TEST_F(TemplateBundle, TheManifestRecordsTheRamFileAndRoundTrips) {
  const auto text = detail::manifest_to_json(manifest(config()));
  const auto doc = json::parse(text);
  EXPECT_EQ(doc.at("template"), json({{"memory_file", "memory.ram"}, {"memory_size", 256u << 20}}));
  auto parsed = detail::parse_snapshot_manifest(text);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  ASSERT_TRUE(parsed->template_memory.has_value());
  EXPECT_EQ(*parsed->template_memory, (TemplateMemory{"memory.ram", 256u << 20}));

  // A full bundle has no "template" field, and reads back without one.
  auto full = manifest(config());
  full.template_memory.reset();
  const auto full_text = detail::manifest_to_json(full);
  EXPECT_FALSE(json::parse(full_text).contains("template"));
  auto full_parsed = detail::parse_snapshot_manifest(full_text);
  ASSERT_TRUE(full_parsed) << full_parsed.error().to_string();
  EXPECT_FALSE(full_parsed->template_memory.has_value());
}

TEST_F(TemplateBundle, TheManifestsTemplateFieldIsStrict) {
  EXPECT_THAT(parse_error_after([](json& d) { d["template"]["memory_size"] = 1024; }),
              HasSubstr("$.template.memory_size: 1024 bytes, but the config's memory is"));
  EXPECT_THAT(parse_error_after([](json& d) { d["template"]["memory_file"] = "state.qemu"; }),
              HasSubstr("$.template.memory_file"));
  EXPECT_THAT(parse_error_after([](json& d) { d["template"]["memory_file"] = "../ram"; }),
              HasSubstr("$.template.memory_file"));
  EXPECT_THAT(parse_error_after([](json& d) { d["template"]["extra"] = 1; }),
              HasSubstr("$.template.extra: unknown field"));
  EXPECT_THAT(parse_error_after([](json& d) { d["template"].erase("memory_file"); }),
              HasSubstr("$.template.memory_file"));
  EXPECT_THAT(parse_error_after([](json& d) { d["template"] = "yes"; }),
              HasSubstr("$.template: expected an object"));
}

TEST_F(TemplateBundle, TemplatesTakeNatNetworksAndReadOnlyDisksOnly) {
  EXPECT_TRUE(detail::check_template_config(config()));
  auto network = detail::check_template_config(config(/*nat=*/false));
  ASSERT_FALSE(network);
  EXPECT_EQ(network.error().code(), Errc::invalid_config);
  EXPECT_THAT(network.error().message(), HasSubstr("networks[0] is a unix_datagram network"));
  EXPECT_THAT(network.error().message(), HasSubstr("52:54:00:12:34:56"));
  auto disk = detail::check_template_config(config(true, /*read_only_disk=*/false));
  ASSERT_FALSE(disk);
  EXPECT_THAT(disk.error().message(), HasSubstr("disks[0]"));
  EXPECT_THAT(disk.error().message(), HasSubstr("writable"));
}

TEST_F(TemplateBundle, RestoringATemplateChecksTheTemplateRulesToo) {
  // A hand-made manifest whose config breaks the rules is refused at restore as well.
  const auto bad = config(/*nat=*/false);
  auto refused = detail::check_snapshot_compatible(manifest(bad), "qemu", bad);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("restore: template: networks[0]"));
  // The same config as a full bundle restores: the rule is the template's.
  auto full = manifest(bad);
  full.template_memory.reset();
  EXPECT_TRUE(detail::check_snapshot_compatible(full, "qemu", bad));
}

TEST_F(TemplateBundle, TheRamFileMustExistWithTheRecordedSize) {
  const TemplateMemory memory{"memory.ram", 1u << 20};
  const auto bundle = dir_.path() / "bundle";
  std::filesystem::create_directory(bundle);
  auto missing = detail::check_template_memory(bundle, memory);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_THAT(missing.error().message(), HasSubstr((bundle / "memory.ram").string()));

  { std::ofstream(bundle / "memory.ram") << "short"; }
  auto truncated = detail::check_template_memory(bundle, memory);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code(), Errc::io);
  EXPECT_THAT(truncated.error().message(),
              HasSubstr("is truncated: 5 bytes, the manifest records 1048576"));

  std::filesystem::resize_file(bundle / "memory.ram", 1u << 20);
  EXPECT_TRUE(detail::check_template_memory(bundle, memory));
  std::filesystem::resize_file(bundle / "memory.ram", 2u << 20);
  auto larger = detail::check_template_memory(bundle, memory);
  ASSERT_FALSE(larger);
  EXPECT_THAT(larger.error().message(), HasSubstr("too large"));
}

}  // namespace
}  // namespace vmm::testing

namespace vmm::testing {
namespace {

// A backend without templates (the fake engine keeps the Engine defaults, as VZ does): refused
// before anything changes, saying why, and nothing is written.
TEST(TemplateUnsupported, SaveTemplateOnABackendWithoutTemplatesIsRefusedAndTheVmStaysPaused) {
  TempDir dir;
  for (const char* backend : {"qemu", "virtualization_framework"}) {
    SCOPED_TRACE(backend);
    auto control = std::make_shared<FakeEngineControl>();
    control->set_backend_name(backend);
    auto vm = detail::make_virtual_machine(FakeEngine::make(base_config(dir), control),
                                           Backend::qemu);
    ASSERT_TRUE(vm->start().get());
    ASSERT_TRUE(vm->pause().get());
    auto refused = vm->save_template(dir.path() / "t").get();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Errc::unsupported);
    EXPECT_THAT(refused.error().message(), HasSubstr("save_template: templates:"));
    if (std::string_view(backend) == "virtualization_framework") {
      EXPECT_THAT(refused.error().message(), HasSubstr("Virtualization.framework"));
    }
    EXPECT_EQ(vm->state(), VmState::paused);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "t"));
  }
}

TEST(TemplateUnsupported, FileBackedMemoryIsQemuOnly) {
  TempDir dir;
  CreateOptions options;
  options.backend = Backend::virtualization_framework;
  options.file_backed_memory = true;
  auto vm = VirtualMachine::create(base_config(dir), options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().code(), Errc::unsupported);
  EXPECT_THAT(vm.error().message(), HasSubstr("file_backed_memory"));
}

}  // namespace
}  // namespace vmm::testing
