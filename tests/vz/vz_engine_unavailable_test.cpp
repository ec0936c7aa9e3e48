// Off Apple platforms the factory must refuse, saying what the backend needs.
#include <gtest/gtest.h>

#include "machine/engine.hpp"
#include "test_support.hpp"

namespace vmm::vz {
namespace {

#if !defined(__APPLE__)
TEST(VzEngineUnavailable, FactoryIsUnsupportedOffApple) {
  test::Scratch scratch;
  auto engine =
      detail::make_vz_engine(test::built(scratch.linux_builder()), CreateOptions{}, scratch.dir());
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code(), Errc::unsupported);
  EXPECT_EQ(engine.error().message(), "the Virtualization.framework backend needs macOS 13 or later");
}
#endif

}  // namespace
}  // namespace vmm::vz
