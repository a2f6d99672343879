// A driver's memory for received messages. Against a hostile peer: a raw
// gRPC client floods an in-process seed (PeerServer + PeerDriver +
// TrackerServer) whose added delay keeps every message waiting, so nothing
// is consumed. What the seed holds must stay within its read budget, also
// when the peer reconnects and floods again. Against a slow disk: a
// leecher whose disk thread is held still must stop reading once the
// blocks waiting to be written fill its budget, and complete once the disk
// moves again.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

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

// Polls `driver`'s progress every 10 ms for up to `seconds`.
bool WaitForProgress(const PeerDriver& driver, int seconds,
                     const std::function<bool(const DriverProgress&)>& pred) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (pred(driver.Progress())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A gate the disk thread waits at before every block write.
class DiskGate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class SlowDiskTest : public InProcessSeedTest {
 protected:
  static constexpr size_t kBudget = 128 * 1024;
  // One link (to the seed), so one message past the budget: a Piece of
  // one 16 KiB block (core default) and its few header bytes.
  static constexpr size_t kBound = kBudget + Link::ReadCost(16 * 1024 + 64);

  SlowDiskTest() : InProcessSeedTest("swarm_slow_disk_") {}
};

// The leecher's disk thread stops before its first write. Without a bound
// the transport would read the whole 1 MiB file into the disk queue; the
// blocks waiting there count against the read budget, so reading stops
// near 128 KiB. Once the disk moves the download completes, correct: the
// link, paused with its blocks retained, resumes as they are written.
TEST_F(SlowDiskTest, BlocksWaitingForTheDiskCountAgainstTheReadBudget) {
  std::string error;
  ASSERT_TRUE(WaitUntilSeedListed(&error)) << error;
  const std::filesystem::path out = LeecherDir();
  auto store = OpenLeecherStore(&error);
  ASSERT_TRUE(store) << error;
  DiskGate gate;
  DriverOptions o;
  o.rng_stream = 2;
  o.endpoint = "127.0.0.1:1";  // not dialed back: the seed has all it needs
  o.read_budget_bytes = kBudget;
  o.before_block_write = [&gate] { gate.Wait(); };
  PeerDriver leecher(info_, std::move(store), core::Bitfield(info_.piece_count(), false), o,
                     client_.get(), &dialer_);
  leecher.Start();
  const bool filled = WaitForProgress(
      leecher, 10, [](const DriverProgress& p) { return p.read_buffered >= kBudget; });
  // A leecher that would read on gets the time to show it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const DriverProgress held = leecher.Progress();
  gate.Open();
  EXPECT_TRUE(filled) << held.read_buffered << " bytes held, " << held.disk_queued
                      << " waiting for the disk (at most " << held.disk_queued_peak << ")";
  EXPECT_LE(held.read_buffered, kBound);
  EXPECT_LE(held.disk_queued_peak, kBound);
  EXPECT_GT(held.disk_queued, 0u);
  EXPECT_TRUE(WaitForProgress(leecher, 30, [](const DriverProgress& p) {
    return p.file_complete && p.disk_queued == 0;
  }));
  const DriverProgress done = leecher.Progress();
  leecher.Stop(core::Duration::Zero());
  EXPECT_EQ(done.fatal_error, "");
  EXPECT_LE(done.disk_queued_peak, kBound);
  EXPECT_EQ(done.disk_queued, 0u);
  EXPECT_TRUE(ReadAll(out / "f.bin") == ReadAll(dir_ / "f.bin"));
}

// The leecher's first block write fails (its file descriptor is swapped for
// a read-only one) while more blocks wait for the disk, and the driver is
// stopped before the disk thread moves: every block discarded after the
// driver thread's last snapshot still counts as wasted.
TEST_F(SlowDiskTest, BlocksDiscardedAfterAFailedWriteCountAsWastedAfterStop) {
  std::string error;
  ASSERT_TRUE(WaitUntilSeedListed(&error)) << error;
  auto store = OpenLeecherStore(&error);
  ASSERT_TRUE(store) << error;
  const std::string partial = std::filesystem::canonical(store->path()).string();
  DiskGate gate;
  bool broken = false;  // disk thread only
  DriverOptions o;
  o.rng_stream = 2;
  o.endpoint = "127.0.0.1:1";
  o.read_budget_bytes = kBudget;
  o.before_block_write = [&] {
    gate.Wait();
    if (broken) return;
    broken = true;
    // Whatever descriptor names the partial file now refuses writes.
    const int ro = ::open("/dev/null", O_RDONLY);
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      if (std::filesystem::read_symlink(e.path(), ec).string() != partial) continue;
      ::dup2(ro, std::stoi(e.path().filename().string()));
    }
    ::close(ro);
  };
  PeerDriver leecher(info_, std::move(store), core::Bitfield(info_.piece_count(), false), o,
                     client_.get(), &dialer_);
  leecher.Start();
  // Several blocks wait behind the held one.
  const bool queued = WaitForProgress(leecher, 10, [](const DriverProgress& p) {
    return p.disk_queued >= 4 * Link::ReadCost(16 * 1024);
  });
  std::thread stopper([&] { leecher.Stop(core::Duration::Zero()); });
  // Gives the driver thread the time to end (its last snapshot taken)
  // while the disk thread is still held; the result does not depend on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  gate.Open();
  stopper.join();
  const DriverProgress done = leecher.Progress();
  EXPECT_TRUE(queued);
  EXPECT_NE(done.fatal_error.find("cannot write to"), std::string::npos) << done.fatal_error;
  // The failed block and at least three queued after it.
  EXPECT_GE(done.stats.wasted, 4u * 16 * 1024);
}

class CorruptSeedTest : public InProcessSeedTest {
 protected:
  CorruptSeedTest() : InProcessSeedTest("swarm_corrupt_seed_") {}
  void SeedOptions(DriverOptions& o) override { o.corrupt_uploads = true; }
};

// The only seed corrupts every block and leaves before the leecher's disk
// thread verifies what it sent: it is banned while not connected, and that
// ban, like any other, is one warning.
TEST_F(CorruptSeedTest, APeerBannedAfterItLeftIsWarnedOfOnce) {
  std::string error;
  ASSERT_TRUE(WaitUntilSeedListed(&error)) << error;
  auto store = OpenLeecherStore(&error);
  ASSERT_TRUE(store) << error;
  DiskGate gate;
  std::mutex log_mu;
  std::vector<std::string> warnings;
  DriverOptions o;
  o.rng_stream = 2;
  o.endpoint = "127.0.0.1:1";
  o.read_budget_bytes = 2 << 20;  // the whole file may wait for the disk
  o.before_block_write = [&gate] { gate.Wait(); };
  o.log = [&](LogLevel level, const std::string& msg) {
    std::lock_guard<std::mutex> lock(log_mu);
    if (level == LogLevel::kWarn && msg.find("is banned") != std::string::npos) {
      warnings.push_back(msg);
    }
  };
  PeerDriver leecher(info_, std::move(store), core::Bitfield(info_.piece_count(), false), o,
                     client_.get(), &dialer_);
  leecher.Start();
  // A whole piece (16 blocks) waits for the disk.
  EXPECT_TRUE(WaitForProgress(leecher, 10, [](const DriverProgress& p) {
    return p.disk_queued >= 16 * Link::ReadCost(16 * 1024);
  }));
  driver_->Stop(core::Duration::Zero());
  EXPECT_TRUE(
      WaitForProgress(leecher, 10, [](const DriverProgress& p) { return p.connections == 0; }));
  gate.Open();
  EXPECT_TRUE(WaitForProgress(leecher, 10, [](const DriverProgress& p) {
    return p.stats.peers_banned == 1 && p.disk_queued == 0;
  }));
  leecher.Stop(core::Duration::Zero());
  std::lock_guard<std::mutex> lock(log_mu);
  EXPECT_EQ(warnings.size(), 1u);
  for (const std::string& w : warnings) EXPECT_EQ(w.rfind("a peer is banned", 0), 0u) << w;
}

}  // namespace
}  // namespace swarm::net
