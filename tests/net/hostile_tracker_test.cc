// A tracker that answers with garbage, on a real socket: a fake gRPC
// Tracker service, a real TrackerClient and, for the listings, a real
// leecher PeerDriver behind a PeerServer. A tracker is trusted for the list
// of peers, not for what a peer connects to or writes: what it lists must
// neither crash nor stall a peer, nor make it dial without bound, and
// metadata that does not add up is refused with a reason. Nor may what a
// listed address answers (ourselves, a peer of another torrent) make it
// dial that address again and again.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"
#include "proto/tracker.grpc.pb.h"
#include "tests/net/raw_peer.h"

namespace swarm::net {
namespace {

// Polls `pred` every 5 ms for up to 5 s.
bool WaitUntil(const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

std::unique_ptr<grpc::Server> Serve(grpc::Service* service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.SetMaxSendMessageSize(kMaxTrackerMessageBytes);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

// Lists, in answer to every announce, `made_up` peers at the announcer's
// own endpoint under made-up ids, the announcer itself under its own id,
// and addresses that are no peer's: port 0, a port past 65535, a local
// socket, and an empty endpoint (a peer taking no connections).
class GarbageTracker final : public wire::Tracker::Service {
 public:
  explicit GarbageTracker(int made_up) : made_up_(made_up) {}

  grpc::Status Announce(grpc::ServerContext*, const wire::AnnounceRequest* req,
                        wire::AnnounceResponse* resp) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++announces_;
    }
    auto add = [&](uint64_t id, const std::string& endpoint) {
      auto* p = resp->add_peers();
      p->set_peer_id(id);
      p->set_endpoint(endpoint);
    };
    add(req->peer_id(), req->endpoint());
    add(1, "127.0.0.1:0");
    add(2, "127.0.0.1:65536");
    add(3, "127.0.0.1:4294967297");
    add(4, "unix:/tmp/x:1");
    add(5, "");
    for (int i = 0; i < made_up_; ++i) add(1000 + i, req->endpoint());
    return grpc::Status::OK;
  }

  int announces() {
    std::lock_guard<std::mutex> lock(mu_);
    return announces_;
  }

 private:
  const int made_up_;
  std::mutex mu_;
  int announces_ = 0;
};

// A leecher that hears only of itself, a thousand times over under ids
// that are not its own: each dial reaches its own port and is refused at
// the handshake ("dialed peer N but reached ourselves"), without a crash
// and without a connection. The first such refusal tells the core that
// endpoint is itself: it drops every other candidate listed there, so only
// the min_connections dials already under way are made, and the next
// listings (a stranded leecher announces again after
// min_reannounce_interval, 1 s here) cost no dial at all. (Before, it
// dialed the 500 candidates it keeps, core::Peer::kMaxCandidates, and as
// many again at every listing.)
TEST(HostileTrackerTest, AListingOfOurselvesAThousandTimesCostsABoundedNumberOfDials) {
  GarbageTracker tracker(1000);
  int port = 0;
  auto tracker_server = Serve(&tracker, &port);
  ASSERT_TRUE(tracker_server && port != 0);
  TrackerClient client("127.0.0.1:" + std::to_string(port));

  const auto dir = std::filesystem::temp_directory_path() /
                   ("swarm_hostile_tracker_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(server) << error;
  auto store = PieceStore::OpenForDownload(dir.string(), info, &error);
  ASSERT_TRUE(store) << error;
  Dialer dialer;
  DriverOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(server->port());
  o.peer.min_reannounce_interval = core::Duration::Seconds(1);
  const uint32_t in_flight = o.peer.min_connections;
  PeerDriver leecher(info, std::move(store), core::Bitfield(info.piece_count()), o, &client,
                     &dialer);
  server->Register(info.info_hash(), &leecher);
  leecher.Start();

  EXPECT_TRUE(WaitUntil([&] { return leecher.Progress().auth_failures >= in_flight; }))
      << leecher.Progress().auth_failures;
  EXPECT_TRUE(WaitUntil([&] { return tracker.announces() >= 3; })) << tracker.announces();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // any more would show
  const DriverProgress p = leecher.Progress();
  EXPECT_EQ(p.auth_failures, in_flight);
  EXPECT_EQ(p.connections, 0u);
  EXPECT_EQ(p.stats.protocol_disconnects, 0u);  // the core never saw one
  leecher.Stop(core::Duration::Zero());
  server->Shutdown();
  tracker_server->Shutdown();
  std::filesystem::remove_all(dir);
}

// Lists one peer, in answer to every announce.
class OnePeerTracker final : public wire::Tracker::Service {
 public:
  OnePeerTracker(uint64_t id, std::string endpoint) : id_(id), endpoint_(std::move(endpoint)) {}
  grpc::Status Announce(grpc::ServerContext*, const wire::AnnounceRequest*,
                        wire::AnnounceResponse* resp) override {
    auto* p = resp->add_peers();
    p->set_peer_id(id_);
    p->set_endpoint(endpoint_);
    return grpc::Status::OK;
  }

 private:
  const uint64_t id_;
  const std::string endpoint_;
};

// A peer of another torrent, or one that says so: it answers every
// stream's handshake with one for `hash`, then waits for the dialer to
// close. Counts the streams it was dialed on.
class OtherTorrentPeer final : public wire::PeerWire::Service {
 public:
  explicit OtherTorrentPeer(const core::InfoHash& hash) : hash_(hash) {}
  grpc::Status Connect(grpc::ServerContext*,
                       grpc::ServerReaderWriter<wire::WireMessage, wire::WireMessage>* s) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++dials_;
    }
    s->SendInitialMetadata();  // the dialer's link is up once these arrive
    wire::WireMessage in;
    if (!s->Read(&in)) return grpc::Status::OK;  // the dialer's handshake
    const std::shared_ptr<const PeerIdentity> me = PeerIdentity::Generate();
    s->Write(ToWire(AuthHello{hash_, me->id(), me->public_key(), RandomNonce()}));
    while (s->Read(&in)) {
    }
    return grpc::Status::OK;
  }
  int dials() {
    std::lock_guard<std::mutex> lock(mu_);
    return dials_;
  }

 private:
  const core::InfoHash hash_;
  std::mutex mu_;
  int dials_ = 0;
};

// A listed peer that answers our dial with a handshake for another torrent
// will do so at every try: it is dialed once, not dial_attempts (3) times,
// although redial_backoff 0 s would let the retries come at once.
TEST(HostileTrackerTest, AListedPeerOfAnotherTorrentIsDialedOnce) {
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18);
  core::InfoHash other = info.info_hash();
  other[0] ^= 1;
  OtherTorrentPeer remote(other);
  int remote_port = 0;
  auto remote_server = Serve(&remote, &remote_port);
  ASSERT_TRUE(remote_server && remote_port != 0);
  OnePeerTracker tracker(77, "127.0.0.1:" + std::to_string(remote_port));
  int port = 0;
  auto tracker_server = Serve(&tracker, &port);
  ASSERT_TRUE(tracker_server && port != 0);
  TrackerClient client("127.0.0.1:" + std::to_string(port));

  const auto dir = std::filesystem::temp_directory_path() /
                   ("swarm_other_torrent_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string error;
  auto store = PieceStore::OpenForDownload(dir.string(), info, &error);
  ASSERT_TRUE(store) << error;
  Dialer dialer;
  DriverOptions o;  // takes no connections: no endpoint, no server
  o.peer.redial_backoff = core::Duration::Zero();
  ASSERT_EQ(o.peer.dial_attempts, 3u);
  PeerDriver leecher(info, std::move(store), core::Bitfield(info.piece_count()), o, &client,
                     &dialer);
  leecher.Start();

  EXPECT_TRUE(WaitUntil([&] { return leecher.Progress().auth_failures >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a retry would show
  EXPECT_EQ(remote.dials(), 1);
  const DriverProgress p = leecher.Progress();
  EXPECT_EQ(p.auth_failures, 1u);
  EXPECT_EQ(p.connections, 0u);
  leecher.Stop(core::Duration::Zero());
  remote_server->Shutdown();
  tracker_server->Shutdown();
  std::filesystem::remove_all(dir);
}

// Answers every Lookup with the metadata `edit` makes of a good 1 MiB
// file's (four pieces of 256 KiB).
class MetadataTracker final : public wire::Tracker::Service {
 public:
  explicit MetadataTracker(std::function<void(wire::TorrentMeta*)> edit)
      : edit_(std::move(edit)) {}
  grpc::Status Lookup(grpc::ServerContext*, const wire::LookupRequest* req,
                      wire::LookupResponse* resp) override {
    resp->set_found(true);
    ToProto(core::TorrentInfo::Synthetic(req->name(), 1 << 20, 1 << 18), resp->mutable_torrent());
    edit_(resp->mutable_torrent());
    return grpc::Status::OK;
  }

 private:
  std::function<void(wire::TorrentMeta*)> edit_;
};

struct BadMetadata {
  const char* name;
  std::function<void(wire::TorrentMeta*)> edit;
  const char* reason;  // what the error must say
};

void PrintTo(const BadMetadata& m, std::ostream* os) { *os << m.name; }

class HostileMetadataTest : public ::testing::TestWithParam<BadMetadata> {};

TEST_P(HostileMetadataTest, IsRefusedWithItsReason) {
  MetadataTracker tracker(GetParam().edit);
  int port = 0;
  auto server = Serve(&tracker, &port);
  ASSERT_TRUE(server && port != 0);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  TrackerClient client(target);
  std::string error;
  EXPECT_FALSE(client.Lookup("f.bin", &error).has_value());
  EXPECT_EQ(error.rfind("tracker " + target + " sent malformed metadata for f.bin: ", 0), 0u)
      << error;
  EXPECT_NE(error.find(GetParam().reason), std::string::npos) << error;
  // Asked again, the tracker would send the same: `get` does not retry.
  EXPECT_TRUE(client.last_failure_hopeless());
  server->Shutdown();
}

INSTANTIATE_TEST_SUITE_P(
    , HostileMetadataTest,
    ::testing::Values(
        BadMetadata{"OneHashTooFew",
                    [](wire::TorrentMeta* m) { m->mutable_piece_hashes()->resize(3 * 32); },
                    "3 piece hashes for 1048576 bytes in pieces of 262144 (4 expected)"},
        BadMetadata{"OneHashTooMany",
                    [](wire::TorrentMeta* m) { m->mutable_piece_hashes()->append(32, 'h'); },
                    "5 piece hashes for 1048576 bytes in pieces of 262144 (4 expected)"},
        BadMetadata{"ALongerFileThanItsHashesCover",
                    [](wire::TorrentMeta* m) { m->set_length((1 << 20) + 1); },
                    "4 piece hashes for 1048577 bytes in pieces of 262144 (5 expected)"},
        BadMetadata{"LargerPiecesThanItsHashesCount",
                    [](wire::TorrentMeta* m) { m->set_piece_length(1 << 19); },
                    "4 piece hashes for 1048576 bytes in pieces of 524288 (2 expected)"},
        BadMetadata{"AShortHash",
                    [](wire::TorrentMeta* m) { m->mutable_piece_hashes()->pop_back(); },
                    "piece hashes of 127 bytes, not a whole number of SHA-256 digests"},
        BadMetadata{"AnEmptyFile", [](wire::TorrentMeta* m) { m->set_length(0); },
                    "length 0"},
        BadMetadata{"PiecesOfNoBytes", [](wire::TorrentMeta* m) { m->set_piece_length(0); },
                    "piece length 0"},
        BadMetadata{"PiecesOverAGibibyte",
                    [](wire::TorrentMeta* m) { m->set_piece_length((uint64_t{1} << 30) + 1); },
                    "piece length 1073741825 (at most 1073741824)"},
        BadMetadata{"AFileOverAPebibyte",
                    [](wire::TorrentMeta* m) { m->set_length((uint64_t{1} << 50) + 1); },
                    "length 1125899906842625 (at most 1125899906842624)"},
        BadMetadata{"MorePiecesThanA32BitCount",
                    [](wire::TorrentMeta* m) {
                      m->set_length(uint64_t{1} << 40);
                      m->set_piece_length(256);
                    },
                    "1099511627776 bytes in pieces of 256 make 4294967296 pieces (at most "
                    "4294967295)"}),
    [](const ::testing::TestParamInfo<BadMetadata>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace swarm::net
