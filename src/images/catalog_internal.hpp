// vmm internal: the catalog's helpers shared by catalog.cpp, arch.cpp, the cache and the tests.
#pragma once

#include <string>
#include <string_view>

#include "vmm/images.hpp"

namespace vmm::images::detail {

// The built-in catalog document (generated from src/images/catalog.json at configure time).
std::string_view builtin_catalog_json();
// http:// or https:// with a host; invalid_config saying what is wrong otherwise.
Result<void> check_url(std::string_view url);
// Lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, 1..64 bytes.
Result<void> check_image_name(std::string_view name);
// The asset's file name in its manifest: manifest_name, else the URL's last path component.
std::string manifest_name_of(const Asset& asset);

}  // namespace vmm::images::detail
