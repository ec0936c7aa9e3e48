// tests/support/fake_guest_agent.hpp
#include "support/fake_guest_agent.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/posix.hpp"

namespace vmm::test {

FakeGuestAgent::FakeGuestAgent(FileDescriptor end, FakeGuestAgentBehaviour behaviour)
    : end_(std::move(end)), behaviour_(std::move(behaviour)), thread_([this] { serve(); }) {}

FakeGuestAgent::~FakeGuestAgent() {
  ::shutdown(end_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

std::vector<std::int64_t> FakeGuestAgent::times_set() const {
  std::lock_guard lock(mutex_);
  return times_;
}

std::vector<std::string> FakeGuestAgent::commands() const {
  std::lock_guard lock(mutex_);
  return commands_;
}

void FakeGuestAgent::serve() {
  std::string buffer;
  char chunk[4096];
  while (true) {
    const ssize_t got = ::read(end_.get(), chunk, sizeof chunk);
    if (got <= 0) return;
    for (ssize_t i = 0; i < got; ++i) {
      // qemu-ga resets its parser on 0xFF: drop what came before it on the line.
      if (chunk[i] == '\xff') {
        buffer.clear();
        continue;
      }
      if (chunk[i] != '\n') {
        buffer += chunk[i];
        continue;
      }
      answer(buffer);
      buffer.clear();
    }
  }
}

void FakeGuestAgent::answer(const std::string& line) {
  const auto request = nlohmann::json::parse(line, nullptr, false);
  if (!request.is_object() || !request.contains("execute")) return;
  const auto name = request["execute"].get<std::string>();
  {
    std::lock_guard lock(mutex_);
    commands_.push_back(name);
    if (name == "guest-set-time") times_.push_back(request["arguments"]["time"].get<std::int64_t>());
  }
  if (behaviour_.silent) return;
  std::string reply;
  if (name == "guest-sync-delimited") {
    if (!stale_sent_) reply += behaviour_.before_sync;
    stale_sent_ = true;
    reply += '\xff';
    reply += nlohmann::json{{"return", request["arguments"]["id"]}}.dump() + "\n";
  } else if (name == "guest-set-time" && behaviour_.set_time_error_class) {
    reply = nlohmann::json{{"error",
                            {{"class", *behaviour_.set_time_error_class},
                             {"desc", behaviour_.set_time_error_desc}}}}
                .dump() +
            "\n";
  } else {
    reply = "{\"return\": {}}\n";
  }
  (void)detail::write_all(end_.get(), reply);
}

}  // namespace vmm::test
