// The small validity rules of catalog fields (architecture names: vmm/arch.hpp).
#include <algorithm>
#include <cctype>

#include "images/catalog_internal.hpp"

namespace vmm::images {

namespace detail {

Result<void> check_url(std::string_view url) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) rest = url.substr(8);
  else if (url.rfind("http://", 0) == 0) rest = url.substr(7);
  else return Error(Errc::invalid_config, "\"" + std::string(url) + "\" is not an http(s) URL");
  const auto host_end = rest.find_first_of("/?#");
  if (host_end == 0 || rest.empty()) {
    return Error(Errc::invalid_config, "\"" + std::string(url) + "\" has no host");
  }
  const bool printable = std::all_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable) {
    return Error(Errc::invalid_config, "a URL has spaces or control characters");
  }
  return {};
}

Result<void> check_image_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 64 &&
                  std::isalnum(static_cast<unsigned char>(name.front())) != 0 &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                           c == '_' || c == '-';
                  });
  if (!ok) {
    return Error(Errc::invalid_config,
                 "image name \"" + std::string(name.substr(0, 80)) +
                     "\" must be 1-64 of a-z 0-9 . _ - starting with a letter or digit");
  }
  return {};
}

std::string manifest_name_of(const Asset& asset) {
  if (!asset.manifest_name.empty()) return asset.manifest_name;
  std::string_view url = asset.url;
  url = url.substr(0, url.find_first_of("?#"));
  const auto slash = url.rfind('/');
  const auto scheme = url.find("://");
  if (slash == std::string_view::npos || scheme == std::string_view::npos ||
      slash < scheme + 3 || url.find('/', scheme + 3) == std::string_view::npos) {
    return {};
  }
  return std::string(url.substr(slash + 1));
}

}  // namespace detail
}  // namespace vmm::images
