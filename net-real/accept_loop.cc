#include "net-real/accept_loop.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "net-real/listen_on_one_port.h"

namespace swarm::net {
namespace {

using internal::LengthOf;
using internal::PortOf;
using internal::SetPort;

// Connections accepted from one socket before the loop polls again: a
// flood on one socket neither starves the others nor delays Stop.
constexpr int kAcceptsPerWake = 64;

struct Resolved {
  std::vector<sockaddr_storage> addresses;
  std::vector<socklen_t> lengths;
  bool wildcard = false;  // one of them was 0.0.0.0 or ::
};

bool IsWildcard(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (sa->sa_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr);
  }
  return false;
}

// Splits "HOST:PORT" and resolves HOST. Empty string, or the reason.
std::string Resolve(const std::string& address, Resolved* out) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "not HOST:PORT";
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
  for (const addrinfo* ai = found; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (IsWildcard(ai->ai_addr)) out->wildcard = true;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    bool seen = false;  // getaddrinfo may list one address twice
    for (size_t i = 0; i < out->addresses.size(); ++i) {
      seen = seen || (out->lengths[i] == ai->ai_addrlen &&
                      std::memcmp(&out->addresses[i], &ss, ai->ai_addrlen) == 0);
    }
    if (seen) continue;
    out->addresses.push_back(ss);
    out->lengths.push_back(ai->ai_addrlen);
  }
  ::freeaddrinfo(found);
  if (out->addresses.empty()) return "no IPv4 or IPv6 address";
  return "";
}

int BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return PortOf(ss);
}

// A listening socket on `ss`; -1 with errno on failure. `dual_stack`: an
// IPv6 socket that takes IPv4 connections too; other IPv6 sockets take
// IPv6 only, so that "localhost" can have 127.0.0.1 and ::1 on one port.
int OpenListener(const sockaddr_storage& ss, socklen_t len, bool dual_stack) {
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  const int v6only = dual_stack ? 0 : 1;
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  if (ok && ss.ss_family == AF_INET6) {
    ok = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) == 0;
  }
  ok = ok && ::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0 &&
       ::listen(fd, SOMAXCONN) == 0;
  if (ok) return fd;
  const int err = errno;
  ::close(fd);
  errno = err;
  return -1;
}

// A socket of a non-wildcard host's: IPv6 ones IPv6 only.
internal::OpenedSocket OpenOneOfMany(const sockaddr_storage& address, int port) {
  sockaddr_storage ss = address;
  SetPort(&ss, port);
  const int fd = OpenListener(ss, LengthOf(ss), /*dual_stack=*/false);
  if (fd < 0) return {-1, 0, errno};
  return {fd, BoundPort(fd), 0};
}

// As gRPC for a wildcard: every interface, IPv4 and IPv6 alike on one
// dual-stack socket, or an IPv4 one where IPv6 is off.
internal::Listeners ListenOnWildcard(int port) {
  internal::Listeners out;
  sockaddr_storage any6{};
  any6.ss_family = AF_INET6;
  SetPort(&any6, port);
  int fd = OpenListener(any6, sizeof(sockaddr_in6), /*dual_stack=*/true);
  if (fd < 0 && internal::Skippable(errno)) {
    sockaddr_storage any4{};
    any4.ss_family = AF_INET;
    SetPort(&any4, port);
    fd = OpenListener(any4, sizeof(sockaddr_in), false);
  }
  if (fd < 0) {
    out.error = errno;
  } else {
    out.fds.push_back(fd);
    out.port = BoundPort(fd);
  }
  return out;
}

int OpenReserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

// The process's reserve descriptor (/dev/null), open while a loop is alive.
std::mutex g_reserve_mu;
int g_reserve_fd = -1;  // under g_reserve_mu; -1 if none could be opened
int g_reserve_users = 0;

void HoldReserve() {
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  if (g_reserve_users++ == 0 || g_reserve_fd < 0) g_reserve_fd = OpenReserve();
}

void ReleaseReserve() {
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  if (--g_reserve_users == 0 && g_reserve_fd >= 0) {
    ::close(g_reserve_fd);
    g_reserve_fd = -1;
  }
}

}  // namespace

std::unique_ptr<AcceptLoop> AcceptLoop::Listen(const std::string& address, std::string* error) {
  const std::string prefix = "cannot listen on " + address + ": ";
  Resolved resolved;
  if (std::string why = Resolve(address, &resolved); !why.empty()) {
    *error = prefix + why;
    return nullptr;
  }
  const int port = PortOf(resolved.addresses[0]);
  internal::Listeners opened =
      resolved.wildcard ? ListenOnWildcard(port)
                        : internal::ListenOnOnePort(resolved.addresses, port, OpenOneOfMany);
  if (opened.fds.empty()) {
    *error = prefix + std::strerror(opened.error);
    return nullptr;
  }
  std::unique_ptr<AcceptLoop> loop(new AcceptLoop());
  loop->listeners_ = std::move(opened.fds);
  loop->port_ = opened.port;
  loop->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (loop->wake_fd_ < 0) {
    *error = prefix + std::strerror(errno);
    return nullptr;  // the destructor closes what was opened
  }
  HoldReserve();
  loop->holds_reserve_ = true;
  return loop;
}

AcceptLoop::~AcceptLoop() { Stop(); }

void AcceptLoop::Start(Handler handler) {
  handler_ = std::move(handler);
  thread_ = std::thread([this] { Run(); });
}

void AcceptLoop::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t n;
    do {
      n = ::write(wake_fd_, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    thread_.join();
  }
  for (int fd : listeners_) ::close(fd);
  listeners_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  if (holds_reserve_) ReleaseReserve();
  holds_reserve_ = false;
}

void AcceptLoop::Run() {
  std::vector<pollfd> fds;
  for (int fd : listeners_) fds.push_back({fd, POLLIN, 0});
  fds.push_back({wake_fd_, POLLIN, 0});
  pollfd& wake = fds.back();
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      // Only EFAULT, EINVAL or ENOMEM: wait, and try again.
      if (::poll(&wake, 1, static_cast<int>(kErrorPause.count())) > 0) return;
      continue;
    }
    if (wake.revents != 0) return;
    bool pause = false;
    for (size_t i = 0; i + 1 < fds.size(); ++i) {
      if (fds[i].revents != 0 && !Drain(fds[i].fd)) pause = true;
    }
    if (pause && ::poll(&wake, 1, static_cast<int>(kErrorPause.count())) > 0) return;
  }
}

bool AcceptLoop::Drain(int listener) {
  for (int n = 0; n < kAcceptsPerWake; ++n) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accepted_.fetch_add(1);
      handler_(fd, listener);
      continue;
    }
    switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return true;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;  // that connection is gone; the next may be fine
      case EMFILE:
      case ENFILE:
        if (!Shed(listener)) return false;
        continue;
      default:
        return false;  // ENOBUFS, ENOMEM, EPERM (a firewall)...: pause
    }
  }
  return true;
}

bool AcceptLoop::Shed(int listener) {
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  if (g_reserve_fd < 0) g_reserve_fd = OpenReserve();
  if (g_reserve_fd < 0) return false;  // someone else took every descriptor
  ::close(g_reserve_fd);
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  const bool done = fd >= 0 || errno == EAGAIN || errno == ECONNABORTED;
  if (fd >= 0) {
    ::close(fd);
    shed_.fetch_add(1);
  }
  g_reserve_fd = OpenReserve();  // -1 if another thread took the slot: retried
  return done;
}

}  // namespace swarm::net
