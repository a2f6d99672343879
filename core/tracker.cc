#include "core/tracker.h"

#include <algorithm>

#include "core/check.h"

namespace swarm::core {
namespace {

// A name is safe to turn into a file name on any peer: no path separators,
// no "." or "..", no control characters.
bool IsSafeName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (unsigned char ch : name) {
    if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f) return false;
  }
  return true;
}

}  // namespace

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
  if (!IsSafeName(info.name()) || info.piece_count() == 0) return PublishResult::kInvalid;
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
  Swarm& added = swarms_.emplace(info.info_hash(), Swarm{info, {}, now, now}).first->second;
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
  for (const PeerRecord& p : s.peers) (p.seed ? e.seeds : e.leechers)++;
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
  auto& peers = swarm->peers;
  auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerRecord& r) {
    return r.address.id == request.peer.id;
  });
  if (request.event == AnnounceEvent::kStopped) {
    if (it != peers.end()) {
      peers.erase(it);
      --total_peers_;
      if (peers.empty()) MarkEmpty(*swarm, now);
    }
  } else {
    if (it == peers.end()) {
      if (config_.max_peers != 0 && total_peers_ >= config_.max_peers) {
        response.failure_reason = "tracker full: too many peers";
        return response;
      }
      peers.push_back(PeerRecord{request.peer, false, now});
      ++total_peers_;
      it = peers.end() - 1;
    }
    it->address = request.peer;
    it->seed = request.left == 0;
    it->last_seen = now;
    WakeAt(now + config_.peer_timeout);
  }

  // A random subset of the other peers: partial Fisher-Yates over indices.
  std::vector<size_t> others;
  others.reserve(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].address.id != request.peer.id) others.push_back(i);
  }
  const size_t want = std::min<size_t>(
      {others.size(), request.numwant, config_.max_numwant});
  if (request.event != AnnounceEvent::kStopped) {
    for (size_t i = 0; i < want; ++i) {
      const size_t j = i + static_cast<size_t>(rng_.Below(others.size() - i));
      std::swap(others[i], others[j]);
      response.peers.push_back(peers[others[i]].address);
    }
  }
  const FileEntry e = EntryFor(*swarm);
  response.seeds = e.seeds;
  response.leechers = e.leechers;
  response.interval = config_.announce_interval;
  return response;
}

void Tracker::OnTimeout(Time now) {
  next_expiry_.reset();
  for (auto it = swarms_.begin(); it != swarms_.end();) {
    Swarm& swarm = it->second;
    auto& peers = swarm.peers;
    const bool had_peers = !peers.empty();
    const size_t before = peers.size();
    peers.erase(std::remove_if(peers.begin(), peers.end(),
                               [&](const PeerRecord& r) {
                                 return now - r.last_seen >= config_.peer_timeout;
                               }),
                peers.end());
    total_peers_ -= before - peers.size();
    for (const PeerRecord& r : peers) WakeAt(r.last_seen + config_.peer_timeout);
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

std::optional<Time> Tracker::NextTimeout() const { return next_expiry_; }

}  // namespace swarm::core
