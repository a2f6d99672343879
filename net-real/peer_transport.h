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
#include <optional>
#include <string>

#include "core/torrent_info.h"
#include "net-real/link.h"
#include "net-real/listening_server.h"

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
};

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

  struct Router;  // shared with the reactors

 private:
  PeerServer() = default;
  std::shared_ptr<Router> router_;
  std::unique_ptr<class PeerWireService> service_;
  std::optional<ListeningServer> server_;
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
