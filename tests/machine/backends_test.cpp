// The backend table: the one list of backends, their names, and which factories this platform's
// build has (CMake builds src/qemu on Linux and src/vz/objc on Apple platforms).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "machine/backends.hpp"
#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

TEST(BackendTable, ListsEachConcreteBackendOnceUnderItsName) {
  std::set<Backend> backends;
  std::set<std::string> names;
  for (const auto& entry : detail::backend_table()) {
    EXPECT_NE(entry.backend, Backend::automatic);
    backends.insert(entry.backend);
    names.insert(std::string(entry.name));
    EXPECT_EQ(to_string(entry.backend), entry.name);
    EXPECT_EQ(detail::backend_named(entry.name), entry.backend);
    EXPECT_EQ(detail::find_backend(entry.backend), &entry);
  }
  EXPECT_EQ(backends, (std::set<Backend>{Backend::qemu, Backend::virtualization_framework}));
  EXPECT_EQ(names, (std::set<std::string>{"qemu", "virtualization_framework"}));
  EXPECT_EQ(detail::backend_named("bhyve"), std::nullopt);
  EXPECT_EQ(detail::find_backend(Backend::automatic), nullptr);
  EXPECT_EQ(to_string(Backend::automatic), "automatic");
}

TEST(BackendTable, ThisPlatformBuildsOnlyItsOwnBackends) {
  const auto* qemu = detail::find_backend(Backend::qemu);
  const auto* vz = detail::find_backend(Backend::virtualization_framework);
  ASSERT_NE(qemu, nullptr);
  ASSERT_NE(vz, nullptr);
#if defined(__linux__)
  EXPECT_NE(qemu->factory, nullptr);
  EXPECT_EQ(vz->factory, nullptr);
#elif defined(__APPLE__)
  EXPECT_EQ(qemu->factory, nullptr);
  EXPECT_NE(vz->factory, nullptr);
#endif
}

TEST(BackendTable, AutomaticIsTheFirstBuiltBackend) {
  const Backend native = detail::resolve_backend(Backend::automatic);
  const auto* entry = detail::find_backend(native);
  ASSERT_NE(entry, nullptr);
  EXPECT_NE(entry->factory, nullptr);
  for (const auto& other : detail::backend_table()) {
    if (&other == entry) break;
    EXPECT_EQ(other.factory, nullptr) << other.name << " is built but listed before " << entry->name;
  }
}

// A backend this build lacks is `unsupported` with the entry's message, not a crash.
TEST(BackendTable, MissingFactoryIsUnsupportedWithItsMessage) {
  TempDir dir;
  for (const auto& entry : detail::backend_table()) {
    if (entry.factory != nullptr) continue;
    auto engine = detail::make_engine(entry.backend, base_config(dir), CreateOptions{}, dir.path());
    ASSERT_FALSE(engine) << entry.name;
    EXPECT_EQ(engine.error().code(), Errc::unsupported);
    EXPECT_EQ(engine.error().message(), entry.unavailable);
  }
#if defined(__linux__)
  EXPECT_EQ(detail::find_backend(Backend::virtualization_framework)->unavailable,
            "the Virtualization.framework backend needs macOS 13 or later");
#endif
}

}  // namespace
}  // namespace vmm::testing
