// The tracker over gRPC. TrackerServer runs an unchanged core::Tracker on
// its own EventLoop thread; the gRPC handlers only translate a request, post
// it to that thread and finish the call with the answer. TrackerClient is
// what `swarm` commands and peer drivers use to talk to it.
//
// Thread-safe.
#ifndef SWARM_NET_TRACKER_RPC_H_
#define SWARM_NET_TRACKER_RPC_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/announce.h"
#include "core/torrent_info.h"
#include "core/tracker.h"

namespace grpc {
class Channel;
class Server;
}  // namespace grpc

namespace swarm::net {

class EventLoop;

// Tracker messages carry a file's piece-hash list (32 bytes per piece): 64 MiB
// is two million pieces, 512 GiB at 256 KiB pieces. Peer messages keep the
// much smaller kMaxWireMessageBytes.
inline constexpr int kMaxTrackerMessageBytes = 64 * 1024 * 1024;

// Whether `endpoint` is a peer address we store and dial: "HOST:PORT" with
// PORT in 1..65535 and HOST a host name, an IPv4 address, a bracketed IPv6
// address, or empty (the tracker fills in the address it sees); at most
// 300 bytes. An empty endpoint (a peer that takes no connections) is
// valid. Anything else (a gRPC target such as "unix:/path", or "unix:6881"
// whose host is a gRPC scheme name; a megabyte of text) is refused by the
// tracker and dropped by a peer that gets it in an announce answer.
bool ValidPeerEndpoint(const std::string& endpoint);

class TrackerServer {
 public:
  ~TrackerServer();
  static std::unique_ptr<TrackerServer> Start(const std::string& listen,
                                              const core::TrackerConfig& config,
                                              uint64_t seed, std::string* error);
  int port() const { return port_; }
  void Shutdown();

 private:
  TrackerServer() = default;
  std::shared_ptr<EventLoop> loop_;
  std::unique_ptr<core::Tracker> tracker_;  // touched only on loop_'s thread
  std::unique_ptr<class TrackerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// How a peer driver reaches the tracker (an interface so tests and the
// in-process LoopbackSwarm can substitute their own).
class AnnounceClient {
 public:
  virtual ~AnnounceClient() = default;
  // `done` runs on a gRPC thread with the response, or nullopt and a message
  // if the tracker could not be reached.
  virtual void Announce(const core::AnnounceRequest& request,
                        std::function<void(std::optional<core::AnnounceResponse>,
                                           std::string error)> done) = 0;
};

class TrackerClient : public AnnounceClient {
 public:
  explicit TrackerClient(const std::string& target);
  ~TrackerClient() override;

  // Synchronous calls with a deadline; on failure nullopt and *error.
  std::optional<core::PublishResult> Publish(const core::TorrentInfo& info,
                                             std::string* error);
  std::optional<std::vector<core::FileEntry>> ListFiles(std::string* error);
  // nullopt + empty *error: no such file.
  std::optional<core::TorrentInfo> Lookup(const std::string& name, std::string* error);
  // True if the last synchronous call failed in a way a retry cannot mend
  // (the server has no Tracker service, or refused the request as
  // malformed); WithRetries then stops at once.
  bool last_failure_hopeless() const { return hopeless_; }

  void Announce(const core::AnnounceRequest& request,
                std::function<void(std::optional<core::AnnounceResponse>,
                                   std::string error)> done) override;

 private:
  std::string target_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<class TrackerStub> stub_;
  bool hopeless_ = false;
};

}  // namespace swarm::net

#endif  // SWARM_NET_TRACKER_RPC_H_
