// A fixture for tests that talk raw gRPC to a real seed in this process: a
// random 1 MiB file (256 KiB pieces) published to a TrackerServer, and a
// PeerDriver seeding it behind a PeerServer on an ephemeral loopback port.
// A test adjusts the driver through SeedOptions() and uses the members.
#ifndef SWARM_TESTS_NET_IN_PROCESS_SEED_H_
#define SWARM_TESTS_NET_IN_PROCESS_SEED_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "core/rng.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"

namespace swarm::net {

class InProcessSeedTest : public ::testing::Test {
 protected:
  // `folder`: the temporary folder's name, made unique per process.
  explicit InProcessSeedTest(std::string folder) : folder_(std::move(folder)) {}

  // Changes to the seed's driver options before it starts (the endpoint is
  // set already; the driver makes its own key pair unless one is set).
  virtual void SeedOptions(DriverOptions&) {}

  void SetUp() override {
    namespace fs = std::filesystem;
    dir_ = fs::temp_directory_path() / (folder_ + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string path = (dir_ / "f.bin").string();
    {
      core::Rng rng(7);
      std::ofstream out(path, std::ios::binary);
      for (int i = 0; i < 1 << 20; ++i) out.put(static_cast<char>(rng.NextU64()));
    }
    HashError hash_error;
    info_ = *HashFile(path, "f.bin", 256 * 1024, &hash_error);
    std::string error;
    tracker_ = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
    ASSERT_TRUE(tracker_) << error;
    client_ = std::make_unique<TrackerClient>("127.0.0.1:" + std::to_string(tracker_->port()));
    ASSERT_TRUE(client_->Publish(info_, &error)) << error;
    server_ = PeerServer::Start("127.0.0.1:0", &error);
    ASSERT_TRUE(server_) << error;
    DriverOptions o;
    o.endpoint = "127.0.0.1:" + std::to_string(server_->port());
    SeedOptions(o);
    driver_ = std::make_unique<PeerDriver>(info_, PieceStore::OpenComplete(path, info_, &error),
                                           core::Bitfield(info_.piece_count(), true), o,
                                           client_.get(), &dialer_);
    server_->Register(info_.info_hash(), driver_.get());
    driver_->Start();
  }

  void TearDown() override {
    if (driver_) driver_->Stop(core::Duration::Zero());
    if (server_) server_->Shutdown();
    if (tracker_) tracker_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  // Waits (up to 10 s) until the tracker lists the seed, so that a
  // leecher started now learns of it from its first announce.
  bool WaitUntilSeedListed(std::string* error) {
    for (int i = 0; i < 1000; ++i) {
      auto files = client_->ListFiles(error);
      if (files && !files->empty() && files->front().seeds > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // A leecher's empty partial file in LeecherDir().
  std::unique_ptr<PieceStore> OpenLeecherStore(std::string* error) {
    std::filesystem::create_directories(LeecherDir());
    return PieceStore::OpenForDownload(LeecherDir().string(), info_, error);
  }
  std::filesystem::path LeecherDir() const { return dir_ / "out"; }

  std::filesystem::path dir_;
  core::TorrentInfo info_;
  std::unique_ptr<TrackerServer> tracker_;
  std::unique_ptr<TrackerClient> client_;
  std::unique_ptr<PeerServer> server_;
  Dialer dialer_;
  std::unique_ptr<PeerDriver> driver_;

 private:
  std::string folder_;
};

}  // namespace swarm::net

#endif  // SWARM_TESTS_NET_IN_PROCESS_SEED_H_
