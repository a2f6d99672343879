// Choker: whom to upload to. A policy over plain data — the Peer gathers one
// ChokeCandidate per connection every rechoke interval, and applies the
// decision — so it is testable without a Peer.
//
//   tit_for_tat  leecher: the (slots-1) interested, non-snubbed peers that
//                gave us the most in the last 20 s, plus one optimistic
//                unchoke rotated every optimistic interval (new peers get
//                three chances, as in the original client). As a seed: the
//                peers we upload to fastest (or round-robin, see SeedChoke).
//   round_robin  every rechoke, the next `slots` interested peers in
//                connection order, whatever they give back.
//   unchoke_all  every interested peer.
// A free-rider unchokes nobody.
//
// Thread-compatible; holds only the round-robin cursor.
#ifndef SWARM_CORE_CHOKER_H_
#define SWARM_CORE_CHOKER_H_

#include <optional>
#include <span>
#include <vector>

#include "core/peer_config.h"
#include "core/rng.h"
#include "core/types.h"

namespace swarm::core {

struct ChokeCandidate {
  ConnectionId conn;
  bool interested = false;   // they want something we have
  bool snubbed = false;      // they left our requests unanswered
  bool unchoked = false;     // we currently upload to them
  bool optimistic = false;   // ... through the optimistic slot
  bool is_new = false;       // connected recently (optimistic weight x3)
  Rate download_rate;        // from them to us
  Rate upload_rate;          // from us to them
};

struct ChokeDecision {
  std::vector<ConnectionId> unchoke;     // every peer to leave unchoked
  std::optional<ConnectionId> optimistic;  // included in `unchoke`
};

class Choker {
 public:
  explicit Choker(const PeerConfig& config) : config_(config) {}

  // `rotate_optimistic`: the optimistic interval elapsed; pick a new one.
  // Otherwise a still-eligible current optimistic peer keeps its slot.
  ChokeDecision Rechoke(std::span<const ChokeCandidate> candidates,
                        bool we_are_seed, bool rotate_optimistic, Rng& rng);

 private:
  ChokeDecision TitForTat(std::span<const ChokeCandidate> c, bool seed,
                          bool rotate, Rng& rng);
  ChokeDecision RoundRobin(std::span<const ChokeCandidate> c, size_t slots);

  PeerConfig config_;
  uint64_t round_robin_cursor_ = 0;  // last connection id served
};

}  // namespace swarm::core

#endif  // SWARM_CORE_CHOKER_H_
