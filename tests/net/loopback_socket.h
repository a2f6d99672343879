// A plain TCP socket on 127.0.0.1 at a port the kernel picks, for tests that
// need an address where nobody speaks gRPC (a tarpit, a refused port, a
// port already taken).
#ifndef SWARM_TESTS_NET_LOOPBACK_SOCKET_H_
#define SWARM_TESTS_NET_LOOPBACK_SOCKET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace swarm::net::testing {

// The socket's descriptor, bound and (with `backlog` > 0) listening, and
// its port in *port; -1 (errno set, nothing left open) if any step fails.
inline int BindLoopback(uint16_t* port, int backlog = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      (backlog > 0 && ::listen(fd, backlog) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace swarm::net::testing

#endif  // SWARM_TESTS_NET_LOOPBACK_SOCKET_H_
