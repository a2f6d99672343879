#include "net-real/tracker_rpc.h"

#include <arpa/inet.h>
#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iterator>
#include <limits>
#include <mutex>
#include <string_view>

#include "core/check.h"
#include "core/rng.h"
#include "net-real/event_loop.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "proto/tracker.grpc.pb.h"

namespace swarm::net {
namespace {

std::optional<core::InfoHash> HashFromBytes(const std::string& b) {
  core::InfoHash h;
  if (b.size() != h.size()) return std::nullopt;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

// Where the tracker lists an announcing peer: the announced port at the
// address its request came from (`peer`, as gRPC reports it). The
// announced host is kept only when `trust_announced_host` is set and it
// is neither empty nor a wildcard. An empty endpoint (a peer that takes no
// connections) stays empty.
std::string ResolveEndpoint(const std::string& endpoint, const std::string& peer,
                            bool trust_announced_host) {
  auto last = endpoint.rfind(':');
  if (last == std::string::npos) return endpoint;
  std::string host = endpoint.substr(0, last);
  if (trust_announced_host && !host.empty() && host != "0.0.0.0" && host != "[::]") {
    return endpoint;
  }
  return HostOfGrpcPeer(peer) + endpoint.substr(last);
}

bool IsLoopbackHost(std::string_view host) {
  return host.substr(0, 4) == "127." || host == "[::1]" || host == "::1" || host == "localhost";
}

std::string_view HostOfHostPort(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[' && host_port.back() == ']') return host_port;
  const size_t colon = host_port.rfind(':');
  return colon == std::string_view::npos ? host_port : host_port.substr(0, colon);
}

}  // namespace

// A peer on the tracker's own machine that announced over loopback is listed
// at a loopback address, which only that machine can dial. The seed started
// next to the tracker with `--tracker 127.0.0.1:7070` (as in a walkthrough)
// would be out of reach of every other machine, and learn of them only at
// its next announce, up to half an hour later. So a requester that reached
// the tracker from elsewhere gets such a peer at the address it dialed the
// tracker at (the call's authority): the same machine, seen from outside.
std::string EndpointForRequester(const std::string& listed, std::string_view requester_host,
                                 std::string_view authority) {
  const size_t colon = listed.rfind(':');
  if (colon == std::string::npos) return listed;
  const std::string_view tracker_host = HostOfHostPort(authority);
  if (!IsLoopbackHost(std::string_view(listed).substr(0, colon)) ||
      IsLoopbackHost(requester_host) || tracker_host.empty() || IsLoopbackHost(tracker_host) ||
      !ValidPeerEndpoint(std::string(tracker_host) + listed.substr(colon))) {
    return listed;
  }
  return std::string(tracker_host) + listed.substr(colon);
}

namespace {

void ToProto(const core::FileEntry& e, wire::FileSummary* out) {
  out->set_name(e.name);
  out->set_length(static_cast<uint64_t>(e.length));
  out->set_piece_length(static_cast<uint64_t>(e.piece_length));
  out->set_piece_count(e.piece_count);
  out->set_info_hash(e.info_hash.data(), e.info_hash.size());
  out->set_seeds(e.seeds);
  out->set_leechers(e.leechers);
}

core::FileEntry FromProto(const wire::FileSummary& f) {
  core::FileEntry e;
  e.name = f.name();
  e.length = static_cast<core::Bytes>(f.length());
  e.piece_length = static_cast<core::Bytes>(f.piece_length());
  e.piece_count = f.piece_count();
  if (auto h = HashFromBytes(f.info_hash())) e.info_hash = *h;
  e.seeds = f.seeds();
  e.leechers = f.leechers();
  return e;
}

// Names gRPC reads as a target scheme when they come before the first ':'
// ("unix:6881" is the Unix socket "6881", not host "unix" port 6881).
bool IsGrpcScheme(std::string_view host) {
  static const char* const kSchemes[] = {"dns",  "unix", "unix-abstract", "ipv4", "ipv6",
                                         "xds",  "google-c2p", "google-c2p-experimental",
                                         "vsock", "fake"};
  return std::any_of(std::begin(kSchemes), std::end(kSchemes), [&](const char* s) {
    const std::string_view scheme(s);
    return host.size() == scheme.size() &&
           std::equal(host.begin(), host.end(), scheme.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  });
}

bool ValidHost(std::string_view host) {
  if (IsGrpcScheme(host)) return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

bool ValidPeerEndpoint(const std::string& endpoint) {
  constexpr size_t kMaxEndpoint = 300;
  if (endpoint.empty()) return true;  // not reachable: never dialed (PeerDriver)
  auto colon = endpoint.rfind(':');
  if (endpoint.size() > kMaxEndpoint || colon == std::string::npos) return false;
  std::string_view port(endpoint);
  port.remove_prefix(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int p = std::stoi(std::string(port));
  return p >= 1 && p <= 65535 && ValidHost(std::string_view(endpoint).substr(0, colon));
}

namespace {

// Bytes of a varint holding `v` (protobuf's encoding: 7 bits a byte).
uint64_t VarintBytes(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A length-delimited field of `size` bytes with a one-byte tag.
uint64_t DelimitedBytes(uint64_t size) { return 1 + VarintBytes(size) + size; }

// A varint field with a one-byte tag; proto3 leaves out a zero.
uint64_t VarintFieldBytes(uint64_t v) { return v == 0 ? 0 : 1 + VarintBytes(v); }

}  // namespace

uint64_t LookupAnswerBytes(std::string_view name, uint64_t length, uint64_t piece_length) {
  // Fields of tracker.proto's TorrentMeta and LookupResponse, all with
  // numbers below 16 (one-byte tags); an empty bytes or string field is
  // left out.
  const uint64_t pieces = piece_length == 0 ? 0 : (length + piece_length - 1) / piece_length;
  const uint64_t hashes = 32 * pieces;
  const uint64_t meta = (name.empty() ? 0 : DelimitedBytes(name.size())) +
                        VarintFieldBytes(length) + VarintFieldBytes(piece_length) +
                        (hashes == 0 ? 0 : DelimitedBytes(hashes));
  return VarintFieldBytes(1) /* found */ + DelimitedBytes(meta);
}

std::optional<std::string> TrackerMessageProblem(std::string_view name, uint64_t length,
                                                 uint64_t piece_length) {
  const uint64_t bytes = LookupAnswerBytes(name, length, piece_length);
  if (piece_length == 0 || bytes <= uint64_t{kMaxTrackerMessageBytes}) return std::nullopt;
  const uint64_t pieces = (length + piece_length - 1) / piece_length;
  const uint64_t overhead = bytes - 32 * pieces;
  return std::to_string(pieces) + " pieces make a tracker message of " + std::to_string(bytes) +
         " bytes (32 per piece hash), over the tracker's limit of " +
         std::to_string(kMaxTrackerMessageBytes) + " bytes: at most " +
         std::to_string((uint64_t{kMaxTrackerMessageBytes} - overhead) / 32) + " pieces";
}

uint64_t WallClockMicros() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

// --- Replay guard ----------------------------------------------------------

namespace {

// "12.3 s" for a count of microseconds.
std::string Seconds(uint64_t us) {
  return std::to_string(us / 1000000) + "." + std::to_string(us / 100000 % 10) + " s";
}

}  // namespace

AnnounceReplayGuard::AnnounceReplayGuard(uint64_t window_us, size_t capacity)
    : window_us_(window_us), capacity_(capacity) {
  SWARM_CHECK(capacity_ > 0);
}

std::optional<std::string> AnnounceReplayGuard::Check(const core::InfoHash& hash,
                                                      core::PeerId id, uint64_t counter,
                                                      uint64_t now_us) const {
  if (counter > now_us && counter - now_us > window_us_) {
    return "announce counter is " + Seconds(counter - now_us) +
           " ahead of the tracker's clock (at most " + Seconds(window_us_) +
           " allowed): check the announcing machine's clock";
  }
  if (counter < now_us && now_us - counter > window_us_) {
    return "announce counter is " + Seconds(now_us - counter) +
           " behind the tracker's clock (at most " + Seconds(window_us_) +
           " allowed): a replay, or the announcing machine's clock is wrong";
  }
  auto it = last_.find(Key(hash, id.value()));
  if (it != last_.end()) {
    if (counter <= it->second) {
      return "replayed or out-of-order announce: counter " + std::to_string(counter) +
             " is not above " + std::to_string(it->second) +
             ", the last one accepted from peer " + std::to_string(id.value()) +
             " for this file";
    }
  } else if (counter <= floor_) {
    return "announce counter " + std::to_string(counter) +
           " is older than the announces the tracker still remembers (a replay, or a " +
           "stale announce: a new one will do)";
  }
  return std::nullopt;
}

void AnnounceReplayGuard::Accept(const core::InfoHash& hash, core::PeerId id, uint64_t counter,
                                 uint64_t now_us) {
  // Counters the window refuses anyway need no remembering.
  const uint64_t too_old = now_us > window_us_ ? now_us - window_us_ : 0;
  while (!by_counter_.empty() && by_counter_.begin()->first <= too_old) ForgetOldest();
  const Key key(hash, id.value());
  auto [it, fresh] = last_.try_emplace(key, counter);
  if (!fresh) {
    by_counter_.erase({it->second, key});
    it->second = counter;
  }
  by_counter_.insert({counter, key});
  while (last_.size() > capacity_) ForgetOldest();
}

void AnnounceReplayGuard::ForgetOldest() {
  auto oldest = by_counter_.begin();
  floor_ = std::max(floor_, oldest->first);
  last_.erase(oldest->second);
  by_counter_.erase(oldest);
}

// --- Answers ---------------------------------------------------------------

namespace {

// The rate a tracker message is allowed to cross a link at.
std::chrono::milliseconds TransferTime(size_t bytes) {
  constexpr uint64_t kBytesPerSecond = 512 * 1024;
  return std::chrono::milliseconds(uint64_t{bytes} * 1000 / kBytesPerSecond);
}

}  // namespace

std::chrono::milliseconds AnswerSendDeadline(size_t bytes) {
  return std::chrono::milliseconds(10000) + TransferTime(bytes);
}

std::chrono::milliseconds TrackerAnswerDeadline(std::chrono::milliseconds start) {
  return start + AnswerSendDeadline(kMaxTrackerMessageBytes);
}

std::chrono::milliseconds TrackerPublishDeadline(size_t request_bytes,
                                                 std::chrono::milliseconds start) {
  return start + TransferTime(request_bytes);
}

std::string AnswerClientOf(const std::string& host) {
  if (host.size() < 2 || host.front() != '[' || host.back() != ']') return host;
  in6_addr a{};
  const std::string inner = host.substr(1, host.size() - 2);
  if (inet_pton(AF_INET6, inner.c_str(), &a) != 1) return host;
  std::fill(std::begin(a.s6_addr) + 8, std::end(a.s6_addr), 0);
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, &a, text, sizeof text)) return host;
  return "[" + std::string(text) + "]/64";
}

// What is held, in all and by each client. Guarded by mu: holds are
// taken on the tracker's loop and let go on any thread.
struct TrackerAnswers::Ledger {
  struct Client {
    size_t bytes = 0;  // of the distinct answers below
    std::map<const std::string*, uint32_t> holds;  // calls holding each
  };
  Ledger(size_t b, size_t s) : budget(b), share(s) {}
  const size_t budget, share;
  mutable std::mutex mu;
  size_t held = 0;  // bytes of the answers alive
  std::map<std::string, Client> clients;
};

TrackerAnswers::TrackerAnswers(size_t budget_bytes, size_t client_share_bytes)
    : ledger_(std::make_shared<Ledger>(budget_bytes, client_share_bytes)) {}

TrackerAnswers::~TrackerAnswers() = default;

namespace {

std::string Mib(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

TrackerAnswers::Hold TrackerAnswers::Shared(const std::string& client, const std::string& key,
                                            const std::function<std::string()>& build,
                                            std::string* busy) {
  std::shared_ptr<const std::string> answer;
  if (auto it = shared_.find(key); it != shared_.end()) answer = it->second.lock();
  std::string made;
  if (!answer) made = build();
  const size_t n = answer ? answer->size() : made.size();
  std::shared_ptr<Ledger> ledger = ledger_;
  {
    // Holders on other threads only give back, so what is read here can
    // only have dropped by the time it is counted.
    std::lock_guard<std::mutex> lock(ledger->mu);
    auto found = ledger->clients.find(client);
    const bool holds_it =
        answer && found != ledger->clients.end() && found->second.holds.count(answer.get());
    const size_t client_bytes = found == ledger->clients.end() ? 0 : found->second.bytes;
    if (!holds_it && client_bytes + n > ledger->share) {
      *busy = "tracker busy: answers of " + Mib(client_bytes) + " still being sent to " +
              client + " (at most " + Mib(ledger->share) + " at once); try again shortly";
      return nullptr;
    }
    if (!answer && ledger->held + n > ledger->budget) {
      *busy = "tracker busy: " + Mib(ledger->held) +
              " of answers still being sent; try again shortly";
      return nullptr;
    }
    if (!answer) {
      ledger->held += n;
      answer = std::shared_ptr<const std::string>(
          new std::string(std::move(made)), [ledger](const std::string* a) {
            {
              std::lock_guard<std::mutex> lock(ledger->mu);
              ledger->held -= a->size();
            }
            delete a;
          });
      shared_[key] = answer;
      if (shared_.size() >= prune_at_) Prune();
    }
    Ledger::Client& c = ledger->clients[client];
    if (c.holds[answer.get()]++ == 0) c.bytes += n;
  }
  const std::string* bytes = answer.get();
  // The hold's deleter keeps the answer until the call lets go.
  return Hold(bytes, [ledger, client, answer = std::move(answer)](const std::string*) mutable {
    {
      std::lock_guard<std::mutex> lock(ledger->mu);
      auto it = ledger->clients.find(client);
      auto h = it->second.holds.find(answer.get());
      if (--h->second == 0) {
        it->second.bytes -= answer->size();
        it->second.holds.erase(h);
        if (it->second.holds.empty()) ledger->clients.erase(it);
      }
    }
    answer.reset();  // takes the lock again if it was the last
  });
}

bool TrackerAnswers::Holds(const std::string& key) const {
  auto it = shared_.find(key);
  return it != shared_.end() && !it->second.expired();
}

size_t TrackerAnswers::held_bytes() const {
  std::lock_guard<std::mutex> lock(ledger_->mu);
  return ledger_->held;
}

size_t TrackerAnswers::client_bytes(const std::string& client) const {
  std::lock_guard<std::mutex> lock(ledger_->mu);
  auto it = ledger_->clients.find(client);
  return it == ledger_->clients.end() ? 0 : it->second.bytes;
}

void TrackerAnswers::Prune() {
  std::erase_if(shared_, [](const auto& entry) { return entry.second.expired(); });
  // Pruned again once the entries left have doubled: amortized O(1) each.
  prune_at_ = std::max<size_t>(16, 2 * shared_.size());
}

// Calls whose answer gRPC must have sent by a deadline, and cancels those
// still going at it. Each entry holds a reference on its call, so that a
// call cancelled here after it ended is still a valid (finished) call.
// Entries are added on the tracker's loop, which also expires them;
// forgotten on a gRPC thread when a call ends. Thread-safe.
class SendDeadlines {
 public:
  ~SendDeadlines() {
    for (auto& [id, entry] : entries_) grpc_call_unref(entry.call);
  }
  uint64_t Add(grpc_call* call, core::Time at, std::string why) {
    grpc_call_ref(call);
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = ++last_id_;
    entries_.emplace(id, Entry{call, at, std::move(why)});
    by_time_.emplace(at, id);
    return id;
  }
  void Forget(uint64_t id) {
    grpc_call* call = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) return;  // expired already
      call = it->second.call;
      by_time_.erase({it->second.at, id});
      entries_.erase(it);
    }
    grpc_call_unref(call);
  }
  std::optional<core::Time> Next() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (by_time_.empty()) return std::nullopt;
    return by_time_.begin()->first;
  }
  // Cancels the calls whose deadline is at or before `now`.
  void Expire(core::Time now) {
    std::vector<Entry> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (!by_time_.empty() && by_time_.begin()->first <= now) {
        auto it = entries_.find(by_time_.begin()->second);
        due.push_back(std::move(it->second));
        entries_.erase(it);
        by_time_.erase(by_time_.begin());
      }
    }
    // Outside the lock: the call's OnDone may run within the cancel.
    for (Entry& e : due) {
      grpc_call_cancel_with_status(e.call, GRPC_STATUS_DEADLINE_EXCEEDED, e.why.c_str(),
                                   nullptr);
      grpc_call_unref(e.call);
      ++cancelled_;
    }
  }
  uint64_t cancelled() const { return cancelled_.load(); }

 private:
  struct Entry {
    grpc_call* call;
    core::Time at;
    std::string why;
  };
  mutable std::mutex mu_;
  std::map<uint64_t, Entry> entries_;
  std::set<std::pair<core::Time, uint64_t>> by_time_;
  uint64_t last_id_ = 0;
  std::atomic<uint64_t> cancelled_{0};
};

// --- Server ---------------------------------------------------------------

namespace {

// A buffer gRPC sends `answer` from without copying it: the slice keeps the
// hold alive until gRPC lets go of it.
grpc::ByteBuffer BufferOf(TrackerAnswers::Hold answer) {
  if (answer->empty()) {
    grpc::Slice empty;
    return grpc::ByteBuffer(&empty, 1);
  }
  auto* hold = new TrackerAnswers::Hold(std::move(answer));
  grpc::Slice slice(const_cast<char*>((*hold)->data()), (*hold)->size(),
                    [](void* h) { delete static_cast<TrackerAnswers::Hold*>(h); }, hold);
  return grpc::ByteBuffer(&slice, 1);
}

// A Lookup or ListFiles call. Served as a generic call, so that its answer
// is written first and the call finished only once gRPC has sent it
// (OnWriteDone): gRPC takes a connection whose calls are all finished
// for idle, even while their answers are still being sent, and closes it
// after kServerIdleConnectionMs; that cut off a client reading a 64 MiB
// answer at 1 MiB/s after 60 s. Once its answer is handed to gRPC, the
// call is cancelled if it has not ended by the answer's send deadline.
class AnswerCall : public grpc::ServerGenericBidiReactor {
 public:
  // Runs on a gRPC thread with the call's one request message.
  using Handler = std::function<void(AnswerCall*, grpc::ByteBuffer request)>;
  AnswerCall(grpc::GenericCallbackServerContext* ctx, std::shared_ptr<SendDeadlines> deadlines,
             Handler handler)
      : ctx_(ctx), deadlines_(std::move(deadlines)), handler_(std::move(handler)) {}

  // Reads the request and hands it to the handler.
  void Start() { StartRead(&request_); }

  // Sends `answer`, which gRPC must have sent within `allowed`, and then
  // ends the call.
  void Answer(TrackerAnswers::Hold answer, std::chrono::milliseconds allowed) {
    const size_t bytes = answer->size();
    id_ = deadlines_->Add(ctx_->c_call(),
                          SteadyNow() + core::Duration::Micros(allowed.count() * 1000),
                          "tracker: answer of " + std::to_string(bytes) +
                              " bytes not taken within " +
                              std::to_string(allowed.count() / 1000) + " s");
    response_ = BufferOf(std::move(answer));
    StartWrite(&response_);
  }
  // Ends the call without an answer.
  void Refuse(const grpc::Status& status) { Finish(status); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
    handler_(this, std::move(request_));
  }
  void OnWriteDone(bool ok) override {
    response_.Clear();
    Finish(ok ? grpc::Status::OK
              : grpc::Status(grpc::StatusCode::CANCELLED, "answer not sent"));
  }
  void OnDone() override {
    if (id_ != 0) deadlines_->Forget(id_);
    delete this;
  }

 private:
  grpc::GenericCallbackServerContext* ctx_;
  std::shared_ptr<SendDeadlines> deadlines_;
  Handler handler_;
  grpc::ByteBuffer request_, response_;
  uint64_t id_ = 0;  // set before StartWrite; read in OnDone, after it
};

// Whether two listings say the same.
bool SameListing(const std::vector<core::FileEntry>& a, const std::vector<core::FileEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const core::FileEntry& x, const core::FileEntry& y) {
                      return x.name == y.name && x.length == y.length &&
                             x.piece_length == y.piece_length &&
                             x.piece_count == y.piece_count && x.info_hash == y.info_hash &&
                             x.seeds == y.seeds && x.leechers == y.leechers;
                    });
}

}  // namespace

// Lookup and ListFiles are generic methods (AnswerCall): their answers are
// serialized once (TrackerAnswers) and handed to gRPC as they are.
using TrackerServiceBase = wire::Tracker::WithGenericMethod_Lookup<
    wire::Tracker::WithGenericMethod_ListFiles<wire::Tracker::CallbackService>>;

class TrackerService : public TrackerServiceBase {
 public:
  TrackerService(std::shared_ptr<EventLoop> loop, core::Tracker* tracker,
                 AnnounceReplayGuard* guard, TrackerServerOptions options)
      : loop_(std::move(loop)), tracker_(tracker), guard_(guard), options_(options),
        answers_(options.answer_budget_bytes, options.answer_client_share_bytes) {}

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* ctx,
                                    const wire::PublishRequest* req,
                                    wire::PublishResponse* resp) override {
    auto* r = ctx->DefaultReactor();
    std::string why;
    auto info = net::FromProto(req->torrent(), &why);
    if (!info) {
      r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed torrent: " + why));
      return r;
    }
    // Its Lookup answer, 2 bytes larger than this request, could not be sent.
    if (auto problem = TrackerMessageProblem(info->name(), static_cast<uint64_t>(info->length()),
                                             static_cast<uint64_t>(info->piece_length()))) {
      r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, *problem));
      return r;
    }
    loop_->Post([this, r, resp, info = std::move(*info), host = HostOfGrpcPeer(ctx->peer())] {
      // A name no `swarm get` can store (over kMaxFileNameBytes: its
      // partial file's name would not fit) is not listed: the core's own
      // rule, for the simulator, allows up to 255 bytes.
      if (!SafeFileName(info.name())) {
        return FinishPublish(r, resp, info, core::PublishResult::kInvalid);
      }
      if (auto why = OverHostLimit(host, info.info_hash())) {
        r->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, *why));
        return;
      }
      const core::PublishResult result = tracker_->Publish(SteadyNow(), info);
      if (result == core::PublishResult::kPublished) Published(host, info.info_hash());
      FinishPublish(r, resp, info, result);
    });
    return r;
  }

  // A new service for the methods marked generic above, for a new server:
  // gRPC registers a generic service with one server only. REQUIRES: the
  // server of the last one is gone.
  grpc::CallbackGenericService* NewAnswerCalls() {
    answer_calls_ = std::make_unique<AnswerCalls>(this);
    return answer_calls_.get();
  }

  // The tracker's loop calls it when it wakes: cancels the calls whose
  // answer is overdue.
  void ExpireSends(core::Time now) { deadlines_->Expire(now); }
  std::optional<core::Time> NextSendDeadline() const { return deadlines_->Next(); }
  size_t answer_bytes_held() const { return answers_.held_bytes(); }

  grpc::ServerUnaryReactor* Announce(grpc::CallbackServerContext* ctx,
                                     const wire::AnnounceRequest* req,
                                     wire::AnnounceResponse* resp) override {
    auto* r = ctx->DefaultReactor();
    auto hash = HashFromBytes(req->info_hash());
    if (!hash || req->event() < 0 || req->event() > 3) {
      r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed announce"));
      return r;
    }
    // Stored and handed to every other peer: a huge or hostile endpoint
    // would fill the tracker's memory or make every answer too big to send.
    if (!ValidPeerEndpoint(req->endpoint())) {
      r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "endpoint is not HOST:PORT (port 1..65535)"));
      return r;
    }
    core::AnnounceRequest a;
    a.info_hash = *hash;
    a.peer = core::PeerAddress{core::PeerId(req->peer_id()), req->endpoint()};
    a.event = static_cast<core::AnnounceEvent>(req->event());
    a.uploaded = static_cast<core::Bytes>(req->uploaded());
    a.downloaded = static_cast<core::Bytes>(req->downloaded());
    a.left = static_cast<core::Bytes>(req->left());
    a.numwant = req->numwant();
    // The signature covers the endpoint as sent: checked before a host is
    // filled in. (Verifying is pure CPU: done here, off the core's thread.)
    const AnnounceSignature sig{req->public_key(), req->counter(), req->signature()};
    if (auto why = VerifyAnnounce(a, sig)) {
      resp->set_failure_reason(*why);
      r->Finish(grpc::Status::OK);
      return r;
    }
    // Listed at the address the request came from unless told otherwise:
    // an announced host would let any client make every other peer dial
    // a third party.
    a.peer.endpoint =
        ResolveEndpoint(req->endpoint(), ctx->peer(), options_.trust_announced_hosts);
    const grpc::string_ref authority_ref = ctx->ExperimentalGetAuthority();
    std::string authority(authority_ref.data(), authority_ref.size());
    std::string requester_host = HostOfGrpcPeer(ctx->peer());
    // Trusted announced hosts are handed out as announced: a loopback one
    // there was the announcer's choice (or a proxy's), not the address the
    // tracker saw, and must not become the tracker's own address.
    if (options_.trust_announced_hosts) authority.clear();
    loop_->Post([this, r, resp, a, counter = sig.counter, authority = std::move(authority),
                 requester_host = std::move(requester_host)] {
      // Checked and recorded on the core's thread, in arrival order. A
      // signed announce is used once, whatever the core makes of it.
      const uint64_t now_us = WallClockMicros();
      if (auto why = guard_->Check(a.info_hash, a.peer.id, counter, now_us)) {
        resp->set_failure_reason(*why);
        r->Finish(grpc::Status::OK);
        return;
      }
      guard_->Accept(a.info_hash, a.peer.id, counter, now_us);
      core::AnnounceResponse out = tracker_->Announce(SteadyNow(), a);
      resp->set_failure_reason(out.failure_reason);
      resp->set_interval_us(static_cast<uint64_t>(out.interval.micros()));
      for (const auto& p : out.peers) {
        auto* e = resp->add_peers();
        e->set_peer_id(p.id.value());
        e->set_endpoint(EndpointForRequester(p.endpoint, requester_host, authority));
      }
      resp->set_seeds(out.seeds);
      resp->set_leechers(out.leechers);
      r->Finish(grpc::Status::OK);
    });
    return r;
  }

  grpc::ServerUnaryReactor* Scrape(grpc::CallbackServerContext* ctx,
                                   const wire::ScrapeRequest* req,
                                   wire::ScrapeResponse* resp) override {
    auto* r = ctx->DefaultReactor();
    auto hash = HashFromBytes(req->info_hash());
    if (!hash) {
      r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "info_hash is not 32 bytes"));
      return r;
    }
    loop_->Post([this, r, resp, h = *hash] {
      if (auto e = tracker_->Scrape(h)) {
        resp->set_found(true);
        ToProto(*e, resp->mutable_file());
      }
      r->Finish(grpc::Status::OK);
    });
    return r;
  }

 private:
  class AnswerCalls : public grpc::CallbackGenericService {
   public:
    explicit AnswerCalls(TrackerService* service) : service_(service) {}
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
      const std::string method = ctx->method();
      if (method != kLookupMethod && method != kListFilesMethod) {
        auto* refused = new AnswerCall(ctx, service_->deadlines_, nullptr);
        refused->Refuse(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
        return refused;
      }
      auto* call = new AnswerCall(
          ctx, service_->deadlines_,
          [service = service_, lookup = method == kLookupMethod,
           client = AnswerClientOf(HostOfGrpcPeer(ctx->peer()))](AnswerCall* call,
                                                                  grpc::ByteBuffer request) {
            service->Serve(call, lookup, std::move(request), client);
          });
      call->Start();
      return call;
    }

   private:
    TrackerService* service_;
  };

  static constexpr const char* kLookupMethod = "/swarm.wire.Tracker/Lookup";
  static constexpr const char* kListFilesMethod = "/swarm.wire.Tracker/ListFiles";

  // A Lookup (or, if !lookup, ListFiles) call's request, from a gRPC thread.
  void Serve(AnswerCall* call, bool lookup, grpc::ByteBuffer request, const std::string& client) {
    std::string name;
    if (lookup) {
      wire::LookupRequest req;
      if (!grpc::SerializationTraits<wire::LookupRequest>::Deserialize(&request, &req).ok()) {
        return call->Refuse(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed Lookup request"));
      }
      name = std::move(*req.mutable_name());
    }
    const bool posted = loop_->Post([this, call, lookup, name = std::move(name), client] {
      lookup ? AnswerLookup(call, name, client) : AnswerListing(call, client);
    });
    if (!posted) call->Refuse(grpc::Status(grpc::StatusCode::UNAVAILABLE, "tracker stopping"));
  }

  void AnswerListing(AnswerCall* call, const std::string& client) {
    // Built anew only when the listing has changed (or nobody holds the
    // last one): stalled calls share one copy.
    std::vector<core::FileEntry> files = tracker_->ListFiles();
    if (!answers_.Holds(ListingKey()) || !SameListing(files, listed_)) {
      listed_ = std::move(files);
      ++listing_version_;
    }
    std::string busy;
    TrackerAnswers::Hold answer = answers_.Shared(
        client, ListingKey(),
        [this] {
          wire::ListFilesResponse list;
          for (const auto& e : listed_) ToProto(e, list.add_files());
          return list.SerializeAsString();
        },
        &busy);
    Send(call, std::move(answer), busy);
  }

  void AnswerLookup(AnswerCall* call, const std::string& name, const std::string& client) {
    const core::TorrentInfo* info = tracker_->FindByName(name);
    if (!info) {  // found: false
      return call->Answer(std::make_shared<const std::string>(),
                          options_.answer_send_deadline(0));
    }
    // Keyed by info-hash, not name: a name dropped and published again
    // may stand for other contents.
    std::string busy;
    TrackerAnswers::Hold answer = answers_.Shared(
        client, "L" + std::string(info->info_hash().begin(), info->info_hash().end()),
        [info] {
          wire::LookupResponse out;
          out.set_found(true);
          net::ToProto(*info, out.mutable_torrent());
          return out.SerializeAsString();
        },
        &busy);
    Send(call, std::move(answer), busy);
  }

  // Sends `answer`, or RESOURCE_EXHAUSTED and `busy` without one.
  void Send(AnswerCall* call, TrackerAnswers::Hold answer, const std::string& busy) {
    if (!answer) return call->Refuse(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, busy));
    const size_t bytes = answer->size();
    call->Answer(std::move(answer), options_.answer_send_deadline(bytes));
  }

  std::string ListingKey() const { return "F" + std::to_string(listing_version_); }

  void FinishPublish(grpc::ServerUnaryReactor* r, wire::PublishResponse* resp,
                     const core::TorrentInfo& info, core::PublishResult result) {
    resp->set_result(static_cast<wire::PublishResponse::Result>(result));
    resp->set_info_hash(info.info_hash().data(), info.info_hash().size());
    r->Finish(grpc::Status::OK);
  }

  // Why `host` may not publish another file (options_.max_files_per_host),
  // or nullopt. A file the tracker holds already does not count as another.
  std::optional<std::string> OverHostLimit(const std::string& host, const core::InfoHash& hash) {
    if (options_.max_files_per_host == 0 || tracker_->FindByHash(hash)) return std::nullopt;
    auto it = published_by_.find(host);
    if (it == published_by_.end()) return std::nullopt;
    ForgetDropped(&it->second);
    if (it->second.size() < options_.max_files_per_host) return std::nullopt;
    return "this address (" + host + ") has published " + std::to_string(it->second.size()) +
           " of the files the tracker lists, the most it takes from one address " +
           "(swarm tracker --max-files-per-host); files are dropped a minute after their " +
           "last peer left";
  }

  void Published(const std::string& host, const core::InfoHash& hash) {
    published_by_[host].insert(hash);
    // Entries of files the core has dropped are pruned when their host
    // publishes again, and every kPruneEvery publishes all of them: those
    // of hosts gone quiet are never more than that many beyond the files
    // the tracker holds.
    if (++publishes_since_prune_ < kPruneEvery) return;
    publishes_since_prune_ = 0;
    for (auto it = published_by_.begin(); it != published_by_.end();) {
      ForgetDropped(&it->second);
      it = it->second.empty() ? published_by_.erase(it) : std::next(it);
    }
  }

  void ForgetDropped(std::set<core::InfoHash>* hashes) {
    std::erase_if(*hashes, [this](const core::InfoHash& h) { return !tracker_->FindByHash(h); });
  }

  static constexpr uint32_t kPruneEvery = 1024;

  std::shared_ptr<EventLoop> loop_;
  core::Tracker* tracker_;
  AnnounceReplayGuard* guard_;
  const TrackerServerOptions options_;
  // Loop thread only: which files each host published (by the address its
  // request came from) that the tracker may still hold.
  std::map<std::string, std::set<core::InfoHash>> published_by_;
  uint32_t publishes_since_prune_ = 0;
  TrackerAnswers answers_;  // made on the loop thread
  std::shared_ptr<SendDeadlines> deadlines_ = std::make_shared<SendDeadlines>();
  std::unique_ptr<AnswerCalls> answer_calls_;  // of the running server
  // Loop thread only: what the listing answer last made says, and its
  // version (part of its key in answers_).
  std::vector<core::FileEntry> listed_;
  uint64_t listing_version_ = 0;
};

static_assert(std::chrono::milliseconds(kServerMinPingIntervalMs) * 2 <= kTrackerKeepaliveTime,
              "a TrackerServer accepts the keepalive PINGs of a TrackerClient");
static_assert(kServerIdleConnectionMs == 30'000,
              "TrackerServerOptions::idle_connection_ms defaults to it");

TrackerServer::~TrackerServer() { Shutdown(); }

size_t TrackerServer::answer_bytes_held() const { return service_->answer_bytes_held(); }

std::unique_ptr<TrackerServer> TrackerServer::Start(const std::string& listen,
                                                    const core::TrackerConfig& config,
                                                    uint64_t seed, std::string* error,
                                                    const TrackerServerOptions& options) {
  PinCallbackQueue();
  std::unique_ptr<TrackerServer> s(new TrackerServer());
  s->loop_ = std::make_shared<EventLoop>();
  s->tracker_ = std::make_unique<core::Tracker>(config, core::Rng(seed));
  s->guard_ = std::make_unique<AnnounceReplayGuard>();
  s->service_ = std::make_unique<TrackerService>(s->loop_, s->tracker_.get(), s->guard_.get(),
                                                 options);
  s->server_ = StartListening(listen, s->service_.get(), kMaxTrackerMessageBytes,
                              "swarmlab tracker server", kTrackerServerMemoryQuota, &s->port_,
                              error, s->service_->NewAnswerCalls(), options.idle_connection_ms);
  if (!s->server_) return nullptr;
  core::Tracker* t = s->tracker_.get();
  TrackerService* service = s->service_.get();
  EventLoop* loop = s->loop_.get();
  s->thread_ = std::thread([t, service, loop] {
    loop->Run(
        [t, service] {
          auto next = t->NextTimeout();
          auto send = service->NextSendDeadline();
          if (!next || (send && *send < *next)) return send;
          return next;
        },
        [t, service](core::Time now) {
          auto next = t->NextTimeout();
          if (next && now >= *next) t->OnTimeout(now);
          service->ExpireSends(now);
        });
  });
  return s;
}

void TrackerServer::Shutdown() {
  // Stop the server first: pending handlers still need the loop to finish.
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (thread_.joinable()) {
    loop_->Quit();
    thread_.join();
  }
  server_.reset();
}

// --- Client ---------------------------------------------------------------

class TrackerStub {
 public:
  explicit TrackerStub(std::shared_ptr<grpc::Channel> c) : stub(wire::Tracker::NewStub(c)) {}
  std::unique_ptr<wire::Tracker::Stub> stub;
};

namespace {

// How Wait says that the tracker did not begin to answer in time.
constexpr char kNoAnswerWithin[] = "no answer within ";

// "5 s", "0.25 s".
std::string SecondsText(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  char text[32];
  std::snprintf(text, sizeof text, "%g s", double(d.count()) / 1000);
  return text;
}

void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds allowed) {
  ctx->set_deadline(std::chrono::system_clock::now() + allowed);
}

// What follows the last ": " of `message` (its innermost cause), or all of
// it when that would be empty.
std::string LastClause(const std::string& message) {
  const size_t at = message.rfind(": ");
  if (at == std::string::npos || at + 2 >= message.size()) return message;
  return message.substr(at + 2);
}

std::string Describe(const std::string& target, const grpc::Status& s) {
  std::string why;
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // TrackerClient::Wait's own: connections taken, nothing said (a
      // frozen process, a proxy with nothing behind it).
      if (s.error_message().rfind(kNoAnswerWithin, 0) == 0) {
        why = s.error_message() +
              " (is `swarm tracker` running at that address, and not stopped?)";
        break;
      }
      // gRPC gave the connection up: a keepalive PING went unanswered
      // (kTrackerKeepaliveTimeout) after the tracker fell silent.
      if (s.error_message().find("keepalive watchdog timeout") != std::string::npos) {
        why = "stopped answering (keepalive watchdog timeout: a PING went unanswered; is "
              "`swarm tracker` stopped, or the link down?)";
        break;
      }
      // gRPC's text ("failed to connect to all addresses; last error:
      // UNKNOWN: ipv4:127.0.0.1:7070: Failed to connect to remote host:
      // Connection refused") ends with the cause; the likely fix is ours.
      why = "unreachable (" + LastClause(s.error_message()) +
            "; is `swarm tracker` running at that address?)";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      // Another gRPC server, e.g. a peer's port given as --tracker: it
      // answers, with no message, that it has no Tracker service.
      why = "not a swarm tracker (the server there has no Tracker service)";
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      // A busy tracker says so (TrackerAnswers), and is retried.
      if (s.error_message().rfind("tracker busy", 0) == 0) {
        why = s.error_message();
        break;
      }
      // Otherwise an answer over its size limit or our memory quota, but
      // also our own request over the send limit: gRPC's message says which.
      why = "over a size or memory limit (" + s.error_message() + ")";
      break;
    default:
      why = s.error_message().empty()
                ? "failed with gRPC status " + std::to_string(int(s.error_code()))
                : s.error_message();
  }
  return "tracker " + target + ": " + why;
}

// Whether asking again could help: a server without the Tracker service,
// or one that calls our request malformed, will say the same next time.
bool Hopeless(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
         s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
         s.error_code() == grpc::StatusCode::PERMISSION_DENIED;  // a publish over a limit
}

}  // namespace

namespace {

std::unique_ptr<grpc::ResourceQuota> TrackerClientQuota() {
  auto quota = std::make_unique<grpc::ResourceQuota>("swarmlab tracker client");
  quota->Resize(kTrackerClientMemoryQuota);
  return quota;
}

ChannelLimits TrackerClientLimits(const TrackerClientOptions& options,
                                  const grpc::ResourceQuota* quota) {
  ChannelLimits limits;
  limits.max_message_bytes = kMaxTrackerMessageBytes;
  limits.max_response_bytes["/swarm.wire.Tracker/Announce"] = kMaxAnnounceReplyBytes;
  limits.quota = quota;
  limits.keepalive_time = options.keepalive_time;
  limits.keepalive_timeout = options.keepalive_timeout;
  return limits;
}

}  // namespace

TrackerClient::TrackerClient(const std::string& target, const TrackerClientOptions& options)
    : target_(target), options_(options), quota_(TrackerClientQuota()),
      channel_(MakeChannel(target, TrackerClientLimits(options, quota_.get()))),
      stub_(std::make_unique<TrackerStub>(channel_)) {}

TrackerClient::~TrackerClient() = default;

namespace {

// What a synchronous call's reactor tells the thread waiting for it.
struct CallState {
  std::mutex mu;
  std::condition_variable cv;
  bool answering = false;  // the answer's headers came; guarded by mu
  bool done = false;       // likewise
  grpc::Status status;     // likewise
};

// Reports a unary call's progress to a CallState; frees itself when the
// call is over (gRPC touches a reactor until OnDone returns, after the
// waiting thread may have gone on).
class CallWatch final : public grpc::ClientUnaryReactor {
 public:
  explicit CallWatch(std::shared_ptr<CallState> state) : state_(std::move(state)) {}
  void OnReadInitialMetadataDone(bool ok) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->answering = ok;
    state_->cv.notify_all();
  }
  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->status = status;
      state_->done = true;
      state_->cv.notify_all();
    }
    delete this;
  }

 private:
  std::shared_ptr<CallState> state_;
};

}  // namespace

grpc::Status TrackerClient::Wait(grpc::ClientContext* ctx, std::chrono::milliseconds answer_start,
                                 const std::function<void(grpc::ClientUnaryReactor*)>& start) {
  auto state = std::make_shared<CallState>();
  auto* watch = new CallWatch(state);  // frees itself in OnDone
  const auto began = std::chrono::steady_clock::now();
  start(watch);
  watch->StartCall();
  std::unique_lock<std::mutex> lock(state->mu);
  bool cancelled = false, unanswered = false;
  while (!state->cv.wait_for(lock, kInterruptPoll, [&state] { return state->done; })) {
    if (cancelled) continue;
    const bool late =
        !state->answering && std::chrono::steady_clock::now() - began >= answer_start;
    lock.unlock();  // gRPC may run OnDone before TryCancel returns
    if (late || (interrupt_ && interrupt_())) {
      ctx->TryCancel();
      cancelled = true;
      unanswered = late;
    }
    lock.lock();
  }
  if (unanswered && !state->status.ok()) {
    // gRPC says CANCELLED: what the user needs to hear is that nothing came.
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        std::string(kNoAnswerWithin) + SecondsText(answer_start));
  }
  return state->status;
}

std::optional<core::PublishResult> TrackerClient::Publish(const core::TorrentInfo& info,
                                                          std::string* error) {
  // gRPC would refuse to send it (RESOURCE_EXHAUSTED, which looks like a
  // busy tracker): said here, and not worth retrying.
  if (auto problem = TrackerMessageProblem(info.name(), static_cast<uint64_t>(info.length()),
                                           static_cast<uint64_t>(info.piece_length()))) {
    *error = "cannot publish " + info.name() + ": " + *problem;
    hopeless_ = true;
    return std::nullopt;
  }
  wire::PublishRequest req;
  net::ToProto(info, req.mutable_torrent());
  wire::PublishResponse resp;
  grpc::ClientContext ctx;
  // The tracker answers once it has the whole request: the answer can
  // start no sooner than the request is sent.
  const auto deadline = TrackerPublishDeadline(req.ByteSizeLong(), options_.answer_start_timeout);
  SetDeadline(&ctx, deadline);
  grpc::Status s = Wait(&ctx, deadline, [&](grpc::ClientUnaryReactor* watch) {
    stub_->stub->async()->Publish(&ctx, &req, &resp, watch);
  });
  hopeless_ = Hopeless(s);
  if (!s.ok()) {
    *error = Describe(target_, s);
    return std::nullopt;
  }
  return static_cast<core::PublishResult>(resp.result());
}

std::optional<std::vector<core::FileEntry>> TrackerClient::ListFiles(std::string* error) {
  wire::ListFilesResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, TrackerAnswerDeadline(options_.answer_start_timeout));
  const wire::ListFilesRequest req;
  grpc::Status s = Wait(&ctx, options_.answer_start_timeout, [&](grpc::ClientUnaryReactor* watch) {
    stub_->stub->async()->ListFiles(&ctx, &req, &resp, watch);
  });
  hopeless_ = Hopeless(s);
  if (!s.ok()) {
    *error = Describe(target_, s);
    return std::nullopt;
  }
  std::vector<core::FileEntry> out;
  for (const auto& f : resp.files()) out.push_back(FromProto(f));
  return out;
}

std::optional<core::FileEntry> TrackerClient::Scrape(const core::InfoHash& info_hash,
                                                     std::string* error) {
  wire::ScrapeRequest req;
  req.set_info_hash(info_hash.data(), info_hash.size());
  wire::ScrapeResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.answer_start_timeout);  // one file's counts
  grpc::Status s = Wait(&ctx, options_.answer_start_timeout, [&](grpc::ClientUnaryReactor* watch) {
    stub_->stub->async()->Scrape(&ctx, &req, &resp, watch);
  });
  hopeless_ = Hopeless(s);
  error->clear();
  if (!s.ok()) {
    *error = Describe(target_, s);
    return std::nullopt;
  }
  if (!resp.found()) return std::nullopt;
  return FromProto(resp.file());
}

std::optional<core::TorrentInfo> TrackerClient::Lookup(const std::string& name,
                                                       std::string* error) {
  wire::LookupRequest req;
  req.set_name(name);
  wire::LookupResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, TrackerAnswerDeadline(options_.answer_start_timeout));
  grpc::Status s = Wait(&ctx, options_.answer_start_timeout, [&](grpc::ClientUnaryReactor* watch) {
    stub_->stub->async()->Lookup(&ctx, &req, &resp, watch);
  });
  hopeless_ = Hopeless(s);
  error->clear();
  if (!s.ok()) {
    *error = Describe(target_, s);
    return std::nullopt;
  }
  if (!resp.found()) return std::nullopt;
  std::string why;
  auto info = net::FromProto(resp.torrent(), &why);
  if (!info) {
    *error = "tracker " + target_ + " sent malformed metadata for " + name + ": " + why;
    // Asked again, it sends the same: a file's metadata is fixed while it
    // is listed.
    hopeless_ = true;
  }
  return info;
}

void TrackerClient::Announce(
    const core::AnnounceRequest& request, const PeerIdentity& signer,
    std::function<void(std::optional<core::AnnounceResponse>, std::string)> done) {
  struct Call {
    grpc::ClientContext ctx;
    wire::AnnounceRequest req;
    wire::AnnounceResponse resp;
  };
  auto call = std::make_shared<Call>();
  // Its answer is small (kMaxAnnounceReplyBytes): all of it within the
  // time any answer has to begin.
  SetDeadline(&call->ctx, options_.answer_start_timeout);
  call->req.set_info_hash(request.info_hash.data(), request.info_hash.size());
  call->req.set_peer_id(request.peer.id.value());
  call->req.set_endpoint(request.peer.endpoint);
  call->req.set_event(static_cast<wire::AnnounceRequest::Event>(request.event));
  call->req.set_uploaded(static_cast<uint64_t>(request.uploaded));
  call->req.set_downloaded(static_cast<uint64_t>(request.downloaded));
  call->req.set_left(static_cast<uint64_t>(request.left));
  call->req.set_numwant(request.numwant);
  const AnnounceSignature sig = SignAnnounce(signer, request, wall_clock_());
  call->req.set_public_key(sig.public_key);
  call->req.set_counter(sig.counter);
  call->req.set_signature(sig.signature);
  std::string target = target_;
  stub_->stub->async()->Announce(
      &call->ctx, &call->req, &call->resp,
      [call, done = std::move(done), target](grpc::Status s) {
        if (!s.ok()) {
          done(std::nullopt, Describe(target, s));
          return;
        }
        core::AnnounceResponse out;
        out.failure_reason = call->resp.failure_reason();
        // Translated as it is (0: none given, the core keeps its own);
        // core::Peer bounds what a tracker may ask (AnnounceIntervalFrom),
        // as it does in the simulator. Only a value beyond int64 is capped,
        // so that it stays a long interval rather than turn negative.
        const uint64_t us = call->resp.interval_us();
        out.interval = core::Duration::Micros(static_cast<int64_t>(
            std::min<uint64_t>(us, std::numeric_limits<int64_t>::max())));
        for (const auto& p : call->resp.peers()) {
          // Only addresses we would dial (not "unix:/...", say): a tracker
          // is trusted for the list, not for what a peer connects to.
          if (!ValidPeerEndpoint(p.endpoint())) continue;
          out.peers.push_back(core::PeerAddress{core::PeerId(p.peer_id()), p.endpoint()});
        }
        out.seeds = call->resp.seeds();
        out.leechers = call->resp.leechers();
        done(std::move(out), "");
      });
}

}  // namespace swarm::net
