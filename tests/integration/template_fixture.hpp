// Integration-test support for templates: boots the test guest with file-backed RAM, lets it
// count, pauses it and saves it as a template bundle.
#pragma once

#include <filesystem>
#include <string>

#include "guest_fixture.hpp"

namespace vmm::testing {

struct MadeTemplate {
  long saved_at = -1;    // the guest's last counter before the save
  std::string failure;   // empty on success
};

// The template's VM has a NAT network and the guest's default options; it is stopped after the
// save.
MadeTemplate make_template(const GuestAssets& assets, const std::filesystem::path& bundle);

}  // namespace vmm::testing
