// vmm internal (QEMU backend): the state file writer (see state_file_writer.hpp).
#include "qemu/state_file_writer.hpp"

#if defined(__linux__)

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "runtime/file_digest.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

namespace {

// A bigger pipe means fewer wake-ups per GiB; the kernel may grant less (pipe-max-size).
constexpr int pipe_size = 1 << 20;
constexpr std::size_t chunk_size = 1 << 20;
// Writeback is started each time this much more has been written.
constexpr std::size_t writeback_every = 16u << 20;

}  // namespace

struct StateFileWriter::State {
  std::filesystem::path path;
  FileDescriptor file;
  FileDescriptor read_end;
  FileDescriptor write_end;
  FileDescriptor wake;  // eventfd: abandon() tells the thread to stop
  std::thread thread;

  std::mutex mutex;  // guards the three below
  std::condition_variable done_changed;
  bool done = false;  // the thread has finished (EOF, failure or told to stop)
  std::optional<Error> error;
  std::string digest;
  bool finished = false;  // finish() succeeded: keep the file

  Error io_error(std::string_view what, int err) const {
    return Error(Errc::io, fmt::format("{} the state file {}: {}", what, path.string(),
                                       std::strerror(err)));
  }

  void drain() {
    detail::DigestStream hash;
    std::vector<char> buffer(chunk_size);
    std::size_t since_writeback = 0;
    std::optional<Error> failure;
    for (;;) {
      std::array<pollfd, 2> fds{{{read_end.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        failure = Error(Errc::io, fmt::format("poll: {}", std::strerror(errno)));
        break;
      }
      if (fds[1].revents != 0) break;  // abandoned
      const ssize_t n = ::read(read_end.get(), buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        failure = io_error("cannot read the stream for", errno);
        break;
      }
      if (n == 0) {  // every write end closed: the stream is complete
        if (::fsync(file.get()) != 0) failure = io_error("cannot write", errno);
        break;
      }
      const auto size = static_cast<std::size_t>(n);
      hash.update(buffer.data(), size);
      if (auto written = write_all(buffer.data(), size); !written) {
        failure = written.error();
        break;
      }
      since_writeback += size;
      if (since_writeback >= writeback_every) {
        ::sync_file_range(file.get(), 0, 0, SYNC_FILE_RANGE_WRITE);  // starts I/O, never waits
        since_writeback = 0;
      }
    }
    const bool failed = failure.has_value();
    {
      std::lock_guard lock(mutex);
      error = std::move(failure);
      if (!failed) digest = hash.finish();
    }
    // On failure QEMU must not block on a full pipe: closing the read end makes its next
    // write fail with EPIPE. Only after the error is recorded, so that whoever hears of QEMU's
    // failure finds the cause here.
    if (failed) read_end.reset();
    std::lock_guard lock(mutex);
    done = true;
    done_changed.notify_all();
  }

  Result<void> write_all(const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(file.get(), data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Unexpected(io_error("cannot write", errno));
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return {};
  }
};

StateFileWriter::StateFileWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

StateFileWriter::~StateFileWriter() {
  if (!state_->finished) abandon();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<std::unique_ptr<StateFileWriter>> StateFileWriter::create(
    const std::filesystem::path& path) {
  auto state = std::make_unique<State>();
  state->path = path;
  state->file.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!state->file) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot create the state file {}: {}", path.string(),
                                  std::strerror(errno)));
  }
  std::array<int, 2> ends{};
  state->wake.reset(::eventfd(0, EFD_CLOEXEC));
  if (!state->wake || ::pipe2(ends.data(), O_CLOEXEC) != 0) {
    const Error error(Errc::io, fmt::format("pipe: {}", std::strerror(errno)));
    ::unlink(path.c_str());
    return Unexpected(error);
  }
  state->read_end.reset(ends[0]);
  state->write_end.reset(ends[1]);
  (void)::fcntl(state->write_end.get(), F_SETPIPE_SZ, pipe_size);  // best effort
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->drain(); });
  return std::unique_ptr<StateFileWriter>(new StateFileWriter(std::move(state)));
}

int StateFileWriter::qemu_end() const { return state_->write_end.get(); }

void StateFileWriter::close_qemu_end() { state_->write_end.reset(); }

std::optional<Error> StateFileWriter::write_error() const {
  std::lock_guard lock(state_->mutex);
  return state_->error;
}

Result<std::string> StateFileWriter::finish(std::chrono::milliseconds timeout) {
  close_qemu_end();
  std::unique_lock lock(state_->mutex);
  if (!state_->done_changed.wait_for(lock, timeout, [&] { return state_->done; })) {
    lock.unlock();
    abandon();
    return make_error(Errc::backend,
                      fmt::format("QEMU did not close the stream of the state file {}",
                                  state_->path.string()));
  }
  if (state_->error) {
    Error error = *state_->error;
    lock.unlock();
    abandon();
    return Unexpected(std::move(error));
  }
  state_->finished = true;
  return state_->digest;
}

void StateFileWriter::abandon() noexcept {
  if (state_->finished) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(state_->wake.get(), &one, sizeof one);
  if (state_->thread.joinable()) state_->thread.join();
  state_->read_end.reset();
  state_->write_end.reset();
  if (state_->file) {
    // The space is ours to free now: nobody else has this file open.
    [[maybe_unused]] const int rc = ::ftruncate(state_->file.get(), 0);
    ::unlink(state_->path.c_str());
    state_->file.reset();
  }
}

namespace {

// Copies `from` (from its start) to the end of `to`; -1 with errno on failure, else 0.
ssize_t copy_through_buffer(int from, int to) {
  std::vector<char> buffer(chunk_size);
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(from, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return -1;
      done += w;
    }
    offset += n;
  }
}

}  // namespace

Result<void> copy_state_file(int from, const std::filesystem::path& path) {
  FileDescriptor file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!file) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot create the state file {}: {}", path.string(),
                                  std::strerror(errno)));
  }
  loff_t in_offset = 0;
  ssize_t n = 0;
  do {
    n = ::copy_file_range(from, &in_offset, file.get(), nullptr, 1 << 30, 0);
  } while (n > 0 || (n < 0 && errno == EINTR));
  // Another filesystem (EXDEV) or one without copy_file_range: copy through a buffer.
  if (n < 0 && in_offset == 0 &&
      (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
    n = copy_through_buffer(from, file.get());
  }
  if (n < 0 || ::fsync(file.get()) != 0) {
    const int err = errno;
    [[maybe_unused]] const int rc = ::ftruncate(file.get(), 0);  // frees the space now
    ::unlink(path.c_str());
    return make_error(Errc::io, fmt::format("cannot write the state file {}: {}", path.string(),
                                            std::strerror(err)));
  }
  return {};
}

}  // namespace vmm::qemu

#endif  // __linux__
