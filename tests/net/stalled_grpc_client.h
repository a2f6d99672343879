// A gRPC client written by hand on a raw HTTP/2 connection, for tests of
// what a server does with a client that asks and then never reads: it
// opens every stream with a receive window of 0 bytes and never widens
// it (unless the test says so: Grant), so the server can send the
// answer's headers but not one byte of its message. It still acknowledges SETTINGS and PINGs, as a live client
// would. It may connect from any loopback address (127.0.0.2, ...), so a
// test can be two clients on one machine.
#ifndef SWARM_TESTS_NET_STALLED_GRPC_CLIENT_H_
#define SWARM_TESTS_NET_STALLED_GRPC_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace swarm::net::testing {

class StalledGrpcClient {
 public:
  // Connects to 127.0.0.1:`port` from `from` (a loopback address) and
  // opens the HTTP/2 connection. ok() says whether that worked.
  StalledGrpcClient(uint16_t port, const std::string& from) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) !=
            0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      return;
    }
    const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    // SETTINGS: INITIAL_WINDOW_SIZE (4) = 0.
    const std::string settings("\x00\x04\x00\x00\x00\x00", 6);
    Write(preface + Frame(0x4, 0, 0, settings));
    reader_ = std::thread([this] { Read(); });
  }

  ~StalledGrpcClient() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
    ::close(fd_);
  }

  bool ok() const { return fd_ >= 0; }

  // Starts a unary call of `method` ("/pkg.Service/Method") with the
  // serialized request `message`; returns its stream id.
  uint32_t Call(const std::string& method, const std::string& message) {
    std::lock_guard<std::mutex> lock(write_mu_);
    const uint32_t stream = next_stream_;
    next_stream_ += 2;
    const std::string headers = Headers(method);
    std::string data(5, '\0');  // not compressed, then the length
    const uint32_t n = static_cast<uint32_t>(message.size());
    for (int i = 0; i < 4; ++i)
      data[1 + i] = static_cast<char>(n >> (24 - 8 * i));
    data += message;
    // HEADERS with END_HEADERS, then DATA with END_STREAM.
    WriteLocked(Frame(0x1, 0x4, stream, headers) +
                Frame(0x0, 0x1, stream, data));
    return stream;
  }

  // Opens a call of `method` and sends nothing more: its request never
  // ends, so the server never answers, and the connection is never idle.
  uint32_t OpenCall(const std::string& method) {
    std::lock_guard<std::mutex> lock(write_mu_);
    const uint32_t stream = next_stream_;
    next_stream_ += 2;
    WriteLocked(Frame(0x1, 0x4, stream, Headers(method)));
    return stream;
  }

  // Lets the server send `bytes` more on `stream` (a WINDOW_UPDATE for the
  // stream and one for the connection): a client that reads, slowly.
  void Grant(uint32_t stream, uint32_t bytes) {
    std::string increment(4, '\0');
    for (int i = 0; i < 4; ++i) increment[i] = static_cast<char>(bytes >> (24 - 8 * i));
    Write(Frame(0x8, 0, stream, increment) + Frame(0x8, 0, 0, increment));
  }

  // Whether the server has sent `stream`'s response headers.
  bool Answered(uint32_t stream) const {
    std::lock_guard<std::mutex> lock(state_mu_);
    auto it = streams_.find(stream);
    return it != streams_.end() && it->second.headers > 0;
  }
  // Whether the server has ended `stream` (trailers or RST_STREAM).
  bool Ended(uint32_t stream) const {
    std::lock_guard<std::mutex> lock(state_mu_);
    auto it = streams_.find(stream);
    return it != streams_.end() && it->second.ended;
  }
  // What ended streams or the connection, in order: "RST_STREAM s code",
  // "GOAWAY code", "EOF".
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return events_;
  }
  // Message bytes received on all streams (0 while nothing is read).
  uint64_t data_bytes() const { return data_bytes_.load(); }

 private:
  struct Stream {
    int headers = 0;  // HEADERS frames received
    bool ended = false;
  };

  static std::string Frame(uint8_t type, uint8_t flags, uint32_t stream,
                           const std::string& payload) {
    std::string f(9, '\0');
    const uint32_t n = static_cast<uint32_t>(payload.size());
    f[0] = static_cast<char>(n >> 16);
    f[1] = static_cast<char>(n >> 8);
    f[2] = static_cast<char>(n);
    f[3] = static_cast<char>(type);
    f[4] = static_cast<char>(flags);
    for (int i = 0; i < 4; ++i)
      f[5 + i] = static_cast<char>(stream >> (24 - 8 * i));
    return f + payload;
  }

  std::string Headers(const std::string& method) const {
    return Header(":method", "POST") + Header(":scheme", "http") +
           Header(":path", method) +
           Header(":authority", "127.0.0.1:" + std::to_string(port_)) +
           Header("content-type", "application/grpc") +
           Header("te", "trailers");
  }

  // An HPACK literal without indexing, with a new name (both under 127
  // bytes, not Huffman coded).
  static std::string Header(const std::string& name, const std::string& value) {
    return std::string(1, '\0') + static_cast<char>(name.size()) + name +
           static_cast<char>(value.size()) + value;
  }

  void Write(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(write_mu_);
    WriteLocked(bytes);
  }
  void WriteLocked(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  bool ReadFull(char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::recv(fd_, out + done, n - done, 0);
      if (got <= 0) return false;
      done += static_cast<size_t>(got);
    }
    return true;
  }

  static uint32_t Be32(const std::string& b, size_t at) {
    uint32_t v = 0;
    for (size_t i = at; i < at + 4 && i < b.size(); ++i)
      v = (v << 8) | uint8_t(b[i]);
    return v;
  }

  void Read() {
    ReadFrames();
    std::lock_guard<std::mutex> lock(state_mu_);
    events_.push_back("EOF");
  }

  void ReadFrames() {
    char h[9];
    while (ReadFull(h, 9)) {
      const uint32_t n = (uint32_t(uint8_t(h[0])) << 16) |
                         (uint32_t(uint8_t(h[1])) << 8) | uint8_t(h[2]);
      const uint8_t type = static_cast<uint8_t>(h[3]),
                    flags = static_cast<uint8_t>(h[4]);
      uint32_t stream = 0;
      for (int i = 0; i < 4; ++i) stream = (stream << 8) | uint8_t(h[5 + i]);
      stream &= 0x7fffffff;
      std::string payload(n, '\0');
      if (n > 0 && !ReadFull(payload.data(), n)) return;
      if (type == 0x4 && !(flags & 0x1)) {
        Write(Frame(0x4, 0x1, 0, ""));  // SETTINGS ACK
      } else if (type == 0x6 && !(flags & 0x1)) {
        Write(Frame(0x6, 0x1, 0, payload));  // PING ACK
      } else if (type == 0x0) {
        data_bytes_ += n;
      }
      std::lock_guard<std::mutex> lock(state_mu_);
      if (type == 0x1) {
        Stream& s = streams_[stream];
        ++s.headers;
        if (flags & 0x1) s.ended = true;
      } else if (type == 0x3) {
        streams_[stream].ended = true;
        events_.push_back("RST_STREAM " + std::to_string(stream) + " " +
                          std::to_string(Be32(payload, 0)));
      } else if (type == 0x7) {
        events_.push_back("GOAWAY " + std::to_string(Be32(payload, 4)));
      } else if (type == 0x0 && (flags & 0x1)) {
        streams_[stream].ended = true;
      }
    }
  }

  uint16_t port_;
  int fd_ = -1;
  std::thread reader_;
  std::mutex write_mu_;
  uint32_t next_stream_ = 1;  // guarded by write_mu_
  mutable std::mutex state_mu_;
  std::map<uint32_t, Stream> streams_;  // guarded by state_mu_
  std::vector<std::string> events_;     // likewise
  std::atomic<uint64_t> data_bytes_{0};
};

}  // namespace swarm::net::testing

#endif  // SWARM_TESTS_NET_STALLED_GRPC_CLIENT_H_
