// SHA-256 through OpenSSL's EVP interface (libcrypto), the only dependency of
// swarm_core besides the standard library. Hashing is pure computation, not
// I/O, so it belongs here; reading the bytes to hash is the driver's job.
#ifndef SWARM_CORE_SHA256_H_
#define SWARM_CORE_SHA256_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace swarm::core {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::span<const uint8_t> data);
std::string ToHex(std::span<const uint8_t> bytes);

// Incremental hashing for data that arrives in blocks.
// Not copyable; thread-compatible.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::span<const uint8_t> data);
  // Returns the digest and resets the hasher for reuse.
  Sha256Digest Finish();

 private:
  ::evp_md_ctx_st* ctx_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_SHA256_H_
