// How PeerServer and TrackerServer listen: a gRPC server fed by our own
// accept loop (net-real/accept_loop.h) rather than by gRPC's listener,
// which gives up on a port for good when the process runs out of file
// descriptors (grpc/grpc#20418). gRPC serves a connection handed to it
// (ExternalConnectionAcceptor, FROM_FD) through the same HTTP/2 code as one
// it accepted itself, handshake and idle timeouts included.
//
// Thread-safe as grpc::Server is; Shutdown from the owner's thread.
#ifndef SWARM_NET_LISTENING_SERVER_H_
#define SWARM_NET_LISTENING_SERVER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "net-real/accept_loop.h"

namespace grpc {
class CallbackGenericService;
class Server;
class ServerBuilder;
class Service;
}  // namespace grpc

namespace swarm::net {

// How long a server (PeerServer, TrackerServer) keeps an accepted
// connection that has not sent its HTTP/2 preface and SETTINGS (gRPC's
// default: 120 s), and one that has no call open (gRPC's default: never
// closed). Connections from anyone cost a file descriptor and about 19 KB
// each; these bound how long one can be held for nothing. A client whose
// idle connection was closed opens a new one at its next call; a peer
// link is a call, open as long as the link.
inline constexpr int kServerHandshakeTimeoutMs = 10'000;
inline constexpr int kServerIdleConnectionMs = 30'000;

// Keepalive PINGs a server (PeerServer, TrackerServer) accepts from a
// client while it sends the client nothing: one every
// kServerMinPingIntervalMs, and kServerMaxPingStrikes quicker ones
// (gRPC's default count) before it closes the connection with GOAWAY
// too_many_pings. gRPC's default interval, 5 min, would make the third
// PING of a TrackerClient (every kTrackerKeepaliveTime, 10 s) an offence
// while the tracker is still working out or holding back an answer. Half
// the client's period, so that timer jitter is no offence either.
inline constexpr int kServerMinPingIntervalMs = 5'000;
inline constexpr int kServerMaxPingStrikes = 2;

// What PeerServer and TrackerServer ask of every connection they are
// handed: the two timeouts above (tests may pass others) and the PING
// allowance.
void SetListenerOptions(grpc::ServerBuilder& builder,
                        int idle_connection_ms = kServerIdleConnectionMs,
                        int handshake_timeout_ms = kServerHandshakeTimeoutMs);

// A gRPC server of PeerServer's or TrackerServer's kind and the accept
// loop (net-real/accept_loop.h) that hands it the connections made to its
// port. gRPC's own listener is not used: it stops accepting for good when
// the process runs out of descriptors (grpc/grpc#20418).
struct ListeningServer {
  ListeningServer();
  ListeningServer(ListeningServer&&) noexcept;
  ListeningServer& operator=(ListeningServer&&) noexcept;
  ~ListeningServer();

  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<AcceptLoop> accept;  // destroyed first: stops handing on
  // Stops accepting (the port refuses connections from then on), then shuts
  // the server down, cancelling calls still open at `deadline`.
  void Shutdown(std::chrono::system_clock::time_point deadline);
};

// Starts a server of PeerServer's or TrackerServer's kind on `listen`
// (AcceptLoop::Listen): SetListenerOptions, messages of up to
// `max_message_bytes` either way, a gRPC memory quota of `quota_bytes`
// named `quota_name`, and `service` (if not null: tests may serve
// nothing), and `generic`, if not null, for the methods `service` marks
// generic. *port gets the bound port. nullopt, with
// *error, if it cannot listen.
std::optional<ListeningServer> StartListening(const std::string& listen, grpc::Service* service,
                                              int max_message_bytes, const char* quota_name,
                                              size_t quota_bytes, int* port, std::string* error,
                                              grpc::CallbackGenericService* generic = nullptr,
                                              int idle_connection_ms = kServerIdleConnectionMs,
                                              int handshake_timeout_ms = kServerHandshakeTimeoutMs);

}  // namespace swarm::net

#endif  // SWARM_NET_LISTENING_SERVER_H_
