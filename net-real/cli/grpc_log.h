// GrpcLogHold: holds back gRPC's own log lines for a while, then lets them
// out or drops them.
//
// gRPC reports a listening port it cannot bind with a long error line of
// its own before BuildAndStart returns, and `swarm` then prints its one-line
// reason. The commands hold gRPC's log while a server starts and drop what
// was held if the start failed (unless --log-level is debug, when the
// detail may help); after a successful start everything held is printed, as
// gRPC would have printed it.
//
// gRPC's log function is process-wide: lines other threads log meanwhile are
// held (and, after a failure, dropped) too. Keep the hold short. Held or
// not, each line is shown to the listener watch (net-real/listener_watch.h),
// which is gRPC's log function again after the hold.
// Thread-safe; at most one GrpcLogHold may be alive at a time.
#ifndef SWARM_NET_CLI_GRPC_LOG_H_
#define SWARM_NET_CLI_GRPC_LOG_H_

namespace swarm::net::cli {

class GrpcLogHold {
 public:
  GrpcLogHold();
  // Releases with show = true if Release was not called.
  ~GrpcLogHold();
  GrpcLogHold(const GrpcLogHold&) = delete;
  GrpcLogHold& operator=(const GrpcLogHold&) = delete;

  // Installs the listener watch (gRPC's log function outside a hold);
  // prints the held lines as gRPC would if `show`, else drops them. Later
  // calls do nothing.
  void Release(bool show);

 private:
  bool released_ = false;
};

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_GRPC_LOG_H_
