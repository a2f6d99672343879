// The peer-wire transport against a remote that floods us or never reads:
// a raw gRPC client talks to a PeerServer whose torrent is a test sink, so
// what the Link does is seen without a driver in between.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/torrent_info.h"
#include "net-real/link.h"
#include "net-real/peer_transport.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"

namespace swarm::net {
namespace {

using Stream = grpc::ClientReaderWriter<wire::WireMessage, wire::WireMessage>;

// Counts what arrives and consumes nothing until told to.
class Sink : public InboundSink {
 public:
  static constexpr size_t kMaxQueued = 64;
  explicit Sink(size_t read_ahead) : read_ahead_(read_ahead) {}

  void AdoptInbound(std::shared_ptr<Link> link, const core::Handshake&,
                    Link::Handlers* handlers) override {
    handlers->read_ahead_bytes = read_ahead_;
    handlers->max_queued_sends = kMaxQueued;
    handlers->on_message = [this](Payload bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_;
      unconsumed_ += Link::ReadCost(bytes.size());
      cv_.notify_all();
    };
    std::lock_guard<std::mutex> lock(mu_);
    link_ = std::move(link);
    cv_.notify_all();
  }

  // Waits (up to 10 s) until `pred` holds under the lock.
  template <class Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(); });
  }
  size_t received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::shared_ptr<Link> link() {
    std::lock_guard<std::mutex> lock(mu_);
    return link_;
  }
  void ConsumeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    link_->Consumed(unconsumed_);
    unconsumed_ = 0;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  size_t received_ = 0;
  size_t unconsumed_ = 0;
  std::shared_ptr<Link> link_;

 private:
  const size_t read_ahead_;
};

class PeerTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = PeerServer::Start("127.0.0.1:0", &error);
    ASSERT_TRUE(server_) << error;
    server_->Register(info_.info_hash(), &sink_);
    stub_ = wire::PeerWire::NewStub(
        MakeChannel("127.0.0.1:" + std::to_string(server_->port())));
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    stream_ = stub_->Connect(&ctx_);
    wire::WireMessage hs;
    EncodeMessage(core::Handshake{info_.info_hash(), core::PeerId(5)}, &hs);
    ASSERT_TRUE(stream_->Write(hs));
    ASSERT_TRUE(sink_.WaitFor([&] { return sink_.link_ != nullptr; }));
  }

  void TearDown() override {
    ctx_.TryCancel();
    if (writer_.joinable()) writer_.join();
    if (!finished_) stream_->Finish();
    server_->Shutdown();
  }

  // Writes `n` keep-alives from another thread (writes block once the
  // server stops reading).
  void FloodKeepAlives(int n) {
    writer_ = std::thread([this, n] {
      wire::WireMessage ka;
      EncodeMessage(core::KeepAlive{}, &ka);
      for (int i = 0; i < n && stream_->Write(ka); ++i) {
      }
    });
  }

  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  // 16 keep-alives (2 bytes each, ReadCost 258) reach the read-ahead.
  static constexpr size_t kReadAhead = 4096;
  static constexpr size_t kMessagesToPause = 16;
  Sink sink_{kReadAhead};
  std::unique_ptr<PeerServer> server_;
  std::unique_ptr<wire::PeerWire::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<Stream> stream_;
  std::thread writer_;
  bool finished_ = false;
};

// A peer sending faster than the driver consumes (held back by a download
// limit or an added delay, or just flooding) is held back by flow control
// instead of filling our memory: the link stops reading at the read-ahead
// and resumes once the driver has consumed.
TEST_F(PeerTransportTest, ReadingPausesAtTheReadAheadAndResumesWhenConsumed) {
  FloodKeepAlives(100000);
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.received_ >= kMessagesToPause; }));
  // Give a link that did not pause the time to show it (the flood is
  // thousands of messages per millisecond on loopback).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(sink_.received(), kMessagesToPause);
  sink_.ConsumeAll();
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.received_ >= 2 * kMessagesToPause; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sink_.received(), 2 * kMessagesToPause);
}

// A peer that never reads what we send: the queue of messages for it is
// bounded, and the link is closed when it is full.
TEST_F(PeerTransportTest, ALinkWhoseRemoteNeverReadsIsClosedWhenItsQueueIsFull) {
  std::shared_ptr<Link> link = sink_.link();
  // 256 MiB in all: far more than flow-control windows and socket buffers
  // hold, so most of it has to wait in the queue.
  constexpr size_t kSent = 4096;
  const core::BitfieldMessage big{std::vector<uint8_t>(64 * 1024, 0xff)};
  for (size_t i = 0; i < kSent; ++i) link->Send(EncodeFrame(big), std::nullopt);
  // Now read: whatever was sent arrives, then the end of the stream.
  wire::WireMessage in;
  size_t got = 0;
  while (stream_->Read(&in)) ++got;
  grpc::Status status = stream_->Finish();
  finished_ = true;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message() << " after " << got << " messages";
  EXPECT_LT(got, kSent);
}

// Streams that never send their handshake are not held for good: past the
// limit the oldest is closed, and a stream that does handshake still gets
// through.
TEST(PeerServerTest, TheOldestStreamWithoutAHandshakeMakesRoomForANewOne) {
  constexpr size_t kMaxUnrouted = 4;
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error, kMaxUnrouted);
  ASSERT_TRUE(server) << error;
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  Sink sink(kDefaultReadAheadBytes);
  server->Register(info.info_hash(), &sink);
  auto stub = wire::PeerWire::NewStub(MakeChannel("127.0.0.1:" + std::to_string(server->port())));
  std::vector<std::unique_ptr<grpc::ClientContext>> ctx;
  std::vector<std::unique_ptr<Stream>> idle;
  for (size_t i = 0; i <= kMaxUnrouted; ++i) {
    ctx.push_back(std::make_unique<grpc::ClientContext>());
    ctx.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    idle.push_back(stub->Connect(ctx.back().get()));
    idle.back()->WaitForInitialMetadata();  // the server has taken it: in order
  }
  wire::WireMessage in;
  EXPECT_FALSE(idle[0]->Read(&in));
  EXPECT_EQ(idle[0]->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The others wait on; one of them now handshakes and is routed.
  wire::WireMessage hs;
  EncodeMessage(core::Handshake{info.info_hash(), core::PeerId(5)}, &hs);
  ASSERT_TRUE(idle[1]->Write(hs));
  EXPECT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
  for (size_t i = 1; i < idle.size(); ++i) {
    ctx[i]->TryCancel();
    idle[i]->Finish();
  }
  server->Shutdown();
}

}  // namespace
}  // namespace swarm::net

namespace swarm::net {
namespace {

// gRPC 1.51 runs the callback API on one process-wide completion queue,
// reference-counted by the channels and servers using it and torn down
// whenever the count reaches zero; that teardown races its own threads
// (an intermittent abort, "ref_counted.h: assertion failed: prior > 0",
// seen about once in 40 runs of the loopback swarm tests). Swarms that
// come and go in one process cross zero over and over: this does so many
// times in a row.
TEST(CallbackQueueTest, ServersAndChannelsComingAndGoingDoNotAbort) {
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  for (int round = 0; round < 2000; ++round) {
    std::string error;
    auto server = PeerServer::Start("127.0.0.1:0", &error);
    ASSERT_TRUE(server) << error;
    Sink sink(kDefaultReadAheadBytes);
    server->Register(info.info_hash(), &sink);
    {
      Dialer dialer;
      std::mutex mu;
      std::condition_variable cv;
      bool closed = false;
      Link::Handlers h;
      h.on_closed = [&] {
        std::lock_guard<std::mutex> lock(mu);
        closed = true;
        cv.notify_all();
      };
      auto link = dialer.Dial("127.0.0.1:" + std::to_string(server->port()), h);
      link->Send(EncodeFrame(core::Handshake{info.info_hash(), core::PeerId(5)}), std::nullopt);
      ASSERT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
      link->Close();
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return closed; }));
    }
    server->Shutdown();
  }
}

}  // namespace
}  // namespace swarm::net
