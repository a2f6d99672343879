// LoopbackSwarm: a small real swarm in one process, with shaping.
#include "net-real/loopback_swarm.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>


namespace swarm::net {
namespace {

LoopbackPeerSpec Seed() {
  LoopbackPeerSpec s;
  s.peer_class = "seed";
  s.seed = true;
  return s;
}

TEST(LoopbackSwarmTest, EveryLeecherCompletesWithVerifiedCopy) {
  LoopbackSwarmConfig c;
  c.file_length = 4 * core::kMiB + 12345;  // short last piece
  c.sample_interval = core::Duration::Millis(100);
  c.peers.push_back(Seed());
  for (int i = 0; i < 4; ++i) {
    LoopbackPeerSpec l;
    l.peer_class = "leecher";
    l.join_at = core::Duration::Millis(100 * i);
    l.added_delay = core::Duration::Millis(5);
    c.peers.push_back(l);
  }
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  ASSERT_EQ(r->peers.size(), 5u);
  core::Bytes downloaded = 0;
  for (size_t i = 1; i < r->peers.size(); ++i) {
    const auto& p = r->peers[i];
    ASSERT_TRUE(p.completion_s) << "peer " << i;
    ASSERT_TRUE(p.first_piece_s);
    EXPECT_TRUE(p.verified) << "peer " << i;
    EXPECT_LE(*p.join_s, *p.first_piece_s);
    EXPECT_LE(*p.first_piece_s, *p.completion_s);
    EXPECT_EQ(p.bytes_downloaded, c.file_length);
    downloaded += p.bytes_downloaded;
  }
  core::Bytes uploaded = 0, wasted = 0;
  for (const auto& p : r->peers) {
    uploaded += p.bytes_uploaded;
    wasted += p.bytes_wasted;
  }
  // Every accepted byte was sent by someone. Extra sends are end-game
  // duplicates the receivers counted as waste, or blocks that were in
  // flight when their connection was dropped: at most a pipeline's worth
  // per connection, and each leecher holds one to every other peer (a
  // duplicate is dropped at the handshake, before any request), all of
  // which may part at once when it completes (a seed or a completed
  // neighbour drops it on its last Have). No connection is made twice in
  // a run this short, or this bound would not hold.
  EXPECT_GE(uploaded, downloaded);
  core::PeerConfig pc;
  const core::Bytes leechers = c.peers.size() - 1, connections_each = c.peers.size() - 1;
  core::Bytes in_flight =
      leechers * connections_each * core::Bytes(pc.request_pipeline) * pc.block_size;
  EXPECT_LE(uploaded, downloaded + wasted + in_flight);
  ASSERT_GE(r->timeline.size(), 2u);
  EXPECT_EQ(r->timeline.back().completed, 4u);
  EXPECT_EQ(r->timeline.back().seeds, 5u);
  // At the end all five hold every piece.
  const auto pieces = static_cast<size_t>((c.file_length + c.piece_length - 1) / c.piece_length);
  EXPECT_EQ(r->timeline.back().piece_copies, std::vector<uint32_t>(pieces, 5));
  // Every row: the seed's copy of each piece, at most one per peer.
  for (const LoopbackSample& t : r->timeline) {
    ASSERT_EQ(t.piece_copies.size(), pieces) << t.time_s;
    for (uint32_t copies : t.piece_copies) {
      EXPECT_GE(copies, 1u) << t.time_s;
      EXPECT_LE(copies, 5u) << t.time_s;
    }
  }
}

// Leechers that accept no connections (connectable = false) can only dial
// out: with nobody else connectable but the seed, each gets everything from
// the seed and uploads nothing.
TEST(LoopbackSwarmTest, UnconnectableLeechersReachOnlyTheSeed) {
  LoopbackSwarmConfig c;
  c.file_length = 2 * core::kMiB;
  c.sample_interval = core::Duration::Millis(100);
  c.peers.push_back(Seed());
  for (int i = 0; i < 3; ++i) {
    LoopbackPeerSpec l;
    l.peer_class = "natted";
    l.connectable = false;
    l.join_at = core::Duration::Millis(50 * i);
    c.peers.push_back(l);
  }
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  for (size_t i = 1; i < r->peers.size(); ++i) {
    ASSERT_TRUE(r->peers[i].completion_s) << "peer " << i;
    EXPECT_TRUE(r->peers[i].verified) << "peer " << i;
    EXPECT_EQ(r->peers[i].bytes_uploaded, 0) << "peer " << i << " was reached";
  }
  EXPECT_GE(r->peers[0].bytes_uploaded, 3 * c.file_length);
}

TEST(LoopbackSwarmTest, UploadLimitBoundsTheDownloadTime) {
  LoopbackSwarmConfig c;
  c.file_length = 4 * core::kMiB;
  LoopbackPeerSpec seed = Seed();
  seed.upload_limit = core::Rate::BytesPerSecond(2 * core::kMiB);
  c.peers.push_back(seed);
  LoopbackPeerSpec l;
  c.peers.push_back(l);
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  const auto& p = r->peers[1];
  ASSERT_TRUE(p.completion_s);
  EXPECT_TRUE(p.verified);
  // 4 MiB at 2 MiB/s, less the 256 KiB burst: at least ~1.87 s.
  EXPECT_GE(*p.completion_s - *p.join_s, 1.7);
  // The upper bound only says the transfer did not stall; it is loose, for
  // a loaded CI machine.
  EXPECT_LE(*p.completion_s - *p.join_s, 20.0);
}

// Delays are per pair: each message waits the delay its receiver assigns to
// the peer that sent it (a scenario's latency model in swarm run-scenario).
TEST(LoopbackSwarmTest, DelayIsChosenPerSendingPeer) {
  LoopbackSwarmConfig c;
  c.file_length = 512 * core::kKiB;
  c.peers.push_back(Seed());
  std::mutex mu;
  std::set<uint64_t> asked[3];
  for (int i = 1; i <= 2; ++i) {
    LoopbackPeerSpec l;
    l.config.request_pipeline = 32;  // the whole file in one round trip
    const core::Duration d = core::Duration::Millis(i == 1 ? 700 : 0);
    l.delay_from = [&mu, &asked, i, d](core::PeerId from) {
      std::lock_guard<std::mutex> lock(mu);
      asked[i].insert(from.value());
      return d;
    };
    c.peers.push_back(l);
  }
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  ASSERT_FALSE(r->timed_out);
  const auto& slow = r->peers[1];
  const auto& fast = r->peers[2];
  ASSERT_TRUE(slow.first_piece_s && fast.first_piece_s);
  EXPECT_TRUE(slow.verified && fast.verified);
  // Peer 1 hears the seed's handshake and then its first block 700 ms late.
  EXPECT_GE(*slow.first_piece_s - *slow.join_s, 1.4);
  EXPECT_LT(*fast.first_piece_s - *fast.join_s, *slow.first_piece_s - *slow.join_s);
  // Each asked about exactly the peers it talked to, by their ids.
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(asked[1], (std::set<uint64_t>{0, 2}));
  EXPECT_EQ(asked[2], (std::set<uint64_t>{0, 1}));
}

TEST(LoopbackSwarmTest, RefusesWhatOneMachineCannotHonour) {
  LoopbackSwarmConfig c;
  c.peers.assign(65, LoopbackPeerSpec());
  c.peers[0].seed = true;
  std::string error;
  EXPECT_FALSE(RunLoopbackSwarm(c, &error));
  EXPECT_NE(error.find("at most 64"), std::string::npos) << error;
  c.peers.assign(3, LoopbackPeerSpec());
  EXPECT_TRUE(c.Validate().has_value());  // no seed
}

// Peers due at one instant start in join_order (run-scenario passes the
// simulator's random order), not in place order; anything but a
// permutation of the places is refused.
TEST(LoopbackSwarmTest, PeersDueTogetherStartInJoinOrder) {
  LoopbackSwarmConfig c;
  c.file_length = 256 * core::kKiB;
  c.peers.push_back(Seed());
  for (int i = 0; i < 3; ++i) {
    LoopbackPeerSpec l;
    l.peer_class = "leecher";
    c.peers.push_back(l);
  }
  c.join_order = {2, 0, 3, 1};
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->peers.size(), 4u);
  for (const auto& p : r->peers) ASSERT_TRUE(p.join_s);
  EXPECT_LT(*r->peers[2].join_s, *r->peers[0].join_s);
  EXPECT_LT(*r->peers[0].join_s, *r->peers[3].join_s);
  EXPECT_LT(*r->peers[3].join_s, *r->peers[1].join_s);
  c.join_order = {2, 0, 3};
  EXPECT_TRUE(c.Validate().has_value());
  c.join_order = {2, 0, 3, 2};
  EXPECT_TRUE(c.Validate().has_value());
  c.join_order = {2, 0, 3, 4};
  EXPECT_TRUE(c.Validate().has_value());
}

TEST(LoopbackSwarmTest, CorruptingSeedIsBannedAndCopiesStayCorrect) {
  LoopbackSwarmConfig c;
  c.file_length = 8 * core::kMiB;
  c.time_limit = core::Duration::Seconds(60);
  // The honest seed comes a little later, so that the liar alone serves the
  // first pieces: a piece that fails with a single supplier gets it banned.
  // (Side by side, a leecher's failed pieces could all be mixed, re-fetched
  // on parole from the honest seed, and blame nobody: correct, but then
  // nothing here would show a ban. With both seeds from the start the test
  // failed about once in seven suite runs under load, output not kept; this
  // is the likeliest reason.)
  LoopbackPeerSpec honest = Seed();
  honest.join_at = core::Duration::Millis(300);
  c.peers.push_back(honest);
  LoopbackPeerSpec liar = Seed();
  liar.peer_class = "liar";
  liar.corrupt_uploads = true;
  c.peers.push_back(liar);
  for (int i = 0; i < 2; ++i) c.peers.push_back(LoopbackPeerSpec());
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  uint32_t failed = 0, banned = 0;
  for (size_t i = 2; i < r->peers.size(); ++i) {
    const auto& p = r->peers[i];
    EXPECT_TRUE(p.completion_s && p.verified) << "peer " << i;
    failed += p.pieces_failed;
    banned += p.peers_banned;
    std::printf("leecher %zu: pieces_failed=%u peers_banned=%u\n", i, p.pieces_failed,
                p.peers_banned);
    EXPECT_LE(p.peers_banned, 1u) << "peer " << i << " banned the honest seed too";
  }
  EXPECT_GE(failed, 1u) << "the liar served nothing: the test proved nothing";
  EXPECT_GE(banned, 1u) << "pieces failed, yet nobody banned the liar";
}

// The only seed leaves after sending at most a few of the 16 pieces: the
// leechers can never complete, and the run says so soon after instead of
// waiting for its time limit.
TEST(LoopbackSwarmTest, StopsOnceAPieceHasNoHolderLeft) {
  LoopbackSwarmConfig c;
  c.file_length = 4 * core::kMiB;
  c.time_limit = core::Duration::Seconds(60);
  LoopbackPeerSpec seed = Seed();
  seed.upload_limit = core::Rate::BytesPerSecond(core::kMiB);
  seed.leave_at = core::Duration::Millis(500);
  c.peers.push_back(seed);
  for (int i = 0; i < 2; ++i) c.peers.push_back(LoopbackPeerSpec());
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  // At 1 MiB/s for half a second, the seed sent no more than 3 pieces.
  EXPECT_GE(r->lost_pieces, 13u);
  EXPECT_GE(r->lost_since_s, 0.5);
  // Noticed soon after the seed left at 0.5 s, and the run ended 2 s (the
  // grace) later, long before the 60 s limit; loose bounds for a loaded
  // CI machine.
  EXPECT_LT(r->lost_since_s, 5.0);
  EXPECT_LT(r->wall_time_s, 30.0);
  EXPECT_TRUE(r->peers[0].leave_s);
  for (size_t i = 1; i < r->peers.size(); ++i) EXPECT_FALSE(r->peers[i].completion_s);
}

// Pieces nobody present holds are not lost while a seed is still to join:
// the second seed arrives after the grace period and everyone completes.
TEST(LoopbackSwarmTest, WaitsForASeedStillDueToJoin) {
  LoopbackSwarmConfig c;
  c.file_length = 4 * core::kMiB;
  c.time_limit = core::Duration::Seconds(60);
  c.lost_piece_grace = core::Duration::Seconds(1);
  LoopbackPeerSpec early = Seed();
  early.upload_limit = core::Rate::BytesPerSecond(core::kMiB);
  early.leave_at = core::Duration::Millis(300);
  c.peers.push_back(early);
  LoopbackPeerSpec late = Seed();
  late.join_at = core::Duration::Millis(2500);
  c.peers.push_back(late);
  for (int i = 0; i < 2; ++i) c.peers.push_back(LoopbackPeerSpec());
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->lost_pieces, 0u);
  for (size_t i = 2; i < r->peers.size(); ++i) {
    EXPECT_TRUE(r->peers[i].completion_s && r->peers[i].verified) << "peer " << i;
  }
}

// A peer serving corrupt data holds every piece, yet no copy it sends
// passes the hash check: once the honest seed has left, pieces are lost.
TEST(LoopbackSwarmTest, CorruptCopiesDoNotKeepAPieceAlive) {
  LoopbackSwarmConfig c;
  c.file_length = 4 * core::kMiB;
  c.time_limit = core::Duration::Seconds(60);
  c.lost_piece_grace = core::Duration::Seconds(1);
  LoopbackPeerSpec seed = Seed();
  seed.upload_limit = core::Rate::BytesPerSecond(core::kMiB);
  seed.leave_at = core::Duration::Millis(300);
  c.peers.push_back(seed);
  LoopbackPeerSpec liar = Seed();
  liar.peer_class = "liar";
  liar.corrupt_uploads = true;
  c.peers.push_back(liar);
  for (int i = 0; i < 2; ++i) c.peers.push_back(LoopbackPeerSpec());
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->timed_out);
  EXPECT_GE(r->lost_pieces, 1u);
  EXPECT_LT(r->wall_time_s, 30.0);  // not the 60 s limit
}

// A leecher whose disk fails (here: its partial file is deleted under it)
// gives up; the run must say so, not go on as if that peer were just slow
// and report its stall as the swarm's behaviour.
TEST(LoopbackSwarmTest, APeersDiskFailureStopsTheRunWithItsReason) {
  namespace fs = std::filesystem;
  const fs::path work = fs::path(testing::TempDir()) /
                        ("loopback_disk_" + std::to_string(::getpid()));
  fs::remove_all(work);
  LoopbackSwarmConfig c;
  c.work_dir = work.string();
  c.file_length = 4 * core::kMiB;
  c.time_limit = core::Duration::Seconds(60);
  LoopbackPeerSpec seed = Seed();
  seed.upload_limit = core::Rate::BytesPerSecond(core::kMiB);  // about 4 s
  c.peers.push_back(seed);
  c.peers.push_back(LoopbackPeerSpec());
  // Deletes peer 1's partial file as soon as it exists.
  std::atomic<bool> deleted = false, done = false;
  std::thread remover([&] {
    while (!done && !deleted) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(work / "peer-1", ec)) {
        if (e.path().extension() == ".part" && fs::remove(e.path(), ec)) deleted = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  done = true;
  remover.join();
  fs::remove_all(work);
  ASSERT_TRUE(deleted);
  EXPECT_FALSE(r);
  EXPECT_NE(error.find("peer 1 (default): "), std::string::npos) << error;
  EXPECT_NE(error.find("was deleted during the download"), std::string::npos) << error;
}

// A peer that cannot even start (its folder cannot be made, its partial
// file not created) is named, and the run is void, as for a disk failure
// later on.
TEST(LoopbackSwarmTest, APeerThatCannotStartStopsTheRunWithItsName) {
  namespace fs = std::filesystem;
  const fs::path work = fs::path(testing::TempDir()) /
                        ("loopback_start_" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  std::FILE* in_the_way = std::fopen((work / "peer-1").c_str(), "w");  // not a folder
  ASSERT_NE(in_the_way, nullptr);
  std::fclose(in_the_way);
  LoopbackSwarmConfig c;
  c.work_dir = work.string();
  c.file_length = core::kMiB;
  c.peers.push_back(Seed());
  LoopbackPeerSpec leecher;
  leecher.peer_class = "leecher";
  c.peers.push_back(leecher);
  std::string error;
  auto r = RunLoopbackSwarm(c, &error);
  fs::remove_all(work);
  EXPECT_FALSE(r);
  EXPECT_EQ(error.rfind("peer 1 (leecher): ", 0), 0u) << error;
  EXPECT_NE(error.find("peer-1"), std::string::npos) << error;
  const std::string tail = "; the run stopped, nothing written";
  ASSERT_GE(error.size(), tail.size());
  EXPECT_EQ(error.substr(error.size() - tail.size()), tail) << error;
}

}  // namespace
}  // namespace swarm::net
