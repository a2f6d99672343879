// Link: one peer-wire stream (a gRPC bidirectional call) as the driver sees
// it, with no gRPC types in sight. The transport (peer_transport.cc) keeps
// one write outstanding per stream and queues the rest, in order.
//
// Handlers are called on gRPC threads; they must only translate and hand the
// event to the owning driver's EventLoop. After on_closed nothing else is
// called.
//
// Thread-safe: Send/Close from any thread.
#ifndef SWARM_NET_LINK_H_
#define SWARM_NET_LINK_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/message.h"
#include "net-real/payload.h"
#include "net-real/wire_codec.h"

namespace swarm::net {

// Received bytes a link hands to its driver ahead of the driver's Consumed()
// before it stops reading: from then on TCP and HTTP/2 flow control hold the
// sender back, so a peer cannot fill our memory with messages that wait for
// the download limit or an added delay. Far above what a well-behaved peer
// has in flight (a request pipeline of blocks), so one fast link alone is
// never held back by it.
inline constexpr size_t kDefaultReadAheadBytes = 16 * 1024 * 1024;
// Received bytes all the links of one driver together hand to it ahead of
// its Consumed() (ReadBudget): without it a driver with 50 connections
// (max_connections) could hold 50 times the read-ahead from peers that send
// faster than it consumes. Four links' worth of read-ahead.
inline constexpr size_t kDefaultReadBudgetBytes = 64 * 1024 * 1024;
// What the messages queued to send on one link may take, in bytes: each
// counts its encoded header plus kQueuedSendOverhead (its place in the
// queue), but not a Piece's payload, which is shared with the store's read
// and bounded by the core (uploads_in_flight blocks a connection). A peer
// that stops reading while making us send (e.g. flapping Choke/Unchoke,
// each Unchoke answered with a pipeline of Requests) would otherwise grow
// the queue without bound; the link is closed instead, with a reason
// (Link::CloseReason). 4 MiB is about 30,000 small messages: a remote
// that reads never gets near it; one whose reading pauses (its driver
// behind on its download limit) lets Haves pile up only for as long as
// it takes to consume its 16 MiB read-ahead, one Have per piece we
// complete meanwhile; a bitfield of the largest torrent is 1.25 MB.
inline constexpr size_t kMaxQueuedSendBytes = 4 * 1024 * 1024;
// The memory a queued message takes beside its header (the queue entry:
// the frame, its block tag; peer_transport.cc checks it covers them).
inline constexpr size_t kQueuedSendOverhead = 128;

// Received-but-not-consumed bytes counted across several links (a driver's),
// including the blocks they delivered that wait for the disk thread
// (Link::Retain).
// A link with messages waiting reads on only while the total is under the
// limit; a link with nothing waiting always reads its next message, so
// links that fill the budget (hostile, or just ahead of a slow driver)
// delay the others but never stall them. Each open link may therefore add
// one message beyond the limit: the total stays under
//   limit + links * ReadCost(kMaxWireMessageBytes)  (about 1 MiB a link).
// A link paused on the total waits here and is woken when a release
// (any link's Consumed, or a link's end) brings the total under the limit.
//
// Lock order: a link's lock, then the budget's; a link is woken with no
// lock held (Release returns whom to wake), so no link ever takes another
// link's lock while holding its own.
//
// Thread-safe.
class ReadBudget {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    // The total went under the limit: read on if still paused and allowed.
    virtual void OnBudgetFreed() = 0;
  };
  using Wakeups = std::vector<std::weak_ptr<Waiter>>;

  explicit ReadBudget(size_t limit) : limit_(limit) {}
  size_t limit() const { return limit_; }
  size_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  void Charge(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ += bytes;
  }
  // REQUIRES: `bytes` were charged and not released yet. Returns the
  // waiters to wake (each with OnBudgetFreed, no lock held) if the total
  // is now under the limit.
  [[nodiscard]] Wakeups Release(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= bytes;
    Wakeups wake;
    if (used_ < limit_) wake.swap(waiting_);
    return wake;
  }
  // True if the total is under the limit; otherwise false, and `w` is
  // among those a later Release returns.
  bool HasRoomOrWait(std::weak_ptr<Waiter> w) {
    std::lock_guard<std::mutex> lock(mu_);
    if (used_ < limit_) return true;
    waiting_.push_back(std::move(w));
    return false;
  }
  static void Wake(const Wakeups& wake) {
    for (const auto& weak : wake) {
      if (auto w = weak.lock()) w->OnBudgetFreed();
    }
  }

 private:
  const size_t limit_;
  mutable std::mutex mu_;
  size_t used_ = 0;
  Wakeups waiting_;  // may hold a link twice, or one gone: waking is idempotent
};

class Link {
 public:
  // What a received message counts against the read-ahead: its bytes plus
  // a fixed charge, so that a flood of tiny messages is bounded too.
  static constexpr size_t ReadCost(size_t message_bytes) { return message_bytes + 256; }

  struct Handlers {
    std::function<void()> on_up;  // outbound only: the remote accepted
    // The serialized bytes of one WireMessage (see DecodeFrame), sharing
    // the transport's receive buffers.
    std::function<void(Payload)> on_message;
    // The write of a message sent with a block tag completed.
    std::function<void(const core::BlockRef&)> on_sent;
    std::function<void()> on_closed;
    // Reading pauses while the ReadCost of messages handed to on_message
    // and not yet Consumed() (or retained and not yet released) reaches
    // this.
    size_t read_ahead_bytes = kDefaultReadAheadBytes;
    // Shared with the driver's other links (optional): reading also pauses
    // while its total is exhausted and this link has a message waiting.
    // The link releases what it charged as it is consumed, and the rest
    // when the stream is done.
    std::shared_ptr<ReadBudget> read_budget;
    // Send() closes the link rather than queue a message past this many
    // bytes waiting to be written (as kMaxQueuedSendBytes counts them).
    size_t max_queued_send_bytes = kMaxQueuedSendBytes;
  };

  virtual ~Link() = default;
  // Queues a message; `block` tags a Piece so on_sent can report it. Ignored
  // once the link is closing. A Piece's payload is sent without a copy. When
  // the queue would go over Handlers::max_queued_send_bytes (the remote
  // does not read) the link is closed instead, and CloseReason says so.
  virtual void Send(WireFrame frame, std::optional<core::BlockRef> block) = 0;
  // Drops queued messages and ends the stream; on_closed follows.
  virtual void Close() = 0;
  // Why the stream ended, as gRPC told it (e.g. "RESOURCE_EXHAUSTED: ..."
  // when a memory quota cut it off); "" while it is open, or when it ended
  // without an error. For log lines; set before on_closed is called.
  virtual std::string CloseReason() const { return ""; }
  // The remote's host, for log lines: the address an inbound stream came
  // from ("127.0.0.1", "[::1]"), or the host of the endpoint dialed. ""
  // if not known.
  virtual std::string RemoteHost() const { return ""; }
  // The driver is done with a message handed to on_message whose ReadCost
  // was `cost`: reading resumes if it had paused. Every message must be
  // consumed once, unless the link is closed (once the stream is done, its
  // unconsumed messages no longer count, so the driver must drop any it
  // still holds as soon as it learns the link closed).
  virtual void Consumed(size_t cost) = 0;
  // Instead of Consumed(cost): the driver keeps the bytes of a message
  // handed to on_message beyond its delivery (a block queued for the disk
  // thread). They go on counting, against this link's read-ahead and the
  // read budget, until ReleaseRetained(cost) — even after the stream is
  // done, so a peer that reconnects cannot leave uncounted bytes behind.
  // May be called after the stream is done (the cost is charged again).
  virtual void Retain(size_t cost) = 0;
  // The retained message is gone (written): reading resumes if it had
  // paused. REQUIRES: Retain(cost) was called and not yet released.
  virtual void ReleaseRetained(size_t cost) = 0;
};

// A torrent that accepts inbound streams (a driver), found by info-hash.
class InboundSink {
 public:
  virtual ~InboundSink() = default;
  // Called on a gRPC thread with the stream's first message, a handshake
  // for this sink's torrent whose fields have the right lengths (nothing in
  // it is proven yet: see peer_auth.h). Must install the link's handlers
  // before returning (no message is read before that).
  virtual void AdoptInbound(std::shared_ptr<Link> link, const AuthHello& first,
                            Link::Handlers* handlers) = 0;
};

}  // namespace swarm::net

#endif  // SWARM_NET_LINK_H_
