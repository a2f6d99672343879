#include "net-real/listen_on_one_port.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>

namespace swarm::net::internal {
namespace {

// One attempt: a socket on each address at `port` (0: the first one that
// opens picks it, the others follow). On failure nothing is left open.
Listeners OpenAll(const std::vector<sockaddr_storage>& addresses, int port,
                  const OpenSocket& open) {
  Listeners out;
  out.port = port;
  int error = 0;
  for (const sockaddr_storage& address : addresses) {
    const OpenedSocket s = open(address, out.port);
    if (s.fd >= 0) {
      out.fds.push_back(s.fd);
      if (out.port == 0) out.port = s.port;
      continue;
    }
    if (error == 0 || !Skippable(s.error)) error = s.error;
    if (!Skippable(s.error)) break;  // e.g. a busy port: fail as a whole
  }
  if (error != 0 && !Skippable(error)) {
    for (int fd : out.fds) ::close(fd);
    out.fds.clear();
  }
  if (out.fds.empty()) out.error = error != 0 ? error : EADDRNOTAVAIL;
  return out;
}

}  // namespace

bool Skippable(int error) { return error == EAFNOSUPPORT || error == EADDRNOTAVAIL; }

void SetPort(sockaddr_storage* ss, int port) {
  if (ss->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(ss)->sin_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in6*>(ss)->sin6_port = htons(static_cast<uint16_t>(port));
  }
}

int PortOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

socklen_t LengthOf(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

Listeners ListenOnOnePort(const std::vector<sockaddr_storage>& addresses, int port,
                          const OpenSocket& open) {
  for (int attempt = 1;; ++attempt) {
    Listeners got = OpenAll(addresses, port, open);
    // The kernel's pick was busy on a later address (a port it could not
    // pick at all fails on the first bind, with got.port still 0).
    const bool pick_taken = port == 0 && got.error == EADDRINUSE && got.port != 0;
    if (!pick_taken || attempt == kPickAttempts) return got;
  }
}

}  // namespace swarm::net::internal
