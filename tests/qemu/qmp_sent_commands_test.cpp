// QmpClient::send_command: a command put on the wire by any thread, its reply (or its failure)
// handed to the reading thread. The QEMU engine sends pause/resume this way from the caller's
// thread (Core::send_now).
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "qemu/fake_qmp_peer.hpp"
#include "qemu/qmp_client.hpp"

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::socket_pair;

// What a ReplyHandler was called with, and on which thread.
struct Answer {
  std::optional<Result<json>> reply;
  std::thread::id thread;
  int calls = 0;
  QmpClient::ReplyHandler handler() {
    return [this](Result<json> r) {
      reply = std::move(r);
      thread = std::this_thread::get_id();
      ++calls;
    };
  }
};

TEST(QmpSentCommands, ReplyReachesTheReadingThreadAfterTheEventsBeforeIt) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    const auto command = s->read_command();
    EXPECT_EQ(command["execute"], "stop");
    EXPECT_FALSE(command.contains("arguments"));
    s->send(R"({"event": "STOP", "data": {}, "timestamp": {}})");
    s->reply(command, {{"done", true}});
  });
  std::vector<std::string> events;
  auto client = QmpClient::connect(
      std::move(end), [&](const std::string& name, const json&) { events.push_back(name); }, {},
      5s);
  ASSERT_TRUE(client.has_value()) << client.error().to_string();
  Answer answer;
  // Sent from another thread, as a caller of VirtualMachine::pause does.
  std::thread sender(
      [&] { EXPECT_TRUE((*client)->send_command("stop", answer.handler(), 5s).has_value()); });
  sender.join();
  EXPECT_EQ(answer.calls, 0);  // never from inside send_command
  ASSERT_TRUE((*client)->wait_until([&] { return answer.calls > 0; }, 5s));
  qemu.join();
  EXPECT_EQ(answer.thread, std::this_thread::get_id());
  ASSERT_TRUE(answer.reply->has_value());
  EXPECT_EQ((**answer.reply)["done"], true);
  EXPECT_EQ(events, std::vector<std::string>{"STOP"});  // dispatched before the reply
}

TEST(QmpSentCommands, RepliesAreMatchedByIdWhileExecuteWaitsForItsOwn) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    const auto sent = s->read_command();
    const auto executed = s->read_command();
    EXPECT_EQ(sent["execute"], "cont");
    EXPECT_EQ(executed["execute"], "query-status");
    // Answered out of order: each reply must still reach its own caller.
    s->reply(executed, {{"status", "running"}});
    s->send(json{{"error", {{"class", "GenericError"}, {"desc", "nope"}}}, {"id", sent["id"]}}
                .dump());
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  Answer answer;
  ASSERT_TRUE((*client)->send_command("cont", answer.handler(), 5s).has_value());
  const auto status = (*client)->execute("query-status");
  ASSERT_TRUE(status.has_value()) << status.error().to_string();
  EXPECT_EQ((*status)["status"], "running");
  ASSERT_TRUE((*client)->wait_until([&] { return answer.calls > 0; }, 5s));
  qemu.join();
  ASSERT_FALSE(answer.reply->has_value());
  EXPECT_EQ(answer.reply->error().code(), Errc::backend);
  // Named like execute()'s errors: the command, QEMU's class and description.
  EXPECT_NE(answer.reply->error().message().find("cont"), std::string::npos);
  EXPECT_NE(answer.reply->error().message().find("GenericError: nope"), std::string::npos);
}

TEST(QmpSentCommands, TheConnectionEndingFailsThemAndRefusesNewOnes) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();
    s->close();
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  Answer answer;
  ASSERT_TRUE((*client)->send_command("stop", answer.handler(), 30s).has_value());
  EXPECT_TRUE((*client)->wait_closed(5s));
  qemu.join();
  ASSERT_EQ(answer.calls, 1);
  ASSERT_FALSE(answer.reply->has_value());
  EXPECT_EQ(answer.reply->error().code(), Errc::backend);
  EXPECT_NE(answer.reply->error().message().find("QEMU closed"), std::string::npos);
  // Once it has ended, a new command is refused at once and its handler is never kept.
  Answer later;
  const auto sent = (*client)->send_command("cont", later.handler(), 5s);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), Errc::backend);
  EXPECT_EQ(later.calls, 0);
}

TEST(QmpSentCommands, DestroyingTheClientCancelsThem) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] { s->handshake(); });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  qemu.join();
  ASSERT_TRUE(client.has_value());
  Answer answer;
  ASSERT_TRUE((*client)->send_command("stop", answer.handler(), 30s).has_value());
  client->reset();
  ASSERT_EQ(answer.calls, 1);
  ASSERT_FALSE(answer.reply->has_value());
  EXPECT_EQ(answer.reply->error().code(), Errc::cancelled);
}

TEST(QmpSentCommands, AnUnansweredOneTimesOutWhenTheReaderExpiresIt) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();
    (void)s->read_command();  // and answer neither
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  EXPECT_FALSE((*client)->expire_overdue().has_value());  // nothing waits
  Answer quick, slow;
  ASSERT_TRUE((*client)->send_command("stop", quick.handler(), 20ms).has_value());
  ASSERT_TRUE((*client)->send_command("cont", slow.handler(), 60s).has_value());
  const auto first = (*client)->expire_overdue();
  ASSERT_TRUE(first.has_value());
  EXPECT_LE(*first, 21ms);  // the reader's next wake-up: the earliest deadline
  std::this_thread::sleep_for(40ms);
  const auto next = (*client)->expire_overdue();
  ASSERT_EQ(quick.calls, 1);
  ASSERT_FALSE(quick.reply->has_value());
  EXPECT_EQ(quick.reply->error().code(), Errc::timeout);
  EXPECT_NE(quick.reply->error().message().find("stop"), std::string::npos);
  EXPECT_EQ(slow.calls, 0);
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, 50s);
  qemu.join();
  // Destroying the client cancels the one still waiting (while `slow` is alive to hear it).
  client->reset();
  ASSERT_EQ(slow.calls, 1);
  EXPECT_EQ(slow.reply->error().code(), Errc::cancelled);
}

// Several threads send while the reading thread executes its own commands: every reply reaches
// its own handler, each exactly once, and no command is torn on the wire.
TEST(QmpSentCommands, ConcurrentSendersAndAReaderShareTheConnection) {
  constexpr int senders = 4;
  constexpr int per_sender = 50;
  constexpr int executed = 20;
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    for (int i = 0; i < senders * per_sender + executed; ++i) {
      const auto command = s->read_command();
      ASSERT_TRUE(command.contains("id"));
      s->reply(command, {{"echo", command["execute"]}});
    }
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  std::vector<std::atomic<int>> answered(senders * per_sender);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_sender; ++i) {
        const int index = t * per_sender + i;
        const std::string name = "cmd-" + std::to_string(index);
        auto sent = (*client)->send_command(
            name,
            [&, index, name](Result<json> reply) {
              EXPECT_TRUE(reply.has_value());
              if (reply) {
                EXPECT_EQ((*reply)["echo"], name);
              }
              ++answered[static_cast<std::size_t>(index)];
              ++total;
            },
            30s);
        EXPECT_TRUE(sent.has_value());
      }
    });
  }
  for (int i = 0; i < executed; ++i) {
    const auto reply = (*client)->execute("query-status");
    ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
    EXPECT_EQ((*reply)["echo"], "query-status");
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE((*client)->wait_until([&] { return total == senders * per_sender; }, 10s));
  qemu.join();
  for (const auto& count : answered) EXPECT_EQ(count.load(), 1);
}

}  // namespace
}  // namespace vmm::qemu
