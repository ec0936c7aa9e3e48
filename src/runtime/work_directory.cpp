// vmm internal: the VM's working directory.
#include "runtime/work_directory.hpp"

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace vmm::detail {

namespace fs = std::filesystem;

Result<WorkDirectory> WorkDirectory::prepare(const fs::path& requested) {
  std::error_code ec;
  if (!requested.empty()) {
    fs::create_directories(requested, ec);
    if (ec || !fs::is_directory(requested, ec)) {
      return make_error(Errc::io, "create: working directory " + requested.string() +
                                      " cannot be created: " +
                                      (ec ? ec.message() : std::string("not a directory")));
    }
    return WorkDirectory(requested, false);
  }
  const fs::path temp = fs::temp_directory_path(ec);
  if (ec) {
    return make_error(Errc::io, "create: no temporary directory: " + ec.message());
  }
  // mkdtemp makes the name unique and the directory private (0700) in one step.
  std::string pattern = (temp / "vmm-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    const int err = errno;
    return make_error(Errc::io, "create: cannot create a working directory in " + temp.string() +
                                    ": " + std::strerror(err));
  }
  return WorkDirectory(fs::path(buffer.data()), true);
}

WorkDirectory::WorkDirectory(WorkDirectory&& other) noexcept
    : path_(std::move(other.path_)), owned_(std::exchange(other.owned_, false)) {
  other.path_.clear();
}

WorkDirectory& WorkDirectory::operator=(WorkDirectory&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    owned_ = std::exchange(other.owned_, false);
    other.path_.clear();
  }
  return *this;
}

WorkDirectory::~WorkDirectory() { remove(); }

void WorkDirectory::remove() noexcept {
  if (owned_ && !path_.empty()) {
    std::error_code ignored;  // best effort: a leftover temp directory is not worth a failure
    fs::remove_all(path_, ignored);
  }
  owned_ = false;
}

}  // namespace vmm::detail
