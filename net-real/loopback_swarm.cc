#include "net-real/loopback_swarm.h"

#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "core/rng.h"
#include "core/sha256.h"
#include "core/tracker.h"
#include "net-real/event_loop.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"

namespace swarm::net {
namespace {

namespace fs = std::filesystem;

constexpr auto kPoll = std::chrono::milliseconds(20);

struct Member {
  const LoopbackPeerSpec* spec = nullptr;
  // Destroyed in reverse order, also when a run stops without LeaveAll
  // (another peer could not join): the server first, which holds the
  // driver as its sink and can route to it until it is shut down; then the
  // driver, whose links use the dialer.
  std::unique_ptr<Dialer> dialer;
  std::unique_ptr<PeerDriver> driver;
  std::unique_ptr<PeerServer> server;
  std::shared_ptr<const PeerIdentity> identity;
  bool joined = false, left = false;
  DriverProgress last;  // progress at the previous sample (or leave)
  core::Bytes uploaded_at_sample = 0;
  LoopbackPeerResult result;
};

bool WriteContent(const std::string& path, core::Bytes length, uint64_t seed) {
  std::ofstream out(path, std::ios::binary);
  core::Rng rng = core::Rng::ForStream(seed, 0xc0ffee);
  std::vector<uint64_t> buf(1 << 17);
  for (core::Bytes done = 0; done < length;) {
    for (auto& w : buf) w = rng.NextU64();
    core::Bytes n = std::min<core::Bytes>(length - done, core::Bytes(buf.size() * 8));
    out.write(reinterpret_cast<const char*>(buf.data()), n);
    done += n;
  }
  return static_cast<bool>(out);
}

std::optional<core::Sha256Digest> HashWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  core::Sha256Hasher h;
  std::vector<uint8_t> buf(1 << 20);
  while (in) {
    in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size()));
    h.Update(std::span<const uint8_t>(buf.data(), size_t(in.gcount())));
  }
  return h.Finish();
}

double Seconds(core::Time t, core::Time t0) { return (t - t0).seconds(); }

// The copies of each piece among the peers present.
std::vector<uint32_t> PieceCopies(const std::vector<Member>& members, uint32_t piece_count) {
  std::vector<uint32_t> copies(piece_count, 0);
  for (const Member& m : members) {
    if (!m.joined || m.left) continue;
    for (uint32_t i = 0; i < piece_count && i < m.last.have.size(); ++i) {
      if (m.last.have.Test(i)) ++copies[i];
    }
  }
  return copies;
}

LoopbackSample Sample(std::vector<Member>& members, uint32_t piece_count, double t_s,
                      double interval_s) {
  LoopbackSample s;
  s.time_s = t_s;
  double rate = 0, capacity = 0;
  for (Member& m : members) {
    if (m.result.completion_s) ++s.completed;
    if (!m.joined || m.left) continue;
    m.last = m.driver->Progress();
    (m.last.seed ? s.seeds : s.leechers)++;
    double cap = m.spec->upload_limit.bytes_per_second();
    if (cap > 0) {
      capacity += cap;
      rate += double(m.last.stats.uploaded - m.uploaded_at_sample) / interval_s;
    }
    m.uploaded_at_sample = m.last.stats.uploaded;
  }
  s.upload_utilization = capacity > 0 ? std::min(1.0, rate / capacity) : 0;
  s.piece_copies = PieceCopies(members, piece_count);
  return s;
}

// How many pieces no peer in the swarm can supply any more: none of the
// honest peers present holds them and no honest seed is still to join.
// (Peers that have not joined yet start empty, and a peer serving corrupt
// data never passes on a copy that verifies.) Zero while anyone could still
// supply every piece.
uint32_t PiecesNobodyHolds(const std::vector<Member>& members, uint32_t piece_count) {
  std::vector<uint64_t> held((piece_count + 63) / 64, 0);
  for (const Member& m : members) {
    if (m.spec->corrupt_uploads || m.left) continue;
    if (!m.joined) {
      if (m.spec->seed) return 0;
      continue;
    }
    const DriverProgress p = m.driver->Progress();
    if (p.have.All()) return 0;
    const auto& words = p.have.words();
    for (size_t w = 0; w < held.size() && w < words.size(); ++w) held[w] |= words[w];
  }
  uint32_t count = 0;
  for (uint64_t w : held) count += static_cast<uint32_t>(std::popcount(w));
  return piece_count - count;
}

// The run's folder: config.work_dir, or a fresh temporary one (removed by
// the caller). nullopt and *error if it cannot be made.
std::optional<fs::path> MakeWorkDir(const LoopbackSwarmConfig& config, std::string* error) {
  fs::path work = config.work_dir;
  if (config.work_dir.empty()) {
    std::error_code ec;  // TMPDIR naming no folder: said, not thrown
    const fs::path tmp = fs::temp_directory_path(ec);
    if (ec) {
      *error = "no temporary folder: " + ec.message() + " (check TMPDIR)";
      return std::nullopt;
    }
    work = tmp / ("swarm_loopback_" + std::to_string(::getpid()) + "_" +
                  std::to_string(SteadyNow().micros()));
  }
  if (std::error_code ec; !fs::create_directories(work, ec) && ec) {
    *error = "cannot create " + work.string() + ": " + ec.message();
    return std::nullopt;
  }
  return work;
}

// Removes a temporary folder when the run ends, however it ends.
struct Cleanup {
  fs::path p;
  bool on;
  ~Cleanup() {
    std::error_code ec;
    if (on) fs::remove_all(p, ec);
  }
};

// Writes the content drawn from the run seed to `content` and describes it
// as a torrent. nullopt and *error on failure.
std::optional<core::TorrentInfo> MakeContent(const LoopbackSwarmConfig& config,
                                             const std::string& content, std::string* error) {
  if (!WriteContent(content, config.file_length, config.seed)) {
    *error = "cannot write " + content;
    return std::nullopt;
  }
  HashError hash_error;
  auto info = HashFile(content, config.file_name, config.piece_length, &hash_error);
  if (!info) {
    *error = hash_error.message;
    return std::nullopt;
  }
  return info;
}

// What one round over the peers found.
struct Round {
  bool all_done = true;  // every peer joined, every leecher present completed
  std::string fatal;     // a peer's driver gave up (its disk failed)
};

// The peers of one run: starts them when they are due, lets them leave,
// and turns what they did into results. Times are seconds since `t0`.
class Swarm {
 public:
  Swarm(const LoopbackSwarmConfig& config, const fs::path& work, const std::string& content,
        const core::TorrentInfo& info, TrackerClient* client)
      : config_(config), work_(work), content_(content), info_(info), client_(client),
        members_(config.peers.size()),
        places_(std::make_shared<std::map<core::PeerId, uint64_t>>()) {
    // Each peer proves its id with its own key (peer_auth.h), so ids are the
    // keys' and no longer the peers' places. The places, which a spec's
    // delay_from speaks of, are looked up by id.
    for (size_t i = 0; i < members_.size(); ++i) {
      members_[i].spec = &config.peers[i];
      members_[i].result.peer_class = config.peers[i].peer_class;
      members_[i].result.seed = config.peers[i].seed;
      members_[i].identity = PeerIdentity::Generate();
      (*places_)[members_[i].identity->id()] = i;
    }
  }

  // One round in join order: starts the peers whose time has come, lets
  // those due leave, records first pieces and completions. false and
  // *error when a peer cannot start.
  bool VisitPeers(core::Time t0, core::Duration elapsed, Round* round, std::string* error) {
    for (size_t k = 0; k < members_.size(); ++k) {
      const size_t i = config_.join_order.empty() ? k : config_.join_order[k];
      Member& m = members_[i];
      if (!m.joined) {
        if (m.spec->join_at <= elapsed && !Join(i, t0, error)) {
          // As a disk failure later on is reported: which peer, and that
          // the run is void.
          *error = "peer " + std::to_string(i) + " (" + m.spec->peer_class + "): " + *error +
                   "; the run stopped, nothing written";
          return false;
        }
        round->all_done = false;
        continue;
      }
      if (m.left) continue;
      if (m.spec->leave_at && elapsed >= *m.spec->leave_at) {
        Leave(m, t0, true);
        continue;
      }
      DriverProgress p = m.driver->Progress();
      if (!p.fatal_error.empty()) {
        round->fatal = "peer " + std::to_string(i) + " (" + m.spec->peer_class + "): " +
                       p.fatal_error;
        return true;
      }
      RecordProgress(m, p, t0, elapsed, round);
    }
    return true;
  }

  LoopbackSample TakeSample(double t_s, double interval_s) {
    return Sample(members_, info_.piece_count(), t_s, interval_s);
  }
  uint32_t LostPieces() const { return PiecesNobodyHolds(members_, info_.piece_count()); }

  // The end of the run: every peer still present leaves (no leave_s).
  void LeaveAll(core::Time t0) {
    for (Member& m : members_) {
      if (m.joined && !m.left) Leave(m, t0, false);
    }
  }

  // Each peer's result, its copy checked against the content's SHA-256
  // `want` if it completed.
  std::vector<LoopbackPeerResult> Results(const std::optional<core::Sha256Digest>& want) {
    std::vector<LoopbackPeerResult> out;
    for (size_t i = 0; i < members_.size(); ++i) {
      Member& m = members_[i];
      m.result.bytes_uploaded = m.last.stats.uploaded;
      m.result.bytes_downloaded = m.last.stats.downloaded;
      m.result.bytes_wasted = m.last.stats.wasted;
      m.result.peers_banned = m.last.stats.peers_banned;
      m.result.pieces_failed = m.last.stats.pieces_failed;
      if (m.spec->seed) {
        m.result.verified = true;
      } else if (m.result.completion_s) {
        auto got = HashWholeFile((PeerDir(i) / config_.file_name).string());
        m.result.verified = got && want && *got == *want;
      }
      out.push_back(m.result);
    }
    return out;
  }

 private:
  fs::path PeerDir(size_t i) const { return work_ / ("peer-" + std::to_string(i)); }

  bool Join(size_t i, core::Time t0, std::string* error) {
    Member& m = members_[i];
    m.server = PeerServer::Start("127.0.0.1:0", error);
    if (!m.server) return false;
    std::unique_ptr<PieceStore> store;
    core::Bitfield have;
    if (!OpenStore(i, &store, &have, error)) return false;
    m.dialer = std::make_unique<Dialer>();
    m.driver = std::make_unique<PeerDriver>(info_, std::move(store), have, DriverOptionsOf(i),
                                            client_, m.dialer.get());
    // Unregistered, the server answers every handshake "no such torrent
    // here": a dial to this peer fails, as one to a peer behind a NAT does.
    if (m.spec->connectable) m.server->Register(info_.info_hash(), m.driver.get());
    if (!m.driver->Start(error)) {
      m.server->Shutdown();  // it may know the driver, which never ran
      return false;
    }
    m.joined = true;
    m.result.join_s = Seconds(SteadyNow(), t0);
    return true;
  }

  // A seed serves the content itself; a leecher downloads into its own
  // folder.
  bool OpenStore(size_t i, std::unique_ptr<PieceStore>* store, core::Bitfield* have,
                 std::string* error) {
    if (members_[i].spec->seed) {
      *store = PieceStore::OpenComplete(content_, info_, error);
      *have = core::Bitfield(info_.piece_count(), true);
    } else {
      fs::path dir = PeerDir(i);
      std::error_code ec;  // the throwing form would end the process
      if (!fs::create_directories(dir, ec) && ec) {
        *error = "cannot create " + dir.string() + ": " + ec.message();
        return false;
      }
      *store = PieceStore::OpenForDownload(dir.string(), info_, error);
      if (*store) *have = (*store)->Recheck();
    }
    return *store != nullptr;
  }

  DriverOptions DriverOptionsOf(size_t i) const {
    const Member& m = members_[i];
    const LoopbackPeerSpec& spec = *m.spec;
    DriverOptions o;
    // As in the simulator, peer i draws from Rng stream i of the seed.
    o.identity = m.identity;
    o.rng_stream = i;
    o.run_seed = config_.seed;
    o.peer = spec.config;
    o.endpoint = "127.0.0.1:" + std::to_string(m.server->port());
    o.upload_limit = spec.upload_limit;
    o.download_limit = spec.download_limit;
    o.added_delay = spec.added_delay;
    if (spec.delay_from) {
      o.delay_from = [f = spec.delay_from, places = places_](core::PeerId remote) {
        auto it = places->find(remote);
        return it == places->end() ? core::Duration::Zero() : f(core::PeerId(it->second));
      };
    }
    o.corrupt_uploads = spec.corrupt_uploads;
    return o;
  }

  // A scheduled leave records leave_s; the end of the run does not.
  void Leave(Member& m, core::Time t0, bool scheduled) {
    m.driver->Stop(core::Duration::Millis(500));
    m.last = m.driver->Progress();
    m.server->Shutdown();
    m.left = true;
    if (scheduled) m.result.leave_s = Seconds(SteadyNow(), t0);
  }

  void RecordProgress(Member& m, const DriverProgress& p, core::Time t0,
                      core::Duration elapsed, Round* round) {
    if (p.first_piece_time && !m.result.first_piece_s) {
      m.result.first_piece_s = Seconds(*p.first_piece_time, t0);
    }
    if (p.completion_time && !m.result.completion_s) {
      m.result.completion_s = Seconds(*p.completion_time, t0);
    }
    // Like the simulator: the run ends when every leecher present has
    // completed; pending scheduled leaves do not hold it open.
    if (!m.spec->seed && !m.result.completion_s) round->all_done = false;
    if (m.spec->leave_after_completion && m.result.completion_s &&
        elapsed.seconds() >= *m.result.completion_s + m.spec->leave_after_completion->seconds()) {
      Leave(m, t0, true);
    }
  }

  const LoopbackSwarmConfig& config_;
  const fs::path work_;
  const std::string content_;
  const core::TorrentInfo& info_;
  TrackerClient* client_;
  std::vector<Member> members_;
  std::shared_ptr<std::map<core::PeerId, uint64_t>> places_;
};

// Whether the run stops early (recorded in `result`): a piece lost for good,
// the time limit, or an interruption. `lost_since`: since when some piece
// has had no holder.
bool StopsEarly(const LoopbackSwarmConfig& config, const Swarm& swarm, core::Time t0,
                core::Time now, std::optional<core::Time>* lost_since, LoopbackResult* result) {
  // Leechers still wait, but a piece has nobody left to send it: waiting
  // for the time limit (minutes, or hours of wall-clock time) would only
  // record the same stalled state over and over.
  const uint32_t lost = swarm.LostPieces();
  if (lost == 0) {
    lost_since->reset();
  } else if (!*lost_since) {
    *lost_since = now;
  } else if (now - **lost_since >= config.lost_piece_grace) {
    result->lost_pieces = lost;
    result->lost_since_s = Seconds(**lost_since, t0);
    return true;
  }
  if (now - t0 >= config.time_limit) {
    result->timed_out = true;
    return true;
  }
  if (config.interrupted && config.interrupted()) {
    result->interrupted = true;
    return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> LoopbackSwarmConfig::Validate() const {
  if (peers.empty()) return "peers: none configured";
  if (peers.size() > LoopbackSwarmConfig::kMaxPeers) {
    return "peers: " + std::to_string(peers.size()) + " is more than one machine can run "
           "in real time (at most " + std::to_string(LoopbackSwarmConfig::kMaxPeers) + ")";
  }
  if (file_length <= 0 || file_length > LoopbackSwarmConfig::kMaxFile) return "file_length: must be 1 B .. 1 GiB";
  if (piece_length <= 0) return "piece_length: must be positive";
  bool any_seed = false;
  for (size_t i = 0; i < peers.size(); ++i) {
    any_seed |= peers[i].seed;
    if (auto e = peers[i].config.Validate()) return "peers[" + std::to_string(i) + "]: " + *e;
  }
  if (!any_seed) return "peers: at least one must start as a seed";
  if (!join_order.empty()) {
    std::vector<bool> seen(peers.size(), false);
    bool ok = join_order.size() == peers.size();
    for (size_t k = 0; ok && k < join_order.size(); ++k) {
      ok = join_order[k] < peers.size() && !seen[join_order[k]];
      if (ok) seen[join_order[k]] = true;
    }
    if (!ok) return "join_order: must be a permutation of the peers' places";
  }
  if (sample_interval <= core::Duration::Zero()) return "sample_interval: must be positive";
  if (lost_piece_grace < core::Duration::Zero()) return "lost_piece_grace: must not be negative";
  if (auto e = tracker.Validate()) return "tracker: " + *e;
  return std::nullopt;
}

std::optional<LoopbackResult> RunLoopbackSwarm(const LoopbackSwarmConfig& config,
                                               std::string* error) {
  if (auto e = config.Validate()) {
    *error = *e;
    return std::nullopt;
  }
  auto work = MakeWorkDir(config, error);
  if (!work) return std::nullopt;
  Cleanup cleanup{*work, config.work_dir.empty()};
  // The name is joined to folders and written: a path ("../x") would
  // write outside them.
  if (!SafeFileName(config.file_name)) {
    *error = "file name '" + config.file_name + "' is not a plain file name";
    return std::nullopt;
  }
  const std::string content = (*work / config.file_name).string();
  auto info = MakeContent(config, content, error);
  if (!info) return std::nullopt;
  auto want = HashWholeFile(content);

  auto tracker = TrackerServer::Start("127.0.0.1:0", config.tracker, config.seed, error);
  if (!tracker) return std::nullopt;
  TrackerClient client("127.0.0.1:" + std::to_string(tracker->port()));
  if (!client.Publish(*info, error)) return std::nullopt;

  Swarm swarm(config, *work, content, *info, &client);
  LoopbackResult result;
  core::Time t0 = SteadyNow();
  result.started = t0;
  core::Time next_sample = t0;
  double interval_s = config.sample_interval.seconds();
  std::optional<core::Time> lost_since;
  Round round;
  for (;;) {
    core::Time now = SteadyNow();
    round = Round();
    if (!swarm.VisitPeers(t0, now - t0, &round, error)) return std::nullopt;
    if (now >= next_sample) {
      // Stamped after this round's joins and leaves, whose join_s and
      // leave_s are read as they finish: a row then counts exactly the peers
      // that peers.csv says were present at its time.
      result.timeline.push_back(swarm.TakeSample(Seconds(SteadyNow(), t0), interval_s));
      next_sample = next_sample + config.sample_interval;
    }
    if (round.all_done || !round.fatal.empty()) break;
    if (StopsEarly(config, swarm, t0, now, &lost_since, &result)) break;
    std::this_thread::sleep_for(kPoll);
  }
  result.timeline.push_back(swarm.TakeSample(Seconds(SteadyNow(), t0), interval_s));
  swarm.LeaveAll(t0);
  result.wall_time_s = Seconds(SteadyNow(), t0);
  tracker->Shutdown();
  if (!round.fatal.empty()) {
    // A peer that cannot write stops downloading for a reason the scenario
    // does not describe; its times would read as the swarm's behaviour: the
    // run is void.
    *error = round.fatal + "; the run stopped, nothing written";
    return std::nullopt;
  }
  result.peers = swarm.Results(want);
  return result;
}

}  // namespace swarm::net
