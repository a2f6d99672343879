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
  std::unique_ptr<PeerServer> server;
  std::unique_ptr<Dialer> dialer;
  std::unique_ptr<PeerDriver> driver;
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
  bool temp_dir = config.work_dir.empty();
  fs::path work = config.work_dir;
  if (temp_dir) {
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
  struct Cleanup {
    fs::path p;
    bool on;
    ~Cleanup() {
      std::error_code ec;
      if (on) fs::remove_all(p, ec);
    }
  } cleanup{work, temp_dir};

  // The name is joined to folders and written: a path ("../x") would
  // write outside them.
  if (!SafeFileName(config.file_name)) {
    *error = "file name '" + config.file_name + "' is not a plain file name";
    return std::nullopt;
  }
  std::string content = (work / config.file_name).string();
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
  auto want = HashWholeFile(content);

  auto tracker = TrackerServer::Start("127.0.0.1:0", config.tracker, config.seed, error);
  if (!tracker) return std::nullopt;
  TrackerClient client("127.0.0.1:" + std::to_string(tracker->port()));
  if (!client.Publish(*info, error)) return std::nullopt;

  std::vector<Member> members(config.peers.size());
  // Each peer proves its id with its own key (peer_auth.h), so ids are the
  // keys' and no longer the peers' places. The places, which a spec's
  // delay_from speaks of, are looked up by id.
  auto places = std::make_shared<std::map<core::PeerId, uint64_t>>();
  for (size_t i = 0; i < members.size(); ++i) {
    members[i].spec = &config.peers[i];
    members[i].result.peer_class = config.peers[i].peer_class;
    members[i].result.seed = config.peers[i].seed;
    members[i].identity = PeerIdentity::Generate();
    (*places)[members[i].identity->id()] = i;
  }
  auto join = [&](size_t i, core::Time t0) -> bool {
    Member& m = members[i];
    const LoopbackPeerSpec& spec = *m.spec;
    m.server = PeerServer::Start("127.0.0.1:0", error);
    if (!m.server) return false;
    std::unique_ptr<PieceStore> store;
    core::Bitfield have;
    if (spec.seed) {
      store = PieceStore::OpenComplete(content, *info, error);
      have = core::Bitfield(info->piece_count(), true);
    } else {
      fs::path dir = work / ("peer-" + std::to_string(i));
      std::error_code ec;  // the throwing form would end the process
      if (!fs::create_directories(dir, ec) && ec) {
        *error = "cannot create " + dir.string() + ": " + ec.message();
        return false;
      }
      store = PieceStore::OpenForDownload(dir.string(), *info, error);
      if (store) have = store->Recheck();
    }
    if (!store) return false;
    DriverOptions o;
    // As in the simulator, peer i draws from Rng stream i of the seed.
    o.identity = m.identity;
    o.rng_stream = i;
    o.run_seed = config.seed;
    o.peer = spec.config;
    o.endpoint = "127.0.0.1:" + std::to_string(m.server->port());
    o.upload_limit = spec.upload_limit;
    o.download_limit = spec.download_limit;
    o.added_delay = spec.added_delay;
    if (spec.delay_from) {
      o.delay_from = [f = spec.delay_from, places](core::PeerId remote) {
        auto it = places->find(remote);
        return it == places->end() ? core::Duration::Zero() : f(core::PeerId(it->second));
      };
    }
    o.corrupt_uploads = spec.corrupt_uploads;
    m.dialer = std::make_unique<Dialer>();
    m.driver = std::make_unique<PeerDriver>(*info, std::move(store), have, o, &client,
                                            m.dialer.get());
    // Unregistered, the server answers every handshake "no such torrent
    // here": a dial to this peer fails, as one to a peer behind a NAT does.
    if (spec.connectable) m.server->Register(info->info_hash(), m.driver.get());
    m.driver->Start();
    m.joined = true;
    m.result.join_s = Seconds(SteadyNow(), t0);
    return true;
  };
  // A scheduled leave records leave_s; the end of the run does not.
  auto leave = [&](Member& m, core::Time t0, bool scheduled) {
    m.driver->Stop(core::Duration::Millis(500));
    m.last = m.driver->Progress();
    m.server->Shutdown();
    m.left = true;
    if (scheduled) m.result.leave_s = Seconds(SteadyNow(), t0);
  };

  LoopbackResult result;
  core::Time t0 = SteadyNow();
  result.started = t0;
  core::Time next_sample = t0;
  double interval_s = config.sample_interval.seconds();
  std::optional<core::Time> lost_since;  // since when some piece has had no holder
  std::string fatal;  // a peer's driver gave up (its disk failed): the run is void
  for (;;) {
    core::Time now = SteadyNow();
    core::Duration elapsed = now - t0;
    bool all_done = true;
    for (size_t k = 0; k < members.size(); ++k) {
      const size_t i = config.join_order.empty() ? k : config.join_order[k];
      Member& m = members[i];
      if (!m.joined) {
        if (m.spec->join_at <= elapsed && !join(i, t0)) {
          // As a disk failure later on is reported (below): which peer,
          // and that the run is void.
          *error = "peer " + std::to_string(i) + " (" + m.spec->peer_class + "): " + *error +
                   "; the run stopped, nothing written";
          return std::nullopt;
        }
        all_done = false;
        continue;
      }
      if (m.left) continue;
      if (m.spec->leave_at && elapsed >= *m.spec->leave_at) {
        leave(m, t0, true);
        continue;
      }
      DriverProgress p = m.driver->Progress();
      if (!p.fatal_error.empty()) {
        fatal = "peer " + std::to_string(i) + " (" + m.spec->peer_class + "): " + p.fatal_error;
        break;
      }
      if (p.first_piece_time && !m.result.first_piece_s) {
        m.result.first_piece_s = Seconds(*p.first_piece_time, t0);
      }
      if (p.completion_time && !m.result.completion_s) {
        m.result.completion_s = Seconds(*p.completion_time, t0);
      }
      // Like the simulator: the run ends when every leecher present has
      // completed; pending scheduled leaves do not hold it open.
      if (!m.spec->seed && !m.result.completion_s) all_done = false;
      if (m.spec->leave_after_completion && m.result.completion_s &&
          elapsed.seconds() >=
              *m.result.completion_s + m.spec->leave_after_completion->seconds()) {
        leave(m, t0, true);
      }
    }
    if (now >= next_sample) {
      // Stamped after this round's joins and leaves, whose join_s and
      // leave_s are read as they finish: a row then counts exactly the peers
      // that peers.csv says were present at its time.
      result.timeline.push_back(
          Sample(members, info->piece_count(), Seconds(SteadyNow(), t0), interval_s));
      next_sample = next_sample + config.sample_interval;
    }
    if (all_done || !fatal.empty()) break;
    // Leechers still wait, but a piece has nobody left to send it: waiting
    // for the time limit (minutes, or hours of wall-clock time) would only
    // record the same stalled state over and over.
    const uint32_t lost = PiecesNobodyHolds(members, info->piece_count());
    if (lost == 0) {
      lost_since.reset();
    } else if (!lost_since) {
      lost_since = now;
    } else if (now - *lost_since >= config.lost_piece_grace) {
      result.lost_pieces = lost;
      result.lost_since_s = Seconds(*lost_since, t0);
      break;
    }
    if (elapsed >= config.time_limit) {
      result.timed_out = true;
      break;
    }
    if (config.interrupted && config.interrupted()) {
      result.interrupted = true;
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  result.timeline.push_back(
      Sample(members, info->piece_count(), Seconds(SteadyNow(), t0), interval_s));
  for (Member& m : members) {
    if (m.joined && !m.left) leave(m, t0, false);
  }
  result.wall_time_s = Seconds(SteadyNow(), t0);
  tracker->Shutdown();
  if (!fatal.empty()) {
    // A peer that cannot write stops downloading for a reason the scenario
    // does not describe; its times would read as the swarm's behaviour.
    *error = fatal + "; the run stopped, nothing written";
    return std::nullopt;
  }
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    m.result.bytes_uploaded = m.last.stats.uploaded;
    m.result.bytes_downloaded = m.last.stats.downloaded;
    m.result.bytes_wasted = m.last.stats.wasted;
    m.result.peers_banned = m.last.stats.peers_banned;
    m.result.pieces_failed = m.last.stats.pieces_failed;
    if (m.spec->seed) {
      m.result.verified = true;
    } else if (m.result.completion_s) {
      auto got = HashWholeFile((work / ("peer-" + std::to_string(i)) / config.file_name).string());
      m.result.verified = got && want && *got == *want;
    }
    result.peers.push_back(m.result);
  }
  return result;
}

}  // namespace swarm::net
