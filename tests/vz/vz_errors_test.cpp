// The VZErrorDomain code -> vmm::Errc table and the messages built around it.
#include <gtest/gtest.h>

#include <utility>

#include "vz/vz_errors.hpp"

namespace vmm::vz {
namespace {

TEST(VzErrors, EveryVzErrorCodeHasItsErrc) {
  const std::vector<std::pair<long, Errc>> table{
      {1, Errc::backend},        {2, Errc::invalid_config}, {3, Errc::invalid_state},
      {4, Errc::invalid_state},  {5, Errc::invalid_config}, {6, Errc::backend},
      {7, Errc::io},             {8, Errc::io},             {9, Errc::cancelled},
      {10, Errc::unsupported},   {11, Errc::backend},       {12, Errc::backend},
  };
  for (const auto& [code, errc] : table) {
    EXPECT_EQ(errc_for_vz_code(code), errc) << "VZErrorDomain code " << code;
    EXPECT_EQ(error_from_ns_error("VZErrorDomain", code, "text", "start").code(), errc);
  }
  EXPECT_EQ(errc_for_vz_code(0), Errc::backend);
  EXPECT_EQ(errc_for_vz_code(99), Errc::backend);
}

TEST(VzErrors, MessageHasContextDescriptionAndCodeName) {
  const auto error =
      error_from_ns_error("VZErrorDomain", 5, "The disk image is corrupt.", "disk \"a.img\"");
  EXPECT_EQ(error.message(),
            "disk \"a.img\": The disk image is corrupt. (VZErrorDomain 5: invalid disk image)");
}

TEST(VzErrors, MissingEntitlementNamesItAndHowToSign) {
  const auto error = error_from_ns_error(
      "VZErrorDomain", 2,
      "Invalid virtual machine configuration. The process doesn't have the "
      "\"com.apple.security.virtualization\" Entitlement.",
      "validate");
  EXPECT_EQ(error.code(), Errc::unsupported);
  EXPECT_NE(error.message().find("com.apple.security.virtualization"), std::string::npos);
  EXPECT_NE(error.message().find("vmm_codesign"), std::string::npos);
  EXPECT_EQ(error.message().rfind("validate: ", 0), 0U);
}

TEST(VzErrors, OtherInvalidConfigurationStaysInvalidConfig) {
  const auto error = error_from_ns_error("VZErrorDomain", 2, "Too many CPUs.", "");
  EXPECT_EQ(error.code(), Errc::invalid_config);
  EXPECT_EQ(error.message().find("com.apple.security.virtualization"), std::string::npos);
  EXPECT_EQ(error.message().rfind("Too many CPUs.", 0), 0U);
}

TEST(VzErrors, OtherDomains) {
  EXPECT_EQ(error_from_ns_error("NSPOSIXErrorDomain", 2, "No such file", "open").code(), Errc::io);
  const auto cocoa = error_from_ns_error("NSCocoaErrorDomain", 4, "gone", "open");
  EXPECT_EQ(cocoa.code(), Errc::backend);
  EXPECT_NE(cocoa.message().find("NSCocoaErrorDomain 4"), std::string::npos);
}

TEST(VzErrors, ObjectiveCExceptions) {
  const auto bad_argument =
      error_from_exception("NSInvalidArgumentException", "Invalid URL", "share \"home\"");
  EXPECT_EQ(bad_argument.code(), Errc::invalid_config);
  EXPECT_EQ(bad_argument.message(), "share \"home\": Invalid URL (NSInvalidArgumentException)");
  EXPECT_EQ(error_from_exception("NSInternalInconsistencyException", "queue", "start").code(),
            Errc::backend);
}

}  // namespace
}  // namespace vmm::vz

namespace vmm::vz {
namespace {

// save() returns validateSaveRestoreSupportWithError:'s refusal verbatim, as unsupported.
TEST(VzErrors, SaveRestoreRefusalIsUnsupportedWithTheFrameworksWordsVerbatim) {
  const Error error = save_restore_refusal("Unsupported console device in configuration.");
  EXPECT_EQ(error.code(), Errc::unsupported);
  EXPECT_EQ(error.message(), "Unsupported console device in configuration.");
  const Error silent = save_restore_refusal("");
  EXPECT_EQ(silent.code(), Errc::unsupported);
  EXPECT_NE(silent.message().find("validateSaveRestoreSupportWithError"), std::string::npos);
}

}  // namespace
}  // namespace vmm::vz
