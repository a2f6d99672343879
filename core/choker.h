// Choker: whom to upload to. A policy over plain data — the Peer gathers one
// ChokeCandidate per connection every rechoke interval (and between
// intervals when an upload slot falls free, see RechokeKind), and applies
// the decision — so it is testable without a Peer.
//
//   tit_for_tat  leecher: the (slots-1) interested, non-snubbed peers that
//                gave us the most in the last 20 s, plus one optimistic
//                unchoke rotated every optimistic interval (new peers get
//                three chances, as in the original client). As a seed: the
//                peers we upload to fastest (or round-robin, see SeedChoke).
//   round_robin  every rechoke, the next `slots` interested peers in
//                connection order, whatever they give back.
//   unchoke_all  every interested peer.
//   strict_tit_for_tat  as tit_for_tat; the deficit limit is applied by the
//                Peer when it serves requests.
//   mainline_tit_for_tat  as tit_for_tat, but a leecher gives a regular
//                slot only to a peer that gave it something in the last
//                20 s; while none has, one regular slot still goes to a
//                peer drawn from those that gave nothing, so it unchokes
//                two (with the optimistic one). tit_for_tat fills every
//                regular slot, drawing among peers that gave nothing as
//                BitTornado does; this follows BitTorrent mainline 4.x,
//                which ranks only peers that sent a block in the last 30 s
//                and unchokes at least `min_uploads` (2) in all.
//   propshare    every interested peer that gave us something in the last
//                20 s, weighted by what it gave, plus an optimistic unchoke
//                weighted by propshare_reserve (Levin et al. 2008).
//   bittyrant    peers ranked by expected download per byte of upload
//                needed to be reciprocated, unchoked until the upload
//                capacity is spent; the estimates adapt every round
//                (Piatek et al. 2007). See BitTyrantState.
// A free-rider unchokes nobody. Every policy but unchoke_all ranks the
// candidates that ignored an unchoke of ours (ChokeCandidate::
// ignores_unchoke) after all the others.
//
// A decision may carry weights: the Peer then divides its upload among the
// unchoked peers in those proportions (stride scheduling over requests).
//
// Thread-compatible; holds the round-robin cursor, BitTyrant's estimates
// and scratch space.
#ifndef SWARM_CORE_CHOKER_H_
#define SWARM_CORE_CHOKER_H_

#include <map>
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
  bool unchoking_us = false; // they currently unchoke us
  // We unchoked it and it asked nothing (PeerConfig::unused_unchoke_timeout):
  // ranked after every candidate not so marked, by every policy that has
  // fewer slots than candidates.
  bool ignores_unchoke = false;
  Rate download_rate;        // from them to us
  // Only the policies that read them need these; Peer::Rechoke leaves them
  // zero otherwise (three rate meters per neighbour on every rechoke add up).
  Rate upload_rate;          // from us to them; read when we are a seed
  Rate announce_rate;        // pieces they announced (Have) x piece size;
                             // read by BitTyrant
};

// Why a rechoke runs.
//   kRound       the rechoke interval elapsed: decide afresh (ties between
//                equally ranked peers are drawn at random, so peers that
//                gave nothing take turns; BitTyrant learns from the round).
//   kOptimistic  as kRound, and the optimistic interval elapsed too: draw a
//                new optimistic peer.
//   kSlotFreed   between intervals, a slot fell free or a peer asked while
//                one was free: the same criteria, but the round goes on.
//                Peers already unchoked win ties (a fresh draw would choke
//                a holder in favour of an equal peer), the optimistic peer
//                keeps its slot while still interested, and BitTyrant's
//                estimates do not change.
enum class RechokeKind : uint8_t { kRound, kOptimistic, kSlotFreed };

struct ChokeDecision {
  std::vector<ConnectionId> unchoke;     // every peer to leave unchoked
  std::optional<ConnectionId> optimistic;  // included in `unchoke`
  // Empty: share upload equally. Otherwise weight[i] > 0 for unchoke[i].
  std::vector<double> weight;

  void Clear() {
    unchoke.clear();
    optimistic.reset();
    weight.clear();
  }
};

// What a BitTyrant client learns about each neighbour across rounds: the
// download d it can expect when reciprocated and the upload u it must give
// to be reciprocated. Initial u is an equal split of capacity over the
// default slots; u shrinks 10% after three reciprocated rounds in a row and
// grows 20% after a round without reciprocation (Piatek et al. 2007, §4).
struct BitTyrantState {
  double download = 0;  // bytes/s expected from the peer
  double upload = 0;    // bytes/s needed to be reciprocated
  int reciprocated_rounds = 0;
};

class Choker {
 public:
  explicit Choker(const PeerConfig& config) : config_(config) {}

  // Decides whom to unchoke; see RechokeKind. Unless `kind` is
  // kOptimistic, a still-eligible current optimistic peer keeps its slot.
  // The decision stays valid until the next call (it is reused, so that a
  // rechoke does not allocate).
  const ChokeDecision& Rechoke(std::span<const ChokeCandidate> candidates,
                               bool we_are_seed, RechokeKind kind, Rng& rng);

  // Whether Rechoke takes turns (round-robin) rather than ranking: such a
  // cursor must advance once per interval, not whenever a slot frees.
  bool TakesTurns(bool we_are_seed) const;

  // Whether Rechoke unchokes at most `unchoke_slots` peers. unchoke_all,
  // and propshare and bittyrant as leechers, size their decisions
  // themselves (every contributor; as many as the upload capacity pays
  // for), so a free slot cannot be told from the count.
  bool CountsSlots(bool we_are_seed) const;

 private:
  // Each fills `d`, which the caller has cleared.
  // `earned`: regular slots only for peers with a download rate above
  // zero, but one (mainline_tit_for_tat).
  void TitForTat(std::span<const ChokeCandidate> c, bool seed, RechokeKind kind,
                 Rng& rng, ChokeDecision& d, bool earned = false);
  void RoundRobin(std::span<const ChokeCandidate> c, size_t slots, ChokeDecision& d);
  void PropShare(std::span<const ChokeCandidate> c, RechokeKind kind, Rng& rng,
                 ChokeDecision& d);
  void BitTyrant(std::span<const ChokeCandidate> c, RechokeKind kind, Rng& rng,
                 ChokeDecision& d);
  // BitTyrant's update of one neighbour's estimates at the end of a round.
  void LearnFromRound(const ChokeCandidate& x, BitTyrantState& s) const;
  // Adds an optimistic unchoke among interested peers not yet unchoked
  // (kept from last round unless `rotate`), new peers weighted x3.
  void AddOptimistic(std::span<const ChokeCandidate> c, bool rotate, Rng& rng,
                     ChokeDecision& d);

  PeerConfig config_;
  uint64_t round_robin_cursor_ = 0;  // last connection id served
  std::map<ConnectionId, BitTyrantState> tyrant_;
  // Kept between rounds so that a rechoke does not allocate.
  ChokeDecision decision_;
  std::vector<const ChokeCandidate*> ranked_scratch_;
  std::vector<ConnectionId> pool_scratch_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_CHOKER_H_
