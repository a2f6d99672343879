// Tracker: the directory, as a deterministic state machine. It knows which
// files are published (their TorrentInfo) and which peers hold or fetch each,
// and answers announces with a random subset of the other peers.
//
// Request/response: each call returns its answer directly; the only timed
// behaviour is expiry (of silent peers, and optionally of files no peer is
// in any more), driven by OnTimeout()/NextTimeout() like the Peer.
// Randomness comes only from the injected Rng; peer lists are kept in
// insertion order so answers repeat for the same inputs.
//
// Cost in a swarm of N peers, amortised: an announce is O(log N +
// numwant log N), the second log only while holes left by departed peers
// await compaction; OnTimeout does one step per swarm plus O(log N) per
// peer that expires or deadline gone stale. bench/tracker_bench.cc measures
// it (docs/performance.md, "The tracker at scale").
//
// Thread-compatible: one driver thread owns a Tracker.
#ifndef SWARM_CORE_TRACKER_H_
#define SWARM_CORE_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/announce.h"
#include "core/rng.h"
#include "core/torrent_info.h"
#include "core/types.h"

namespace swarm::core {

// Why a torrent name is not safe to turn into a file name on any peer, or
// nullopt when it is: 1 to kMaxTorrentNameBytes bytes, no path separator
// ('/', '\\'), not "." or "..", no control character. Publish refuses a
// torrent named otherwise.
inline constexpr size_t kMaxTorrentNameBytes = 255;
std::optional<std::string> TorrentNameProblem(std::string_view name);

struct TrackerConfig {
  // Interval the tracker asks peers to announce at (BitTorrent's 30 min).
  Duration announce_interval = Duration::Seconds(1800);
  // A peer is forgotten once it has gone longer than this without an
  // announce: one missed interval plus slack for slow networks.
  Duration peer_timeout = Duration::Seconds(1800 + 300);
  // Upper bound on numwant, whatever the peer asks.
  uint32_t max_numwant = 200;
  // A file whose swarm has had no peer for this long (since its last peer
  // left or expired, or since it was published if none came) is forgotten:
  // no longer listed, its name free. Unset: files are kept for good, as the
  // simulator's one file must be (a late arrival still finds it).
  std::optional<Duration> forget_file_after;
  // Bounds on what clients can make the tracker hold (0: no bound, as in
  // the simulator, whose inputs are trusted). A publish over a bound first
  // evicts abandoned files (no peers, and past the name's hold after
  // publishing), oldest first, and is refused (kFull) if that is not
  // enough; an announce from a new peer over max_peers gets a failure.
  uint32_t max_files = 0;
  uint64_t max_total_pieces = 0;  // piece hashes held, over every file
  uint64_t max_peers = 0;         // peer records, over every file
  std::optional<std::string> Validate() const;
};

struct FileEntry {
  std::string name;
  Bytes length = 0;
  Bytes piece_length = 0;
  uint32_t piece_count = 0;
  InfoHash info_hash{};
  uint32_t seeds = 0;
  uint32_t leechers = 0;
};

enum class PublishResult : uint8_t {
  kPublished,         // new file
  kAlreadyPublished,  // same info-hash: nothing changes
  kNameTaken,         // another file with peers (or just published) has that name
  kInvalid,           // empty or unsafe name, no pieces
  kFull,              // over max_files or max_total_pieces, nothing to evict
};

class Tracker {
 public:
  Tracker(const TrackerConfig& config, Rng rng);

  PublishResult Publish(Time now, const TorrentInfo& info);
  // Every published file, sorted by name, with live seed/leecher counts.
  std::vector<FileEntry> ListFiles() const;
  const TorrentInfo* FindByName(std::string_view name) const;
  const TorrentInfo* FindByHash(const InfoHash& hash) const;
  std::optional<FileEntry> Scrape(const InfoHash& hash) const;

  // Records the peer's state and returns up to numwant other live peers,
  // drawn at random. A `stopped` event removes the peer. An unknown
  // info-hash gets a failure_reason.
  AnnounceResponse Announce(Time now, const AnnounceRequest& request);

  // Expires peers that missed their announce, then files left without
  // peers for forget_file_after.
  void OnTimeout(Time now);
  std::optional<Time> NextTimeout() const;

 private:
  struct PeerRecord {
    PeerAddress address;
    bool seed = false;
    Time last_seen;
  };
  // The peers of one swarm in the order they joined, which is the order a
  // random draw picks from, so it decides every answer. A peer is found by
  // id in O(1) and the k-th one (in join order) in O(log N): a peer that
  // leaves leaves a hole, counted in a Fenwick tree of live slots, and the
  // holes are squeezed out (order kept) once they outnumber the peers.
  class PeerTable {
   public:
    size_t size() const { return live_; }
    bool empty() const { return live_ == 0; }
    uint32_t seeds() const { return seeds_; }
    PeerRecord* Find(PeerId id);
    const PeerRecord* Find(PeerId id) const;
    // Appends a peer, last in join order. REQUIRES: its id is not here.
    // The reference lasts until the next Add or Remove.
    PeerRecord& Add(const PeerRecord& record);
    void SetSeed(PeerRecord& record, bool seed);
    // REQUIRES: the id is here.
    void Remove(PeerId id);
    // How many peers joined before `id`. REQUIRES: the id is here.
    size_t RankOf(PeerId id) const;
    // The peer of rank k. REQUIRES: k < size().
    const PeerRecord& AtRank(size_t k) const;
    template <typename F>
    void ForEach(F f) const {
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (alive_[i]) f(slots_[i]);
      }
    }

   private:
    uint32_t CountBefore(size_t slot) const;  // live slots in [0, slot)
    void Compact();

    std::vector<PeerRecord> slots_;  // join order, holes included
    std::vector<uint8_t> alive_;     // per slot
    std::vector<uint32_t> tree_;     // Fenwick tree over alive_, 1-based
    std::unordered_map<PeerId, uint32_t> slot_of_;
    size_t live_ = 0;
    size_t holes_ = 0;
    uint32_t seeds_ = 0;
  };
  // When a peer expires, unless it announces again or leaves first.
  struct Expiry {
    Time at;
    PeerId peer;
    bool operator>(const Expiry& o) const { return at != o.at ? at > o.at : peer > o.peer; }
  };
  struct Swarm {
    Swarm(const TorrentInfo& torrent, Time now)
        : info(torrent), published_at(now), empty_since(now) {}
    TorrentInfo info;
    PeerTable peers;
    // A min-heap with an entry per announce since the peer's last expiry
    // check; an entry whose peer has announced again since, or left, is
    // stale and dropped when met. Kept to a few per peer.
    std::vector<Expiry> expiries;
    Time published_at;
    Time empty_since;  // when `peers` last became empty (or published_at)
  };
  // How long a newly published name is held even with no peer yet.
  static constexpr Duration kNameHeldAfterPublish = Duration::Seconds(60);
  Swarm* FindSwarm(const InfoHash& hash);
  const Swarm* FindSwarm(const InfoHash& hash) const;
  FileEntry EntryFor(const Swarm& s) const;
  // Records that `s` has no peers as of `now`; schedules its forgetting.
  void MarkEmpty(Swarm& s, Time now);
  void WakeAt(Time t);
  // Whether one more file of `pieces` pieces stays within the bounds.
  bool Fits(uint64_t pieces) const;
  // Forgets abandoned swarms, oldest first, until Fits(pieces).
  void EvictAbandoned(Time now, uint64_t pieces);
  // When a peer last seen at `last_seen` is forgotten: one tick after
  // peer_timeout, so that a peer silent for exactly peer_timeout is still
  // listed. With peer_timeout equal to announce_interval (allowed), a peer
  // announcing on time would otherwise be dropped at the very instant its
  // next announce arrived, and the announces of that instant handled before
  // it would not see it: peers joined together announce together, so a
  // swarm's seeds were missing from every leecher's answer (random swarm
  // 6489 --extended: a leecher behind a NAT, refused three times by the full
  // seeds and so forgetting them, never heard of them again and waited 3 h).
  Time ExpiryOf(Time last_seen) const;
  // The current expiry of `peer`'s record, i.e. `e` is not stale.
  bool IsCurrent(const Swarm& s, const Expiry& e) const;
  // Rebuilds `s.expiries` from the live peers (drops every stale entry).
  void RebuildExpiries(Swarm& s) const;
  // Forgets a swarm, keeping the totals; returns the next one.
  std::map<InfoHash, Swarm>::iterator Erase(std::map<InfoHash, Swarm>::iterator it);

  TrackerConfig config_;
  Rng rng_;
  std::map<InfoHash, Swarm> swarms_;
  uint64_t total_pieces_ = 0;  // over swarms_
  uint64_t total_peers_ = 0;   // over swarms_
  std::optional<Time> next_expiry_;
  // Announce's scratch for its draw, kept to spare allocations.
  std::vector<size_t> draw_head_;
  std::vector<std::pair<size_t, size_t>> draw_moved_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_TRACKER_H_
