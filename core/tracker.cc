#include "core/tracker.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "core/check.h"

namespace swarm::core {

std::optional<std::string> TorrentNameProblem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name == "." || name == "..") return "it is '" + std::string(name) + "'";
  if (name.size() > kMaxTorrentNameBytes)
    return "it has " + std::to_string(name.size()) + " bytes (at most " +
           std::to_string(kMaxTorrentNameBytes) + ")";
  for (unsigned char ch : name) {
    if (ch == '/' || ch == '\\')
      return "it contains '" + std::string(1, static_cast<char>(ch)) + "'";
    if (ch < 0x20 || ch == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", ch);
      return std::string("it contains a control character (byte ") + hex + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> TrackerConfig::Validate() const {
  if (announce_interval <= Duration::Zero()) return "announce_interval must be positive";
  if (peer_timeout < announce_interval) return "peer_timeout must be at least announce_interval";
  if (max_numwant < 1) return "max_numwant must be at least 1";
  if (forget_file_after && *forget_file_after <= Duration::Zero()) {
    return "forget_file_after must be positive";
  }
  return std::nullopt;
}

Tracker::Tracker(const TrackerConfig& config, Rng rng)
    : config_(config), rng_(rng) {
  SWARM_CHECK(!config_.Validate().has_value());
}

PublishResult Tracker::Publish(Time now, const TorrentInfo& info) {
  if (TorrentNameProblem(info.name()) || info.piece_count() == 0) return PublishResult::kInvalid;
  if (swarms_.count(info.info_hash())) return PublishResult::kAlreadyPublished;
  if (const TorrentInfo* other = FindByName(info.name())) {
    // A name stays with its file while anyone is in that swarm, and for a
    // while after it was published (its seed has not announced yet); an
    // abandoned one may be reused, e.g. for an edited file shared again
    // under the same name.
    const auto old = swarms_.find(other->info_hash());
    if (!old->second.peers.empty() || now - old->second.published_at < kNameHeldAfterPublish) {
      return PublishResult::kNameTaken;
    }
    Erase(old);
  }
  if (!Fits(info.piece_count())) EvictAbandoned(now, info.piece_count());
  if (!Fits(info.piece_count())) return PublishResult::kFull;
  Swarm& added = swarms_.try_emplace(info.info_hash(), info, now).first->second;
  total_pieces_ += info.piece_count();
  MarkEmpty(added, now);
  return PublishResult::kPublished;
}

bool Tracker::Fits(uint64_t pieces) const {
  return (config_.max_files == 0 || swarms_.size() < config_.max_files) &&
         (config_.max_total_pieces == 0 || total_pieces_ + pieces <= config_.max_total_pieces);
}

void Tracker::EvictAbandoned(Time now, uint64_t pieces) {
  std::vector<std::pair<Time, InfoHash>> abandoned;
  for (const auto& [hash, swarm] : swarms_) {
    if (swarm.peers.empty() && now - swarm.published_at >= kNameHeldAfterPublish) {
      abandoned.emplace_back(swarm.published_at, hash);
    }
  }
  std::sort(abandoned.begin(), abandoned.end());
  for (const auto& [published, hash] : abandoned) {
    if (Fits(pieces)) return;
    Erase(swarms_.find(hash));
  }
}

std::map<InfoHash, Tracker::Swarm>::iterator Tracker::Erase(
    std::map<InfoHash, Swarm>::iterator it) {
  total_pieces_ -= it->second.info.piece_count();
  total_peers_ -= it->second.peers.size();
  return swarms_.erase(it);
}

void Tracker::MarkEmpty(Swarm& s, Time now) {
  s.empty_since = now;
  if (config_.forget_file_after) WakeAt(now + *config_.forget_file_after);
}

void Tracker::WakeAt(Time t) {
  if (!next_expiry_ || t < *next_expiry_) next_expiry_ = t;
}

FileEntry Tracker::EntryFor(const Swarm& s) const {
  FileEntry e;
  e.name = s.info.name();
  e.length = s.info.length();
  e.piece_length = s.info.piece_length();
  e.piece_count = s.info.piece_count();
  e.info_hash = s.info.info_hash();
  e.seeds = s.peers.seeds();
  e.leechers = static_cast<uint32_t>(s.peers.size()) - e.seeds;
  return e;
}

std::vector<FileEntry> Tracker::ListFiles() const {
  std::vector<FileEntry> out;
  for (const auto& [hash, swarm] : swarms_) out.push_back(EntryFor(swarm));
  std::sort(out.begin(), out.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; });
  return out;
}

const TorrentInfo* Tracker::FindByName(std::string_view name) const {
  for (const auto& [hash, swarm] : swarms_) {
    if (swarm.info.name() == name) return &swarm.info;
  }
  return nullptr;
}

const TorrentInfo* Tracker::FindByHash(const InfoHash& hash) const {
  const Swarm* s = FindSwarm(hash);
  return s ? &s->info : nullptr;
}

std::optional<FileEntry> Tracker::Scrape(const InfoHash& hash) const {
  const Swarm* s = FindSwarm(hash);
  if (!s) return std::nullopt;
  return EntryFor(*s);
}

Tracker::Swarm* Tracker::FindSwarm(const InfoHash& hash) {
  auto it = swarms_.find(hash);
  return it == swarms_.end() ? nullptr : &it->second;
}

const Tracker::Swarm* Tracker::FindSwarm(const InfoHash& hash) const {
  auto it = swarms_.find(hash);
  return it == swarms_.end() ? nullptr : &it->second;
}

AnnounceResponse Tracker::Announce(Time now, const AnnounceRequest& request) {
  AnnounceResponse response;
  Swarm* swarm = FindSwarm(request.info_hash);
  if (!swarm) {
    response.failure_reason = "unknown info-hash";
    return response;
  }
  PeerTable& peers = swarm->peers;
  const PeerId self = request.peer.id;
  PeerRecord* record = peers.Find(self);
  if (request.event == AnnounceEvent::kStopped) {
    if (record) {
      peers.Remove(self);
      --total_peers_;
      if (peers.empty()) MarkEmpty(*swarm, now);
    }
  } else {
    if (!record) {
      if (config_.max_peers != 0 && total_peers_ >= config_.max_peers) {
        response.failure_reason = "tracker full: too many peers";
        return response;
      }
      record = &peers.Add(PeerRecord{request.peer, false, now});
      ++total_peers_;
    }
    record->address = request.peer;
    peers.SetSeed(*record, request.left == 0);
    record->last_seen = now;
    swarm->expiries.push_back(Expiry{ExpiryOf(now), self});
    std::push_heap(swarm->expiries.begin(), swarm->expiries.end(), std::greater<>());
    if (swarm->expiries.size() > 2 * peers.size() + 64) RebuildExpiries(*swarm);
    WakeAt(ExpiryOf(now));
  }

  // A random subset of the other peers: a partial Fisher-Yates over the
  // list of their ranks (join order, the announcer left out), drawing what
  // a shuffle of that whole list would. The list is virtual: position p
  // holds p until a swap moves something there, and only the first `want`
  // positions and the ones swapped from further on are stored.
  if (request.event != AnnounceEvent::kStopped) {
    const size_t self_rank = peers.RankOf(self);
    const size_t others = peers.size() - 1;
    const size_t want = std::min<size_t>({others, request.numwant, config_.max_numwant});
    std::vector<size_t>& head = draw_head_;
    head.resize(want);
    for (size_t p = 0; p < want; ++p) head[p] = p;
    // Positions >= want that a swap wrote to (at most `want` of them): an
    // open-addressing table of (position + 1, value), 0 marking a free cell.
    size_t bits = 1;
    while ((size_t{1} << bits) < 2 * want) ++bits;
    const size_t mask = (size_t{1} << bits) - 1;
    std::vector<std::pair<size_t, size_t>>& moved = draw_moved_;
    moved.assign(mask + 1, {0, 0});
    auto cell = [&](size_t position) -> std::pair<size_t, size_t>& {
      size_t c = static_cast<size_t>((position * 0x9E3779B97F4A7C15ull) >> (64 - bits));
      while (moved[c].first != 0 && moved[c].first != position + 1) c = (c + 1) & mask;
      if (moved[c].first == 0) moved[c] = {position + 1, position};
      return moved[c];
    };
    response.peers.reserve(want);
    for (size_t i = 0; i < want; ++i) {
      const size_t j = i + static_cast<size_t>(rng_.Below(others - i));
      size_t picked;
      if (j < want) {
        picked = head[j];
        head[j] = head[i];
      } else {
        std::pair<size_t, size_t>& c = cell(j);
        picked = c.second;
        c.second = head[i];
      }
      head[i] = picked;
      // Rank among the others -> rank among all peers.
      response.peers.push_back(peers.AtRank(picked < self_rank ? picked : picked + 1).address);
    }
  }
  const FileEntry e = EntryFor(*swarm);
  response.seeds = e.seeds;
  response.leechers = e.leechers;
  response.interval = config_.announce_interval;
  return response;
}

Time Tracker::ExpiryOf(Time last_seen) const {
  return last_seen + config_.peer_timeout + Duration::Micros(1);
}

bool Tracker::IsCurrent(const Swarm& s, const Expiry& e) const {
  const PeerRecord* r = s.peers.Find(e.peer);
  return r && ExpiryOf(r->last_seen) == e.at;
}

void Tracker::RebuildExpiries(Swarm& s) const {
  s.expiries.clear();
  s.peers.ForEach([&](const PeerRecord& r) {
    s.expiries.push_back(Expiry{ExpiryOf(r.last_seen), r.address.id});
  });
  std::make_heap(s.expiries.begin(), s.expiries.end(), std::greater<>());
}

void Tracker::OnTimeout(Time now) {
  next_expiry_.reset();
  for (auto it = swarms_.begin(); it != swarms_.end();) {
    Swarm& swarm = it->second;
    PeerTable& peers = swarm.peers;
    const bool had_peers = !peers.empty();
    // Expire peers whose last announce is over peer_timeout old, earliest first,
    // dropping stale entries on the way; stop at the first live deadline.
    auto& heap = swarm.expiries;
    while (!heap.empty()) {
      const Expiry first = heap.front();
      const bool current = IsCurrent(swarm, first);
      if (current && first.at > now) break;
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      heap.pop_back();
      if (current) {
        peers.Remove(first.peer);
        --total_peers_;
      }
    }
    if (!heap.empty()) WakeAt(heap.front().at);
    if (!peers.empty() || !config_.forget_file_after) {
      ++it;
      continue;
    }
    if (had_peers) swarm.empty_since = now;  // its last peer expired just now
    const Time forget_at = swarm.empty_since + *config_.forget_file_after;
    if (now >= forget_at) {
      it = Erase(it);
    } else {
      WakeAt(forget_at);
      ++it;
    }
  }
}

// PeerTable.

Tracker::PeerRecord* Tracker::PeerTable::Find(PeerId id) {
  auto it = slot_of_.find(id);
  return it == slot_of_.end() ? nullptr : &slots_[it->second];
}

const Tracker::PeerRecord* Tracker::PeerTable::Find(PeerId id) const {
  auto it = slot_of_.find(id);
  return it == slot_of_.end() ? nullptr : &slots_[it->second];
}

Tracker::PeerRecord& Tracker::PeerTable::Add(const PeerRecord& record) {
  const size_t slot = slots_.size();
  SWARM_CHECK(slot_of_.emplace(record.address.id, static_cast<uint32_t>(slot)).second);
  slots_.push_back(record);
  alive_.push_back(1);
  // Fenwick node x (1-based) sums the slots (x - lowbit(x), x].
  const size_t x = slot + 1;
  if (tree_.empty()) tree_.push_back(0);
  tree_.push_back(1 + CountBefore(slot) - CountBefore(x - (x & -x)));
  ++live_;
  if (record.seed) ++seeds_;
  return slots_.back();
}

void Tracker::PeerTable::SetSeed(PeerRecord& record, bool seed) {
  if (record.seed != seed) seed ? ++seeds_ : --seeds_;
  record.seed = seed;
}

void Tracker::PeerTable::Remove(PeerId id) {
  auto it = slot_of_.find(id);
  SWARM_CHECK(it != slot_of_.end());
  const size_t slot = it->second;
  slot_of_.erase(it);
  if (slots_[slot].seed) --seeds_;
  slots_[slot] = PeerRecord{};
  alive_[slot] = 0;
  for (size_t x = slot + 1; x < tree_.size(); x += x & -x) --tree_[x];
  --live_;
  ++holes_;
  if (holes_ > live_) Compact();
}

uint32_t Tracker::PeerTable::CountBefore(size_t slot) const {
  uint32_t n = 0;
  for (size_t x = slot; x > 0; x -= x & -x) n += tree_[x];
  return n;
}

size_t Tracker::PeerTable::RankOf(PeerId id) const {
  const size_t slot = slot_of_.at(id);
  return holes_ == 0 ? slot : CountBefore(slot);
}

const Tracker::PeerRecord& Tracker::PeerTable::AtRank(size_t k) const {
  if (holes_ == 0) return slots_[k];
  // The slot whose live count up to and including it is k + 1: descend the
  // tree from its largest power of two. Branch-free: which way a step goes
  // is a coin flip, and a mispredicted branch per step cost more than the
  // rest of the draw.
  const size_t m = tree_.size() - 1;
  size_t pos = 0;
  size_t step = 1;
  while (step * 2 <= m) step *= 2;
  for (; step > 0; step /= 2) {
    const size_t next = pos + step;
    const uint32_t count = tree_[std::min(next, m)];
    const size_t right = size_t{0} - (size_t{next <= m} & size_t{count <= k});  // all ones or 0
    pos += step & right;
    k -= count & right;
  }
  return slots_[pos];  // slot pos is 1-based pos + 1
}

void Tracker::PeerTable::Compact() {
  size_t to = 0;
  for (size_t from = 0; from < slots_.size(); ++from) {
    if (!alive_[from]) continue;
    if (to != from) slots_[to] = std::move(slots_[from]);
    slot_of_[slots_[to].address.id] = static_cast<uint32_t>(to);
    ++to;
  }
  slots_.resize(to);
  alive_.assign(to, 1);
  // Every slot live: node x sums lowbit(x) ones.
  tree_.resize(to + 1);
  for (size_t x = 1; x <= to; ++x) tree_[x] = static_cast<uint32_t>(x & -x);
  holes_ = 0;
}

std::optional<Time> Tracker::NextTimeout() const { return next_expiry_; }

}  // namespace swarm::core
