// vmm internal (QEMU backend): a hole-preserving copy of a guest's RAM file.
#include "qemu/memory_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

namespace {

// Copies [offset, end) of `in` to the same offsets of `out`. copy_file_range first (in-kernel,
// a reflink where the filesystem can); through a buffer across filesystems. 0 or an errno.
int copy_range(int in, int out, off_t offset, off_t end, bool& use_buffer) {
  std::vector<char> buffer;
  while (offset < end) {
    const auto want = static_cast<std::size_t>(end - offset);
    if (!use_buffer) {
      loff_t in_offset = offset;
      loff_t out_offset = offset;
      const ssize_t n = ::copy_file_range(in, &in_offset, out, &out_offset, want, 0);
      if (n > 0) {
        offset += n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return EIO;  // the file shrank under us
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return errno;
      }
      use_buffer = true;
    }
    if (buffer.empty()) buffer.resize(1 << 20);
    const std::size_t chunk = want < buffer.size() ? want : buffer.size();
    const ssize_t got = ::pread(in, buffer.data(), chunk, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return got == 0 ? EIO : errno;
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(got)) {
      const ssize_t put = ::pwrite(out, buffer.data() + done, static_cast<std::size_t>(got) - done,
                                   offset + static_cast<off_t>(done));
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) return put == 0 ? EIO : errno;
      done += static_cast<std::size_t>(put);
    }
    offset += got;
  }
  return 0;
}

}  // namespace

Result<std::uint64_t> copy_memory_file(const std::filesystem::path& from,
                                       const std::filesystem::path& to) {
  FileDescriptor in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot open the guest's RAM file {}: {}", from.string(),
                                  std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(in.get(), &info) != 0) {
    return make_error(Errc::io, fmt::format("cannot stat the guest's RAM file {}: {}",
                                            from.string(), std::strerror(errno)));
  }
  FileDescriptor out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot create the template's RAM file {}: {}", to.string(),
                                  std::strerror(errno)));
  }
  const off_t size = info.st_size;
  std::uint64_t copied = 0;
  bool use_buffer = false;
  int error = 0;
  for (off_t offset = 0; offset < size && error == 0;) {
    const off_t data = ::lseek(in.get(), offset, SEEK_DATA);
    if (data < 0) {
      if (errno != ENXIO) error = errno;  // ENXIO: only a hole is left
      break;
    }
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0) {
      error = errno;
      break;
    }
    if (hole > size) hole = size;
    error = copy_range(in.get(), out.get(), data, hole, use_buffer);
    copied += static_cast<std::uint64_t>(hole - data);
    offset = hole;
  }
  // The size covers a trailing hole; fsync makes the copy durable before the bundle commits.
  if (error == 0 && ::ftruncate(out.get(), size) != 0) error = errno;
  if (error == 0 && ::fsync(out.get()) != 0) error = errno;
  if (error != 0) {
    [[maybe_unused]] const int rc = ::ftruncate(out.get(), 0);  // frees the space now
    ::unlink(to.c_str());
    return make_error(Errc::io, fmt::format("cannot write the template's RAM file {}: {}",
                                            to.string(), std::strerror(error)));
  }
  return copied;
}

}  // namespace vmm::qemu
