// Hostile input on a real socket: a raw gRPC client talks to an in-process
// seed (PeerServer + PeerDriver + TrackerServer) and sends malformed,
// misrouted and oversized messages. Each must end that stream only; the
// seed keeps serving.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"
#include "tests/net/in_process_seed.h"
#include "tests/net/raw_peer.h"

namespace swarm::net {
namespace {

using Stream = grpc::ClientReaderWriter<wire::WireMessage, wire::WireMessage>;

class WireRejectionTest : public InProcessSeedTest {
 protected:
  WireRejectionTest() : InProcessSeedTest("swarm_wire_rej_") {}

  // A channel with no send limit, so we can push oversized messages.
  std::unique_ptr<wire::PeerWire::Stub> RawStub() {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return wire::PeerWire::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(),
        args));
  }

  // A well-formed first message (its key is not a real one).
  wire::WireMessage Handshake(const core::InfoHash& hash) {
    return ToWire(ShapedHello(hash, 99));
  }

  // The authentication exchange with the seed, as an honest peer.
  ::testing::AssertionResult Authenticate(Stream* s) {
    std::string error;
    if (RawAuthenticate(s, info_.info_hash(), PeerIdentity::Generate(), &error)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << error;
  }

  // Reads until the server ends the stream; returns the final status.
  grpc::Status DrainToEnd(Stream* s) {
    wire::WireMessage in;
    while (s->Read(&in)) {
    }
    return s->Finish();
  }

  static void SetDeadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

};

TEST_F(WireRejectionTest, EmptyFirstMessageIsRejected) {
  auto stub = RawStub();
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  s->Write(wire::WireMessage());
  EXPECT_EQ(DrainToEnd(s.get()).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(WireRejectionTest, UnknownTorrentIsRejected) {
  auto stub = RawStub();
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  s->Write(Handshake(core::InfoHash{}));
  EXPECT_EQ(DrainToEnd(s.get()).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A first message shaped like the handshake of old, with no key and nonce.
TEST_F(WireRejectionTest, AHandshakeWithoutKeyAndNonceIsRejected) {
  auto stub = RawStub();
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  wire::WireMessage old;
  EncodeMessage(core::Handshake{info_.info_hash(), core::PeerId(99)}, &old);
  s->Write(old);
  grpc::Status status = DrainToEnd(s.get());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "handshake public_key is not 32 bytes");
}

TEST_F(WireRejectionTest, MalformedPieceAfterHandshakeDisconnects) {
  auto stub = RawStub();
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  wire::WireMessage bad;
  bad.mutable_piece()->mutable_block()->set_length(100);
  bad.mutable_piece()->set_data("only a few bytes");
  s->Write(bad);
  DrainToEnd(s.get());  // ends: the seed dropped us
  for (int i = 0; i < 50 && driver_->Progress().malformed_messages == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(driver_->Progress().malformed_messages, 1u);
}

TEST_F(WireRejectionTest, OversizedMessageIsRefusedAndSeedSurvives) {
  auto stub = RawStub();
  {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    auto s = stub->Connect(&ctx);
    ASSERT_TRUE(Authenticate(s.get()));
    wire::WireMessage big;
    big.mutable_piece()->mutable_block()->set_length(2 << 20);
    big.mutable_piece()->set_data(std::string(2 << 20, 'x'));
    s->Write(big);
    EXPECT_EQ(DrainToEnd(s.get()).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // The seed still answers a well-behaved peer.
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  auto s = stub->Connect(&ctx);
  ASSERT_TRUE(Authenticate(s.get()));
  ctx.TryCancel();
  s->Finish();
}

// A client that opens connection after connection with a bad handshake
// (here: a key that does not name the id it claims) must not write a
// warning for each: the seed writes the first few about its host, then
// one line saying how many more it held back.
class LogFloodTest : public WireRejectionTest {
 protected:
  void SeedOptions(DriverOptions& o) override {
    o.log = [this](LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
    };
  }
  // The lines logged so far that contain `text`.
  std::vector<std::string> Lines(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const std::string& l : lines_) {
      if (l.find(text) != std::string::npos) out.push_back(l);
    }
    return out;
  }
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LogFloodTest, BadHandshakesOnManyConnectionsWriteAFewLinesAndASummary) {
  constexpr int kConnections = 30;
  auto stub = RawStub();
  for (int i = 0; i < kConnections; ++i) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    auto s = stub->Connect(&ctx);
    s->Write(Handshake(info_.info_hash()));
    DrainToEnd(s.get());  // the seed closes it
  }
  for (int i = 0; i < 250 && driver_->Progress().auth_failures < kConnections; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(driver_->Progress().auth_failures, uint32_t{kConnections});  // all counted
  const auto written = Lines("peer authentication failed");
  ASSERT_EQ(written.size(), size_t{LogLimiterOptions().lines_per_interval});
  EXPECT_NE(written[0].find(" from 127.0.0.1: peer authentication failed"), std::string::npos)
      << written[0];
  driver_->Stop(core::Duration::Zero());  // says what it held back
  EXPECT_EQ(Lines("suppressed").size(), 1u);
  EXPECT_EQ(Lines("suppressed " + std::to_string(kConnections - written.size()) +
                  " messages from 127.0.0.1")
                .size(),
            1u);
}

}  // namespace
}  // namespace swarm::net

namespace swarm::net {
namespace {

// gRPC would otherwise share a busy port (SO_REUSEPORT) between two
// processes, each getting some of the connections.
TEST(ListenTest, ABusyPortIsRefused) {
  std::string error;
  auto tracker = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
  ASSERT_TRUE(tracker) << error;
  const std::string busy = "127.0.0.1:" + std::to_string(tracker->port());
  EXPECT_FALSE(TrackerServer::Start(busy, core::TrackerConfig(), 1, &error));
  EXPECT_NE(error.find("cannot listen on " + busy), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(PeerServer::Start(busy, &error));
  EXPECT_NE(error.find("cannot listen on " + busy), std::string::npos) << error;
  tracker->Shutdown();
}

}  // namespace
}  // namespace swarm::net
