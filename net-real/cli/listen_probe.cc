#include "net-real/cli/listen_probe.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace swarm::net::cli {
namespace {

// 0 if a socket for `ai` binds and listens, else the errno of the failure.
int TryListen(const addrinfo& ai) {
  const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return errno;
  // As gRPC does: a port whose old connections linger in TIME_WAIT (a
  // tracker just restarted) can be bound; a listening socket still wins.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int err = 0;
  if (::bind(fd, ai.ai_addr, ai.ai_addrlen) != 0 || ::listen(fd, 1) != 0) err = errno;
  ::close(fd);
  return err;
}

}  // namespace

std::optional<std::string> ListenProblem(const std::string& listen) {
  const std::string prefix = "cannot listen on " + listen + ": ";
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return prefix + "not HOST:PORT";
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return prefix + (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc));
  }
  int err = 0;
  bool ok = false;
  for (const addrinfo* ai = found; ai && !ok; ai = ai->ai_next) {
    const int e = TryListen(*ai);
    ok = e == 0;
    // The first reason, unless another address says "in use" (more to the
    // point than, say, IPv6 being off).
    if (!ok && (err == 0 || e == EADDRINUSE)) err = e;
  }
  ::freeaddrinfo(found);
  if (ok) return std::nullopt;
  return prefix + std::strerror(err);
}

}  // namespace swarm::net::cli
