// vmm internal (QEMU backend): copying a guest's RAM file into a template bundle.
//
// The RAM file of a file-backed VM is sparse: pages the guest never touched are holes. The copy
// keeps them holes (SEEK_DATA/SEEK_HOLE), so a template costs the disk only what the guest used,
// and clones read zeros from the holes without any I/O.
#pragma once

#include <cstdint>
#include <filesystem>

#include "vmm/error.hpp"

namespace vmm::qemu {

// Creates `to` (which must not exist) as a copy of `from` with the same size and holes, and
// fsyncs it. On failure (a full disk: ENOSPC) `to` is removed, so its space is free again, and
// the io error names it. Returns the number of bytes of data copied (holes excluded).
Result<std::uint64_t> copy_memory_file(const std::filesystem::path& from,
                                       const std::filesystem::path& to);

}  // namespace vmm::qemu
