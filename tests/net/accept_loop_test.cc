// The accept loop alone (no gRPC): where it listens, what it hands on, how
// it sheds connections when the process is out of file descriptors, and
// that it stops under load.
#include "net-real/accept_loop.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/net/open_descriptors.h"

namespace swarm::net {
namespace {

using namespace std::chrono_literals;

// Keeps every descriptor it is handed, as gRPC does while a connection is
// open; closes them when asked or destroyed.
class Keeper {
 public:
  ~Keeper() { CloseAll(); }
  AcceptLoop::Handler Handler() {
    return [this](int fd, int) {
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
    };
  }
  std::vector<int> fds() {
    std::lock_guard<std::mutex> lock(mu_);
    return fds_;
  }
  void CloseAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<int> fds_;
};

template <typename F>
bool Within(std::chrono::milliseconds limit, F done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A socket of `family`, not connected yet.
int NewClient(int family) { return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0); }

// Connects `fd` to `ip`:port; false if refused.
bool Connect(int fd, const char* ip, int port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (std::strchr(ip, ':') == nullptr) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip, &a->sin_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, ip, &a->sin6_addr);
    len = sizeof *a;
  }
  return ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

// A fresh client connected to `ip`:port, or -1.
int Dial(const char* ip, int port) {
  const int fd = NewClient(std::strchr(ip, ':') ? AF_INET6 : AF_INET);
  if (fd >= 0 && !Connect(fd, ip, port)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server closed `fd`'s connection (end of stream within 0.3 s).
bool ClosedByServer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 300) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

bool Ipv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

using testing::OpenDescriptors;

int HighestDescriptor() {
  int high = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') high = std::max(high, std::atoi(e->d_name));
  }
  ::closedir(d);
  return high;
}

TEST(AcceptLoopTest, PortZeroPicksAPortAndHandsOnNonBlockingConnections) {
  std::string error;
  auto loop = AcceptLoop::Listen("127.0.0.1:0", &error);
  ASSERT_TRUE(loop) << error;
  ASSERT_GT(loop->port(), 0);
  EXPECT_EQ(loop->socket_count(), 1u);
  Keeper keeper;
  loop->Start(keeper.Handler());
  const int client = Dial("127.0.0.1", loop->port());
  ASSERT_GE(client, 0);
  ASSERT_TRUE(Within(2s, [&] { return keeper.fds().size() == 1; }));
  const int fd = keeper.fds()[0];
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
  EXPECT_EQ(loop->accepted(), 1u);
  EXPECT_EQ(loop->shed(), 0u);
  ::close(client);
}

TEST(AcceptLoopTest, ABusyPortFailsWithTheReason) {
  std::string error;
  auto first = AcceptLoop::Listen("127.0.0.1:0", &error);
  ASSERT_TRUE(first) << error;
  const std::string busy = "127.0.0.1:" + std::to_string(first->port());
  EXPECT_FALSE(AcceptLoop::Listen(busy, &error));
  EXPECT_EQ(error, "cannot listen on " + busy + ": Address already in use");
  // The wildcard takes every address, this one's port included.
  const std::string any = "0.0.0.0:" + std::to_string(first->port());
  EXPECT_FALSE(AcceptLoop::Listen(any, &error));
  EXPECT_EQ(error, "cannot listen on " + any + ": Address already in use");
}

TEST(AcceptLoopTest, AddressesItCannotUseFailWithTheReason) {
  std::string error;
  EXPECT_FALSE(AcceptLoop::Listen("7070", &error));
  EXPECT_EQ(error, "cannot listen on 7070: not HOST:PORT");
  EXPECT_FALSE(AcceptLoop::Listen("192.0.2.1:7070", &error));  // another host's
  EXPECT_EQ(error, "cannot listen on 192.0.2.1:7070: Cannot assign requested address");
  EXPECT_FALSE(AcceptLoop::Listen("127.0.0.1:http", &error));  // ports are numbers
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:http: "), std::string::npos) << error;
}

TEST(AcceptLoopTest, AWildcardTakesIpv4AndIpv6OnOneSocket) {
  for (const char* host : {"0.0.0.0", "[::]"}) {
    std::string error;
    auto loop = AcceptLoop::Listen(std::string(host) + ":0", &error);
    ASSERT_TRUE(loop) << error;
    EXPECT_EQ(loop->socket_count(), 1u) << host;
    Keeper keeper;
    loop->Start(keeper.Handler());
    const int v4 = Dial("127.0.0.1", loop->port());
    EXPECT_GE(v4, 0) << host;
    size_t expected = 1;
    int v6 = -1;
    if (Ipv6Loopback()) {
      v6 = Dial("::1", loop->port());
      EXPECT_GE(v6, 0) << host;
      expected = 2;
    }
    EXPECT_TRUE(Within(2s, [&] { return keeper.fds().size() == expected; })) << host;
    ::close(v4);
    if (v6 >= 0) ::close(v6);
  }
}

TEST(AcceptLoopTest, LocalhostListensOnEachOfItsAddressesOnOnePort) {
  std::string error;
  auto loop = AcceptLoop::Listen("localhost:0", &error);
  ASSERT_TRUE(loop) << error;
  Keeper keeper;
  loop->Start(keeper.Handler());
  // What this machine calls localhost (/etc/hosts may or may not list ::1;
  // listed on a machine without IPv6 loopback, Listen leaves it out).
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  ASSERT_EQ(::getaddrinfo("localhost", nullptr, &hints, &found), 0);
  const bool ipv6 = Ipv6Loopback();
  size_t addresses = 0;
  for (const addrinfo* ai = found; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET6 && !ipv6) continue;
    char ip[INET6_ADDRSTRLEN] = "";
    const void* raw = ai->ai_family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    ::inet_ntop(ai->ai_family, raw, ip, sizeof ip);
    const int fd = Dial(ip, loop->port());
    EXPECT_GE(fd, 0) << ip;
    if (fd >= 0) ::close(fd);
    ++addresses;
  }
  ::freeaddrinfo(found);
  EXPECT_EQ(loop->socket_count(), addresses);
  EXPECT_TRUE(Within(2s, [&] { return loop->accepted() == addresses; }));
  // An IPv6 loopback listed too takes the same port.
  if (!ipv6) return;
  auto v6 = AcceptLoop::Listen("[::1]:" + std::to_string(loop->port()), &error);
  EXPECT_EQ(v6 == nullptr, loop->socket_count() == 2) << error;
}

// With no descriptor left, each waiting connection is accepted on the
// reserve and closed at once (without the reserve, accept4 fails with
// EMFILE and the connections wait in the backlog; gRPC 1.51's own
// listener gave up on its socket then); once descriptors free up,
// connections are handed on again.
TEST(AcceptLoopTest, OutOfDescriptorsItShedsConnectionsAndAcceptsAgainLater) {
  std::string error;
  auto loop = AcceptLoop::Listen("127.0.0.1:0", &error);
  ASSERT_TRUE(loop) << error;
  Keeper keeper;
  loop->Start(keeper.Handler());
  std::vector<int> clients;
  for (int i = 0; i < 12; ++i) clients.push_back(NewClient(AF_INET));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = HighestDescriptor() + 16;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;  // every descriptor left
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  ::close(fillers.back());  // room for three connections
  ::close(fillers[fillers.size() - 2]);
  ::close(fillers[fillers.size() - 3]);
  fillers.resize(fillers.size() - 3);

  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Connect(clients[i], "127.0.0.1", loop->port()));
  EXPECT_TRUE(Within(2s, [&] { return loop->accepted() + loop->shed() == 10; }));
  EXPECT_EQ(loop->accepted(), 3u);
  EXPECT_EQ(loop->shed(), 7u);
  int closed = 0;
  for (int i = 0; i < 10; ++i) closed += ClosedByServer(clients[i]);
  EXPECT_EQ(closed, 7);

  keeper.CloseAll();  // descriptors free up
  EXPECT_TRUE(Connect(clients[10], "127.0.0.1", loop->port()));
  EXPECT_TRUE(Connect(clients[11], "127.0.0.1", loop->port()));
  EXPECT_TRUE(Within(2s, [&] { return loop->accepted() == 5; }));
  EXPECT_EQ(loop->shed(), 7u);
  EXPECT_EQ(keeper.fds().size(), 2u);

  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  for (int fd : clients) ::close(fd);
}

// Stop returns promptly while connections keep coming, closes the port,
// and leaves no descriptor of its own behind.
TEST(AcceptLoopTest, StopsUnderAFloodAndClosesThePort) {
  const size_t before = OpenDescriptors();
  std::string error;
  auto loop = AcceptLoop::Listen("127.0.0.1:0", &error);
  ASSERT_TRUE(loop) << error;
  const int port = loop->port();
  loop->Start([](int fd, int) { ::close(fd); });
  std::atomic<bool> stop{false};
  std::atomic<int> made{0};
  std::thread flood([&] {
    while (!stop.load()) {
      const int fd = Dial("127.0.0.1", port);
      if (fd >= 0) {
        made.fetch_add(1);
        ::close(fd);
      }
    }
  });
  ASSERT_TRUE(Within(5s, [&] { return loop->accepted() >= 200; }));
  const auto t0 = std::chrono::steady_clock::now();
  loop->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  stop = true;
  flood.join();
  EXPECT_LE(loop->accepted(), static_cast<uint64_t>(made.load()));
  EXPECT_EQ(Dial("127.0.0.1", port), -1);  // refused
  loop->Stop();  // idempotent
  EXPECT_EQ(OpenDescriptors(), before);
}

}  // namespace
}  // namespace swarm::net
