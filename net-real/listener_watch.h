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
// prints every line as gRPC's default log function would, except gRPC's
// line about a failed bind while a server that is down retries listening
// (RelistenIfDeaf below): the first failure's line was printed.
//
// gRPC's log function is process-wide. cli::GrpcLogHold replaces it for a
// while: it hands each line it sees to NoteGrpcLogLine, prints with
// PrintGrpcLogLine, and puts the watch back with RestoreListenerWatch.
// Thread-safe.
#ifndef SWARM_NET_LISTENER_WATCH_H_
#define SWARM_NET_LISTENER_WATCH_H_

#include <grpc/support/log.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

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
  kListening,  // it listens, and has since the last check
  kRestarted,  // it listens again: it was stopped after a listener of this
               // process failed, or it was down and a retry succeeded
  kFailed,     // it is down: listening again failed, now or at an earlier
               // check; later checks try again (ListenRetry)
};

// When a server that could not listen again tries next: at the first check
// after a failure, then kFirstRetry after it, the wait doubling after each
// failure up to kMaxRetry. Not thread-safe.
class ListenRetry {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kFirstRetry = std::chrono::seconds(1);
  static constexpr Clock::duration kMaxRetry = std::chrono::seconds(30);

  bool down() const { return down_; }
  const std::string& last_error() const { return last_error_; }
  // Whether a down server should try to listen at `now`.
  bool Due(Clock::time_point now) const { return now >= next_; }
  void Failed(Clock::time_point now, const std::string& error);
  void Succeeded();

 private:
  bool down_ = false;
  std::string last_error_;
  Clock::time_point next_{};
  Clock::duration wait_ = kFirstRetry;
};

// The steps of PeerServer's and TrackerServer's RelistenIfDeaf, around
// their own `stop` (shuts the gRPC server down and drops it) and `listen`
// (starts it on an address; false with *error). `up`: a server is
// running. `seen`: ListenerFailures() when it last started. It listens
// again on `host`:*port, and puts *port back when that fails (a failed
// start sets it to 0; the port a peer announces stays true). `between`,
// if set, runs after `stop` and before `listen` (tests: take the port).
Relisten RelistenIfDeaf(bool up, uint64_t seen, ListenRetry* retry,
                        const std::function<void()>& stop,
                        const std::function<bool(const std::string&, std::string*)>& listen,
                        const std::string& host, int* port,
                        const std::function<void()>& between, std::string* error);

}  // namespace swarm::net

#endif  // SWARM_NET_LISTENER_WATCH_H_
