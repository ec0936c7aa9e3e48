// The qemu-ga client (runtime/guest_agent_client.hpp) against a fake agent on a socketpair, and
// its pure half (runtime/guest_agent_reply.hpp).
#include "runtime/guest_agent_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <optional>
#include <string>
#include <chrono>
#include <thread>
#include <unistd.h>

#include "runtime/guest_agent_reply.hpp"
#include "runtime/posix.hpp"
#include "support/fake_guest_agent.hpp"

namespace vmm::detail {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct Channel {
  FileDescriptor host;
  FileDescriptor guest;
};

Channel channel() {
  auto pair = stream_socketpair();
  EXPECT_TRUE(pair) << pair.error().to_string();
  return {std::move((*pair)[0]), std::move((*pair)[1])};
}

GuestAgentOptions waiting(std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel = nullptr) {
  GuestAgentOptions options;
  options.reply_timeout = timeout;
  options.cancel = cancel;
  return options;
}

test::FakeGuestAgentBehaviour behaviour(bool silent, std::string before_sync = {},
                                        std::optional<std::string> error_class = {},
                                        std::string error_desc = {}) {
  test::FakeGuestAgentBehaviour b;
  b.silent = silent;
  b.before_sync = std::move(before_sync);
  b.set_time_error_class = std::move(error_class);
  b.set_time_error_desc = std::move(error_desc);
  return b;
}

const auto some_time = std::chrono::system_clock::time_point(std::chrono::nanoseconds(
    1'700'000'000'123'456'789LL));

TEST(GuestAgentClient, SynchronisesThenSetsTheTimeInNanoseconds) {
  auto [host, guest] = channel();
  test::FakeGuestAgent agent(std::move(guest));
  const auto set = set_guest_time(host.get(), some_time);
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(agent.commands(), (std::vector<std::string>{"guest-sync-delimited", "guest-set-time"}));
  EXPECT_EQ(agent.times_set(), (std::vector<std::int64_t>{1'700'000'000'123'456'789LL}));
}

TEST(GuestAgentClient, SyncToHostSendsTheHostsCurrentTime) {
  auto [host, guest] = channel();
  test::FakeGuestAgent agent(std::move(guest));
  const auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(sync_guest_time_to_host(host.get()));
  const auto after = std::chrono::system_clock::now();
  ASSERT_EQ(agent.times_set().size(), 1U);
  const auto sent = agent.times_set()[0];
  EXPECT_GE(sent, std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count());
  EXPECT_LE(sent, std::chrono::duration_cast<std::chrono::nanoseconds>(after.time_since_epoch()).count());
}

TEST(GuestAgentClient, DropsGarbageAndStaleRepliesBeforeTheSyncReply) {
  auto [host, guest] = channel();
  // Noise, a stale delimited reply to an older sync, a stale set-time reply, half a line.
  test::FakeGuestAgent agent(std::move(guest),
                             behaviour(false, std::string("garbage \x01\x02\n{\"return\": 12}\n") +
                                                    "\xff{\"return\": 7}\n{\"return\": {}}\n{\"ret"));
  const auto set = set_guest_time(host.get(), some_time);
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(agent.times_set().size(), 1U);
}

TEST(GuestAgentClient, StaleBytesAlreadyInTheChannelAreDropped) {
  auto [host, guest] = channel();
  // A late reply from an earlier exchange waits in the channel before the agent runs.
  ASSERT_TRUE(write_all(guest.get(), "\xff{\"return\": 99}\n{\"error\": {\"class\": \"X\"}}\n"));
  test::FakeGuestAgent agent(std::move(guest));
  const auto set = set_guest_time(host.get(), some_time);
  ASSERT_TRUE(set) << set.error().to_string();
}

TEST(GuestAgentClient, ASilentAgentIsATimeoutNamingTheRequest) {
  auto [host, guest] = channel();
  test::FakeGuestAgent agent(std::move(guest), behaviour(true));
  const auto started = std::chrono::steady_clock::now();
  const auto set = set_guest_time(host.get(), some_time, waiting(300ms));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::timeout);
  EXPECT_THAT(set.error().message(), HasSubstr("no reply to guest-sync-delimited within 300 ms"));
  EXPECT_THAT(set.error().message(), HasSubstr("qemu-ga"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(agent.times_set().empty());
}

TEST(GuestAgentClient, NoAgentAtAllIsATimeoutToo) {
  auto [host, guest] = channel();  // nobody reads the guest end
  const auto set = set_guest_time(host.get(), some_time, waiting(200ms));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::timeout);
}

TEST(GuestAgentClient, AnErrorReplyIsAnErrorNamingIt) {
  auto [host, guest] = channel();
  test::FakeGuestAgent agent(std::move(guest),
                             behaviour(false, {}, "GenericError", "hwclock failed to set hardware clock"));
  const auto set = set_guest_time(host.get(), some_time);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::backend);
  EXPECT_THAT(set.error().message(), HasSubstr("guest-set-time failed in the guest"));
  EXPECT_THAT(set.error().message(),
              HasSubstr("GenericError: hwclock failed to set hardware clock"));
}

TEST(GuestAgentClient, AClosedChannelIsAnIoError) {
  auto [host, guest] = channel();
  guest.reset();
  const auto set = set_guest_time(host.get(), some_time, waiting(2s));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::io);
}

TEST(GuestAgentClient, ANonReplyToTheCommandIsAnIoError) {
  // Not a structured binding: clang 14 cannot capture one.
  Channel ends = channel();
  FileDescriptor& host = ends.host;
  std::thread agent([&guest = ends.guest] {
    char buffer[512];
    std::string seen;
    // Answer the sync properly, then garbage instead of the set-time reply.
    while (seen.find("guest-sync-delimited") == std::string::npos) {
      const auto got = ::read(guest.get(), buffer, sizeof buffer);
      if (got <= 0) return;
      seen.append(buffer, static_cast<std::size_t>(got));
    }
    const auto at = seen.find("\"id\":");
    const auto id = seen.substr(at + 5, seen.find('}', at) - at - 5);
    (void)write_all(guest.get(), "\xff{\"return\": " + id + "}\n");
    while (seen.find("guest-set-time") == std::string::npos) {
      const auto got = ::read(guest.get(), buffer, sizeof buffer);
      if (got <= 0) return;
      seen.append(buffer, static_cast<std::size_t>(got));
    }
    (void)write_all(guest.get(), "not json\n");
  });
  const auto set = set_guest_time(host.get(), some_time, waiting(5s));
  agent.join();
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::io);
  EXPECT_THAT(set.error().message(), HasSubstr("not JSON: \"not json\""));
}

TEST(GuestAgentClient, CancelEndsTheWait) {
  auto [host, guest] = channel();
  std::atomic<bool> cancel{false};
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  const auto set = set_guest_time(host.get(), some_time, waiting(30s, &cancel));
  canceller.join();
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::cancelled);
}

TEST(GuestAgentReply, RequestsAreOneJsonLineEach) {
  EXPECT_EQ(guest_sync_delimited_request(42),
            "{\"arguments\":{\"id\":42},\"execute\":\"guest-sync-delimited\"}\n");
  EXPECT_EQ(guest_set_time_request(1'700'000'000'000'000'001LL),
            "{\"arguments\":{\"time\":1700000000000000001},\"execute\":\"guest-set-time\"}\n");
}

TEST(GuestAgentReply, ClassifiesReturnAndError) {
  const auto ok = parse_guest_agent_reply("{\"return\": 5}");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->value, 5);
  const auto error =
      parse_guest_agent_reply("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}");
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->ok);
  EXPECT_EQ(error->error_class, "GenericError");
  EXPECT_EQ(error->error_desc, "no");
}

TEST(GuestAgentReply, RejectsWhatIsNotAReply) {
  for (const char* line : {"", "nope", "[1]", "{}", "{\"return\": 1, \"error\": {}}",
                           "{\"error\": \"text\"}", "{\"return\": 1"}) {
    const auto reply = parse_guest_agent_reply(line);
    ASSERT_FALSE(reply) << line;
    EXPECT_EQ(reply.error().code(), Errc::io) << line;
    EXPECT_THAT(reply.error().message(), HasSubstr("guest agent: ")) << line;
  }
}

}  // namespace
}  // namespace vmm::detail
