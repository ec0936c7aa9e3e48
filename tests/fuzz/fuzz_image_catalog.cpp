// Catalog::parse (image catalog documents) on arbitrary bytes. Properties: never throws;
// rejections are invalid_config errors naming the document; an accepted catalog's entries have
// valid names, http(s) URLs and a manifest file name for every asset, the assets their boot kind
// needs, and each is found again by name and architecture.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "images/catalog_internal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vmm::images;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto catalog = Catalog::parse(text, "catalog.json");
  if (!catalog) {
    FUZZ_CHECK(catalog.error().code() == vmm::Errc::invalid_config, catalog.error().to_string());
    FUZZ_CHECK(catalog.error().message().rfind("catalog.json: $", 0) == 0,
               "error does not name the document and path: " + catalog.error().message());
    return 0;
  }
  for (const auto& entry : catalog->entries()) {
    FUZZ_CHECK(detail::check_image_name(entry.name).has_value(), "bad name: " + entry.name);
    for (const auto* asset : {&entry.kernel, &entry.initrd, &entry.disk}) {
      if (!*asset) continue;
      FUZZ_CHECK(detail::check_url((*asset)->url).has_value(), "bad url: " + (*asset)->url);
      FUZZ_CHECK(detail::check_url((*asset)->manifest_url).has_value(),
                 "bad manifest url: " + (*asset)->manifest_url);
      FUZZ_CHECK(!detail::manifest_name_of(**asset).empty(), "no manifest name: " + (*asset)->url);
    }
    if (entry.boot == BootKind::linux_direct) FUZZ_CHECK(entry.kernel.has_value(), "linux without kernel");
    if (entry.boot == BootKind::efi) FUZZ_CHECK(entry.disk && !entry.kernel, "efi without disk");
    const auto found = catalog->find(entry.name, entry.arch);
    FUZZ_CHECK(found.has_value() && *found == entry, "entry not found again: " + entry.name);
  }
  return 0;
}
