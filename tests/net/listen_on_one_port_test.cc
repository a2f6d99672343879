// Sockets on one port for each of a host's addresses: a fake opener decides
// which bind fails (the kernel's pick cannot be forced), then real sockets
// on 127.0.0.1 and ::1 with the picked port taken on ::1 by the test.
#include "net-real/listen_on_one_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/net/open_descriptors.h"

namespace swarm::net::internal {
namespace {

using Calls = std::vector<std::string>;

sockaddr_storage Loopback(int family) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
  }
  return ss;
}

// 127.0.0.1 then ::1, as /etc/hosts often lists localhost.
const std::vector<sockaddr_storage> kLocalhost = {Loopback(AF_INET), Loopback(AF_INET6)};

using testing::OpenDescriptors;

void CloseAll(const Listeners& got) {
  for (int fd : got.fds) ::close(fd);
}

// Stands in for the kernel: each open is logged ("v4:0", "v6:40000"), fails
// with what `fail` says for that family and port (0: it opens), and else
// hands out a real descriptor (/dev/null, so that what ListenOnOnePort
// closes is really closed) bound, for port 0, to 40000, 40001, ...
class FakeKernel {
 public:
  std::function<int(int family, int port)> fail = [](int, int) { return 0; };
  Calls calls;

  OpenSocket Opener() {
    return [this](const sockaddr_storage& address, int port) -> OpenedSocket {
      const int family = address.ss_family;
      calls.push_back((family == AF_INET ? "v4:" : "v6:") + std::to_string(port));
      if (const int error = fail(family, port); error != 0) return {-1, 0, error};
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return {-1, 0, errno};
      return {fd, port != 0 ? port : next_port_++, 0};
    };
  }

 private:
  int next_port_ = 40000;
};

// The bug this loop fixes: the port picked on 127.0.0.1 happens to be taken
// on ::1 (by another process); the user asked for any port, so the kernel
// is asked again rather than the listen failing.
TEST(ListenOnOnePortTest, APickedPortTakenOnALaterAddressIsPickedAgain) {
  const size_t before = OpenDescriptors();
  FakeKernel kernel;
  kernel.fail = [](int family, int port) {
    return family == AF_INET6 && port == 40000 ? EADDRINUSE : 0;
  };
  const Listeners got = ListenOnOnePort(kLocalhost, 0, kernel.Opener());
  EXPECT_EQ(kernel.calls, (Calls{"v4:0", "v6:40000", "v4:0", "v6:40001"}));
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.port, 40001);
  EXPECT_EQ(got.fds.size(), 2u);
  EXPECT_EQ(OpenDescriptors(), before + got.fds.size());  // the first try's closed
  CloseAll(got);
}

TEST(ListenOnOnePortTest, AGivenPortTakenOnALaterAddressFailsAsAWhole) {
  const size_t before = OpenDescriptors();
  FakeKernel kernel;
  kernel.fail = [](int family, int) { return family == AF_INET6 ? EADDRINUSE : 0; };
  const Listeners got = ListenOnOnePort(kLocalhost, 7070, kernel.Opener());
  EXPECT_EQ(kernel.calls, (Calls{"v4:7070", "v6:7070"}));
  EXPECT_EQ(got.error, EADDRINUSE);
  EXPECT_TRUE(got.fds.empty());
  EXPECT_EQ(OpenDescriptors(), before);  // 127.0.0.1's socket closed
}

TEST(ListenOnOnePortTest, PicksAreBoundedThenTheBusyPortIsReported) {
  const size_t before = OpenDescriptors();
  FakeKernel kernel;
  kernel.fail = [](int family, int) { return family == AF_INET6 ? EADDRINUSE : 0; };
  const Listeners got = ListenOnOnePort(kLocalhost, 0, kernel.Opener());
  Calls expected;
  for (int i = 0; i < kPickAttempts; ++i) {
    expected.push_back("v4:0");
    expected.push_back("v6:" + std::to_string(40000 + i));
  }
  EXPECT_EQ(kernel.calls, expected);
  EXPECT_EQ(got.error, EADDRINUSE);
  EXPECT_TRUE(got.fds.empty());
  EXPECT_EQ(OpenDescriptors(), before);
}

// A first bind that fails even with port 0 (no ephemeral port left) got no
// pick to retry; nor does another error on a later address call for one.
TEST(ListenOnOnePortTest, OnlyAPickedPortFoundBusyIsPickedAgain) {
  FakeKernel none_left;
  none_left.fail = [](int, int) { return EADDRINUSE; };
  Listeners got = ListenOnOnePort(kLocalhost, 0, none_left.Opener());
  EXPECT_EQ(none_left.calls, (Calls{"v4:0"}));
  EXPECT_EQ(got.error, EADDRINUSE);
  EXPECT_TRUE(got.fds.empty());

  FakeKernel refused;
  refused.fail = [](int family, int) { return family == AF_INET6 ? EACCES : 0; };
  got = ListenOnOnePort(kLocalhost, 0, refused.Opener());
  EXPECT_EQ(refused.calls, (Calls{"v4:0", "v6:40000"}));
  EXPECT_EQ(got.error, EACCES);
  EXPECT_TRUE(got.fds.empty());
}

// A family the machine lacks is left out, whichever address it is; the
// first that opens picks the port.
TEST(ListenOnOnePortTest, AddressesTheMachineLacksAreLeftOut) {
  FakeKernel no_v6;
  no_v6.fail = [](int family, int) { return family == AF_INET6 ? EADDRNOTAVAIL : 0; };
  Listeners got = ListenOnOnePort({Loopback(AF_INET6), Loopback(AF_INET)}, 0, no_v6.Opener());
  EXPECT_EQ(no_v6.calls, (Calls{"v6:0", "v4:0"}));
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.port, 40000);
  EXPECT_EQ(got.fds.size(), 1u);
  CloseAll(got);

  FakeKernel neither;
  neither.fail = [](int family, int) { return family == AF_INET6 ? EAFNOSUPPORT : EADDRNOTAVAIL; };
  got = ListenOnOnePort(kLocalhost, 0, neither.Opener());
  EXPECT_EQ(got.error, EADDRNOTAVAIL);  // the first failure's
  EXPECT_TRUE(got.fds.empty());

  FakeKernel unused;
  EXPECT_EQ(ListenOnOnePort({}, 0, unused.Opener()).error, EADDRNOTAVAIL);
  EXPECT_TRUE(unused.calls.empty());
}

// --- Real sockets: the kernel picks, the test takes its pick on ::1. ---

bool Ipv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage ss = Loopback(AF_INET6);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in6)) == 0;
  ::close(fd);
  return ok;
}

// A listening TCP socket on `address`:`port` (IPv6 only for ::1), or -1.
int ListenAt(const sockaddr_storage& address, int port, int* bound) {
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  sockaddr_storage ss = address;
  SetPort(&ss, port);
  socklen_t len = LengthOf(ss);
  if ((ss.ss_family == AF_INET6 &&
       ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  *bound = PortOf(ss);
  return fd;
}

bool Connects(const sockaddr_storage& address, int port) {
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss = address;
  SetPort(&ss, port);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&ss), LengthOf(ss)) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

TEST(ListenOnOnePortTest, OnRealSocketsAPickTakenOnIpv6IsPickedAgain) {
  if (!Ipv6Loopback()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  int taken = 0;     // the port of 127.0.0.1's first pick
  int blocker = -1;  // the test's own socket on [::1]:taken
  const OpenSocket open = [&](const sockaddr_storage& address, int port) -> OpenedSocket {
    if (address.ss_family == AF_INET6 && blocker < 0) {
      int ignored = 0;
      blocker = ListenAt(address, port, &ignored);
      taken = port;
    }
    int bound = 0;
    const int fd = ListenAt(address, port, &bound);
    if (fd < 0) return {-1, 0, errno};
    return {fd, bound, 0};
  };
  const Listeners got = ListenOnOnePort(kLocalhost, 0, open);
  ASSERT_GE(blocker, 0) << "[::1]:" << taken;
  EXPECT_EQ(got.error, 0);
  ASSERT_EQ(got.fds.size(), 2u);
  EXPECT_NE(got.port, taken);
  EXPECT_TRUE(Connects(Loopback(AF_INET), got.port));
  EXPECT_TRUE(Connects(Loopback(AF_INET6), got.port));
  EXPECT_FALSE(Connects(Loopback(AF_INET), taken));  // the first try's socket is closed
  CloseAll(got);
  ::close(blocker);
}

}  // namespace
}  // namespace swarm::net::internal
