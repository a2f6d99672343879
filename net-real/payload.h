// Payload: a block's bytes, handed from the disk to the transport and from
// the transport to the disk without being copied.
//
// The bytes may lie in several pieces (a received message arrives in the
// transport's buffers, one per socket read), all kept alive by an opaque
// owner: a std::string, or the transport's reference-counted buffers. No
// gRPC type appears here, so drivers and storage stay free of them.
//
// Thread-compatible. The bytes are immutable: a Payload (or a copy) may be
// moved to and read on any thread.
#ifndef SWARM_NET_PAYLOAD_H_
#define SWARM_NET_PAYLOAD_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace swarm::net {

class Payload {
 public:
  Payload() = default;
  // Takes the string's bytes (no copy).
  explicit Payload(std::string bytes);
  // `parts` point into memory that `owner` keeps alive (nullptr owner: the
  // caller guarantees the memory outlives every use of this Payload).
  Payload(std::shared_ptr<const void> owner, std::vector<std::string_view> parts);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::vector<std::string_view>& parts() const { return parts_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // The bytes from `offset` on, sharing the owner. REQUIRES: offset <= size().
  Payload Suffix(size_t offset) const;
  // Copies up to `n` leading bytes into `out`; returns how many.
  size_t CopyPrefix(char* out, size_t n) const;
  // A contiguous copy (tests, and messages that are not on the fast path).
  std::string ToString() const;

 private:
  std::shared_ptr<const void> owner_;
  std::vector<std::string_view> parts_;
  size_t size_ = 0;
};

}  // namespace swarm::net

#endif  // SWARM_NET_PAYLOAD_H_
