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

#include <functional>
#include <memory>
#include <optional>

#include "core/message.h"
#include "net-real/payload.h"
#include "net-real/wire_codec.h"

namespace swarm::net {

class Link {
 public:
  struct Handlers {
    std::function<void()> on_up;  // outbound only: the remote accepted
    // The serialized bytes of one WireMessage (see DecodeFrame), sharing
    // the transport's receive buffers.
    std::function<void(Payload)> on_message;
    // The write of a message sent with a block tag completed.
    std::function<void(const core::BlockRef&)> on_sent;
    std::function<void()> on_closed;
  };

  virtual ~Link() = default;
  // Queues a message; `block` tags a Piece so on_sent can report it. Ignored
  // once the link is closing. A Piece's payload is sent without a copy.
  virtual void Send(WireFrame frame, std::optional<core::BlockRef> block) = 0;
  // Drops queued messages and ends the stream; on_closed follows.
  virtual void Close() = 0;
};

// A torrent that accepts inbound streams (a driver), found by info-hash.
class InboundSink {
 public:
  virtual ~InboundSink() = default;
  // Called on a gRPC thread with the stream's first message, a handshake
  // for this sink's torrent. Must install the link's handlers before
  // returning (no message is read before that).
  virtual void AdoptInbound(std::shared_ptr<Link> link, const core::Handshake& first,
                            Link::Handlers* handlers) = 0;
};

}  // namespace swarm::net

#endif  // SWARM_NET_LINK_H_
