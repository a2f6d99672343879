// Listening sockets on each of a host's addresses, all on one port: the
// loop AcceptLoop::Listen runs for a HOST that is not a wildcard
// ("localhost": 127.0.0.1 and ::1).
//
// For port 0 the first socket lets the kernel pick a port P and the others
// are bound to P. The kernel picked P as free on the first address only: on
// another one P may be taken (another process on [::1]:P). The user asked
// for any port, so rather than fail, everything opened is closed and the
// kernel picks again, up to kPickAttempts times. A port the user named is
// not retried: busy on one address, it fails as a whole. (gRPC 1.51's own
// listener retries neither: it keeps the addresses that could be bound and
// logs "Only 1 addresses added out of total 2 resolved".)
//
// Internal to net-real/: accept_loop.cc passes the real socket opener, the
// tests a fake one that decides which bind fails, since the kernel's choice
// of P cannot be forced.
//
// Thread-compatible: no state of its own.
#ifndef SWARM_NET_LISTEN_ON_ONE_PORT_H_
#define SWARM_NET_LISTEN_ON_ONE_PORT_H_

#include <sys/socket.h>

#include <functional>
#include <vector>

namespace swarm::net::internal {

// Times the kernel is asked for a port before a busy one is reported.
constexpr int kPickAttempts = 10;

// What opening one listening socket gave: its descriptor and the port it
// is bound to, or fd -1 and errno's value.
struct OpenedSocket {
  int fd = -1;
  int port = 0;
  int error = 0;
};

// Opens a listening socket on `address` at `port` (0: the kernel picks).
using OpenSocket = std::function<OpenedSocket(const sockaddr_storage& address, int port)>;

struct Listeners {
  std::vector<int> fds;  // one per address used; the caller owns them
  int port = 0;          // the port they share; on failure the last tried
  int error = 0;         // errno's value when `fds` is empty, else 0
};

// An address of a family this machine lacks (EAFNOSUPPORT), or one it does
// not have (EADDRNOTAVAIL): left out rather than failing the whole listen.
bool Skippable(int error);

// The port of an IPv4 or IPv6 address (host order), set or read, and the
// length of the sockaddr its family uses: for the opener accept_loop.cc
// passes, and for the tests.
void SetPort(sockaddr_storage* ss, int port);
int PortOf(const sockaddr_storage& ss);
socklen_t LengthOf(const sockaddr_storage& ss);

// Opens a socket on each of `addresses` through `open`, all at `port` (0:
// the one the kernel picks for the first that opens). Addresses whose open
// fails with a Skippable error are left out; any other failure closes what
// was opened and fails as a whole, except that a picked port busy on a
// later address (EADDRINUSE) is picked again, kPickAttempts times at most.
// With no socket at all, error is the first non-skippable failure's, else
// the first failure's (EADDRNOTAVAIL for no address).
Listeners ListenOnOnePort(const std::vector<sockaddr_storage>& addresses, int port,
                          const OpenSocket& open);

}  // namespace swarm::net::internal

#endif  // SWARM_NET_LISTEN_ON_ONE_PORT_H_
