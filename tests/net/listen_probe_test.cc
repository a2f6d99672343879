#include "net-real/cli/listen_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "net-real/peer_transport.h"
#include "tests/net/loopback_socket.h"

namespace swarm::net::cli {
namespace {

// A socket listening on 127.0.0.1 at a port the kernel picks.
class Listener {
 public:
  Listener() {
    uint16_t port = 0;
    fd_ = net::testing::BindLoopback(&port, /*backlog=*/1);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    port_ = port;
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ListenProblemTest, FreeAddressesPass) {
  EXPECT_EQ(ListenProblem("127.0.0.1:0"), std::nullopt);
  EXPECT_EQ(ListenProblem("0.0.0.0:0"), std::nullopt);
  EXPECT_EQ(ListenProblem("localhost:0"), std::nullopt);
}

TEST(ListenProblemTest, BusyPortIsNamed) {
  Listener busy;
  const std::string addr = "127.0.0.1:" + std::to_string(busy.port());
  EXPECT_EQ(ListenProblem(addr), "cannot listen on " + addr + ": Address already in use");
  // The wildcard overlaps it too.
  EXPECT_NE(ListenProblem("0.0.0.0:" + std::to_string(busy.port())), std::nullopt);
  busy.Close();
  EXPECT_EQ(ListenProblem(addr), std::nullopt);
}

// The port of a running swarm peer server (its accept loop: no SO_REUSEPORT)
// is busy.
TEST(ListenProblemTest, PortOfAGrpcServerIsBusy) {
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(server) << error;
  const std::string addr = "127.0.0.1:" + std::to_string(server->port());
  EXPECT_EQ(ListenProblem(addr), "cannot listen on " + addr + ": Address already in use");
  server->Shutdown();
}

TEST(ListenProblemTest, AddressOfAnotherHostIsRefused) {
  // 192.0.2.0/24 is reserved for documentation (RFC 5737): never local.
  EXPECT_EQ(ListenProblem("192.0.2.1:7070"),
            "cannot listen on 192.0.2.1:7070: Cannot assign requested address");
}

TEST(ListenProblemTest, BracketedIpv6) {
  // IPv6 may be switched off on a build machine.
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool has_ipv6 = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  if (!has_ipv6) GTEST_SKIP() << "no IPv6 loopback here";
  EXPECT_EQ(ListenProblem("[::1]:0"), std::nullopt);
  EXPECT_EQ(ListenProblem("[::]:0"), std::nullopt);
}

}  // namespace
}  // namespace swarm::net::cli
