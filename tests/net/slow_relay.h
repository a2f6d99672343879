// A TCP relay on loopback for tests of a client on a slow or broken link:
// it accepts connections on a port of its own, connects each to
// 127.0.0.1:`target_port`, and copies bytes both ways, those towards the
// client at `rate` bytes per second at most (those from it as they come).
// Freeze() stops it copying either way, as a far end that was frozen
// (SIGSTOP) or cut off in the middle of an answer: the connections stay
// open and nothing more crosses them. Stopping the relay closes them.
#ifndef SWARM_TESTS_NET_SLOW_RELAY_H_
#define SWARM_TESTS_NET_SLOW_RELAY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace swarm::net::testing {

class SlowRelay {
 public:
  SlowRelay(uint16_t target_port, double rate) : target_port_(target_port), rate_(rate) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (listen_fd_ >= 0) ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~SlowRelay() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : pumps_) t.join();
    for (int fd : fds_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  bool ok() const { return listen_fd_ >= 0; }
  uint16_t port() const { return port_; }
  // Stops copying, both ways, for good.
  void Freeze() { frozen_ = true; }
  // Bytes copied towards the client so far.
  uint64_t bytes_down() const { return down_.load(); }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(target_port_);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(client);
      if (server < 0) continue;
      fds_.push_back(server);
      if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::shutdown(client, SHUT_RDWR);
        continue;
      }
      pumps_.emplace_back([this, client, server] { Pump(client, server, /*paced=*/false); });
      pumps_.emplace_back([this, client, server] { Pump(server, client, /*paced=*/true); });
    }
  }

  // Copies from `from` to `to` until either closes or the relay stops;
  // `paced`: at rate_ at most.
  void Pump(int from, int to, bool paced) {
    // When the last bytes paced may go on: no burst after a quiet spell.
    auto next = std::chrono::steady_clock::now();
    std::vector<char> buf(16 << 10);
    while (!stop_) {
      if (frozen_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      // Small reads when paced, so that the pace is smooth.
      const size_t want = paced ? std::min<size_t>(buf.size(), size_t(rate_ / 50) + 1) : buf.size();
      const ssize_t n = ::recv(from, buf.data(), want, 0);
      if (n <= 0) break;
      if (paced) {
        next = std::max(next, std::chrono::steady_clock::now()) +
               std::chrono::microseconds(uint64_t(double(n) * 1e6 / rate_));
        std::this_thread::sleep_until(next);
      }
      while (frozen_ && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ssize_t off = 0;
      while (off < n && !stop_) {
        const ssize_t w = ::send(to, buf.data() + off, size_t(n - off), MSG_NOSIGNAL);
        if (w <= 0) break;
        off += w;
      }
      if (off < n) break;
      if (paced) down_ += uint64_t(n);
    }
    ::shutdown(to, SHUT_WR);
  }

  const uint16_t target_port_;
  const double rate_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, frozen_{false};
  std::atomic<uint64_t> down_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;             // under mu_ while the acceptor runs
  std::vector<std::thread> pumps_;   // likewise
};

}  // namespace swarm::net::testing

#endif  // SWARM_TESTS_NET_SLOW_RELAY_H_
