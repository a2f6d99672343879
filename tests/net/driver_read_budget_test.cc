// A driver's memory for received messages against a hostile peer: a raw
// gRPC client floods an in-process seed (PeerServer + PeerDriver +
// TrackerServer) whose added delay keeps every message waiting, so nothing
// is consumed. What the seed holds must stay within its read budget, also
// when the peer reconnects and floods again.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"
#include "tests/net/in_process_seed.h"
#include "tests/net/raw_peer.h"

namespace swarm::net {
namespace {

using Stream = grpc::ClientReaderWriter<wire::WireMessage, wire::WireMessage>;

class DriverReadBudgetTest : public InProcessSeedTest {
 protected:
  static constexpr size_t kKeepAliveCost = Link::ReadCost(2);  // 258
  static constexpr size_t kBudget = 64 * 1024;
  // One link: one message in flight past the budget.
  static constexpr size_t kBound = kBudget + kKeepAliveCost;

  DriverReadBudgetTest() : InProcessSeedTest("swarm_read_budget_") {}

  void SeedOptions(DriverOptions& o) override {
    // Everything received waits a minute: the driver consumes nothing
    // while the test runs.
    o.added_delay = core::Duration::Seconds(60);
    o.read_budget_bytes = kBudget;
  }

  void SetUp() override {
    InProcessSeedTest::SetUp();
    if (HasFatalFailure()) return;
    stub_ = wire::PeerWire::NewStub(
        MakeChannel("127.0.0.1:" + std::to_string(server_->port())));
  }

  // Polls the driver's progress (published every 50-200 ms) for up to 10 s.
  bool WaitForProgress(const std::function<bool(const DriverProgress&)>& pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred(driver_->Progress())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<wire::PeerWire::Stub> stub_;
};

// A peer floods keep-alives until the seed stops reading, leaves, comes
// back and does it again. The seed holds one budget's worth, not one per
// visit: the links share the budget, and what a closed link left waiting
// in the driver is dropped with it.
TEST_F(DriverReadBudgetTest, AFloodingPeerThatReconnectsStaysWithinTheBudget) {
  for (int visit = 0; visit < 3; ++visit) {
    SCOPED_TRACE("visit " + std::to_string(visit));
    const size_t before = driver_->Progress().inbound_waiting;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::unique_ptr<Stream> stream = stub_->Connect(&ctx);
    std::string error;
    ASSERT_TRUE(RawAuthenticate(stream.get(), info_.info_hash(), PeerIdentity::Generate(),
                                &error))
        << error;
    std::thread writer([&] {
      wire::WireMessage ka;
      EncodeMessage(core::KeepAlive{}, &ka);
      for (int n = 0; n < 100000 && stream->Write(ka); ++n) {
      }
    });
    const bool filled = WaitForProgress(
        [&](const DriverProgress& p) { return p.inbound_waiting >= before + kBudget; });
    // A link that would not pause gets the time to show it.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const DriverProgress p = driver_->Progress();
    ctx.TryCancel();
    writer.join();
    stream->Finish();
    EXPECT_TRUE(filled) << p.inbound_waiting << " bytes waiting";
    EXPECT_LE(p.inbound_waiting, kBound);
    EXPECT_LE(p.read_buffered, kBound);
    // The seed learns the peer left, and drops what it held from it.
    EXPECT_TRUE(WaitForProgress([](const DriverProgress& q) {
      return q.inbound_waiting == 0 && q.read_buffered == 0;
    })) << driver_->Progress().inbound_waiting << " bytes still waiting";
  }
}

}  // namespace
}  // namespace swarm::net
