// Loopback throughput, measured side by side in one run:
//   1. raw TCP: one socket, 128 KiB writes;
//   2. a bare gRPC bidi stream of peer.proto Piece messages (same channel
//      arguments as swarmlab), at each block size;
//   3. swarmlab: a LoopbackSwarm with 1 seed -> 1 peer, then 1 seed -> 8
//      peers, the whole stack (core::Peer, drivers, disk, SHA-256).
// Usage: net_throughput [MiB=256] [peers=8] [swarm-only [KiB pipeline uploads] | paired [rounds]]
//   swarm-only: just swarmlab, 1 seed -> `peers` peers (for profiling);
//   paired: bare stream and swarmlab 1 -> 1 alternately at 128 KiB.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "net-real/event_loop.h"
#include "net-real/loopback_swarm.h"
#include "net-real/peer_transport.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"

namespace swarm::net {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double MiBps(double bytes, double s) { return bytes / s / (1 << 20); }

// CPU seconds used by the whole process (every thread, user + system).
double ProcessCpu() {
  timespec t;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// Samples (SteadyNow, ProcessCpu) every 2 ms on its own thread, so the CPU
// a swarm used between two of its reported instants (join, completion) can
// be read off afterwards without counting the run's setup (writing and
// hashing the content) or teardown (checking the outputs).
class CpuSampler {
 public:
  CpuSampler() : thread_([this] { Loop(); }) {}
  ~CpuSampler() {
    stop_ = true;
    thread_.join();
  }
  // Process CPU seconds between two SteadyNow instants (nearest samples).
  double Between(swarm::core::Time a, swarm::core::Time b) {
    std::lock_guard<std::mutex> lock(mu_);
    return At(b) - At(a);
  }

 private:
  void Loop() {
    while (!stop_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        samples_.emplace_back(SteadyNow(), ProcessCpu());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  double At(swarm::core::Time t) const {
    auto it = std::lower_bound(samples_.begin(), samples_.end(), t,
                               [](const auto& s, swarm::core::Time x) { return s.first < x; });
    if (it == samples_.end()) return samples_.empty() ? 0 : samples_.back().second;
    return it->second;
  }
  std::mutex mu_;
  std::vector<std::pair<swarm::core::Time, double>> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A transfer's speed and what it cost the machine.
struct Measured {
  double mibps = 0;
  double cpu_s = 0;  // process CPU seconds during the transfer
};

double RawTcp(int64_t total) {
  int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(ls, 1);
  socklen_t len = sizeof addr;
  ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread reader([ls, total] {
    int s = ::accept(ls, nullptr, nullptr);
    std::vector<char> buf(1 << 17);
    int64_t got = 0;
    while (got < total) {
      ssize_t r = ::read(s, buf.data(), buf.size());
      if (r <= 0) break;
      got += r;
    }
    ::close(s);
  });
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  std::vector<char> buf(1 << 17, 'x');
  auto t0 = Clock::now();
  for (int64_t sent = 0; sent < total;) {
    ssize_t w = ::write(c, buf.data(), std::min<int64_t>(buf.size(), total - sent));
    if (w <= 0) break;
    sent += w;
  }
  reader.join();
  double s = Since(t0);
  ::close(c);
  ::close(ls);
  return MiBps(double(total), s);
}

// Counts what arrives; answers nothing until the client is done.
class SinkService : public wire::PeerWire::Service {
 public:
  grpc::Status Connect(grpc::ServerContext*,
                       grpc::ServerReaderWriter<wire::WireMessage, wire::WireMessage>* s) override {
    wire::WireMessage m;
    while (s->Read(&m)) {
    }
    return grpc::Status::OK;
  }
};

Measured BareGrpc(int64_t total, uint32_t block) {
  SinkService service;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.SetMaxReceiveMessageSize(kMaxWireMessageBytes);
  b.RegisterService(&service);
  auto server = b.BuildAndStart();
  auto stub = wire::PeerWire::NewStub(MakeChannel("127.0.0.1:" + std::to_string(port)));
  grpc::ClientContext ctx;
  auto stream = stub->Connect(&ctx);
  wire::WireMessage msg;
  EncodePiece(core::BlockRef{core::PieceIndex(0), 0, block}, std::string(block, 'x'), &msg);
  double cpu0 = ProcessCpu();
  auto t0 = Clock::now();
  for (int64_t sent = 0; sent < total; sent += block) {
    if (!stream->Write(msg)) break;
  }
  stream->WritesDone();
  stream->Finish();
  double s = Since(t0);
  double cpu = ProcessCpu() - cpu0;
  server->Shutdown();
  return Measured{MiBps(double(total), s), cpu};
}

struct SwarmNumbers {
  double per_peer_mibps = 0;   // mean over leechers of size / download time
  double aggregate_mibps = 0;  // all leechers' bytes / makespan
  double first_piece_s = 0;    // first leecher: join to first verified piece
  double cpu_s = 0;  // process CPU seconds from the first join to the last completion
};

SwarmNumbers Swarmlab(int64_t total, int leechers, uint32_t block, uint32_t pipeline,
                      uint32_t uploads) {
  LoopbackSwarmConfig c;
  c.file_length = total;
  c.sample_interval = core::Duration::Seconds(5);
  LoopbackPeerSpec seed;
  seed.seed = true;
  c.peers.push_back(seed);
  for (int i = 0; i < leechers; ++i) c.peers.push_back(LoopbackPeerSpec());
  for (auto& p : c.peers) {
    p.config.block_size = block;
    p.config.max_request_length = std::max(p.config.max_request_length, block);
    p.config.request_pipeline = pipeline;
    p.config.uploads_in_flight = uploads;
  }
  std::string error;
  CpuSampler cpu;
  auto r = RunLoopbackSwarm(c, &error);
  SwarmNumbers n;
  if (!r) {
    std::fprintf(stderr, "swarm failed: %s\n", error.c_str());
    return n;
  }
  double first_join = 1e18, last_done = 0, sum = 0;
  for (const auto& p : r->peers) {
    if (p.seed) continue;
    if (!p.completion_s || !p.verified) {
      std::fprintf(stderr, "a leecher did not finish correctly\n");
      return n;
    }
    first_join = std::min(first_join, *p.join_s);
    last_done = std::max(last_done, *p.completion_s);
    sum += MiBps(double(total), *p.completion_s - *p.join_s);
    if (n.first_piece_s == 0 && p.first_piece_s) n.first_piece_s = *p.first_piece_s - *p.join_s;
  }
  n.per_peer_mibps = sum / leechers;
  auto at = [&](double s) { return r->started + core::Duration::Micros(int64_t(s * 1e6)); };
  n.cpu_s = cpu.Between(at(first_join), at(last_done));
  n.aggregate_mibps = MiBps(double(total) * leechers, last_done - first_join);
  return n;
}

}  // namespace
}  // namespace swarm::net

namespace {

constexpr const char* kUsage =
    "usage: net_throughput [MiB=256] [peers=8] [swarm-only [KiB pipeline uploads] | "
    "paired [rounds=5]]\n"
    "  no mode: raw TCP, bare gRPC stream and swarmlab side by side\n"
    "  swarm-only: swarmlab alone, 1 seed -> `peers` peers (for profiling)\n"
    "  paired: bare gRPC and swarmlab 1 -> 1 alternately at 128 KiB, with the median ratio\n";

// A positive whole number, or -1.
long long Count(const char* s) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  return end != s && *end == '\0' && v > 0 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace swarm::net;
  if (argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const bool paired = argc > 3 && std::string(argv[3]) == "paired";
  bool ok = argc <= (paired ? 5 : 7);
  for (int i = 1; ok && i < argc; ++i) {
    if (i == 3) {
      ok = std::string(argv[3]) == "swarm-only" || std::string(argv[3]) == "paired";
    } else {
      ok = Count(argv[i]) > 0;
    }
  }
  if (!ok) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  int64_t mib = argc > 1 ? Count(argv[1]) : 256;
  int peers = argc > 2 ? static_cast<int>(Count(argv[2])) : 8;
  int64_t total = mib << 20;
  if (argc > 3 && std::string(argv[3]) == "paired") {
    // Alternates bare gRPC and swarmlab at 128 KiB so both see the same
    // machine load; prints each pair's ratio and the median ratio.
    int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
    // Also prints the CPU each transfer cost the process (all threads): on
    // a loaded machine the ratio follows the CPU ratio.
    std::vector<double> ratios;
    for (int i = 0; i < rounds; ++i) {
      Measured bare = BareGrpc(total, 128 << 10);
      SwarmNumbers swarm = Swarmlab(total, 1, 128 << 10, 16, 4);
      double ratio = swarm.per_peer_mibps / bare.mibps;
      ratios.push_back(ratio);
      std::printf("round %d: bare gRPC %.1f, swarmlab %.1f MiB/s, ratio %.2f"
                  "   (CPU s: bare %.2f, swarmlab %.2f)\n",
                  i + 1, bare.mibps, swarm.per_peer_mibps, ratio, bare.cpu_s, swarm.cpu_s);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("median ratio swarmlab / bare gRPC at 128 KiB: %.2f\n", ratios[ratios.size() / 2]);
    return 0;
  }
  if (argc > 3 && std::string(argv[3]) == "swarm-only") {  // for profiling and tuning
    uint32_t block = argc > 4 ? std::atoi(argv[4]) << 10 : 128 << 10;
    uint32_t pipeline = argc > 5 ? std::atoi(argv[5]) : 16;
    uint32_t uploads = argc > 6 ? std::atoi(argv[6]) : 4;
    auto one = Swarmlab(total, peers, block, pipeline, uploads);
    std::printf(
        "swarmlab 1 seed -> %d peer(s), %u KiB blocks, pipeline %u, %u uploads: %.1f MiB/s "
        "per peer, %.1f aggregate (first piece after %.3f s, %.2f CPU s)\n",
        peers, block >> 10, pipeline, uploads, one.per_peer_mibps, one.aggregate_mibps,
        one.first_piece_s, one.cpu_s);
    return 0;
  }
  std::printf("loopback throughput, %lld MiB per transfer (MiB/s)\n", (long long)mib);
  std::printf("%-52s %10.1f\n", "raw TCP, 128 KiB writes", RawTcp(total));
  for (uint32_t block : {16u << 10, 128u << 10, 256u << 10}) {
    Measured bare = BareGrpc(total, block);
    std::printf("%-52s %10.1f   (%.2f CPU s)\n",
                ("bare gRPC bidi stream, " + std::to_string(block >> 10) + " KiB Piece msgs").c_str(),
                bare.mibps, bare.cpu_s);
  }
  struct Tuning {
    const char* name;
    uint32_t block, pipeline, uploads;
  } tunings[] = {{"16 KiB blocks, pipeline 5, 1 upload in flight (core defaults)", 16 << 10, 5, 1},
                 {"16 KiB blocks, pipeline 16, 4 uploads in flight", 16 << 10, 16, 4},
                 {"128 KiB blocks, pipeline 16, 4 uploads in flight (swarm CLI)", 128 << 10, 16, 4},
                 {"256 KiB blocks (= piece), pipeline 8, 4 uploads in flight", 256 << 10, 8, 4}};
  for (const auto& t : tunings) {
    auto one = Swarmlab(total, 1, t.block, t.pipeline, t.uploads);
    std::printf("%-52s %10.1f   (%.2f CPU s) [%s]\n", "swarmlab 1 seed -> 1 peer",
                one.per_peer_mibps, one.cpu_s, t.name);
  }
  const auto& t = tunings[2];
  auto many = Swarmlab(total, peers, t.block, t.pipeline, t.uploads);
  std::printf("%-52s %10.1f   per peer, %.1f aggregate (%.2f CPU s) [%s]\n",
              ("swarmlab 1 seed -> " + std::to_string(peers) + " peers").c_str(),
              many.per_peer_mibps, many.aggregate_mibps, many.cpu_s, t.name);
  return 0;
}
