// The tracker over gRPC facing hostile clients: requests are sent with a raw
// stub, so anything the proto allows can be tried.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/torrent_info.h"
#include "core/tracker.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "proto/tracker.grpc.pb.h"
#include "tests/net/signed_announce.h"
#include "tests/net/stalled_grpc_client.h"

namespace swarm::net {
namespace {

// A --tracker that points at another gRPC server (here a peer's port) used
// to fail with an empty reason ("tracker ADDR: ; retry 1/9 in 1s") and be
// retried as if it were down.
TEST(TrackerClientTest, AServerWithoutTheTrackerServiceIsNamedAndNotRetried) {
  std::string error;
  auto peer_server = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(peer_server) << error;
  const std::string target = "127.0.0.1:" + std::to_string(peer_server->port());
  TrackerClient client(target);
  EXPECT_FALSE(client.ListFiles(&error));
  EXPECT_EQ(error, "tracker " + target +
                       ": not a swarm tracker (the server there has no Tracker service)");
  EXPECT_TRUE(client.last_failure_hopeless());
  EXPECT_FALSE(client.Lookup("x", &error));
  EXPECT_TRUE(client.last_failure_hopeless());
}

TEST(TrackerClientTest, AnUnreachableTrackerIsWorthRetrying) {
  // Port 1 (tcpmux, a privileged port nothing here listens on): refused.
  std::string error;
  TrackerClient client("127.0.0.1:1");
  EXPECT_FALSE(client.ListFiles(&error));
  EXPECT_NE(error.find("unreachable"), std::string::npos) << error;
  EXPECT_FALSE(client.last_failure_hopeless());
}

TEST(ValidPeerEndpointTest, AcceptsHostPortForms) {
  EXPECT_TRUE(ValidPeerEndpoint("127.0.0.1:7070"));
  EXPECT_TRUE(ValidPeerEndpoint("peer-3.example.org:1"));
  EXPECT_TRUE(ValidPeerEndpoint("[::1]:65535"));
  EXPECT_TRUE(ValidPeerEndpoint(":7070"));  // the tracker fills in the host
  EXPECT_TRUE(ValidPeerEndpoint(""));       // takes no connections
}

TEST(ValidPeerEndpointTest, RefusesOtherTargetsAndPorts) {
  EXPECT_FALSE(ValidPeerEndpoint("127.0.0.1"));
  EXPECT_FALSE(ValidPeerEndpoint("127.0.0.1:0"));
  EXPECT_FALSE(ValidPeerEndpoint("127.0.0.1:65536"));
  EXPECT_FALSE(ValidPeerEndpoint("127.0.0.1:-1"));
  EXPECT_FALSE(ValidPeerEndpoint("127.0.0.1:0x50"));
  EXPECT_FALSE(ValidPeerEndpoint("unix:/run/docker.sock:80"));
  EXPECT_FALSE(ValidPeerEndpoint("dns:///internal:80"));
  EXPECT_FALSE(ValidPeerEndpoint("ipv4:10.0.0.1:80"));
  // A bare scheme before the port is a gRPC target too ("unix:6881" dials
  // the Unix socket "6881" in the current folder).
  EXPECT_FALSE(ValidPeerEndpoint("unix:6881"));
  EXPECT_FALSE(ValidPeerEndpoint("UNIX:6881"));
  EXPECT_FALSE(ValidPeerEndpoint("unix-abstract:80"));
  EXPECT_FALSE(ValidPeerEndpoint("dns:80"));
  EXPECT_FALSE(ValidPeerEndpoint("ipv4:80"));
  EXPECT_TRUE(ValidPeerEndpoint("unixhost:80"));
  EXPECT_FALSE(ValidPeerEndpoint("a b:80"));
  EXPECT_FALSE(ValidPeerEndpoint("[]:80"));
  EXPECT_FALSE(ValidPeerEndpoint(std::string(400, 'a') + ":80"));
}

class TrackerRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error);
    ASSERT_TRUE(server_) << error;
    const std::string target = "127.0.0.1:" + std::to_string(server_->port());
    stub_ = wire::Tracker::NewStub(MakeChannel(target, kMaxTrackerMessageBytes));
    TrackerClient client(target);
    ASSERT_TRUE(client.Publish(info_, &error)) << error;
  }
  void TearDown() override { server_->Shutdown(); }

  // A leecher's announce, signed by a fresh key.
  grpc::Status Announce(const std::string& endpoint, wire::AnnounceResponse* resp) {
    auto key = PeerIdentity::Generate();
    return testing::CallAnnounce(
        stub_.get(), testing::SignedAnnounce(*key, info_.info_hash(), endpoint), resp);
  }

  core::TorrentInfo info_ = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  std::unique_ptr<TrackerServer> server_;
  std::unique_ptr<wire::Tracker::Stub> stub_;
};

// A name of 238..255 bytes passes the core's check, but no `swarm get` can
// store it (the partial file's name would be over 255 bytes): the tracker
// must not list it.
TEST_F(TrackerRpcTest, ANameTooLongToDownloadIsNotPublished) {
  std::string error;
  TrackerClient client("127.0.0.1:" + std::to_string(server_->port()));
  const auto too_long = core::TorrentInfo::Synthetic(std::string(kMaxFileNameBytes + 1, 'n'),
                                                     1 << 20, 1 << 18);
  EXPECT_EQ(client.Publish(too_long, &error), core::PublishResult::kInvalid) << error;
  const auto longest = core::TorrentInfo::Synthetic(std::string(kMaxFileNameBytes, 'n'),
                                                    1 << 20, 1 << 18);
  EXPECT_EQ(client.Publish(longest, &error), core::PublishResult::kPublished) << error;
}

// `get` asks whether its file has a seed with one Scrape of that file (it
// used to fetch the listing of every file): the entry counts the file's
// seeds and leechers; a file not listed is nullopt without an error.
TEST_F(TrackerRpcTest, AScrapeListsTheOneFileAskedFor) {
  std::string error = "stale";
  TrackerClient client("127.0.0.1:" + std::to_string(server_->port()));
  wire::AnnounceResponse resp;
  ASSERT_TRUE(Announce("127.0.0.1:7000", &resp).ok());
  auto key = PeerIdentity::Generate();
  ASSERT_TRUE(testing::CallAnnounce(stub_.get(),
                                    testing::SignedAnnounce(*key, info_.info_hash(),
                                                            "127.0.0.1:7001",
                                                            wire::AnnounceRequest::NONE, 0),
                                    &resp)
                  .ok());
  const auto other = core::TorrentInfo::Synthetic("g.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(client.Publish(other, &error)) << error;
  const std::optional<core::FileEntry> f = client.Scrape(info_.info_hash(), &error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(f->name, "f.bin");
  EXPECT_EQ(f->info_hash, info_.info_hash());
  EXPECT_EQ(f->seeds, 1u);
  EXPECT_EQ(f->leechers, 1u);
  const std::optional<core::FileEntry> g = client.Scrape(other.info_hash(), &error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->name, "g.bin");
  EXPECT_EQ(g->seeds + g->leechers, 0u);
  const auto unlisted = core::TorrentInfo::Synthetic("h.bin", 1 << 20, 1 << 18);
  EXPECT_FALSE(client.Scrape(unlisted.info_hash(), &error));
  EXPECT_EQ(error, "");
  TrackerClient nobody("127.0.0.1:1");  // nothing listens on port 1
  EXPECT_FALSE(nobody.Scrape(info_.info_hash(), &error));
  EXPECT_NE(error.find("unreachable"), std::string::npos) << error;
}

// Endpoints are stored and handed to every other peer: a megabyte each
// would fill the tracker and soon make every answer too big to send, and
// a gRPC target such as unix:/path would make peers dial local sockets.
TEST_F(TrackerRpcTest, AnnounceWithAHostileEndpointIsRefused) {
  wire::AnnounceResponse resp;
  EXPECT_EQ(Announce(std::string(1 << 20, 'a') + ":80", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Announce("unix:/run/docker.sock:80", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Announce("127.0.0.1:70000", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // None of them was recorded: a good peer sees nobody else.
  ASSERT_TRUE(Announce("127.0.0.1:7000", &resp).ok());
  EXPECT_EQ(resp.peers_size(), 0);
  EXPECT_EQ(resp.leechers(), 1u);
}

// A host named in an announce is not believed by default: any client
// could otherwise make every other peer dial a third party (192.0.2.1 is
// TEST-NET-1). The peer is listed at the address its request came from,
// with the port it announced.
TEST_F(TrackerRpcTest, AnAnnouncedHostIsReplacedByTheAddressSeen) {
  wire::AnnounceResponse resp;
  ASSERT_TRUE(Announce("192.0.2.1:7000", &resp).ok());
  EXPECT_EQ(resp.failure_reason(), "");
  ASSERT_TRUE(Announce("127.0.0.1:7001", &resp).ok());
  ASSERT_EQ(resp.peers_size(), 1);
  EXPECT_EQ(resp.peers(0).endpoint(), "127.0.0.1:7000");
}

// A peer that announced over loopback (the seed next to the tracker in a
// walkthrough) is handed to requesters on other machines at the address
// they dialed the tracker at; to requesters on the same machine, and any
// peer listed elsewhere to anyone, as listed.
TEST(EndpointForRequesterTest, LoopbackPeersAreGivenOutAtTheTrackersAddress) {
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "192.0.2.9", "192.0.2.2:7070"),
            "192.0.2.2:7000");
  EXPECT_EQ(EndpointForRequester("[::1]:7000", "192.0.2.9", "tracker.lab:7070"),
            "tracker.lab:7000");
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "[2001:db8::9]", "[2001:db8::2]:7070"),
            "[2001:db8::2]:7000");
  // Same machine, or the requester itself dialed a loopback address.
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "127.0.0.1", "127.0.0.1:7070"),
            "127.0.0.1:7000");
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "192.0.2.9", "localhost:7070"),
            "127.0.0.1:7000");
  // Not a loopback listing, no port, or an authority that makes no endpoint.
  EXPECT_EQ(EndpointForRequester("192.0.2.5:7000", "192.0.2.9", "192.0.2.2:7070"),
            "192.0.2.5:7000");
  EXPECT_EQ(EndpointForRequester("", "192.0.2.9", "192.0.2.2:7070"), "");
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "192.0.2.9", ""), "127.0.0.1:7000");
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "192.0.2.9", "unix:/run/x.sock"),
            "127.0.0.1:7000");
  EXPECT_EQ(EndpointForRequester("127.0.0.1:7000", "[2001:db8::9]", "[2001:db8::2]"),
            "[2001:db8::2]:7000");
}

// The same through a real tracker, when this machine has a non-loopback
// IPv4 address to dial it at (skipped otherwise): the seed announced over
// 127.0.0.1 and is listed there; a leecher that dials the tracker at the
// machine's network address gets it at that address, one that dials
// 127.0.0.1 at 127.0.0.1.
// A non-loopback IPv4 address of this machine, or "" if it has none.
std::string LanAddress() {
  std::string lan;
  ifaddrs* addrs = nullptr;
  if (::getifaddrs(&addrs) == 0) {
    for (ifaddrs* a = addrs; a && lan.empty(); a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN];
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) &&
          std::string(buf).rfind("127.", 0) != 0) {
        lan = buf;
      }
    }
    ::freeifaddrs(addrs);
  }
  return lan;
}

TEST(TrackerRpcLoopbackTest, ALoopbackSeedIsReachableFromTheNetwork) {
  const std::string lan = LanAddress();
  if (lan.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  std::string error;
  auto server = TrackerServer::Start("0.0.0.0:0", core::TrackerConfig(), 1, &error);
  ASSERT_TRUE(server) << error;
  const std::string port = std::to_string(server->port());
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(TrackerClient("127.0.0.1:" + port).Publish(info, &error)) << error;
  auto announce = [&](const std::string& tracker, const std::string& endpoint) {
    auto stub = wire::Tracker::NewStub(MakeChannel(tracker, kMaxTrackerMessageBytes));
    auto key = PeerIdentity::Generate();
    wire::AnnounceResponse resp;
    EXPECT_TRUE(testing::CallAnnounce(
                    stub.get(), testing::SignedAnnounce(*key, info.info_hash(), endpoint), &resp)
                    .ok());
    std::vector<std::string> listed;
    for (const auto& p : resp.peers()) listed.push_back(p.endpoint());
    return listed;
  };
  EXPECT_TRUE(announce("127.0.0.1:" + port, "0.0.0.0:7000").empty());  // the seed
  EXPECT_EQ(announce(lan + ":" + port, "0.0.0.0:7001"),
            (std::vector<std::string>{lan + ":7000"}));
  std::vector<std::string> local = announce("127.0.0.1:" + port, "0.0.0.0:7002");
  std::sort(local.begin(), local.end());
  EXPECT_EQ(local, (std::vector<std::string>{"127.0.0.1:7000", lan + ":7001"}));
  server->Shutdown();
}

// With announced hosts trusted, a loopback host is the announcer's own
// choice, not what the tracker saw: it is handed out as announced, never as
// the tracker's address.
TEST(TrackerRpcLoopbackTest, ATrustedLoopbackHostIsNotRewritten) {
  const std::string lan = LanAddress();
  if (lan.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  std::string error;
  TrackerServerOptions options;
  options.trust_announced_hosts = true;
  auto server = TrackerServer::Start("0.0.0.0:0", core::TrackerConfig(), 1, &error, options);
  ASSERT_TRUE(server) << error;
  const std::string port = std::to_string(server->port());
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(TrackerClient("127.0.0.1:" + port).Publish(info, &error)) << error;
  wire::AnnounceResponse resp;
  for (const auto& [tracker, endpoint] :
       {std::pair<std::string, std::string>{lan + ":" + port, "127.0.0.1:7000"},
        {lan + ":" + port, "0.0.0.0:7001"}}) {
    auto stub = wire::Tracker::NewStub(MakeChannel(tracker, kMaxTrackerMessageBytes));
    auto key = PeerIdentity::Generate();
    ASSERT_TRUE(testing::CallAnnounce(
                    stub.get(), testing::SignedAnnounce(*key, info.info_hash(), endpoint), &resp)
                    .ok());
  }
  ASSERT_EQ(resp.peers_size(), 1);
  EXPECT_EQ(resp.peers(0).endpoint(), "127.0.0.1:7000");
  server->Shutdown();
}

// With the opt-in (for peers behind a proxy) it is listed as announced;
// wildcard hosts are still filled in.
TEST(TrackerRpcTrustTest, TrustedAnnouncedHostsAreListedAsSent) {
  std::string error;
  TrackerServerOptions options;
  options.trust_announced_hosts = true;
  auto server = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error, options);
  ASSERT_TRUE(server) << error;
  const std::string target = "127.0.0.1:" + std::to_string(server->port());
  auto stub = wire::Tracker::NewStub(MakeChannel(target, kMaxTrackerMessageBytes));
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(TrackerClient(target).Publish(info, &error)) << error;
  wire::AnnounceResponse resp;
  for (const char* endpoint : {"192.0.2.1:7000", "0.0.0.0:7001", "127.0.0.1:7002"}) {
    auto key = PeerIdentity::Generate();
    ASSERT_TRUE(testing::CallAnnounce(
                    stub.get(), testing::SignedAnnounce(*key, info.info_hash(), endpoint), &resp)
                    .ok());
    EXPECT_EQ(resp.failure_reason(), "");
  }
  std::vector<std::string> listed;
  for (const auto& p : resp.peers()) listed.push_back(p.endpoint());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<std::string>{"127.0.0.1:7001", "192.0.2.1:7000"}));
  server->Shutdown();
}

// One address may have only so many files listed at once: past that a
// publish is refused with a reason (and not retried), so that a client
// cannot fill the tracker's files for everyone. A file already listed is
// no new one, and a file the tracker dropped no longer counts.
TEST(TrackerRpcPublishLimitTest, OneAddressPublishesAtMostItsShare) {
  std::string error;
  core::TrackerConfig config;
  config.forget_file_after = core::Duration::Millis(300);  // no peer comes
  TrackerServerOptions options;
  options.max_files_per_host = 2;
  auto server = TrackerServer::Start("127.0.0.1:0", config, 1, &error, options);
  ASSERT_TRUE(server) << error;
  TrackerClient client("127.0.0.1:" + std::to_string(server->port()));
  auto file = [](int i) {
    return core::TorrentInfo::Synthetic("f" + std::to_string(i) + ".bin", 1 << 20, 1 << 18);
  };
  EXPECT_EQ(client.Publish(file(0), &error), core::PublishResult::kPublished) << error;
  EXPECT_EQ(client.Publish(file(1), &error), core::PublishResult::kPublished) << error;
  EXPECT_EQ(client.Publish(file(0), &error), core::PublishResult::kAlreadyPublished) << error;
  EXPECT_EQ(client.Publish(file(2), &error), std::nullopt);
  EXPECT_NE(error.find("this address (127.0.0.1) has published 2 of the files the tracker "
                       "lists, the most it takes from one address (swarm tracker "
                       "--max-files-per-host)"),
            std::string::npos)
      << error;
  EXPECT_TRUE(client.last_failure_hopeless());  // `share` stops instead of retrying
  auto files = client.ListFiles(&error);
  ASSERT_TRUE(files);
  EXPECT_EQ(files->size(), 2u);
  // Once the tracker has dropped them (no peer came), there is room again.
  for (int i = 0; i < 100; ++i) {
    files = client.ListFiles(&error);
    if (files && files->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(files && files->empty());
  EXPECT_EQ(client.Publish(file(2), &error), core::PublishResult::kPublished) << error;
  server->Shutdown();
}

// A peer listening on every interface announces ":PORT" (or "[::]:PORT")
// and the tracker fills in the address it sees. Over IPv6 gRPC reports
// that address percent-encoded ("ipv6:%5B::1%5D:PORT"); the endpoint
// handed out must be the dialable "[::1]:PORT".
TEST(TrackerRpcIpv6Test, AWildcardEndpointGetsTheIpv6AddressSeen) {
  std::string error;
  auto server = TrackerServer::Start("[::1]:0", core::TrackerConfig(), 1, &error);
  if (!server) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  const std::string target = "[::1]:" + std::to_string(server->port());
  auto stub = wire::Tracker::NewStub(MakeChannel(target, kMaxTrackerMessageBytes));
  const core::TorrentInfo info = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(TrackerClient(target).Publish(info, &error)) << error;
  wire::AnnounceResponse resp;
  for (const char* endpoint : {"[::]:7000", ":7001"}) {
    auto key = PeerIdentity::Generate();
    ASSERT_TRUE(testing::CallAnnounce(
                    stub.get(), testing::SignedAnnounce(*key, info.info_hash(), endpoint), &resp)
                    .ok());
    EXPECT_EQ(resp.failure_reason(), "");
  }
  ASSERT_EQ(resp.peers_size(), 1);
  EXPECT_EQ(resp.peers(0).endpoint(), "[::1]:7000");
  EXPECT_TRUE(ValidPeerEndpoint(resp.peers(0).endpoint()));
  server->Shutdown();
}

// Waits (up to 10 s) for the answer to one TrackerClient::Announce.
struct AnnounceResult {
  std::optional<core::AnnounceResponse> response;
  std::string error;
};
AnnounceResult AnnounceAndWait(TrackerClient* client, core::AnnounceRequest request,
                               const PeerIdentity& key) {
  // Shared with the callback: a tracker slower than the wait below fails
  // the test instead of having the callback write into a dead frame.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    AnnounceResult result;
  };
  auto state = std::make_shared<State>();
  request.peer.id = key.id();
  client->Announce(request, key, [state](std::optional<core::AnnounceResponse> r, std::string e) {
    std::lock_guard<std::mutex> lock(state->mu);
    state->result = {std::move(r), std::move(e)};
    state->done = true;
    state->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(state->mu);
  EXPECT_TRUE(state->cv.wait_for(lock, std::chrono::seconds(10), [&] { return state->done; }));
  return state->result;
}

// Serves `service` (a fake tracker) on a free loopback port, sending
// messages up to the tracker's limit; *port is the port.
std::unique_ptr<grpc::Server> StartFakeTracker(grpc::Service* service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.SetMaxSendMessageSize(kMaxTrackerMessageBytes);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

// A tracker that answers with a microsecond interval and peers at
// addresses that are no peer's (a local socket, 64 KiB of text).
class HostileTracker final : public wire::Tracker::Service {
 public:
  grpc::Status Announce(grpc::ServerContext*, const wire::AnnounceRequest*,
                        wire::AnnounceResponse* resp) override {
    resp->set_interval_us(1);
    auto add = [&](uint64_t id, const std::string& endpoint) {
      auto* p = resp->add_peers();
      p->set_peer_id(id);
      p->set_endpoint(endpoint);
    };
    add(1, "unix:/run/docker.sock:80");
    add(2, std::string(64 << 10, 'a') + ":80");
    add(3, "127.0.0.1:7001");
    return grpc::Status::OK;
  }
};

TEST(TrackerClientTest, AHostileAnswerIsTamed) {
  HostileTracker service;
  int port = 0;
  auto server = StartFakeTracker(&service, &port);
  ASSERT_TRUE(server && port != 0);
  TrackerClient client("127.0.0.1:" + std::to_string(port));
  auto key = PeerIdentity::Generate();
  const std::optional<core::AnnounceResponse> got =
      AnnounceAndWait(&client, core::AnnounceRequest{}, *key).response;
  ASSERT_TRUE(got.has_value());
  // The interval is passed on as it came: the core bounds it
  // (PeerConfig::AnnounceIntervalFrom, tests/core/peer_test.cc).
  EXPECT_EQ(got->interval, core::Duration::Micros(1));
  ASSERT_EQ(got->peers.size(), 1u);
  EXPECT_EQ(got->peers[0].endpoint, "127.0.0.1:7001");
  server->Shutdown();
}

// A tracker whose Announce answers are just over the limit, and whose
// Lookup answers carry 256 Ki piece hashes (8.5 MiB).
class OversizedTracker final : public wire::Tracker::Service {
 public:
  grpc::Status Announce(grpc::ServerContext*, const wire::AnnounceRequest*,
                        wire::AnnounceResponse* resp) override {
    for (int i = 0; resp->ByteSizeLong() <= size_t{kMaxAnnounceReplyBytes}; ++i) {
      auto* p = resp->add_peers();
      p->set_peer_id(1000 + i);
      p->set_endpoint(std::string(294, 'a') + ":65535");
    }
    return grpc::Status::OK;
  }
  grpc::Status Lookup(grpc::ServerContext*, const wire::LookupRequest*,
                      wire::LookupResponse* resp) override {
    resp->set_found(true);
    ToProto(big_, resp->mutable_torrent());
    return grpc::Status::OK;
  }
  const core::TorrentInfo big_ =
      core::TorrentInfo::Synthetic("big", core::Bytes{1} << 36, core::Bytes{1} << 18);
};

// Announce answers are a few dozen KB at most (kMaxAnnounceReplyBytes): a
// larger one is refused with a reason, where the channel-wide limit for
// Lookup answers (a file's piece hashes) would have let 64 MiB through.
TEST(TrackerClientTest, AnAnnounceAnswerOverItsLimitIsRefused) {
  OversizedTracker service;
  int port = 0;
  auto server = StartFakeTracker(&service, &port);
  ASSERT_TRUE(server && port != 0);
  TrackerClient client("127.0.0.1:" + std::to_string(port));
  auto key = PeerIdentity::Generate();
  const AnnounceResult r = AnnounceAndWait(&client, core::AnnounceRequest{}, *key);
  EXPECT_FALSE(r.response.has_value());
  EXPECT_NE(r.error.find("over a size or memory limit"), std::string::npos) << r.error;
  // Lookup answers keep the channel's limit.
  std::string error;
  auto info = client.Lookup("big", &error);
  ASSERT_TRUE(info.has_value()) << error;
  EXPECT_EQ(info->info_hash(), service.big_.info_hash());
  server->Shutdown();
}

// The largest answer a `swarm tracker` gives, max_numwant (200) peers with
// 300-byte endpoints, is within kMaxAnnounceReplyBytes.
TEST(TrackerClientTest, TheLargestHonestAnnounceAnswerIsTaken) {
  std::string error;
  core::TrackerConfig config;
  ASSERT_EQ(config.max_numwant, 200u);
  auto server = TrackerServer::Start("127.0.0.1:0", config, 1, &error);
  ASSERT_TRUE(server) << error;
  const std::string target = "127.0.0.1:" + std::to_string(server->port());
  const auto info = core::TorrentInfo::Synthetic("f", 1 << 20, 1 << 18);
  TrackerClient client(target);
  ASSERT_TRUE(client.Publish(info, &error)) << error;
  auto stub = wire::Tracker::NewStub(MakeChannel(target, kMaxTrackerMessageBytes));
  const std::string longest = std::string(294, 'a') + ":65535";
  ASSERT_EQ(longest.size(), 300u);
  ASSERT_TRUE(ValidPeerEndpoint(longest));
  for (int i = 0; i < 200; ++i) {
    auto key = PeerIdentity::Generate();
    wire::AnnounceResponse resp;
    ASSERT_TRUE(testing::CallAnnounce(
                    stub.get(), testing::SignedAnnounce(*key, info.info_hash(), longest), &resp)
                    .ok());
    ASSERT_EQ(resp.failure_reason(), "");
  }
  auto key = PeerIdentity::Generate();
  core::AnnounceRequest request;
  request.info_hash = info.info_hash();
  request.peer.endpoint = longest;
  request.left = 1;
  request.numwant = 1000;
  const AnnounceResult r = AnnounceAndWait(&client, request, *key);
  ASSERT_TRUE(r.response.has_value()) << r.error;
  EXPECT_EQ(r.response->failure_reason, "");
  EXPECT_EQ(r.response->peers.size(), 200u);
  server->Shutdown();
}

}  // namespace
}  // namespace swarm::net

namespace swarm::net {
namespace {

// LookupAnswerBytes is protobuf's own size of the answer, so the bound on
// what a tracker message carries is checked before anything is built.
TEST(TrackerMessageTest, LookupAnswerBytesIsTheEncodedSize) {
  struct File {
    std::string name;
    core::Bytes length, piece_length;
  };
  for (const File& f : {File{"f.bin", 1 << 20, 1 << 18}, File{"a", 1, 16 << 10},
                        File{std::string(255, 'n'), core::Bytes{5} << 30, 16 << 10},
                        File{"", core::Bytes{1} << 40, core::Bytes{1} << 30}}) {
    const auto info = core::TorrentInfo::Synthetic(f.name, f.length, f.piece_length);
    wire::LookupResponse resp;
    resp.set_found(true);
    ToProto(info, resp.mutable_torrent());
    EXPECT_EQ(LookupAnswerBytes(f.name, f.length, f.piece_length), resp.ByteSizeLong())
        << f.name.size() << " " << f.length;
    wire::PublishRequest req;
    ToProto(info, req.mutable_torrent());
    EXPECT_EQ(req.ByteSizeLong() + 2, resp.ByteSizeLong());
  }
}

TEST(TrackerMessageTest, TheLargestFileThatFitsIsAllowedAndOneMorePieceIsNot) {
  const std::string name(255, 'n');
  const uint64_t piece = 16 << 10;
  // Found by the function's own message, then checked at the edge.
  const auto problem = TrackerMessageProblem(name, uint64_t{40} << 30, piece);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("2621440 pieces make a tracker message of"), std::string::npos)
      << *problem;
  const size_t at = problem->find("at most ");
  ASSERT_NE(at, std::string::npos);
  const uint64_t most = std::stoull(problem->substr(at + 8));
  EXPECT_GT(most, 2000000u);
  EXPECT_FALSE(TrackerMessageProblem(name, most * piece, piece)) << most;
  EXPECT_LE(LookupAnswerBytes(name, most * piece, piece), uint64_t{kMaxTrackerMessageBytes});
  EXPECT_TRUE(TrackerMessageProblem(name, most * piece + 1, piece));
}

// gRPC would refuse to send such a Publish with RESOURCE_EXHAUSTED, which
// `share` took for a busy tracker and retried ten times, after hashing.
TEST_F(TrackerRpcTest, APublishTooLargeForOneMessageIsRefusedUnsentAndNotRetried) {
  TrackerClient client("127.0.0.1:" + std::to_string(server_->port()));
  const core::Bytes piece = 16 << 10;
  const auto big = core::TorrentInfo::Synthetic("big", 2200000 * piece, piece);
  std::string error;
  EXPECT_FALSE(client.Publish(big, &error).has_value());
  EXPECT_NE(error.find("cannot publish big: 2200000 pieces make a tracker message"),
            std::string::npos)
      << error;
  EXPECT_TRUE(client.last_failure_hopeless());
}

// Over its budget the tracker says it is busy, and the client takes that
// as worth retrying (with its back-off), not as hopeless.
TEST(TrackerAnswersTest, ALookupOverTheBudgetIsRefusedAsBusyAndRetried) {
  TrackerServerOptions options;
  options.answer_budget_bytes = 100;  // less than any file's answer
  std::string error;
  auto server = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error, options);
  ASSERT_TRUE(server) << error;
  const std::string target = "127.0.0.1:" + std::to_string(server->port());
  TrackerClient client(target);
  const auto info = core::TorrentInfo::Synthetic("f.bin", 1 << 20, 1 << 18);
  ASSERT_TRUE(client.Publish(info, &error)) << error;
  EXPECT_FALSE(client.Lookup("f.bin", &error).has_value());
  EXPECT_EQ(error, "tracker " + target +
                       ": tracker busy: 0 MiB of answers still being sent; try again shortly");
  EXPECT_FALSE(client.last_failure_hopeless());
  // A name it does not list costs no budget: answered at once.
  EXPECT_FALSE(client.Lookup("nothing", &error).has_value());
  EXPECT_EQ(error, "");
  // The listing is a few dozen bytes.
  auto files = client.ListFiles(&error);
  ASSERT_TRUE(files) << error;
  EXPECT_EQ(files->size(), 1u);
  server->Shutdown();
}

TEST(TrackerAnswersTest, AHeldAnswerIsSharedAndCountedOnce) {
  TrackerAnswers answers(1000, 1000);
  int builds = 0;
  auto build = [&](size_t n) {
    return [&builds, n] {
      ++builds;
      return std::string(n, 'x');
    };
  };
  std::string busy;
  TrackerAnswers::Hold first = answers.Shared("h1", "a", build(600), &busy);
  ASSERT_TRUE(first);
  TrackerAnswers::Hold second = answers.Shared("h2", "a", build(600), &busy);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(answers.held_bytes(), 600u);
  // Another answer would go over the budget: refused (built, but not kept).
  EXPECT_FALSE(answers.Shared("h3", "b", build(600), &busy));
  EXPECT_EQ(busy, "tracker busy: 0 MiB of answers still being sent; try again shortly");
  EXPECT_TRUE(answers.Shared("h3", "c", build(400), &busy));  // dropped at once
  EXPECT_EQ(answers.held_bytes(), 600u);
  // Let go of by every holder (gRPC, on any thread): given back, and made
  // anew next time.
  first.reset();
  EXPECT_EQ(answers.client_bytes("h1"), 0u);
  EXPECT_EQ(answers.client_bytes("h2"), 600u);
  second.reset();
  EXPECT_EQ(answers.held_bytes(), 0u);
  EXPECT_FALSE(answers.Holds("a"));
  builds = 0;
  EXPECT_TRUE(answers.Shared("h1", "b", build(600), &busy));
  EXPECT_TRUE(answers.Shared("h1", "a", build(300), &busy));
  EXPECT_EQ(builds, 2);
  EXPECT_EQ(answers.held_bytes(), 0u);
}

// One client (an address) holds at most its share, each distinct answer
// once however many of its calls hold it; others are served from the rest.
TEST(TrackerAnswersTest, AClientHoldsAtMostItsShare) {
  TrackerAnswers answers(1000, 500);
  auto bytes = [](size_t n) { return [n] { return std::string(n, 'x'); }; };
  std::string busy;
  TrackerAnswers::Hold a1 = answers.Shared("10.0.0.1", "a", bytes(300), &busy);
  TrackerAnswers::Hold a2 = answers.Shared("10.0.0.1", "a", bytes(300), &busy);
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(answers.client_bytes("10.0.0.1"), 300u);
  EXPECT_FALSE(answers.Shared("10.0.0.1", "b", bytes(300), &busy));
  EXPECT_EQ(busy,
            "tracker busy: answers of 0 MiB still being sent to 10.0.0.1 (at most 0 MiB at "
            "once); try again shortly");
  // Held already, b costs the budget nothing, but the client its share.
  TrackerAnswers::Hold b = answers.Shared("10.0.0.2", "b", bytes(300), &busy);
  ASSERT_TRUE(b);
  EXPECT_FALSE(answers.Shared("10.0.0.1", "b", bytes(300), &busy));
  EXPECT_FALSE(answers.Shared("10.0.0.2", "a", bytes(300), &busy));  // its own share
  EXPECT_TRUE(answers.Shared("10.0.0.3", "a", bytes(300), &busy));
  EXPECT_EQ(answers.held_bytes(), 600u);
  a1.reset();
  EXPECT_EQ(answers.client_bytes("10.0.0.1"), 300u);  // a2 still holds a
  a2.reset();
  EXPECT_EQ(answers.client_bytes("10.0.0.1"), 0u);
  EXPECT_TRUE(answers.Shared("10.0.0.1", "b", bytes(300), &busy));
}

TEST(TrackerAnswersTest, AnIpv6ClientIsItsSlash64) {
  EXPECT_EQ(AnswerClientOf("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(AnswerClientOf("[2001:db8:1:2:3:4:5:6]"), "[2001:db8:1:2::]/64");
  EXPECT_EQ(AnswerClientOf("[2001:db8:1:2::ffff]"), "[2001:db8:1:2::]/64");
  EXPECT_EQ(AnswerClientOf("[::1]"), "[::]/64");
  EXPECT_EQ(AnswerClientOf("[nonsense]"), "[nonsense]");
}

TEST(TrackerAnswersTest, TheSendDeadlineLetsA1MibPerSecondLinkTakeTheLargestAnswer) {
  EXPECT_EQ(AnswerSendDeadline(0), std::chrono::seconds(10));
  EXPECT_GE(AnswerSendDeadline(kMaxTrackerMessageBytes), std::chrono::seconds(64 + 10));
  EXPECT_EQ(AnswerSendDeadline(kMaxTrackerMessageBytes), std::chrono::seconds(138));
}

// A real tracker and a client that asks and never reads (a receive window
// of 0 bytes), from another loopback address than the honest one or the
// same.
class TrackerStallTest : public ::testing::Test {
 protected:
  void Start(size_t budget, size_t share, std::chrono::milliseconds deadline,
             int idle_ms = kServerIdleConnectionMs) {
    TrackerServerOptions options;
    options.idle_connection_ms = idle_ms;
    options.answer_budget_bytes = budget;
    options.answer_client_share_bytes = share;
    options.answer_send_deadline = [deadline](size_t) { return deadline; };
    std::string error;
    server_ = TrackerServer::Start("127.0.0.1:0", core::TrackerConfig(), 1, &error, options);
    ASSERT_TRUE(server_) << error;
    target_ = "127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<TrackerClient>(target_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  // Publishes `name`, whose Lookup answer is about 1.5 MiB.
  void PublishBig(const std::string& name) {
    const core::Bytes piece = 16 << 10;
    std::string error;
    ASSERT_TRUE(client_->Publish(core::TorrentInfo::Synthetic(name, 49152 * piece, piece),
                                 &error))
        << error;
  }
  static std::string LookupOf(const std::string& name) {
    wire::LookupRequest req;
    req.set_name(name);
    return req.SerializeAsString();
  }
  template <typename F>
  static bool Within(std::chrono::milliseconds limit, F done) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  std::unique_ptr<TrackerServer> server_;
  std::string target_;
  std::unique_ptr<TrackerClient> client_;
};

constexpr char kLookup[] = "/swarm.wire.Tracker/Lookup";
constexpr char kListFiles[] = "/swarm.wire.Tracker/ListFiles";

// Before 2026-11-28 one client that asked for two big files and stopped
// reading held the whole budget: every other Lookup was answered busy for
// as long as it liked.
TEST_F(TrackerStallTest, AClientThatStopsReadingCannotStarveAnotherAddress) {
  Start(4 << 20, 2 << 20, std::chrono::minutes(10));
  PublishBig("a");
  PublishBig("b");
  PublishBig("c");
  testing::StalledGrpcClient stalled(server_->port(), "127.0.0.2");
  ASSERT_TRUE(stalled.ok());
  const uint32_t a = stalled.Call(kLookup, LookupOf("a"));
  ASSERT_TRUE(Within(std::chrono::seconds(10), [&] { return stalled.Answered(a); }));
  const uint32_t b = stalled.Call(kLookup, LookupOf("b"));
  ASSERT_TRUE(Within(std::chrono::seconds(10), [&] { return stalled.Answered(b); }));
  EXPECT_FALSE(stalled.Ended(a));  // held, unread
  EXPECT_TRUE(Within(std::chrono::seconds(5), [&] { return stalled.Ended(b); }));  // refused
  EXPECT_EQ(stalled.data_bytes(), 0u);
  std::string error;
  EXPECT_TRUE(client_->Lookup("c", &error).has_value()) << error;
  // Shared with the staller (once c's answer is let go of: two would be
  // over this address's share).
  EXPECT_TRUE(Within(std::chrono::seconds(5), [&] { return client_->Lookup("a", &error); }))
      << error;
  EXPECT_TRUE(client_->ListFiles(&error).has_value()) << error;
  EXPECT_FALSE(stalled.Ended(a));
}

// Before 2026-11-28 nothing timed out an answer the client did not take.
TEST_F(TrackerStallTest, AnAnswerNotTakenInTimeIsCancelledAndItsBudgetGivenBack) {
  Start(4 << 20, 4 << 20, std::chrono::milliseconds(500));
  PublishBig("a");
  PublishBig("b");
  PublishBig("c");
  // From the honest client's own address: only the deadline helps.
  testing::StalledGrpcClient stalled(server_->port(), "127.0.0.1");
  ASSERT_TRUE(stalled.ok());
  const uint32_t a = stalled.Call(kLookup, LookupOf("a"));
  const uint32_t b = stalled.Call(kLookup, LookupOf("b"));
  ASSERT_TRUE(Within(std::chrono::seconds(10),
                     [&] { return stalled.Answered(a) && stalled.Answered(b); }));
  EXPECT_TRUE(Within(std::chrono::seconds(10),
                     [&] { return stalled.Ended(a) && stalled.Ended(b); }));
  EXPECT_TRUE(Within(std::chrono::seconds(10), [&] { return server_->answer_bytes_held() == 0; }))
      << server_->answer_bytes_held();
  std::string error;
  EXPECT_TRUE(client_->Lookup("c", &error).has_value()) << error;
}

// gRPC takes a connection whose calls are all finished for idle, even
// while their answers are still being sent: before 2026-11-28 a call was
// finished as its answer was handed over, and a client reading a large
// answer slowly was cut off by the idle close (GOAWAY) after about two
// idle timeouts.
TEST_F(TrackerStallTest, AClientReadingSlowlyGetsItsAnswerPastTheIdleTimeout) {
  Start(64 << 20, 64 << 20, std::chrono::minutes(1), /*idle_ms=*/500);
  PublishBig("a");  // about 1.5 MiB
  testing::StalledGrpcClient slow(server_->port(), "127.0.0.2");
  ASSERT_TRUE(slow.ok());
  const uint32_t a = slow.Call(kLookup, LookupOf("a"));
  // 8 KiB every 10 ms or more: at least 2 s for the answer, four idle
  // timeouts.
  EXPECT_TRUE(Within(std::chrono::seconds(20), [&] {
    slow.Grant(a, 8 << 10);
    return slow.Ended(a);
  }));
  EXPECT_GT(slow.data_bytes(), uint64_t{49152} * 32);
  std::string events;
  for (const std::string& e : slow.events()) events += e + "; ";
  EXPECT_EQ(events.find("GOAWAY"), std::string::npos) << events;
}

// Stalled ListFiles calls share one answer while the listing is unchanged;
// a change is served at once.
TEST_F(TrackerStallTest, StalledListingsShareOneAnswerUntilItChanges) {
  Start(64 << 20, 64 << 20, std::chrono::minutes(10));
  std::string error;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->Publish(
        core::TorrentInfo::Synthetic("file-" + std::to_string(i), 1 << 20, 1 << 18), &error))
        << error;
  }
  testing::StalledGrpcClient stalled(server_->port(), "127.0.0.2");
  ASSERT_TRUE(stalled.ok());
  const uint32_t first = stalled.Call(kListFiles, "");
  ASSERT_TRUE(Within(std::chrono::seconds(10), [&] { return stalled.Answered(first); }));
  const size_t one = server_->answer_bytes_held();
  EXPECT_GT(one, 20u * 40);
  std::vector<uint32_t> more;
  for (int i = 0; i < 30; ++i) more.push_back(stalled.Call(kListFiles, ""));
  ASSERT_TRUE(Within(std::chrono::seconds(10), [&] {
    return std::all_of(more.begin(), more.end(), [&](uint32_t s) { return stalled.Answered(s); });
  }));
  EXPECT_EQ(server_->answer_bytes_held(), one);
  ASSERT_TRUE(client_->Publish(core::TorrentInfo::Synthetic("file-new", 1 << 20, 1 << 18),
                               &error))
      << error;
  auto files = client_->ListFiles(&error);
  ASSERT_TRUE(files) << error;
  EXPECT_EQ(files->size(), 21u);
}

}  // namespace
}  // namespace swarm::net
