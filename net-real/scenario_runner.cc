#include "net-real/scenario_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/units.h"
#include "sim/bounds.h"
#include "sim/latency.h"
#include "sim/workload.h"
#include "net-real/loopback_swarm.h"
#include "net-real/piece_store.h"

namespace swarm::net {
namespace {

std::optional<core::Time> At(const std::optional<double>& s) {
  if (!s) return std::nullopt;
  return core::Time::Zero() + core::Duration::SecondsF(*s);
}

}  // namespace

std::optional<std::string> RealRunRefusal(const sim::Scenario& s, const RealRunOptions& options) {
  char buf[256];
  // Each peer writes the file under this name in its own folder.
  if (auto problem = FileNameProblem(s.file.name)) {
    return "file.name: '" + s.file.name + "' is not a plain file name: " + *problem;
  }
  if (s.TotalPeers() > LoopbackSwarmConfig::kMaxPeers) {
    std::snprintf(buf, sizeof buf,
                  "peers: %zu peers are more than one machine can run in real time (at "
                  "most %zu)",
                  static_cast<size_t>(s.TotalPeers()), LoopbackSwarmConfig::kMaxPeers);
    return std::string(buf);
  }
  if (s.file.size > LoopbackSwarmConfig::kMaxFile) {
    return "file.size: " + core::FormatBytes(s.file.size) +
           " is more than real sockets take here (at most 1 GiB)";
  }
  // Two lower bounds on the run's length: Kumar-Ross, and for each leecher
  // its (planned) arrival plus the file at its own download rate.
  double bound_s = sim::ComputeSimpleBounds(s).kumar_ross_s;
  const char* what = "Kumar-Ross bound";
  for (const sim::PeerPlan& p : sim::PlanWorkload(s)) {
    const sim::PeerClassSpec& c = s.peers[p.class_index];
    if (c.start_complete) continue;
    const double t = p.join.seconds() + double(s.file.size) / c.download.bytes_per_second();
    if (t > bound_s) {
      bound_s = t;
      what = "a leecher's arrival plus the file at its download rate";
    }
  }
  // A run ends at stop.max_time in any case.
  if (bound_s > s.stop.max_time.seconds()) {
    bound_s = s.stop.max_time.seconds();
    what = "stop.max_time";
  }
  if (bound_s > options.max_wall_s) {
    std::snprintf(buf, sizeof buf,
                  "needs at least %.1f s of wall-clock time on real sockets (%s) and "
                  "--max-wall is %.1f s; shrink file.size, the peer counts or the arrival "
                  "times, or raise the capacities",
                  std::ceil(bound_s * 10) / 10, what, options.max_wall_s);
    return std::string(buf);
  }
  return std::nullopt;
}

std::optional<sim::RunResult> RunScenarioOnLoopback(const sim::Scenario& s,
                                                    const RealRunOptions& options,
                                                    std::vector<std::string>* notes,
                                                    std::string* error) {
  if (auto refusal = RealRunRefusal(s, options)) {
    *error = *refusal;
    return std::nullopt;
  }
  LoopbackSwarmConfig c;
  c.file_name = s.file.name;
  c.file_length = s.file.size;
  c.piece_length = s.file.piece_size;
  c.seed = s.seed;
  c.tracker = s.TrackerConfig();
  // The wall-clock budget bounds the run as well as the check above.
  // Compared in seconds: a budget meant as "no limit" (--max-wall 1e300)
  // would overflow a Duration and stop the run at once.
  const bool budget_first = options.max_wall_s < s.stop.max_time.seconds();
  c.time_limit =
      budget_first ? core::Duration::SecondsF(options.max_wall_s) : s.stop.max_time;
  c.sample_interval = s.sample_interval;
  c.interrupted = options.interrupted;
  bool failures = false;
  std::vector<sim::PeerPlan> plan = sim::PlanWorkload(s);
  // The simulator's latency model, pair by pair: peer i here is peer i
  // there, so each pair gets the very delay it gets in `sim run`.
  std::vector<uint32_t> classes;
  for (const sim::PeerPlan& p : plan) classes.push_back(p.class_index);
  auto latency = std::make_shared<const sim::LatencyModel>(s, classes);
  for (uint32_t i = 0; i < plan.size(); ++i) {
    const sim::PeerPlan& p = plan[i];
    const sim::PeerClassSpec& cls = s.peers[p.class_index];
    LoopbackPeerSpec spec;
    spec.peer_class = cls.name;
    spec.seed = cls.start_complete;
    spec.join_at = p.join - core::Time::Zero();
    spec.config = s.PeerConfigFor(cls);
    spec.upload_limit = cls.upload;
    spec.download_limit = cls.download;
    spec.delay_from = [latency, i, n = uint32_t(plan.size())](core::PeerId from) {
      return from.value() < n ? latency->Between(i, static_cast<uint32_t>(from.value()))
                              : core::Duration::Zero();
    };
    spec.corrupt_uploads = cls.corrupt_uploads;
    spec.connectable = cls.connectable;
    if (p.leave_at < core::Time::Never()) spec.leave_at = p.leave_at - core::Time::Zero();
    if (p.seeding_time < core::Duration::Infinite()) {
      if (cls.start_complete) {
        // As in the simulator, a peer that starts complete completed at its
        // join: its seeding time counts from there.
        const core::Duration at = spec.join_at + p.seeding_time;
        spec.leave_at = spec.leave_at ? std::min(*spec.leave_at, at) : at;
      } else {
        spec.leave_after_completion = p.seeding_time;
      }
    }
    failures |= p.fail_at < core::Time::Never();
    c.peers.push_back(spec);
  }
  // Peers due at one instant start in the simulator's order (JoinOrder).
  c.join_order = sim::JoinOrder(s, plan);
  if (failures) notes->push_back("silent peer failures are not injected on real sockets");
  // The simulator's peers re-announce exactly on time, and the tracker keeps
  // a peer silent for exactly peer_timeout; real timers and calls run a
  // little late, so with no slack a peer drops out of the listing for that
  // moment at every announce (and peers that joined together are then
  // answered without it).
  if (s.tracker.peer_timeout - s.tracker.announce_interval < core::Duration::Seconds(1)) {
    notes->push_back(
        "tracker.peer_timeout is within a second of tracker.announce_interval: real "
        "re-announces arrive a little late, and until one does the tracker does not list "
        "its peer (the simulator's arrive on time)");
  }
  std::sort(notes->begin(), notes->end());
  notes->erase(std::unique(notes->begin(), notes->end()), notes->end());

  auto real = RunLoopbackSwarm(c, error);
  if (!real) return std::nullopt;
  if (real->interrupted) {
    *error = "interrupted";
    return std::nullopt;
  }
  sim::RunResult r;
  r.mode = "real";
  for (size_t i = 0; i < real->peers.size(); ++i) {
    const LoopbackPeerResult& p = real->peers[i];
    sim::PeerRecord rec;
    rec.class_index = plan[i].class_index;
    rec.started_complete = p.seed;
    rec.join = At(p.join_s);
    rec.first_piece = At(p.first_piece_s);
    rec.completion = At(p.completion_s);
    rec.leave = At(p.leave_s);
    rec.uploaded = p.bytes_uploaded;
    // As the simulator counts it: every block payload delivered to the
    // peer, duplicates and pieces that fail their hash included (the core
    // keeps those apart, as wasted, from the useful bytes).
    rec.downloaded = p.bytes_downloaded + p.bytes_wasted;
    rec.pieces_failed = p.pieces_failed;
    rec.peers_banned = p.peers_banned;
    if (!p.seed && p.completion_s && !p.verified) {
      *error = "peer " + std::to_string(i) + " completed with a copy that does not match";
      return std::nullopt;
    }
    r.peers.push_back(rec);
  }
  for (const LoopbackSample& t : real->timeline) {
    sim::TimelineRow row;
    row.time = core::Time::Zero() + core::Duration::SecondsF(t.time_s);
    row.leechers = t.leechers;
    row.seeds = t.seeds;
    row.completed = t.completed;
    row.upload_utilization = t.upload_utilization;
    // Already a mean over the interval before the row (bytes uploaded since
    // the previous row): the real runner has no instantaneous rate.
    row.upload_utilization_mean = t.upload_utilization;
    const sim::AvailabilityStats a = sim::PieceAvailability(t.piece_copies);
    row.availability_min = a.min;
    row.availability_mean = a.mean;
    row.availability_entropy = a.entropy;
    r.timeline.push_back(row);
  }
  if (real->timed_out && budget_first) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "stopped by --max-wall at %.1f s, before stop.max_time (%s): the results "
                  "cover only that much of the scenario",
                  real->wall_time_s, core::FormatDuration(s.stop.max_time).c_str());
    notes->push_back(buf);
  }
  if (real->lost_pieces > 0) {
    size_t waiting = 0;
    for (const LoopbackPeerResult& p : real->peers) waiting += !p.seed && !p.completion_s;
    const uint32_t pieces = static_cast<uint32_t>((s.file.size + s.file.piece_size - 1) /
                                                  s.file.piece_size);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "stopped at %.1f s, before stop.max_time (%s): from %.1f s on, %u of the "
                  "%u pieces %s held by no peer present (every holder had left) and no "
                  "seed was due to join, so %zu leecher%s could never complete (`sim run` "
                  "stops too, without the wait and by a wider rule: there a piece held "
                  "only by free riders counts as lost)",
                  real->wall_time_s, core::FormatDuration(s.stop.max_time).c_str(),
                  real->lost_since_s, real->lost_pieces, pieces,
                  real->lost_pieces == 1 ? "was" : "were", waiting, waiting == 1 ? "" : "s");
    notes->push_back(buf);
  }
  r.stats.wall_time_s = real->wall_time_s;
  r.stats.end_time = core::Time::Zero() + core::Duration::SecondsF(real->wall_time_s);
  if (real->lost_pieces > 0) {
    r.stats.stop = sim::StopReason::kPiecesLost;
    r.stats.lost_pieces = real->lost_pieces;
  } else if (real->timed_out) {
    r.stats.stop = budget_first ? sim::StopReason::kMaxWall : sim::StopReason::kMaxTime;
  } else {
    r.stats.stop = sim::StopReason::kLeechersDone;
  }
  return r;
}

}  // namespace swarm::net
