// gRPC callback-API reactors for the peer wire. They translate and queue;
// every decision is the driver's (and the core's).
//
// The stream carries raw serialized WireMessages (grpc::ByteBuffer; the
// bytes on the wire are exactly those of PeerWire.Connect): a Piece's
// payload goes out as a slice referring to the driver's buffer and comes in
// as views into gRPC's receive slices, so protobuf never copies a block.
#include "net-real/peer_transport.h"

#include <grpc/grpc.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <atomic>
#include <cctype>
#include <deque>
#include <iterator>
#include <vector>

#include "core/check.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"

namespace swarm::net {
namespace {

using W = grpc::ByteBuffer;
std::atomic<int> g_live_links{0};
// The one method of service PeerWire (proto/peer.proto).
const char kConnectMethod[] = "/swarm.wire.PeerWire/Connect";

// A WireFrame as gRPC slices: the header copied (a few bytes), each payload
// part referenced, keeping the payload's owner alive until gRPC is done.
grpc::ByteBuffer ToByteBuffer(WireFrame frame) {
  std::vector<grpc::Slice> slices;
  slices.reserve(1 + frame.body.parts().size());
  slices.emplace_back(frame.head.data(), frame.head.size());
  for (std::string_view part : frame.body.parts()) {
    auto* keep = new std::shared_ptr<const void>(frame.body.owner());
    slices.emplace_back(
        const_cast<char*>(part.data()), part.size(),
        [](void* p) { delete static_cast<std::shared_ptr<const void>*>(p); }, keep);
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// A received message, kept as gRPC handed it over. Its slices are counted
// against the connection's memory quota until their last reference goes,
// and that may be on any thread (the disk thread lets a written block go).
// Once the quota has been under pressure, giving memory back may wake
// gRPC's reclaimer, which gRPC 1.51 schedules on the current thread's
// ExecCtx: a bare grpc::Slice unref on a thread gRPC never entered has
// none and crashes (SIGSEGV in grpc_core::ExecCtx::Run). So the last
// references are always the ByteBuffer's, whose destruction
// (grpc_byte_buffer_destroy) sets one up; members go in reverse order, so
// `slices` (which the views point into: a short slice keeps its bytes
// inline) drop their extra references first.
struct ReceivedBytes {
  grpc::ByteBuffer buffer;
  std::vector<grpc::Slice> slices;
};

// The received bytes as a Payload sharing gRPC's (reference-counted) slices.
Payload FromByteBuffer(grpc::ByteBuffer* in) {
  auto received = std::make_shared<ReceivedBytes>();
  received->buffer.Swap(in);  // leaves *in empty, ready for the next read
  if (!received->buffer.Dump(&received->slices).ok()) received->slices.clear();
  std::vector<std::string_view> parts;
  parts.reserve(received->slices.size());
  for (const grpc::Slice& s : received->slices) {
    parts.emplace_back(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return Payload(std::move(received), std::move(parts));
}

// Write queue and handler plumbing shared by both reactor kinds. `Base` is
// grpc::ServerBidiReactor<W, W> or grpc::ClientBidiReactor<W, W>.
template <class Base>
class LinkImpl : public Base, public Link, public ReadBudget::Waiter {
 public:
  LinkImpl() { ++g_live_links; }
  ~LinkImpl() override { --g_live_links; }

  void Send(WireFrame frame, std::optional<core::BlockRef> block) override {
    // A Piece's payload is not counted: the core bounds blocks in flight.
    const size_t cost = frame.head.size() + (block ? 0 : frame.body.size()) +
                        kQueuedSendOverhead;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      // One message alone always fits (a bitfield larger than the bound).
      if (queue_.empty() || queued_bytes_ + cost <= max_queued_bytes_) {
        queue_.push_back(Out{std::move(frame), block, cost});
        queued_bytes_ += cost;
        PumpLocked();
        return;
      }
      if (close_reason_.empty()) {
        close_reason_ = "the remote does not read what we send: " +
                        std::to_string(queue_.size()) + " messages (" +
                        std::to_string(queued_bytes_) +
                        " bytes as counted) wait to be sent, the most a connection may hold";
      }
    }
    Overflowed();
  }

  void Consumed(size_t cost) override {
    ReadBudget::Wakeups wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cost = std::min(cost, unconsumed_);  // none once the stream is done
      unconsumed_ -= cost;
      if (budget_) wake = budget_->Release(cost);
      ResumeReadingLocked();
    }
    ReadBudget::Wake(wake);  // other links paused on the budget
  }

  void Retain(size_t cost) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Moved from unconsumed_; once the stream is done unconsumed_ was
    // released to the budget, so what is missing is charged again.
    const size_t held = std::min(cost, unconsumed_);
    unconsumed_ -= held;
    if (budget_) budget_->Charge(cost - held);
    retained_ += cost;
  }

  void ReleaseRetained(size_t cost) override {
    ReadBudget::Wakeups wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      SWARM_CHECK(cost <= retained_);
      retained_ -= cost;
      if (budget_) wake = budget_->Release(cost);
      ResumeReadingLocked();
    }
    ReadBudget::Wake(wake);
  }

  std::string CloseReason() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return close_reason_;
  }

  void OnBudgetFreed() override {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_on_budget_ = false;
    ResumeReadingLocked();
  }

  void OnWriteDone(bool ok) override {
    std::optional<core::BlockRef> sent;
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (ok) sent = in_flight_;
      in_flight_.reset();
      if (!ok) closing_ = true;
      PumpLocked();
      finish = closing_ && !writing_ && !aborting_ && TakeFinishLocked();
    }
    if (sent && handlers_.on_sent) handlers_.on_sent(*sent);
    if (finish) EndStream();
  }

  void Close() override {
    bool finish = false;
    bool abort = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      // Not while another Close() is cancelling the call: the cancel makes
      // gRPC call OnCancel and fail the pending read, both of which close
      // the link again, and ending the stream from there could free a
      // server's call under the AbortCall still running on it. The Close()
      // that cancels ends the stream when AbortCall returns (below).
      finish = !writing_ && !aborting_ && TakeFinishLocked();
      // A write still outstanding may never complete: a remote that reads
      // nothing holds it on flow control for as long as it keeps the
      // connection open, and the stream, with the message in flight, would
      // stay open as long, forgotten by the driver and counted against no
      // limit. So the call is cancelled instead. While the cancel is under
      // way (aborting_) OnWriteDone does not end the stream, so the call
      // (and a server's context) cannot go before AbortCall returns.
      abort = writing_ && !aborted_;
      if (abort) aborted_ = aborting_ = true;
    }
    if (finish) EndStream();
    if (!abort) return;
    AbortCall();
    {
      std::lock_guard<std::mutex> lock(mu_);
      aborting_ = false;
      finish = !writing_ && TakeFinishLocked();
    }
    if (finish) EndStream();
  }

 protected:
  // Kept as a frame until it is written: a grpc::ByteBuffer costs a few
  // hundred bytes more (its own allocations and a slice's).
  struct Out {
    WireFrame frame;
    std::optional<core::BlockRef> block;
    size_t cost;  // what it counts in queued_bytes_
  };
  static_assert(sizeof(Out) <= kQueuedSendOverhead);

  // Ends the call: Finish on a server, TryCancel on a client.
  virtual void EndStream() = 0;
  // Cancels the call, failing the write outstanding (Close).
  virtual void AbortCall() = 0;
  // The remote lets max_queued_bytes_ of messages pile up: close.
  virtual void Overflowed() { Close(); }

  // Hands a received message to the driver, then reads the next one unless
  // the driver is too far behind (Consumed resumes) or the link is ending.
  void DeliverAndReadOn() {
    Payload bytes = FromByteBuffer(&in_);
    const size_t cost = ReadCost(bytes.size());
    {
      std::lock_guard<std::mutex> lock(mu_);
      unconsumed_ += cost;
      if (budget_) budget_->Charge(cost);
    }
    if (handlers_.on_message) handlers_.on_message(std::move(bytes));
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;  // refused or closed meanwhile: read no more
    if (!MayReadLocked()) {
      read_paused_ = true;
      return;
    }
    this->StartRead(&in_);
  }

  // With nothing waiting a link always reads (so it is never stalled by
  // others filling the budget); otherwise while under its own read-ahead
  // and the shared budget. Paused on the budget, it waits there to be
  // woken (OnBudgetFreed).
  bool MayReadLocked() {
    const size_t held = unconsumed_ + retained_;
    if (held == 0) return true;
    if (held >= read_ahead_) return false;
    if (!budget_) return true;
    if (waiting_on_budget_) return false;  // a wake-up is due
    if (budget_->HasRoomOrWait(as_waiter_)) return true;
    waiting_on_budget_ = true;
    return false;
  }

  // Under the lock: Close() cannot end the call between the check and the
  // read (gRPC runs no reaction inline from StartRead).
  void ResumeReadingLocked() {
    if (read_paused_ && !closing_ && !done_ && MayReadLocked()) {
      read_paused_ = false;
      this->StartRead(&in_);
    }
  }

  // From OnDone: nothing more is read, so what the driver has not consumed
  // no longer counts against the budget (the driver drops it when it
  // learns of the close, which on_closed, called next, tells it). What it
  // retained counts on until released.
  void ReleaseUnconsumed() {
    ReadBudget::Wakeups wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      if (budget_) wake = budget_->Release(unconsumed_);
      unconsumed_ = 0;
    }
    ReadBudget::Wake(wake);
  }

  bool TakeFinishLocked() {
    if (ended_) return false;
    ended_ = true;
    return true;
  }

  void PumpLocked() {
    if (writing_ || closing_ || queue_.empty()) return;
    out_ = ToByteBuffer(std::move(queue_.front().frame));
    in_flight_ = queue_.front().block;
    queued_bytes_ -= queue_.front().cost;
    queue_.pop_front();
    writing_ = true;
    // More queued behind it: let gRPC hold this one and send both in one
    // go (the last queued message is always written without the hint, so
    // nothing waits for a later Send).
    grpc::WriteOptions options;
    if (!queue_.empty()) options.set_buffer_hint();
    this->StartWrite(&out_, options);
  }

  // Called from OnReadDone(false) and the like.
  void CloseFromTransport() { Close(); }

  mutable std::mutex mu_;
  std::deque<Out> queue_;
  std::optional<core::BlockRef> in_flight_;
  bool writing_ = false;
  bool closing_ = false;
  bool ended_ = false;
  bool aborted_ = false;   // Close() cancelled the call (once is enough)
  bool aborting_ = false;  // ... and is still in AbortCall()
  size_t read_ahead_ = kDefaultReadAheadBytes;  // handlers_.read_ahead_bytes
  size_t max_queued_bytes_ = kMaxQueuedSendBytes;  // handlers_.max_queued_send_bytes
  size_t queued_bytes_ = 0;   // the costs of what queue_ holds
  // Why the link closed, for CloseReason: set by an overflow, or (a
  // client's) by the status the call ended with.
  std::string close_reason_;
  size_t unconsumed_ = 0;     // ReadCost handed to on_message, not Consumed
  size_t retained_ = 0;       // ReadCost Retain()ed, not yet released
  // handlers_.read_budget; charged unconsumed_ (until OnDone) + retained_.
  std::shared_ptr<ReadBudget> budget_;
  bool read_paused_ = false;  // no read outstanding until Consumed
  bool waiting_on_budget_ = false;  // among budget_'s waiters
  bool done_ = false;               // OnDone came: nothing more to read
  std::weak_ptr<ReadBudget::Waiter> as_waiter_;  // this; set on creation
  W out_;
  W in_;
  Link::Handlers handlers_;
  std::shared_ptr<Link> self_;  // released in OnDone
};

}  // namespace

struct PeerServer::Router {
  std::mutex mu;
  std::map<core::InfoHash, InboundSink*> sinks;
  // Streams whose first message has not arrived, oldest first, by arrival
  // number: at most max_unrouted, the oldest closed to make room.
  std::map<uint64_t, std::weak_ptr<Link>> unrouted;
  uint64_t next_stream = 0;
  size_t max_unrouted = kMaxUnroutedStreams;
};

namespace {

class ServerLink : public LinkImpl<grpc::ServerBidiReactor<W, W>> {
 public:
  static ServerLink* Create(std::shared_ptr<PeerServer::Router> router, std::string host,
                            grpc::CallbackServerContext* ctx) {
    auto link = std::shared_ptr<ServerLink>(new ServerLink(router));
    link->host_ = std::move(host);
    link->ctx_ = ctx;
    link->self_ = link;
    link->as_waiter_ = link;
    // A stream that never sends its handshake would otherwise be held for
    // good; many would pile up. Past the limit the oldest one goes.
    std::shared_ptr<Link> evict;
    {
      std::lock_guard<std::mutex> lock(router->mu);
      link->stream_no_ = router->next_stream++;
      router->unrouted[link->stream_no_] = link;
      if (router->unrouted.size() > router->max_unrouted) {
        evict = router->unrouted.begin()->second.lock();
        router->unrouted.erase(router->unrouted.begin());
      }
    }
    link->StartSendInitialMetadata();
    link->StartRead(&link->in_);
    if (evict) {
      std::static_pointer_cast<ServerLink>(evict)->Reject(
          grpc::StatusCode::RESOURCE_EXHAUSTED, "no handshake yet, and newer streams wait");
    }
    return link.get();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      CloseFromTransport();
      return;
    }
    if (!routed_) {
      if (!Route()) return;
      // Under the lock, as in DeliverAndReadOn: a Close() on the driver's
      // thread must not end the call between the check and the read.
      std::lock_guard<std::mutex> lock(mu_);
      if (!closing_) StartRead(&in_);
      return;
    }
    DeliverAndReadOn();
  }

  void OnCancel() override { CloseFromTransport(); }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(router_->mu);
      router_->unrouted.erase(stream_no_);
    }
    ReleaseUnconsumed();
    if (handlers_.on_closed) handlers_.on_closed();
    handlers_ = {};
    self_.reset();  // may delete this
  }

  std::string RemoteHost() const override { return host_; }

  void Reject(grpc::StatusCode code, const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closing_) finish_status_ = grpc::Status(code, why);  // EndStream reads it
    }
    Close();
  }

 private:
  explicit ServerLink(std::shared_ptr<PeerServer::Router> router)
      : router_(std::move(router)) {}

  void EndStream() override { Finish(finish_status_); }
  // With the status the stream was to end with, if any: it goes out in
  // trailing headers, which flow control does not hold back. The context
  // lives until OnDone, which cannot come before Close() has finished
  // the call.
  void AbortCall() override {
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = finish_status_;
    }
    if (status.ok()) status = grpc::Status(grpc::StatusCode::CANCELLED, "connection closed");
    grpc_call_cancel_with_status(ctx_->c_call(),
                                 static_cast<grpc_status_code>(status.error_code()),
                                 status.error_message().c_str(), nullptr);
  }

  // Hands the stream to the torrent named by its handshake.
  bool Route() {
    {
      std::lock_guard<std::mutex> lock(router_->mu);
      router_->unrouted.erase(stream_no_);
    }
    std::string error;
    auto decoded = DecodeAuthFrame(FromByteBuffer(&in_), &error);
    const AuthHello* hs = decoded ? std::get_if<AuthHello>(&*decoded) : nullptr;
    if (hs == nullptr) {
      Reject(grpc::StatusCode::INVALID_ARGUMENT,
             decoded ? "first message must be a handshake" : error);
      return false;
    }
    std::lock_guard<std::mutex> lock(router_->mu);
    auto it = router_->sinks.find(hs->info_hash);
    if (it == router_->sinks.end()) {
      Reject(grpc::StatusCode::NOT_FOUND, "no such torrent here");
      return false;
    }
    routed_ = true;
    it->second->AdoptInbound(std::static_pointer_cast<Link>(self_), *hs, &handlers_);
    std::lock_guard<std::mutex> link_lock(mu_);
    read_ahead_ = handlers_.read_ahead_bytes;
    budget_ = handlers_.read_budget;
    max_queued_bytes_ = handlers_.max_queued_send_bytes;
    return true;
  }

  void Overflowed() override {
    Reject(grpc::StatusCode::RESOURCE_EXHAUSTED, "peer does not read what it is sent");
  }

  std::shared_ptr<PeerServer::Router> router_;
  std::string host_;  // set before the stream starts; then read only
  grpc::CallbackServerContext* ctx_ = nullptr;  // likewise; valid until OnDone
  uint64_t stream_no_ = 0;  // key in router_->unrouted
  bool routed_ = false;
  grpc::Status finish_status_ = grpc::Status::OK;
};

class ClientLink : public LinkImpl<grpc::ClientBidiReactor<W, W>> {
 public:
  static std::shared_ptr<Link> Create(std::shared_ptr<grpc::Channel> channel,
                                      Link::Handlers h, std::string host) {
    auto link = std::shared_ptr<ClientLink>(new ClientLink());
    link->host_ = std::move(host);
    link->read_ahead_ = h.read_ahead_bytes;
    link->budget_ = h.read_budget;
    link->max_queued_bytes_ = h.max_queued_send_bytes;
    link->handlers_ = std::move(h);
    link->channel_ = channel;
    grpc::GenericStub stub(channel);
    link->self_ = link;
    link->as_waiter_ = link;
    stub.PrepareBidiStreamingCall(&link->context_, kConnectMethod, grpc::StubOptions(),
                                  link.get());
    // Writes start from the driver thread, outside reactions: hold the
    // stream until EndStream.
    link->AddHold();
    link->StartRead(&link->in_);
    link->StartCall();
    return link;
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok && handlers_.on_up) handlers_.on_up();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      CloseFromTransport();
      return;
    }
    DeliverAndReadOn();
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      // An overflow said why first; the status is then our own cancel.
      if (close_reason_.empty()) {
        close_reason_ = CodeName(status.error_code()) + ": " + status.error_message();
      }
    }
    ReleaseUnconsumed();
    if (handlers_.on_closed) handlers_.on_closed();
    handlers_ = {};
    self_.reset();  // may delete this
  }

  std::string RemoteHost() const override { return host_; }

 private:
  static std::string CodeName(grpc::StatusCode code) {
    switch (code) {
      case grpc::StatusCode::CANCELLED: return "CANCELLED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
      case grpc::StatusCode::INTERNAL: return "INTERNAL";
      default: return "gRPC status " + std::to_string(int(code));
    }
  }

  void EndStream() override {
    context_.TryCancel();
    RemoveHold();
  }
  void AbortCall() override { context_.TryCancel(); }
  std::shared_ptr<grpc::Channel> channel_;  // outlives the call
  std::string host_;  // set before the call starts; then read only
  grpc::ClientContext context_;
};

}  // namespace

class PeerWireService
    : public wire::PeerWire::WithRawCallbackMethod_Connect<wire::PeerWire::Service> {
 public:
  explicit PeerWireService(std::shared_ptr<PeerServer::Router> router)
      : router_(std::move(router)) {}
  grpc::ServerBidiReactor<W, W>* Connect(grpc::CallbackServerContext* ctx) override {
    return ServerLink::Create(router_, HostOfGrpcPeer(ctx->peer()), ctx);
  }

 private:
  std::shared_ptr<PeerServer::Router> router_;
};

void PinCallbackQueue() {
  static const bool pinned = [] {
    // Never released: the process keeps this channel, and with it a
    // reference on the callback queue, until it exits. Its one call (to a
    // socket path that cannot exist) takes that reference when it is
    // created and fails at once.
    auto* channel = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("unix:/dev/null/swarmlab-pin", grpc::InsecureChannelCredentials()));
    struct Call {
      grpc::ClientContext ctx;
      grpc::ByteBuffer request, response;
    };
    auto* call = new Call;
    grpc::Slice empty(std::string{});
    call->request = grpc::ByteBuffer(&empty, 1);  // a valid (empty) message
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::GenericStub stub(*channel);
    stub.UnaryCall(&call->ctx, "/swarmlab.Pin/Pin", grpc::StubOptions(), &call->request,
                   &call->response, [call](grpc::Status) { delete call; });
    return true;
  }();
  (void)pinned;
}

PeerServer::~PeerServer() { Shutdown(); }

std::unique_ptr<PeerServer> PeerServer::Start(const std::string& listen, std::string* error,
                                              PeerServerOptions options) {
  PinCallbackQueue();
  std::unique_ptr<PeerServer> s(new PeerServer());
  s->router_ = std::make_shared<Router>();
  s->router_->max_unrouted = options.max_unrouted;
  s->service_ = std::make_unique<PeerWireService>(s->router_);
  s->server_ = StartListening(listen, s->service_.get(), kMaxWireMessageBytes,
                              "swarmlab peer server", options.memory_quota_bytes, &s->port_, error);
  if (!s->server_) return nullptr;
  return s;
}

void PeerServer::Register(const core::InfoHash& hash, InboundSink* sink) {
  std::lock_guard<std::mutex> lock(router_->mu);
  router_->sinks[hash] = sink;
}

void PeerServer::Shutdown() {
  if (!router_) return;
  {
    std::lock_guard<std::mutex> lock(router_->mu);
    router_->sinks.clear();
  }
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_.reset();
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                          const ChannelLimits& limits) {
  PinCallbackQueue();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(limits.max_message_bytes);
  args.SetMaxSendMessageSize(limits.max_message_bytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Our service config below carries the per-method caps (the Announce
  // answer limit): a resolver (e.g. DNS TXT records) must never supply
  // one that replaces it.
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  if (limits.quota != nullptr) args.SetResourceQuota(*limits.quota);
  if (limits.keepalive_time.count() > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(limits.keepalive_time.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                static_cast<int>(limits.keepalive_timeout.count()));
    // gRPC 1.51 sends at most two PINGs until we send data or headers
    // again, and a unary call sends nothing while its answer comes in.
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  if (!limits.max_response_bytes.empty()) {
    // The effective limit of a call is the lower of the channel's and its
    // method's.
    std::string config = "{\"methodConfig\": [";
    for (const auto& [method, bytes] : limits.max_response_bytes) {
      const size_t slash = method.find('/', 1);
      SWARM_CHECK(method.size() > 1 && method[0] == '/' && slash != std::string::npos);
      if (config.back() == '}') config += ", ";
      config += "{\"name\": [{\"service\": \"" + method.substr(1, slash - 1) +
                "\", \"method\": \"" + method.substr(slash + 1) +
                "\"}], \"maxResponseMessageBytes\": " + std::to_string(bytes) + "}";
    }
    config += "]}";
    args.SetServiceConfigJSON(config);
  }
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int max_message_bytes) {
  ChannelLimits limits;
  limits.max_message_bytes = max_message_bytes;
  return MakeChannel(target, limits);
}

Dialer::Dialer(DialerOptions options) : options_(options) {}

Dialer::~Dialer() = default;

std::shared_ptr<Link> Dialer::Dial(const std::string& endpoint, Link::Handlers h) {
  std::shared_ptr<grpc::Channel> channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropUnusedChannels();
    auto& weak = channels_[endpoint];
    channel = weak.lock();
    if (!channel) {
      // The channel takes its own reference on the quota.
      grpc::ResourceQuota quota("swarmlab dialer " + endpoint);
      quota.Resize(options_.memory_quota_bytes);
      ChannelLimits limits;
      limits.quota = &quota;
      channel = MakeChannel(endpoint, limits);
      weak = channel;
    }
  }
  const size_t colon = endpoint.rfind(':');
  return ClientLink::Create(std::move(channel), std::move(h),
                            colon == std::string::npos ? endpoint : endpoint.substr(0, colon));
}

// Entries whose links have all gone are dropped at each dial, so the map
// holds no more endpoints than there are links not yet freed, plus one.
void Dialer::DropUnusedChannels() {
  for (auto it = channels_.begin(); it != channels_.end();) {
    it = it->second.expired() ? channels_.erase(it) : std::next(it);
  }
}

size_t Dialer::Channels() {
  std::lock_guard<std::mutex> lock(mu_);
  DropUnusedChannels();
  return channels_.size();
}

int LiveLinks() { return g_live_links.load(); }

// Decoded here: the host would otherwise read "%5B::1%5D", which no peer
// can dial (and ValidPeerEndpoint drops).
std::string HostOfGrpcPeer(const std::string& peer) {
  std::string s;
  for (size_t i = 0; i < peer.size(); ++i) {
    auto hex = [&](size_t k) { return std::isxdigit(static_cast<unsigned char>(peer[k])); };
    if (peer[i] == '%' && i + 2 < peer.size() && hex(i + 1) && hex(i + 2)) {
      s.push_back(static_cast<char>(std::stoi(peer.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      s.push_back(peer[i]);
    }
  }
  auto colon = s.find(':');
  if (colon != std::string::npos) s = s.substr(colon + 1);
  auto last = s.rfind(':');
  return last == std::string::npos ? s : s.substr(0, last);
}

}  // namespace swarm::net
