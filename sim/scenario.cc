#include "sim/scenario.h"

#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "core/torrent_limits.h"
#include "core/units.h"

namespace swarm::sim {
namespace {

std::optional<FieldError> Err(std::string field, std::string problem) {
  FieldError e;
  e.field = std::move(field);
  e.problem = std::move(problem);
  return e;
}

std::optional<FieldError> ValidateLatency(const Scenario& s) {
  const LatencySpec& l = s.network.latency;
  const std::string at = "network.latency";
  switch (l.kind) {
    case LatencySpec::Kind::kConstant:
      return std::nullopt;
    case LatencySpec::Kind::kUniform:
      if (l.high < l.low) return Err(at + ".uniform", "upper bound below lower bound");
      return std::nullopt;
    case LatencySpec::Kind::kMatrix: {
      // A misspelt class would otherwise be ignored without a word.
      std::set<std::string> classes;
      for (const PeerClassSpec& c : s.peers) classes.insert(c.name);
      for (const auto& [a, row] : l.matrix) {
        if (!classes.count(a)) return Err(at + ".matrix." + a, "no peer class '" + a + "'");
        for (const auto& [b, d] : row) {
          if (!classes.count(b))
            return Err(at + ".matrix." + a + "." + b, "no peer class '" + b + "'");
          // A connection carries both directions with one delay (and the
          // real-network driver looks the pair up receiver first), so a
          // pair cannot have two different delays.
          auto back = l.matrix.find(b);
          if (a < b && back != l.matrix.end() && back->second.count(a) &&
              back->second.at(a) != d) {
            return Err(at + ".matrix." + b + "." + a,
                       core::FormatDuration(back->second.at(a)) + " differs from matrix." + a +
                           "." + b + " (" + core::FormatDuration(d) +
                           "): the delay between two classes is the same both ways "
                           "(give one of the two)");
          }
        }
      }
      for (const PeerClassSpec& a : s.peers) {
        for (const PeerClassSpec& b : s.peers) {
          auto ia = l.matrix.find(a.name);
          auto ib = l.matrix.find(b.name);
          bool ab = ia != l.matrix.end() && ia->second.count(b.name);
          bool ba = ib != l.matrix.end() && ib->second.count(a.name);
          if (!ab && !ba)
            return Err(at + ".matrix", "no delay between classes '" + a.name +
                                           "' and '" + b.name + "'");
        }
      }
      return std::nullopt;
    }
    case LatencySpec::Kind::kTopology: {
      std::set<std::string> regions(l.regions.begin(), l.regions.end());
      if (regions.size() != l.regions.size())
        return Err(at + ".topology.regions", "duplicate region name");
      for (size_t i = 0; i < l.links.size(); ++i) {
        const TopologyLink& k = l.links[i];
        std::string f = at + ".topology.links." + std::to_string(i);
        if (!regions.count(k.from)) return Err(f + ".from", "unknown region '" + k.from + "'");
        if (!regions.count(k.to)) return Err(f + ".to", "unknown region '" + k.to + "'");
      }
      // A delay may be at most 1e12 s, but a path adds links up; the
      // simulator's clock overflowed on a chain of ten such links. Every
      // path is at most the sum of all links.
      double total_s = 2 * l.access.seconds();
      for (const TopologyLink& k : l.links) total_s += k.delay.seconds();
      if (total_s > 1e12)
        return Err(at + ".topology.links",
                   "the link delays and both access delays add up to over 1e12 s, the "
                   "longest delay a path may have");
      for (size_t i = 0; i < s.peers.size(); ++i) {
        if (regions.count(s.peers[i].region)) continue;
        std::string known;
        for (const std::string& r : l.regions) known += (known.empty() ? "" : ", ") + r;
        return Err("peers." + std::to_string(i) + ".region",
                   (s.peers[i].region.empty()
                        ? std::string("missing: topology latency needs a region for every class")
                        : "unknown region '" + s.peers[i].region + "'") +
                       " (network.latency.topology.regions: " + known + ")");
      }
      // Every class's region must reach every other's over the links.
      std::map<std::string, std::vector<std::string>> next;
      for (const TopologyLink& k : l.links) {
        next[k.from].push_back(k.to);
        next[k.to].push_back(k.from);
      }
      std::set<std::string> reached{s.peers[0].region};
      std::vector<std::string> todo{s.peers[0].region};
      while (!todo.empty()) {
        std::string r = todo.back();
        todo.pop_back();
        for (const std::string& n : next[r]) {
          if (reached.insert(n).second) todo.push_back(n);
        }
      }
      for (size_t i = 1; i < s.peers.size(); ++i) {
        if (!reached.count(s.peers[i].region))
          return Err("peers." + std::to_string(i) + ".region",
                     "region '" + s.peers[i].region + "' has no path of links to region '" +
                         s.peers[0].region + "' (of class '" + s.peers[0].name + "')");
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<FieldError> ValidateClass(const PeerClassSpec& c, size_t i) {
  std::string p = "peers." + std::to_string(i);
  if (c.name.empty()) return Err(p + ".class", "class name must not be empty");
  if (c.download.bytes_per_second() <= 0 && !c.start_complete)
    return Err(p + ".download", "a leecher needs a positive download rate");
  if (c.upload.bytes_per_second() <= 0 && c.start_complete)
    return Err(p + ".upload", "a seed needs a positive upload rate");
  const ArrivalSpec& a = c.arrival;
  if (a.kind == ArrivalSpec::Kind::kUniform && a.to < a.from)
    return Err(p + ".arrival.uniform", "window ends before it starts");
  if (a.kind == ArrivalSpec::Kind::kPoisson && a.rate_per_s <= 0)
    return Err(p + ".arrival.poisson.rate", "must be positive");
  if (a.kind == ArrivalSpec::Kind::kDecaying && a.tau <= core::Duration::Zero())
    return Err(p + ".arrival.decaying.tau", "must be positive");
  if (c.leave.kind == LeaveSpec::Kind::kAt) {
    // Poisson and decaying arrivals come after their start.
    const core::Duration first = a.kind == ArrivalSpec::Kind::kUniform ? a.from : a.at;
    if (c.leave.at <= first)
      return Err(p + ".leave.at", "not after the class's first arrival (" +
                                      core::FormatDuration(first) +
                                      "): every peer would leave as it joins");
  }
  if (c.failure.probability < 0 || c.failure.probability > 1)
    return Err(p + ".failure.probability", "must be between 0 and 1");
  if (c.failure.probability > 0 && c.failure.after.exponential &&
      c.failure.after.value <= core::Duration::Zero())
    return Err(p + ".failure.after", "exponential mean must be positive");
  if (c.leave.kind == LeaveSpec::Kind::kAfterComplete &&
      c.leave.seeding_time.exponential &&
      c.leave.seeding_time.value <= core::Duration::Zero())
    return Err(p + ".leave.after_complete", "exponential mean must be positive");
  return std::nullopt;
}

// Class `i`'s protocol settings, as PeerConfig::Validate checks them. A
// problem that comes of two settings names, besides the one it is about,
// the other as its cause: the file may leave the first at its default.
std::optional<FieldError> ValidateProtocol(const Scenario& s, size_t i) {
  const PeerClassSpec& c = s.peers[i];
  const core::PeerConfig pc = s.PeerConfigFor(c);
  const std::optional<std::string> e = pc.Validate();
  if (!e) return std::nullopt;
  const std::string at = c.protocol ? "peers." + std::to_string(i) + ".protocol" : "protocol";
  const std::string of_class = c.protocol ? " (class '" + c.name + "')" : "";
  // Where a class's setting comes from: its own protocol when that changes
  // it, the scenario's otherwise.
  auto own = [&](auto member) {
    return c.protocol && (*c.protocol).*member != s.protocol.*member;
  };
  // PeerConfig's messages start with the setting they are about.
  const std::string setting = e->substr(0, e->find(' '));
  if (setting == "block_size") {
    if (pc.block_size < 1024) return Err("file.block_size", *e);
    // Too large for max_request_length: a class that lowers it is to blame,
    // not a block size the other classes take.
    const std::string length = core::FormatBytes(pc.max_request_length);
    const std::string block = core::FormatBytes(s.file.block_size);
    const std::string below = " is below file.block_size (" + block +
                              "): a peer would refuse every request for a block";
    if (own(&core::PeerConfig::max_request_length))
      return Err(at + ".max_request_length", length + of_class + below);
    return FieldError{"file.block_size", *e, "protocol.max_request_length",
                      length + " is below file.block_size (" + block +
                          ", its default): a peer would refuse every request for a block"};
  }
  // The peers' announce interval is the tracker's (PeerConfigFor).
  if (setting == "announce_interval") {
    const std::string min = core::FormatDuration(pc.min_reannounce_interval);
    const bool mine = own(&core::PeerConfig::min_reannounce_interval);
    return FieldError{
        "tracker.announce_interval",
        "must be between " + at + ".min_reannounce_interval (" + min + ") and " +
            core::FormatDuration(core::kMaxAnnounceInterval) +
            ", the intervals a peer accepts from a tracker",
        (mine ? at : "protocol") + ".min_reannounce_interval",
        min + (mine ? of_class : "") + " is longer than tracker.announce_interval (" +
            core::FormatDuration(s.tracker.announce_interval) +
            ", its default): a peer must accept the interval its tracker gives; set "
            "tracker.announce_interval to at least " + min + " or lower this"};
  }
  // Settings checked against another one, which may be the one written.
  static const std::map<std::string, std::string> kAgainst = {
      {"min_connections", "max_connections"},
      {"max_queued_requests", "request_pipeline"},
      {"inactivity_timeout", "keepalive_interval"}};
  const std::string field = setting == "upload_capacity" ? at : at + "." + setting;
  if (auto other = kAgainst.find(setting); other != kAgainst.end())
    return FieldError{field, *e, at + "." + other->second, *e + of_class};
  return Err(field, *e);
}

}  // namespace

std::optional<FieldError> Scenario::Validate() const {
  if (name.empty()) return Err("name", "must not be empty");
  if (stop.max_time <= core::Duration::Zero()) return Err("stop.max_time", "must be positive");
  if (measure && measure->joins_until && *measure->joins_until < measure->joins_from)
    return Err("measure.joins_until", "before measure.joins_from (" +
                                          core::FormatDuration(measure->joins_from) + ")");
  if (file.size <= 0) return Err("file.size", "must be positive");
  if (file.piece_size <= 0) return Err("file.piece_size", "must be positive");
  if (file.block_size <= 0) return Err("file.block_size", "must be positive");
  // The tracker refuses to publish a torrent by another name, and every
  // leecher then waited for it until stop.max_time.
  if (auto problem = core::TorrentNameProblem(file.name)) {
    std::string shown;  // the message stays one line
    for (unsigned char c : file.name) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      shown += c < 0x20 || c == 0x7f ? std::string(hex) : std::string(1, static_cast<char>(c));
    }
    return Err("file.name", "'" + shown + "' is not a plain file name: " + *problem +
                                " (the tracker would refuse to publish the torrent)");
  }
  if (file.piece_size > kMaxPieceSize) return Err("file.piece_size", "at most 2GiB");
  if (file.piece_size % file.block_size != 0)
    return Err("file.piece_size", "must be a multiple of file.block_size");
  // The core's bounds on a torrent (core/torrent_limits.h), as for real
  // swarms. Counted as PieceCount() does: a short last piece is a piece.
  // Named after the size: a piece size may be at most 2GiB, so a file of
  // over 20000TiB has too many pieces whatever the piece size.
  if (const uint64_t pieces = core::PieceCount(file.size, file.piece_size);
      pieces > core::kMaxPieces)
    return Err("file.size", "too many pieces: " + core::FormatBytes(file.size) + " in pieces of " +
                                core::FormatBytes(file.piece_size) + " (file.piece_size) makes " +
                                std::to_string(pieces) +
                                " (at most 10 million; use a smaller file or larger pieces)");
  // Each peer's piece picker keeps two bytes per block of the file.
  if (const uint64_t blocks = core::BlockCount(file.size, file.piece_size, file.block_size);
      blocks > core::kMaxBlocks)
    return Err("file.size", "too many blocks: " + core::FormatBytes(file.size) + " in blocks of " +
                                core::FormatBytes(file.block_size) + " (file.block_size) makes " +
                                std::to_string(blocks) + " (at most " +
                                std::to_string(core::kMaxBlocks) +
                                "; use a smaller file or larger blocks)");
  if (sample_interval <= core::Duration::Zero())
    return Err("sample_interval", "must be positive");
  // Finer than any latency in a scenario, and a timeline row per
  // microsecond would fill the disk.
  if (sample_interval < core::Duration::Millis(1))
    return Err("sample_interval", "must be at least 1ms");
  // A run lasts max_time when it does not stop once everyone is done, and
  // also when it should but some leecher never completes (the last copy of
  // a piece left): either way timeline.csv gets a row per interval.
  if (stop.max_time.micros() / sample_interval.micros() > kMaxTimelineRows) {
    const std::string rows = "a run that lasts max_time writes " +
                             std::to_string(stop.max_time.micros() / sample_interval.micros()) +
                             " rows of timeline.csv (at most " +
                             std::to_string(kMaxTimelineRows) + ")";
    return FieldError{"sample_interval", "too small for stop.max_time: " + rows,
                      "stop.max_time",
                      "too long for sample_interval (" + core::FormatDuration(sample_interval) +
                          ", its default): " + rows + "; give a larger sample_interval"};
  }
  if (tracker.numwant < 1) return Err("tracker.numwant", "must be at least 1");
  if (tracker.max_numwant < 1) return Err("tracker.max_numwant", "must be at least 1");
  // The tracker answers at most max_numwant peers, so a larger numwant
  // would run exactly as max_numwant does: refused rather than quietly
  // capped, as a sweep over numwant would otherwise repeat one run.
  if (tracker.numwant > tracker.max_numwant) {
    const std::string want = std::to_string(tracker.numwant);
    const std::string cap = std::to_string(tracker.max_numwant);
    return FieldError{"tracker.numwant",
                      want + " is above tracker.max_numwant (" + cap +
                          "): the tracker answers at most max_numwant peers, so the run "
                          "would be the one with numwant " + cap +
                          "; raise tracker.max_numwant or lower this",
                      "tracker.max_numwant",
                      cap + " is below tracker.numwant (" + want +
                          ", its default): the tracker would answer fewer peers than "
                          "every announce asks for; raise this or lower tracker.numwant"};
  }
  if (tracker.announce_interval <= core::Duration::Zero())
    return Err("tracker.announce_interval", "must be positive");
  if (tracker.peer_timeout <= core::Duration::Zero())
    return Err("tracker.peer_timeout", "must be positive");
  if (peers.empty()) return Err("peers", "at least one peer class is needed");
  uint64_t total = 0;
  for (const PeerClassSpec& c : peers) total += c.count;
  if (total > kMaxPeers)
    return Err("peers", "too many peers (" + std::to_string(total) + "; at most " +
                            std::to_string(kMaxPeers) + " in all)");
  std::set<std::string> names;
  bool any_seed = false;
  bool any_leecher = false;
  bool any_connectable = false;
  bool any_empty = false;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (auto e = ValidateClass(peers[i], i)) return e;
    if (!names.insert(peers[i].name).second)
      return Err("peers." + std::to_string(i) + ".class", "duplicate class name '" + peers[i].name + "'");
    // A class of count 0 (switched off, e.g. by a sweep) has no peer: it
    // is still checked, but seeds, leechers or connectable peers it would
    // have had are not there.
    any_empty |= peers[i].count == 0;
    if (peers[i].count == 0) continue;
    any_seed |= peers[i].start_complete;
    any_leecher |= !peers[i].start_complete;
    any_connectable |= peers[i].connectable;
  }
  const std::string empty_note = any_empty ? " (a class of count 0 has no peers)" : "";
  if (!any_seed) return Err("peers", "no class starts complete: nobody has the file" + empty_note);
  if (!any_connectable)
    return Err("peers",
               "no class is connectable: no peer could accept a connection" + empty_note);
  // Without a leecher the run would end before anyone joined, with nothing
  // to measure and a bound of zero.
  if (!any_leecher)
    return Err("peers", "every class starts complete: nobody downloads the file" + empty_note);
  if (auto e = ValidateLatency(*this)) return e;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (auto e = ValidateProtocol(*this, i)) return e;
  }
  if (auto e = TrackerConfig().Validate()) return Err("tracker", *e);
  return std::nullopt;
}

core::PeerConfig Scenario::PeerConfigFor(const PeerClassSpec& c) const {
  core::PeerConfig pc = c.protocol ? *c.protocol : protocol;
  pc.block_size = static_cast<uint32_t>(file.block_size);
  pc.numwant = tracker.numwant;
  pc.announce_interval = tracker.announce_interval;
  pc.free_rider = c.free_rider;
  // propshare and bittyrant divide the host's upload; tell them what it is.
  pc.upload_capacity = c.upload;
  return pc;
}

core::TrackerConfig Scenario::TrackerConfig() const {
  core::TrackerConfig tc;
  tc.announce_interval = tracker.announce_interval;
  tc.peer_timeout = tracker.peer_timeout;
  tc.max_numwant = tracker.max_numwant;
  return tc;
}

uint32_t Scenario::PieceCount() const {
  return static_cast<uint32_t>((file.size + file.piece_size - 1) / file.piece_size);
}

uint32_t Scenario::TotalPeers() const {
  uint32_t n = 0;
  for (const PeerClassSpec& c : peers) n += c.count;
  return n;
}

}  // namespace swarm::sim
