// A gRPC server fed by our accept loop (net-real/listening_server.h): gRPC
// applies its handshake and idle timeouts to the connections it is handed,
// calls work, a connection made before descriptors ran out is served on,
// and the server shuts down cleanly while connections keep coming.
#include "net-real/listening_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net-real/tracker_rpc.h"

namespace swarm::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int DialLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads (and drops) what the server sends until it closes the connection;
// how long that took, or nullopt if it had not within `limit`.
std::optional<Clock::duration> TimeUntilClosed(int fd, Clock::time_point since,
                                               Clock::duration limit) {
  char buf[4096];
  for (;;) {
    const auto left = since + limit - Clock::now();
    if (left <= 0s) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    if (::poll(&p, 1, ms) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return Clock::now() - since;
  }
}

// The HTTP/2 client preface, an empty SETTINGS frame and a SETTINGS ACK:
// a connection that finished its handshake and opens no call.
const std::string kHello = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                           std::string("\0\0\0\4\0\0\0\0\0", 9) +
                           std::string("\0\0\0\4\1\0\0\0\0", 9);

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// gRPC closes a connection handed to it that sends nothing after the
// handshake timeout, and one with no call open after the idle timeout, as
// it did the connections its own listener accepted.
TEST(ListeningServerTest, HandedConnectionsGetTheHandshakeAndIdleTimeouts) {
  int port = 0;
  std::string error;
  grpc::CallbackGenericService nothing;  // answers every call UNIMPLEMENTED
  auto server = StartListening("127.0.0.1:0", nullptr, 1 << 20, "test", 1 << 20, &port, &error,
                               &nothing, /*idle_connection_ms=*/1500,
                               /*handshake_timeout_ms=*/500);
  ASSERT_TRUE(server) << error;
  const int silent = DialLoopback(port);
  const int idle = DialLoopback(port);
  ASSERT_GE(silent, 0);
  ASSERT_GE(idle, 0);
  const auto t0 = Clock::now();
  ASSERT_EQ(::send(idle, kHello.data(), kHello.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(kHello.size()));
  const auto silent_closed = TimeUntilClosed(silent, t0, 10s);
  const auto idle_closed = TimeUntilClosed(idle, t0, 10s);
  ASSERT_TRUE(silent_closed) << "a silent connection was kept 10 s";
  ASSERT_TRUE(idle_closed) << "an idle connection was kept 10 s";
  std::printf("silent connection closed after %.2f s, idle one after %.2f s\n",
              Seconds(*silent_closed), Seconds(*idle_closed));
  EXPECT_GE(*silent_closed, 400ms);
  EXPECT_LT(*silent_closed, 3s);
  EXPECT_GE(*idle_closed, 1400ms);
  EXPECT_LT(*idle_closed, 6s);
  ::close(silent);
  ::close(idle);
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}

// A tracker out of descriptors: a client connected before keeps being
// answered, connections beyond what it can hold are closed at once, and
// new clients are served once the burst has gone.
TEST(ListeningServerTest, AClientConnectedBeforeDescriptorsRanOutIsServedOn) {
  std::string error;
  auto tracker = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
  ASSERT_TRUE(tracker) << error;
  TrackerClient before("127.0.0.1:" + std::to_string(tracker->port()));
  ASSERT_TRUE(before.ListFiles(&error).has_value()) << error;

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  std::vector<int> burst;  // made before the limit drops: they need descriptors here too
  for (int i = 0; i < 40; ++i) burst.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  rlimit low = saved;
  low.rlim_cur = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) low.rlim_cur = fd + 1;
  }
  low.rlim_cur += 16;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;  // every descriptor left but 8: room for a few of the burst
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  for (int i = 0; i < 8 && !fillers.empty(); ++i) {
    ::close(fillers.back());
    fillers.pop_back();
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(tracker->port()));
  int connected = 0, closed = 0;
  for (int fd : burst) {
    connected += ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  EXPECT_EQ(connected, 40);
  for (int fd : burst) closed += TimeUntilClosed(fd, Clock::now(), 300ms).has_value();
  // Calls on the connection made before still work.
  const auto t0 = Clock::now();
  const bool answered = before.ListFiles(&error).has_value();
  const auto took = Clock::now() - t0;
  for (int fd : burst) ::close(fd);
  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  std::printf("%d of 40 closed at once; the earlier client answered in %.3f s\n", closed,
              Seconds(took));
  EXPECT_TRUE(answered) << error;
  EXPECT_GE(closed, 20);  // at most 8 + the few gRPC closed: the rest shed
  TrackerClient after("127.0.0.1:" + std::to_string(tracker->port()));
  EXPECT_TRUE(after.ListFiles(&error).has_value()) << error;
  tracker->Shutdown();
}

// Shutdown stops the accept loop before gRPC's server: under a stream of
// new connections it returns, and the port refuses from then on.
TEST(ListeningServerTest, ShutsDownWhileConnectionsKeepComing) {
  std::string error;
  auto tracker = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
  ASSERT_TRUE(tracker) << error;
  const int port = tracker->port();
  std::atomic<bool> stop{false};
  std::atomic<int> made{0};
  std::thread flood([&] {
    while (!stop.load()) {
      const int fd = DialLoopback(port);
      if (fd < 0) continue;
      made.fetch_add(1);
      (void)::send(fd, kHello.data(), kHello.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  });
  while (made.load() < 200) std::this_thread::sleep_for(1ms);
  const auto t0 = Clock::now();
  tracker->Shutdown();
  const auto took = Clock::now() - t0;
  stop = true;
  flood.join();
  EXPECT_LT(took, 3s);
  EXPECT_EQ(DialLoopback(port), -1);
}

}  // namespace
}  // namespace swarm::net
