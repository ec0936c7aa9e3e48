// QMP: the pure message splitter/parser, and the client against a fake QEMU on a socketpair.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "qemu/qmp_client.hpp"
#include "qemu/qmp_message.hpp"
#include "qemu/fake_qmp_peer.hpp"

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::FakeQemu;
using test::socket_pair;

// ---- splitter and parser ----------------------------------------------------------------

TEST(QmpMessageSplitter, SplitsLinesAcrossArbitraryChunks) {
  QmpMessageSplitter splitter;
  std::vector<std::string> lines;
  ASSERT_TRUE(splitter.feed("{\"return\"", lines));
  EXPECT_TRUE(lines.empty());
  ASSERT_TRUE(splitter.feed(": {}}\r\n{\"event\": \"STOP\"}\r\n{\"ret", lines));
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"return\": {}}", "{\"event\": \"STOP\"}"}));
  EXPECT_EQ(splitter.buffered(), 5u);
}

TEST(QmpMessageSplitter, RefusesAnOverlongLineAndStaysFailed) {
  QmpMessageSplitter splitter(8);
  std::vector<std::string> lines;
  EXPECT_TRUE(splitter.feed("12345678\n", lines));
  const auto failed = splitter.feed("123456789", lines);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), Errc::io);
  EXPECT_FALSE(splitter.feed("\n", lines).has_value());
  EXPECT_EQ(lines.size(), 1u);
}

TEST(ParseQmpMessage, ClassifiesEveryShape) {
  const auto greeting = parse_qmp_message(R"({"QMP": {"version": {}, "capabilities": []}})");
  ASSERT_TRUE(greeting.has_value());
  EXPECT_EQ(greeting->kind, QmpMessage::Kind::greeting);

  const auto ok = parse_qmp_message(R"({"return": {"status": "running"}, "id": 7})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->kind, QmpMessage::Kind::success);
  EXPECT_EQ(ok->id, 7u);
  EXPECT_EQ(ok->payload["status"], "running");

  const auto error =
      parse_qmp_message(R"({"error": {"class": "GenericError", "desc": "no"}, "id": 8})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, QmpMessage::Kind::error);
  EXPECT_EQ(error->error_class, "GenericError");
  EXPECT_EQ(error->error_description, "no");

  const auto event = parse_qmp_message(
      R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": true}})");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, QmpMessage::Kind::event);
  EXPECT_EQ(event->event, "SHUTDOWN");
  EXPECT_EQ(event->payload["guest"], true);
}

TEST(ParseQmpMessage, GarbageIsAnErrorNotACrash) {
  for (const std::string_view bad :
       {"", "not json", "[1,2]", "42", "{\"unknown\": 1}", "{\"event\": 5}",
        "{\"error\": \"flat\"}", "{\"return\": {}, \"id\": \"text\"}", "{\"return\": {}, \"id\": -1}",
        "{\"return\": ", "\xff\xfe"}) {
    const auto parsed = parse_qmp_message(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), Errc::backend) << bad;
  }
}

// ---- the client against a fake QEMU --------------------------------------------------------

TEST(QmpClient, NegotiatesRepliesToCommandsAndDispatchesEvents) {
  auto [server, end] = socket_pair();
  std::promise<std::pair<std::string, json>> event;
  std::thread qemu([&, s = server.get()] {
    s->handshake();
    const auto command = s->read_command();
    EXPECT_EQ(command["execute"], "query-status");
    EXPECT_FALSE(command.contains("arguments"));
    s->send(R"({"event": "STOP", "data": {"why": "test"}, "timestamp": {}})");
    s->reply(command, {{"status", "paused"}});
    const auto with_args = s->read_command();
    EXPECT_EQ(with_args["arguments"]["uri"], "fd:x");
    s->reply(with_args);
  });
  auto client = QmpClient::connect(
      std::move(end),
      [&](const std::string& name, const json& data) { event.set_value({name, data}); }, {}, 5s);
  ASSERT_TRUE(client.has_value()) << client.error().to_string();
  const auto status = (*client)->execute("query-status");
  ASSERT_TRUE(status.has_value()) << status.error().to_string();
  EXPECT_EQ((*status)["status"], "paused");
  auto received = event.get_future().get();
  EXPECT_EQ(received.first, "STOP");
  EXPECT_EQ(received.second["why"], "test");
  EXPECT_TRUE((*client)->execute("migrate", {{"uri", "fd:x"}}).has_value());
  qemu.join();
}

TEST(QmpClient, ErrorRepliesCarryQemusClassAndDescription) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    const auto command = s->read_command();
    s->send(json{{"error", {{"class", "GenericError"}, {"desc", "No migration in progress"}}},
                 {"id", command["id"]}}
                .dump());
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  const auto result = (*client)->execute("migrate_cancel");
  qemu.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_NE(result.error().message().find("GenericError"), std::string::npos);
  EXPECT_NE(result.error().message().find("No migration in progress"), std::string::npos);
  EXPECT_NE(result.error().message().find("migrate_cancel"), std::string::npos);
}

TEST(QmpClient, PassesADescriptorWithTheCommand) {
  auto [server, end] = socket_pair();
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  std::thread qemu([s = server.get()] {
    s->handshake();
    int received = -1;
    const auto command = s->read_command(&received);
    EXPECT_EQ(command["execute"], "getfd");
    EXPECT_GE(received, 0);
    if (received >= 0) {
      EXPECT_EQ(::write(received, "hi", 2), 2);  // the passed pipe's write end works here
      ::close(received);
    }
    s->reply(command);
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  EXPECT_TRUE((*client)->execute("getfd", {{"fdname", "f"}}, 5s, pipe_fds[1]).has_value());
  qemu.join();
  ::close(pipe_fds[1]);
  std::array<char, 2> got{};
  EXPECT_EQ(::read(pipe_fds[0], got.data(), got.size()), 2);
  ::close(pipe_fds[0]);
  EXPECT_EQ(std::string(got.data(), 2), "hi");
}

TEST(QmpClient, PeerClosingMidCommandFailsItNamingQemu) {
  auto [server, end] = socket_pair();
  std::promise<Error> closed;
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();
    s->close();
  });
  auto client = QmpClient::connect(std::move(end), {},
                                   [&](const Error& reason) { closed.set_value(reason); }, 5s);
  ASSERT_TRUE(client.has_value());
  const auto result = (*client)->execute("cont", json::object(), 30s);
  qemu.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_NE(result.error().message().find("QEMU"), std::string::npos);
  EXPECT_EQ(closed.get_future().get().code(), Errc::backend);
  EXPECT_TRUE((*client)->wait_closed(5s));
  // Later commands fail at once, the same way.
  const auto later = (*client)->execute("stop");
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().code(), Errc::backend);
}

TEST(QmpClient, GarbageFailsPendingCommandsInsteadOfCrashing) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();
    s->send("this is not QMP");
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  const auto result = (*client)->execute("stop", json::object(), 30s);
  qemu.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_NE(result.error().message().find("invalid QMP"), std::string::npos);
}

TEST(QmpClient, OverlongLineFailsTheConnection) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();
    s->send(std::string(300, 'x'));
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s, 256);
  ASSERT_TRUE(client.has_value());
  const auto result = (*client)->execute("stop", json::object(), 30s);
  qemu.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message().find("longer than 256"), std::string::npos);
}

TEST(QmpClient, UnansweredCommandTimesOut) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    (void)s->read_command();  // and never answer
  });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  ASSERT_TRUE(client.has_value());
  const auto result = (*client)->execute("stop", json::object(), 50ms);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::timeout);
  EXPECT_NE(result.error().message().find("stop"), std::string::npos);
  qemu.join();
}

TEST(QmpClient, MissingGreetingTimesOutAndClosedPeerFailsConnect) {
  {
    auto [server, end] = socket_pair();
    const auto client = QmpClient::connect(std::move(end), {}, {}, 50ms);
    ASSERT_FALSE(client.has_value());
    EXPECT_EQ(client.error().code(), Errc::timeout);
  }
  {
    auto [server, end] = socket_pair();
    server->close();
    const auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
    ASSERT_FALSE(client.has_value());
    EXPECT_EQ(client.error().code(), Errc::backend);
  }
}


// The engine's worker reads QMP itself: events and replies reach the thread that waits, with no
// reader thread in between, and events between commands are read when the caller polls.
TEST(QmpClient, EventsAndRepliesAreReadOnTheCallingThread) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] {
    s->handshake();
    s->send(R"({"event": "RESUME", "data": {}, "timestamp": {}})");
    const auto command = s->read_command();
    s->send(R"({"event": "STOP", "data": {}, "timestamp": {}})");
    s->reply(command);
    (void)s->read_command();  // the migrate
    s->send(R"({"event": "MIGRATION", "data": {"status": "active"}, "timestamp": {}})");
    s->send(R"({"event": "MIGRATION", "data": {"status": "completed"}, "timestamp": {}})");
    s->close();
  });
  std::vector<std::string> events;
  std::string status;
  const auto caller = std::this_thread::get_id();
  auto client = QmpClient::connect(
      std::move(end),
      [&](const std::string& name, const json& data) {
        EXPECT_EQ(std::this_thread::get_id(), caller) << name;
        events.push_back(name);
        if (name == "MIGRATION") status = data.value("status", "");
      },
      {}, 5s);
  ASSERT_TRUE(client.has_value()) << client.error().to_string();
  ASSERT_GE((*client)->fd(), 0);
  // An event between commands: nothing reads it until the caller does.
  ASSERT_TRUE((*client)->wait_until([&] { return !events.empty(); }, 5s));
  EXPECT_EQ(events, std::vector<std::string>{"RESUME"});
  // An event sent before a reply is handled before execute() returns.
  ASSERT_TRUE((*client)->execute("stop").has_value());
  EXPECT_EQ(events, (std::vector<std::string>{"RESUME", "STOP"}));
  // A command that is not answered in time times out; its progress comes later as events.
  const auto started = (*client)->execute("migrate", {{"uri", "fd:x"}}, 0ms);
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), Errc::timeout);
  EXPECT_TRUE((*client)->wait_until([&] { return status == "completed"; }, 5s));
  EXPECT_TRUE((*client)->wait_closed(5s));
  EXPECT_EQ((*client)->fd(), -1);  // nothing more to poll once the stream has ended
  qemu.join();
}

TEST(QmpClient, WaitUntilEndsWhenTheWakeDescriptorIsReadable) {
  auto [server, end] = socket_pair();
  std::thread qemu([s = server.get()] { s->handshake(); });
  auto client = QmpClient::connect(std::move(end), {}, {}, 5s);
  qemu.join();
  ASSERT_TRUE(client.has_value());
  std::array<int, 2> wake{};
  ASSERT_EQ(::pipe(wake.data()), 0);
  ASSERT_EQ(::write(wake[1], "x", 1), 1);
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_FALSE((*client)->wait_until([] { return false; }, 30s, wake[0]));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  ::close(wake[0]);
  ::close(wake[1]);
}


}  // namespace
}  // namespace vmm::qemu
