// The peer-wire transport against a remote that floods us or never reads:
// a raw gRPC client talks to a PeerServer whose torrent is a test sink, so
// what the Link does is seen without a driver in between.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/torrent_info.h"
#include "net-real/link.h"
#include "net-real/peer_transport.h"
#include "tests/net/loopback_socket.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"
#include "tests/net/raw_peer.h"

namespace swarm::net {
namespace {

using Stream = grpc::ClientReaderWriter<wire::WireMessage, wire::WireMessage>;

// Counts what arrives and consumes nothing until told to.
class Sink : public InboundSink {
 public:
  static constexpr size_t kMaxQueued = 64;
  explicit Sink(size_t read_ahead) : read_ahead_(read_ahead) {}

  void AdoptInbound(std::shared_ptr<Link> link, const AuthHello&,
                    Link::Handlers* handlers) override {
    handlers->read_ahead_bytes = read_ahead_;
    handlers->max_queued_send_bytes = kMaxQueued * kQueuedSendOverhead;
    handlers->on_message = [this](Payload bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_;
      unconsumed_ += Link::ReadCost(bytes.size());
      cv_.notify_all();
    };
    handlers->on_closed = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
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
  bool closed_ = false;  // on_closed came
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
    const wire::WireMessage hs = ToWire(ShapedHello(info_.info_hash(), 5));
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

// The same remote, reading nothing at all (and with a 64 KiB receive
// window: no bandwidth probe): the link closes itself when its queue is
// full while a write is held by flow control. It must still end, and say
// so (on_closed): the driver keeps a connection until it hears its link
// closed, and the core would keep it too.
TEST(PeerServerTest, ALinkWhoseQueueFillsWhileItsRemoteReadsNothingEnds) {
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(server) << error;
  Sink sink(kDefaultReadAheadBytes);
  server->Register(info.info_hash(), &sink);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto stub = wire::PeerWire::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Connect(&ctx);
  ASSERT_TRUE(stream->Write(ToWire(ShapedHello(info.info_hash(), 5))));
  ASSERT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
  // One message four times the window, which stays in flight, then
  // keep-alives past the queue's limit. (Past either limit: the link may
  // take the sink's own, 64, only after the sink has it.)
  std::shared_ptr<Link> link = sink.link();
  link->Send(EncodeFrame(core::BitfieldMessage{std::vector<uint8_t>(256 << 10, 0xff)}),
             std::nullopt);
  for (size_t i = 0; i <= kMaxQueuedSendBytes / kQueuedSendOverhead; ++i) {
    link->Send(EncodeFrame(core::KeepAlive{}), std::nullopt);
  }
  EXPECT_TRUE(sink.WaitFor([&] { return sink.closed_; })) << "no on_closed";
  // The driver logs why (an inbound link had no reason to give).
  EXPECT_NE(link->CloseReason().find("the remote does not read what we send"),
            std::string::npos)
      << link->CloseReason();
  ctx.TryCancel();
  stream->Finish();
  server->Shutdown();
}

// Several links into one torrent, sharing one ReadBudget; counts what each
// receives and consumes nothing until told to.
class SharedSink : public InboundSink {
 public:
  SharedSink(size_t read_ahead, std::shared_ptr<ReadBudget> budget)
      : read_ahead_(read_ahead), budget_(std::move(budget)) {}

  void AdoptInbound(std::shared_ptr<Link> link, const AuthHello&,
                    Link::Handlers* handlers) override {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = links_.size();
    links_.push_back(std::move(link));
    received_.push_back(0);
    unconsumed_.push_back(0);
    closed_.push_back(false);
    handlers->read_ahead_bytes = read_ahead_;
    handlers->read_budget = budget_;
    handlers->on_message = [this, i](Payload bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_[i];
      unconsumed_[i] += Link::ReadCost(bytes.size());
      cv_.notify_all();
    };
    // A driver drops what it holds from a link as it learns the link closed.
    handlers->on_closed = [this, i] {
      std::lock_guard<std::mutex> lock(mu_);
      closed_[i] = true;
      unconsumed_[i] = 0;
      cv_.notify_all();
    };
    cv_.notify_all();
  }

  template <class Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(); });
  }
  // What the links hold for us, by our own count.
  size_t UnconsumedLocked() const {
    size_t sum = 0;
    for (size_t u : unconsumed_) sum += u;
    return sum;
  }
  size_t Unconsumed() {
    std::lock_guard<std::mutex> lock(mu_);
    return UnconsumedLocked();
  }
  std::vector<size_t> Received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  void Consume(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    links_[i]->Consumed(unconsumed_[i]);
    unconsumed_[i] = 0;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Link>> links_;
  std::vector<size_t> received_;
  std::vector<size_t> unconsumed_;
  std::vector<bool> closed_;

 private:
  const size_t read_ahead_;
  const std::shared_ptr<ReadBudget> budget_;
};

// kLinks raw clients (one channel, so one TCP connection, each) flooding
// keep-alives into one SharedSink.
class ReadBudgetTest : public ::testing::Test {
 protected:
  static constexpr size_t kLinks = 4;
  static constexpr size_t kKeepAliveCost = Link::ReadCost(2);  // 258
  // 16 keep-alives a link, 32 for all links together: without the budget
  // the four links would hold 64.
  static constexpr size_t kReadAhead = 16 * kKeepAliveCost;
  static constexpr size_t kBudget = 32 * kKeepAliveCost;
  // Each link may have one message in flight past the budget.
  static constexpr size_t kBound = kBudget + kLinks * kKeepAliveCost;

  void SetUp() override {
    std::string error;
    server_ = PeerServer::Start("127.0.0.1:0", &error);
    ASSERT_TRUE(server_) << error;
    server_->Register(info_.info_hash(), &sink_);
    for (size_t i = 0; i < kLinks; ++i) {
      Client& c = clients_[i];
      c.stub = wire::PeerWire::NewStub(
          MakeChannel("127.0.0.1:" + std::to_string(server_->port())));
      c.ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      c.stream = c.stub->Connect(&c.ctx);
      const wire::WireMessage hs = ToWire(ShapedHello(info_.info_hash(), 5 + i));
      ASSERT_TRUE(c.stream->Write(hs));
      // In order, so link i of the sink is client i.
      ASSERT_TRUE(sink_.WaitFor([&] { return sink_.links_.size() == i + 1; }));
    }
  }

  void TearDown() override {
    for (Client& c : clients_) c.ctx.TryCancel();
    for (Client& c : clients_) {
      if (c.writer.joinable()) c.writer.join();
      if (c.stream) c.stream->Finish();
    }
    server_->Shutdown();
  }

  void Flood(size_t i) {
    Client& c = clients_[i];
    c.writer = std::thread([&c] {
      wire::WireMessage ka;
      EncodeMessage(core::KeepAlive{}, &ka);
      for (int n = 0; n < 100000 && c.stream->Write(ka); ++n) {
      }
    });
  }

  // Waits until the links hold at least the budget, then gives links that
  // would not pause the time to show it (the floods are thousands of
  // messages per millisecond on loopback).
  void SettleFull() {
    ASSERT_TRUE(sink_.WaitFor([&] { return sink_.UnconsumedLocked() >= kBudget; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }

  struct Client {
    std::unique_ptr<wire::PeerWire::Stub> stub;
    grpc::ClientContext ctx;
    std::unique_ptr<Stream> stream;
    std::thread writer;
  };

  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  std::shared_ptr<ReadBudget> budget_ = std::make_shared<ReadBudget>(kBudget);
  SharedSink sink_{kReadAhead, budget_};
  std::unique_ptr<PeerServer> server_;
  Client clients_[kLinks];
};

// Peers flooding a driver that does not keep up: together its links hold
// about the budget, not each link its read-ahead; a link that has nothing
// waiting still reads (others filling the budget do not stall it); and a
// link paused on the budget reads on as soon as the driver consumes from
// any link.
TEST_F(ReadBudgetTest, LinksTogetherStayWithinTheBudgetAndResumeWhenConsumed) {
  // Two links fill their read-ahead, which exhausts the budget...
  Flood(0);
  Flood(1);
  SettleFull();
  EXPECT_LE(sink_.Unconsumed(), kBound);
  EXPECT_EQ(budget_->used(), sink_.Unconsumed());
  // ...then two more start: each gets a message through, and no more.
  Flood(2);
  Flood(3);
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.received_[2] > 0 && sink_.received_[3] > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(sink_.Unconsumed(), kBound);
  EXPECT_EQ(budget_->used(), sink_.Unconsumed());

  // Links 0 and 1 consumed: 2 and 3, paused on the budget with a message
  // each, read on (and so do 0 and 1), filling the budget again.
  const std::vector<size_t> before = sink_.Received();
  sink_.Consume(0);
  sink_.Consume(1);
  ASSERT_TRUE(sink_.WaitFor([&] {
    return sink_.received_[2] > before[2] && sink_.received_[3] > before[3];
  })) << "links 2 and 3 got " << sink_.Received()[2] << " and " << sink_.Received()[3];
  SettleFull();
  EXPECT_LE(sink_.Unconsumed(), kBound);
  EXPECT_EQ(budget_->used(), sink_.Unconsumed());
}

// What a link held when its stream ended no longer counts (the driver drops
// it on on_closed), so the other links get the budget back.
TEST_F(ReadBudgetTest, AClosedLinkReturnsWhatItHeldToTheBudget) {
  Flood(0);
  Flood(1);
  SettleFull();
  ASSERT_GT(sink_.Received()[1], 0u);
  clients_[1].ctx.TryCancel();
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.closed_[1]; }));
  EXPECT_EQ(budget_->used(), sink_.Unconsumed());
  // Link 2 now reads up to its own read-ahead, not one message.
  Flood(2);
  EXPECT_TRUE(sink_.WaitFor([&] { return sink_.received_[2] * kKeepAliveCost >= kReadAhead; }))
      << "link 2 got " << sink_.Received()[2] << " messages";
}

// Streams that never send their handshake are not held for good: with
// `limit` of them waiting, a new one closes the oldest, and a stream that
// does handshake still gets through.
void CheckTheOldestUnroutedStreamMakesRoom(PeerServerOptions options, size_t limit) {
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error, options);
  ASSERT_TRUE(server) << error;
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  Sink sink(kDefaultReadAheadBytes);
  server->Register(info.info_hash(), &sink);
  auto stub = wire::PeerWire::NewStub(MakeChannel("127.0.0.1:" + std::to_string(server->port())));
  std::vector<std::unique_ptr<grpc::ClientContext>> ctx;
  std::vector<std::unique_ptr<Stream>> idle;
  for (size_t i = 0; i <= limit; ++i) {
    ctx.push_back(std::make_unique<grpc::ClientContext>());
    ctx.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    idle.push_back(stub->Connect(ctx.back().get()));
    idle.back()->WaitForInitialMetadata();  // the server has taken it: in order
  }
  wire::WireMessage in;
  EXPECT_FALSE(idle[0]->Read(&in));
  EXPECT_EQ(idle[0]->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The others wait on; one of them now handshakes and is routed.
  const wire::WireMessage hs = ToWire(ShapedHello(info.info_hash(), 5));
  ASSERT_TRUE(idle[1]->Write(hs));
  EXPECT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
  for (size_t i = 1; i < idle.size(); ++i) {
    ctx[i]->TryCancel();
    idle[i]->Finish();
  }
  server->Shutdown();
}

TEST(PeerServerTest, TheOldestStreamWithoutAHandshakeMakesRoomForANewOne) {
  CheckTheOldestUnroutedStreamMakesRoom({.max_unrouted = 4}, 4);
}

// The default, as measured in docs/real-network.md: 64 waiting streams,
// not 256, so what their unfinished first messages hold stays well under
// the memory quota.
TEST(PeerServerTest, ByDefaultSixtyFourStreamsWaitForTheirHandshake) {
  CheckTheOldestUnroutedStreamMakesRoom({}, 64);
}

// gRPC 1.51 compares a message with the size cap only once it has arrived
// whole, so a first message far over the cap (a client may send what it
// likes) would be buffered to its end; the server's memory quota cuts the
// stream off long before. The server then still routes a handshake.
TEST(PeerServerTest, AMessageFarOverTheMemoryQuotaIsCutOff) {
  constexpr size_t kQuota = 8u << 20;
  constexpr size_t kChunk = 1u << 20;
  constexpr size_t kHuge = 256 * kChunk;  // 32 times the quota
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error, {.memory_quota_bytes = kQuota});
  ASSERT_TRUE(server) << error;
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  Sink sink(kDefaultReadAheadBytes);
  server->Register(info.info_hash(), &sink);
  const std::string target = "127.0.0.1:" + std::to_string(server->port());

  // One message of kHuge bytes, all slices of one static buffer, through a
  // channel whose own cap lets it go.
  static const std::string chunk(kChunk, 'x');
  std::vector<grpc::Slice> slices(kHuge / kChunk,
                                  grpc::Slice(chunk.data(), chunk.size(), grpc::Slice::STATIC_SLICE));
  grpc::ByteBuffer huge(slices.data(), slices.size());
  grpc::GenericStub stub(MakeChannel(target, static_cast<int>(2 * kHuge)));
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto call = stub.PrepareCall(&ctx, "/swarm.wire.PeerWire/Connect", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_TRUE(ok);
  // The write completes only once gRPC has sent the whole message, which
  // the server's flow control allows only if it buffered it all.
  call->Write(huge, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(ok) << "the server took in all " << kHuge << " bytes";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }

  auto typed = wire::PeerWire::NewStub(MakeChannel(target));
  grpc::ClientContext hs_ctx;
  hs_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = typed->Connect(&hs_ctx);
  ASSERT_TRUE(stream->Write(ToWire(ShapedHello(info.info_hash(), 5))));
  EXPECT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
  hs_ctx.TryCancel();
  stream->Finish();
  server->Shutdown();
}

// Keeps every message it is given (its Payload, and so gRPC's receive
// slices), link by link, until the test takes them.
class Keeper : public InboundSink {
 public:
  void AdoptInbound(std::shared_ptr<Link> link, const AuthHello&,
                    Link::Handlers* handlers) override {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = links_.size();
    links_.push_back(std::move(link));
    held_.emplace_back();
    handlers->read_ahead_bytes = 1u << 30;
    handlers->on_message = [this, i](Payload bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      held_[i].push_back(std::move(bytes));
      ++count_;
      cv_.notify_all();
    };
  }
  // Waits (up to 10 s) until `n` messages are held, then hands them over,
  // by link; fewer fail the test (the round would then test less).
  std::vector<std::vector<Payload>> Take(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
    EXPECT_EQ(count_, n) << "messages held when the round starts";
    count_ = 0;
    std::vector<std::vector<Payload>> taken(links_.size());
    taken.swap(held_);
    return taken;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Payload>> held_;
  size_t count_ = 0;
  std::vector<std::shared_ptr<Link>> links_;
};

// One round of MessagesLetGoOnAPlainThreadDuringAQuotaFloodAreSafe: honest
// streams deliver messages, which the sink holds; then fresh connections
// flood the server's quota one after another while the held messages are
// let go one by one on a plain thread.
void LetGoOfMessagesDuringAQuotaFlood() {
  constexpr size_t kQuota = 8u << 20;
  constexpr int kHonest = 16;        // connections, each left open once it has sent
  constexpr int kMessagesEach = 64;  // of 4 KiB: 4 MiB held in all
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error, {.memory_quota_bytes = kQuota});
  ASSERT_TRUE(server) << error;
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  Keeper keeper;
  server->Register(info.info_hash(), &keeper);
  const std::string target = "127.0.0.1:" + std::to_string(server->port());

  struct Honest {
    std::unique_ptr<wire::PeerWire::Stub> stub;
    grpc::ClientContext ctx;
    std::unique_ptr<Stream> stream;
  } honest[kHonest];
  wire::WireMessage msg;
  EncodeMessage(core::BitfieldMessage{std::vector<uint8_t>(4096, 0xff)}, &msg);
  for (Honest& h : honest) {
    h.stub = wire::PeerWire::NewStub(MakeChannel(target));
    h.ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    h.stream = h.stub->Connect(&h.ctx);
    ASSERT_TRUE(h.stream->Write(ToWire(ShapedHello(info.info_hash(), 5))));
    for (int i = 0; i < kMessagesEach; ++i) ASSERT_TRUE(h.stream->Write(msg));
  }
  std::vector<std::vector<Payload>> by_link = keeper.Take(size_t{kHonest} * kMessagesEach);
  ASSERT_EQ(by_link.size(), size_t{kHonest});

  // The flood: one message of 32 times the quota after another, each on a
  // connection of its own (the quota cuts each off), until told to stop.
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    static const std::string chunk(1u << 20, 'x');
    std::vector<grpc::Slice> slices(
        32 * kQuota / chunk.size(),
        grpc::Slice(chunk.data(), chunk.size(), grpc::Slice::STATIC_SLICE));
    const grpc::ByteBuffer huge(slices.data(), slices.size());
    while (!stop) {
      grpc::GenericStub stub(MakeChannel(target, static_cast<int>(64 * kQuota)));
      grpc::CompletionQueue cq;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      auto call = stub.PrepareCall(&ctx, "/swarm.wire.PeerWire/Connect", &cq);
      void* tag = nullptr;
      bool ok = false;
      call->StartCall(reinterpret_cast<void*>(1));
      cq.Next(&tag, &ok);
      if (ok) {
        call->Write(huge, reinterpret_cast<void*>(2));
        cq.Next(&tag, &ok);
      }
      grpc::Status status;
      call->Finish(&status, reinterpret_cast<void*>(3));
      cq.Next(&tag, &ok);
      cq.Shutdown();
      while (cq.Next(&tag, &ok)) {
      }
      // A pause between floods, when gRPC itself gives nothing back.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // Meanwhile the held messages go, one a millisecond, a link after
  // another, on a plain thread: as the disk thread lets written blocks go.
  std::thread([&by_link] {
    for (bool any = true; any;) {
      any = false;
      for (std::vector<Payload>& held : by_link) {
        if (held.empty()) continue;
        held.pop_back();
        any = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }).join();
  stop = true;
  flood.join();
  for (Honest& h : honest) h.ctx.TryCancel();
  for (Honest& h : honest) h.stream->Finish();
  server->Shutdown();
}

// A received message shares gRPC's receive slices, which gRPC counts
// against the connection's memory quota until the last reference goes,
// and the driver and disk threads let go of blocks: once the quota has
// been under pressure, memory given back may wake gRPC's reclaimer, which
// gRPC 1.51 schedules on the calling thread's ExecCtx. A thread gRPC never
// entered has none: a bare slice let go there killed the process
// (SIGSEGV in grpc_core::ExecCtx::Run; docs/real-network.md). A timing
// race: without the fix six rounds crashed in 13 runs of 26, about one
// round in nine, so 20 rounds (~20 s) catch it about nine times in ten.
TEST(PeerServerTest, MessagesLetGoOnAPlainThreadDuringAQuotaFloodAreSafe) {
  for (int round = 0; round < 20 && !HasFailure(); ++round) LetGoOfMessagesDuringAQuotaFlood();
}

// A remote we dial that answers every stream with one message of `bytes`
// (all slices of one static buffer) and records whether gRPC finished
// sending it: it can only if the dialler's flow control let it all in.
class FloodingPeer final : public grpc::CallbackGenericService {
 public:
  explicit FloodingPeer(size_t bytes) {
    static const std::string chunk(1u << 20, 'x');
    std::vector<grpc::Slice> slices(
        bytes / chunk.size(), grpc::Slice(chunk.data(), chunk.size(), grpc::Slice::STATIC_SLICE));
    huge_ = grpc::ByteBuffer(slices.data(), slices.size());
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new Reactor(this);
  }

  // Waits (up to 60 s) for the write to end; true if it completed.
  std::optional<bool> WriteOutcome() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return outcome_.has_value(); });
    return outcome_;
  }

 private:
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(FloodingPeer* peer) : peer_(peer), out_(peer->huge_) {
      StartSendInitialMetadata();
      StartWrite(&out_);
    }
    void OnWriteDone(bool ok) override {
      {
        std::lock_guard<std::mutex> lock(peer_->mu_);
        if (!peer_->outcome_) peer_->outcome_ = ok;
        peer_->cv_.notify_all();
      }
      Finish(grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    FloodingPeer* peer_;
    grpc::ByteBuffer out_;
  };

  grpc::ByteBuffer huge_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<bool> outcome_;
};

// The dialling side of AMessageFarOverTheMemoryQuotaIsCutOff: a remote we
// dial (a tracker may list any address) sends what it likes on our own
// stream, and gRPC 1.51 would buffer all of a message however long; the
// Dialer's memory quota cuts the stream off long before, the link closes
// saying so, and the Dialer still reaches an honest peer.
TEST(DialerTest, AMessageFarOverTheMemoryQuotaIsCutOff) {
  constexpr size_t kQuota = 8u << 20;
  constexpr size_t kHuge = 256u << 20;  // 32 times the quota
  FloodingPeer flooder(kHuge);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&flooder);
  auto flooding_server = builder.BuildAndStart();
  ASSERT_TRUE(flooding_server && port != 0);

  Dialer dialer({.memory_quota_bytes = kQuota});
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;
  size_t received = 0;
  Link::Handlers h;
  h.on_message = [&](Payload) {
    std::lock_guard<std::mutex> lock(mu);
    ++received;
  };
  h.on_closed = [&] {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    cv.notify_all();
  };
  auto link = dialer.Dial("127.0.0.1:" + std::to_string(port), h);
  const std::optional<bool> sent_all = flooder.WriteOutcome();
  ASSERT_TRUE(sent_all.has_value()) << "the write neither completed nor failed";
  EXPECT_FALSE(*sent_all) << "the dialler took in all " << kHuge << " bytes";
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return closed; }));
    EXPECT_EQ(received, 0u);
  }
  // What the driver logs as the reason.
  EXPECT_EQ(link->CloseReason().rfind("RESOURCE_EXHAUSTED: ", 0), 0u) << link->CloseReason();
  flooding_server->Shutdown();

  std::string error;
  auto honest = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(honest) << error;
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  Sink sink(kDefaultReadAheadBytes);
  honest->Register(info.info_hash(), &sink);
  auto good = dialer.Dial("127.0.0.1:" + std::to_string(honest->port()), {});
  good->Send(EncodeAuthFrame(ShapedHello(info.info_hash(), 5)), std::nullopt);
  EXPECT_TRUE(sink.WaitFor([&] { return sink.link_ != nullptr; }));
  good->Close();
  honest->Shutdown();
}

// A remote we dial that takes the stream and then reads nothing (nor
// writes), with gRPC's bandwidth probe off so that the stream's receive
// window stays at 64 KiB. It ends a stream only when the dialler cancels.
class DeafPeer final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new Reactor();
  }

 private:
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    Reactor() { StartSendInitialMetadata(); }
    void OnCancel() override { Finish(grpc::Status::CANCELLED); }
    void OnDone() override { delete this; }
  };
};

// A link closed while its remote reads nothing has a write outstanding
// that flow control holds for as long as the remote likes. It must end all
// the same: the driver forgets a link it closes, so one left open would
// hold its call and the message in flight, counted nowhere, for as long as
// the remote kept its connection (and one closed for a full queue, which
// the driver waits to hear of, would never be reported closed).
TEST(DialerTest, ALinkClosedWhileItsRemoteReadsNothingEnds) {
  DeafPeer deaf;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.RegisterCallbackGenericService(&deaf);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server && port != 0);

  Dialer dialer;
  std::mutex mu;
  std::condition_variable cv;
  bool up = false, closed = false;
  Link::Handlers h;
  h.on_up = [&] {
    std::lock_guard<std::mutex> lock(mu);
    up = true;
    cv.notify_all();
  };
  h.on_closed = [&] {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    cv.notify_all();
  };
  auto link = dialer.Dial("127.0.0.1:" + std::to_string(port), h);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return up; }));
  }
  // 512 KiB in one message, eight times the remote's window.
  link->Send(EncodeFrame(core::BitfieldMessage{std::vector<uint8_t>(512 << 10, 0xff)}),
             std::nullopt);
  link->Close();
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return closed; }))
        << "the link is still open";
  }
  // Cancels the stream if the link did not end it.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// A plain TCP listener on 127.0.0.1 that counts the connections it
// accepts and closes each at once (before a byte of HTTP/2): to gRPC, an
// address where nobody speaks its protocol, like a port a peer has left.
class CountingListener {
 public:
  CountingListener() {
    uint16_t port = 0;
    fd_ = testing::BindLoopback(&port, /*backlog=*/16);
    if (fd_ < 0) {
      ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
      return;
    }
    port_ = port;
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) {
          ::close(c);
          ++accepted_;
        }
      }
    });
  }
  ~CountingListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Dials `endpoint` and waits (up to 10 s) for the link to close; returns
// whether it did without coming up. The link is freed on return.
bool DialAndWaitForClose(Dialer* dialer, const std::string& endpoint) {
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false, up = false;
  Link::Handlers h;
  h.on_up = [&] {
    std::lock_guard<std::mutex> lock(mu);
    up = true;
  };
  h.on_closed = [&] {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    cv.notify_all();
  };
  auto link = dialer->Dial(endpoint, h);
  std::unique_lock<std::mutex> lock(mu);
  const bool ok = cv.wait_for(lock, std::chrono::seconds(10), [&] { return closed; });
  link.reset();
  return ok && !up;
}

// A peer that left keeps its place in trackers' lists for a while, and its
// port may be taken by anything. Once the link dialled to it has closed, its
// channel goes with it: gRPC reconnects no more to the address (a channel
// kept open did so every second or two at first, for the life of the
// process), and the Dialer keeps no entry per endpoint ever dialled.
TEST(DialerTest, AClosedLinkLeavesNothingReconnectingToItsEndpoint) {
  Dialer dialer;
  CountingListener dead;
  ASSERT_TRUE(DialAndWaitForClose(&dialer, dead.endpoint()));
  const int after_close = dead.accepted();
  EXPECT_GE(after_close, 1);
  // gRPC's first reconnect comes 1 s (+-20 %) after a failure, the next
  // 1.6 times later: within 4 s, at least two.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(dead.accepted(), after_close) << "connections to " << dead.endpoint()
                                          << " after its only link closed";
  EXPECT_EQ(dialer.Channels(), 0u);

  // Twenty more endpoints, each dialled and closed: none stays.
  std::vector<std::unique_ptr<CountingListener>> more;
  for (int i = 0; i < 20; ++i) {
    more.push_back(std::make_unique<CountingListener>());
    ASSERT_TRUE(DialAndWaitForClose(&dialer, more.back()->endpoint()));
  }
  for (int i = 0; i < 100 && dialer.Channels() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(dialer.Channels(), 0u);
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
      link->Send(EncodeAuthFrame(ShapedHello(info.info_hash(), 5)), std::nullopt);
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
