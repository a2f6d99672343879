// Peers that keep to the wire's shape but not to its meaning, on a real
// socket: a raw gRPC client proves an id honestly (so the core hears of it)
// and then sends messages that decode fine but that no honest peer sends: a
// request outside the torrent, a block nobody asked for, a bitfield of the
// wrong length, a second handshake, and so on. The core's own tests
// (tests/core/peer_test.cc: HostileTest and its neighbours) check its
// verdicts; these check what the driver does with them on real sockets:
// that stream alone ends, the violation is counted, nothing of the hostile
// peer's bytes reaches the disk, and the driver serves the next peer. Also
// a remote that reads nothing, whose stream must still end once we drop it.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"
#include "tests/net/in_process_seed.h"
#include "tests/net/raw_peer.h"

namespace swarm::net {
namespace {

wire::WireMessage Wire(const core::Message& m) {
  wire::WireMessage w;
  EncodeMessage(m, &w);
  return w;
}

// A Piece carrying `block.length` junk bytes ('j').
wire::WireMessage JunkPiece(uint32_t piece, uint32_t offset, uint32_t length) {
  wire::WireMessage w;
  EncodePiece(core::BlockRef{core::PieceIndex(piece), offset, length}, std::string(length, 'j'),
              &w);
  return w;
}

core::BlockRef Block(uint32_t piece, uint32_t offset, uint32_t length) {
  return core::BlockRef{core::PieceIndex(piece), offset, length};
}

// A channel of its own (no shared TCP connection). Without gRPC's bandwidth
// probe the stream's receive window stays at 64 KiB, so a client that does
// not read stalls the sender's first block.
std::unique_ptr<wire::PeerWire::Stub> RawStub(int port, bool bdp_probe = true) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!bdp_probe) args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  return wire::PeerWire::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

// Reads until the stream ends; true if the remote ended it (not our
// deadline).
bool EndedByRemote(RawStream* s) {
  wire::WireMessage in;
  while (s->Read(&in)) {
  }
  return s->Finish().error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Polls `pred` every 5 ms for up to 5 s.
bool WaitUntil(const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// One hostile move: the messages a peer sends once it has proven its id.
struct Violation {
  const char* name;
  std::vector<wire::WireMessage> messages;
};

std::string NameOf(const ::testing::TestParamInfo<Violation>& info) { return info.param.name; }
void PrintTo(const Violation& v, std::ostream* os) { *os << v.name; }

// The seed side: a leecher that proves its id and then misbehaves. The
// seed's file is 1 MiB in four pieces of 256 KiB; it takes requests of at
// most 128 KiB (PeerConfig::max_request_length).
class HostileLeecherTest : public InProcessSeedTest,
                           public ::testing::WithParamInterface<Violation> {
 protected:
  HostileLeecherTest() : InProcessSeedTest("swarm_hostile_leecher_") {}

  ::testing::AssertionResult Authenticate(RawStream* s) {
    std::string error;
    if (RawAuthenticate(s, info_.info_hash(), PeerIdentity::Generate(), &error)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << error;
  }

  // A new, honest connection still gets the seed's bitfield.
  ::testing::AssertionResult SeedStillServes() {
    auto stub = RawStub(server_->port());
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    auto s = stub->Connect(&ctx);
    if (auto ok = Authenticate(s.get()); !ok) return ok;
    wire::WireMessage in;
    const bool got = s->Read(&in) && in.has_bitfield();
    ctx.TryCancel();
    s->Finish();
    if (got) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no bitfield from the seed";
  }
};

TEST_P(HostileLeecherTest, EndsOnlyItsOwnStreamAndIsCounted) {
  auto stub = RawStub(server_->port());
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  for (const wire::WireMessage& m : GetParam().messages) s->Write(m);
  EXPECT_TRUE(EndedByRemote(s.get()));
  EXPECT_TRUE(WaitUntil([&] { return driver_->Progress().stats.protocol_disconnects == 1; }))
      << driver_->Progress().stats.protocol_disconnects;
  EXPECT_EQ(driver_->Progress().malformed_messages, 0u);  // well-formed, only wrong
  EXPECT_EQ(driver_->Progress().auth_failures, 0u);
  EXPECT_TRUE(SeedStillServes());
}

INSTANTIATE_TEST_SUITE_P(
    , HostileLeecherTest,
    ::testing::Values(
        Violation{"RequestForAPieceOutOfRange", {Wire(core::Request{Block(4, 0, 16384)})}},
        Violation{"RequestForTheLastPieceIndex",
                  {Wire(core::Request{Block(0xffffffff, 0, 16384)})}},
        Violation{"RequestPastThePiecesEnd",
                  {Wire(core::Request{Block(3, (256 << 10) - 1000, 16384)})}},
        Violation{"RequestWhoseOffsetOverflows",
                  {Wire(core::Request{Block(0, 0xffffff00, 0x200)})}},
        Violation{"RequestOfZeroBytes", {Wire(core::Request{Block(0, 0, 0)})}},
        Violation{"RequestOfTwoMebibytes", {Wire(core::Request{Block(0, 0, 2 << 20)})}},
        Violation{"RequestJustOverTheLimit", {Wire(core::Request{Block(0, 0, (128 << 10) + 1)})}},
        Violation{"CancelOutOfRange", {Wire(core::Cancel{Block(9, 0, 1)})}},
        Violation{"HaveOutOfRange", {Wire(core::Have{core::PieceIndex(4)})}},
        Violation{"HaveOfTheLargestIndex", {Wire(core::Have{core::PieceIndex(0xffffffff)})}},
        Violation{"BitfieldOfTheWrongLength",
                  {Wire(core::BitfieldMessage{std::vector<uint8_t>(2, 0)})}},
        Violation{"BitfieldOfAMebibyte",
                  {Wire(core::BitfieldMessage{std::vector<uint8_t>(1 << 20, 0)})}},
        Violation{"BitfieldWithSpareBitsSet",
                  {Wire(core::BitfieldMessage{std::vector<uint8_t>(1, 0x0f)})}},
        Violation{"BitfieldAfterAHave",
                  {Wire(core::Have{core::PieceIndex(0)}),
                   Wire(core::BitfieldMessage{std::vector<uint8_t>(1, 0x80)})}},
        Violation{"ASecondHandshake",
                  {Wire(core::Handshake{core::InfoHash{}, core::PeerId(7)})}},
        Violation{"APieceNobodyAskedFor", {JunkPiece(0, 0, 16384)}},
        Violation{"APieceOutOfRange", {JunkPiece(4, 0, 16384)}}),
    NameOf);

// A second handshake naming this very torrent (and, below, the seed's own
// id) is no more welcome than one naming another.
TEST_F(HostileLeecherTest, ASecondHandshakeForThisTorrentOrWithTheSeedsIdIsRefused) {
  for (const core::PeerId id : {core::PeerId(7), driver_->id()}) {
    auto stub = RawStub(server_->port());
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    auto s = stub->Connect(&ctx);
    ASSERT_TRUE(Authenticate(s.get()));
    s->Write(Wire(core::Handshake{info_.info_hash(), id}));
    EXPECT_TRUE(EndedByRemote(s.get()));
  }
  EXPECT_TRUE(WaitUntil([&] { return driver_->Progress().stats.protocol_disconnects == 2; }));
  EXPECT_TRUE(SeedStillServes());
}

// Thousands of requests are no violation in themselves: while the seed
// chokes us they are dropped unanswered (BEP 3), and a request repeated
// while it waits is served once. Nothing piles up, and the connection
// stays.
TEST_F(HostileLeecherTest, ThousandsOfRepeatedRequestsAreNoViolationAndPileNothingUp) {
  auto stub = RawStub(server_->port());
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  const wire::WireMessage request = Wire(core::Request{Block(1, 0, 16384)});
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(s->Write(request));  // choked: all dropped
  s->Write(Wire(core::Interested{}));
  wire::WireMessage in;
  while (s->Read(&in) && !in.has_unchoke()) {
  }
  ASSERT_TRUE(in.has_unchoke());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(s->Write(request));
  // A last, distinct request: once it is answered, everything before it
  // has been dealt with (the seed serves a connection's requests in order).
  s->Write(Wire(core::Request{Block(2, 0, 16384)}));
  int blocks = 0;
  while (s->Read(&in)) {
    if (!in.has_piece()) continue;
    ++blocks;
    if (in.piece().block().piece() == 2) break;
  }
  ASSERT_TRUE(in.has_piece() && in.piece().block().piece() == 2);
  // Each copy of the repeated request is served at most once per copy that
  // reached an empty queue; far fewer than were sent.
  EXPECT_LT(blocks, 5000);
  EXPECT_EQ(driver_->Progress().stats.protocol_disconnects, 0u);
  // Progress is published every 50 ms or so: this connection may not be in
  // it yet.
  EXPECT_TRUE(WaitUntil([&] { return driver_->Progress().connections == 1; }));
  EXPECT_EQ(driver_->Progress().stats.protocol_disconnects, 0u);
  ctx.TryCancel();
  s->Finish();
}

// The leecher side: a raw peer dials a leecher driver (which has nothing
// yet), proves its id, and then plays a seed that misbehaves. Whatever it
// sends, none of its bytes may reach the partial file.
class NullTracker : public AnnounceClient {
 public:
  void Announce(const core::AnnounceRequest&, const PeerIdentity&,
                std::function<void(std::optional<core::AnnounceResponse>, std::string)> done)
      override {
    done(core::AnnounceResponse{}, "");
  }
};

class HostileSeedTest : public ::testing::TestWithParam<Violation> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("swarm_hostile_seed_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string error;
    server_ = PeerServer::Start("127.0.0.1:0", &error);
    ASSERT_TRUE(server_) << error;
    auto store = PieceStore::OpenForDownload(dir_.string(), info_, &error);
    ASSERT_TRUE(store) << error;
    DriverOptions o;
    o.endpoint = "127.0.0.1:" + std::to_string(server_->port());
    victim_ = std::make_unique<PeerDriver>(info_, std::move(store),
                                           core::Bitfield(info_.piece_count()), o, &tracker_,
                                           &dialer_);
    server_->Register(info_.info_hash(), victim_.get());
    victim_->Start();
  }

  void TearDown() override {
    if (victim_) victim_->Stop(core::Duration::Zero());
    if (server_) server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  // True if some file in the download folder holds a junk byte.
  bool JunkOnDisk() {
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      if (bytes.find('j') != std::string::npos) return true;
    }
    return false;
  }

  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  std::filesystem::path dir_;
  NullTracker tracker_;
  Dialer dialer_;
  std::unique_ptr<PeerServer> server_;
  std::unique_ptr<PeerDriver> victim_;
};

TEST_P(HostileSeedTest, EndsOnlyItsOwnStreamAndWritesNothing) {
  auto stub = RawStub(server_->port());
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  std::string error;
  ASSERT_TRUE(RawAuthenticate(s.get(), info_.info_hash(), PeerIdentity::Generate(), &error))
      << error;
  for (const wire::WireMessage& m : GetParam().messages) s->Write(m);
  EXPECT_TRUE(EndedByRemote(s.get()));
  EXPECT_TRUE(WaitUntil([&] { return victim_->Progress().stats.protocol_disconnects == 1; }));
  const DriverProgress p = victim_->Progress();
  EXPECT_EQ(p.malformed_messages, 0u);
  EXPECT_EQ(p.stats.downloaded, 0);
  EXPECT_EQ(p.pieces, 0u);
  EXPECT_EQ(p.disk_queued_peak, 0u);  // no block ever went to the disk thread
  victim_->Stop(core::Duration::Zero());  // the disk thread is done
  EXPECT_FALSE(JunkOnDisk());
}

// Every piece (four), and an Unchoke.
wire::WireMessage AllPieces() { return Wire(core::BitfieldMessage{std::vector<uint8_t>(1, 0xf0)}); }
wire::WireMessage UnchokeMsg() { return Wire(core::Unchoke{}); }

INSTANTIATE_TEST_SUITE_P(
    , HostileSeedTest,
    ::testing::Values(
        // Before its Unchoke the leecher has asked it for nothing.
        Violation{"ABlockBeforeAnyRequest", {AllPieces(), JunkPiece(0, 0, 16384)}},
        // The leecher asks for 16 KiB blocks at multiples of 16 KiB.
        Violation{"ABlockOfTheWrongLength", {AllPieces(), UnchokeMsg(), JunkPiece(0, 0, 1000)}},
        Violation{"ABlockAtAnUnalignedOffset", {AllPieces(), UnchokeMsg(), JunkPiece(0, 1, 16384)}},
        Violation{"ABlockOutOfRange", {AllPieces(), UnchokeMsg(), JunkPiece(4, 0, 16384)}},
        Violation{"ABlockPastThePiecesEnd",
                  {AllPieces(), UnchokeMsg(), JunkPiece(3, (256 << 10) - 100, 16384)}},
        Violation{"HaveOutOfRange", {Wire(core::Have{core::PieceIndex(4)})}},
        Violation{"BitfieldOfTheWrongLength",
                  {Wire(core::BitfieldMessage{std::vector<uint8_t>(3, 0xff)})}},
        Violation{"ARequestForAPieceItLacks", {Wire(core::Request{Block(0, 0, 16384)})}},
        Violation{"ASecondHandshake",
                  {AllPieces(), Wire(core::Handshake{core::InfoHash{}, core::PeerId(7)})}}),
    NameOf);

// A remote that reads nothing: what we send it stalls in flow control, with
// a write outstanding. Once we drop the connection (here for a Have out of
// range) its stream must still end, and soon: the driver forgets the
// connection at once, so a stream left open would hold its gRPC call, and
// the block in flight, for as long as the remote kept the connection,
// counted against no limit of ours; a remote repeating this could pile
// such streams up without bound.
TEST_F(HostileLeecherTest, AStreamThatReadsNothingEndsOnceDropped) {
  ASSERT_EQ(LiveLinks(), 0);
  auto stub = RawStub(server_->port(), /*bdp_probe=*/false);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  s->Write(Wire(core::Interested{}));
  wire::WireMessage in;
  while (s->Read(&in) && !in.has_unchoke()) {
  }
  ASSERT_TRUE(in.has_unchoke());
  // 128 KiB each, twice our receive window: the first never completes.
  for (uint32_t b = 0; b < 8; ++b) {
    s->Write(Wire(core::Request{Block(b / 2, (b % 2) * (128 << 10), 128 << 10)}));
  }
  // Nothing the seed does can be waited for here: give it the time to
  // have sent a block, were our window open.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(driver_->Progress().stats.uploaded, 0) << "a block got through our window";
  ASSERT_EQ(LiveLinks(), 1);
  s->Write(Wire(core::Have{core::PieceIndex(99)}));  // a violation: dropped
  ASSERT_TRUE(WaitUntil([&] { return driver_->Progress().stats.protocol_disconnects == 1; }));
  EXPECT_TRUE(WaitUntil([] { return LiveLinks() == 0; }))
      << "the seed's end of a stream it dropped is still open";
  ctx.TryCancel();
  s->Finish();
}

// The seed with PeerConfig::upload_stall_timeout at 2 s (swarm share and
// get use 60 s; see kRealUploadStallTimeoutSeconds), checked every 250 ms,
// and its log kept.
class StallingLeecherTest : public HostileLeecherTest {
 protected:
  static constexpr core::Duration kStall = core::Duration::Seconds(2);

  void SeedOptions(DriverOptions& o) override {
    o.peer.upload_stall_timeout = kStall;
    o.peer.housekeeping_interval = core::Duration::Millis(250);
    o.log = [this](LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    };
  }
  bool Logged(const std::string& part) {
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const std::string& line : log_) {
      if (line.find(part) != std::string::npos) return true;
    }
    return false;
  }

  std::mutex log_mu_;
  std::vector<std::string> log_;
};

// The gap closed: a leecher that asks for blocks, reads nothing (its
// window of 64 KiB holds back the seed's first 128 KiB block) and keeps
// its connection alive with a keep-alive every 100 ms used to keep its
// place, and the block in flight, for as long as it liked. Now the seed
// drops it once no block has left for upload_stall_timeout (plus a
// housekeeping round at most), for upload_stalled: no protocol violation,
// and the seed still serves others.
TEST_F(StallingLeecherTest, ALeecherThatReadsNothingButKeepsAliveIsDropped) {
  auto stub = RawStub(server_->port(), /*bdp_probe=*/false);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  s->Write(Wire(core::Interested{}));
  wire::WireMessage in;
  while (s->Read(&in) && !in.has_unchoke()) {
  }
  ASSERT_TRUE(in.has_unchoke());
  const auto asked = std::chrono::steady_clock::now();
  for (uint32_t b = 0; b < 2; ++b) {
    s->Write(Wire(core::Request{Block(0, b * (128 << 10), 128 << 10)}));
  }
  // From here on it reads nothing; it only keeps the connection alive.
  const auto give_up = asked + std::chrono::seconds(8);
  while (std::chrono::steady_clock::now() < give_up &&
         !Logged(": " + std::string(core::DisconnectReasonName(
                            core::DisconnectReason::kUploadStalled)))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s->Write(Wire(core::KeepAlive{}));
  }
  const double after_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  ASSERT_TRUE(Logged(": upload_stalled")) << "still connected " << after_s << " s after asking";
  EXPECT_GE(after_s, kStall.seconds());
  EXPECT_LT(after_s, kStall.seconds() + 1.5);
  std::printf("dropped %.2f s after its requests (upload_stall_timeout %.0f s)\n", after_s,
              kStall.seconds());
  EXPECT_EQ(driver_->Progress().stats.uploaded, 0) << "a block got through its window";
  EXPECT_TRUE(WaitUntil([] { return LiveLinks() == 0; }))
      << "the seed's end of the stream it dropped is still open";
  EXPECT_EQ(driver_->Progress().stats.protocol_disconnects, 0u);
  ctx.TryCancel();
  s->Finish();
  EXPECT_TRUE(SeedStillServes());
}

}  // namespace
}  // namespace swarm::net
