// The accept loop: our own listening sockets and a thread that accepts
// connections on them and hands each one on (to gRPC, through
// grpc::experimental::ExternalConnectionAcceptor, in StartListening).
//
// Why not gRPC's own listener: gRPC 1.51 gives up on a listening socket for
// good when accept4 fails with EMFILE (grpc/grpc#20418), so a burst of
// connections from anyone left the port deaf. This loop never gives up:
// when the process has no descriptor left (EMFILE, ENFILE) it closes a
// descriptor kept in reserve, accepts the waiting connection and closes it
// at once, and opens the reserve again. The process has one reserve, while
// any loop is alive, shared by all loops (they shed one connection at a
// time): a loop costs a thread and one descriptor of its own (an eventfd)
// besides its sockets. Connections that arrive while
// descriptors are short are shed that way, one by one, rather than left in
// the backlog; once descriptors free up (gRPC closes connections that do
// not finish their handshake, kServerHandshakeTimeoutMs) new ones are
// handed on again. Other accept errors (ENOBUFS, ENOMEM...) pause the loop
// for kErrorPause and it tries again.
//
// Listen opens the sockets as gRPC did for "HOST:PORT": HOST resolved
// (getaddrinfo), a wildcard ("0.0.0.0", "[::]", "::" or empty) becomes one
// dual-stack IPv6 socket, or an IPv4 one where IPv6 is off; any other name
// gets a socket per address it resolves to ("localhost": 127.0.0.1 and ::1),
// addresses of a family the machine lacks skipped; port 0 picks a free
// port, the same for all of them: the kernel picks it for the first, and
// if it is taken on another, everything is closed and the kernel asked
// again, 10 times at most (net-real/listen_on_one_port.h); a port given
// fails as a whole if busy on any of them. SO_REUSEADDR (a port whose old
// connections linger in TIME_WAIT can be bound), no SO_REUSEPORT (a busy
// port fails), TCP_NODELAY (accepted sockets inherit it, as gRPC's do),
// non-blocking, close-on-exec. Accepted descriptors are non-blocking and
// close-on-exec, what gRPC's endpoint expects.
//
// Thread-safe: the counters may be read from any thread; Start and Stop
// from the owner's.
#ifndef SWARM_NET_ACCEPT_LOOP_H_
#define SWARM_NET_ACCEPT_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace swarm::net {

class AcceptLoop {
 public:
  // Called on the loop's thread with each accepted connection's descriptor
  // (non-blocking, close-on-exec; the callee owns it) and the descriptor
  // of the listening socket it came from.
  using Handler = std::function<void(int fd, int listener_fd)>;

  static constexpr std::chrono::milliseconds kErrorPause{100};

  // Opens the listening sockets for `address` ("HOST:PORT", HOST a name, an
  // IPv4 address or a bracketed IPv6 one). nullptr and *error ("cannot
  // listen on ADDRESS: REASON") if it cannot.
  static std::unique_ptr<AcceptLoop> Listen(const std::string& address, std::string* error);
  ~AcceptLoop();  // Stop()

  // The bound port (the one chosen, for port 0).
  int port() const { return port_; }
  // How many listening sockets (e.g. 2 for "localhost" with IPv6 on).
  size_t socket_count() const { return listeners_.size(); }

  // Starts the thread. Until then connections wait in the backlog.
  // REQUIRES: called once, not after Stop().
  void Start(Handler handler);
  // Wakes the thread, joins it, closes the listening sockets: connections
  // are refused from then on. Idempotent.
  void Stop();

  // Connections handed on so far.
  uint64_t accepted() const { return accepted_.load(); }
  // Connections accepted and closed at once for want of a descriptor.
  uint64_t shed() const { return shed_.load(); }

 private:
  AcceptLoop() = default;
  void Run();
  // Accepts on `listener` until it has nothing waiting; false when the
  // loop should pause before polling again.
  bool Drain(int listener);
  // Closes the reserve, accepts one connection and closes it, reopens the
  // reserve. False if no reserve could be had.
  bool Shed(int listener);

  std::vector<int> listeners_;
  int wake_fd_ = -1;     // eventfd: Stop writes it
  bool holds_reserve_ = false;  // counted among the loops that keep the reserve
  int port_ = 0;
  Handler handler_;
  std::thread thread_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> shed_{0};
};

}  // namespace swarm::net

#endif  // SWARM_NET_ACCEPT_LOOP_H_
