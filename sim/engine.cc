#include "sim/engine.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <type_traits>
#include <variant>

#include "core/check.h"
#include "core/overloaded.h"
#include "core/peer.h"
#include "core/tracker.h"
#include "sim/cap_check.h"
#include "sim/event_queue.h"
#include "sim/flow_network.h"
#include "sim/latency.h"
#include "sim/workload.h"

namespace swarm::sim {
namespace {

using core::Overloaded;

using core::Time;

// Puts `v` in a free slot of `pool` (or a new one) and returns its index.
template <typename T>
uint32_t Store(std::vector<T>& pool, std::vector<uint32_t>& free, T v) {
  if (!free.empty()) {
    uint32_t slot = free.back();
    free.pop_back();
    pool[slot] = std::move(v);
    return slot;
  }
  pool.push_back(std::move(v));
  return static_cast<uint32_t>(pool.size() - 1);
}

enum EventKind : uint32_t {
  kJoin,             // a = peer
  kTimer,            // a = peer
  kTrackerTimer,
  kDeliver,          // a = endpoint (receiver), b = message slot
  kDeliverInline,    // a = endpoint (receiver), c = message type, b/d = fields
  kPieceArrive,      // a = endpoint (receiver), b = piece, c = offset, d = length
  kFlowDone,         // a = flow, b = generation
  kConnectArrive,    // a = acceptor endpoint
  kConnectDone,      // a = dialer endpoint
  kConnectFail,      // a = dialer peer, b = target peer
  kDisconnectArrive, // a = endpoint told that its remote closed
  kAnnounceArrive,   // a = peer, b = announce slot
  kAnnounceReply,    // a = peer, b = response slot
  kVerify,           // a = peer, b = piece
  kLeave,            // a = peer
  kFail,             // a = peer
  kSample,
};

constexpr uint32_t kNone = ~uint32_t{0};

// Whether peers of class `c` can give others a good copy of a piece.
bool IsSource(const PeerClassSpec& c) { return !c.free_rider && !c.corrupt_uploads; }
constexpr uint64_t kTrackerStream = (uint64_t{1} << 62) - 1;

// Messages without a variable-length payload travel inside the event itself
// (no pool slot): c = the Message alternative, b = piece | offset << 32,
// d = length.
bool PackInline(const core::Message& m, uint32_t* type, uint64_t* b, uint32_t* d) {
  const core::BlockRef* block = nullptr;
  if (const auto* h = std::get_if<core::Have>(&m)) {
    *b = h->piece.value();
  } else if (const auto* r = std::get_if<core::Request>(&m)) {
    block = &r->block;
  } else if (const auto* x = std::get_if<core::Cancel>(&m)) {
    block = &x->block;
  } else if (const auto* p = std::get_if<core::Piece>(&m)) {
    block = &p->block;
  } else if (std::holds_alternative<core::Handshake>(m) ||
             std::holds_alternative<core::BitfieldMessage>(m)) {
    return false;
  } else {
    *b = 0;  // a flag message
  }
  *d = 0;
  if (block) {
    *b = block->piece.value() | (uint64_t{block->offset} << 32);
    *d = block->length;
  }
  *type = static_cast<uint32_t>(m.index());
  return true;
}

// The position of alternative T in core::Message (what Message::index() gives).
template <class T, size_t I = 0>
constexpr uint32_t IndexOf() {
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, core::Message>>) {
    return I;
  } else {
    return IndexOf<T, I + 1>();
  }
}

core::Message UnpackInline(uint32_t type, uint64_t b, uint32_t d) {
  core::BlockRef block{core::PieceIndex(static_cast<uint32_t>(b)),
                       static_cast<uint32_t>(b >> 32), d};
  switch (type) {
    case IndexOf<core::KeepAlive>(): return core::KeepAlive{};
    case IndexOf<core::Choke>(): return core::Choke{};
    case IndexOf<core::Unchoke>(): return core::Unchoke{};
    case IndexOf<core::Interested>(): return core::Interested{};
    case IndexOf<core::NotInterested>(): return core::NotInterested{};
    case IndexOf<core::Have>(): return core::Have{block.piece};
    case IndexOf<core::Request>(): return core::Request{block};
    case IndexOf<core::Piece>(): return core::Piece{block};
    case IndexOf<core::Cancel>(): return core::Cancel{block};
  }
  SWARM_CHECK(false);
  return core::KeepAlive{};
}

// One end of a simulated connection. The two ends of a connection sit side
// by side, the dialer's at an even index. A closed connection's two slots
// are reused by a later one (see Simulation::Impl::closed_pairs_), so the
// owner's ConnectionId is the slot's index and, above it, the connection's
// serial number (ConnId): ids are never reused, and one peer's
// connections are ordered by their ids as they were when slots were not
// reused (the core keeps them in maps ordered by id, so that order is part
// of every result). Aligned to its size of 32 bytes so that one never
// straddles two cache lines (one prefetch fetches all of it).
struct alignas(32) Endpoint {
  uint32_t owner = 0;
  uint32_t remote = 0;
  bool open = false;      // owner's core knows this connection
  bool closed = false;    // closed for good (no more traffic)
  uint32_t serial = 0;    // the connection's, counted from 0 in order of dialing
  core::Duration latency;
  // Uploads in flight from this end, oldest first: a list threaded through
  // FlowInfo, so finishing a block needs no search and no allocation.
  FlowId first_flow = kNoFlow;
  FlowId last_flow = kNoFlow;
};

struct Node {
  std::unique_ptr<core::Peer> peer;
  PeerPlan plan;
  bool present = false;  // joined and not yet gone
  bool gone = false;
  Time timer_at = Time::Never();
  core::Bitfield verified;  // pieces we told the core verified
  // Blocks whose stored copy came from a polluter, by TaintSlot: a piece
  // holding one fails verification. Per block, not per piece: the core may
  // throw a piece's blocks away before it is complete (a parole piece taken
  // over by another peer) and store them again from someone else, which
  // overwrites them. Sized only when the scenario has polluters.
  core::Bitfield tainted;
  std::vector<uint32_t> endpoints;
};

// A flow whose block has just been sent, kept while the sender's actions
// are carried out so that its next block on the same connection can reuse
// it (FlowNetwork::Restart).
struct RetiringFlow {
  uint32_t endpoint = kNone;
  FlowId flow = kNoFlow;
};

struct alignas(32) FlowInfo {  // 28 bytes; aligned as Endpoint
  uint32_t endpoint = 0;  // sender's end
  uint32_t sender = 0;    // its owner (saves PrefetchAhead a hop)
  core::BlockRef block;
  FlowId prev = kNoFlow, next = kNoFlow;  // the endpoint's list
};

}  // namespace

class Simulation::Impl {
 public:
  Impl(const Scenario& s, SimOptions o);
  RunResult Run();

 private:
  // Event handlers.
  void Dispatch(const Event& e);
  void Join(uint32_t p);
  void OnTimer(uint32_t p, Time at);
  void Deliver(uint32_t ep, const core::Message& m);
  void PieceArrive(uint32_t ep, const core::BlockRef& b);
  void FlowDone(FlowId f, uint64_t gen);
  void ConnectArrive(uint32_t ep);
  void ConnectDone(uint32_t ep);
  void DisconnectArrive(uint32_t ep);
  void AnnounceArrive(uint32_t p, uint64_t slot);
  void AnnounceReply(uint32_t p, uint64_t slot);
  void Verify(uint32_t p, core::PieceIndex piece);
  void Leave(uint32_t p);
  void Fail(uint32_t p);
  void Sample();

  // Carrying out a peer's actions.
  void Drain(uint32_t p);
  void DoSend(uint32_t p, core::SendMessage& a);
  void DoSendBlock(uint32_t p, const core::SendBlock& a);
  void DoConnect(uint32_t p, const core::Connect& a);
  void DoDisconnect(uint32_t p, const core::Disconnect& a);
  void DoAnnounce(uint32_t p, const core::Announce& a);
  void DoCompleted(uint32_t p);
  void DoStore(uint32_t p, const core::StoreBlock& a);
  // Index in Node::tainted of the block of `piece` at `offset`.
  uint32_t TaintSlot(uint32_t piece, uint32_t offset) const;
  void ArmTimer(uint32_t p);
  void PrefetchAhead() const;
  uint32_t PeerOf(const Event& e) const;
  uint32_t ConnectionOf(const Event& e) const;
  // An upcoming event's peer and connection (PeerOf, ConnectionOf), worked
  // out once by the pipeline's stage that first can (three events ahead)
  // and kept, by the event's sequence number, for the stages after it.
  struct Ahead {
    uint64_t seq = ~uint64_t{0};
    uint32_t peer = kNone;
    uint32_t conn = kNone;
  };
  static constexpr size_t kAheadSlots = 64;  // a power of two
  Ahead& AheadSlot(const Event& e) const { return ahead_[e.seq & (kAheadSlots - 1)]; }
  // What the slot holds for `e`, or the same worked out again when a later
  // event took the slot (or a push put `e` in the pipeline after stage 3).
  Ahead AheadOf(const Event& e) const {
    const Ahead& a = AheadSlot(e);
    if (a.seq == e.seq) return a;
    return Ahead{e.seq, PeerOf(e), ConnectionOf(e)};
  }
  void ArmTrackerTimer();

  // Helpers.
  void CloseEndpoint(uint32_t ep);
  // Notes that the connection of `ep` has just closed at both ends.
  void PairClosed(uint32_t ep);
  // The id the owner's core knows endpoint `ep` by, and the number a trace
  // gives it (the endpoint's index had slots never been reused).
  core::ConnectionId ConnId(uint32_t ep) const {
    return core::ConnectionId(uint64_t{endpoints_[ep].serial} << 32 | ep);
  }
  uint64_t TraceConn(uint32_t ep) const {
    return uint64_t{endpoints_[ep].serial} * 2 + (ep & 1);
  }
  void AbortFlows(uint32_t ep);
  void LinkFlow(Endpoint& e, FlowId f);
  void UnlinkFlow(Endpoint& e, FlowId f);
  void RemovePeer(uint32_t p);
  void AddUploadCapacity(double bytes_per_second);
  double UploadCapacityIntegral() const;
  void Reallocate();
  // Checked runs: rate caps against the scenario (sim/cap_check.h).
  void CheckHostRates();
  void CheckAllHostRates();
  void NoteHostRates(uint32_t h, double up, double down);
  void NoteUtilization(double utilization);
  bool Finished() const;
  // Lost pieces (stop.all_complete only). Whether piece `i` has no source
  // left: none holds it, none that starts complete is still to join, and
  // nothing under way could still make a copy.
  bool Unsourced(uint32_t i) const {
    return sources_to_join_ == 0 && source_copies_[i] == 0 && in_transit_[i] == 0;
  }
  // Notes that piece `i` may just have lost its last source.
  void CheckLost(uint32_t i) {
    if (track_lost_ && Unsourced(i)) check_lost_ = true;
  }
  // Whether no leecher can complete any more; sets lost_pieces_.
  bool Hopeless();
  double ProgressFraction() const;
  double PayloadFraction() const;
  uint32_t StoreMessage(core::Message m);
  void Trace(uint32_t p, const char* what, const std::string& detail = "");
  std::string BlockText(const core::BlockRef& b) const;

  const Scenario& s_;
  SimOptions opt_;
  std::shared_ptr<const core::TorrentInfo> torrent_;  // shared by every peer
  std::vector<core::PeerConfig> class_config_;
  core::Tracker tracker_;
  Time tracker_timer_at_ = Time::Never();
  std::vector<Node> nodes_;
  // nodes_[p].peer.get(), or null before p joins: a dense array that stays
  // cached, so PrefetchAhead can reach a peer without touching its Node.
  std::vector<const core::Peer*> peer_of_;
  std::vector<uint32_t> peer_class_;
  LatencyModel latency_;
  FlowNetwork net_;
  std::vector<FlowInfo> flow_info_;
  RetiringFlow retiring_;
  struct Completion {  // a flow's new finish time, from Reallocate
    FlowId flow;
    uint64_t gen;
    Time finish;
  };
  std::vector<Completion> completions_;  // scratch, reused
  mutable std::array<Ahead, kAheadSlots> ahead_{};  // PrefetchAhead's notes
  std::vector<core::Action> actions_scratch_;
  std::vector<Endpoint> endpoints_;
  // Connections closed, as (time after which their slots may be reused,
  // the dialer's slot), oldest first. Every event that names an endpoint
  // is pushed one latency ahead, and none is pushed for a closed one but
  // the remote end's kDisconnectArrive: two latencies after the close no
  // event names the pair any more, and no core knows its id.
  std::deque<std::pair<Time, uint32_t>> closed_pairs_;
  uint32_t next_serial_ = 0;
  EventQueue queue_;
  std::vector<core::Message> messages_;
  std::vector<uint32_t> free_messages_;
  std::vector<core::AnnounceRequest> announces_;    // slots, reused
  std::vector<core::AnnounceResponse> responses_;   // slots, reused
  std::vector<uint32_t> free_announces_, free_responses_;
  std::vector<uint32_t> availability_;  // copies of each piece among present peers
  // What says whether a piece is lost for good (Lost), kept only with
  // stop.all_complete. A source is a peer whose uploads can make a good
  // copy: neither a free rider (uploads nothing) nor a polluter (its
  // blocks never verify).
  bool track_lost_ = false;
  bool check_lost_ = false;              // Hopeless() to be asked before the next event
  uint32_t lost_pieces_ = 0;             // Hopeless()'s count of unsourced pieces
  std::vector<uint32_t> source_copies_;  // verified copies among present sources
  // Blocks of each piece that have left their sender and not yet arrived
  // (kPieceArrive pending; they arrive even if the sender has gone), and
  // its checks pending (kVerify): either may still make a copy.
  std::vector<uint32_t> in_transit_;
  uint32_t sources_to_join_ = 0;  // source peers that start complete, not yet joined
  Time now_;
  uint32_t leechers_total_ = 0;
  uint32_t leechers_done_ = 0;  // completed, or left/failed before completing
  uint32_t completed_ = 0;
  double present_upload_cap_ = 0;
  // The integral of present_upload_cap_ over time (bytes) up to its last
  // change; and the integral and net_.BytesMoved() at the last timeline row.
  double cap_integral_ = 0;
  Time cap_changed_at_;
  double cap_integral_at_row_ = 0, moved_at_row_ = 0;
  bool polluters_ = false;  // some class has corrupt_uploads
  // CheckHostRates' marks: host_mark_[h] == host_epoch_ when h was checked
  // after this reallocation (sized in checked runs only).
  std::vector<uint32_t> host_mark_;
  uint32_t host_epoch_ = 0;
  RunResult result_;
};

Simulation::Impl::Impl(const Scenario& s, SimOptions o)
    : s_(s),
      opt_(std::move(o)),
      torrent_(std::make_shared<const core::TorrentInfo>(
          core::TorrentInfo::Synthetic(s.file.name, s.file.size, s.file.piece_size))),
      tracker_(s.TrackerConfig(), core::Rng::ForStream(s.seed, kTrackerStream)),
      latency_(s, {}) {
  std::vector<PeerPlan> plans = PlanWorkload(s);
  nodes_.resize(plans.size());
  peer_of_.assign(plans.size(), nullptr);
  peer_class_.resize(plans.size());
  result_.peers.resize(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    nodes_[i].plan = plans[i];
    peer_class_[i] = plans[i].class_index;
    const PeerClassSpec& c = s.peers[plans[i].class_index];
    result_.peers[i].class_index = plans[i].class_index;
    result_.peers[i].started_complete = c.start_complete;
    if (!c.start_complete) ++leechers_total_;
    polluters_ |= c.corrupt_uploads;
    if (c.start_complete && IsSource(c)) ++sources_to_join_;
  }
  latency_ = LatencyModel(s, peer_class_);
  for (const PeerClassSpec& c : s.peers) class_config_.push_back(s.PeerConfigFor(c));
  net_.Resize(plans.size());
  const double factor = opt_.link_capacity_factor;  // 1 but in tests of the checks
  for (size_t i = 0; i < plans.size(); ++i) {
    const PeerClassSpec& c = s.peers[plans[i].class_index];
    core::Rate up = c.upload, down = c.download;
    if (factor != 1) {
      up = core::Rate::BytesPerSecond(up.bytes_per_second() * factor);
      down = core::Rate::BytesPerSecond(down.bytes_per_second() * factor);
    }
    net_.SetCapacity(static_cast<uint32_t>(i), up, down);
  }
  if (opt_.check_invariants) host_mark_.assign(plans.size(), 0);
  availability_.assign(torrent_->piece_count(), 0);
  track_lost_ = s.stop.all_complete;
  if (track_lost_) {
    source_copies_.assign(torrent_->piece_count(), 0);
    in_transit_.assign(torrent_->piece_count(), 0);
  }
  tracker_.Publish(Time::Zero(), *torrent_);
  // Same-instant joins run seeds first, each group in a random order, not
  // in id order (JoinOrder).
  // Every join is pushed before any other event, so this order decides
  // only among joins at one instant.
  for (uint32_t p : JoinOrder(s, plans)) queue_.Push(plans[p].join, kJoin, p);
  queue_.Push(Time::Zero(), kSample);
}

// ---------------------------------------------------------------------------
// Main loop.

RunResult Simulation::Impl::Run() {
  auto wall_start = std::chrono::steady_clock::now();
  const Time stop_at = Time::Zero() + s_.stop.max_time;
  uint64_t events = 0;
  check_lost_ = track_lost_;  // a file no source holds at all
  while (!queue_.empty()) {
    if (queue_.TopTime() > now_ && net_.dirty()) {
      Reallocate();
      continue;
    }
    if (Finished()) {
      result_.stats.stop = StopReason::kLeechersDone;
      break;
    }
    if (check_lost_) {
      check_lost_ = false;
      if (Hopeless()) {
        result_.stats.stop = StopReason::kPiecesLost;
        result_.stats.lost_pieces = lost_pieces_;
        break;
      }
    }
    if (queue_.TopTime() > stop_at) {
      result_.stats.stop = StopReason::kMaxTime;
      now_ = stop_at;
      break;
    }
    Event e = queue_.Pop();
    SWARM_CHECK(e.time_us >= now_.micros());
    now_ = Time::FromMicros(e.time_us);
    if (opt_.sim_time_us) opt_.sim_time_us->store(e.time_us, std::memory_order_relaxed);
    PrefetchAhead();
    Dispatch(e);
    ++events;
    if (opt_.progress && (events & 0x3fff) == 0)
      opt_.progress(Progress{now_, leechers_done_, leechers_total_, events, ProgressFraction(),
                             PayloadFraction()});
  }
  Sample();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].peer) {
      const core::PeerStats& st = nodes_[i].peer->stats();
      result_.stats.core_uploaded += st.uploaded;
      result_.stats.core_downloaded += st.downloaded + st.wasted;
      result_.peers[i].pieces_failed = st.pieces_failed;
      result_.peers[i].peers_banned = st.peers_banned;
    }
  }
  // Pieces still travelling when the run stopped.
  while (!queue_.empty()) {
    Event e = queue_.Pop();
    if (e.kind == kPieceArrive) result_.stats.bytes_in_flight += e.d;
  }
  result_.stats.events = events;
  result_.stats.end_time = now_;
  result_.stats.connections = next_serial_;
  result_.stats.endpoint_slots = endpoints_.size();
  result_.stats.flows_solved = net_.solved_flows();
  if (opt_.check_invariants) {
    const CapVolumeCheck v = CheckCapVolumes(s_, result_);
    result_.stats.volume_violations = v.violations;
    result_.stats.worst_volume_share = v.worst_share;
  }
  result_.stats.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return std::move(result_);
}

// Every event touches one peer whose state has usually left the cache
// since its last event (a run's working set is far larger than the cache),
// and the handler then stalls on a chain of dependent misses: endpoint or
// flow record -> peer -> connection index -> connection -> the connection's
// arrays. The next few events are already known (EventQueue::Peek), so walk
// that chain ahead of time, one link per event: the record of the event
// four places ahead, the peer of the one three ahead, its connection index
// two ahead, its connection one ahead, and the array the next event reads
// first (its request list, upload queue or the neighbour's bitfield).
// The stage three ahead notes the event's peer and connection (ahead_), so
// the stages after it do not look them up again.
// What an upcoming event is for its peer's core, for the prefetch hints.
static core::Peer::Upcoming UpcomingOf(const Event& e) {
  using core::Peer;
  switch (e.kind) {
    case kDeliverInline:
      if (e.c == IndexOf<core::Have>()) return Peer::Upcoming::kHave;
      if (e.c == IndexOf<core::Request>()) return Peer::Upcoming::kRequest;
      return Peer::Upcoming::kOther;
    case kPieceArrive: return Peer::Upcoming::kPiece;
    case kFlowDone: return Peer::Upcoming::kBlockSent;
    default: return Peer::Upcoming::kOther;
  }
}

void Simulation::Impl::PrefetchAhead() const {
  if (const Event* e = queue_.Peek(4)) {
    switch (e->kind) {
      case kDeliver:
      case kDeliverInline:
      case kPieceArrive: __builtin_prefetch(&endpoints_[e->a]); break;
      case kFlowDone:
        __builtin_prefetch(&flow_info_[e->a]);
        net_.Prefetch(e->a);
        break;
      default: break;
    }
  }
  if (const Event* e = queue_.Peek(3)) {
    const uint32_t p = PeerOf(*e);
    AheadSlot(*e) = Ahead{e->seq, p, p != kNone ? ConnectionOf(*e) : kNone};
    if (p != kNone && peer_of_[p]) {
      peer_of_[p]->PrefetchState();
      __builtin_prefetch(&nodes_[p].present);
      if (e->kind == kFlowDone) {
        __builtin_prefetch(&endpoints_[flow_info_[e->a].endpoint]);
        __builtin_prefetch(&nodes_[p].verified);
        __builtin_prefetch(&result_.peers[p].uploaded);  // counted by FlowDone
      } else if (e->kind == kPieceArrive) {
        __builtin_prefetch(&result_.peers[p].downloaded);  // counted by PieceArrive
      }
    }
  }
  if (const Event* e = queue_.Peek(2)) {
    const Ahead ahead = AheadOf(*e);
    const uint32_t p = ahead.peer;
    if (p != kNone && peer_of_[p]) {
      const uint32_t c = ahead.conn;
      if (c != kNone) peer_of_[p]->PrefetchIndex(ConnId(c));
      if (e->kind == kFlowDone) __builtin_prefetch(nodes_[p].verified.words().data());
      // A finished upload pushes the block's arrival, and an arriving block
      // nearly always the next request, one latency of this connection
      // after the event: the bucket that push appends to is known now.
      if (c != kNone && (e->kind == kFlowDone || e->kind == kPieceArrive)) {
        queue_.PrefetchBucket(Time::FromMicros(e->time_us) + endpoints_[c].latency);
      }
    }
  }
  if (const Event* e = queue_.Peek(1)) {
    const Ahead ahead = AheadOf(*e);
    const uint32_t p = ahead.peer;
    if (p != kNone && peer_of_[p]) {
      const uint32_t c = ahead.conn;
      // Each input reads its own runs of the connection's lines.
      if (c != kNone) peer_of_[p]->PrefetchConnection(ConnId(c), UpcomingOf(*e));
      if (c != kNone && (e->kind == kFlowDone || e->kind == kPieceArrive)) {
        queue_.PrefetchBucketEnd(Time::FromMicros(e->time_us) + endpoints_[c].latency);
      }
    }
  }
  if (const Event* e = queue_.Peek(0)) {
    const Ahead ahead = AheadOf(*e);
    const uint32_t p = ahead.peer;
    if (p != kNone && peer_of_[p]) {
      const uint32_t c = ahead.conn;
      if (c != kNone) {
        core::BlockRef b{core::PieceIndex(static_cast<uint32_t>(e->b)),
                         static_cast<uint32_t>(e->b >> 32), e->d};
        if (e->kind == kPieceArrive) {
          b = core::BlockRef{core::PieceIndex(static_cast<uint32_t>(e->b)), e->c, e->d};
        } else if (e->kind == kFlowDone) {
          b = flow_info_[e->a].block;
        }
        peer_of_[p]->PrefetchConnectionData(ConnId(c), UpcomingOf(*e), b);
      }
    }
  }
}

// The peer an event is for, or kNone (only the kinds PrefetchAhead follows).
uint32_t Simulation::Impl::PeerOf(const Event& e) const {
  switch (e.kind) {
    case kDeliver:
    case kDeliverInline:
    case kPieceArrive: return e.a < endpoints_.size() ? endpoints_[e.a].owner : kNone;
    case kFlowDone: return e.a < flow_info_.size() ? flow_info_[e.a].sender : kNone;
    case kTimer:
    case kVerify: return e.a;
    default: return kNone;
  }
}

// The connection (the receiver's or sender's endpoint) an event is for, or
// kNone.
uint32_t Simulation::Impl::ConnectionOf(const Event& e) const {
  switch (e.kind) {
    case kDeliver:
    case kDeliverInline:
    case kPieceArrive: return e.a;
    case kFlowDone: return e.a < flow_info_.size() ? flow_info_[e.a].endpoint : kNone;
    default: return kNone;
  }
}

bool Simulation::Impl::Finished() const {
  return s_.stop.all_complete && leechers_done_ == leechers_total_;
}

// No leecher can complete any more when some pieces are unsourced (no
// source holds them, none is still to join -- a peer that leaves never
// comes back, and one that joins starts afresh -- and no block of them is
// travelling nor a check pending: blocks already sent arrive even after
// their sender left) and no present, incomplete non-source (a free rider
// or polluter still downloading) holds all of them. A peer lacking an
// unsourced piece lacks it for good; every source present lacks them all,
// so does every peer still to join, and each incomplete non-source lacks
// one of them. Such a peer holding all of them could still complete: it
// needs only pieces that have a source.
bool Simulation::Impl::Hopeless() {
  std::vector<uint32_t> unsourced;
  for (uint32_t i = 0; i < torrent_->piece_count(); ++i) {
    if (Unsourced(i)) unsourced.push_back(i);
  }
  if (unsourced.empty()) return false;
  for (size_t p = 0; p < nodes_.size(); ++p) {
    const Node& n = nodes_[p];
    if (!n.present || result_.peers[p].completion) continue;
    const PeerClassSpec& c = s_.peers[n.plan.class_index];
    if (c.start_complete || IsSource(c)) continue;
    if (std::all_of(unsourced.begin(), unsourced.end(),
                    [&](uint32_t i) { return n.verified.Test(i); })) {
      return false;
    }
  }
  lost_pieces_ = static_cast<uint32_t>(unsourced.size());
  return true;
}

double Simulation::Impl::PayloadFraction() const {
  double want = static_cast<double>(leechers_total_) * static_cast<double>(s_.file.size);
  return want > 0 ? std::min(1.0, result_.stats.bytes_delivered / want) : 0;
}

double Simulation::Impl::ProgressFraction() const {
  double time = now_.seconds() / s_.stop.max_time.seconds();
  return std::min(1.0, std::max(PayloadFraction(), time));
}

void Simulation::Impl::Reallocate() {
  // The completions are collected first and pushed in the same order, so
  // that each push's bucket can be fetched ahead of it: its header eight
  // pushes ahead, then (the header read) its end four ahead.
  completions_.clear();
  net_.Reallocate(now_, [this](FlowId f, uint64_t gen, Time finish) {
    if (finish != Time::Never()) completions_.push_back(Completion{f, gen, finish});
  });
  const size_t n = completions_.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + 8 < n) queue_.PrefetchBucket(completions_[i + 8].finish);
    if (i + 4 < n) queue_.PrefetchBucketEnd(completions_[i + 4].finish);
    const Completion& c = completions_[i];
    queue_.Push(c.finish, kFlowDone, c.flow, c.gen);
  }
  if (opt_.check_invariants) {
    result_.stats.cap_violations += net_.CheckCapsOfLastRegion();
    CheckHostRates();
  }
}

// After a reallocation: each host of a re-solved flow, its links' loads
// against its class's capacities. Only those flows changed rate, and a flow
// started or removed since the last reallocation is among them or only
// lowered a load, so this checks every host at every instant (as
// CheckCapsOfLastRegion does for links against their own capacities). The
// loads are the network model's sums over its links, which the solver has
// just touched: cheap.
void Simulation::Impl::CheckHostRates() {
  ++host_epoch_;
  for (FlowId f : net_.last_region()) {
    if (!net_.active(f)) continue;
    for (uint32_t h : {net_.src(f), net_.dst(f)}) {
      if (host_mark_[h] == host_epoch_) continue;
      host_mark_[h] = host_epoch_;
      NoteHostRates(h, net_.UploadRate(h), net_.DownloadRate(h));
    }
  }
}

// At every timeline sample: every present host's rates summed from the
// engine's own record of its connections (the flows each of its endpoints
// uploads, and those its remote ends upload to it), not from the network
// model's links, so a flow counted on the wrong link shows too. A walk
// over every connection of every peer: once per sample, not per
// reallocation, where summing a host's connections instead of its links
// made a checked run of v2_steady_state (cut at 1200 s) execute 4.6 % more
// instructions than without any of these checks, against 1.6 % now
// (callgrind: 9.22 G and 8.96 G against 8.82 G).
void Simulation::Impl::CheckAllHostRates() {
  for (uint32_t h = 0; h < nodes_.size(); ++h) {
    if (!nodes_[h].present) continue;
    double up = 0, down = 0;
    for (uint32_t ep : nodes_[h].endpoints) {
      for (FlowId f = endpoints_[ep].first_flow; f != kNoFlow; f = flow_info_[f].next)
        up += net_.rate(f);
      for (FlowId f = endpoints_[endpoints_[ep].remote].first_flow; f != kNoFlow;
           f = flow_info_[f].next)
        down += net_.rate(f);
    }
    NoteHostRates(h, up, down);
  }
}

void Simulation::Impl::NoteHostRates(uint32_t h, double up, double down) {
  const PeerClassSpec& c = s_.peers[peer_class_[h]];
  RunStats& st = result_.stats;
  st.host_rate_violations += OverCap(up, c.upload) + OverCap(down, c.download);
  st.worst_host_rate_share = std::max(
      {st.worst_host_rate_share, CapShare(up, c.upload), CapShare(down, c.download)});
}

void Simulation::Impl::NoteUtilization(double utilization) {
  RunStats& st = result_.stats;
  if (utilization > 1 + 1e-6) ++st.utilization_violations;
  st.max_upload_utilization = std::max(st.max_upload_utilization, utilization);
}

void Simulation::Impl::Dispatch(const Event& e) {
  switch (e.kind) {
    case kJoin: Join(e.a); break;
    case kTimer: OnTimer(e.a, Time::FromMicros(e.time_us)); break;
    case kTrackerTimer:
      if (Time::FromMicros(e.time_us) == tracker_timer_at_) {
        tracker_timer_at_ = Time::Never();
        tracker_.OnTimeout(now_);
        ArmTrackerTimer();
      }
      break;
    case kDeliver: {
      core::Message m = std::move(messages_[e.b]);
      free_messages_.push_back(static_cast<uint32_t>(e.b));
      Deliver(e.a, m);
      break;
    }
    case kDeliverInline: Deliver(e.a, UnpackInline(e.c, e.b, e.d)); break;
    case kPieceArrive:
      PieceArrive(e.a, core::BlockRef{core::PieceIndex(static_cast<uint32_t>(e.b)), e.c, e.d});
      // Counted down after the handler: the block may have completed the
      // piece, whose check (kVerify) is now pending.
      if (track_lost_ && --in_transit_[static_cast<uint32_t>(e.b)] == 0)
        CheckLost(static_cast<uint32_t>(e.b));
      break;
    case kFlowDone: FlowDone(e.a, e.b); break;
    case kConnectArrive: ConnectArrive(e.a); break;
    case kConnectDone: ConnectDone(e.a); break;
    case kConnectFail:
      if (nodes_[e.a].present) {
        Trace(e.a, "connect_failed", "peer=" + std::to_string(e.b));
        nodes_[e.a].peer->OnConnectFailed(now_, core::PeerId(e.b));
        Drain(e.a);
      }
      break;
    case kDisconnectArrive: DisconnectArrive(e.a); break;
    case kAnnounceArrive: AnnounceArrive(e.a, e.b); break;
    case kAnnounceReply: AnnounceReply(e.a, e.b); break;
    case kVerify:
      Verify(e.a, core::PieceIndex(static_cast<uint32_t>(e.b)));
      if (track_lost_ && --in_transit_[static_cast<uint32_t>(e.b)] == 0)
        CheckLost(static_cast<uint32_t>(e.b));
      break;
    case kLeave: Leave(e.a); break;
    case kFail: Fail(e.a); break;
    case kSample:
      Sample();
      queue_.PushAfter(now_, s_.sample_interval, kSample);
      break;
    default: SWARM_CHECK(false);
  }
}

// ---------------------------------------------------------------------------
// Peer lifecycle.

void Simulation::Impl::Join(uint32_t p) {
  Node& n = nodes_[p];
  const PeerClassSpec& c = s_.peers[n.plan.class_index];
  n.peer = std::make_unique<core::Peer>(core::PeerId(p), torrent_,
                                        class_config_[n.plan.class_index],
                                        core::Rng::ForStream(s_.seed, p));
  peer_of_[p] = n.peer.get();
  n.present = true;
  n.verified = core::Bitfield(torrent_->piece_count(), c.start_complete);
  if (polluters_) {
    n.tainted = core::Bitfield(TaintSlot(torrent_->piece_count(), 0));
  }
  if (c.start_complete) {
    for (uint32_t& a : availability_) ++a;
    if (track_lost_ && IsSource(c)) {
      for (uint32_t& a : source_copies_) ++a;
      --sources_to_join_;
    }
  }
  AddUploadCapacity(c.upload.bytes_per_second());
  result_.peers[p].join = now_;
  if (n.plan.leave_at != Time::Never()) queue_.Push(std::max(now_, n.plan.leave_at), kLeave, p);
  // A peer that starts complete completed at its join: `after_complete`
  // counts from there.
  if (c.start_complete && n.plan.seeding_time != core::Duration::Infinite())
    queue_.Push(now_ + n.plan.seeding_time, kLeave, p);
  if (n.plan.fail_at != Time::Never()) queue_.Push(n.plan.fail_at, kFail, p);
  Trace(p, "join", c.start_complete ? "seed" : "leecher");
  n.peer->OnStart(now_, c.start_complete);
  Drain(p);
}

void Simulation::Impl::Leave(uint32_t p) {
  Node& n = nodes_[p];
  if (!n.present) return;
  Trace(p, "leave");
  n.peer->OnStop(now_);
  Drain(p);
  RemovePeer(p);
}

void Simulation::Impl::Fail(uint32_t p) {
  Node& n = nodes_[p];
  if (!n.present) return;
  Trace(p, "fail");
  result_.peers[p].failed = true;
  RemovePeer(p);
}

// The peer is gone: its connections die (remote ends learn one latency
// later), its pieces no longer count towards availability.
void Simulation::Impl::RemovePeer(uint32_t p) {
  Node& n = nodes_[p];
  for (uint32_t ep : n.endpoints) {
    Endpoint& e = endpoints_[ep];
    if (e.closed) continue;
    CloseEndpoint(ep);
    queue_.PushAfter(now_, e.latency, kDisconnectArrive, e.remote);
  }
  n.endpoints.clear();
  n.endpoints.shrink_to_fit();
  const PeerClassSpec& c = s_.peers[n.plan.class_index];
  // An incomplete non-source leaving may have held the only copies.
  if (track_lost_ && !IsSource(c) && !c.start_complete && !result_.peers[p].completion)
    check_lost_ = true;
  for (uint32_t i = 0; i < torrent_->piece_count(); ++i) {
    if (!n.verified.Test(i)) continue;
    --availability_[i];
    if (track_lost_) {
      if (IsSource(c)) --source_copies_[i];
      CheckLost(i);
    }
  }
  AddUploadCapacity(-s_.peers[n.plan.class_index].upload.bytes_per_second());
  n.present = false;
  n.gone = true;
  result_.peers[p].leave = now_;
  if (!s_.peers[n.plan.class_index].start_complete && !result_.peers[p].completion)
    ++leechers_done_;
  // Keep the core object for its final statistics; it receives no input.
}

// Changes the upload capacity of the peers present, closing the piece of
// its integral that ends now.
void Simulation::Impl::AddUploadCapacity(double bytes_per_second) {
  cap_integral_ = UploadCapacityIntegral();
  cap_changed_at_ = now_;
  present_upload_cap_ += bytes_per_second;
}

double Simulation::Impl::UploadCapacityIntegral() const {
  return cap_integral_ + present_upload_cap_ * (now_ - cap_changed_at_).seconds();
}

void Simulation::Impl::OnTimer(uint32_t p, Time at) {
  Node& n = nodes_[p];
  if (!n.present || at != n.timer_at) return;
  n.timer_at = Time::Never();
  if (n.peer->NextDeadline() <= now_) {
    n.peer->OnTimeout(now_);
    Drain(p);
  } else {
    ArmTimer(p);
  }
}

void Simulation::Impl::ArmTimer(uint32_t p) {
  Node& n = nodes_[p];
  // NextDeadline, not NextTimeout: no optional on this path (see there).
  const Time next = n.peer->NextDeadline();
  if (next >= n.timer_at) return;
  n.timer_at = std::max(next, now_);
  queue_.Push(n.timer_at, kTimer, p);
}

void Simulation::Impl::ArmTrackerTimer() {
  auto next = tracker_.NextTimeout();
  if (!next || *next >= tracker_timer_at_) return;
  tracker_timer_at_ = std::max(*next, now_);
  queue_.Push(tracker_timer_at_, kTrackerTimer);
}

// ---------------------------------------------------------------------------
// Actions.

void Simulation::Impl::Drain(uint32_t p) {
  // Carrying out actions never drains another peer, so one buffer serves all.
  std::vector<core::Action>& actions = actions_scratch_;
  nodes_[p].peer->TakeActions(actions);
  // A piece verified sends a Have to every neighbour, each to a cold
  // endpoint and then to a cold place in the bucket of its arrival time.
  // Walk that chain ahead of the sends, one link per three actions: the
  // endpoint nine actions ahead, the bucket's header six ahead (its time
  // needs the endpoint's latency), the bucket's end three ahead.
  const size_t n = actions.size();
  const auto endpoint_of = [&](size_t i) -> const Endpoint* {
    if (const auto* m = std::get_if<core::SendMessage>(&actions[i])) {
      const uint32_t ep = static_cast<uint32_t>(m->conn.value());  // the slot (ConnId)
      if (ep < endpoints_.size()) return &endpoints_[ep];
    }
    return nullptr;
  };
  constexpr size_t kStep = 3;
  if (n > 2) {
    for (size_t i = 0; i < std::min(n, 3 * kStep); ++i) {
      if (const Endpoint* e = endpoint_of(i)) __builtin_prefetch(e);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (n > 2) {
      if (i + 3 * kStep < n) {
        if (const Endpoint* e = endpoint_of(i + 3 * kStep)) __builtin_prefetch(e);
      }
      if (i + 2 * kStep < n) {
        if (const Endpoint* e = endpoint_of(i + 2 * kStep)) queue_.PrefetchBucket(now_ + e->latency);
      }
      if (i + kStep < n) {
        if (const Endpoint* e = endpoint_of(i + kStep)) queue_.PrefetchBucketEnd(now_ + e->latency);
      }
    }
    core::Action& a = actions[i];
    std::visit(Overloaded{
                   [&](core::SendMessage& m) { DoSend(p, m); },
                   [&](core::SendBlock& m) { DoSendBlock(p, m); },
                   [&](core::StoreBlock& m) { DoStore(p, m); },
                   [&](core::VerifyPiece& m) {
                     queue_.PushAfter(now_, core::Duration::Zero(), kVerify, p, m.piece.value());
                     if (track_lost_) ++in_transit_[m.piece.value()];
                   },
                   [&](core::Connect& m) { DoConnect(p, m); },
                   [&](core::Disconnect& m) { DoDisconnect(p, m); },
                   [&](core::Announce& m) { DoAnnounce(p, m); },
                   [&](core::Completed&) { DoCompleted(p); },
               },
               a);
  }
  if (nodes_[p].present) ArmTimer(p);
  if (opt_.check_invariants && nodes_[p].peer->IdleConnections() > 0) {
    ++result_.stats.idle_violations;
  }
}

// The model has no payload bytes: a block "is corrupt" when it came from a
// polluter, and the piece it joins fails its check (Verify).
void Simulation::Impl::DoStore(uint32_t p, const core::StoreBlock& a) {
  if (!polluters_) return;
  const Endpoint& e = endpoints_[static_cast<uint32_t>(a.conn.value())];
  const uint32_t sender = endpoints_[e.remote].owner;
  const uint32_t slot = TaintSlot(a.block.piece.value(), a.block.offset);
  if (s_.peers[peer_class_[sender]].corrupt_uploads) {
    nodes_[p].tainted.Set(slot);
  } else {
    nodes_[p].tainted.Clear(slot);  // an honest copy over a discarded one
  }
}

uint32_t Simulation::Impl::TaintSlot(uint32_t piece, uint32_t offset) const {
  const core::Bytes per_piece = torrent_->piece_length() / s_.file.block_size;
  return static_cast<uint32_t>(piece * per_piece + offset / s_.file.block_size);
}

uint32_t Simulation::Impl::StoreMessage(core::Message m) {
  return Store(messages_, free_messages_, std::move(m));
}

void Simulation::Impl::DoSend(uint32_t p, core::SendMessage& a) {
  uint32_t ep = static_cast<uint32_t>(a.conn.value());
  SWARM_CHECK(ep < endpoints_.size() && endpoints_[ep].owner == p && ConnId(ep) == a.conn);
  const Endpoint& e = endpoints_[ep];
  if (e.closed) return;
  uint32_t type, d;
  uint64_t b;
  if (PackInline(a.message, &type, &b, &d)) {
    queue_.PushAfter(now_, e.latency, kDeliverInline, e.remote, b, type, d);
  } else {
    queue_.PushAfter(now_, e.latency, kDeliver, e.remote, StoreMessage(std::move(a.message)));
  }
}

void Simulation::Impl::DoSendBlock(uint32_t p, const core::SendBlock& a) {
  uint32_t ep = static_cast<uint32_t>(a.conn.value());
  SWARM_CHECK(ep < endpoints_.size() && endpoints_[ep].owner == p && ConnId(ep) == a.conn);
  Endpoint& e = endpoints_[ep];
  if (!nodes_[p].verified.Test(a.block.piece.value())) ++result_.stats.causality_violations;
  if (e.closed || endpoints_[e.remote].closed) return;
  if (opt_.trace) Trace(p, "upload", "conn=" + std::to_string(TraceConn(ep)) + " " + BlockText(a.block));
  double bytes = static_cast<double>(core::WireSize(core::Piece{a.block}));
  FlowId f;
  if (retiring_.endpoint == ep && retiring_.flow != kNoFlow) {
    f = retiring_.flow;
    retiring_.flow = kNoFlow;
    Time finish = net_.Restart(now_, f, bytes, ep);
    if (finish != Time::Never()) queue_.Push(finish, kFlowDone, f, net_.generation(f));
  } else {
    f = net_.Start(now_, p, endpoints_[e.remote].owner, bytes, ep);
  }
  if (f >= flow_info_.size()) flow_info_.resize(f + 1);
  flow_info_[f] = FlowInfo{ep, p, a.block};
  LinkFlow(e, f);
}

void Simulation::Impl::DoConnect(uint32_t p, const core::Connect& a) {
  uint64_t target = a.address.id.value();
  SWARM_CHECK(target < nodes_.size() && target != p);
  core::Duration l = latency_.Between(p, static_cast<uint32_t>(target));
  Trace(p, "connect", "peer=" + std::to_string(target));
  // An absent peer, or one that accepts no connections: the dial fails
  // after a round trip, as if refused.
  if (!nodes_[target].present || !s_.peers[peer_class_[target]].connectable) {
    queue_.PushAfter(now_, l * 2, kConnectFail, p, target);
    return;
  }
  SWARM_CHECK(next_serial_ < UINT32_MAX);
  const uint32_t serial = next_serial_++;
  const Endpoint dialer{p, 0, false, false, serial, l};
  const Endpoint acceptor{static_cast<uint32_t>(target), 0, false, false, serial, l};
  uint32_t mine;
  if (!closed_pairs_.empty() && closed_pairs_.front().first < now_) {
    mine = closed_pairs_.front().second;
    closed_pairs_.pop_front();
    // Their owners' lists of endpoints forget the old connection.
    for (uint32_t ep : {mine, mine + 1}) {
      std::vector<uint32_t>& list = nodes_[endpoints_[ep].owner].endpoints;
      auto it = std::find(list.begin(), list.end(), ep);
      if (it != list.end()) list.erase(it);
    }
    endpoints_[mine] = dialer;
    endpoints_[mine + 1] = acceptor;
  } else {
    mine = static_cast<uint32_t>(endpoints_.size());
    endpoints_.push_back(dialer);
    endpoints_.push_back(acceptor);
  }
  endpoints_[mine].remote = mine + 1;
  endpoints_[mine + 1].remote = mine;
  nodes_[p].endpoints.push_back(mine);
  queue_.PushAfter(now_, l, kConnectArrive, mine + 1);
}

void Simulation::Impl::ConnectArrive(uint32_t ep) {
  Endpoint& e = endpoints_[ep];
  Endpoint& dialer = endpoints_[e.remote];
  if (!nodes_[e.owner].present || dialer.closed) {
    if (!dialer.closed) PairClosed(ep);  // else the dialer's leaving closed it
    e.closed = true;
    queue_.PushAfter(now_, e.latency, kConnectFail, dialer.owner, e.owner);
    dialer.closed = true;
    return;
  }
  nodes_[e.owner].endpoints.push_back(ep);
  e.open = true;
  queue_.PushAfter(now_, e.latency, kConnectDone, e.remote);
  Trace(e.owner, "accept",
        "conn=" + std::to_string(TraceConn(ep)) + " peer=" + std::to_string(dialer.owner));
  nodes_[e.owner].peer->OnConnected(now_, ConnId(ep), core::Direction::kInbound,
                                    std::nullopt);
  Drain(e.owner);
}

void Simulation::Impl::ConnectDone(uint32_t ep) {
  Endpoint& e = endpoints_[ep];
  if (!nodes_[e.owner].present) return;
  uint32_t target = endpoints_[e.remote].owner;
  if (e.closed) {  // the acceptor vanished while we were connecting
    nodes_[e.owner].peer->OnConnectFailed(now_, core::PeerId(target));
    Drain(e.owner);
    return;
  }
  e.open = true;
  uint32_t remote_peer = endpoints_[e.remote].owner;
  Trace(e.owner, "connected",
        "conn=" + std::to_string(TraceConn(ep)) + " peer=" + std::to_string(remote_peer));
  nodes_[e.owner].peer->OnConnected(now_, ConnId(ep), core::Direction::kOutbound,
                                    core::PeerId(remote_peer));
  Drain(e.owner);
}

void Simulation::Impl::DoDisconnect(uint32_t p, const core::Disconnect& a) {
  uint32_t ep = static_cast<uint32_t>(a.conn.value());
  SWARM_CHECK(ep < endpoints_.size() && endpoints_[ep].owner == p && ConnId(ep) == a.conn);
  Endpoint& e = endpoints_[ep];
  Trace(p, "disconnect", "conn=" + std::to_string(TraceConn(ep)) + " reason=" +
                             std::string(core::DisconnectReasonName(a.reason)));
  e.open = false;  // the core already forgot it
  if (e.closed) return;
  CloseEndpoint(ep);
  queue_.PushAfter(now_, e.latency, kDisconnectArrive, e.remote);
}

// Closes `ep` and its remote end for data: flows both ways are aborted.
void Simulation::Impl::CloseEndpoint(uint32_t ep) {
  Endpoint& e = endpoints_[ep];
  PairClosed(ep);
  e.closed = true;
  AbortFlows(ep);
  endpoints_[e.remote].closed = true;
  AbortFlows(e.remote);
}

void Simulation::Impl::PairClosed(uint32_t ep) {
  const Endpoint& e = endpoints_[ep];
  SWARM_CHECK(!e.closed && !endpoints_[e.remote].closed);
  closed_pairs_.emplace_back(now_ + e.latency * 2, ep & ~1u);
}

void Simulation::Impl::LinkFlow(Endpoint& e, FlowId f) {
  FlowInfo& info = flow_info_[f];
  info.prev = e.last_flow;
  info.next = kNoFlow;
  if (e.last_flow != kNoFlow) {
    flow_info_[e.last_flow].next = f;
  } else {
    e.first_flow = f;
  }
  e.last_flow = f;
}

void Simulation::Impl::UnlinkFlow(Endpoint& e, FlowId f) {
  FlowInfo& info = flow_info_[f];
  if (info.prev != kNoFlow) {
    flow_info_[info.prev].next = info.next;
  } else {
    SWARM_CHECK(e.first_flow == f);
    e.first_flow = info.next;
  }
  if (info.next != kNoFlow) {
    flow_info_[info.next].prev = info.prev;
  } else {
    e.last_flow = info.prev;
  }
  info.prev = info.next = kNoFlow;
}

void Simulation::Impl::AbortFlows(uint32_t ep) {
  Endpoint& e = endpoints_[ep];
  for (FlowId f = e.first_flow; f != kNoFlow; f = flow_info_[f].next) {
    net_.Remove(now_, f);
    ++result_.stats.flows_aborted;
  }
  e.first_flow = e.last_flow = kNoFlow;
}

void Simulation::Impl::DisconnectArrive(uint32_t ep) {
  Endpoint& e = endpoints_[ep];
  if (!e.open) return;
  e.open = false;
  e.closed = true;
  if (!nodes_[e.owner].present) return;
  Trace(e.owner, "disconnected", "conn=" + std::to_string(TraceConn(ep)));
  nodes_[e.owner].peer->OnDisconnected(now_, ConnId(ep));
  Drain(e.owner);
}

void Simulation::Impl::DoAnnounce(uint32_t p, const core::Announce& a) {
  core::AnnounceRequest r;
  r.info_hash = torrent_->info_hash();
  r.peer = core::PeerAddress{core::PeerId(p), ""};
  r.event = a.event;
  r.uploaded = a.uploaded;
  r.downloaded = a.downloaded;
  r.left = a.left;
  r.numwant = a.numwant;
  Trace(p, "announce", std::string(core::AnnounceEventName(a.event)));
  queue_.PushAfter(now_, s_.tracker.latency, kAnnounceArrive, p,
              Store(announces_, free_announces_, std::move(r)));
}

void Simulation::Impl::AnnounceArrive(uint32_t p, uint64_t slot) {
  core::AnnounceResponse resp = tracker_.Announce(now_, announces_[slot]);
  ArmTrackerTimer();
  announces_[slot] = {};
  free_announces_.push_back(static_cast<uint32_t>(slot));
  queue_.PushAfter(now_, s_.tracker.latency, kAnnounceReply, p,
              Store(responses_, free_responses_, std::move(resp)));
}

void Simulation::Impl::AnnounceReply(uint32_t p, uint64_t slot) {
  core::AnnounceResponse resp = std::move(responses_[slot]);
  responses_[slot] = {};
  free_responses_.push_back(static_cast<uint32_t>(slot));
  if (!nodes_[p].present) return;
  Trace(p, "tracker_response", "peers=" + std::to_string(resp.peers.size()));
  nodes_[p].peer->OnTrackerResponse(now_, resp);
  Drain(p);
}

void Simulation::Impl::DoCompleted(uint32_t p) {
  Node& n = nodes_[p];
  result_.peers[p].completion = now_;
  ++completed_;
  ++leechers_done_;
  Trace(p, "completed");
  // A non-source that completed needs nothing any more: its copies no
  // longer keep the swarm going.
  if (track_lost_ && !IsSource(s_.peers[n.plan.class_index])) check_lost_ = true;
  if (n.plan.seeding_time != core::Duration::Infinite())
    queue_.Push(now_ + n.plan.seeding_time, kLeave, p);
}

// ---------------------------------------------------------------------------
// Data path.

void Simulation::Impl::FlowDone(FlowId f, uint64_t gen) {
  if (!net_.active(f) || net_.generation(f) != gen) return;  // stale
  FlowInfo info = flow_info_[f];
  Endpoint& e = endpoints_[info.endpoint];
  UnlinkFlow(e, f);
  uint32_t sender = e.owner;
  result_.peers[sender].uploaded += info.block.length;
  result_.stats.bytes_sent += info.block.length;
  queue_.PushAfter(now_, e.latency, kPieceArrive, e.remote, info.block.piece.value(),
                   info.block.offset, info.block.length);
  if (track_lost_) ++in_transit_[info.block.piece.value()];
  if (e.open && nodes_[sender].present) {
    // Usually the sender answers with the next block on this connection;
    // DoSendBlock then reuses the flow instead of removing and starting one.
    retiring_ = RetiringFlow{info.endpoint, f};
    nodes_[sender].peer->OnBlockSent(now_, ConnId(info.endpoint), info.block);
    Drain(sender);
    f = retiring_.flow;
    retiring_ = RetiringFlow{};
  }
  if (f != kNoFlow) net_.Remove(now_, f);
}

void Simulation::Impl::PieceArrive(uint32_t ep, const core::BlockRef& b) {
  Endpoint& e = endpoints_[ep];
  if (!e.open || !nodes_[e.owner].present) {
    result_.stats.bytes_dropped += b.length;
    return;
  }
  result_.peers[e.owner].downloaded += b.length;
  result_.stats.bytes_delivered += b.length;
  if (opt_.trace) Trace(e.owner, "piece", "conn=" + std::to_string(TraceConn(ep)) + " " + BlockText(b));
  nodes_[e.owner].peer->OnMessage(now_, ConnId(ep), core::Piece{b});
  Drain(e.owner);
}

void Simulation::Impl::Deliver(uint32_t ep, const core::Message& m) {
  Endpoint& e = endpoints_[ep];
  if (!e.open || !nodes_[e.owner].present) return;
  if (opt_.trace) {
    std::string detail = "conn=" + std::to_string(TraceConn(ep)) + " " + std::string(core::MessageName(m));
    if (auto* h = std::get_if<core::Have>(&m)) detail += " piece=" + std::to_string(h->piece.value());
    if (auto* r = std::get_if<core::Request>(&m)) detail += " " + BlockText(r->block);
    Trace(e.owner, "recv", detail);
  }
  nodes_[e.owner].peer->OnMessage(now_, ConnId(ep), m);
  Drain(e.owner);
}

void Simulation::Impl::Verify(uint32_t p, core::PieceIndex piece) {
  Node& n = nodes_[p];
  if (!n.present) return;
  bool ok = true;
  if (polluters_) {
    const uint32_t first = TaintSlot(piece.value(), 0);
    const core::Bytes size = torrent_->PieceSize(piece);
    const uint32_t end = first + static_cast<uint32_t>((size + s_.file.block_size - 1) /
                                                       s_.file.block_size);
    for (uint32_t i = first; i < end; ++i) {
      if (n.tainted.Test(i)) ok = false;
      n.tainted.Clear(i);  // a failed piece is fetched again whole
    }
  }
  if (ok && !n.verified.Test(piece.value())) {
    n.verified.Set(piece.value());
    ++availability_[piece.value()];
    if (track_lost_ && IsSource(s_.peers[n.plan.class_index])) ++source_copies_[piece.value()];
    if (!result_.peers[p].first_piece) result_.peers[p].first_piece = now_;
  }
  if (opt_.trace) {
    Trace(p, ok ? "verify" : "verify-failed", "piece=" + std::to_string(piece.value()));
  }
  n.peer->OnPieceVerified(now_, piece, ok);
  Drain(p);
}

// ---------------------------------------------------------------------------
// Metrics.

void Simulation::Impl::Sample() {
  TimelineRow row;
  row.time = now_;
  for (const Node& n : nodes_) {
    if (!n.present) continue;
    if (n.peer->is_seed()) ++row.seeds;
    else ++row.leechers;
  }
  row.completed = completed_;
  // Both utilisations are capped at 1 in the timeline; a checked run counts
  // the samples that needed it (NoteUtilization): upload over the
  // scenario's capacities, which no correct run can show.
  const double instant = present_upload_cap_ > 0 ? net_.TotalRate() / present_upload_cap_ : 0;
  row.upload_utilization = std::min(1.0, instant);
  double interval = 0;
  // Over the interval since the last row: the bytes the flows moved (wire
  // bytes, as TotalRate counts them) over the capacity present, integrated.
  const double moved = net_.BytesMoved(now_);
  const double cap = UploadCapacityIntegral();
  const double offered = cap - cap_integral_at_row_;
  if (offered > 0) {
    interval = (moved - moved_at_row_) / offered;
    row.upload_utilization_mean = std::clamp(interval, 0.0, 1.0);
  }
  if (opt_.check_invariants) {
    NoteUtilization(std::max(instant, interval));
    CheckAllHostRates();
  }
  moved_at_row_ = moved;
  cap_integral_at_row_ = cap;
  const AvailabilityStats a = PieceAvailability(availability_);
  row.availability_min = a.min;
  row.availability_mean = a.mean;
  row.availability_entropy = a.entropy;
  if (!result_.timeline.empty() && result_.timeline.back().time == now_) {
    // The same instant again: the interval is still the one before it.
    row.upload_utilization_mean = result_.timeline.back().upload_utilization_mean;
    result_.timeline.back() = row;
  } else {
    result_.timeline.push_back(row);
  }
}

void Simulation::Impl::Trace(uint32_t p, const char* what, const std::string& detail) {
  if (!opt_.trace) return;
  char head[64];
  std::snprintf(head, sizeof head, "%.6f peer=%u ", now_.seconds(), p);
  *opt_.trace << head << what;
  if (!detail.empty()) *opt_.trace << ' ' << detail;
  *opt_.trace << '\n';
}

std::string Simulation::Impl::BlockText(const core::BlockRef& b) const {
  return "piece=" + std::to_string(b.piece.value()) + " offset=" + std::to_string(b.offset) +
         " length=" + std::to_string(b.length);
}

Simulation::Simulation(const Scenario& scenario, SimOptions options)
    : impl_(std::make_unique<Impl>(scenario, std::move(options))) {}
Simulation::~Simulation() = default;
RunResult Simulation::Run() { return impl_->Run(); }

}  // namespace swarm::sim
