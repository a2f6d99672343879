// Peer <-> tracker vocabulary: who a peer is on the network, and the announce
// request/response exchanged with core::Tracker by any driver.
#ifndef SWARM_CORE_ANNOUNCE_H_
#define SWARM_CORE_ANNOUNCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/torrent_info.h"
#include "core/types.h"

namespace swarm::core {

// A peer as the tracker knows it. `endpoint` is "host:port" for real peers
// and empty in the simulator, where `id` alone locates the virtual node.
struct PeerAddress {
  PeerId id;
  std::string endpoint;
  bool operator==(const PeerAddress&) const = default;
};

enum class AnnounceEvent : uint8_t { kNone, kStarted, kCompleted, kStopped };
std::string_view AnnounceEventName(AnnounceEvent e);

struct AnnounceRequest {
  InfoHash info_hash{};
  PeerAddress peer;
  AnnounceEvent event = AnnounceEvent::kNone;
  Bytes uploaded = 0;
  Bytes downloaded = 0;
  Bytes left = 0;
  uint32_t numwant = 50;
};

struct AnnounceResponse {
  // Non-empty when the tracker refused the announce (unknown torrent, ...).
  std::string failure_reason;
  Duration interval = Duration::Seconds(1800);
  std::vector<PeerAddress> peers;  // never includes the announcing peer
  uint32_t seeds = 0;
  uint32_t leechers = 0;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_ANNOUNCE_H_
