// parse_snapshot_manifest (what read_snapshot_manifest runs on manifest.json) on arbitrary bytes.
// Properties: never throws; rejections are invalid_config errors naming a JSON path; an accepted
// manifest has a state file that is one plain name inside the bundle and survives
// manifest_to_json -> parse unchanged, with byte-identical text the second time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "snapshot/manifest.hpp"

namespace {

bool same(const vmm::SnapshotManifest& a, const vmm::SnapshotManifest& b) {
  return a.format_version == b.format_version && a.backend == b.backend && a.config == b.config &&
         a.digests == b.digests &&
         a.state_file == b.state_file && a.created_at == b.created_at &&
         a.library_version == b.library_version && a.serial_port == b.serial_port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto manifest = vmm::detail::parse_snapshot_manifest(text);
  if (!manifest) {
    FUZZ_CHECK(manifest.error().code() == vmm::Errc::invalid_config, manifest.error().to_string());
    FUZZ_CHECK(manifest.error().message().rfind("$", 0) == 0,
               "error does not name a JSON path: " + manifest.error().message());
    return 0;
  }
  const auto& state = manifest->state_file;
  FUZZ_CHECK(!state.empty() && state != "." && state != ".." &&
                 state.find('/') == std::string::npos && state.find('\0') == std::string::npos,
             "state file escapes the bundle: " + state);
  const auto written = vmm::detail::manifest_to_json(*manifest);
  const auto again = vmm::detail::parse_snapshot_manifest(written);
  FUZZ_CHECK(again.has_value(),
             "written manifest rejected: " + again.error().message() + "\n" + written);
  FUZZ_CHECK(same(*again, *manifest), "round trip changed the manifest:\n" + written);
  FUZZ_CHECK(vmm::detail::manifest_to_json(*again) == written, "second manifest_to_json differs");
  return 0;
}
