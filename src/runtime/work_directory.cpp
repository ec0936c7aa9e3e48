// vmm internal: the VM's working directory.
#include "runtime/work_directory.hpp"

#include <string>
#include <system_error>
#include <utility>

#include "runtime/posix.hpp"

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
  // Unique and private (0700) in one step.
  auto made = make_unique_directory(temp / "vmm-", "a working directory");
  if (!made) return Error(Errc::io, "create: " + made.error().message());
  return WorkDirectory(std::move(*made), true);
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
