#include "core/sha256.h"

#include <openssl/evp.h>

#include "core/check.h"

namespace swarm::core {

Sha256Digest Sha256(std::span<const uint8_t> data) {
  Sha256Hasher h;
  h.Update(data);
  return h.Finish();
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  SWARM_CHECK(ctx_ != nullptr);
  SWARM_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  SWARM_CHECK(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1);
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest d{};
  unsigned int len = 0;
  SWARM_CHECK(EVP_DigestFinal_ex(ctx_, d.data(), &len) == 1 && len == 32);
  SWARM_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
  return d;
}

}  // namespace swarm::core
