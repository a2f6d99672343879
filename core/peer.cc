// core::Peer: connection lifecycle, message validation and the download and
// upload state machines. Policies live in PiecePicker and Choker; this file
// wires them to the wire protocol.
//
// Invariants:
//   - every Connection in conns_ is live from the driver's point of view;
//     a Disconnect action is emitted exactly when one is erased by us;
//   - picker_ availability counts exactly the remote_have of conns_;
//   - each OutstandingRequest in a Connection is counted once as outstanding
//     in picker_;
//   - have_ == picker_.have();
//   - unchoked_interested_ counts the connections with HoldsSlot() and
//     uploads_in_flight_ sums theirs (CheckInvariants() recounts both).
#include "core/peer.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <utility>

#include "core/check.h"
#include "core/overloaded.h"

namespace swarm::core {
namespace {

// Stale requests remembered by block per connection: enough to cover a full
// pipeline given up twice (choke, then timeout) without growing without
// bound. Older ones are only counted (Connection::stale_forgotten), and
// only for a stale epoch or two (Peer::RotateStaleEpoch).
constexpr size_t kMaxStale = 64;

// A peer counts as "new" for the optimistic unchoke for this long.
constexpr Duration kNewPeerWindow = Duration::Seconds(60);

}  // namespace

Peer::Peer(PeerId self, const TorrentInfo& torrent, const PeerConfig& config,
           Rng rng)
    : Peer(self, std::make_shared<const TorrentInfo>(torrent), config, rng) {}

Peer::Peer(PeerId self, std::shared_ptr<const TorrentInfo> torrent,
           const PeerConfig& config, Rng rng)
    : self_(self),
      torrent_ptr_(std::move(torrent)),
      torrent_(*torrent_ptr_),
      config_(config),
      rng_(rng),
      have_(torrent_.piece_count()),
      picker_(torrent_, config_),
      choker_(config_),
      left_(torrent_.length()),
      announce_interval_(config.announce_interval) {
  SWARM_CHECK(!config_.Validate().has_value());
  SWARM_CHECK(torrent_.piece_count() > 0);
}

Peer::~Peer() = default;

// --------------------------------------------------------------------------
// Lifecycle and tracker.

void Peer::OnStart(Time now, bool have_all) {
  OnStart(now, Bitfield(torrent_.piece_count(), have_all));
}

void Peer::OnStart(Time now, const Bitfield& have) {
  SWARM_CHECK(!started_ && have.size() == torrent_.piece_count());
  started_ = true;
  have_ = have;
  picker_.SetHave(have_);
  left_ = 0;
  for (uint32_t p = 0; p < torrent_.piece_count(); ++p) {
    if (!have_.Test(p)) left_ += torrent_.PieceSize(PieceIndex(p));
  }
  started_as_seed_ = have_.All();
  last_block_ = now;
  AnnounceNow(now, AnnounceEvent::kStarted);
  next_rechoke_ = now + config_.rechoke_interval;
  next_optimistic_ = now;
  next_housekeeping_ = now + config_.housekeeping_interval;
  next_stale_epoch_ = now + config_.inactivity_timeout;
}

void Peer::OnStop(Time now) {
  if (!started_ || stopped_) return;
  AnnounceNow(now, AnnounceEvent::kStopped);
  // Stopped first: a connection dropped here must not hand its upload to
  // another that is about to be dropped too (RemoveConnection).
  stopped_ = true;
  while (!conns_.empty()) Drop(conns_.begin()->first, DisconnectReason::kShutdown);
  candidates_.clear();
  connecting_.clear();
  dialed_.clear();
}

void Peer::AnnounceNow(Time now, AnnounceEvent event) {
  actions_.push_back(Announce{event, stats_.uploaded, stats_.downloaded, left(),
                              event == AnnounceEvent::kStopped ? 0u : config_.numwant});
  last_announce_ = now;
  next_announce_ = now + announce_interval_;
}

void Peer::OnTrackerResponse(Time now, const AnnounceResponse& response) {
  if (!started_ || stopped_) return;
  if (!response.failure_reason.empty()) {
    // E.g. "unknown info-hash" from a tracker that restarted and has not
    // been told of the file again yet: try again soon, not in 30 minutes.
    next_announce_ = std::min(next_announce_, now + config_.min_reannounce_interval);
    return;
  }
  // Zero or less: the tracker named no interval; keep ours.
  if (response.interval > Duration::Zero()) {
    announce_interval_ = config_.AnnounceIntervalFrom(response.interval);
    next_announce_ = std::min(next_announce_, now + announce_interval_);
  }
  for (const PeerAddress& a : response.peers) {
    if (a.id == self_ || banned_.count(a.id) || known_.count(a.id) ||
        IsSelfEndpoint(a.endpoint)) {
      continue;
    }
    known_.insert(a.id);
    candidates_.push_back(Candidate{a});
  }
  ForgetOldestCandidates();
  ConnectMore(now);
  AnnounceEarlyIfStranded(now);
}

// A peer at min_connections dials no candidate, and each announce may list
// new ones: without a bound the list grows for as long as the peer runs
// (in a real swarm, an entry per address that ever announced). The oldest
// go first: listed longest ago, they are the likeliest to have left, and
// forgotten, they may be listed (and kept) again.
void Peer::ForgetOldestCandidates() {
  if (candidates_.size() <= kMaxCandidates) return;
  const auto excess = static_cast<std::ptrdiff_t>(candidates_.size() - kMaxCandidates);
  for (auto it = candidates_.begin(); it != candidates_.begin() + excess; ++it) {
    known_.erase(it->address.id);
  }
  candidates_.erase(candidates_.begin(), candidates_.begin() + excess);
}

bool Peer::IsSelfEndpoint(const std::string& endpoint) const {
  return !self_endpoints_.empty() &&
         std::find(self_endpoints_.begin(), self_endpoints_.end(), endpoint) !=
             self_endpoints_.end();
}

void Peer::OnTrackerReset(Time now) {
  if (!started_ || stopped_) return;
  AnnounceNow(now, AnnounceEvent::kNone);
}

// A leecher with too few neighbours and no candidates left asks the tracker
// again after min_reannounce_interval instead of waiting a whole announce
// interval: otherwise a peer whose neighbours all finished and left would sit
// idle for up to 30 minutes.
//
// "Too few" also covers a leecher none of whose neighbours feeds it (starved:
// none has anything it lacks, or those that have keep it choked for a whole
// request timeout, like a seed that never uploads; such seeds used to
// strand groups of leechers until the 30-minute announce; newcomers that
// keep it choked do not hide that for long, StarvedLong()):
// it asks the tracker for fresh peers, and Housekeeping
// turns one useless connection over for a new candidate at a time (as
// libtorrent's peer turnover does when a download stalls). Without this,
// peers whose neighbours all held the same incomplete set of pieces waited
// for the 30-minute announce although the seed had free slots again.
// (Dialing up to max_connections instead was tried and made flash crowds
// far slower: 1551 s instead of 872 s for 200 peers.)
void Peer::AnnounceEarlyIfStranded(Time now) {
  if (is_seed() || stopped_ || !started_ || HasDueCandidate(now)) return;
  if (conns_.size() + connecting_.size() >= config_.min_connections && !StarvedLong(now)) return;
  const Time early = std::max(now, last_announce_ + config_.min_reannounce_interval);
  next_announce_ = std::min(next_announce_, early);
}

// Starved with candidates waiting and no room to dial them: drop the oldest
// connection that is useless both ways, so ConnectMore can try a new peer.
// Under strict tit-for-tat that includes a neighbour with nothing we lack
// that wants from us but whose deficit holds our uploads: it cannot send
// a block to lift it. (Kept for being interested in us, such neighbours
// stalled whole groups at max_connections 2: 9 of 411 random swarms.) A
// free-rider feeds nobody, so to it a neighbour's interest counts for
// nothing, here and below. Failing that, the oldest holder of pieces we
// lack that we feed nothing (not interested in us, held back by our strict
// tit-for-tat deficit, or we are a free-rider) and that chokes or snubs
// us: starved, no neighbour feeds us, so it has
// kept us choked, or left our requests unanswered, for a request timeout
// (parole owners waiting for their round aside, see below; a seed that never
// uploads; strict tit-for-tat leechers holding their uploads to a deficit
// we cannot repay, which stranded three of them full of each other, random
// swarm 659 --extended). Such neighbours alone used
// to fill min_connections for good: with a candidate waiting the leecher
// neither dialed nor announced early, and sat until a peer dialed it.
//
// Newcomers are left out on both sides. A holder that connected less than a
// request timeout ago is not turned over (it may yet unchoke us), but nor
// does it hold the turnover off: otherwise holders that never unchoke
// anyone, dialing in one after another (free-riders that finished and seed
// at zero upload), each bought the old useless neighbours another request
// timeout, and a leecher among them dialed a candidate every minute or two
// while the one peer that would feed it waited far down the list.
void Peer::TurnOverIfStarved(Time now) {
  if (!HasDueCandidate(now) || !StarvedLong(now)) return;
  if (conns_.size() + connecting_.size() < config_.min_connections) return;
  std::optional<ConnectionId> holder;
  for (const auto& [id, c] : index_) {
    // Whether it wants from us and gets it (strict tit-for-tat's deficit
    // holds our uploads until it sends us a block; a free-rider feeds
    // nobody, and counting its neighbours' interest as fed kept free-riders
    // full of each other at max_connections 2 away from the seeds for good,
    // random swarm 5397 --extended).
    const bool we_feed_it =
        !config_.free_rider && c->peer_interested && !DeficitHoldsUploads(*c);
    // Useless both ways: it has nothing we lack, and we feed it nothing.
    if (c->interesting == 0 && !we_feed_it) return Drop(id, DisconnectReason::kNotUseful);
    // A holder of pieces we lack that we feed nothing, not new, choking or
    // snubbing us (one that unchokes us may have an answer on its way), and
    // not the owner of a parole piece choking us until its next round
    // (Housekeeping releases the piece when its patience runs out; turned
    // over before, the owner took its part of the piece with it, and owners
    // that each got one unchoke round before the next turnover never
    // finished the piece). An owner that snubs us is fair game.
    const bool parole_wait = c->peer_choking && !c->snubbed && picker_.HoldsParole(*c->remote);
    if (!holder && !we_feed_it && !IsNewcomerHolder(*c, now) &&
        (c->peer_choking || c->snubbed) && !parole_wait) {
      holder = id;
    }
  }
  if (holder) Drop(*holder, DisconnectReason::kNotUseful);
}

bool Peer::StarvedLong(Time now) const {
  return Starved(now) ||
         (Starved(now, Newcomers::kIgnore) && now - last_block_ >= config_.request_timeout);
}

bool Peer::IsNewcomerHolder(const Connection& c, Time now) const {
  return c.interesting > 0 && c.downloaded == 0 &&
         now - c.connected_at < config_.request_timeout;
}

// A neighbour with pieces we lack feeds us if it sent us a block lately, or
// unchokes us and has not snubbed us while blocks still come in (from
// anyone) or the connection is new. One that has kept us choked for a
// request timeout (a seed that never uploads, a full seed) does not count;
// nor, once nothing has come in for that long, one that unchokes us
// without answering: strict tit-for-tat leechers holding their uploads to
// a deficit we cannot repay unchoke and choke again at every rechoke, so
// our requests never wait long enough to mark them snubbing.
bool Peer::Feeds(const Connection& c, Time now) const {
  const Duration patience = config_.request_timeout;
  if (now - c.last_block < patience) return true;
  return !c.peer_choking && !c.snubbed &&
         (now - last_block_ < patience || now - c.connected_at < patience);
}

bool Peer::Starved(Time now, Newcomers newcomers) const {
  if (is_seed()) return false;
  for (const auto& [id, c] : index_) {
    if (!c->handshake_received) return false;
    if (newcomers == Newcomers::kIgnore && c->peer_choking && IsNewcomerHolder(*c, now)) {
      continue;
    }
    if (c->interesting > 0 && Feeds(*c, now)) return false;
  }
  return true;
}

// Dials candidates in the order they were listed (a failed dial went to the
// back), skipping those still waiting out a redial backoff, up to
// min_connections connections and dials. A candidate whose backoff ends is
// dialed at the next input that calls this, housekeeping at the latest.
void Peer::ConnectMore(Time now) {
  if (stopped_) return;
  for (size_t i = 0; i < candidates_.size() &&
                     conns_.size() + connecting_.size() < config_.min_connections;) {
    if (!Due(candidates_[i], now)) {
      ++i;
      continue;
    }
    Candidate c = std::move(candidates_[i]);
    candidates_.erase(candidates_.begin() + static_cast<std::ptrdiff_t>(i));
    if (banned_.count(c.address.id) || IsSelfEndpoint(c.address.endpoint)) {
      known_.erase(c.address.id);
      continue;
    }
    connecting_.insert(c.address.id);
    c.dialed_at = now;
    actions_.push_back(Connect{c.address});
    const PeerId id = c.address.id;
    dialed_.insert_or_assign(id, std::move(c));
  }
}

bool Peer::HasDueCandidate(Time now) const {
  return std::any_of(candidates_.begin(), candidates_.end(),
                     [&](const Candidate& c) { return Due(c, now); });
}

void Peer::DialFailed(PeerId who, std::optional<ConnectionId> except,
                      std::optional<DisconnectReason> ended_by_us) {
  auto it = dialed_.find(who);
  if (it == dialed_.end()) {
    // Not ours to retry (e.g. dialed before a stop): as before, it may be
    // offered again by the tracker unless it is in touch with us.
    if (!InTouchWith(who, except)) known_.erase(who);
    return;
  }
  Candidate c = std::move(it->second);
  dialed_.erase(it);
  // The address answered with our own id: whatever id the listing gave,
  // that endpoint is us, now and at its next listing.
  if (ended_by_us == DisconnectReason::kSelfConnection && !c.address.endpoint.empty() &&
      !IsSelfEndpoint(c.address.endpoint)) {
    if (self_endpoints_.size() >= kMaxSelfEndpoints) self_endpoints_.erase(self_endpoints_.begin());
    self_endpoints_.push_back(c.address.endpoint);
  }
  // It reached us on a connection of its own meanwhile: nothing to retry.
  if (InTouchWith(who, except)) return;
  // Ended by us for a reason another try cannot change (WorthRedial), or
  // failed too often.
  if ((ended_by_us && !WorthRedial(*ended_by_us)) || ++c.failures >= config_.dial_attempts) {
    known_.erase(who);  // it may be offered again by the tracker
    return;
  }
  candidates_.push_back(std::move(c));  // Due() again after its backoff
  ForgetOldestCandidates();
}

// --------------------------------------------------------------------------
// Connections.

void Peer::OnConnected(Time now, ConnectionId id, Direction d,
                       std::optional<PeerId> dialed, std::optional<PeerId> verified) {
  if (dialed) connecting_.erase(*dialed);
  if (!started_ || stopped_) {
    actions_.push_back(Disconnect{id, DisconnectReason::kShutdown});
    return;
  }
  SWARM_CHECK(Find(id) == nullptr);  // drivers never reuse an id
  // Full. An answer to our own dial can find us so too: inbound
  // connections may have taken the places while it was on its way. That
  // peer may be offered (and dialed) again later. A neighbour that left
  // our unchoke unused gives its place up instead (the one that has done
  // so longest): it asked nothing of us, and a newcomer may.
  //
  // One of those inbound connections may be the very peer we dialed,
  // dialing us at the same instant, and it finds itself in our place.
  // Each refusing its own answered dial would close both connections of
  // the pair, and peers whose announces run in step did so again at every
  // announce (a swarm of 25 at max_connections 5 left 4 leechers without
  // neighbours for hours). So while that may be so (an inbound connection
  // still awaits its handshake, or the dialed peer's is here already), our
  // dial is kept over the limit instead: the handshakes then show whether
  // it is a crossing pair, which HandleHandshake settles by peer id the
  // same way at both ends, and TrimOverLimit refuses it if it is not.
  // On the real network a dialer hears of its dial before the other end
  // does, so the pair's second connection to reach a full peer is the
  // inbound one, with its id already proven (`verified`): it is settled
  // now, refused as the duplicate or kept over the limit to displace ours.
  std::optional<ConnectionId> replaced;
  bool over_limit = false;
  if (conns_.size() >= config_.max_connections) {
    replaced = LeastUseful();
    const Connection* twin = !replaced && !dialed && verified
                                 ? HandshakenWith(*verified, std::nullopt)
                                 : nullptr;
    if (twin) {
      if (!DisplacesDuplicate(twin->direction, d, *verified)) {
        actions_.push_back(Disconnect{id, DisconnectReason::kDuplicateConnection});
        return;
      }
      over_limit = true;
    } else if (!replaced && dialed &&
               (HandshakenWith(*dialed, std::nullopt) || UnclaimedAwaitingInbound() > 0)) {
      over_limit = true;
    } else if (!replaced) {
      if (dialed) {
        // Reached, so not a failed dial: we are the full side.
        dialed_.erase(*dialed);
        if (!InTouchWith(*dialed, std::nullopt)) known_.erase(*dialed);
      }
      actions_.push_back(Disconnect{id, DisconnectReason::kTooManyConnections});
      return;
    }
    if (replaced) Drop(*replaced, DisconnectReason::kUnusedUnchoke);
  }
  Connection& c = conns_[id];
  index_.insert(std::lower_bound(index_.begin(), index_.end(), id, IndexLess), {id, &c});
  TableInsert(id, &c);
  c.id = id;
  c.direction = d;
  c.dialed = dialed;
  c.connected_at = now;
  c.interest_ended = now;
  c.last_received = now;
  c.last_block = now;
  c.remote_have = Bitfield(torrent_.piece_count());
  c.over_limit = over_limit;
  over_limit_ += over_limit;
  Send(now, c, Handshake{torrent_.info_hash(), self_});
  if (replaced) RefillAfterDrops(now);
}

const Connection* Peer::HandshakenWith(PeerId who, std::optional<ConnectionId> except) const {
  for (const auto& [id, c] : index_) {
    if (id != except && c->remote == who) return c;
  }
  return nullptr;
}

size_t Peer::AwaitingHandshakeInbound() const {
  size_t n = 0;
  for (const auto& [id, c] : index_) {
    n += c->direction == Direction::kInbound && !c->handshake_received && !c->over_limit;
  }
  return n;
}

bool Peer::CountsOnAwaitingInbound(const Connection& c) const {
  if (!c.over_limit) return false;
  if (c.remote) return true;  // shaken hands, and no duplicate of it came
  // Before its handshake: a dial whose peer is here already will be
  // settled as a duplicate; so will an inbound one kept for its verified
  // id, whose handshake comes next.
  return c.dialed && !HandshakenWith(*c.dialed, c.id);
}

size_t Peer::UnclaimedAwaitingInbound() const {
  size_t claimed = 0;
  for (const auto& [id, c] : index_) claimed += CountsOnAwaitingInbound(*c);
  const size_t awaiting = AwaitingHandshakeInbound();
  return awaiting > claimed ? awaiting - claimed : 0;
}

void Peer::TrimOverLimit() {
  if (over_limit_ == 0) return;
  // Which awaiting inbound connection is which kept dial's twin shows only
  // at the handshakes; dropping a dial before they are all in could drop
  // the very one whose twin the other end keeps.
  if (conns_.size() > config_.max_connections && AwaitingHandshakeInbound() == 0) {
    for (size_t i = 0; i < index_.size() && conns_.size() > config_.max_connections;) {
      const auto [id, c] = index_[i];
      if (CountsOnAwaitingInbound(*c)) {
        Drop(id, DisconnectReason::kTooManyConnections);  // index_[i] is the next one now
      } else {
        ++i;
      }
    }
  }
  if (conns_.size() <= config_.max_connections) {
    for (auto& [id, c] : index_) c->over_limit = false;
    over_limit_ = 0;
  }
}

void Peer::OnConnectFailed(Time now, PeerId dialed,
                           std::optional<DisconnectReason> ended_by_us) {
  connecting_.erase(dialed);
  DialFailed(dialed, std::nullopt, ended_by_us);
  ConnectMore(now);
  AnnounceEarlyIfStranded(now);
}

void Peer::OnDisconnected(Time now, ConnectionId id) {
  Connection* c = Find(id);
  if (!c) return;
  const bool held_slot = !c->am_choking && c->peer_interested;
  RemoveConnection(id, std::nullopt);
  if (over_limit_ > 0) RefillAfterDrops(now);  // TrimOverLimit, and what it drops
  RequestMoreEverywhere(now);
  if (held_slot) FillFreeSlots(now, nullptr);
  SuperSeedRevealIfUnspreadableEverywhere(now);
  ConnectMore(now);
  AnnounceEarlyIfStranded(now);
}

bool Peer::InTouchWith(PeerId who, std::optional<ConnectionId> except) const {
  if (connecting_.count(who)) return true;
  for (const auto& [id, c] : conns_) {
    if (id != except && (c.remote == who || (!c.remote && c.dialed == who))) return true;
  }
  return false;
}

bool Peer::IndexLess(const std::pair<ConnectionId, Connection*>& e, ConnectionId id) {
  return e.first < id;
}

// Fetches every cache line of [first, last]: a Peer is not aligned to a
// line, so a member's line depends on where the allocator put the object.
static void PrefetchRange(const void* first, const void* last) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(last);
  for (uintptr_t a = reinterpret_cast<uintptr_t>(first) & ~uintptr_t{63}; a <= end; a += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(a));
  }
}

// The last byte of `x`, for PrefetchRange.
template <typename T>
static const char* LastByte(const T& x) {
  return reinterpret_cast<const char*>(&x) + sizeof(T) - 1;
}

void Peer::PrefetchState() const {
  // What every input reads, in three runs: the torrent reference, the
  // configuration and our bitfield's header; the flags, the actions buffer
  // and the connection table's header (PrefetchIndex reads it next); the
  // deadlines the driver asks for after each input. Then the picker's
  // headers (the availability counts a Have updates, the block states).
  PrefetchRange(this, LastByte(have_));
  PrefetchRange(&started_, &table_shift_);
  PrefetchRange(&next_announce_, &next_unchoke_check_);
  picker_.PrefetchHeaders();
}

void Peer::PrefetchIndex(ConnectionId id) const {
  if (!table_.empty()) __builtin_prefetch(&table_[Home(id)]);
  // The buffer the input's actions go to (it came from the driver at the
  // peer's last TakeActions and has gone cold since).
  __builtin_prefetch(actions_.data(), 1);
}

void Peer::PrefetchConnection(ConnectionId id, Upcoming what) const {
  const Connection* c = Find(id);
  if (!c) return;
  if (what == Upcoming::kHave) {
    // A Have reads the flags, the per-message fields and the header of the
    // neighbour's bitfield: two or three lines where the rest need five.
    PrefetchRange(&c->handshake_received, LastByte(c->remote_have));
    return;
  }
  switch (what) {
    case Upcoming::kPiece:
      // The flags and the download meter, the per-message fields, the
      // neighbour's bitfield (the next pick reads it), our requests, and
      // the byte counter the block adds to.
      PrefetchRange(c, LastByte(c->requests));
      PrefetchRange(&c->downloaded, LastByte(c->downloaded));
      return;
    case Upcoming::kRequest:
    case Upcoming::kBlockSent:
      // The flags and the per-message fields, then the upload side: the
      // neighbour's requests to us, the upload meter, the byte counters.
      PrefetchRange(&c->handshake_received, LastByte(c->remote));
      PrefetchRange(&c->slot_used_at, LastByte(c->downloaded));
      return;
    default:
      // Everything up to the byte counters.
      PrefetchRange(c, LastByte(c->downloaded));
  }
}

void Peer::PrefetchConnectionData(ConnectionId id, Upcoming what, const BlockRef& block) const {
  const Connection* c = Find(id);
  if (!c) return;
  switch (what) {
    case Upcoming::kHave:
      if (block.piece.value() < c->remote_have.size()) {
        __builtin_prefetch(&c->remote_have.words()[block.piece.value() / 64]);
        __builtin_prefetch(&picker_.availability_ref(block.piece));
        // HandleHave asks whether we hold the piece ourselves.
        __builtin_prefetch(&have_.words()[block.piece.value() / 64]);
      }
      break;
    case Upcoming::kPiece: {
      // The whole request list, not its first line: taking the arriving
      // block's entry out shifts the rest (2-3 lines at a pipeline of 5).
      if (!c->requests.empty()) PrefetchRange(c->requests.data(), LastByte(c->requests.back()));
      // What RequestMore's Pick reads next: the neighbour's bitfield (the
      // started pieces it has) and the arriving block's piece.
      const auto& words = c->remote_have.words();
      if (!words.empty()) {
        __builtin_prefetch(words.data());
        __builtin_prefetch(&words.back());
      }
      picker_.PrefetchPiece(block.piece);
      break;
    }
    case Upcoming::kRequest:
    case Upcoming::kBlockSent: __builtin_prefetch(c->upload_queue.data()); break;
    case Upcoming::kOther: break;
  }
}

// Every delivered message starts with this lookup.
Connection* Peer::Find(ConnectionId id) {
  return const_cast<Connection*>(std::as_const(*this).Find(id));
}

const Connection* Peer::Find(ConnectionId id) const {
  if (table_.empty()) return nullptr;
  const size_t mask = table_.size() - 1;
  for (size_t i = Home(id);; i = (i + 1) & mask) {
    const TableSlot& s = table_[i];
    if (s.conn == nullptr) return nullptr;
    if (s.id == id) return s.conn;
  }
}

void Peer::TableInsert(ConnectionId id, Connection* c) {
  if (2 * index_.size() > table_.size()) {
    // Grow: rebuild from index_, which already holds the new connection.
    size_t size = 16;
    while (size < 2 * index_.size()) size *= 2;
    table_.assign(size, TableSlot{});
    table_shift_ = 64 - std::countr_zero(size);
    for (const auto& [other, conn] : index_) {
      if (other != id) TableInsert(other, conn);
    }
  }
  const size_t mask = table_.size() - 1;
  size_t i = Home(id);
  while (table_[i].conn != nullptr) i = (i + 1) & mask;
  table_[i] = TableSlot{id, c};
}

void Peer::TableErase(ConnectionId id) {
  const size_t mask = table_.size() - 1;
  size_t i = Home(id);
  while (table_[i].conn == nullptr || table_[i].id != id) {
    SWARM_CHECK(table_[i].conn != nullptr);
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move up every later entry of the run that
  // the hole would cut off from its home slot, so no tombstones are needed.
  for (size_t j = (i + 1) & mask; table_[j].conn != nullptr; j = (j + 1) & mask) {
    const size_t home = Home(table_[j].id);
    // Entry j may move to the hole i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = TableSlot{};
}

void Peer::Drop(ConnectionId id, DisconnectReason reason) {
  if (IsProtocolViolation(reason)) ++stats_.protocol_disconnects;
  actions_.push_back(Disconnect{id, reason});
  // A neighbour we drop ourselves (not useful, banned, a duplicate, a
  // protocol violation) may hold one of our upload slots: like a neighbour
  // that leaves (OnDisconnected), its slot goes to another at once rather
  // than lying empty until the next rechoke.
  if (const Connection* c = Find(id)) slot_freed_ |= HoldsSlot(*c);
  RemoveConnection(id, reason);
  // It may have been the last neighbour lacking a piece shown to another.
  super_seed_recheck_ |= config_.super_seeding && is_seed();
}

void Peer::RemoveConnection(ConnectionId id, std::optional<DisconnectReason> reason) {
  auto it = conns_.find(id);
  SWARM_CHECK(it != conns_.end());
  Connection& c = it->second;
  if (c.handshake_received) picker_.RemovePeer(c.remote_have);
  requests_returned_ |= !c.requests.empty();
  for (const auto& r : c.requests) picker_.AbortRequest(r.block);
  // The peer may be offered again by the tracker, and then it is worth
  // another try, unless another connection to it lives on (a duplicate
  // dropped in the handshake) or we are dialing it.
  auto forget = [&](PeerId who) {
    if (!InTouchWith(who, id)) known_.erase(who);
  };
  if (c.remote) {
    // A parole piece it held while choking us is free for the others now,
    // unless it lives on through another connection (a duplicate settled;
    // a dial to it does not count: it may fail).
    if (picker_.AnyParole() &&
        std::none_of(conns_.begin(), conns_.end(), [&](const auto& e) {
          return e.first != id && e.second.remote == c.remote;
        })) {
      requests_returned_ |= picker_.ForgetOwner(*c.remote);
    }
    forget(*c.remote);
  } else if (c.dialed) {
    // Closed before its handshake: by the remote (e.g. it was full), or by
    // us, and then retried only if WorthRedial(reason).
    DialFailed(*c.dialed, id, reason);
  }
  uploads_in_flight_ -= c.uploads_in_flight;
  unchoked_interested_ -= HoldsSlot(c);
  ignoring_holders_ -= HoldsSlot(c) && c.ignores_unchoke;
  ignoring_ -= c.ignores_unchoke;
  over_limit_ -= c.over_limit;
  const bool was_uploading = c.uploads_in_flight > 0;
  index_.erase(std::lower_bound(index_.begin(), index_.end(), id, IndexLess));
  TableErase(id);
  conns_.erase(it);
  // Its upload turn passes to the others, unless they are all closing.
  if (was_uploading && weighted_uploads_ && !stopped_) PumpWeighted();
}

void Peer::Send(Time now, Connection& c, Message m) {
  c.last_sent = now;
  actions_.push_back(SendMessage{c.id, std::move(m)});
}

size_t Peer::connection_count() const {
  size_t n = 0;
  for (const auto& [id, c] : index_) n += c->handshake_received;
  return n;
}

size_t Peer::unchoked_count() const { return unchoked_interested_; }

std::string Peer::DebugString() const {
  std::string out = "peer " + std::to_string(self_.value()) + ": " + picker_.DebugString();
  for (const auto& [id, c] : index_) {
    out += "  conn " + std::to_string(id.value()) + " remote ";
    out += c->remote ? std::to_string(c->remote->value()) : "?";
    out += c->handshake_received ? "" : " no-handshake";
    out += c->peer_choking ? " choked-us" : " unchoked-us";
    out += c->am_interested ? " interested" : "";
    out += c->snubbed ? " snubbed" : "";
    out += " requests " + std::to_string(c->requests.size()) + " remote-has " +
           std::to_string(c->remote_have.Count()) + " interesting " +
           std::to_string(c->interesting) + "\n";
  }
  return out;
}

bool Peer::CheckInvariants() const {
  size_t slots = 0;
  size_t ignoring_slots = 0;
  size_t ignoring = 0;
  uint32_t in_flight = 0;
  size_t over_limit = 0;
  for (const auto& [id, c] : conns_) {
    over_limit += c.over_limit;
    slots += HoldsSlot(c);
    ignoring_slots += HoldsSlot(c) && c.ignores_unchoke;
    ignoring += c.ignores_unchoke;
    in_flight += c.uploads_in_flight;
    // Connection::waiting_since serves both: they must never hold together.
    if (c.ignores_unchoke && (c.uploads_in_flight > 0 || !c.upload_queue.empty())) return false;
  }
  if (slots != unchoked_interested_ || in_flight != uploads_in_flight_) return false;
  if (ignoring_slots != ignoring_holders_ || ignoring != ignoring_) return false;
  // Only connections kept for a possible crossing go over the limit, and
  // back within it they are marked no more (TrimOverLimit).
  if (over_limit != over_limit_ || conns_.size() > config_.max_connections + over_limit_ ||
      (over_limit_ > 0 && conns_.size() <= config_.max_connections)) {
    return false;
  }
  if (index_.size() != conns_.size()) return false;
  size_t in_table = 0;
  for (const TableSlot& slot : table_) in_table += slot.conn != nullptr;
  if (in_table != index_.size()) return false;
  if (!picker_.CheckCounts()) return false;
  for (const auto& [id, c] : index_) {
    if (std::as_const(*this).Find(id) != c) return false;
  }
  size_t i = 0;
  for (const auto& [id, c] : conns_) {
    if (index_[i].first != id || index_[i].second != &c) return false;
    ++i;
  }
  return true;
}

size_t Peer::IdleConnections() const {
  if (!started_ || stopped_ || is_seed() || picker_.InEndgame()) return 0;
  size_t idle = 0;
  for (const auto& [id, cp] : index_) {
    const Connection& c = *cp;
    if (!c.am_interested || c.peer_choking || !c.remote) continue;  // flags first
    if (c.requests.size() >= PipelineOf(c)) continue;
    idle += picker_.HasUnrequestedBlockFor(c.remote_have, *c.remote);
  }
  return idle;
}

// --------------------------------------------------------------------------
// Messages.

void Peer::OnMessage(Time now, ConnectionId id, const Message& m) {
  if (stopped_) return;
  Connection* c = Find(id);
  if (!c) return;  // raced a Disconnect
  c->last_received = now;
  if (!c->handshake_received) {
    if (const auto* h = std::get_if<Handshake>(&m)) {
      HandleHandshake(now, *c, *h);  // may drop an older duplicate connection
    } else {
      Drop(id, DisconnectReason::kMessageBeforeHandshake);
    }
    RefillAfterDrops(now);
    return;
  }
  // BEP 3: a bitfield is only valid as the first message after the
  // handshake. A keep-alive (no message id, no content) does not take that
  // place: a neighbour may send one before anything else.
  const bool first = !c->got_message_after_handshake;
  if (!std::holds_alternative<KeepAlive>(m)) c->got_message_after_handshake = true;
  std::visit(
      Overloaded{
          [&](const Handshake&) { Drop(id, DisconnectReason::kUnexpectedHandshake); },
          [&](const KeepAlive&) {},
          [&](const Choke&) { HandleChoke(now, *c); },
          [&](const Unchoke&) { HandleUnchoke(now, *c); },
          [&](const Interested&) { HandleInterested(now, *c); },
          [&](const NotInterested&) {
            // Only a real change restarts the idle clock: a repeated
            // NotInterested must not keep a useless connection open.
            if (c->peer_interested) c->interest_ended = now;
            SetPeerInterested(*c, false);
            if (!c->am_choking) FillFreeSlots(now, nullptr);
          },
          [&](const Have& h) { HandleHave(now, *c, h); },
          [&](const BitfieldMessage& b) {
            if (!first) {
              Drop(id, DisconnectReason::kBadBitfield);  // BEP 3: only first
            } else {
              HandleBitfield(now, *c, b);
            }
          },
          [&](const Request& r) { HandleRequest(now, *c, r); },
          [&](const Piece& p) { HandlePiece(now, *c, p); },
          [&](const Cancel& x) { HandleCancel(now, *c, x); },
      },
      m);
  RefillAfterDrops(now);  // e.g. a protocol violation, a duplicate connection
}

void Peer::HandleHandshake(Time now, Connection& c, const Handshake& m) {
  if (m.info_hash != torrent_.info_hash()) {
    return Drop(c.id, DisconnectReason::kWrongInfoHash);
  }
  if (m.peer_id == self_) return Drop(c.id, DisconnectReason::kSelfConnection);
  if (banned_.count(m.peer_id)) return Drop(c.id, DisconnectReason::kBanned);
  for (auto& [other_id, other] : conns_) {
    if (other_id == c.id || other.remote != m.peer_id) continue;
    // Both sides may dial each other at once.
    if (!DisplacesDuplicate(other.direction, c.direction, m.peer_id)) {
      return Drop(c.id, DisconnectReason::kDuplicateConnection);
    }
    Drop(other_id, DisconnectReason::kDuplicateConnection);
    break;  // `other` is gone; `c` is still valid (std::map)
  }
  c.handshake_received = true;
  c.remote = m.peer_id;
  known_.insert(m.peer_id);
  // A dial that got this far succeeded: its failures are forgotten.
  if (c.dialed) dialed_.erase(*c.dialed);
  dialed_.erase(m.peer_id);
  // The tracker may have listed it before it reached us: no need to dial.
  std::erase_if(candidates_, [&](const Candidate& a) { return a.address.id == m.peer_id; });
  if (config_.super_seeding && is_seed()) return SuperSeedOffer(now, c);
  if (!have_.None()) Send(now, c, BitfieldMessage{have_.ToWire()});
}

void Peer::HandleBitfield(Time now, Connection& c, const BitfieldMessage& m) {
  std::optional<Bitfield> bits = Bitfield::FromWire(m.bits, torrent_.piece_count());
  if (!bits) return Drop(c.id, DisconnectReason::kBadBitfield);
  c.remote_have = std::move(*bits);
  picker_.AddPeer(c.remote_have);
  c.interesting = static_cast<uint32_t>(c.remote_have.CountNotIn(have_));
  if (is_seed() && c.remote_have.All()) {
    return Drop(c.id, DisconnectReason::kNotUseful);
  }
  if (config_.super_seeding && is_seed() && c.super_offer &&
      c.remote_have.Test(c.super_offer->value())) {
    c.super_offer.reset();  // it had our offer already: reveal another
    SuperSeedOffer(now, c);
  }
  SuperSeedRevealIfUnspreadableEverywhere(now);
  UpdateInterest(now, c);
}

// BEP 16. Reveal to `c` the piece revealed least often so far (rarest among
// ties, then random) that it lacks.
void Peer::SuperSeedOffer(Time now, Connection& c) {
  if (c.super_offer) return;
  if (super_offered_.empty()) super_offered_.assign(torrent_.piece_count(), 0);
  std::vector<uint32_t> best;
  uint64_t best_key = UINT64_MAX;
  for (uint32_t p = 0; p < torrent_.piece_count(); ++p) {
    if (c.remote_have.Test(p)) continue;
    const uint64_t key = (uint64_t{super_offered_[p]} << 32) |
                         picker_.availability(PieceIndex(p));
    if (key < best_key) {
      best_key = key;
      best.clear();
    }
    if (key == best_key) best.push_back(p);
  }
  if (best.empty()) return;
  const PieceIndex p(best[rng_.Below(best.size())]);
  ++super_offered_[p.value()];
  c.super_offer = p;
  Send(now, c, Have{p});
}

// A Have for `p` from `from`: every other peer we revealed p to has shared
// it, so each may be shown a new piece. The announcer itself gets a new
// piece once its own offer was fetched.
void Peer::SuperSeedSawHave(Time now, ConnectionId from, PieceIndex p) {
  for (auto& [id, c] : conns_) {
    if (!c.super_offer || *c.super_offer != p) continue;
    if (id != from) {
      c.super_offer.reset();
      SuperSeedOffer(now, c);
    }
  }
  // Its own piece may have arrived: BEP 16 waits to see it spread before
  // showing this peer more, if anyone is left to spread it to.
  if (Connection* c = Find(from)) SuperSeedRevealIfUnspreadable(now, *c);
}

// `c` holds the piece last revealed to it, and no other neighbour that
// could pass it on lacks that piece: nobody will ever announce it, so
// waiting to see it spread would leave `c` without a new piece for good.
// Reveal the next one now. A neighbour that has not said Interested in a
// housekeeping interval since it connected, though shown a piece it lacks
// (a leecher answers within a round trip), is taken for a seed: two
// super-seeds see each other as empty, and the last leecher between them
// waited for good (docs/architecture.md, Choking). Housekeeping looks
// again once such a neighbour is old enough to tell.
void Peer::SuperSeedRevealIfUnspreadable(Time now, Connection& c) {
  if (!c.super_offer || !c.remote_have.Test(c.super_offer->value())) return;
  for (const auto& [id, o] : index_) {
    if (id != c.id && o->handshake_received && !o->remote_have.Test(c.super_offer->value()) &&
        !TakenForSeed(*o, now)) {
      return;  // o may still fetch it from c and announce it
    }
  }
  c.super_offer.reset();
  SuperSeedOffer(now, c);
}

std::optional<ConnectionId> Peer::SeedNeighbourOfSuperSeed(Time now) const {
  if (!config_.super_seeding || !is_seed()) return std::nullopt;
  std::optional<ConnectionId> oldest;
  Time since = Time::Never();
  for (const auto& [id, c] : index_) {
    if (TakenForSeed(*c, now) && !WaitsForOurReveal(*c) && c->connected_at < since) {
      oldest = id;
      since = c->connected_at;
    }
  }
  return oldest;
}

// After a neighbour left or showed its bitfield, fewer neighbours may lack a
// piece revealed to someone else.
void Peer::SuperSeedRevealIfUnspreadableEverywhere(Time now) {
  if (!config_.super_seeding || !is_seed()) return;
  for (auto& [id, c] : index_) SuperSeedRevealIfUnspreadable(now, *c);
}

void Peer::HandleHave(Time now, Connection& c, const Have& m) {
  const uint32_t p = m.piece.value();
  if (p >= torrent_.piece_count()) {
    return Drop(c.id, DisconnectReason::kIndexOutOfRange);
  }
  if (c.remote_have.Test(p)) return;  // repeated Have is harmless
  c.remote_have.Set(p);
  // Only BitTyrant reads it (a policy is fixed for a peer's life); skipping
  // it spares a cache miss on each of the millions of Haves in a big swarm.
  if (config_.choker == ChokerKind::kBitTyrant) c.announced.Add(now, torrent_.PieceSize(m.piece));
  picker_.AddHave(m.piece);
  if (config_.super_seeding && is_seed()) {
    const ConnectionId from = c.id;
    SuperSeedSawHave(now, from, m.piece);
    Connection* again = Find(from);
    if (!again) return;
    if (again->remote_have.All()) Drop(from, DisconnectReason::kNotUseful);
    return;
  }
  if (!have_.Test(p)) {
    ++c.interesting;
    const bool was_interested = c.am_interested;
    UpdateInterest(now, c);  // asks at once if this made us interested
    // Already interested, the pipeline may still be empty: every piece the
    // neighbour had was being fetched elsewhere. Nothing else would refill
    // it until the next unchoke, so this piece must be asked for now.
    if (was_interested) RequestMore(now, c);
  }
  if (is_seed() && c.remote_have.All()) Drop(c.id, DisconnectReason::kNotUseful);
}

void Peer::HandleInterested(Time now, Connection& c) {
  const bool was_holding = HoldsSlot(c);
  SetPeerInterested(c, true);
  c.ever_interested = true;
  if (c.am_choking) return FillFreeSlots(now, &c);
  if (!was_holding) {
    c.slot_used_at = now;  // it starts using the slot it was given
    WatchSlot(c);
  }
  // Unchoked while it wanted nothing: a turn-taking choker leaves such a
  // peer unchoked and gives its slot to the next one that asks. Back in the
  // running it waits for its next turn rather than serve one peer more than
  // unchoke_slots.
  if (choker_.CountsSlots(is_seed()) && unchoked_interested_ > config_.unchoke_slots) {
    ChokePeer(now, c);
  }
}

// An upload slot is free (a peer lost interest or left, or a new one became
// interested while slots were free). As the original client did (Cohen
// 2003), decide again at once rather than leaving the slot idle until the
// next rechoke interval — but with the choker's own criteria, so that
// asking first does not buy a slot. Round-robin (also a seed's, under
// seed_choke: round_robin), whose cursor must advance once per interval,
// just gives the slot to `asker`. Chokers that do not count slots
// (propshare, bittyrant) decide again on every such change: a peer that
// should be served under their rules is served at once.
void Peer::FillFreeSlots(Time now, Connection* asker) {
  if (config_.free_rider || stopped_ || !started_) return;
  // unchoke_all has no slots: whoever becomes interested is served at once.
  if (config_.choker == ChokerKind::kUnchokeAll) {
    if (asker && asker->am_choking) UnchokePeer(now, *asker);
    return;
  }
  const bool seed = is_seed();
  if (choker_.CountsSlots(seed)) {
    // A slot held by a neighbour that ignores our unchoke counts as free.
    if (unchoked_interested_ - ignoring_holders_ >= config_.unchoke_slots) return;
    if (choker_.TakesTurns(seed)) {
      if (!asker || !asker->am_choking) return;
      if (unchoked_interested_ >= config_.unchoke_slots) {
        // Full only with such neighbours: one makes room, unless the asker
        // ignored us too.
        if (asker->ignores_unchoke) return;
        for (auto& [id, c] : index_) {
          if (HoldsSlot(*c) && c->ignores_unchoke) {
            ChokePeer(now, *c);
            break;
          }
        }
      }
      UnchokePeer(now, *asker);
      return;
    }
  }
  Rechoke(now, RechokeKind::kSlotFreed);
}

void Peer::WatchSlot(Connection& c) {
  if (config_.unused_unchoke_timeout <= Duration::Zero() || !HoldsSlot(c) ||
      c.ignores_unchoke || c.uploaded > 0 || c.downloaded > 0) {
    return;
  }
  next_unchoke_check_ = std::min(next_unchoke_check_, c.slot_used_at + config_.unused_unchoke_timeout);
}

// A neighbour that holds one of our upload slots with no request of its
// pending and has asked nothing since unused_unchoke_timeout is marked; a
// mark is kept until it asks again or sends us a block (HandleRequest,
// HandlePiece). The slots of those marked now go to others that wait.
void Peer::CheckUnusedUnchokes(Time now) {
  next_unchoke_check_ = Time::Never();
  bool marked = false;
  for (auto& [id, cp] : index_) {
    Connection& c = *cp;
    // A neighbour that has traded a block with us either way has shown it
    // is a real peer: one with nothing to ask of us just now (what it
    // wants from us is on its way from others) is not marked.
    if (!HoldsSlot(c) || c.ignores_unchoke || !c.upload_queue.empty() ||
        c.uploads_in_flight > 0 || c.uploaded > 0 || c.downloaded > 0) {
      continue;
    }
    const Time due = c.slot_used_at + config_.unused_unchoke_timeout;
    if (now < due) {
      next_unchoke_check_ = std::min(next_unchoke_check_, due);
      continue;
    }
    SetIgnoresUnchoke(now, c, true);
    marked = true;
  }
  if (marked) FillFreeSlots(now, nullptr);
}

std::optional<ConnectionId> Peer::LeastUseful() const {
  if (ignoring_ == 0) return std::nullopt;
  std::optional<ConnectionId> worst;
  Time since = Time::Never();
  for (const auto& [id, c] : index_) {
    if (c->ignores_unchoke && c->waiting_since < since) {
      worst = id;
      since = c->waiting_since;
    }
  }
  return worst;
}

void Peer::HandleChoke(Time now, Connection& c) {
  c.peer_choking = true;
  GiveUpRequests(c, /*send_cancel=*/false, now);
  RequestMoreEverywhere(now);
}

void Peer::HandleUnchoke(Time now, Connection& c) {
  c.peer_choking = false;
  RequestMore(now, c);
}

bool Peer::ValidBlockRange(const BlockRef& b) const {
  if (b.piece.value() >= torrent_.piece_count()) return false;
  const Bytes size = torrent_.PieceSize(b.piece);
  return Bytes(b.offset) + Bytes(b.length) <= size;
}

void Peer::HandleRequest(Time now, Connection& c, const Request& m) {
  const BlockRef& b = m.block;
  if (b.length == 0 || b.length > config_.max_request_length) {
    return Drop(c.id, DisconnectReason::kBadLength);
  }
  if (!ValidBlockRange(b)) return Drop(c.id, DisconnectReason::kIndexOutOfRange);
  if (!have_.Test(b.piece.value())) {
    return Drop(c.id, DisconnectReason::kRequestForMissingPiece);
  }
  // BEP 3: requests that cross our Choke are silently dropped.
  if (c.am_choking) return;
  c.slot_used_at = now;
  if (c.ignores_unchoke) SetIgnoresUnchoke(now, c, false);
  if (c.upload_queue.size() >= config_.max_queued_requests) {
    return Drop(c.id, DisconnectReason::kTooManyRequests);
  }
  if (std::find(c.upload_queue.begin(), c.upload_queue.end(), b) !=
      c.upload_queue.end()) {
    return;  // duplicate request: serve once
  }
  c.upload_queue.push_back(b);
  PumpUploads(c);
}

void Peer::HandleCancel(Time now, Connection& c, const Cancel& m) {
  if (!ValidBlockRange(m.block)) return Drop(c.id, DisconnectReason::kIndexOutOfRange);
  auto it = std::find(c.upload_queue.begin(), c.upload_queue.end(), m.block);
  if (it != c.upload_queue.end()) c.upload_queue.erase(it);
  if (c.upload_queue.empty() && c.uploads_in_flight == 0) WatchSlot(c);
}

void Peer::HandlePiece(Time now, Connection& c, const Piece& m) {
  const BlockRef& b = m.block;
  if (!ValidBlockRange(b)) return Drop(c.id, DisconnectReason::kIndexOutOfRange);
  auto req = std::find_if(c.requests.begin(), c.requests.end(),
                          [&](const OutstandingRequest& r) { return r.block == b; });
  const bool late = req == c.requests.end();
  if (!late) {
    c.requests.erase(req);
  } else {
    auto st = std::find(c.stale.begin(), c.stale.end(), b);
    if (st == c.stale.end()) {
      // Not a request we remember. While requests pushed out of `stale`
      // lately are unanswered, it may be the late answer to one of them
      // (a neighbour snubbing us for over an hour gives up that many):
      // discard it unused, as we cannot tell which block it is for. No more
      // such blocks than the requests we forgot, so a neighbour cannot push
      // more than we once asked it for; and only for an epoch or two after
      // they were forgotten (RotateStaleEpoch), so it cannot bank that
      // allowance and spend it long after. The older epoch's goes first:
      // it expires first.
      if (c.stale_forgotten_old > 0) {
        --c.stale_forgotten_old;
      } else if (c.stale_forgotten > 0) {
        --c.stale_forgotten;
      } else {
        return Drop(c.id, DisconnectReason::kUnrequestedBlock);
      }
      stats_.wasted += b.length;
      return;
    }
    c.stale.erase(st);
    // Unused: a cancelled duplicate (harmless), or a block of a parole
    // piece that another peer is fetching now. Kept, that block would mix
    // the attempt again, and a polluter could dodge its strike that way.
    if (!picker_.NeedsBlock(b) || !picker_.AcceptsLateFrom(b.piece, *c.remote)) {
      stats_.wasted += b.length;
      return;
    }
    // A late answer to a request we gave up on: still useful.
  }
  c.last_block = now;
  last_block_ = now;
  c.snubbed = false;
  if (c.ignores_unchoke) {  // it gives us something: worth its place again
    SetIgnoresUnchoke(now, c, false);
    c.slot_used_at = now;
    WatchSlot(c);
  }
  c.download.Add(now, b.length);
  c.downloaded += b.length;
  if (config_.request_queue_time > Duration::Zero()) {
    const double blocks = c.download.Get(now).bytes_per_second() *
                          config_.request_queue_time.seconds() /
                          config_.block_size;
    // Half our own limit: requests we gave up at a Choke may still reach a
    // neighbour that has unchoked us again meanwhile and be queued there
    // beside a full new pipeline, and a neighbour with the same limit must
    // not see more than it (too_many_requests).
    const double most = std::min<double>(
        std::max<double>(config_.max_queued_requests / 2, config_.request_pipeline),
        UINT16_MAX);
    c.adaptive_pipeline = static_cast<uint16_t>(
        std::clamp(blocks, std::min<double>(config_.request_pipeline, most), most));
  }
  if (config_.choker == ChokerKind::kStrictTitForTat) PumpUploads(c);
  if (picker_.OnBlockReceived(b) == PiecePicker::Receipt::kDuplicate) {
    stats_.wasted += b.length;
  } else {
    stats_.downloaded += b.length;
    actions_.push_back(StoreBlock{c.id, b});
    auto [src, first_block] = sources_.try_emplace(b.piece.value());
    if (first_block) {
      src->second.first = *c.remote;
    } else if (src->second.first != *c.remote) {
      src->second.several = true;
    }
    if (picker_.IsComplete(b.piece)) actions_.push_back(VerifyPiece{b.piece});
  }
  // Another connection may have the same block outstanding: in end-game
  // (which may have ended since: a dropped connection gives blocks back),
  // or because we gave this request up (a choke, a timeout) and asked
  // elsewhere, and then the answer came after all.
  if (late || (config_.endgame && picker_.InEndgame()) || picker_.IsOutstanding(b)) {
    CancelElsewhere(now, c.id, b);
  }
  RequestMore(now, c);
}

// --------------------------------------------------------------------------
// Downloading.

void Peer::UpdateInterest(Time now, Connection& c) {
  const bool want = c.interesting > 0 && !is_seed();
  if (want == c.am_interested) return;
  c.am_interested = want;
  if (want) {
    Send(now, c, Interested{});
    RequestMore(now, c);
  } else {
    c.interest_ended = now;
    Send(now, c, NotInterested{});
  }
}

void Peer::RequestMore(Time now, Connection& c) {
  if (!c.remote || c.peer_choking || !c.am_interested || is_seed()) return;
  const size_t pipeline = PipelineOf(c);
  if (c.requests.size() >= pipeline) return;
  const size_t want = pipeline - c.requests.size();
  const bool endgame_before = picker_.InEndgame();
  picker_.Pick(now, c.remote_have, *c.remote, want, rng_,
               [&c](const BlockRef& b) { return c.HasOutstanding(b); }, picks_);
  // A parole piece taken over from another peer starts again (PiecePicker):
  // its former owner's blocks are waste, and the piece's sources start over.
  for (const PiecePicker::Discard& d : picker_.TakeDiscards()) {
    sources_.erase(d.piece.value());
    stats_.downloaded -= d.bytes;
    stats_.wasted += d.bytes;
    stats_.discarded += d.bytes;
  }
  for (const BlockRef& b : picks_) {
    c.requests.push_back(OutstandingRequest{b, now});
    Send(now, c, Request{b});
  }
  // This pick took the last unrequested block: from now on the other
  // connections may duplicate outstanding blocks, so give them the chance
  // now rather than at their next delivery (some have none in flight).
  if (!endgame_before && config_.endgame && picker_.InEndgame()) {
    for (auto& [id, other] : index_) {
      if (other != &c) RequestMore(now, *other);
    }
  }
}

void Peer::RequestMoreEverywhere(Time now) {
  requests_returned_ = false;
  for (auto& [id, c] : index_) RequestMore(now, *c);
}

void Peer::RefillAfterDrops(Time now) {
  if (over_limit_ > 0) TrimOverLimit();  // a handshake came, or a drop
  if (requests_returned_ && !stopped_) RequestMoreEverywhere(now);
  requests_returned_ = false;
  if (super_seed_recheck_ && !stopped_) SuperSeedRevealIfUnspreadableEverywhere(now);
  super_seed_recheck_ = false;
  if (slot_freed_ && !stopped_) FillFreeSlots(now, nullptr);
  slot_freed_ = false;
}

void Peer::GiveUpRequests(Connection& c, bool send_cancel, Time now) {
  for (const auto& r : c.requests) {
    picker_.AbortRequest(r.block);
    if (send_cancel) Send(now, c, Cancel{r.block});
    RememberStale(c, r.block);
  }
  c.requests.clear();
}

void Peer::RememberStale(Connection& c, const BlockRef& b) {
  c.stale.push_back(b);
  if (c.stale.size() > kMaxStale) {
    c.stale.erase(c.stale.begin());
    if (c.stale_forgotten < std::numeric_limits<uint16_t>::max()) ++c.stale_forgotten;
  }
}

// The excuse a forgotten request gives (an unknown block taken as its late
// answer, see HandlePiece) lasts from the moment it is pushed out of
// `stale` to the second epoch boundary after: at least one epoch, at most
// two (boundaries fall on housekeeping rounds, so an epoch may run a round
// longer). It was given up before that, so its answer has had longer
// still.
//
// Why a time and not an event. An honest neighbour answers a request we
// gave up with a block it had already handed to its driver when our
// Cancel reached it or when it choked us (a Cancel takes the request out
// of its queue, a Choke empties the queue), or with one we asked for just
// before its Choke reached us, if the request reached it after it had
// unchoked us again (we give requests up at a Choke without a Cancel).
// No later message of the neighbour proves that such a block has arrived.
// The second kind is served after its next Unchoke on any transport. The
// first kind may be overtaken by control messages sent after it: in the
// simulator they pay latency only and never wait behind a block's flow,
// and on real sockets the driver holds blocks back for its upload token
// bucket while control messages go straight onto the stream. So a late
// answer may come after the next Unchoke, and resetting the count then
// would drop an honest neighbour. (Where a neighbour sends one block at a
// time per connection, in order, an answer to a request sent after the
// push-out would prove it; but a hostile neighbour that banked allowance
// simply never answers again, which is the case to bound.) What the core
// does know is the time, and that a late answer is on its way or queued
// behind a few blocks, at some share of the neighbour's upload.
//
// Why inactivity_timeout (default 240 s): we wait for a block's bytes as
// long as we wait for any sign of life from a neighbour before calling the
// connection dead. A 16 KiB block still on its way after that crawled at
// under 550 bit/s; in the shipped scenarios the latest answer to a
// given-up request came 120 s after it was given up (nat.yaml; 80 s in
// the flash crowd), and none needed this count at all. Beyond it, a
// neighbour can no longer spend allowance banked long ago (choke/unchoke
// cycles and cancels make us forget requests): unknown blocks are excused
// only for requests forgotten in the last one to two epochs, and a
// neighbour sending them later is dropped (unrequested_block). Two
// counters per connection and one boundary per peer keep Connection its
// size; a time per forgotten request would not.
void Peer::RotateStaleEpoch(Time now) {
  next_stale_epoch_ = now + config_.inactivity_timeout;
  for (auto& [id, c] : index_) {
    c->stale_forgotten_old = c->stale_forgotten;
    c->stale_forgotten = 0;
  }
}

void Peer::CancelElsewhere(Time now, ConnectionId except, const BlockRef& b) {
  for (auto& [id, cp] : index_) {
    Connection& c = *cp;
    if (id == except) continue;
    auto it = std::find_if(c.requests.begin(), c.requests.end(),
                           [&](const OutstandingRequest& r) { return r.block == b; });
    if (it == c.requests.end()) continue;
    c.requests.erase(it);
    picker_.AbortRequest(b);
    Send(now, c, Cancel{b});
    RememberStale(c, b);
    RequestMore(now, c);  // the room the cancel made
  }
}

void Peer::OnPieceVerified(Time now, PieceIndex p, bool ok) {
  if (stopped_) return;
  SWARM_CHECK(picker_.IsComplete(p));
  std::optional<PeerId> only_source;  // the one peer that sent all of p
  if (auto src = sources_.find(p.value()); src != sources_.end()) {
    if (!src->second.several) only_source = src->second.first;
    sources_.erase(p.value());
  }
  picker_.OnPieceVerified(p, ok);
  if (!ok) {
    ++stats_.pieces_failed;
    stats_.wasted += torrent_.PieceSize(p);
    stats_.downloaded -= torrent_.PieceSize(p);
    // Only a piece with a single source names a culprit; a piece mixed from
    // several peers goes on parole (PiecePicker) and is fetched again from
    // one peer, so a corrupting peer is caught on its next attempt.
    if (only_source) Strike(*only_source);
    RequestMoreEverywhere(now);
    RefillAfterDrops(now);
    return;
  }
  have_.Set(p.value());
  left_ -= torrent_.PieceSize(p);
  // Every connection and its neighbour's bitfield, most of them cold: fetch
  // the connection eight steps ahead and, once it is there, the word of the
  // bitfield four steps ahead, so that the misses overlap. (A step is a few
  // nanoseconds when its lines are there; four and two steps ahead, the
  // loop still waited on both loads.)
  constexpr size_t kAhead = 8;
  const size_t n = index_.size();
  for (size_t i = 0; i < std::min(n, kAhead); ++i) {
    __builtin_prefetch(&index_[i].second->handshake_received);
    __builtin_prefetch(&index_[i].second->remote_have);
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      __builtin_prefetch(&index_[i + kAhead].second->handshake_received);
      __builtin_prefetch(&index_[i + kAhead].second->remote_have);
    }
    if (i + kAhead / 2 < n) {
      const auto& words = index_[i + kAhead / 2].second->remote_have.words();
      if (p.value() / 64 < words.size()) __builtin_prefetch(&words[p.value() / 64]);
    }
    Connection& c = *index_[i].second;
    if (!c.handshake_received) continue;
    // Every neighbour hears of p (BEP 3), also one that holds p itself: the
    // Have is how it learns what we hold. A super-seed sees that the piece
    // it revealed to us arrived (and may reveal the next), a seed or a
    // completed neighbour sees when we complete and parts as not useful,
    // and BitTyrant's estimate of our download rate counts every piece.
    Send(now, c, Have{p});
    if (c.remote_have.Test(p.value())) {
      --c.interesting;  // one piece fewer it could give us
      UpdateInterest(now, c);
    }
  }
  if (have_.All()) OnBecameSeed(now);
  // A peer banned above or a seed dropped on completion may have held an
  // upload slot, or left a piece nobody else can spread.
  RefillAfterDrops(now);
}

void Peer::OnBecameSeed(Time now) {
  actions_.push_back(Completed{});
  AnnounceNow(now, AnnounceEvent::kCompleted);
  std::vector<ConnectionId> seeds;
  for (auto& [id, c] : conns_) {
    if (c.handshake_received && c.remote_have.All()) seeds.push_back(id);
  }
  for (ConnectionId id : seeds) Drop(id, DisconnectReason::kNotUseful);
  // Strict tit-for-tat holds a leecher's uploads to a deficit; a seed is
  // exempt, so requests held back may go now.
  PumpAll();
}

void Peer::Strike(PeerId p) {
  if (++strikes_[p] < config_.ban_strikes || banned_.count(p)) return;
  banned_.insert(p);
  ++stats_.peers_banned;
  for (auto& [id, c] : conns_) {
    if (c.remote == p) {
      Drop(id, DisconnectReason::kHashFailure);
      break;
    }
  }
}

// --------------------------------------------------------------------------
// Uploading.

bool Peer::MaySend(const Connection& c) const {
  if (c.am_choking || c.upload_queue.empty()) return false;
  // Block-level tit-for-tat: a leecher keeps the deficit to each peer
  // bounded (seeds have nothing to receive and are exempt).
  return !DeficitHoldsUploads(c);
}

void Peer::PumpUploads(Connection& c) {
  if (weighted_uploads_) return PumpWeighted();
  while (MaySend(c) && c.uploads_in_flight < config_.uploads_in_flight) {
    BlockRef b = c.upload_queue.front();
    c.upload_queue.erase(c.upload_queue.begin());
    StartUpload(c);
    actions_.push_back(SendBlock{c.id, b});
  }
}

void Peer::PumpWeighted() {
  while (uploads_in_flight_ < config_.uploads_in_flight) {
    Connection* best = nullptr;
    for (auto& [id, c] : index_) {
      if (MaySend(*c) && (!best || c->upload_pass < best->upload_pass)) best = c;
    }
    if (!best) return;
    BlockRef b = best->upload_queue.front();
    best->upload_queue.erase(best->upload_queue.begin());
    best->upload_pass += b.length / best->upload_weight;
    StartUpload(*best);
    actions_.push_back(SendBlock{best->id, b});
  }
}

void Peer::StartUpload(Connection& c) {
  // The first upload in flight starts the stall clock, at the next
  // housekeeping round (no `now` here); later ones wait behind it.
  if (c.uploads_in_flight == 0 && config_.upload_stall_timeout > Duration::Zero()) {
    c.waiting_since = Time::Never();
  }
  ++c.uploads_in_flight;
  ++uploads_in_flight_;
}

void Peer::PumpAll() {
  if (weighted_uploads_) return PumpWeighted();
  for (auto& [id, c] : index_) PumpUploads(*c);
}

void Peer::OnBlockSent(Time now, ConnectionId id, const BlockRef& block) {
  stats_.uploaded += block.length;
  Connection* c = Find(id);
  if (!c) return;
  if (c->uploads_in_flight > 0) {
    --c->uploads_in_flight;
    --uploads_in_flight_;
  }
  c->upload.Add(now, block.length);
  c->uploaded += block.length;
  c->last_sent = now;
  c->slot_used_at = now;
  PumpUploads(*c);
  // Those still in flight (or just handed over) wait from now: the
  // neighbour reads.
  if (c->uploads_in_flight > 0 && config_.upload_stall_timeout > Duration::Zero()) {
    c->waiting_since = now;
  }
  if (c->upload_queue.empty() && c->uploads_in_flight == 0) WatchSlot(*c);
}

// The only writers of am_choking and peer_interested: they keep
// unchoked_interested_ equal to the number of connections with HoldsSlot().
void Peer::SetAmChoking(Connection& c, bool choking) {
  unchoked_interested_ -= HoldsSlot(c);
  ignoring_holders_ -= HoldsSlot(c) && c.ignores_unchoke;
  c.am_choking = choking;
  unchoked_interested_ += HoldsSlot(c);
  ignoring_holders_ += HoldsSlot(c) && c.ignores_unchoke;
}

void Peer::SetPeerInterested(Connection& c, bool interested) {
  unchoked_interested_ -= HoldsSlot(c);
  ignoring_holders_ -= HoldsSlot(c) && c.ignores_unchoke;
  c.peer_interested = interested;
  unchoked_interested_ += HoldsSlot(c);
  ignoring_holders_ += HoldsSlot(c) && c.ignores_unchoke;
}

void Peer::SetIgnoresUnchoke(Time now, Connection& c, bool ignores) {
  if (c.ignores_unchoke == ignores) return;
  ignoring_holders_ -= HoldsSlot(c) && c.ignores_unchoke;
  c.ignores_unchoke = ignores;
  ignoring_holders_ += HoldsSlot(c) && c.ignores_unchoke;
  if (ignores) {
    ++ignoring_;
    c.waiting_since = now;
  } else {
    --ignoring_;
  }
}

void Peer::UnchokePeer(Time now, Connection& c) {
  SetAmChoking(c, false);
  Send(now, c, Unchoke{});
  c.slot_used_at = now;
  PumpUploads(c);
  WatchSlot(c);
}

void Peer::ChokePeer(Time now, Connection& c) {
  SetAmChoking(c, true);
  c.optimistic = false;
  c.upload_queue.clear();  // BEP 3: a choke discards pending requests
  Send(now, c, Choke{});
}

void Peer::Rechoke(Time now, RechokeKind kind) {
  // index_, not conns_: the same order, but a walk over a contiguous array.
  std::vector<ChokeCandidate>& cands = choke_scratch_;
  cands.clear();
  const bool seed = is_seed();
  const bool tyrant = config_.choker == ChokerKind::kBitTyrant;
  // Stride scheduling: a connection (re)joining starts at the current
  // minimum pass, so it cannot claim the upload for the time it was idle.
  double min_pass = 0;
  bool any = false;
  for (const auto& [id, cp] : index_) {
    const Connection& c = *cp;
    if (!c.am_choking && (!any || c.upload_pass < min_pass)) {
      min_pass = c.upload_pass;
      any = true;
    }
    if (!c.handshake_received) continue;
    ChokeCandidate x;
    x.conn = id;
    x.interested = c.peer_interested;
    x.snubbed = c.snubbed;
    x.unchoked = !c.am_choking;
    x.optimistic = c.optimistic;
    x.is_new = now - c.connected_at < kNewPeerWindow;
    x.unchoking_us = !c.peer_choking;
    x.ignores_unchoke = c.ignores_unchoke;
    x.download_rate = c.download.Get(now);
    if (seed) x.upload_rate = c.upload.Get(now);
    if (tyrant) x.announce_rate = c.announced.Get(now);
    cands.push_back(x);
  }
  const ChokeDecision& d = choker_.Rechoke(cands, seed, kind, rng_);
  // Weights are all 1 unless this decision or the last one carried some;
  // skipping them otherwise keeps this walk on each connection's first
  // cache line.
  const bool set_weights = weighted_uploads_ || !d.weight.empty();
  weighted_uploads_ = !d.weight.empty();
  for (auto& [id, cp] : index_) {
    Connection& c = *cp;
    if (!c.handshake_received) continue;
    auto it = std::find(d.unchoke.begin(), d.unchoke.end(), id);
    const bool keep = it != d.unchoke.end();
    if (set_weights) {
      c.upload_weight =
          keep && weighted_uploads_ ? std::max(d.weight[it - d.unchoke.begin()], 1e-9) : 1;
    }
    if (keep && c.am_choking) {
      c.upload_pass = std::max(c.upload_pass, min_pass);
      UnchokePeer(now, c);
    }
    if (!keep && !c.am_choking) ChokePeer(now, c);
    const bool optimistic = d.optimistic == id;
    if (c.optimistic != optimistic) c.optimistic = optimistic;  // no needless store
  }
  // Sharing by weight started or stopped: the allowance of uploads in
  // flight changed from one per connection to one for the peer or back,
  // and requests kept waiting under the old rule may go now.
  if (set_weights) PumpAll();
}

// --------------------------------------------------------------------------
// Timers.

std::optional<Time> Peer::NextTimeout() const {
  if (!started_ || stopped_) return std::nullopt;
  return std::min({next_announce_, next_rechoke_, next_housekeeping_, next_unchoke_check_});
}

void Peer::OnTimeout(Time now) {
  if (!started_ || stopped_) return;
  if (now >= next_announce_) AnnounceNow(now, AnnounceEvent::kNone);
  if (now >= next_rechoke_) {
    const bool rotate = now >= next_optimistic_;
    if (rotate) next_optimistic_ = now + config_.optimistic_interval;
    next_rechoke_ = now + config_.rechoke_interval;
    Rechoke(now, rotate ? RechokeKind::kOptimistic : RechokeKind::kRound);
  }
  if (now >= next_housekeeping_) {
    next_housekeeping_ = now + config_.housekeeping_interval;
    Housekeeping(now);
  }
  if (now >= next_unchoke_check_) CheckUnusedUnchokes(now);
  RefillAfterDrops(now);
}

void Peer::Housekeeping(Time now) {
  if (now >= next_stale_epoch_) RotateStaleEpoch(now);
  std::vector<ConnectionId> dead;
  std::vector<ConnectionId> stalled;  // upload_stall_timeout
  // The connection idle longest, if any has been for idle_timeout.
  std::optional<ConnectionId> idle;
  Time idle_since = Time::Never();
  bool gave_up = false;
  for (auto& [id, cp] : index_) {
    Connection& c = *cp;
    if (now - c.last_received >= config_.inactivity_timeout) {
      dead.push_back(id);
      continue;
    }
    if (UploadStalled(now, c)) {
      stalled.push_back(id);
      continue;
    }
    // Before the idle check below: an idle connection is still a live one,
    // kept open until a slot is wanted, and without keep-alives both ends
    // would drop it as inactive instead.
    if (now - c.last_sent >= config_.keepalive_interval) Send(now, c, KeepAlive{});
    // Alive, but neither side has wanted anything of the other for
    // idle_timeout: a candidate to free its slot, should one be wanted.
    // Not a neighbour waiting for our next super-seed reveal: it lacks
    // pieces we hide from it, and would want them if shown.
    if (config_.idle_timeout > Duration::Zero() && !c.am_interested && !c.peer_interested &&
        now - c.interest_ended >= config_.idle_timeout && !WaitsForOurReveal(c)) {
      if (c.interest_ended < idle_since) {
        idle = id;
        idle_since = c.interest_ended;
      }
      continue;
    }
    // Requests unanswered too long: the neighbour is snubbing us.
    if (!c.requests.empty() && now - c.requests.front().sent >= config_.request_timeout &&
        now - c.last_block >= config_.request_timeout) {
      c.snubbed = true;
      GiveUpRequests(c, /*send_cancel=*/true, now);
      if (c.remote) picker_.ForgetOwner(*c.remote);
      gave_up = true;
    }
    // A parole piece waits for its owner through chokes (PiecePicker), but
    // not for ever: one that has sent us no block for two optimistic
    // intervals (the time a tit-for-tat peer takes to give an interested
    // neighbour a turn), doubled at each takeover of the piece, lets the
    // piece go to another peer. Choked or not: one that unchokes us at
    // every rechoke and never answers is never marked snubbing (each
    // unchoke sends our requests afresh).
    if (c.remote && picker_.AnyParole() &&
        picker_.ReleaseSilentOwner(*c.remote, c.last_block, now,
                                   config_.optimistic_interval * 2)) {
      gave_up = true;
    }
  }
  for (ConnectionId id : dead) Drop(id, DisconnectReason::kInactive);
  // Its upload slot and the requests it gave back go to others at the end
  // of this input (RefillAfterDrops).
  for (ConnectionId id : stalled) Drop(id, DisconnectReason::kUploadStalled);
  // An idle connection holds no upload slot (its neighbour is not
  // interested); requests it gave back, if any, are asked again by
  // RefillAfterDrops, and ConnectMore below may dial in its place. One a
  // round at most, and only while a slot is wanted: a neighbour waiting
  // for a piece to spread (a super-seed's next reveal, a seed-starved
  // swarm) may have nothing to trade for longer than idle_timeout and is
  // still worth keeping.
  if (idle && SlotWanted(now)) {
    Drop(*idle, DisconnectReason::kIdle);
  } else if (std::optional<ConnectionId> seed = SeedNeighbourOfSuperSeed(now);
             seed && SlotWanted(now)) {
    // Super-seeds hide their pieces from each other too, so two of them
    // never see each other complete and part as not useful: full of each
    // other (max_connections 1, or several super-seeds) they refused every
    // leecher until idle_timeout, and for good with it off.
    Drop(*seed, DisconnectReason::kNotUseful);
  } else if (DialWanted(now)) {
    // A neighbour that ignored our unchoke makes room for a candidate as an
    // idle one would. (At max_connections a newcomer replaces it when it
    // comes, OnConnected: no need to drop it before.)
    if (std::optional<ConnectionId> unused = LeastUseful()) {
      Drop(*unused, DisconnectReason::kUnusedUnchoke);
    }
  }
  if (gave_up) {
    // The given-up blocks go to responsive neighbours first; a snubbing one
    // is then asked for at most one block (PipelineOf).
    for (auto& [id, c] : index_) {
      if (!c->snubbed) RequestMore(now, *c);
    }
  }
  if (gave_up || !dead.empty()) RequestMoreEverywhere(now);
  if (!dead.empty()) {
    FillFreeSlots(now, nullptr);
    slot_freed_ = false;  // filled just now: RefillAfterDrops need not again
  }
  // A neighbour that never said Interested may be old enough now to be
  // taken for a seed (SuperSeedRevealIfUnspreadable).
  SuperSeedRevealIfUnspreadableEverywhere(now);
  TurnOverIfStarved(now);
  ConnectMore(now);
  AnnounceEarlyIfStranded(now);
}

// A neighbour with uploads of ours in flight, none of which has left for
// upload_stall_timeout, reads nothing (or too little to count). The clock
// starts at the first round that sees an upload in flight (StartUpload
// could not read the time) and restarts at every block sent (OnBlockSent).
bool Peer::UploadStalled(Time now, Connection& c) {
  if (config_.upload_stall_timeout <= Duration::Zero() || c.uploads_in_flight == 0) return false;
  if (c.waiting_since == Time::Never()) {
    c.waiting_since = now;
    return false;
  }
  return now - c.waiting_since >= config_.upload_stall_timeout;
}

// As libtorrent, which times out connections uninteresting both ways only
// at its connection limit: a newcomer would be refused (full), or a
// candidate waits that ConnectMore would dial were one connection fewer
// (dialing stops at min_connections; above it, one fewer would dial
// nobody).
bool Peer::SlotWanted(Time now) const {
  return conns_.size() >= config_.max_connections || DialWanted(now);
}

bool Peer::DialWanted(Time now) const {
  return conns_.size() + connecting_.size() == config_.min_connections && HasDueCandidate(now);
}

std::vector<Action> Peer::TakeActions() { return std::exchange(actions_, {}); }

void Peer::TakeActions(std::vector<Action>& out) {
  out.clear();
  out.swap(actions_);
}

}  // namespace swarm::core
