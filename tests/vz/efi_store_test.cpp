#include <gtest/gtest.h>

#include "vz/efi_store.hpp"

namespace vmm::vz {
namespace {

TEST(VzEfiStore, ExistingStoreIsOpened) {
  EXPECT_EQ(*efi_store_action(EfiBootPlan{"/vm/efi.vars", false}, true), EfiStoreAction::open);
  EXPECT_EQ(*efi_store_action(EfiBootPlan{"/vm/efi.vars", true}, true), EfiStoreAction::open);
}

TEST(VzEfiStore, MissingStoreIsCreatedWhenAllowed) {
  EXPECT_EQ(*efi_store_action(EfiBootPlan{"/vm/efi.vars", true}, false), EfiStoreAction::create);
}

TEST(VzEfiStore, MissingStoreWithoutCreateIsNotFound) {
  auto action = efi_store_action(EfiBootPlan{"/vm/efi.vars", false}, false);
  ASSERT_FALSE(action);
  EXPECT_EQ(action.error().code(), Errc::not_found);
  EXPECT_NE(action.error().message().find("/vm/efi.vars"), std::string::npos);
}

}  // namespace
}  // namespace vmm::vz
