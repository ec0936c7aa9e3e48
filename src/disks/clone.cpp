// Clones for each VM: the platform's copy-on-write clone when the filesystem has one, else a
// sparse copy that keeps holes (a 10 GiB image with 1 GiB of data copies 1 GiB).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "disks/clone_internal.hpp"
#include "runtime/posix.hpp"

namespace vmm::disks {

std::string_view to_string(CloneMethod method) noexcept {
  switch (method) {
    case CloneMethod::reflink: return "reflink";
    case CloneMethod::clonefile: return "clonefile";
    case CloneMethod::sparse_copy: return "sparse_copy";
  }
  return "unknown";
}

Result<CloneMethod> clone(const std::filesystem::path& source,
                          const std::filesystem::path& destination) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source, ec)) {
    return Error(Errc::not_found, "clone source " + vmm::detail::quoted(source) + " is not a file");
  }
  if (std::filesystem::exists(destination, ec)) {
    return Error(Errc::invalid_config, "clone destination " + vmm::detail::quoted(destination) + " exists");
  }
  auto cloned = detail::platform_clone(source, destination);
  if (!cloned) return std::move(cloned).error();
  if (*cloned) return **cloned;
  if (auto copied = detail::sparse_copy(source, destination); !copied) return std::move(copied).error();
  return CloneMethod::sparse_copy;
}

namespace detail {

Result<ClonePair> open_clone_pair(const std::filesystem::path& source,
                                  const std::filesystem::path& destination) {
  using vmm::detail::errno_error;
  using vmm::detail::quoted;
  ClonePair files;
  files.source = FileDescriptor(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!files.source) return errno_error(Errc::not_found, "open " + quoted(source));
  files.destination = FileDescriptor(
      ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!files.destination) return errno_error(Errc::io, "create " + quoted(destination));
  return files;
}

Result<void> sparse_copy(const std::filesystem::path& source,
                         const std::filesystem::path& destination) {
  using vmm::detail::errno_error;
  using vmm::detail::quoted;
  auto files = open_clone_pair(source, destination);
  if (!files) return std::move(files).error();
  const int in = files->source.get();
  const int out = files->destination.get();
  auto fail = [&](const std::string& what) -> Result<void> {
    auto error = errno_error(Errc::io, what);
    ::unlink(destination.c_str());  // the descriptors close with `files`
    return error;
  };
  struct stat st {};
  if (::fstat(in, &st) != 0) return fail("stat " + quoted(source));
  const off_t size = st.st_size;
  std::vector<char> buffer(1 << 20);
  off_t offset = 0;
  while (offset < size) {
    // The next data extent; ENXIO: only a hole is left. A filesystem without SEEK_DATA reports
    // the whole file as data, which makes this a plain copy.
    off_t data = ::lseek(in, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;
      return fail("SEEK_DATA in " + quoted(source));
    }
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) return fail("SEEK_HOLE in " + quoted(source));
    for (off_t at = data; at < hole;) {
      const auto want = static_cast<std::size_t>(std::min<off_t>(hole - at, static_cast<off_t>(buffer.size())));
      const ssize_t n = ::pread(in, buffer.data(), want, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail("read " + quoted(source));
      if (::lseek(out, at, SEEK_SET) < 0 ||
          !vmm::detail::write_all(out, std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
        return fail("write " + quoted(destination));
      }
      at += n;
    }
    offset = hole;
  }
  // The length, with a trailing hole.
  if (::ftruncate(out, size) != 0 || ::fsync(out) != 0) return fail("finish " + quoted(destination));
  return {};
}

}  // namespace detail
}  // namespace vmm::disks
