#include "net-real/payload.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace swarm::net {

Payload::Payload(std::string bytes) {
  if (bytes.empty()) return;
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  parts_.push_back(std::string_view(*owned));
  size_ = owned->size();
  owner_ = std::move(owned);
}

Payload::Payload(std::shared_ptr<const void> owner, std::vector<std::string_view> parts)
    : owner_(std::move(owner)) {
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    size_ += p.size();
    parts_.push_back(p);
  }
}

Payload Payload::Suffix(size_t offset) const {
  SWARM_CHECK(offset <= size_);
  std::vector<std::string_view> rest;
  for (std::string_view p : parts_) {
    if (offset >= p.size()) {
      offset -= p.size();
      continue;
    }
    rest.push_back(p.substr(offset));
    offset = 0;
  }
  return Payload(owner_, std::move(rest));
}

size_t Payload::CopyPrefix(char* out, size_t n) const {
  size_t done = 0;
  for (std::string_view p : parts_) {
    if (done == n) break;
    size_t k = std::min(n - done, p.size());
    std::memcpy(out + done, p.data(), k);
    done += k;
  }
  return done;
}

std::string Payload::ToString() const {
  std::string out;
  out.reserve(size_);
  for (std::string_view p : parts_) out.append(p);
  return out;
}

}  // namespace swarm::net
