// vmm internal (QEMU backend): a QMP client over a connected stream socket.
//
// One reader thread splits the stream into messages, completes the waiting execute() call by
// reply id and hands events to the event handler. When the peer closes or misbehaves (garbage,
// an over-long line), every pending and later command fails with an error naming QEMU.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "qemu/qmp_message.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

class QmpClient {
 public:
  // Called on the reader thread, no client lock held. Must not destroy the client.
  using EventHandler = std::function<void(const std::string& event, const nlohmann::json& data)>;
  // Called once on the reader thread when the stream ends (EOF, error, garbage).
  using CloseHandler = std::function<void(const Error& reason)>;

  // Waits for the greeting and negotiates capabilities (qmp_capabilities), all within
  // `timeout`. `max_line` bounds one message (see QmpMessageSplitter).
  static Result<std::unique_ptr<QmpClient>> connect(
      FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
      std::chrono::milliseconds timeout,
      std::size_t max_line = QmpMessageSplitter::default_max_line);

  // Closes the connection, fails pending commands (cancelled) and joins the reader.
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Sends one command and waits for its reply: the "return" value, `backend` with QEMU's error
  // class and description, `backend` when the connection closed, `timeout` after `timeout`.
  // `pass_fd` (if >= 0) travels with the command as SCM_RIGHTS, as `getfd` and `add-fd` expect.
  Result<nlohmann::json> execute(std::string_view command,
                                 const nlohmann::json& arguments = nlohmann::json::object(),
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                 int pass_fd = -1);

  // Waits until the reader has reached the end of the stream (every message before it has been
  // dispatched). True when it has.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Why the connection ended, once it has.
  std::optional<Error> close_reason() const;

 private:
  QmpClient(FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
            std::size_t max_line);
  void read_loop();
  void dispatch(QmpMessage message);
  void fail_all(Error reason);
  Result<void> send(const std::string& text, int pass_fd);

  FileDescriptor socket_;
  EventHandler on_event_;
  CloseHandler on_close_;
  std::size_t max_line_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool greeted_ = false;
  std::optional<Error> closed_;            // set once, when the stream ends
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::optional<Result<nlohmann::json>>> pending_;
  std::mutex write_mutex_;
  std::thread reader_;
};

}  // namespace vmm::qemu
