// cmake/vmm_codesign.cmake: the entitlements plist it writes, checked by running it with
// `cmake -P` from the source tree (the module must work wherever it is included from).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace vmm::vz {
namespace {

// VMM_SOURCE_DIR comes from tests/CMakeLists.txt: __FILE__ may be relative (ccache's base_dir
// rewriting, -ffile-prefix-map), so it cannot locate the source tree.
const std::filesystem::path module_path =
    std::filesystem::path(VMM_SOURCE_DIR) / "cmake" / "vmm_codesign.cmake";

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string entitlements(const test::Scratch& scratch, const std::string& arguments) {
  const auto output = scratch.dir() / "out.plist";
  const auto script = scratch.file(
      "write.cmake", "include(\"" + module_path.string() + "\")\nvmm_write_entitlements(\"" +
                         output.string() + "\" " + arguments + ")\n");
  const std::string command = "cmake -P \"" + script.string() + "\"";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return read_all(output);
}

TEST(VzCodesignModule, DefaultPlistHasOnlyTheVirtualizationEntitlement) {
  ASSERT_TRUE(std::filesystem::exists(module_path)) << module_path;
  test::Scratch scratch;
  const auto plist = entitlements(scratch, "");
  EXPECT_NE(plist.find("<key>com.apple.security.virtualization</key>\n\t<true/>"),
            std::string::npos)
      << plist;
  EXPECT_EQ(plist.find("com.apple.vm.networking"), std::string::npos) << plist;
  EXPECT_NE(plist.find("</dict>\n</plist>"), std::string::npos) << plist;
}

TEST(VzCodesignModule, NetworkingAddsTheNetworkingEntitlement) {
  test::Scratch scratch;
  const auto plist = entitlements(scratch, "NETWORKING");
  EXPECT_NE(plist.find("<key>com.apple.security.virtualization</key>"), std::string::npos);
  EXPECT_NE(plist.find("<key>com.apple.vm.networking</key>\n\t<true/>"), std::string::npos)
      << plist;
}

}  // namespace
}  // namespace vmm::vz
