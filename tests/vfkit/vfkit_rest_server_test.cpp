// vfkit's REST API (vmm/vfkit_server.hpp) over a VM on the fake engine: each endpoint's status
// codes and bodies, the operations it drives, and the unix socket's life cycle.
#include <httplib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/fake_vm.hpp"
#include "vfkit_test_support.hpp"
#include "vmm/vfkit_server.hpp"

namespace vmm_test {
namespace {

using nlohmann::json;
using vmm::VmState;
using namespace vmm::vfkit;

RestEndpoint loopback() { return *parse_restful_uri("tcp://127.0.0.1:0"); }

class VfkitRestServer : public testing::Test {
 protected:
  vmm::support::TempDir tmp;
  vmm::testing::FakeVm fake{vmm::testing::base_config(tmp)};
  std::unique_ptr<RestServer> server;
  std::unique_ptr<httplib::Client> client;

  void SetUp() override {
    auto started = RestServer::start(loopback(), fake.vm);
    ASSERT_TRUE(Ok(started));
    server = std::move(*started);
    ASSERT_GT(server->port(), 0);
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
  }
  json state() {
    auto response = client->Get("/vm/state");
    EXPECT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    return json::parse(response->body);
  }
  httplib::Result post(const std::string& path, const std::string& body) {
    return client->Post(path.c_str(), body, "application/json");
  }
};

TEST_F(VfkitRestServer, StateNamesTheStateAndWhatItAllows) {
  auto stopped = state();
  EXPECT_EQ(stopped["state"], "VirtualMachineStateStopped");
  EXPECT_EQ(stopped["canStart"], true);
  EXPECT_EQ(stopped["canPause"], false);
  EXPECT_EQ(stopped["canHardStop"], false);
  fake.drive_to(VmState::running);
  auto running = state();
  EXPECT_EQ(running["state"], "VirtualMachineStateRunning");
  EXPECT_EQ(running["canStart"], false);
  EXPECT_EQ(running["canPause"], true);
  EXPECT_EQ(running["canResume"], false);
  EXPECT_EQ(running["canStop"], true);
  EXPECT_EQ(running["canHardStop"], true);
}

TEST_F(VfkitRestServer, StateChangesAnswer202OnceDone) {
  fake.drive_to(VmState::running);
  auto paused = post("/vm/state", R"({"state":"Pause"})");
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->status, 202);
  EXPECT_EQ(fake.vm->state(), VmState::paused);
  EXPECT_EQ(state()["canResume"], true);
  EXPECT_EQ(post("/vm/state", R"({"state":"Resume"})")->status, 202);
  EXPECT_EQ(fake.vm->state(), VmState::running);
  EXPECT_EQ(post("/vm/state", R"({"state":"Stop"})")->status, 202);
  EXPECT_TRUE(fake.control->wait_for_call("request_stop"));
  EXPECT_EQ(post("/vm/state", R"({"state":"HardStop"})")->status, 202);
  EXPECT_EQ(fake.vm->state(), VmState::stopped);
}

TEST_F(VfkitRestServer, FailuresAndBadBodiesGetTheirStatusAndAnError) {
  fake.drive_to(VmState::running);
  fake.control->fail_next("pause", vmm::Error(vmm::Errc::backend, "the hypervisor said no"));
  auto failed = post("/vm/state", R"({"state":"Pause"})");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(json::parse(failed->body)["error"].get<std::string>().find("the hypervisor said no"), std::string::npos);
  auto refused = post("/vm/state", R"({"state":"Resume"})");  // the VM is in error now
  EXPECT_EQ(refused->status, 500);
  EXPECT_TRUE(json::parse(refused->body).contains("error"));
  for (const auto* body : {"", "not json", "[1]", "\"Pause\""}) {
    auto bad = post("/vm/state", body);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << body;
    EXPECT_TRUE(json::parse(bad->body).contains("error")) << body;
  }
  for (const auto* body : {R"({"state":"Sleep"})", R"({"state":3})", "{}"}) {
    auto unknown = post("/vm/state", body);
    EXPECT_EQ(unknown->status, 500) << body;
    EXPECT_NE(unknown->body.find("invalid new VMState"), std::string::npos) << body;
  }
}

TEST_F(VfkitRestServer, WrongMethodsAndPathsAre404) {
  EXPECT_EQ(client->Get("/vm/nothing")->status, 404);
  EXPECT_EQ(client->Delete("/vm/state")->status, 404);
  EXPECT_EQ(client->Get("/vm/save")->status, 404);
  EXPECT_EQ(post("/vm/inspect", "{}")->status, 404);
  EXPECT_EQ(client->Put("/vm/state", "{}", "application/json")->status, 404);
}

TEST_F(VfkitRestServer, InspectReturnsTheConfigAsVmmJson) {
  auto response = client->Get("/vm/inspect");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  auto config = vmm::VmConfig::from_json(response->body);
  ASSERT_TRUE(Ok(config));
  EXPECT_EQ(*config, fake.vm->config());
}

TEST_F(VfkitRestServer, SaveAndRestoreTakeAPath) {
  fake.drive_to(VmState::paused);
  const auto bundle = tmp.path() / "bundle";
  auto saved = post("/vm/save", json{{"path", bundle.string()}}.dump());
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->status, 202) << saved->body;
  EXPECT_TRUE(std::filesystem::exists(bundle / "manifest.json"));
  EXPECT_EQ(fake.vm->state(), VmState::paused);
  for (const auto* body : {"{}", R"({"path":7})", R"({"path":""})", "nope"}) {
    EXPECT_EQ(post("/vm/save", body)->status, 400) << body;
    EXPECT_EQ(post("/vm/restore", body)->status, 400) << body;
  }
  // Restore needs a stopped VM, as in the library.
  auto early = post("/vm/restore", json{{"path", bundle.string()}}.dump());
  EXPECT_EQ(early->status, 500);
  EXPECT_NE(early->body.find("restore"), std::string::npos);
  EXPECT_EQ(post("/vm/state", R"({"state":"HardStop"})")->status, 202);
  auto restored = post("/vm/restore", json{{"path", bundle.string()}}.dump());
  EXPECT_EQ(restored->status, 202) << restored->body;
  EXPECT_EQ(fake.vm->state(), VmState::paused);
}

// A raw HTTP/1.1 request over a unix socket (the test's client; cpp-httplib 0.11 has none).
std::string unix_request(const std::filesystem::path& socket_path, const std::string& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)::write(fd, request.data(), request.size());
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) reply.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return reply;
}

TEST_F(VfkitRestServer, UnixSocketReplacesAStaleFileAndIsRemovedAfterwards) {
  const auto path = tmp.path() / "rest.sock";
  {
    const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(stale);  // the file stays: a stale socket
  }
  auto endpoint = parse_restful_uri("unix://" + path.string());
  ASSERT_TRUE(Ok(endpoint));
  {
    auto unix_server = RestServer::start(*endpoint, fake.vm);
    ASSERT_TRUE(Ok(unix_server));
    EXPECT_EQ((*unix_server)->port(), 0);
    const auto reply = unix_request(path, "GET /vm/state HTTP/1.1\r\nHost: vmm\r\nConnection: close\r\n\r\n");
    EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << reply;
    EXPECT_NE(reply.find("VirtualMachineStateStopped"), std::string::npos) << reply;
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(VfkitRestServer, AFileThatIsNoSocketOrAPortInUseIsAnError) {
  const auto file = tmp.file("not-a-socket");
  EXPECT_TRUE(FailsWith(RestServer::start(*parse_restful_uri("unix://" + file.string()), fake.vm),
                        vmm::Errc::invalid_config, {"not a socket"}));
  EXPECT_TRUE(std::filesystem::exists(file));
  auto taken = parse_restful_uri("tcp://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_TRUE(FailsWith(RestServer::start(*taken, fake.vm), vmm::Errc::io, {"cannot listen on tcp://127.0.0.1"}));
}

}  // namespace
}  // namespace vmm_test
