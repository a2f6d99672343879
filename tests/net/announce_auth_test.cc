// Signed tracker announces: the transcript, signing and checking
// (peer_auth.h), the tracker's replay guard (tracker_rpc.h), and a real
// TrackerServer facing forged, replayed and unsigned announces.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/announce.h"
#include "core/torrent_info.h"
#include "core/tracker.h"
#include "net-real/peer_auth.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/tracker_rpc.h"
#include "proto/tracker.grpc.pb.h"
#include "tests/net/signed_announce.h"

namespace swarm::net {
namespace {

using testing::CallAnnounce;
using testing::Resign;
using testing::SignedAnnounce;

constexpr uint64_t kNow = 1'800'000'000'000'000;  // µs: a day in 2027
constexpr uint64_t kSecond = 1'000'000;

core::AnnounceRequest Request(const PeerIdentity& key) {
  core::AnnounceRequest r;
  r.info_hash = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18).info_hash();
  r.peer = core::PeerAddress{key.id(), "10.0.0.1:6881"};
  r.event = core::AnnounceEvent::kStarted;
  r.uploaded = 5;
  r.downloaded = 6;
  r.left = 7;
  r.numwant = 8;
  return r;
}

TEST(SignAnnounceTest, AnHonestAnnounceVerifies) {
  auto key = PeerIdentity::Generate();
  const core::AnnounceRequest r = Request(*key);
  const AnnounceSignature sig = SignAnnounce(*key, r, kNow);
  EXPECT_EQ(sig.public_key, key->public_key());
  EXPECT_EQ(sig.counter, kNow);
  EXPECT_EQ(VerifyAnnounce(r, sig), std::nullopt);
}

// Changing any field after signing (a relay rewriting the endpoint, say,
// or a `stopped` made of a `started`) breaks the signature.
TEST(SignAnnounceTest, EveryFieldIsCovered) {
  auto key = PeerIdentity::Generate();
  const core::AnnounceRequest r = Request(*key);
  const AnnounceSignature sig = SignAnnounce(*key, r, kNow);
  std::vector<std::function<void(core::AnnounceRequest*, AnnounceSignature*)>> tamper = {
      [](auto* a, auto*) { a->info_hash[31] ^= 1; },
      [](auto* a, auto*) { a->peer.endpoint = "10.0.0.66:6881"; },
      [](auto* a, auto*) { a->peer.endpoint = ":6881"; },
      [](auto* a, auto*) { a->event = core::AnnounceEvent::kStopped; },
      [](auto* a, auto*) { a->uploaded += 1; },
      [](auto* a, auto*) { a->downloaded += 1; },
      [](auto* a, auto*) { a->left = 0; },
      [](auto* a, auto*) { a->numwant = 200; },
      [](auto*, auto* s) { s->counter += 1; },
  };
  for (size_t i = 0; i < tamper.size(); ++i) {
    core::AnnounceRequest a = r;
    AnnounceSignature s = sig;
    tamper[i](&a, &s);
    EXPECT_NE(VerifyAnnounce(a, s), std::nullopt) << "tampering #" << i << " went unnoticed";
  }
}

// The attacker knows the victim's id and public key (the handshake shows
// both), but not its private key.
TEST(SignAnnounceTest, AnotherPeersIdIsNotProvenWithoutItsPrivateKey) {
  auto victim = PeerIdentity::Generate();
  auto attacker = PeerIdentity::Generate();
  const core::AnnounceRequest r = Request(*victim);
  // The victim's key, the attacker's signature.
  AnnounceSignature forged{victim->public_key(), kNow, ""};
  forged.signature = attacker->Sign(AnnounceTranscript(r, forged.public_key, forged.counter));
  auto why = VerifyAnnounce(r, forged);
  ASSERT_NE(why, std::nullopt);
  EXPECT_NE(why->find("does not verify"), std::string::npos) << *why;
  // The attacker's own key and a good signature, but the victim's id.
  AnnounceSignature own{attacker->public_key(), kNow, ""};
  own.signature = attacker->Sign(AnnounceTranscript(r, own.public_key, own.counter));
  why = VerifyAnnounce(r, own);
  ASSERT_NE(why, std::nullopt);
  EXPECT_NE(why->find("is not the one its public key names"), std::string::npos) << *why;
}

// A peer-auth proof is no announce signature, nor the other way round: the
// two transcripts start with different labels.
TEST(SignAnnounceTest, TheTranscriptIsDomainSeparated) {
  auto key = PeerIdentity::Generate();
  const std::string t = AnnounceTranscript(Request(*key), key->public_key(), kNow);
  EXPECT_NE(t.find("swarmlab tracker-announce v1"), std::string::npos);
  EXPECT_EQ(t.find("peer-auth"), std::string::npos);
}

TEST(SignAnnounceTest, MissingOrMalformedProofsAreRefused) {
  auto key = PeerIdentity::Generate();
  const core::AnnounceRequest r = Request(*key);
  const AnnounceSignature good = SignAnnounce(*key, r, kNow);
  auto refused = [&](AnnounceSignature s) { return VerifyAnnounce(r, s).has_value(); };
  EXPECT_TRUE(refused(AnnounceSignature{}));
  EXPECT_TRUE(refused(AnnounceSignature{good.public_key, good.counter, ""}));
  EXPECT_TRUE(refused(AnnounceSignature{"", good.counter, good.signature}));
  EXPECT_TRUE(refused(AnnounceSignature{good.public_key.substr(1), good.counter, good.signature}));
  EXPECT_TRUE(refused(AnnounceSignature{good.public_key, good.counter, good.signature + "x"}));
  EXPECT_TRUE(refused(
      AnnounceSignature{good.public_key, good.counter, std::string(kSignatureBytes, '\0')}));
  // A 32-byte string that is no curve point, with an id made to match it.
  const std::string junk(kPublicKeyBytes, '\xff');
  core::AnnounceRequest junk_request = r;
  junk_request.peer.id = PeerIdFromPublicKey(junk);
  EXPECT_TRUE(VerifyAnnounce(junk_request, AnnounceSignature{junk, kNow, good.signature}));
}

TEST(PeerIdentityTest, AnnounceCountersStrictlyIncrease) {
  auto key = PeerIdentity::Generate();
  EXPECT_EQ(key->NextAnnounceCounter(kNow), kNow);
  EXPECT_EQ(key->NextAnnounceCounter(kNow), kNow + 1);           // same microsecond
  EXPECT_EQ(key->NextAnnounceCounter(kNow - kSecond), kNow + 2);  // clock stepped back
  EXPECT_EQ(key->NextAnnounceCounter(kNow + kSecond), kNow + kSecond);
}

// A clock an hour fast, then corrected: counters an hour ahead would be
// refused by every tracker until real time caught up, so they start again
// from the clock. A smaller correction keeps them increasing.
TEST(PeerIdentityTest, AnnounceCountersFollowAClockCorrectedBackByMoreThanTheWindow) {
  auto key = PeerIdentity::Generate();
  EXPECT_EQ(key->NextAnnounceCounter(kNow + 3600 * kSecond), kNow + 3600 * kSecond);
  EXPECT_EQ(key->NextAnnounceCounter(kNow), kNow);
  EXPECT_EQ(key->NextAnnounceCounter(kNow), kNow + 1);
  EXPECT_EQ(key->NextAnnounceCounter(kNow + 60 * kSecond), kNow + 60 * kSecond);
  EXPECT_EQ(key->NextAnnounceCounter(kNow), kNow + 60 * kSecond + 1);  // within the window
}

// --- AnnounceReplayGuard ----------------------------------------------------

const core::InfoHash kHash = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18).info_hash();
const core::InfoHash kOtherHash =
    core::TorrentInfo::Synthetic("g.bin", 1 << 20, 1 << 18).info_hash();

bool Take(AnnounceReplayGuard* g, uint64_t id, uint64_t counter, uint64_t now = kNow,
          const core::InfoHash& hash = kHash) {
  if (g->Check(hash, core::PeerId(id), counter, now)) return false;
  g->Accept(hash, core::PeerId(id), counter, now);
  return true;
}

TEST(AnnounceReplayGuardTest, ARepeatOrOlderCounterIsRefused) {
  AnnounceReplayGuard g;
  EXPECT_TRUE(Take(&g, 1, kNow));
  EXPECT_FALSE(Take(&g, 1, kNow));  // the same announce again
  auto why = g.Check(kHash, core::PeerId(1), kNow, kNow);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("replayed"), std::string::npos) << *why;
  EXPECT_TRUE(Take(&g, 1, kNow + 10));
  EXPECT_FALSE(Take(&g, 1, kNow + 5));  // an older one arriving late
  // Other peers, and the same peer for another file, count apart.
  EXPECT_TRUE(Take(&g, 2, kNow));
  EXPECT_TRUE(Take(&g, 1, kNow, kNow, kOtherHash));
}

TEST(AnnounceReplayGuardTest, CountersFarFromTheClockAreRefused) {
  AnnounceReplayGuard g(60 * kSecond);
  EXPECT_FALSE(Take(&g, 1, kNow - 61 * kSecond));
  EXPECT_FALSE(Take(&g, 2, kNow + 61 * kSecond));
  auto why = g.Check(kHash, core::PeerId(2), kNow + 61 * kSecond, kNow);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("61.0 s ahead"), std::string::npos) << *why;
  EXPECT_TRUE(Take(&g, 3, kNow - 59 * kSecond));
  EXPECT_TRUE(Take(&g, 4, kNow + 59 * kSecond));
  EXPECT_EQ(g.size(), 2u);
}

// Junk keys cannot make it grow past its capacity; what it forgets raises
// the floor, so a forgotten announce still cannot be replayed, while
// fresh announces still pass.
TEST(AnnounceReplayGuardTest, MemoryIsBoundedAndForgettingLetsNoReplayIn) {
  AnnounceReplayGuard g(60 * kSecond, 3);
  for (uint64_t id = 1; id <= 100; ++id) {
    ASSERT_TRUE(Take(&g, id, kNow + id));
    EXPECT_LE(g.size(), 3u);
  }
  EXPECT_EQ(g.floor(), kNow + 97);
  for (uint64_t id = 1; id <= 100; ++id) {
    EXPECT_FALSE(Take(&g, id, kNow + id)) << "replay of peer " << id;
  }
  EXPECT_TRUE(Take(&g, 1, kNow + 1000));
  EXPECT_TRUE(Take(&g, 500, kNow + 1001));
}

TEST(AnnounceReplayGuardTest, OldEntriesAreDroppedAndTheirReplaysStillRefused) {
  AnnounceReplayGuard g(60 * kSecond);
  ASSERT_TRUE(Take(&g, 1, kNow));
  ASSERT_TRUE(Take(&g, 2, kNow + 61 * kSecond, kNow + 61 * kSecond));
  EXPECT_EQ(g.size(), 1u);  // peer 1's counter is out of the window: dropped
  EXPECT_FALSE(Take(&g, 1, kNow, kNow + 61 * kSecond));
  // Even should the tracker's clock step back into the window.
  EXPECT_FALSE(Take(&g, 1, kNow, kNow));
  EXPECT_TRUE(Take(&g, 1, kNow + 62 * kSecond, kNow + 62 * kSecond));
}

// --- A real tracker ----------------------------------------------------------

class SignedAnnounceRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
    ASSERT_TRUE(server_) << error;
    target_ = "127.0.0.1:" + std::to_string(server_->port());
    stub_ = wire::Tracker::NewStub(MakeChannel(target_, kMaxTrackerMessageBytes));
    ASSERT_TRUE(TrackerClient(target_).Publish(info_, &error)) << error;
  }
  void TearDown() override { server_->Shutdown(); }

  const core::InfoHash& hash() const { return info_.info_hash(); }

  // Sends `req`; returns its failure_reason ("" if accepted).
  std::string Send(const wire::AnnounceRequest& req) {
    wire::AnnounceResponse resp;
    grpc::Status s = CallAnnounce(stub_.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.failure_reason();
  }

  // Who the tracker lists, as an honest newcomer sees it: "id@endpoint"
  // for every other peer.
  std::vector<std::string> Listing() {
    wire::AnnounceResponse resp;
    EXPECT_TRUE(CallAnnounce(stub_.get(),
                             SignedAnnounce(*observer_, hash(), "127.0.0.1:9999"), &resp)
                    .ok());
    EXPECT_EQ(resp.failure_reason(), "");
    std::vector<std::string> out;
    for (const auto& p : resp.peers()) {
      out.push_back(std::to_string(p.peer_id()) + "@" + p.endpoint());
    }
    return out;
  }

  std::string At(const PeerIdentity& key, const std::string& endpoint) {
    return std::to_string(key.id().value()) + "@" + endpoint;
  }

  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  std::unique_ptr<TrackerServer> server_;
  std::string target_;
  std::unique_ptr<wire::Tracker::Stub> stub_;
  std::shared_ptr<const PeerIdentity> victim_ = PeerIdentity::Generate();
  std::shared_ptr<const PeerIdentity> attacker_ = PeerIdentity::Generate();
  std::shared_ptr<const PeerIdentity> observer_ = PeerIdentity::Generate();
};

TEST_F(SignedAnnounceRpcTest, AForgedAnnounceUnderAnotherIdIsRefused) {
  ASSERT_EQ(Send(SignedAnnounce(*victim_, hash(), "127.0.0.1:7000",
                                wire::AnnounceRequest::STARTED)),
            "");
  ASSERT_EQ(Listing(), std::vector<std::string>{At(*victim_, "127.0.0.1:7000")});

  // The victim's id and public key, the attacker's address and signature.
  wire::AnnounceRequest forged =
      SignedAnnounce(*attacker_, hash(), "127.0.0.1:6666", wire::AnnounceRequest::STARTED);
  forged.set_peer_id(victim_->id().value());
  forged.set_public_key(victim_->public_key());
  Resign(*attacker_, &forged);
  std::string why = Send(forged);
  EXPECT_NE(why.find("does not verify"), std::string::npos) << why;
  // A forged `stopped`, to strike the victim from the listing.
  forged.set_event(wire::AnnounceRequest::STOPPED);
  Resign(*attacker_, &forged);
  EXPECT_NE(Send(forged), "");
  // The attacker's own key, well signed, but the victim's id.
  wire::AnnounceRequest own =
      SignedAnnounce(*attacker_, hash(), "127.0.0.1:6666", wire::AnnounceRequest::STARTED);
  own.set_peer_id(victim_->id().value());
  Resign(*attacker_, &own);
  why = Send(own);
  EXPECT_NE(why.find("is not the one its public key names"), std::string::npos) << why;

  EXPECT_EQ(Listing(), std::vector<std::string>{At(*victim_, "127.0.0.1:7000")});
}

// A peer listening on every interface announces ":PORT" and the tracker
// fills in the address it sees; a copy sent from elsewhere (here, the same
// loopback address: the tracker cannot tell) must not count again, least
// of all after the victim left.
TEST_F(SignedAnnounceRpcTest, AReplayedAnnounceIsRefused) {
  const wire::AnnounceRequest started =
      SignedAnnounce(*victim_, hash(), ":7000", wire::AnnounceRequest::STARTED);
  const wire::AnnounceRequest again = SignedAnnounce(*victim_, hash(), ":7000");
  ASSERT_EQ(Send(started), "");
  std::string why = Send(started);
  EXPECT_NE(why.find("replayed"), std::string::npos) << why;
  ASSERT_EQ(Send(again), "");  // signed after `started`, sent after it: fine
  EXPECT_NE(Send(started), "");
  EXPECT_EQ(Listing(), std::vector<std::string>{At(*victim_, "127.0.0.1:7000")});

  ASSERT_EQ(Send(SignedAnnounce(*victim_, hash(), ":7000", wire::AnnounceRequest::STOPPED)),
            "");
  EXPECT_EQ(Listing(), std::vector<std::string>{});
  EXPECT_NE(Send(started), "");
  EXPECT_NE(Send(again), "");
  EXPECT_EQ(Listing(), std::vector<std::string>{});
}

TEST_F(SignedAnnounceRpcTest, UnsignedAndBadlySignedAnnouncesAreRefused) {
  const wire::AnnounceRequest good =
      SignedAnnounce(*victim_, hash(), "127.0.0.1:7000", wire::AnnounceRequest::STARTED);
  std::vector<wire::AnnounceRequest> bad(6, good);
  bad[0].clear_signature();
  bad[0].clear_public_key();
  bad[1].clear_signature();
  bad[2].clear_public_key();
  bad[3].set_public_key(good.public_key().substr(0, 31));
  std::string flipped = good.signature();
  flipped[63] ^= 1;
  bad[4].set_signature(flipped);
  bad[5].set_signature(std::string(1 << 16, 'x'));
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_NE(Send(bad[i]), "") << "bad announce #" << i << " was accepted";
  }
  const std::string why = Send(bad[0]);
  EXPECT_NE(why.find("not signed"), std::string::npos) << why;
  EXPECT_EQ(Listing(), std::vector<std::string>{});
  EXPECT_EQ(Send(good), "");  // the tracker still serves
  EXPECT_EQ(Listing(), std::vector<std::string>{At(*victim_, "127.0.0.1:7000")});
}

// TrackerClient signs what it sends, and hands on the tracker's reason
// when an announce is refused (here: a clock far ahead of the tracker's).
TEST_F(SignedAnnounceRpcTest, TrackerClientSignsAndReportsRefusals) {
  TrackerClient client(target_);
  auto announce = [&](const PeerIdentity& key, TrackerClient& via) {
    core::AnnounceRequest r;
    r.info_hash = hash();
    r.peer = core::PeerAddress{key.id(), "127.0.0.1:7000"};
    r.left = 1;
    std::mutex mu;
    std::condition_variable cv;
    std::optional<std::optional<core::AnnounceResponse>> got;
    via.Announce(r, key, [&](std::optional<core::AnnounceResponse> resp, std::string) {
      std::lock_guard<std::mutex> lock(mu);
      got = std::move(resp);
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.has_value(); }));
    return got && *got ? (*got)->failure_reason : std::string("no answer");
  };
  EXPECT_EQ(announce(*victim_, client), "");
  EXPECT_EQ(announce(*victim_, client), "");  // the next counter
  TrackerClient skewed_client(target_);
  skewed_client.SetWallClock(
      [] { return WallClockMicros() + kAnnounceWindowMicros + 60 * kSecond; });
  auto skewed = PeerIdentity::Generate();
  const std::string why = announce(*skewed, skewed_client);
  EXPECT_NE(why.find("ahead of the tracker's clock"), std::string::npos) << why;
}

// A signed announce counts once even if the core refused it: held back
// while the tracker does not know the file yet, it is worth nothing later.
TEST_F(SignedAnnounceRpcTest, AnAnnounceTheCoreRefusedCannotBeReplayedLater) {
  const core::TorrentInfo later = core::TorrentInfo::Synthetic("g.bin", 1 << 20, 1 << 18);
  const wire::AnnounceRequest early = SignedAnnounce(*victim_, later.info_hash(), ":7000",
                                                     wire::AnnounceRequest::STARTED);
  EXPECT_EQ(Send(early), "unknown info-hash");
  std::string error;
  ASSERT_TRUE(TrackerClient(target_).Publish(later, &error)) << error;
  const std::string why = Send(early);
  EXPECT_NE(why.find("replayed"), std::string::npos) << why;
  EXPECT_EQ(Send(SignedAnnounce(*observer_, later.info_hash(), ":7001")), "");
  wire::ScrapeRequest scrape;
  scrape.set_info_hash(later.info_hash().data(), later.info_hash().size());
  wire::ScrapeResponse counts;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Scrape(&ctx, scrape, &counts).ok());
  EXPECT_EQ(counts.file().leechers(), 1u);  // the observer alone
}

// A peer whose announce is refused says why (here its clock is an hour
// ahead of the tracker's), and is not listed.
TEST_F(SignedAnnounceRpcTest, ADriverSaysWhyItsAnnounceWasRefused) {
  auto key = PeerIdentity::Generate();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("swarm_announce_auth_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string error;
  auto store = PieceStore::OpenForDownload(dir.string(), info_, &error);
  ASSERT_TRUE(store) << error;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> warnings;
  DriverOptions o;
  o.identity = key;
  o.endpoint = "127.0.0.1:7000";
  o.log = [&](LogLevel level, const std::string& msg) {
    if (level != LogLevel::kWarn) return;
    std::lock_guard<std::mutex> lock(mu);
    warnings.push_back(msg);
    cv.notify_all();
  };
  TrackerClient client(target_);
  client.SetWallClock([] { return WallClockMicros() + 3600 * kSecond; });
  Dialer dialer;
  auto driver = std::make_unique<PeerDriver>(info_, std::move(store),
                                             core::Bitfield(info_.piece_count()), o, &client,
                                             &dialer);
  driver->Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !warnings.empty(); }));
    ASSERT_FALSE(warnings.empty());
    EXPECT_EQ(warnings[0].rfind("tracker refused announce (event started): ", 0), 0u)
        << warnings[0];
    EXPECT_NE(warnings[0].find("ahead of the tracker's clock"), std::string::npos)
        << warnings[0];
  }
  driver->Stop();
  driver.reset();
  EXPECT_EQ(Listing(), std::vector<std::string>{});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::net
