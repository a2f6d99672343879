// A check, with a plain socket, that a `--listen` address can be bound.
//
// The `swarm` commands run it before any slow work (hashing files, waiting
// for the tracker) and before gRPC is started: a busy or foreign address
// then fails at once with one clear line, instead of minutes later under
// gRPC's own multi-line error log. It checks, it does not reserve: should
// another process take the port between the check and gRPC's bind, the
// caller still reports gRPC's failure.
//
// Thread-safe; starts no thread (so it may run before signals are masked).
#ifndef SWARM_NET_CLI_LISTEN_PROBE_H_
#define SWARM_NET_CLI_LISTEN_PROBE_H_

#include <optional>
#include <string>

namespace swarm::net::cli {

// nullopt if a listening TCP socket can be opened on `listen` ("HOST:PORT",
// HOST a name, an IPv4 address or a bracketed IPv6 one) the way gRPC opens
// it (SO_REUSEADDR, no SO_REUSEPORT), on at least one of HOST's addresses;
// else "cannot listen on HOST:PORT: REASON", e.g. "Address already in use".
std::optional<std::string> ListenProblem(const std::string& listen);

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_LISTEN_PROBE_H_
