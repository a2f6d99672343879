#include "net-real/cli/listen_probe.h"

#include "net-real/accept_loop.h"

namespace swarm::net::cli {

std::optional<std::string> ListenProblem(const std::string& listen) {
  std::string error;
  if (AcceptLoop::Listen(listen, &error) == nullptr) return error;
  return std::nullopt;  // the loop, never started, closes its sockets here
}

}  // namespace swarm::net::cli
