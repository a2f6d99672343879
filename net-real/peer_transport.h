// The gRPC side of the peer wire: PeerServer accepts streams and routes each
// by the info-hash of its first (handshake) message to a registered
// InboundSink; Dialer opens outbound streams, sharing one channel per remote
// endpoint among the links open to it. Both cap received messages at kMaxWireMessageBytes, and bound
// what gRPC may hold for their connections with a memory quota each.
//
// Thread-safe.
#ifndef SWARM_NET_PEER_TRANSPORT_H_
#define SWARM_NET_PEER_TRANSPORT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/torrent_info.h"
#include "net-real/link.h"
#include "net-real/listener_watch.h"

namespace grpc {
class CallbackGenericService;
class Channel;
class ResourceQuota;
class Server;
class ServerBuilder;
class Service;
}  // namespace grpc

namespace swarm::net {

// Streams a PeerServer holds open before their handshake arrives; past
// this the oldest is closed (RESOURCE_EXHAUSTED). A remote sends its
// handshake with the stream's opening, so only idle or hostile streams
// wait long. Each may hold gRPC's buffers with a first message it never
// finishes (a whole message's worth, 1 MiB + 64 KiB, or more up to
// kPeerServerMemoryQuota): 64 of them keep that well under the quota.
inline constexpr size_t kMaxUnroutedStreams = 64;

// What gRPC may allocate for a PeerServer's connections (a gRPC resource
// quota: receive buffers, and so every received message until we drop
// it). gRPC 1.51 checks a message against kMaxWireMessageBytes only once
// it has arrived whole, and a stream with a read started takes in all of
// a message however long it claims to be, so without a quota one stream
// can make us buffer without bound. Near the quota gRPC shrinks the
// connections' flow-control windows; past it, it cancels streams
// (RESOURCE_EXHAUSTED), one at a time and not necessarily the culprit's,
// until it is under again. Twice a torrent's read budget
// (kDefaultReadBudgetBytes): honest links held back by it fit with room
// to spare.
inline constexpr size_t kPeerServerMemoryQuota = 2 * kDefaultReadBudgetBytes;

struct PeerServerOptions {
  size_t max_unrouted = kMaxUnroutedStreams;
  size_t memory_quota_bytes = kPeerServerMemoryQuota;
  // Tests: runs when RelistenIfDeaf has stopped the server, before it
  // listens again (e.g. to take the port meanwhile).
  std::function<void()> before_listening_again = nullptr;
};

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

// What PeerServer and TrackerServer ask of every listening port: no
// SO_REUSEPORT, the two timeouts and the PING allowance above.
// `idle_connection_ms` replaces kServerIdleConnectionMs (tests).
void SetListenerOptions(grpc::ServerBuilder& builder,
                        int idle_connection_ms = kServerIdleConnectionMs);

// Starts a server of PeerServer's or TrackerServer's kind on `listen`:
// SetListenerOptions, messages of up to `max_message_bytes` either way, a
// gRPC memory quota of `quota_bytes` named `quota_name`, and `service`
// (again after a restart: a service whose methods are all callbacks may be
// registered with one server after another), and `generic`, if not null,
// for the methods `service` marks generic. *port gets the bound port.
// nullptr, with *error, if it cannot listen.
std::unique_ptr<grpc::Server> StartListening(const std::string& listen, grpc::Service* service,
                                             int max_message_bytes, const char* quota_name,
                                             size_t quota_bytes, int* port, std::string* error,
                                             grpc::CallbackGenericService* generic = nullptr,
                                             int idle_connection_ms = kServerIdleConnectionMs);

class PeerServer {
 public:
  ~PeerServer();
  // Listens on "host:port" (port 0: ephemeral). nullptr and *error on failure.
  static std::unique_ptr<PeerServer> Start(const std::string& listen, std::string* error,
                                           PeerServerOptions options = {});
  int port() const { return port_; }

  // REQUIRES: sink outlives the server, or at least its Shutdown() (which
  // drops every registration; there is no way to drop one alone).
  void Register(const core::InfoHash& hash, InboundSink* sink);
  // Stops accepting and ends every stream. Idempotent.
  void Shutdown();

  // If gRPC gave up on a listening socket of this process since this
  // server (re)started (net-real/listener_watch.h: it cannot tell whose),
  // stops the server, which closes every connection it accepted and ends
  // their streams (the sinks see those links close and stay registered),
  // and listens again on the same port. On kFailed, *error says why and
  // the server is down: nobody can connect, links it dials are not
  // affected, and later calls try to listen again (ListenRetry: 1 s after
  // the failure, then waits doubling to 30 s) until one returns
  // kRestarted. Call it every second or so from the thread that owns the
  // server. REQUIRES: not after Shutdown().
  Relisten RelistenIfDeaf(std::string* error);
  // False while the server is down (RelistenIfDeaf returned kFailed).
  bool listening() const { return server_ != nullptr; }

  struct Router;  // shared with the reactors

 private:
  PeerServer() = default;
  // Builds and starts server_ on `listen` with service_; false and *error
  // on failure.
  bool Listen(const std::string& listen, std::string* error);
  std::shared_ptr<Router> router_;
  std::unique_ptr<class PeerWireService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;  // of the --listen address, to listen on again
  size_t memory_quota_bytes_ = 0;
  std::function<void()> before_listening_again_;
  uint64_t listener_failures_seen_ = 0;  // ListenerFailures() before the last start
  ListenRetry retry_;
  int port_ = 0;
};

// What gRPC may allocate for each channel a Dialer opens (one per remote
// endpoint): the streams we open carry whatever the remote sends, and
// gRPC 1.51 takes in all of a message we have started to read, however
// long it claims to be (as on the server side, kPeerServerMemoryQuota), so
// a remote we dial — any address a tracker lists — could otherwise make us
// buffer without bound. Near the quota gRPC shrinks the channel's
// flow-control windows; past it, it cancels the channel's streams
// (RESOURCE_EXHAUSTED). A quota per channel, not one per Dialer, so that
// only the flooding remote's stream is cancelled: with one shared quota
// gRPC cancels streams of any channel, one at a time, and an honest seed's
// went first in about half the runs measured (docs/real-network.md). A
// torrent's core dials only below min_connections (20), which bounds the
// total: at most 20 dialled streams per torrent at once. Four times a
// link's read-ahead (kDefaultReadAheadBytes): gRPC narrows a channel's
// windows well before its quota is full, and at twice the read-ahead an
// honest link alone fell from about 600 MiB/s to 2 MiB/s.
inline constexpr size_t kDialedChannelMemoryQuota = 4 * kDefaultReadAheadBytes;

struct DialerOptions {
  size_t memory_quota_bytes = kDialedChannelMemoryQuota;  // per channel
};

class Dialer {
 public:
  explicit Dialer(DialerOptions options = {});
  ~Dialer();
  // Starts a stream to `endpoint`; handlers.on_up fires when the remote
  // accepts, on_closed (without on_up) if it cannot be reached.
  std::shared_ptr<Link> Dial(const std::string& endpoint, Link::Handlers handlers);
  // Channels open now: one per endpoint that some link not yet freed was
  // dialled to.
  size_t Channels();

 private:
  const DialerOptions options_;
  std::mutex mu_;
  // Only the links hold their channel: a gRPC channel left open keeps
  // reconnecting to its endpoint in the background (gRPC's backoff: after
  // 1 s, growing to 2 min) for as long as it lives, long after the peer
  // there has left, and keeps its memory. The last link to an
  // endpoint to go frees its channel (and so its connection and quota),
  // possibly on a gRPC callback thread (ClientLink::OnDone): safe only
  // because MakeChannel pins the callback queue (PinCallbackQueue).
  std::map<std::string, std::weak_ptr<grpc::Channel>> channels_;  // under mu_
  void DropUnusedChannels();  // REQUIRES: mu_ held
};

// What a channel made by MakeChannel accepts.
struct ChannelLimits {
  int max_message_bytes = kMaxWireMessageBytes;  // both ways
  // Lower receive limits for single methods (full names, as
  // "/swarm.wire.Tracker/Announce"), set through gRPC's service config.
  std::map<std::string, int> max_response_bytes;
  // Bounds what gRPC may allocate for the channel; nullptr: gRPC's
  // process-wide default quota, which is unbounded. The channel keeps its
  // own reference.
  const grpc::ResourceQuota* quota = nullptr;
  // Keepalive while a call is open: a PING after `keepalive_time` (zero:
  // none, gRPC's default for clients), and the connection closed, failing
  // its calls (UNAVAILABLE), if its ACK does not come within
  // `keepalive_timeout`. No limit on PINGs sent while we send nothing:
  // gRPC's default (two) would stop them during a long answer.
  std::chrono::milliseconds keepalive_time{0};
  std::chrono::milliseconds keepalive_timeout{20000};
};

// Channel arguments for every swarmlab channel: message caps, the limits'
// quota, and a private subchannel pool (so two in-process peers never
// share a TCP connection).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                          const ChannelLimits& limits);
// With no quota: for tests and benchmarks, whose remotes are our own.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                          int max_message_bytes = kMaxWireMessageBytes);

// gRPC (1.51, as in Debian 12) serves the callback API from one
// process-wide completion queue with its own threads, reference-counted by
// the channels and servers that use it and torn down each time the count
// reaches zero. That teardown races those threads (an intermittent abort:
// "ref_counted.h: assertion failed: prior > 0"), and cannot join them when
// the last reference goes on one of them (a link freed in its OnDone
// holding a channel's last reference). Pins the queue for the life of the
// process, so the count never reaches zero. Idempotent and thread-safe;
// MakeChannel, PeerServer::Start and TrackerServer::Start call it.
void PinCallbackQueue();

// The host in gRPC's name for a peer's address: "ipv4:127.0.0.1:5555" ->
// "127.0.0.1"; "ipv6:%5B::1%5D:5555" (gRPC percent-encodes the brackets)
// -> "[::1]".
std::string HostOfGrpcPeer(const std::string& peer);

// Links not yet done, process-wide: lets a process wait for its streams to
// wind down before exiting.
int LiveLinks();

}  // namespace swarm::net

#endif  // SWARM_NET_PEER_TRANSPORT_H_
