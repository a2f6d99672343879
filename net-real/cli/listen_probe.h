// A check that a `--listen` address can be listened on.
//
// The `swarm` commands run it before any slow work (hashing files, waiting
// for the tracker) and before gRPC is started: a busy or foreign address
// then fails at once with one clear line, instead of after the hashing. It
// opens the listening sockets exactly as the server will
// (AcceptLoop::Listen) and closes them again: it checks, it does not
// reserve, so should another process take the port between the check and
// the server's start, the caller still reports the server's failure.
//
// Thread-safe; starts no thread (so it may run before signals are masked).
#ifndef SWARM_NET_CLI_LISTEN_PROBE_H_
#define SWARM_NET_CLI_LISTEN_PROBE_H_

#include <optional>
#include <string>

namespace swarm::net::cli {

// nullopt if AcceptLoop::Listen can open `listen` ("HOST:PORT", HOST a
// name, an IPv4 address or a bracketed IPv6 one); else its error, "cannot
// listen on HOST:PORT: REASON", e.g. "Address already in use".
std::optional<std::string> ListenProblem(const std::string& listen);

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_LISTEN_PROBE_H_
