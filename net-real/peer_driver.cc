#include "net-real/peer_driver.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <variant>

#include "core/check.h"
#include "core/overloaded.h"
#include "core/rng.h"
#include "net-real/peer_transport.h"

namespace swarm::net {
namespace {

using core::Overloaded;

// Burst of a token bucket: 10 ms of traffic, at least 16 KiB. It stands in
// for a link of the limit's capacity, which cannot send faster after an idle
// spell: a bigger burst (it was 100 ms, at least 256 KiB) let every peer
// send a whole piece at once on joining and after each pause, which the
// simulator's links (and real access links) cannot. A block larger than the
// burst still goes at once and leaves the bucket in debt (TokenBucket), so
// the burst only absorbs the event loop's wake-up jitter.
core::Bytes BurstFor(core::Rate r) {
  return std::max<core::Bytes>(16 * core::kKiB,
                               static_cast<core::Bytes>(r.bytes_per_second() / 100));
}

void MinInto(std::optional<core::Time>* acc, core::Time t) {
  if (!*acc || t < **acc) *acc = t;
}

// Names the calling thread (at most 15 bytes) so `top -H`, `perf report
// --sort comm` and /proc/PID/task/*/comm tell a driver's threads apart.
void NameThread(const char* name) { ::pthread_setname_np(::pthread_self(), name); }

constexpr core::Duration kProgressRefresh = core::Duration::Millis(200);
constexpr core::Duration kPublishInterval = core::Duration::Millis(50);
// After a disk failure the driver leaves as Stop() does; this long it waits
// for the stopped announce, so the tracker stops listing us as a source
// (Stop()'s default grace). Bounded: a dead tracker cannot hold it.
constexpr core::Duration kDiskFailureGrace = core::Duration::Seconds(2);
constexpr core::Duration kFirstAnnounceRetry = core::Duration::Seconds(2);
constexpr core::Duration kMaxAnnounceRetry = core::Duration::Seconds(60);

}  // namespace

PeerDriver::PeerDriver(const core::TorrentInfo& info, std::unique_ptr<PieceStore> store,
                       core::Bitfield have, DriverOptions options,
                       AnnounceClient* tracker, Dialer* dialer)
    : info_(info), store_(std::move(store)), initial_have_(std::move(have)),
      options_(std::move(options)),
      identity_(options_.identity ? options_.identity : PeerIdentity::Generate()),
      tracker_(tracker), dialer_(dialer),
      loop_(std::make_shared<EventLoop>()),
      read_budget_(std::make_shared<ReadBudget>(options_.read_budget_bytes)),
      disk_loop_(std::make_shared<EventLoop>()),
      up_bucket_(options_.upload_limit, BurstFor(options_.upload_limit)),
      down_bucket_(options_.download_limit, BurstFor(options_.download_limit)),
      remote_log_(options_.remote_log_limit) {
  progress_.piece_count = info_.piece_count();
  progress_.pieces = static_cast<uint32_t>(initial_have_.Count());
  progress_.have = initial_have_;
  progress_.seed = initial_have_.All();
  progress_.file_complete = store_->is_final() && initial_have_.All();
  progress_.left = info_.length();
  for (uint32_t i = 0; i < info_.piece_count(); ++i) {
    if (initial_have_.Test(i)) progress_.left -= info_.PieceSize(core::PieceIndex(i));
  }
}

PeerDriver::~PeerDriver() { Stop(core::Duration::Zero()); }

bool PeerDriver::Start(std::string* error) {
  SWARM_CHECK(!thread_.joinable());
  // A seed that starts with its whole file has nothing to write, hash or
  // rename: its disk thread is started only if it ever gets work (it
  // cannot, as the core stores no block of a piece it holds). `share` of
  // many files thus runs one thread per file, not two.
  const bool seed_from_start = initial_have_.All() && store_->is_final();
  if (!seed_from_start && !StartDiskThread(error)) return false;
  try {
    thread_ = std::thread([this] {
      NameThread("swarm-driver");
      Run();
    });
  } catch (const std::system_error& e) {
    if (error) *error = std::string("cannot start a thread: ") + e.what();
    if (disk_thread_.joinable()) {
      disk_loop_->Quit();
      disk_thread_.join();
    }
    return false;
  }
  return true;
}

bool PeerDriver::StartDiskThread(std::string* error) {
  try {
    disk_thread_ = std::thread([this] {
      NameThread("swarm-disk");
      disk_loop_->Run([] { return std::nullopt; }, [](core::Time) {});
    });
  } catch (const std::system_error& e) {
    if (error) *error = std::string("cannot start a thread: ") + e.what();
    return false;
  }
  return true;
}

void PeerDriver::PostToDisk(std::function<void()> fn) {
  if (!disk_thread_.joinable()) {
    std::string error;
    if (!StartDiskThread(&error)) {
      FailDisk(error, /*partial_file_lost=*/false);
      fn();  // with disk_failed_ set it only discards (and releases) its block
      return;
    }
  }
  disk_loop_->Post(std::move(fn));
}

void PeerDriver::RequestStop(core::Duration grace) {
  if (!thread_.joinable()) return;
  loop_->Post([this, grace] {
    core::Time now = SteadyNow();
    if (stopping_) {  // asked twice (or after a disk failure): the sooner deadline
      if (stop_deadline_) stop_deadline_ = std::min(*stop_deadline_, now + grace);
      return;
    }
    stopping_ = true;
    stop_deadline_ = now + grace;
    // Leaving unfinished: the core's view helps tell a stall from a slow swarm.
    if (!peer_->is_seed()) Log(LogLevel::kDebug, "leaving unfinished; " + peer_->DebugString());
    peer_->OnStop(now);
    Drain(now);
  });
}

void PeerDriver::Stop(core::Duration grace) {
  if (!thread_.joinable()) return;
  RequestStop(grace);
  thread_.join();
  disk_loop_->Quit();  // after the writes already queued (and a rename)
  if (disk_thread_.joinable()) disk_thread_.join();
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.stopped = true;
}

void PeerDriver::TrackerReset() {
  loop_->Post([this] {
    if (stopping_) return;
    core::Time now = SteadyNow();
    peer_->OnTrackerReset(now);
    Drain(now);
  });
}

DriverProgress PeerDriver::Progress() const {
  std::lock_guard<std::mutex> lock(progress_mu_);
  DriverProgress p = progress_;
  // Added here, not in Publish(): the disk thread may discard blocks after
  // the driver thread published for the last time (Stop() joins the
  // driver thread first), and those bytes were received for nothing too.
  p.stats.wasted += discarded_bytes_.load();
  return p;
}

void PeerDriver::Run() {
  peer_ = std::make_unique<core::Peer>(
      id(), info_, options_.peer, core::Rng::ForStream(options_.run_seed, options_.rng_stream));
  core::Time now = SteadyNow();
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.start_time = now;
  }
  peer_->OnStart(now, initial_have_);
  Drain(now);
  loop_->Run([this] { return NextWake(); }, [this](core::Time t) { OnWake(t); });
  LogSummaries(remote_log_.Flush(SteadyNow()));
  for (auto& [conn, state] : links_) state.link->Close();
  links_.clear();
  Publish(SteadyNow());
}

std::optional<core::Time> PeerDriver::NextWake() {
  core::Time now = SteadyNow();
  std::optional<core::Time> t = now + kProgressRefresh;
  if (auto next = peer_->NextTimeout()) MinInto(&t, *next);
  if (!uploads_.empty()) MinInto(&t, up_bucket_.ReadyAt(now));
  if (!inbound_.empty()) {
    core::Time due = inbound_.front().due;
    if (std::holds_alternative<core::Piece>(inbound_.front().decoded.message)) {
      due = std::max(due, down_bucket_.ReadyAt(now));
    }
    MinInto(&t, due);
  }
  if (announce_retry_) MinInto(&t, announce_retry_->first);
  for (const auto& [c, pending] : authenticating_) MinInto(&t, pending.deadline);
  for (const auto& [c, deadline] : dial_deadline_) MinInto(&t, deadline);
  if (stop_deadline_) MinInto(&t, *stop_deadline_);
  return t;
}

void PeerDriver::OnWake(core::Time now) {
  LogSummaries(remote_log_.TakeSummaries(now));
  ExpireAuth(now);
  ExpireDials(now);
  for (int i = 0; i < 1000; ++i) {
    auto next = peer_->NextTimeout();
    if (!next || *next > now) break;
    peer_->OnTimeout(now);
    Drain(now);
  }
  if (announce_retry_ && announce_retry_->first <= now) {
    core::Announce a = announce_retry_->second;
    announce_retry_.reset();
    DoAnnounce(a);
  }
  PumpInbound(now);
  PumpUploads(now);
  bool quitting = stopping_ && (announces_in_flight_ == 0 || now >= *stop_deadline_);
  if (quitting) loop_->Quit();
  // The snapshot costs O(pieces) (Peer::left); a few per second are plenty.
  if (quitting || !last_publish_ || now - *last_publish_ >= kPublishInterval) {
    Publish(now);
    last_publish_ = now;
  }
}

void PeerDriver::Drain(core::Time now) {
  for (;;) {
    for (const core::Action& a : peer_->TakeActions()) Carry(now, a);
    WarnNewBans();
    if (deferred_.empty()) return;
    auto input = std::move(deferred_.front());
    deferred_.pop_front();
    input(now);
  }
}

void PeerDriver::Carry(core::Time now, const core::Action& action) {
  std::visit(
      Overloaded{
          [&](const core::SendMessage& s) {
            // Our handshake went out with the authentication exchange,
            // before the Peer heard of the connection.
            if (std::holds_alternative<core::Handshake>(s.message)) return;
            auto it = links_.find(s.conn);
            if (it == links_.end()) return;
            it->second.link->Send(EncodeFrame(s.message), std::nullopt);
          },
          [&](const core::SendBlock& s) { uploads_.push_back(Upload{s.conn, s.block}); },
          [&](const core::StoreBlock& s) { DoStore(s); },
          [&](const core::VerifyPiece& v) { DoVerify(v.piece); },
          [&](const core::Connect& c) { DoConnect(c.address); },
          [&](const core::Disconnect& d) {
            Log(LogLevel::kDebug, "disconnect conn " + std::to_string(d.conn.value()) +
                                      ": " + std::string(DisconnectReasonName(d.reason)));
            dialing_.erase(d.conn);
            auto it = links_.find(d.conn);
            if (it == links_.end()) return;
            // Named in the ban's warning, given after the batch (WarnNewBans).
            if (d.reason == core::DisconnectReason::kHashFailure && it->second.remote) {
              banned_names_.push_back(*it->second.remote);
            }
            it->second.link->Close();
            ForgetLink(d.conn);
          },
          [&](const core::Announce& a) { DoAnnounce(a); },
          [&](const core::Completed&) { DoCompleted(now); },
      },
      action);
}

Link::Handlers PeerDriver::MakeHandlers(core::ConnectionId c, int auth_messages) {
  std::shared_ptr<EventLoop> loop = loop_;
  Link::Handlers h;
  h.on_up = [this, loop, c] {
    loop->Post([this, c] {
      auto it = dialing_.find(c);
      if (it == dialing_.end() || !links_.count(c)) return;
      StartAuth(SteadyNow(), c, AuthRole::kDialer, it->second.id, nullptr);
    });
  };
  // A link delivers its messages one at a time, in order: the counter
  // needs no lock.
  h.on_message = [this, loop, c, auth_left = auth_messages](Payload bytes) mutable {
    std::string error;
    const size_t cost = Link::ReadCost(bytes.size());
    if (auth_left > 0) {
      --auth_left;
      std::optional<AuthMessage> m = DecodeAuthFrame(bytes, &error);
      loop->Post([this, c, m = std::move(m), error, cost]() mutable {
        OnAuthMessage(c, std::move(m), error, cost);
      });
      return;
    }
    std::optional<Decoded> d = DecodeFrame(bytes, &error);
    loop->Post([this, c, d = std::move(d), error, cost]() mutable {
      OnLinkMessage(c, std::move(d), error, cost);
    });
  };
  h.on_sent = [this, loop, c](const core::BlockRef& b) {
    loop->Post([this, c, b] {
      core::Time now = SteadyNow();
      peer_->OnBlockSent(now, c, b);
      Drain(now);
    });
  };
  h.on_closed = [this, loop, c] { loop->Post([this, c] { OnLinkClosed(c); }); };
  h.read_budget = read_budget_;
  return h;
}

void PeerDriver::AdoptInbound(std::shared_ptr<Link> link, const AuthHello& first,
                              Link::Handlers* handlers) {
  core::ConnectionId c(next_conn_++);
  *handlers = MakeHandlers(c, 1);  // the handshake was read during routing
  const bool posted = loop_->Post([this, c, link, first] {
    if (stopping_) {
      link->Close();
      return;
    }
    // At most kMaxPendingAuth inbound exchanges at once. Past that the
    // oldest makes room, as for streams that never handshake: refusing the
    // newest instead would let 64 streams that never send their proof,
    // renewed every auth_timeout, shut out every honest peer, whereas an
    // honest exchange takes a round trip and is done long before 64 newer
    // streams push it out.
    const core::Time now = SteadyNow();
    size_t inbound = 0;
    auto oldest = authenticating_.end();
    for (auto p = authenticating_.begin(); p != authenticating_.end(); ++p) {
      if (p->second.auth.role() != AuthRole::kListener) continue;
      ++inbound;
      if (oldest == authenticating_.end() || p->second.deadline < oldest->second.deadline) {
        oldest = p;
      }
    }
    if (inbound >= kMaxPendingAuth) {
      FailAuth(now, oldest->first,
               std::to_string(inbound) +
                   " inbound connections were proving their ids; the oldest made room",
               std::nullopt);  // inbound: no dial to judge
    }
    // Until the id is proven this delay is only a guess (it merely shapes
    // timing); Authenticated sets it again.
    links_[c] = LinkState{link, DelayFrom(first.peer_id), std::nullopt};
    StartAuth(now, c, AuthRole::kListener, std::nullopt, &first);
  });
  // The driver has already stopped: nobody else will end this stream, and
  // an open stream holds up the server's shutdown.
  if (!posted) link->Close();
}

void PeerDriver::StartAuth(core::Time now, core::ConnectionId c, AuthRole role,
                           std::optional<core::PeerId> expect, const AuthHello* first) {
  auto [it, fresh] = authenticating_.emplace(
      c, Pending{PeerAuth(identity_, info_.info_hash(), role, expect),
                 now + options_.auth_timeout});
  SWARM_CHECK(fresh);
  links_.at(c).link->Send(EncodeAuthFrame(it->second.auth.hello()), std::nullopt);
  if (first) TakeAuthMessage(now, c, *first);
}

void PeerDriver::OnAuthMessage(core::ConnectionId c, std::optional<AuthMessage> m,
                               std::string error, size_t cost) {
  auto it = links_.find(c);
  if (it == links_.end()) return;  // we already closed it
  const std::shared_ptr<Link> link = it->second.link;
  core::Time now = SteadyNow();
  if (!authenticating_.count(c)) {
    // A dialed remote that spoke before our handshake (an honest one never
    // does: it answers ours). Ignoring it would leave the link's count of
    // handshake messages one short, and the remote's proof would then be
    // read as a protocol message.
    FailAuth(now, c, "it spoke before our handshake",
             core::DisconnectReason::kMessageBeforeHandshake);
  } else if (!m) {
    FailAuth(now, c, "malformed handshake message: " + error,
             core::DisconnectReason::kBadHandshake);
  } else {
    TakeAuthMessage(now, c, *m);
  }
  link->Consumed(cost);
}

void PeerDriver::TakeAuthMessage(core::Time now, core::ConnectionId c, const AuthMessage& m) {
  PeerAuth& auth = authenticating_.at(c).auth;
  std::string error;
  if (const auto* hello = std::get_if<AuthHello>(&m)) {
    std::optional<AuthProof> proof = auth.OnHello(*hello, &error);
    if (!proof) return FailAuth(now, c, error, auth.failure());
    links_.at(c).link->Send(EncodeAuthFrame(*proof), std::nullopt);
    return;
  }
  if (!auth.OnProof(std::get<AuthProof>(m), &error)) {
    return FailAuth(now, c, error, auth.failure());
  }
  Authenticated(now, c);
}

void PeerDriver::Authenticated(core::Time now, core::ConnectionId c) {
  auto it = authenticating_.find(c);
  const AuthHello remote = it->second.auth.remote();
  const AuthRole role = it->second.auth.role();
  authenticating_.erase(it);
  Log(LogLevel::kDebug, "conn " + std::to_string(c.value()) + ": peer " +
                            std::to_string(remote.peer_id.value()) + " proved its id");
  links_.at(c).delay = DelayFrom(remote.peer_id);
  links_.at(c).remote = remote.peer_id;
  std::optional<core::PeerId> dialed;
  if (role == AuthRole::kDialer) {
    auto d = dialing_.find(c);
    SWARM_CHECK(d != dialing_.end());
    dialed = d->second.id;
    MarkReachable(d->second.endpoint, true);
    dialing_.erase(d);
  }
  // The proven id goes with it: a full peer settles a crossing pair of
  // connections by it (core::Peer::OnConnected).
  peer_->OnConnected(now, c,
                     role == AuthRole::kDialer ? core::Direction::kOutbound
                                               : core::Direction::kInbound,
                     dialed, remote.peer_id);
  Drain(now);
  // The remote's handshake, now proven, is the Peer's first message (it
  // arrived first, so it pays the added delay like any other).
  OnLinkMessage(c, Decoded{core::Handshake{remote.info_hash, remote.peer_id}, {}}, "", 0);
}

void PeerDriver::FailAuth(core::Time now, core::ConnectionId c, const std::string& why,
                          std::optional<core::DisconnectReason> reason) {
  LogRemote(now, c, LogLevel::kWarn,
            "peer authentication failed (" + why +
                "); closed, and no strike against the id it claimed");
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    ++progress_.auth_failures;
  }
  authenticating_.erase(c);
  auto it = links_.find(c);
  if (it != links_.end()) it->second.link->Close();
  ForgetLink(c);
  auto dial = dialing_.find(c);
  if (dial == dialing_.end()) return;
  const core::PeerId dialed = dial->second.id;
  dialing_.erase(dial);
  peer_->OnConnectFailed(now, dialed, reason);
  Drain(now);
}

void PeerDriver::ExpireAuth(core::Time now) {
  std::vector<core::ConnectionId> late;
  for (const auto& [c, pending] : authenticating_) {
    if (pending.deadline <= now) late.push_back(c);
  }
  for (core::ConnectionId c : late) {
    // A silent remote may only be busy: a dial that times out is retried.
    FailAuth(now, c,
             "no valid proof within " +
                 std::to_string(options_.auth_timeout.micros() / 1000) + " ms",
             std::nullopt);
  }
}

void PeerDriver::ExpireDials(core::Time now) {
  for (auto it = dial_deadline_.begin(); it != dial_deadline_.end();) {
    const core::ConnectionId c = it->first;
    if (!dialing_.count(c) || authenticating_.count(c)) {
      it = dial_deadline_.erase(it);  // up (auth_timeout governs it now) or gone
      continue;
    }
    if (it->second > now) {
      ++it;
      continue;
    }
    it = dial_deadline_.erase(it);
    const core::PeerAddress address = dialing_.at(c);
    dialing_.erase(c);
    Log(LogLevel::kInfo, "peer at " + address.endpoint + " did not answer within " +
                             std::to_string(options_.connect_timeout.micros() / 1000) +
                             " ms (the core will try others and retry later)");
    {
      std::lock_guard<std::mutex> lock(progress_mu_);
      ++progress_.dial_timeouts;
    }
    MarkReachable(address.endpoint, false);
    auto link = links_.find(c);
    if (link != links_.end()) link->second.link->Close();
    ForgetLink(c);
    peer_->OnConnectFailed(now, address.id);
    Drain(now);
  }
}

void PeerDriver::OnLinkMessage(core::ConnectionId c, std::optional<Decoded> d,
                               std::string error, size_t cost) {
  auto it = links_.find(c);
  if (it == links_.end()) return;  // we already closed it
  core::Time now = SteadyNow();
  if (authenticating_.count(c)) {
    // The core has not heard of this connection yet: a message here is the
    // remote's, out of turn, and ends the exchange like a bad proof (for a
    // dial, the core hears that the dial failed).
    return FailAuth(now, c,
                    d ? "a protocol message before its proof"
                      : "malformed message during the handshake: " + error,
                    d ? core::DisconnectReason::kMessageBeforeHandshake
                      : core::DisconnectReason::kBadHandshake);
  }
  if (!d) {
    LogRemote(now, c, LogLevel::kWarn, "malformed message (" + error + "), disconnecting");
    {
      std::lock_guard<std::mutex> lock(progress_mu_);
      ++progress_.malformed_messages;
    }
    it->second.link->Close();
    ForgetLink(c);
    dialing_.erase(c);
    peer_->OnDisconnected(now, c);
    Drain(now);
    return;
  }
  bool is_piece = std::holds_alternative<core::Piece>(d->message);
  const core::Duration delay = it->second.delay;
  bool direct = inbound_.empty() && delay == core::Duration::Zero() &&
                (!is_piece || down_bucket_.Ready(now));
  if (direct) {
    Deliver(now, c, std::move(*d), cost);
  } else {
    inbound_.push_back(Inbound{now + delay, inbound_seq_++, c, std::move(*d), cost});
    inbound_cost_ += cost;
    std::push_heap(inbound_.begin(), inbound_.end(), LaterInbound());
  }
}

core::Duration PeerDriver::DelayFrom(core::PeerId remote) const {
  return options_.delay_from ? options_.delay_from(remote) : options_.added_delay;
}

void PeerDriver::PumpInbound(core::Time now) {
  while (!inbound_.empty()) {
    const Inbound& front = inbound_.front();
    if (front.due > now) return;
    if (std::holds_alternative<core::Piece>(front.decoded.message) &&
        !down_bucket_.Ready(now)) {
      return;
    }
    std::pop_heap(inbound_.begin(), inbound_.end(), LaterInbound());
    Inbound in = std::move(inbound_.back());
    inbound_.pop_back();
    inbound_cost_ -= in.cost;
    Deliver(now, in.conn, std::move(in.decoded), in.cost);
  }
}

void PeerDriver::Deliver(core::Time now, core::ConnectionId c, Decoded d, size_t cost) {
  auto it = links_.find(c);
  if (it == links_.end()) return;  // closed: its link reads no more anyway
  // Held here, not looked up again: the core may drop the connection.
  const std::shared_ptr<Link> link = it->second.link;
  if (auto* p = std::get_if<core::Piece>(&d.message)) {
    down_bucket_.Take(now, p->block.length);
  }
  pending_conn_ = c;
  pending_payload_ = std::move(d.payload);
  pending_link_ = link;
  pending_cost_ = cost;
  pending_retained_ = false;
  peer_->OnMessage(now, c, d.message);
  Drain(now);
  pending_payload_ = Payload();
  pending_link_.reset();
  // A stored block stays counted until the disk thread has written it.
  if (cost > 0 && !pending_retained_) link->Consumed(cost);
}

void PeerDriver::OnLinkClosed(core::ConnectionId c) {
  core::Time now = SteadyNow();
  auto dial = dialing_.find(c);
  bool known = links_.count(c) > 0;
  const bool authenticating = authenticating_.erase(c) > 0;
  // What gRPC said, e.g. that the remote overran the channel's memory quota.
  const auto state = links_.find(c);
  const std::string why =
      state != links_.end() && state->second.link ? state->second.link->CloseReason() : "";
  ForgetLink(c);
  if (dial != dialing_.end()) {
    core::PeerAddress address = dial->second;
    dialing_.erase(dial);
    Log(LogLevel::kInfo, (authenticating ? "peer at " + address.endpoint +
                                               " closed the connection during the handshake"
                                         : "cannot reach peer at " + address.endpoint) +
                             (why.empty() ? "" : " (" + why + ")") +
                             " (the core will try others and retry later)");
    if (!authenticating) MarkReachable(address.endpoint, false);
    peer_->OnConnectFailed(now, address.id);
  } else if (authenticating) {
    return;  // inbound, never handed to the Peer
  } else if (known) {
    if (!why.empty()) Log(LogLevel::kInfo, "conn " + std::to_string(c.value()) + " ended: " + why);
    peer_->OnDisconnected(now, c);
  } else {
    return;  // closed by us: the core already forgot it
  }
  Drain(now);
}

void PeerDriver::MarkReachable(const std::string& endpoint, bool reachable) {
  if (reachable) {
    unreachable_.erase(endpoint);
  } else if (unreachable_.size() < kMaxUnreachableKept) {
    unreachable_.insert(endpoint);
  }
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.unreachable_peers = static_cast<uint32_t>(unreachable_.size());
}

void PeerDriver::ForgetLink(core::ConnectionId c) {
  links_.erase(c);
  // Each entry holds a received message (a Piece: its block), which would
  // otherwise wait for its turn at the download limit although nothing
  // counts it any more: a peer reconnecting over and over could pile up
  // blocks without bound.
  auto from_c = [c](const Inbound& in) { return in.conn == c; };
  if (std::none_of(inbound_.begin(), inbound_.end(), from_c)) return;
  inbound_.erase(std::remove_if(inbound_.begin(), inbound_.end(), from_c), inbound_.end());
  std::make_heap(inbound_.begin(), inbound_.end(), LaterInbound());
  inbound_cost_ = 0;
  for (const Inbound& in : inbound_) inbound_cost_ += in.cost;
}

void PeerDriver::DoConnect(const core::PeerAddress& address) {
  core::ConnectionId c(next_conn_++);
  if (address.endpoint.empty()) {
    deferred_.push_back([this, id = address.id](core::Time now) {
      peer_->OnConnectFailed(now, id);
    });
    return;
  }
  dialing_[c] = address;
  dial_deadline_[c] = SteadyNow() + options_.connect_timeout;
  links_[c] = LinkState{dialer_->Dial(address.endpoint, MakeHandlers(c, 2)),
                        DelayFrom(address.id), std::nullopt};
}

void PeerDriver::DoAnnounce(const core::Announce& a) {
  core::AnnounceRequest req;
  req.info_hash = info_.info_hash();
  req.peer = core::PeerAddress{id(), options_.endpoint};
  req.event = a.event;
  req.uploaded = a.uploaded;
  req.downloaded = a.downloaded;
  req.left = a.left;
  req.numwant = a.numwant;
  ++announces_in_flight_;
  std::shared_ptr<EventLoop> loop = loop_;
  tracker_->Announce(req, *identity_,
                     [this, loop, a](std::optional<core::AnnounceResponse> resp,
                                     std::string error) {
    loop->Post([this, a, resp = std::move(resp), error] {
      --announces_in_flight_;
      core::Time now = SteadyNow();
      if (!resp) {
        if (stopping_) return;
        announce_backoff_ = std::min(kMaxAnnounceRetry,
                                     announce_backoff_ == core::Duration::Zero()
                                         ? kFirstAnnounceRetry
                                         : announce_backoff_ * 2);
        Log(LogLevel::kWarn, error + "; retrying announce in " +
                                 std::to_string(announce_backoff_.micros() / 1000000) + "s");
        announce_retry_ = std::make_pair(now + announce_backoff_, a);
        return;
      }
      announce_backoff_ = core::Duration::Zero();
      if (!resp->failure_reason.empty()) {
        // The core asks again after min_reannounce_interval.
        Log(LogLevel::kWarn, "tracker refused announce (event " +
                                 std::string(core::AnnounceEventName(a.event)) +
                                 "): " + resp->failure_reason);
      }
      Log(LogLevel::kDebug, "tracker: " + std::to_string(resp->peers.size()) + " peers, " +
                                std::to_string(resp->seeds) + " seeds");
      peer_->OnTrackerResponse(now, *resp);
      Drain(now);
    });
  });
}

// Writes, hashes and the final rename run in order on the disk thread, so
// the driver thread keeps serving the protocol meanwhile. Reads for uploads
// stay on the driver thread: they touch only verified pieces, whose writes
// finished before their verification was reported.
//
// A block waiting for the disk keeps its received bytes, so it stays
// counted against its link's read-ahead and the read budget (Link::Retain)
// until written: a slow disk holds the links back instead of letting the
// queue grow. That cannot deadlock: the disk thread never waits for the
// network, so every retained block is released in time.
void PeerDriver::DoStore(const core::StoreBlock& s) {
  SWARM_CHECK(s.conn == pending_conn_ && pending_payload_.size() == s.block.length &&
              !pending_retained_);
  std::shared_ptr<Link> link;
  const size_t cost = pending_cost_;
  if (pending_link_ && cost > 0) {
    link = pending_link_;
    link->Retain(cost);
    pending_retained_ = true;
    disk_queued_peak_ = std::max(disk_queued_peak_, disk_queued_ += cost);
  }
  PostToDisk([this, link, cost, block = s.block, data = std::move(pending_payload_)] {
    // Written or not, the block leaves the queue.
    auto release = [&] {
      if (!link) return;
      disk_queued_ -= cost;
      link->ReleaseRetained(cost);
    };
    if (disk_failed_) {  // the driver is stopping; keep the disk as it is
      discarded_bytes_ += block.length;
      release();
      return;
    }
    if (options_.before_block_write) options_.before_block_write();
    std::string error;
    if (!store_->WriteBlock(block, data, &error)) {
      discarded_bytes_ += block.length;
      FailDisk(error, /*partial_file_lost=*/false);
    }
    release();
  });
  pending_payload_ = Payload();
}

void PeerDriver::DoVerify(core::PieceIndex p) {
  std::shared_ptr<EventLoop> loop = loop_;
  PostToDisk([this, loop, p] {
    // After a failed write a piece is neither good nor bad: reporting it
    // failed would blame (and ban) the peers that sent it for our disk. It
    // stays unverified; the driver is about to stop.
    if (disk_failed_) return;
    if (!PartialFileIntact()) return;
    bool ok = store_->VerifyPiece(p);
    // Checked once per piece (one fstat): a partial file deleted under us
    // (e.g. with its folder) would otherwise take the whole download into
    // oblivion, noticed only when the final rename fails.
    if (!store_->is_final() && store_->Unlinked()) {
      // Another file under the name (moved there) is not ours: it is
      // neither resumed from now nor described as our download.
      const bool replaced = PieceStore::StampOf(store_->path()).has_value();
      FailDisk(store_->path() +
                   (replaced ? " was replaced by another file during the download"
                             : " was deleted during the download") +
                   "; stopping (what it held is gone with it)",
               /*partial_file_lost=*/true);
      return;
    }
    loop->Post([this, p, ok] { OnVerified(SteadyNow(), p, ok); });
  });
}

bool PeerDriver::PartialFileIntact() {
  if (store_->is_final() || !store_->PartialWrittenByOthers()) return true;
  const std::string path = store_->path();
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<core::PieceIndex> lost = store_->ReverifyVerified();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", took);
  if (lost.empty()) {
    Log(LogLevel::kWarn, path + " was written to by another program during the download; "
                                "every piece verified so far still matches its SHA-256 "
                                "(re-checked in " + std::string(secs) + " s), so it goes on");
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.pieces_lost = static_cast<uint32_t>(lost.size());
    progress_.completion_time.reset();  // if it had completed: no longer
  }
  FailDisk(path + " was written to by another program during the download: " +
               std::to_string(lost.size()) +
               (lost.size() == 1 ? " verified piece no longer matches its"
                                 : " verified pieces no longer match their") +
               " SHA-256 (first: piece " +
               std::to_string(lost.front().value()) +
               "); stopping, so that they are neither served nor kept as the download "
               "(nothing else may write into the partial file while swarm get runs)",
           /*partial_file_lost=*/false);
  return false;
}

void PeerDriver::FailDisk(std::string error, bool partial_file_lost) {
  disk_failed_ = true;
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.fatal_error = std::move(error);
    progress_.partial_file_lost = partial_file_lost;
  }
  // Leave now, as Stop() would, instead of receiving (and discarding)
  // blocks until the owner notices the error.
  loop_->Post([this] {
    if (stopping_) return;
    core::Time now = SteadyNow();
    stopping_ = true;
    stop_deadline_ = now + kDiskFailureGrace;
    peer_->OnStop(now);
    Drain(now);
  });
}

// One warning per ban, counted by the core: a peer banned while not
// connected (its last bad piece verified after it left) is warned of too,
// unnamed, and a ban is never warned of twice.
void PeerDriver::WarnNewBans() {
  const uint32_t banned = peer_->stats().peers_banned;
  std::sort(banned_names_.begin(), banned_names_.end());
  banned_names_.erase(std::unique(banned_names_.begin(), banned_names_.end()),
                      banned_names_.end());
  size_t named = 0;
  for (; bans_warned_ < banned; ++bans_warned_) {
    WarnBanned(named < banned_names_.size() ? std::optional(banned_names_[named++])
                                            : std::nullopt);
  }
  banned_names_.clear();
}

void PeerDriver::WarnBanned(std::optional<core::PeerId> remote) {
  std::string who = remote ? "peer " + std::to_string(remote->value()) : "a peer";
  std::string msg = who + " is banned: it sent data that failed SHA-256 verification";
  // The core forgets a banned peer and never dials it again: if it was the
  // only one, nothing will arrive until the tracker names another.
  if (!peer_->is_seed() && peer_->connection_count() == 0) {
    msg += "; no other peer is connected, so the download cannot progress until "
           "another peer (one whose copy is intact) appears";
  }
  Log(LogLevel::kWarn, msg);
}

void PeerDriver::OnVerified(core::Time now, core::PieceIndex p, bool ok) {
  if (!ok) {
    Log(LogLevel::kWarn, "piece " + std::to_string(p.value()) +
                             " failed SHA-256 verification; discarded");
  }
  peer_->OnPieceVerified(now, p, ok);
  if (ok && peer_->have().Count() > initial_have_.Count()) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    if (!progress_.first_piece_time) progress_.first_piece_time = now;
  }
  Drain(now);
}

void PeerDriver::DoCompleted(core::Time now) {
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.completion_time = now;
  }
  Publish(now);  // readers see seed == true together with completion_time
  PostToDisk([this] {
    // The last look before the download takes the final name: a piece
    // changed by another program since it was verified would be renamed
    // into place as complete. One fstat, and a re-hash only if it changed
    // (a re-hash every time would cost 0.16 s per 256 MiB).
    if (disk_failed_ || !PartialFileIntact()) return;
    std::string error;
    bool ok = store_->Finalize(&error);
    {
      std::lock_guard<std::mutex> lock(progress_mu_);
      if (ok) progress_.file_complete = true;
      if (!ok) progress_.fatal_error = error;
    }
    Log(ok ? LogLevel::kInfo : LogLevel::kError,
        ok ? "completed: " + store_->final_path() : error);
  });
}

void PeerDriver::PumpUploads(core::Time now) {
  while (!uploads_.empty() && up_bucket_.Ready(now) && !uploads_held_) {
    Upload u = uploads_.front();
    uploads_.pop_front();
    auto it = links_.find(u.conn);
    if (it == links_.end()) continue;
    std::string error;
    bool ask_disk_thread = false;
    std::optional<Payload> data = store_->ReadBlock(u.block, &error, &ask_disk_thread);
    // From ReadBlock's own answer: partial_check_wanted() alone raced the
    // disk thread, whose next write could clear it in between, and a
    // refusal meant for the disk thread then stopped the download (a CI
    // run of net_e2e_swarm, 2026-11-28: "our own write overlapped the
    // check; asking the disk thread", 56 of 128 pieces).
    if (!data && (ask_disk_thread || store_->partial_check_wanted())) {
      // Another program may have written into the partial file: nothing is
      // sent until the disk thread has looked and, if so, re-verified what
      // we hold (and stopped the download if a verified piece no longer
      // matches).
      uploads_.push_front(u);
      uploads_held_ = true;
      std::shared_ptr<EventLoop> loop = loop_;
      PostToDisk([this, loop] {
        if (disk_failed_ || !PartialFileIntact()) return;
        loop->Post([this] {
          uploads_held_ = false;
          PumpUploads(SteadyNow());
        });
      });
      return;
    }
    if (!data) {
      std::lock_guard<std::mutex> lock(progress_mu_);
      progress_.changed_on_disk = store_->changed_on_disk();
      progress_.fatal_error =
          store_->changed_on_disk()
              ? store_->final_path() +
                    " was modified after it was hashed; its pieces may no longer match what "
                    "was published, so it is no longer served"
              : error;
      return;
    }
    if (options_.corrupt_uploads && !data->empty()) {
      std::string bad = data->ToString();
      bad[0] ^= 0x5a;
      data = Payload(std::move(bad));
    }
    up_bucket_.Take(now, u.block.length);
    it->second.link->Send(EncodePieceFrame(u.block, std::move(*data)), u.block);
  }
}

void PeerDriver::Publish(core::Time now) {
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.pieces = static_cast<uint32_t>(peer_->have().Count());
  progress_.have = peer_->have();
  progress_.left = peer_->left();
  progress_.stats = peer_->stats();  // Progress() adds discarded_bytes_
  progress_.connections = peer_->connection_count();
  progress_.read_buffered = read_budget_->used();
  progress_.inbound_waiting = inbound_cost_;
  progress_.disk_queued = disk_queued_.load();
  progress_.disk_queued_peak = disk_queued_peak_;
  progress_.seed = peer_->is_seed();
}

void PeerDriver::Log(LogLevel level, const std::string& msg) {
  if (options_.log) options_.log(level, msg);
}

void PeerDriver::LogRemote(core::Time now, core::ConnectionId c, LogLevel level,
                           const std::string& msg) {
  auto it = links_.find(c);
  const std::string host =
      it != links_.end() && it->second.link ? it->second.link->RemoteHost() : "";
  const bool allowed = remote_log_.Allow(now, host);
  LogSummaries(remote_log_.TakeSummaries(now));  // one of the host's, if its interval rolled
  if (allowed) {
    Log(level, "conn " + std::to_string(c.value()) + (host.empty() ? "" : " from " + host) +
                   ": " + msg);
  }
}

void PeerDriver::LogSummaries(std::vector<std::string> summaries) {
  for (const std::string& line : summaries) Log(LogLevel::kWarn, line);
}

}  // namespace swarm::net
