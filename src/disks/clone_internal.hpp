// vmm internal: the platform's copy-on-write clone, chosen by CMake:
// platform/reflink_linux.cpp (FICLONE) or platform/clonefile_apple.cpp (clonefile).
#pragma once

#include <filesystem>
#include <optional>

#include "vmm/disks.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::disks::detail {

// The source opened for reading and the destination created (it must not exist), as every
// clone method starts: not_found naming the source, io naming the destination.
struct ClonePair {
  FileDescriptor source;
  FileDescriptor destination;
};
Result<ClonePair> open_clone_pair(const std::filesystem::path& source,
                                  const std::filesystem::path& destination);

// The clone's method when the filesystem made one; nullopt when it cannot (then the caller
// copies), an error when something else failed. `destination` must not exist; on nullopt it
// does not exist afterwards either.
Result<std::optional<CloneMethod>> platform_clone(const std::filesystem::path& source,
                                                  const std::filesystem::path& destination);

// A copy of only the data extents of `source` (SEEK_DATA/SEEK_HOLE), holes left as holes.
Result<void> sparse_copy(const std::filesystem::path& source,
                         const std::filesystem::path& destination);

}  // namespace vmm::disks::detail
