// vmm internal (QEMU backend): a QMP client over a connected stream socket, driven by the thread
// that uses it (the QEMU engine's worker) — no reader thread of its own.
//
// Whoever waits reads: execute() sends a command and reads the socket until its reply arrives,
// handing every event met on the way to the event handler; read_available() reads what has
// arrived (the worker polls fd() next to its work queue); wait_until() reads until a condition
// on the events holds. A reply thus reaches the waiting thread without a hand-off. When the
// peer closes or misbehaves (garbage, an over-long line), the command and every later one fail
// with an error naming QEMU. One thread reads (every call but send_command); send_command may
// be called from any thread at the same time, so that a caller can put a command on the wire
// itself and leave only its reply to the reading thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "qemu/qmp_message.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

class QmpClient {
 public:
  // Called on the reading thread, inside the client's calls. Must not call into the client.
  using EventHandler = std::function<void(const std::string& event, const nlohmann::json& data)>;
  // Called once, on the reading thread, when the stream ends (EOF, error, garbage), or from the
  // destructor (cancelled) if it had not ended before.
  using CloseHandler = std::function<void(const Error& reason)>;
  // The answer to a send_command(): the "return" value or the error execute() would return.
  using ReplyHandler = std::function<void(Result<nlohmann::json> reply)>;

  // Waits for the greeting and negotiates capabilities (qmp_capabilities), all within
  // `timeout`. `max_line` bounds one message (see QmpMessageSplitter).
  static Result<std::unique_ptr<QmpClient>> connect(
      FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
      std::chrono::milliseconds timeout,
      std::size_t max_line = QmpMessageSplitter::default_max_line);

  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Sends one command and reads until its reply: the "return" value, `backend` with QEMU's
  // error class and description, `backend` when the connection closed, `timeout` after
  // `timeout`. `pass_fd` (if >= 0) travels with the command as SCM_RIGHTS, as `getfd` and
  // `add-fd` expect.
  Result<nlohmann::json> execute(std::string_view command,
                                 const nlohmann::json& arguments = nlohmann::json::object(),
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                 int pass_fd = -1);

  // Any thread: sends `command` (no arguments) and returns at once. `on_reply` is called exactly
  // once on the reading thread, inside read_available(), execute(), wait_until() or
  // expire_overdue(): with the reply; with `timeout` once `timeout` has passed; or with the
  // close reason when the connection ends (from the destructor too). On an error here (the
  // connection has ended, the send failed) `on_reply` is not kept and never called.
  Result<void> send_command(std::string_view command, ReplyHandler on_reply,
                            std::chrono::milliseconds timeout);
  // Reading thread: fails the sent commands whose time is up; returns how long until the next
  // one's, or nullopt when none is waiting.
  std::optional<std::chrono::milliseconds> expire_overdue();

  // The socket to poll for readability; -1 once the connection has ended (nothing more to read).
  int fd() const { return closed_ ? -1 : socket_.get(); }
  // Reads and dispatches what has arrived, without blocking.
  void read_available();
  // Reads until `done()` holds (checked after every message), the stream ends, `wake_fd` (if
  // >= 0) becomes readable, or `timeout` passes. Returns done().
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                  int wake_fd = -1);
  // Reads up to the end of the stream (every message before it is dispatched). True when it
  // ended within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Why the connection ended, once it has.
  const std::optional<Error>& close_reason() const { return closed_; }

 private:
  QmpClient(FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
            std::size_t max_line);
  // One poll + recv within `timeout` (0: do not block); dispatches the complete messages.
  // False when nothing could be read (timeout, `wake_fd`, or the stream has ended).
  bool read_once(std::chrono::milliseconds timeout, int wake_fd = -1);
  void dispatch(QmpMessage message);
  void close(Error reason);
  Result<void> send(const std::string& text, int pass_fd);
  // One command line, with its id (every command has one: replies are matched by it).
  Result<void> send_request(std::uint64_t id, std::string_view command,
                            const nlohmann::json& arguments, int pass_fd);

  FileDescriptor socket_;
  EventHandler on_event_;
  CloseHandler on_close_;
  QmpMessageSplitter splitter_;

  bool greeted_ = false;
  std::optional<Error> closed_;  // set once, when the stream ends (reading thread)
  std::atomic<std::uint64_t> next_id_{1};
  std::mutex send_mutex_;  // one command on the wire at a time (send_command from any thread)
  // Commands sent by send_command, by id, waiting for their replies.
  struct Sent {
    std::string command;
    ReplyHandler on_reply;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds timeout;
  };
  // Takes the command waiting for reply `id` (send_command), if any.
  std::optional<Sent> take_sent(std::uint64_t id);
  // Fails every sent command with `reason` (the connection ended).
  void fail_sent(const Error& reason);
  std::mutex sent_mutex_;
  std::map<std::uint64_t, Sent> sent_;
  bool accepting_ = true;  // under sent_mutex_: false once the connection has ended
  std::uint64_t awaited_id_ = 0;                   // the command execute() waits for
  std::optional<Result<nlohmann::json>> reply_;  // its reply, once read
};

}  // namespace vmm::qemu
