// PeerDriver: runs one unchanged core::Peer for one torrent on real sockets.
//
// One thread (an EventLoop) owns the Peer and every per-connection table;
// a second one does the PieceStore's writes, hashing and final rename in
// order, reporting verification results back as inputs. gRPC reactors post inputs to it; it feeds them to the
// Peer with `now` from the steady clock, drains TakeActions() after each
// input and carries the actions out: control messages and blocks go to the
// connection's Link, blocks are written/read/hashed through the PieceStore,
// announces go to the tracker. It makes no protocol decisions.
//
// Before the Peer hears of a connection, the driver runs the peer
// authentication exchange on it (peer_auth.h): the remote must prove it
// holds the key of the peer id it claims, and a dialed remote must be the
// peer the tracker listed. A connection that fails (or takes longer than
// auth_timeout) is closed with a log line; the Peer never sees it, so the
// id it claimed gets no strike.
//
// Shaping, for running a swarm configured like a scenario: upload and
// download token buckets (blocks wait for tokens before being sent or
// delivered to the Peer), and an added one-way delay applied to every
// received message.
//
// Thread-safe: public methods may be called from any thread.
#ifndef SWARM_NET_PEER_DRIVER_H_
#define SWARM_NET_PEER_DRIVER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/peer.h"
#include "core/peer_config.h"
#include "core/torrent_info.h"
#include "net-real/event_loop.h"
#include "net-real/link.h"
#include "net-real/log_limiter.h"
#include "net-real/peer_auth.h"
#include "net-real/piece_store.h"
#include "net-real/token_bucket.h"
#include "net-real/tracker_rpc.h"
#include "net-real/wire_codec.h"

namespace swarm::net {

class Dialer;

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
using LogFn = std::function<void(LogLevel, const std::string&)>;

// Inbound connections at most waiting to finish the authentication
// exchange: past this, the one waiting longest is closed to make room for
// the newcomer. Honest peers finish in a round trip, so only a flood of idle
// or hostile streams fills it, and such a flood cannot keep honest peers
// out (as refusing newcomers would).
inline constexpr size_t kMaxPendingAuth = 64;

struct DriverOptions {
  // Who this peer is on the wire: a key pair whose public key names its
  // peer id (peer_auth.h). nullptr: the driver makes a fresh one.
  std::shared_ptr<const PeerIdentity> identity;
  uint64_t run_seed = 1;
  // Which of run_seed's random streams the Peer draws from. (The peer id
  // used to double as this; it now comes from the key.)
  uint64_t rng_stream = 0;
  // A new connection must complete the authentication exchange within
  // this, or it is closed.
  core::Duration auth_timeout = core::Duration::Seconds(10);
  // A dialed connection must come up (the remote's transport answers)
  // within this, or the dial fails. Without it a listed address that
  // accepts TCP and never speaks held a dial for gRPC's own connect
  // timeout, about 20 s, and a tracker listing many of them stalled every
  // download (the core dials only so many at once).
  core::Duration connect_timeout = core::Duration::Seconds(5);
  core::PeerConfig peer;
  // What this peer announces as the address to dial: "host:port". A
  // TrackerServer lists the port at the address the announce came from;
  // it keeps the host only if it trusts announced hosts
  // (TrackerServerOptions), and fills in an empty one either way.
  std::string endpoint;
  // Zero: unlimited.
  core::Rate upload_limit = core::Rate::Zero();
  core::Rate download_limit = core::Rate::Zero();
  // Added to every received message before the Peer sees it: the one-way
  // delay from the sending peer, when `delay_from` is set (a scenario's
  // latency model, pair by pair), otherwise `added_delay` for everyone.
  core::Duration added_delay = core::Duration::Zero();
  std::function<core::Duration(core::PeerId remote)> delay_from;
  // Flip a byte in every block served: a polluter (tests, and scenario
  // classes with corrupt_uploads in swarm run-scenario).
  bool corrupt_uploads = false;
  // Received messages all this driver's links together may hold before it
  // has consumed them (ReadBudget; each link also stops at
  // kDefaultReadAheadBytes). One budget per driver rather than per
  // process: a driver is what consumes, at its own download limit and
  // delay, and the peers of `swarm run-scenario` share a process while
  // standing for separate machines, so one simulated peer's backlog must
  // not slow another's reads.
  // Blocks received and waiting for the disk thread count against it too
  // (Link::Retain) until they are written.
  size_t read_budget_bytes = kDefaultReadBudgetBytes;
  LogFn log;
  // Lines about what a remote did wrong (a failed authentication, a
  // malformed message) are limited per remote host, so that a client
  // reconnecting with garbage cannot flood the log: 5 a minute, then one
  // summary line (LogLimiter).
  LogLimiterOptions remote_log_limit;
  // Tests only: called on the disk thread before each received block is
  // written, e.g. to stand for a slow disk. Null: nothing.
  std::function<void()> before_block_write;
};

// A snapshot of the driver's state for progress lines and metrics.
struct DriverProgress {
  uint32_t pieces = 0;
  uint32_t piece_count = 0;
  core::Bitfield have;
  core::Bytes left = 0;
  core::PeerStats stats;
  size_t connections = 0;
  bool seed = false;
  bool stopped = false;  // OnStop done and the stopped announce answered
  bool file_complete = false;  // every piece verified and the file renamed
  uint32_t malformed_messages = 0;  // links dropped for undecodable messages
  // Connections closed because the remote did not prove its peer id (bad
  // or missing proof, key not matching the id, not the peer dialed, time
  // out). The Peer never saw them.
  uint32_t auth_failures = 0;
  // Dials that did not come up within DriverOptions::connect_timeout.
  uint32_t dial_timeouts = 0;
  // Listed peers (endpoints) whose last dial could not connect: refused,
  // unreachable, or no answer within connect_timeout. A later dial to one
  // that comes up takes it off. Typically peers that left without a
  // stopped announce, which the tracker keeps listing for a while.
  uint32_t unreachable_peers = 0;
  // Received messages (their Link::ReadCost) not yet consumed: all the
  // links hold for the driver, blocks waiting for the disk thread
  // included (at most about DriverOptions::read_budget_bytes), and of
  // that what waits in the driver for its added delay or the download
  // limit.
  size_t read_buffered = 0;
  size_t inbound_waiting = 0;
  // Received blocks (their ReadCost) handed to the disk thread and not yet
  // written, now and at most so far; counted in read_buffered.
  size_t disk_queued = 0;
  size_t disk_queued_peak = 0;
  std::optional<core::Time> start_time, first_piece_time, completion_time;
  std::string fatal_error;  // disk failure: the driver gave up
  // The partial file was deleted, or replaced by another file, during the
  // download: nothing of it is kept under its name.
  bool partial_file_lost = false;
  // Verified pieces that no longer matched their hash after another
  // program wrote into the partial file (the download stopped then): of
  // `pieces`, these are not in the file any more.
  uint32_t pieces_lost = 0;
  // The complete file was modified on disk while being seeded (its size
  // or mtime changed), which ended the seeding (fatal_error says so).
  bool changed_on_disk = false;
};

class PeerDriver : public InboundSink {
 public:
  // `have` is what the store's Recheck() verified. REQUIRES: tracker and
  // dialer outlive the driver.
  PeerDriver(const core::TorrentInfo& info, std::unique_ptr<PieceStore> store,
             core::Bitfield have, DriverOptions options, AnnounceClient* tracker,
             Dialer* dialer);
  ~PeerDriver() override;

  // Starts the driver's threads: the driver thread, and the disk thread
  // unless the store is complete and every piece held (a seed has nothing
  // to write; it gets one if it ever needs it). False, with *error (if
  // given) saying why, if a thread cannot be started (e.g. the process's
  // limit on threads): nothing is left running then.
  bool Start(std::string* error = nullptr);
  // Graceful leave: OnStop (announce stopped, disconnect all), waits up to
  // `grace` for the stopped announce, then ends the threads.
  void Stop(core::Duration grace = core::Duration::Seconds(2));
  // Stop()'s first half, which returns at once: the driver begins to leave
  // (a second request only shortens the grace). Stopping many drivers:
  // RequestStop on each, then Stop on each, and their grace periods run
  // together without a thread per driver.
  void RequestStop(core::Duration grace = core::Duration::Seconds(2));

  DriverProgress Progress() const;
  // The tracker had to be told of the file again (it restarted): announce
  // now (core::Peer::OnTrackerReset). Thread-safe.
  void TrackerReset();
  const core::TorrentInfo& torrent() const { return info_; }
  // This peer's id, the one its key names.
  core::PeerId id() const { return identity_->id(); }

  void AdoptInbound(std::shared_ptr<Link> link, const AuthHello& first,
                    Link::Handlers* handlers) override;

 private:
  struct Inbound {
    core::Time due;
    uint64_t seq;  // arrival order: equal due times keep it
    core::ConnectionId conn;
    Decoded decoded;
    size_t cost;  // Link::ReadCost, consumed once delivered
  };
  // Min-heap order on (due, seq): per-pair delays differ, so a message may
  // be due before one that arrived earlier on another connection.
  struct LaterInbound {
    bool operator()(const Inbound& a, const Inbound& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };
  // A live stream and the delay added to what arrives on it.
  struct LinkState {
    std::shared_ptr<Link> link;
    core::Duration delay;
    std::optional<core::PeerId> remote;  // once it proved its id
  };
  struct Upload {
    core::ConnectionId conn;
    core::BlockRef block;
  };
  // A connection the Peer has not heard of yet: its authentication
  // exchange is under way.
  struct Pending {
    PeerAuth auth;
    core::Time deadline;
  };

  // Loop-thread only below this line.
  void Run();
  std::optional<core::Time> NextWake();
  void OnWake(core::Time now);
  void Drain(core::Time now);
  void Carry(core::Time now, const core::Action& a);
  void DoConnect(const core::PeerAddress& address);
  // The authentication exchange (peer_auth.h), before the Peer hears of a
  // connection. StartAuth sends our handshake (and, for a listener, takes
  // the remote's).
  void StartAuth(core::Time now, core::ConnectionId c, AuthRole role,
                 std::optional<core::PeerId> expect, const AuthHello* first);
  void OnAuthMessage(core::ConnectionId c, std::optional<AuthMessage> m, std::string error,
                     size_t cost);
  void TakeAuthMessage(core::Time now, core::ConnectionId c, const AuthMessage& m);
  // The remote proved its id: the Peer gets the connection and its
  // handshake.
  void Authenticated(core::Time now, core::ConnectionId c);
  // Closes c, which never reached the Peer, logging why; a dial counts as
  // failed, ended by us for `reason` (the core retries it only if
  // core::WorthRedial), or without one (a timeout: retried).
  void FailAuth(core::Time now, core::ConnectionId c, const std::string& why,
                std::optional<core::DisconnectReason> reason);
  void ExpireAuth(core::Time now);
  void ExpireDials(core::Time now);
  void DoAnnounce(const core::Announce& a);
  void DoStore(const core::StoreBlock& s);
  // Driver thread: queues `fn` on the disk thread, starting it first if
  // need be (if it cannot start, the download fails as on a disk error).
  void PostToDisk(std::function<void()> fn);
  bool StartDiskThread(std::string* error);
  // On the disk thread: records a failure that ends the download and has
  // the driver leave at once (stopped announced, every connection closed),
  // so that nothing more is received only to be thrown away.
  void FailDisk(std::string error, bool partial_file_lost);
  // A peer was banned for bad data: a warning naming it, and saying so
  // when no other peer is left to download from.
  void WarnNewBans();
  void WarnBanned(std::optional<core::PeerId> remote);
  void DoVerify(core::PieceIndex p);
  // Disk thread, while downloading: if another program wrote into the
  // partial file since we last looked, re-hashes the pieces verified so
  // far; if one no longer matches, stops the download (FailDisk) and
  // returns false. One fstat when nothing changed.
  bool PartialFileIntact();
  void OnVerified(core::Time now, core::PieceIndex p, bool ok);
  void DoCompleted(core::Time now);
  void PumpUploads(core::Time now);
  void PumpInbound(core::Time now);
  // Hands `d` to the core, then tells its link that `cost` is consumed.
  void Deliver(core::Time now, core::ConnectionId c, Decoded d, size_t cost);
  core::Duration DelayFrom(core::PeerId remote) const;
  void OnLinkMessage(core::ConnectionId c, std::optional<Decoded> d, std::string error,
                     size_t cost);
  void OnLinkClosed(core::ConnectionId c);
  // Forgets a link the driver closed or learnt closed, with the messages
  // from it still waiting in inbound_ (they no longer count against the
  // read budget).
  void ForgetLink(core::ConnectionId c);
  // `auth_messages`: how many of the first messages received belong to the
  // authentication exchange (two for a dialer; one for a listener, whose
  // first came with the stream).
  Link::Handlers MakeHandlers(core::ConnectionId c, int auth_messages);
  void Publish(core::Time now);
  void Log(LogLevel level, const std::string& msg);
  // A line about what connection c's remote did ("conn N from HOST:
  // MSG"), unless remote_log_ holds it back; writes the limiter's due
  // summaries too.
  void LogRemote(core::Time now, core::ConnectionId c, LogLevel level, const std::string& msg);
  void LogSummaries(std::vector<std::string> summaries);

  const core::TorrentInfo info_;
  std::unique_ptr<PieceStore> store_;
  const core::Bitfield initial_have_;
  const DriverOptions options_;
  const std::shared_ptr<const PeerIdentity> identity_;
  AnnounceClient* tracker_;
  Dialer* dialer_;
  std::shared_ptr<EventLoop> loop_;
  std::thread thread_;
  const std::shared_ptr<ReadBudget> read_budget_;  // shared by every link
  // Owns the PieceStore's writes, hashing and final rename (in order).
  std::shared_ptr<EventLoop> disk_loop_;
  std::thread disk_thread_;
  // A write failed (disk full, file size limit) or the partial file was
  // deleted: nothing more is written or verified. Disk thread only.
  bool disk_failed_ = false;
  // Payload bytes received but never stored: the block whose write failed
  // and every one after it. Reported as wasted.
  std::atomic<uint64_t> discarded_bytes_{0};
  // Bans warned of so far (the core's stats().peers_banned), and the peers
  // the current batch of actions disconnected for a failed hash.
  uint32_t bans_warned_ = 0;
  std::vector<core::PeerId> banned_names_;
  std::atomic<uint64_t> next_conn_{1};

  std::unique_ptr<core::Peer> peer_;
  std::map<core::ConnectionId, LinkState> links_;
  // Outbound, not handed to the Peer yet (not up, or not authenticated).
  std::map<core::ConnectionId, core::PeerAddress> dialing_;
  // When each dial not yet up gives up (connect_timeout); an entry whose
  // connection is no longer dialing, or is authenticating, is stale and
  // skipped (erased when it expires).
  std::map<core::ConnectionId, core::Time> dial_deadline_;
  std::map<core::ConnectionId, Pending> authenticating_;  // each also in links_
  // Endpoints whose last dial could not connect (DriverProgress::
  // unreachable_peers), at most kMaxUnreachableKept of them.
  std::set<std::string> unreachable_;
  static constexpr size_t kMaxUnreachableKept = 10000;
  void MarkReachable(const std::string& endpoint, bool reachable);
  std::vector<Inbound> inbound_;  // heap (LaterInbound)
  size_t inbound_cost_ = 0;       // sum of inbound_[i].cost
  uint64_t inbound_seq_ = 0;
  std::deque<Upload> uploads_;
  // The partial file was written to by another program: no upload is read
  // until the disk thread has re-verified it.
  bool uploads_held_ = false;
  TokenBucket up_bucket_;
  TokenBucket down_bucket_;
  std::deque<std::function<void(core::Time)>> deferred_;  // inputs raised by actions
  Payload pending_payload_;  // payload of the Piece being delivered
  core::ConnectionId pending_conn_;
  std::shared_ptr<Link> pending_link_;  // its link, and its ReadCost:
  size_t pending_cost_ = 0;             // retained by DoStore until written
  bool pending_retained_ = false;
  std::atomic<size_t> disk_queued_{0};  // ReadCost of blocks not yet written
  size_t disk_queued_peak_ = 0;
  int announces_in_flight_ = 0;
  // A failed announce is retried (transport retry, same request) with backoff.
  std::optional<std::pair<core::Time, core::Announce>> announce_retry_;
  core::Duration announce_backoff_ = core::Duration::Zero();
  bool stopping_ = false;
  std::optional<core::Time> stop_deadline_;
  std::optional<core::Time> last_publish_;
  LogLimiter remote_log_;  // driver thread only

  mutable std::mutex progress_mu_;
  DriverProgress progress_;
};

}  // namespace swarm::net

#endif  // SWARM_NET_PEER_DRIVER_H_
