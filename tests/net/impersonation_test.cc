// Peer ids on the real wire are proven (net-real/peer_auth.h). A victim, a
// leecher PeerDriver behind a PeerServer, strikes and bans by peer id: an
// impostor that claims an honest peer's id and then serves junk must be
// refused before the victim's core sees it, so the honest peer is never
// struck; other broken handshakes are refused without harm too.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "proto/peer.grpc.pb.h"
#include "tests/net/raw_peer.h"
#include "tests/net/loopback_socket.h"

namespace swarm::net {
namespace {

// Answers every announce with a fixed list of peers, and records who
// announced.
class FakeTracker : public AnnounceClient {
 public:
  void Announce(const core::AnnounceRequest& request, const PeerIdentity&,
                std::function<void(std::optional<core::AnnounceResponse>, std::string)> done)
      override {
    core::AnnounceResponse r;
    {
      std::lock_guard<std::mutex> lock(mu);
      announced.push_back(request.peer.id);
      for (const core::PeerAddress& p : peers) {
        if (p.id != request.peer.id) r.peers.push_back(p);
      }
    }
    done(r, "");
  }
  std::mutex mu;
  std::vector<core::PeerAddress> peers;
  std::vector<core::PeerId> announced;
};

class ImpersonationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("swarm_impersonation_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    victim_ = StartPeer(victim_id_, "victim", &victim_server_);
    ASSERT_TRUE(victim_);
    stub_ = wire::PeerWire::NewStub(
        MakeChannel("127.0.0.1:" + std::to_string(victim_server_->port())));
  }

  void TearDown() override {
    for (auto* d : {&victim_, &other_}) {
      if (*d) (*d)->Stop(core::Duration::Zero());
    }
    for (auto* s : {&victim_server_, &other_server_}) {
      if (*s) (*s)->Shutdown();
    }
    std::filesystem::remove_all(dir_);
  }

  // A leecher with nothing yet, listening on an ephemeral port.
  std::unique_ptr<PeerDriver> StartPeer(
      std::shared_ptr<const PeerIdentity> identity, const std::string& name,
      std::unique_ptr<PeerServer>* server,
      core::Duration auth_timeout = core::Duration::Seconds(2),
      core::Duration connect_timeout = core::Duration::Seconds(5)) {
    std::string error;
    *server = PeerServer::Start("127.0.0.1:0", &error);
    EXPECT_TRUE(*server) << error;
    if (!*server) return nullptr;
    std::filesystem::create_directories(dir_ / name);
    auto store = PieceStore::OpenForDownload((dir_ / name).string(), info_, &error);
    EXPECT_TRUE(store) << error;
    if (!store) return nullptr;
    DriverOptions o;
    o.identity = std::move(identity);
    o.endpoint = "127.0.0.1:" + std::to_string((*server)->port());
    o.auth_timeout = auth_timeout;
    o.connect_timeout = connect_timeout;
    auto d = std::make_unique<PeerDriver>(info_, std::move(store),
                                          core::Bitfield(info_.piece_count()), o, &tracker_,
                                          &dialer_);
    (*server)->Register(info_.info_hash(), d.get());
    d->Start();
    return d;
  }

  std::unique_ptr<RawStream> Connect(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->Connect(ctx);
  }

  // Plays a polluter: has every piece, unchokes, and answers each request
  // with junk, until the victim ends the stream.
  static void Pollute(RawStream* s) {
    wire::WireMessage m;
    EncodeMessage(core::BitfieldMessage{std::vector<uint8_t>(1, 0xf0)}, &m);  // 4 pieces
    s->Write(m);
    EncodeMessage(core::Unchoke{}, &m);
    s->Write(m);
    wire::WireMessage in;
    while (s->Read(&in)) {
      if (!in.has_request()) continue;
      wire::WireMessage junk;
      *junk.mutable_piece()->mutable_block() = in.request();
      junk.mutable_piece()->set_data(std::string(in.request().length(), 'j'));
      if (!s->Write(junk)) break;
    }
  }

  // Reads until the stream ends; true if the victim ended it (not our
  // deadline).
  static bool EndedByRemote(RawStream* s) {
    wire::WireMessage in;
    while (s->Read(&in)) {
    }
    return s->Finish().error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
  }

  // Polls the victim's progress (published every 50-200 ms) for up to 10 s.
  bool WaitFor(const std::function<bool(const DriverProgress&)>& pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred(victim_->Progress())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // The honest peer connects with its own key and offers every piece: the
  // victim takes it (answers Interested) unless it has banned it.
  ::testing::AssertionResult HonestPeerIsWelcome() {
    grpc::ClientContext ctx;
    auto s = Connect(&ctx);
    std::string error;
    if (!RawAuthenticate(s.get(), info_.info_hash(), honest_, &error)) {
      return ::testing::AssertionFailure() << "honest peer: " << error;
    }
    wire::WireMessage m;
    EncodeMessage(core::BitfieldMessage{std::vector<uint8_t>(1, 0xf0)}, &m);
    s->Write(m);
    wire::WireMessage in;
    while (s->Read(&in)) {
      if (in.has_interested()) {
        ctx.TryCancel();
        s->Finish();
        return ::testing::AssertionSuccess();
      }
    }
    return ::testing::AssertionFailure()
           << "the victim ended the honest peer's stream: " << s->Finish().error_message();
  }

  // 1 MiB in four pieces; the junk above never matches their hashes.
  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  std::filesystem::path dir_;
  FakeTracker tracker_;
  Dialer dialer_;
  std::shared_ptr<const PeerIdentity> victim_id_ = PeerIdentity::Generate();
  std::shared_ptr<const PeerIdentity> honest_ = PeerIdentity::Generate();
  std::shared_ptr<const PeerIdentity> impostor_ = PeerIdentity::Generate();
  std::unique_ptr<PeerServer> victim_server_, other_server_;
  std::unique_ptr<PeerDriver> victim_, other_;
  std::unique_ptr<wire::PeerWire::Stub> stub_;
};

// The attack: the impostor claims the honest peer's id with the honest
// peer's public key (anyone sees it in its handshakes) and serves junk.
// Were it believed, the failed piece would be the honest peer's first
// strike, and one strike bans (ban_strikes = 1).
TEST_F(ImpersonationTest, AnImpostorIsRefusedAndTheHonestPeerIsNotStruck) {
  {
    grpc::ClientContext ctx;
    auto s = Connect(&ctx);
    const AuthHello claim{info_.info_hash(), honest_->id(), honest_->public_key(),
                          RandomNonce()};
    ASSERT_TRUE(s->Write(ToWire(claim)));
    AuthHello hello;
    AuthProof proof;
    std::string error;
    ASSERT_TRUE(ReadHelloAndProof(s.get(), &hello, &proof, &error)) << error;
    EXPECT_EQ(hello.peer_id, victim_->id());
    // The best the impostor can do: sign the right transcript with its own key.
    const std::string transcript =
        ProofTranscript(info_.info_hash(), AuthRole::kDialer, honest_->id(),
                        honest_->public_key(), hello.peer_id, hello.nonce, claim.nonce);
    s->Write(ToWire(AuthProof{impostor_->Sign(transcript)}));
    Pollute(s.get());
    s->Finish();
  }
  // The victim has dealt with the impostor one way or the other (its
  // progress is published every 50-200 ms).
  ASSERT_TRUE(WaitFor([](const DriverProgress& p) {
    return p.auth_failures > 0 || p.stats.peers_banned > 0;
  }));
  const DriverProgress p = victim_->Progress();
  EXPECT_EQ(p.auth_failures, 1u);
  EXPECT_EQ(p.stats.peers_banned, 0u);
  EXPECT_EQ(p.stats.pieces_failed, 0u);
  EXPECT_EQ(p.stats.downloaded, 0);
  EXPECT_TRUE(HonestPeerIsWelcome());
}

// Each broken handshake ends its stream, counts as an authentication
// failure, and leaves the victim serving.
TEST_F(ImpersonationTest, BrokenHandshakesAreRefusedWithoutHarm) {
  std::string error;
  const AuthProof no_proof{std::string(kSignatureBytes, 'x')};
  // A proof the honest peer really made, on a connection of its own.
  std::optional<AuthProof> recorded;
  AuthHello recorded_hello;
  {
    grpc::ClientContext ctx;
    auto s = Connect(&ctx);
    PeerAuth honest(honest_, info_.info_hash(), AuthRole::kDialer, std::nullopt);
    recorded_hello = honest.hello();
    ASSERT_TRUE(s->Write(ToWire(recorded_hello)));
    AuthHello hello;
    AuthProof proof;
    ASSERT_TRUE(ReadHelloAndProof(s.get(), &hello, &proof, &error)) << error;
    recorded = honest.OnHello(hello, &error);
    ASSERT_TRUE(recorded && honest.OnProof(proof, &error)) << error;
    ASSERT_TRUE(s->Write(ToWire(*recorded)));
    ctx.TryCancel();
    s->Finish();
  }
  struct Attempt {
    std::string name;
    AuthHello hello;
    // What to send second; nullopt: a self-made proof with the impostor's key.
    std::function<std::optional<wire::WireMessage>(const AuthHello& victim)> second;
  };
  const AuthHello own_key_claim{info_.info_hash(), honest_->id(), impostor_->public_key(),
                                RandomNonce()};
  const AuthHello honest_key_claim{info_.info_hash(), honest_->id(), honest_->public_key(),
                                   RandomNonce()};
  std::vector<Attempt> attempts = {
      // The honest id with the impostor's key, and a proof that key made:
      // the key does not name the id.
      {"mismatched key", own_key_claim,
       [&](const AuthHello& victim) -> std::optional<wire::WireMessage> {
         return ToWire(AuthProof{impostor_->Sign(ProofTranscript(
             info_.info_hash(), AuthRole::kDialer, honest_->id(), impostor_->public_key(),
             victim.peer_id, victim.nonce, own_key_claim.nonce))});
       }},
      {"bad signature", honest_key_claim,
       [&](const AuthHello&) -> std::optional<wire::WireMessage> { return ToWire(no_proof); }},
      // The recorded exchange replayed word for word.
      {"replayed proof", recorded_hello,
       [&](const AuthHello&) -> std::optional<wire::WireMessage> {
         return ToWire(*recorded);
       }},
      {"no proof, a bitfield instead", honest_key_claim,
       [&](const AuthHello&) -> std::optional<wire::WireMessage> {
         wire::WireMessage m;
         EncodeMessage(core::BitfieldMessage{std::vector<uint8_t>(1, 0xf0)}, &m);
         return m;
       }},
      {"no proof at all (timeout)", honest_key_claim,
       [&](const AuthHello&) -> std::optional<wire::WireMessage> { return std::nullopt; }},
  };
  uint32_t failures = 0;
  for (const Attempt& a : attempts) {
    SCOPED_TRACE(a.name);
    grpc::ClientContext ctx;
    auto s = Connect(&ctx);
    ASSERT_TRUE(s->Write(ToWire(a.hello)));
    AuthHello hello;
    AuthProof proof;
    // A key that does not name the id ends the stream at once: no proof.
    if (ReadHelloAndProof(s.get(), &hello, &proof, &error)) {
      if (auto second = a.second(hello)) s->Write(*second);
    }
    EXPECT_TRUE(EndedByRemote(s.get()));
    ++failures;
    EXPECT_TRUE(WaitFor([&](const DriverProgress& p) { return p.auth_failures == failures; }))
        << victim_->Progress().auth_failures;
  }
  EXPECT_TRUE(HonestPeerIsWelcome());
  const DriverProgress p = victim_->Progress();
  EXPECT_EQ(p.auth_failures, failures);
  EXPECT_EQ(p.stats.peers_banned, 0u);
}

// The victim dials the address the tracker lists for the honest peer; what
// answers there is someone else (here a real driver with its own key). The
// victim refuses it, and counts the dial as failed.
TEST_F(ImpersonationTest, ADialedPeerMustBeTheOneTheTrackerListed) {
  other_ = StartPeer(impostor_, "other", &other_server_);
  ASSERT_TRUE(other_);
  {
    std::lock_guard<std::mutex> lock(tracker_.mu);
    tracker_.peers = {core::PeerAddress{
        honest_->id(), "127.0.0.1:" + std::to_string(other_server_->port())}};
  }
  victim_->TrackerReset();  // announces again, and so dials
  EXPECT_TRUE(WaitFor([](const DriverProgress& p) { return p.auth_failures >= 1; }));
  EXPECT_EQ(victim_->Progress().connections, 0u);
}

// Streams that send a handshake and never prove it are held only up to
// kMaxPendingAuth at a time: past that the oldest is closed to make room.
// Refusing the newest instead let 64 such streams (renewed every
// auth_timeout) shut every honest peer out.
TEST_F(ImpersonationTest, StreamsThatNeverProveTheirIdsMakeRoomForAnHonestOne) {
  other_ = StartPeer(impostor_, "other", &other_server_, core::Duration::Seconds(60));
  ASSERT_TRUE(other_);
  auto stub = wire::PeerWire::NewStub(
      MakeChannel("127.0.0.1:" + std::to_string(other_server_->port())));
  struct Idle {
    grpc::ClientContext ctx;
    std::unique_ptr<RawStream> s;
  };
  std::vector<std::unique_ptr<Idle>> idle;
  std::string error;
  for (size_t i = 0; i < kMaxPendingAuth; ++i) {
    idle.push_back(std::make_unique<Idle>());
    Idle& x = *idle.back();
    x.ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    x.s = stub->Connect(&x.ctx);
    ASSERT_TRUE(x.s->Write(ToWire(AuthHello{info_.info_hash(), honest_->id(),
                                            honest_->public_key(), RandomNonce()})));
    AuthHello hello;
    AuthProof proof;
    EXPECT_TRUE(ReadHelloAndProof(x.s.get(), &hello, &proof, &error))
        << "stream " << i << ": " << error;
  }
  // All kMaxPendingAuth slots are held; an honest peer still gets in, and
  // the stream that has waited longest is the one closed.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto honest = stub->Connect(&ctx);
  EXPECT_TRUE(RawAuthenticate(honest.get(), info_.info_hash(), honest_, &error)) << error;
  EXPECT_TRUE(EndedByRemote(idle.front()->s.get()));
  ctx.TryCancel();
  honest->Finish();
  for (size_t i = 1; i < idle.size(); ++i) {
    idle[i]->ctx.TryCancel();
    idle[i]->s->Finish();
  }
}

// A listed address that accepts the TCP connection and never speaks (a
// socket listening that nobody accepts on: the kernel completes the
// handshake) must not hold a dial for gRPC's own ~20 s connect timeout: the
// driver gives it up after connect_timeout and tells the core it failed.
TEST_F(ImpersonationTest, ADialToAnAddressThatNeverAnswersGivesUpAfterConnectTimeout) {
  uint16_t tarpit_port = 0;
  const int tarpit = testing::BindLoopback(&tarpit_port, /*backlog=*/8);
  ASSERT_GE(tarpit, 0) << std::strerror(errno);
  other_ = StartPeer(impostor_, "other", &other_server_, core::Duration::Seconds(2),
                     core::Duration::Millis(300));
  ASSERT_TRUE(other_);
  {
    std::lock_guard<std::mutex> lock(tracker_.mu);
    tracker_.peers = {core::PeerAddress{
        honest_->id(), "127.0.0.1:" + std::to_string(tarpit_port)}};
  }
  other_->TrackerReset();  // announces again, and so dials the tarpit
  const auto start = std::chrono::steady_clock::now();
  bool gave_up = false;
  while (!gave_up && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    gave_up = other_->Progress().dial_timeouts >= 1;
    if (!gave_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(gave_up) << "no dial given up after " << waited << " s";
  EXPECT_EQ(other_->Progress().connections, 0u);
  EXPECT_EQ(other_->Progress().unreachable_peers, 1u);
  ::close(tarpit);
}

// Listed peers that refuse connections (gone without a stopped announce;
// the tracker lists them on for up to 1.5 announce intervals) are counted
// apart, for `get` to name in its warning; a listed peer that answers is
// not.
TEST_F(ImpersonationTest, ListedPeersThatRefuseConnectionsAreCounted) {
  other_ = StartPeer(impostor_, "other", &other_server_);
  ASSERT_TRUE(other_);
  std::vector<core::PeerAddress> listed = {core::PeerAddress{
      other_->id(), "127.0.0.1:" + std::to_string(other_server_->port())}};
  for (int i = 0; i < 3; ++i) {  // ports bound a moment ago, free now
    uint16_t port = 0;
    const int fd = testing::BindLoopback(&port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ::close(fd);
    listed.push_back(core::PeerAddress{PeerIdentity::Generate()->id(),
                                       "127.0.0.1:" + std::to_string(port)});
  }
  {
    std::lock_guard<std::mutex> lock(tracker_.mu);
    tracker_.peers = listed;
  }
  victim_->TrackerReset();  // announces again, and so dials all four
  EXPECT_TRUE(WaitFor([](const DriverProgress& p) {
    return p.unreachable_peers == 3 && p.connections == 1;
  })) << "unreachable " << victim_->Progress().unreachable_peers << ", connections "
      << victim_->Progress().connections;
}

// What the tracker hears is the id the key names.
TEST_F(ImpersonationTest, TheAnnouncedIdIsTheKeys) {
  EXPECT_TRUE(WaitFor([&](const DriverProgress&) {
    std::lock_guard<std::mutex> lock(tracker_.mu);
    return !tracker_.announced.empty();
  }));
  std::lock_guard<std::mutex> lock(tracker_.mu);
  ASSERT_FALSE(tracker_.announced.empty());
  EXPECT_EQ(tracker_.announced.front(), PeerIdFromPublicKey(victim_id_->public_key()));
  EXPECT_EQ(victim_->id(), victim_id_->id());
}

}  // namespace
}  // namespace swarm::net
