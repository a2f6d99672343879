// The tracker over gRPC. TrackerServer runs an unchanged core::Tracker on
// its own EventLoop thread; the gRPC handlers only translate a request, post
// it to that thread and finish the call with the answer. TrackerClient is
// what `swarm` commands and peer drivers use to talk to it.
//
// Announces are signed by the announcer's key (peer_auth.h): the server
// checks the signature before the core sees an announce, and its
// AnnounceReplayGuard refuses a counter it has seen (or one too old to
// tell), so the core only ever hears from the holder of an id's key, once
// per signed announce.
//
// Thread-safe.
#ifndef SWARM_NET_TRACKER_RPC_H_
#define SWARM_NET_TRACKER_RPC_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/announce.h"
#include "core/torrent_info.h"
#include "core/tracker.h"
#include "net-real/listening_server.h"
#include "net-real/peer_auth.h"

namespace grpc {
class Channel;
class ClientContext;
class ClientUnaryReactor;
class ResourceQuota;
class Server;
class Status;
}  // namespace grpc

namespace swarm::net {

class EventLoop;

// Tracker messages carry a file's piece-hash list (32 bytes per piece): 64 MiB
// is two million pieces, 512 GiB at 256 KiB pieces. Peer messages keep the
// much smaller kMaxWireMessageBytes.
inline constexpr int kMaxTrackerMessageBytes = 64 * 1024 * 1024;

// The encoded size of the Lookup answer carrying the metadata of a file
// named `name`, of `length` bytes in pieces of `piece_length`: 32 bytes per
// piece and a few dozen more. The largest tracker message about one file
// (its Publish request is 2 bytes smaller), so the one that decides whether
// the file can go through a tracker at all.
uint64_t LookupAnswerBytes(std::string_view name, uint64_t length, uint64_t piece_length);

// Why a file as above cannot be published (its Lookup answer would be over
// kMaxTrackerMessageBytes: at 256 KiB pieces, files over ~512 GiB), or
// nullopt. `swarm share` asks before hashing; the tracker refuses such a
// Publish as invalid.
std::optional<std::string> TrackerMessageProblem(std::string_view name, uint64_t length,
                                                 uint64_t piece_length);

// An Announce answer is far smaller: at most max_numwant (200) peers of at
// most 317 bytes each as encoded (a 300-byte endpoint, the id as a varint
// of up to 10 bytes, tags and lengths) and a few counts, about 63.5 KB in
// all. A TrackerClient refuses a larger one: 256 KiB, four times that, so
// a tracker answering up to 800 peers still gets through. (A Lookup answer
// carries a file's piece hashes and keeps kMaxTrackerMessageBytes.)
inline constexpr int kMaxAnnounceReplyBytes = 256 * 1024;

// What gRPC may allocate for a TrackerClient's channel (see
// kDialedChannelMemoryQuota: a message is taken in whole before its size is
// checked). Twice the largest message, so an honest Lookup answer of
// kMaxTrackerMessageBytes is taken in with room to spare, while a tracker
// answering without end is cut off (RESOURCE_EXHAUSTED).
inline constexpr size_t kTrackerClientMemoryQuota = 2 * size_t{kMaxTrackerMessageBytes};

// What gRPC may allocate for a TrackerServer's incoming calls, all of them
// together. Every method takes messages of up to kMaxTrackerMessageBytes
// (gRPC's receive limit is per server, and only Publish needs it), and a
// message is taken in whole before its size is checked: without a quota a
// few clients sending 60 MiB Lookups at once made the tracker hold 600 MiB.
// Three of the largest messages: an honest Publish of the largest size
// fits with room to spare; past the quota gRPC cancels calls
// (RESOURCE_EXHAUSTED) until it is under again. gRPC's quota is a target
// more than a cap: 8 clients sending two 60 MiB Lookups each raised the
// tracker's peak from 778 MB to 465 MB with it (7 of the 16 cancelled),
// not to 192 MiB.
inline constexpr size_t kTrackerServerMemoryQuota = 3 * size_t{kMaxTrackerMessageBytes};

// What a TrackerServer's Lookup and ListFiles answers that gRPC still
// holds (queued or being sent: a client that does not read keeps its
// answer alive) may take, all together. An answer is built once and shared
// by every call that sends it while any still does: a file's Lookup
// answer, and the listing until it changes (its counts change with
// announces), so stalled calls for the same answer cost it once. An
// answer that would go over the bound is refused with RESOURCE_EXHAUSTED
// ("tracker busy"), which clients retry after their back-off. Twice the
// largest message: two different files of two million pieces can be sent
// at once, or about forty listings of the most files a tracker lists
// (10000 of the longest names, ~3 MB).
inline constexpr size_t kTrackerAnswerBudget = 2 * size_t{kMaxTrackerMessageBytes};

// What the answers held for the calls of one client may take, out of
// kTrackerAnswerBudget: each distinct answer counts once for a client
// however many of its calls hold it. A client is the address its calls
// come from (an IPv6 address by its /64 prefix, which one subscriber
// usually has whole). Half the budget, one answer of the largest size: a
// client that asks for big answers and stops reading can take no more,
// and clients elsewhere are served from the other half.
inline constexpr size_t kTrackerAnswerClientShare = kTrackerAnswerBudget / 2;

// How long gRPC is given to send an answer of `bytes` once it has it: 10 s
// plus the bytes at 512 KiB/s, so that a client on a 1 MiB/s link gets the
// largest answer (64 MiB: 138 s) with its link half taken by other
// traffic. Past it the call is cancelled, so that a client that stopped
// reading does not hold its answer, and its share of the budget, for good.
std::chrono::milliseconds AnswerSendDeadline(size_t bytes);

// The serialized answers a TrackerServer hands to gRPC, counted against a
// budget in bytes (kTrackerAnswerBudget) and a share of it per client
// (kTrackerAnswerClientShare). An answer's bytes count from the moment it
// is made until the last call holding it lets go; each call's hold counts
// for its client until it lets go. The holders may be on any thread.
// Making answers is for one thread at a time (the tracker's loop). Public
// for tests.
class TrackerAnswers {
 public:
  // One call's hold on an answer (the answer's bytes).
  using Hold = std::shared_ptr<const std::string>;
  explicit TrackerAnswers(size_t budget_bytes = kTrackerAnswerBudget,
                          size_t client_share_bytes = kTrackerAnswerClientShare);
  ~TrackerAnswers();

  // A hold for a call from `client` on the answer held for `key` if some
  // call still holds it; otherwise on the one `build` makes, shared from
  // then on under `key`. nullptr and the reason in *busy ("tracker busy:
  // ...") if the client's share or the budget would be exceeded.
  Hold Shared(const std::string& client, const std::string& key,
              const std::function<std::string()>& build, std::string* busy);
  // Whether some call still holds the answer made under `key`.
  bool Holds(const std::string& key) const;
  // Bytes of the answers still held, in all and for `client`.
  size_t held_bytes() const;
  size_t client_bytes(const std::string& client) const;

 private:
  struct Ledger;
  // Drops the entries whose answer nobody holds any more.
  void Prune();

  std::shared_ptr<Ledger> ledger_;  // outlives this: holders give back
  std::map<std::string, std::weak_ptr<const std::string>> shared_;
  size_t prune_at_ = 16;
};

// The client a call from `host` (as HostOfGrpcPeer gives it) counts for
// in TrackerAnswers: the host itself, or for an IPv6 address its /64
// prefix ("[2001:db8:1:2::]/64").
std::string AnswerClientOf(const std::string& host);

// Whether `endpoint` is a peer address we store and dial: "HOST:PORT" with
// PORT in 1..65535 and HOST a host name, an IPv4 address, a bracketed IPv6
// address, or empty (the tracker fills in the address it sees); at most
// 300 bytes. An empty endpoint (a peer that takes no connections) is
// valid. Anything else (a gRPC target such as "unix:/path", or "unix:6881"
// whose host is a gRPC scheme name; a megabyte of text) is refused by the
// tracker and dropped by a peer that gets it in an announce answer. (The
// tracker lists the announced host only when told to trust it:
// TrackerServerOptions.)
bool ValidPeerEndpoint(const std::string& endpoint);

// The endpoint under which a peer the tracker lists at `listed` is handed
// to a requester whose address is `requester_host` and who dialed the
// tracker at `authority` (HOST:PORT): a loopback-listed peer, given to a
// requester on another machine, at the tracker's host as that requester
// knows it; anything else as listed.
std::string EndpointForRequester(const std::string& listed, std::string_view requester_host,
                                 std::string_view authority);

// Counters an AnnounceReplayGuard remembers at most (two tree nodes, 192
// bytes, each: 48 MiB in all). Above the 200000 peer records `swarm
// tracker` keeps: with every record announcing within the window (a
// 1-minute interval), a smaller guard would forget counters younger than
// the window and refuse peers whose clocks lag by less than it allows.
inline constexpr size_t kAnnounceGuardCapacity = size_t{1} << 18;

// Microseconds since the Unix epoch, by the system clock: what announce
// counters are made of and checked against.
uint64_t WallClockMicros();

// The tracker's memory of announce counters: refuses a signed announce
// that was already accepted (a replay), or is older than the last one
// accepted from that peer for that file (out of order), so a copy of an
// announce never counts twice.
//
// It remembers, for each (info-hash, peer id), the last counter accepted,
// but only while that counter is within the window of the clock and only
// up to `capacity` entries; memory is bounded whatever keys a client
// makes up. Whatever it forgets raises `floor`: a counter at or below the
// highest one forgotten is refused from a peer it no longer remembers. A
// counter more than the window behind or ahead of the clock is refused
// outright. So forgetting never lets a replay in (even if the tracker's
// clock steps back); it can only refuse an honest announce whose counter
// is stale, which its peer retries with a new counter.
//
// No I/O, no clock (`now_us` is passed in). Thread-compatible.
class AnnounceReplayGuard {
 public:
  explicit AnnounceReplayGuard(uint64_t window_us = kAnnounceWindowMicros,
                               size_t capacity = kAnnounceGuardCapacity);

  // Why an announce of (hash, id) with `counter` is refused at `now_us`,
  // or nullopt if it may be accepted. Changes nothing.
  std::optional<std::string> Check(const core::InfoHash& hash, core::PeerId id,
                                   uint64_t counter, uint64_t now_us) const;
  // Records an announce that passed Check (same arguments, no call to
  // Accept in between).
  void Accept(const core::InfoHash& hash, core::PeerId id, uint64_t counter, uint64_t now_us);

  size_t size() const { return last_.size(); }
  uint64_t floor() const { return floor_; }

 private:
  using Key = std::pair<core::InfoHash, uint64_t>;
  // Drops the entry with the lowest counter, raising floor_ to it.
  void ForgetOldest();

  uint64_t window_us_;
  size_t capacity_;
  std::map<Key, uint64_t> last_;               // last accepted counter
  std::set<std::pair<uint64_t, Key>> by_counter_;  // the same, by counter
  uint64_t floor_ = 0;  // highest counter forgotten
};

// What a TrackerServer believes of its clients.
struct TrackerServerOptions {
  // Whether a peer is listed at the host it announces. False (the
  // default): it is listed at the address its announce came from, with
  // the port it announced, whatever host it names, so that no client can
  // make every other peer dial a third party (real trackers ignore an
  // announced IP by default too). True: an announced host other than an
  // empty or wildcard one is listed as sent; for peers that reach the
  // tracker through a proxy or another network than their peers do.
  // `swarm tracker --trust-announced-hosts`.
  bool trust_announced_hosts = false;
  // Files one host (the address its requests come from) may have listed
  // at once; a publish past it is refused with PERMISSION_DENIED and a
  // reason, so that one client cannot fill the tracker's files for
  // everyone (core::TrackerConfig::max_files bounds them all together).
  // A file counts for the host that published it first, until the
  // tracker drops it. 0 (the default): no bound. `swarm tracker
  // --max-files-per-host`, default 1000 there.
  uint32_t max_files_per_host = 0;
  // What the answers gRPC still holds may take (TrackerAnswers), in all
  // and for one client; tests make them small.
  size_t answer_budget_bytes = kTrackerAnswerBudget;
  size_t answer_client_share_bytes = kTrackerAnswerClientShare;
  // How long an answer may take to be sent (AnswerSendDeadline); tests
  // make it short.
  std::function<std::chrono::milliseconds(size_t bytes)> answer_send_deadline =
      AnswerSendDeadline;
  // How long a connection with no call open is kept
  // (kServerIdleConnectionMs); tests make it short.
  int idle_connection_ms = 30'000;
};

class TrackerServer {
 public:
  ~TrackerServer();
  static std::unique_ptr<TrackerServer> Start(const std::string& listen,
                                              const core::TrackerConfig& config,
                                              uint64_t seed, std::string* error,
                                              const TrackerServerOptions& options = {});
  int port() const { return port_; }
  void Shutdown();
  // Bytes of the Lookup and ListFiles answers gRPC still holds (for tests).
  size_t answer_bytes_held() const;

 private:
  TrackerServer() = default;
  std::shared_ptr<EventLoop> loop_;
  std::unique_ptr<core::Tracker> tracker_;  // touched only on loop_'s thread
  std::unique_ptr<AnnounceReplayGuard> guard_;  // likewise
  std::unique_ptr<class TrackerService> service_;
  std::optional<ListeningServer> server_;
  std::thread thread_;
  int port_ = 0;
};

// How a peer driver reaches the tracker (an interface so tests and the
// in-process LoopbackSwarm can substitute their own).
class AnnounceClient {
 public:
  virtual ~AnnounceClient() = default;
  // Announces `request`, signed by `signer` (whose id request.peer.id must
  // be). `done` runs on a gRPC thread with the response (a failure_reason
  // if the tracker refused it), or nullopt and a message if the tracker
  // could not be reached.
  virtual void Announce(const core::AnnounceRequest& request, const PeerIdentity& signer,
                        std::function<void(std::optional<core::AnnounceResponse>,
                                           std::string error)> done) = 0;
};

// How long a TrackerClient call waits for the tracker to begin its answer
// (the answer's headers, sent as its first bytes go out): the 5 s that
// every call had in all until 2026-11-28. A tracker that is down, frozen
// (SIGSTOP) or unreachable fails a call this soon, whatever its answer
// would have been allowed once begun.
inline constexpr std::chrono::milliseconds kTrackerAnswerStartTimeout{5000};

// Keepalive on a TrackerClient's channel while a call is open: an HTTP/2
// PING once nothing has come from the tracker for kTrackerKeepaliveTime
// (gRPC 1.51 restarts that wait at every read, so no PING goes out while
// an answer is coming in, however slowly), and the connection given up,
// failing its calls, if no PING ACK comes within kTrackerKeepaliveTimeout.
// So a tracker that freezes or vanishes in the middle of a long answer is
// noticed within 20 s of its last byte, not at the answer's deadline
// (minutes later). No PINGs on a connection without calls. A server
// accepts a PING every kServerMinPingIntervalMs (SetListenerOptions), half
// kTrackerKeepaliveTime.
inline constexpr std::chrono::milliseconds kTrackerKeepaliveTime{10000};
inline constexpr std::chrono::milliseconds kTrackerKeepaliveTimeout{10000};

// The deadlines of TrackerClient calls. Announce and Scrape, whose
// answers are small: kTrackerAnswerStartTimeout (5 s). Lookup and
// ListFiles, whose answers may be as large as a tracker message: the
// answer's start, then as long as a TrackerServer allows for sending the
// largest answer (AnswerSendDeadline(kMaxTrackerMessageBytes), 138 s):
// 143 s. Publish, whose request carries a file's piece hashes: 5 s plus
// the request's `bytes` at AnswerSendDeadline's 512 KiB/s (133 s for the
// largest).
// (`start` replaces kTrackerAnswerStartTimeout: TrackerClientOptions.)
std::chrono::milliseconds TrackerAnswerDeadline(
    std::chrono::milliseconds start = kTrackerAnswerStartTimeout);
std::chrono::milliseconds TrackerPublishDeadline(
    size_t request_bytes, std::chrono::milliseconds start = kTrackerAnswerStartTimeout);

// What tests change of a TrackerClient (the defaults are the above).
struct TrackerClientOptions {
  std::chrono::milliseconds answer_start_timeout = kTrackerAnswerStartTimeout;
  std::chrono::milliseconds keepalive_time = kTrackerKeepaliveTime;
  std::chrono::milliseconds keepalive_timeout = kTrackerKeepaliveTimeout;
};

class TrackerClient : public AnnounceClient {
 public:
  explicit TrackerClient(const std::string& target, const TrackerClientOptions& options = {});
  ~TrackerClient() override;

  // Synchronous calls; on failure nullopt and *error. Each fails if the
  // tracker has not begun to answer within options.answer_start_timeout,
  // or has not finished by its deadline (TrackerAnswerDeadline,
  // TrackerPublishDeadline), or stops acknowledging keepalive PINGs
  // meanwhile.
  std::optional<core::PublishResult> Publish(const core::TorrentInfo& info,
                                             std::string* error);
  std::optional<std::vector<core::FileEntry>> ListFiles(std::string* error);
  // nullopt + empty *error: no such file.
  std::optional<core::TorrentInfo> Lookup(const std::string& name, std::string* error);
  // The listing of the one file `info_hash` names (its seeds and leechers
  // now): one entry, where ListFiles sends all. nullopt + empty *error: the
  // tracker lists no such file.
  std::optional<core::FileEntry> Scrape(const core::InfoHash& info_hash, std::string* error);
  // True if the last synchronous call to finish failed in a way a retry
  // cannot mend (the server has no Tracker service, or refused the request
  // as malformed, or a Lookup's answer was malformed); WithRetries then
  // stops at once.
  bool last_failure_hopeless() const { return hopeless_; }
  // The wall clock announce counters are taken from (WallClockMicros);
  // tests set a skewed one. Call before the first Announce.
  void SetWallClock(std::function<uint64_t()> clock) { wall_clock_ = std::move(clock); }
  // Asked every kInterruptPoll while a synchronous call waits: once it
  // returns true the call is cancelled and fails at once (gRPC status
  // CANCELLED), rather than wait out its deadline. `swarm` passes "a stop
  // signal is pending". Call before the first synchronous call.
  void SetInterrupt(std::function<bool()> stop) { interrupt_ = std::move(stop); }

  void Announce(const core::AnnounceRequest& request, const PeerIdentity& signer,
                std::function<void(std::optional<core::AnnounceResponse>,
                                   std::string error)> done) override;

 private:
  std::string target_;
  TrackerClientOptions options_;
  std::unique_ptr<grpc::ResourceQuota> quota_;  // the channel's
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<class TrackerStub> stub_;
  // Starts the unary call that `start` sets up on `ctx` with the reactor
  // it is given, and waits for it: cancels it if interrupt_ says so, or if
  // the tracker has not begun to answer within `answer_start`
  // (DEADLINE_EXCEEDED, "no answer within ...").
  grpc::Status Wait(grpc::ClientContext* ctx, std::chrono::milliseconds answer_start,
                    const std::function<void(grpc::ClientUnaryReactor*)>& start);

  std::atomic<bool> hopeless_{false};  // of the last call to finish
  std::function<uint64_t()> wall_clock_ = WallClockMicros;
  std::function<bool()> interrupt_;
};

// How often a synchronous TrackerClient call asks whether to give up.
inline constexpr std::chrono::milliseconds kInterruptPoll{50};

}  // namespace swarm::net

#endif  // SWARM_NET_TRACKER_RPC_H_
