// Peer: one member of a swarm for one torrent, as a deterministic state
// machine (sans-I/O). A driver (the simulator, or the gRPC runtime) feeds it
// inputs stamped with `now`, then drains TakeActions() and carries them out,
// and calls OnTimeout() once `now` reaches NextTimeout().
//
// The Peer never reads a clock, never does I/O and draws randomness only
// from the Rng it was given, so the same inputs give the same actions.
//
// Remote misbehaviour never crashes it: every remote input is validated and a
// violation becomes a Disconnect action with a reason. Inputs for unknown
// connections (e.g. a message that raced a Disconnect) are ignored.
//
// Thread-compatible: one driver thread owns a Peer.
#ifndef SWARM_CORE_PEER_H_
#define SWARM_CORE_PEER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/action.h"
#include "core/announce.h"
#include "core/bitfield.h"
#include "core/choker.h"
#include "core/connection.h"
#include "core/flat_map.h"
#include "core/message.h"
#include "core/peer_config.h"
#include "core/piece_picker.h"
#include "core/rng.h"
#include "core/torrent_info.h"
#include "core/types.h"

namespace swarm::core {

// Counters a driver may read at any time (metrics, progress lines).
struct PeerStats {
  Bytes uploaded = 0;         // payload bytes of blocks sent (OnBlockSent)
  Bytes downloaded = 0;       // payload bytes of accepted blocks
  Bytes wasted = 0;           // duplicate, failed-hash or discarded payload bytes
  // Payload bytes stored and then thrown away before their piece's check
  // (a parole piece taken over by another peer); also in `wasted`.
  Bytes discarded = 0;
  uint32_t pieces_failed = 0; // pieces that failed verification
  uint32_t peers_banned = 0;
  uint32_t protocol_disconnects = 0;  // disconnects for remote violations
};

class Peer {
 public:
  // REQUIRES: config.Validate() is nullopt; torrent has at least one piece.
  Peer(PeerId self, const TorrentInfo& torrent, const PeerConfig& config,
       Rng rng);
  // Shares one immutable TorrentInfo among many peers (the simulator runs
  // thousands of peers of one torrent; each piece hash is 32 bytes).
  Peer(PeerId self, std::shared_ptr<const TorrentInfo> torrent,
       const PeerConfig& config, Rng rng);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // --- Inputs. REQUIRES: `now` never decreases between calls. ---

  // Starts the peer with the pieces already verified (resume) or none/all.
  // Emits Announce(started) (or completed state for a seed).
  void OnStart(Time now, const Bitfield& have);
  void OnStart(Time now, bool have_all);
  // Answer to our last Announce. One with a failure_reason brings nothing
  // and is retried after min_reannounce_interval.
  void OnTrackerResponse(Time now, const AnnounceResponse& response);
  // The tracker has lost its record of this swarm (the driver saw it learn
  // the file anew, e.g. after a restart): announce now rather than at the
  // next interval, or it would not list us until then.
  void OnTrackerReset(Time now);
  // A connection is up. `dialed` is the peer we asked to Connect to
  // (outbound), nullopt for inbound. Both sides then send a Handshake.
  // `verified`: the remote's id, when the driver proved it before telling
  // us of the connection (the real network authenticates first; its
  // Handshake input follows at once). Only a full peer reads it: an
  // inbound connection duplicating one we hold is then settled at once,
  // as its handshake would settle it (OnConnected's comment).
  void OnConnected(Time now, ConnectionId c, Direction d,
                   std::optional<PeerId> dialed,
                   std::optional<PeerId> verified = std::nullopt);
  // Our Connect to `dialed` failed: without `ended_by_us`, refused,
  // unreachable, timed out or closed by the remote (retried, see
  // PeerConfig::dial_attempts). With it, the driver ended the dial itself
  // for that reason before the core heard of the connection (the real
  // network checks the handshake first); retried only if WorthRedial.
  void OnConnectFailed(Time now, PeerId dialed,
                       std::optional<DisconnectReason> ended_by_us = std::nullopt);
  void OnMessage(Time now, ConnectionId c, const Message& m);
  // The bytes of a SendBlock have left.
  void OnBlockSent(Time now, ConnectionId c, const BlockRef& block);
  void OnDisconnected(Time now, ConnectionId c);
  // Result of a VerifyPiece.
  void OnPieceVerified(Time now, PieceIndex p, bool ok);
  // REQUIRES: NextTimeout() has a value and now >= it.
  void OnTimeout(Time now);
  // Leaves the swarm: Announce(stopped), Disconnect every connection. Inputs
  // after this are ignored.
  void OnStop(Time now);

  // --- Outputs. ---

  // Actions produced since the last call, in the order to carry them out.
  std::vector<Action> TakeActions();
  // The same into `out` (cleared first); the two buffers trade places, so a
  // driver that passes the same vector each time stops allocating.
  void TakeActions(std::vector<Action>& out);
  // Earliest internal deadline, if any.
  std::optional<Time> NextTimeout() const;
  // The same as a plain time, Time::Never() when there is none. For a
  // driver that asks after every input: GCC returns the optional through
  // the stack with stores of different widths read back at once (a failed
  // store-to-load forward, ~4 % of a simulation's time), even inlined.
  Time NextDeadline() const {
    if (!started_ || stopped_) return Time::Never();
    Time t = next_announce_ < next_rechoke_ ? next_announce_ : next_rechoke_;
    t = next_housekeeping_ < t ? next_housekeeping_ : t;
    return next_unchoke_check_ < t ? next_unchoke_check_ : t;
  }

  // Hints for a driver that knows which peer and connection its next
  // events are for (the simulator, where a peer's state is cold when its
  // turn comes): ask the memory system for the lines the next input will
  // touch, one link of the chain at a time, each call reading only what the
  // one before fetched, so call them on successive events: PrefetchState
  // (the peer), PrefetchIndex (the lookup slot of connection `id`),
  // PrefetchConnection (the connection's lines the input `what` reads;
  // kOther: all of its hot runs), PrefetchConnectionData (the array
  // the input reads first: `what` says which input comes; `block` is its
  // block or, for a Have, the piece in `block.piece`). No effect on
  // behaviour.
  enum class Upcoming : uint8_t { kOther, kHave, kRequest, kPiece, kBlockSent };
  void PrefetchState() const;
  void PrefetchIndex(ConnectionId id) const;
  void PrefetchConnection(ConnectionId id, Upcoming what) const;
  void PrefetchConnectionData(ConnectionId id, Upcoming what, const BlockRef& block) const;

  // --- Getters. ---
  PeerId id() const { return self_; }
  const TorrentInfo& torrent() const { return torrent_; }
  const PeerConfig& config() const { return config_; }
  const Bitfield& have() const { return have_; }
  bool is_seed() const { return have_.All(); }
  bool started() const { return started_; }
  bool stopped() const { return stopped_; }
  // Bytes of the pieces not yet verified.
  Bytes left() const { return left_; }
  const PeerStats& stats() const { return stats_; }
  // Connections that completed the handshake.
  size_t connection_count() const;
  // Connections we are currently uploading to (unchoked and interested).
  size_t unchoked_count() const;
  bool is_banned(PeerId p) const { return banned_.count(p) > 0; }
  // Recounts the running totals kept for speed (slot holders, uploads in
  // flight, the connection index) and compares. For tests; O(connections).
  bool CheckInvariants() const;
  // Connections that could ask their neighbour for a block now and are not:
  // unchoked, interested, with room in the request pipeline, and the picker
  // holds an unrequested block the neighbour has (outside end-game). A
  // correct peer has none after every input; each one is a stalled
  // connection. For tests; O(connections x pieces / 64).
  size_t IdleConnections() const;
  // The download state and every connection, one per line, for diagnosing
  // a stalled peer (drivers log it when a run ends with the peer incomplete).
  std::string DebugString() const;

  // The most tracker-listed peers kept waiting to be dialed: ten announces'
  // worth at the usual numwant of 50.
  static constexpr size_t kMaxCandidates = 500;
  size_t candidate_count() const { return candidates_.size(); }
  // Endpoints remembered as ourselves (self_endpoints_): a handful at most,
  // one per address of ours that some listing named.
  static constexpr size_t kMaxSelfEndpoints = 8;

 private:
  // Input handlers per message type (peer.cc).
  void HandleHandshake(Time now, Connection& c, const Handshake& m);
  void HandleBitfield(Time now, Connection& c, const BitfieldMessage& m);
  void HandleHave(Time now, Connection& c, const Have& m);
  void HandleRequest(Time now, Connection& c, const Request& m);
  void HandleCancel(Time now, Connection& c, const Cancel& m);
  void HandlePiece(Time now, Connection& c, const Piece& m);
  void HandleChoke(Time now, Connection& c);
  void HandleUnchoke(Time now, Connection& c);
  void HandleInterested(Time now, Connection& c);

  // Helpers.
  void Send(Time now, Connection& c, Message m);
  void Drop(ConnectionId id, DisconnectReason reason);
  // `reason`: why we close it, nullopt when the remote or the driver did.
  void RemoveConnection(ConnectionId id, std::optional<DisconnectReason> reason);
  void UpdateInterest(Time now, Connection& c);
  // Requests to keep in flight on `c`: the configured pipeline, deeper
  // at a high rate with request_queue_time (Connection::adaptive_pipeline),
  // or one while the neighbour snubs us (as libtorrent does), so that
  // blocks it sits on are few and the rest go to neighbours that answer.
  size_t PipelineOf(const Connection& c) const {
    return c.snubbed ? 1
                     : std::max<size_t>(config_.request_pipeline,
                                        c.adaptive_pipeline);
  }
  void RequestMore(Time now, Connection& c);
  void RequestMoreEverywhere(Time now);
  // After an input that dropped connections: if one gave requests back,
  // let every connection ask again (a drop has no later OnDisconnected).
  void RefillAfterDrops(Time now);
  void PumpUploads(Connection& c);
  void PumpWeighted();
  // Counts a SendBlock about to be emitted on `c` as in flight.
  void StartUpload(Connection& c);
  // PumpUploads on every connection (PumpWeighted while weighted): after a
  // change that may let several send at once.
  void PumpAll();
  bool MaySend(const Connection& c) const;
  // Strict tit-for-tat: we sent `c` the allowance more than we got from it,
  // so it gets no block of ours until it sends us one (a seed is exempt).
  bool DeficitHoldsUploads(const Connection& c) const {
    return config_.choker == ChokerKind::kStrictTitForTat && !is_seed() &&
           c.uploaded - c.downloaded >= config_.strict_tft_allowance;
  }
  void SuperSeedOffer(Time now, Connection& c);
  void SuperSeedSawHave(Time now, ConnectionId from, PieceIndex p);
  void SuperSeedRevealIfUnspreadable(Time now, Connection& c);
  void SuperSeedRevealIfUnspreadableEverywhere(Time now);
  // A super-seed shows each neighbour a piece it lacks, and a leecher says
  // Interested within a round trip; one that has not within a housekeeping
  // interval of its handshake is taken for a seed (another super-seed hides
  // its pieces too), which will neither want nor pass on a piece.
  bool TakenForSeed(const Connection& c, Time now) const {
    return c.handshake_received && !c.ever_interested &&
           now - c.connected_at >= config_.housekeeping_interval;
  }
  // A super-seed's oldest neighbour taken for a seed and not waiting for
  // our next reveal, if any.
  std::optional<ConnectionId> SeedNeighbourOfSuperSeed(Time now) const;
  // We super-seed and `c` holds the piece we revealed to it last: it waits
  // for that piece to spread before we reveal the next (BEP 16), and is not
  // interested in us only because we hide the rest.
  bool WaitsForOurReveal(const Connection& c) const {
    return config_.super_seeding && is_seed() && c.super_offer &&
           c.remote_have.Test(c.super_offer->value()) && !c.remote_have.All();
  }
  void UnchokePeer(Time now, Connection& c);
  void ChokePeer(Time now, Connection& c);
  void GiveUpRequests(Connection& c, bool send_cancel, Time now);
  // Records a request given up on `c` whose block may still come.
  static void RememberStale(Connection& c, const BlockRef& b);
  // Starts a new stale epoch: forgotten requests counted in the one before
  // expire (see the comment at its definition).
  void RotateStaleEpoch(Time now);
  void CancelElsewhere(Time now, ConnectionId except, const BlockRef& b);
  void Rechoke(Time now, RechokeKind kind);
  void FillFreeSlots(Time now, Connection* asker);
  void Housekeeping(Time now);
  // upload_stall_timeout: whether `c`'s uploads in flight have stalled
  // (and starts their clock if none runs yet).
  bool UploadStalled(Time now, Connection& c);
  // unused_unchoke_timeout. Watch: `c` may have started to hold a slot
  // with nothing of it pending; check it when its time is up. Check: mark
  // every slot holder whose time is up, plan the next check, and hand the
  // slots of those newly marked to neighbours that wait.
  void WatchSlot(Connection& c);
  void CheckUnusedUnchokes(Time now);
  void SetIgnoresUnchoke(Time now, Connection& c, bool ignores);
  // The connection that has ignored our unchoke longest, if any: the first
  // to go when a connection slot is wanted.
  std::optional<ConnectionId> LeastUseful() const;
  // The connection other than `except` that has shaken hands with `who`.
  const Connection* HandshakenWith(PeerId who, std::optional<ConnectionId> except) const;
  // Two connections to one peer: the one dialed by the lower peer id stays,
  // so both ends make the same choice. Whether a new connection in
  // direction `d` to `remote` displaces one in direction `existing`.
  bool DisplacesDuplicate(Direction existing, Direction d, PeerId remote) const {
    const Direction keep = self_ < remote ? Direction::kOutbound : Direction::kInbound;
    return existing != keep && d == keep;
  }
  // Inbound connections awaiting their handshake (not kept over the limit).
  size_t AwaitingHandshakeInbound() const;
  // `c` is kept over max_connections (Connection::over_limit) on the chance
  // that an inbound connection still awaiting its handshake is its twin of
  // a crossing pair; not so a connection whose peer has shaken hands with
  // us on another one already (its own handshake will show the pair).
  bool CountsOnAwaitingInbound(const Connection& c) const;
  // Inbound connections awaiting their handshake beyond those counted on.
  size_t UnclaimedAwaitingInbound() const;
  // Once no inbound connection awaits its handshake (until then any of
  // them may be the twin of any dial kept), drops the dials kept over
  // max_connections that counted on one, while still over it. Back within
  // the limit, those kept count as any other connection.
  void TrimOverLimit();
  // Whether a connection slot is wanted, so that an idle one may be
  // dropped (idle_timeout): we are full, or a candidate waits to be dialed.
  bool SlotWanted(Time now) const;
  // The second half of that: a candidate is due and ConnectMore would dial
  // it were one connection fewer.
  bool DialWanted(Time now) const;
  // A candidate ConnectMore may dial now (not waiting out a redial backoff).
  bool HasDueCandidate(Time now) const;
  void ConnectMore(Time now);
  void ForgetOldestCandidates();
  bool IsSelfEndpoint(const std::string& endpoint) const;
  // A dial of `who` came to nothing: refused, unreachable, or closed before
  // its handshake, by the remote or by us for `ended_by_us`. Put back on the
  // candidate list for a later try, or forgotten after dial_attempts (see
  // PeerConfig) or at once when we ended it for a reason not WorthRedial.
  // `except`: a connection being removed, not counted as still being in
  // touch with `who`.
  void DialFailed(PeerId who, std::optional<ConnectionId> except,
                  std::optional<DisconnectReason> ended_by_us);
  void AnnounceEarlyIfStranded(Time now);
  // Whether a neighbour that holds pieces we lack and has never sent us a
  // block still gets the benefit of the doubt: it connected less than a
  // request timeout ago and may yet unchoke us.
  enum class Newcomers { kCount, kIgnore };
  bool IsNewcomerHolder(const Connection& c, Time now) const;
  // Whether neighbour c, holding pieces we lack, feeds us (peer.cc).
  bool Feeds(const Connection& c, Time now) const;
  // A leecher none of whose handshaken neighbours feeds it: none has a
  // piece it lacks, or none of those that have Feeds() it (newcomer
  // holders count as feeding with kCount, not at all with kIgnore).
  bool Starved(Time now, Newcomers newcomers = Newcomers::kCount) const;
  // Starved, or starved but for newcomer holders while no block has come
  // from anyone for a request timeout: a leecher that should look for other
  // peers (turn one over, or ask the tracker early).
  bool StarvedLong(Time now) const;
  void TurnOverIfStarved(Time now);
  void AnnounceNow(Time now, AnnounceEvent event);
  void OnBecameSeed(Time now);
  void Strike(PeerId p);
  bool ValidBlockRange(const BlockRef& b) const;
  Connection* Find(ConnectionId id);
  const Connection* Find(ConnectionId id) const;
  // Whether we are dialing `who` or hold a connection to it (other than
  // `except`): then it stays in known_ and is not dialed again.
  bool InTouchWith(PeerId who, std::optional<ConnectionId> except) const;
  static bool IndexLess(const std::pair<ConnectionId, Connection*>& e, ConnectionId id);
  // Whether `c` occupies one of our upload slots.
  static bool HoldsSlot(const Connection& c) { return !c.am_choking && c.peer_interested; }
  void SetAmChoking(Connection& c, bool choking);
  void SetPeerInterested(Connection& c, bool interested);

  PeerId self_;
  std::shared_ptr<const TorrentInfo> torrent_ptr_;
  const TorrentInfo& torrent_;  // *torrent_ptr_
  PeerConfig config_;
  Rng rng_;
  Bitfield have_;
  PiecePicker picker_;
  Choker choker_;
  bool started_ = false;
  bool stopped_ = false;
  bool started_as_seed_ = false;
  Bytes left_ = 0;
  PeerStats stats_;
  std::vector<Action> actions_;

  // Ordered containers only: iteration order must not depend on addresses.
  std::map<ConnectionId, Connection> conns_;
  // conns_ sorted by id, for walks over every connection (map nodes never
  // move).
  std::vector<std::pair<ConnectionId, Connection*>> index_;
  // The same connections by id for Find: open addressing with linear
  // probing, at most half full, so a lookup usually reads one cache line
  // where a binary search over index_ read five or six, one after the
  // other. Only looked up, never walked, so its order cannot leak into
  // behaviour. An empty slot has conn == nullptr.
  struct TableSlot {
    ConnectionId id;
    Connection* conn = nullptr;
  };
  std::vector<TableSlot> table_;
  int table_shift_ = 64;  // 64 - log2(table_.size())
  size_t Home(ConnectionId id) const {
    return static_cast<size_t>((id.value() * 0x9E3779B97F4A7C15ull) >> table_shift_);
  }
  void TableInsert(ConnectionId id, Connection* c);
  void TableErase(ConnectionId id);
  // A peer to dial, and how its dials have gone so far.
  struct Candidate {
    PeerAddress address;
    uint32_t failures = 0;          // failed dials in a row
    Time dialed_at = Time::Zero();  // the last try
  };
  // Whether `c` has waited out its redial backoff (redial_backoff times its
  // failures since its last try); a candidate never dialed always has.
  bool Due(const Candidate& c, Time now) const {
    return c.dialed_at + config_.redial_backoff * c.failures <= now;
  }
  // Known, not connected, FIFO (a failed dial goes to the back); at most
  // kMaxCandidates, the oldest forgotten first (ForgetOldestCandidates).
  std::vector<Candidate> candidates_;
  std::set<PeerId> known_;                // ids in candidates_, dialed_ or connected
  std::set<PeerId> connecting_;           // Connect sent, no answer yet
  // Dialed and not yet handshaken (connecting or connected): put back on
  // candidates_ if the dial fails (DialFailed).
  std::map<PeerId, Candidate> dialed_;
  std::set<PeerId> banned_;
  // Endpoints whose dial reached ourselves (a stale listing of ours, a NAT
  // that sends our public address back to us): candidates listed there are
  // never dialed. At most kMaxSelfEndpoints, the oldest forgotten first.
  std::vector<std::string> self_endpoints_;
  std::map<PeerId, uint32_t> strikes_;
  // Who sent the blocks of each piece being assembled. A failed piece names
  // a culprit only when one peer sent all of it, so the first sender and
  // whether anyone else sent a block is all that is kept: no list on the
  // heap, which every block arrival would otherwise touch (a cold line).
  struct PieceSources {
    PeerId first;
    bool several = false;
  };
  FlatMap<uint32_t, PieceSources> sources_;  // per partial piece
  bool weighted_uploads_ = false;         // last decision carried weights
  // A removed connection gave requests or a parole piece back to the
  // picker: other connections may have work now (RefillAfterDrops).
  bool requests_returned_ = false;
  // A connection was dropped while super-seeding: RefillAfterDrops() looks
  // again for peers waiting on a piece nobody is left to spread.
  bool super_seed_recheck_ = false;
  // A dropped connection held an upload slot: RefillAfterDrops() gives it
  // to another neighbour.
  bool slot_freed_ = false;
  uint32_t uploads_in_flight_ = 0;        // SendBlocks not yet sent, all conns
  size_t unchoked_interested_ = 0;        // connections with HoldsSlot()
  // Those of them that ignore our unchoke: their slots are free to take.
  size_t ignoring_holders_ = 0;
  size_t ignoring_ = 0;  // connections that ignore our unchoke
  size_t over_limit_ = 0;  // connections with Connection::over_limit
  std::vector<uint32_t> super_offered_;   // times each piece was revealed
  std::vector<ChokeCandidate> choke_scratch_;  // Rechoke's, kept to reuse
  std::vector<BlockRef> picks_;                // RequestMore's, kept to reuse

  Time next_announce_ = Time::Never();
  Time last_announce_;
  Time last_block_;  // the last useful block from any neighbour (OnStart to begin with)
  Time next_rechoke_ = Time::Never();
  Time next_optimistic_ = Time::Never();
  Time next_housekeeping_ = Time::Never();
  Time next_unchoke_check_ = Time::Never();  // CheckUnusedUnchokes
  Time next_stale_epoch_ = Time::Never();  // RotateStaleEpoch
  Duration announce_interval_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_PEER_H_
