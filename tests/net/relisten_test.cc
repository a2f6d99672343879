// A server that gRPC stopped accepting for (net-real/listener_watch.h) and
// that cannot listen on its port again at once stays down only until the
// port is free: later checks try again. The fault is real but placed: the
// test takes the port in the moment between the server's stop and its
// listening again (before_listening_again), as another process could.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "net-real/listener_watch.h"
#include "net-real/peer_transport.h"
#include "net-real/tracker_rpc.h"

namespace swarm::net {
namespace {

using namespace std::chrono_literals;

// A plain socket listening on 127.0.0.1:`port`, or -1. Tries for 2 s: the
// stopped server may let go of the port a moment after its Shutdown.
// SO_REUSEADDR as gRPC's own listeners: a connection the stopped server
// closed first lingers in TIME_WAIT on the port for a minute and would
// refuse a plain bind (this made the tracker test fail at times, its client
// having been connected), but it does not let two sockets listen.
int TakePort(int port) {
  const auto until = std::chrono::steady_clock::now() + 2s;
  do {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 4) == 0) {
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() < until);
  return -1;
}

// What gRPC 1.51 logs when accept4 fails and it stops accepting on a port.
void PretendAListenerFailed() {
  NoteGrpcLogLine("Failed accept4: Too many open files (relisten_test)");
}

// Calls `relisten` until it returns something other than kFailed, for up to
// `limit`; returns the last outcome.
template <typename F>
Relisten RetryUntilUp(F relisten, std::chrono::steady_clock::duration limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  Relisten r = Relisten::kFailed;
  while ((r = relisten()) == Relisten::kFailed && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  return r;
}

bool Reachable(int port) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  return channel->WaitForConnected(std::chrono::system_clock::now() + 5s);
}

TEST(RelistenTest, APeerServerWhosePortWasTakenListensAgainOnceItIsFree) {
  int port = 0;
  int taker = -1;
  PeerServerOptions options;
  options.before_listening_again = [&] { taker = TakePort(port); };
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error, options);
  ASSERT_TRUE(server) << error;
  port = server->port();
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kListening);

  PretendAListenerFailed();
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kFailed);
  ASSERT_GE(taker, 0) << "the test could not take port " << port;
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << error;
  EXPECT_FALSE(server->listening());
  EXPECT_EQ(server->port(), port);  // what the peer announces stays true
  // Still down, and says so, while the port is taken: no retry is due yet,
  // and one that is fails.
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kFailed);
  std::this_thread::sleep_for(1100ms);
  error.clear();
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kFailed);
  EXPECT_FALSE(error.empty());

  ::close(taker);
  // The next retry is due 2 s after the last.
  EXPECT_EQ(RetryUntilUp([&] { return server->RelistenIfDeaf(&error); }, 5s),
            Relisten::kRestarted);
  EXPECT_TRUE(server->listening());
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kListening);
  EXPECT_TRUE(Reachable(port));
  server->Shutdown();
}

TEST(RelistenTest, ATrackerWhosePortWasTakenListensAgainOnceItIsFreeAndKeepsItsFiles) {
  int port = 0;
  int taker = -1;
  TrackerServerOptions options;
  options.before_listening_again = [&] { taker = TakePort(port); };
  std::string error;
  auto server = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error, options);
  ASSERT_TRUE(server) << error;
  port = server->port();
  TrackerClient client("127.0.0.1:" + std::to_string(port));
  const auto info = core::TorrentInfo::Synthetic("kept.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(client.Publish(info, &error)) << error;

  PretendAListenerFailed();
  EXPECT_EQ(server->RelistenIfDeaf(&error), Relisten::kFailed);
  ASSERT_GE(taker, 0) << "the test could not take port " << port;
  EXPECT_FALSE(server->listening());
  ::close(taker);
  EXPECT_EQ(RetryUntilUp([&] { return server->RelistenIfDeaf(&error); }, 5s),
            Relisten::kRestarted);
  auto files = client.ListFiles(&error);
  ASSERT_TRUE(files) << error;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].name, "kept.bin");
  server->Shutdown();
}

TEST(ListenRetryTest, WaitsDoubleFromOneSecondToThirty) {
  ListenRetry retry;
  using Clock = ListenRetry::Clock;
  Clock::time_point t{};
  EXPECT_FALSE(retry.down());
  retry.Failed(t, "taken");
  EXPECT_TRUE(retry.down());
  EXPECT_EQ(retry.last_error(), "taken");
  Clock::duration total{};
  for (int wait_s : {1, 2, 4, 8, 16, 30, 30}) {
    EXPECT_FALSE(retry.Due(t + total + std::chrono::seconds(wait_s) - 1ms)) << wait_s;
    EXPECT_TRUE(retry.Due(t + total + std::chrono::seconds(wait_s))) << wait_s;
    total += std::chrono::seconds(wait_s);
    retry.Failed(t + total, "taken");
  }
  retry.Succeeded();
  EXPECT_FALSE(retry.down());
  retry.Failed(t, "again");
  EXPECT_FALSE(retry.Due(t + 999ms));
  EXPECT_TRUE(retry.Due(t + 1s));
}

}  // namespace
}  // namespace swarm::net
