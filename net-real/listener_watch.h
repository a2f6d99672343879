// The listener watch: notices that gRPC stopped accepting connections on a
// listening port, so that a server can listen again on it (PeerServer and
// TrackerServer::RelistenIfDeaf).
//
// gRPC 1.51 (src/core/lib/iomgr/tcp_server_posix.cc) gives up on a
// listening socket for good when accept4 fails with anything but EINTR,
// EAGAIN or ECONNABORTED: for instance EMFILE, when the process has no file
// descriptor left, which a burst of connections from anyone brings about
// (grpc/grpc#20418). The port stays bound, the kernel still completes TCP
// handshakes into its backlog, and nothing is served any more. gRPC says so
// in one log line only, "Failed accept4: REASON", which does not name the
// port. The watch is a gRPC log function that counts those lines and
// prints every line as gRPC's default log function would.
//
// gRPC's log function is process-wide. cli::GrpcLogHold replaces it for a
// while: it hands each line it sees to NoteGrpcLogLine, prints with
// PrintGrpcLogLine, and puts the watch back with RestoreListenerWatch.
// Thread-safe.
#ifndef SWARM_NET_LISTENER_WATCH_H_
#define SWARM_NET_LISTENER_WATCH_H_

#include <grpc/support/log.h>

#include <cstdint>

namespace swarm::net {

// Installs the watch as gRPC's log function the first time it is called
// in the process; later calls do nothing (a GrpcLogHold in force while a
// server starts stays in force).
void WatchListeners();

// Installs the watch as gRPC's log function again.
void RestoreListenerWatch();

// Counts `message` if it says a listener stopped accepting.
void NoteGrpcLogLine(const char* message);

// Prints a line the way gRPC's default log function does.
void PrintGrpcLogLine(gpr_log_func_args* args);

// Lines seen so far that said a listener of this process stopped
// accepting. Never decreases.
uint64_t ListenerFailures();

// What a server's RelistenIfDeaf did.
enum class Relisten {
  kListening,  // no listener of this process failed since the last check
  kRestarted,  // one did: the server was stopped and started again
  kFailed,     // it could not listen again: the server is down
};

}  // namespace swarm::net

#endif  // SWARM_NET_LISTENER_WATCH_H_
