// GrpcLogHold: holds back gRPC's own log lines for a while, then lets them
// out or drops them.
//
// A server that fails to start says why in one line of ours (`swarm`
// prints it); whatever gRPC logs meanwhile would only repeat it at length.
// The commands hold gRPC's log while a server starts and drop what was held
// if the start failed (unless --log-level is debug, when the detail may
// help); after a successful start everything held is printed, as gRPC would
// have printed it. (Since servers open their own listening sockets,
// net-real/accept_loop.h, a busy port fails before gRPC is asked; gRPC
// 1.51 logged a long error line of its own for it.)
//
// gRPC's log function is process-wide: lines other threads log meanwhile are
// held (and, after a failure, dropped) too. Keep the hold short. After the
// hold gRPC's default log function is installed again.
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

  // Installs gRPC's default log function again; prints the held lines as
  // gRPC would if `show`, else drops them. Later calls do nothing.
  void Release(bool show);

 private:
  bool released_ = false;
};

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_GRPC_LOG_H_
