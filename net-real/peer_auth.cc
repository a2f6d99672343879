#include "net-real/peer_auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <span>
#include <utility>

#include "core/check.h"
#include "core/sha256.h"

namespace swarm::net {
namespace {

// Versioned, so that a later transcript layout can never be confused with
// this one.
constexpr std::string_view kTranscriptLabel = "swarmlab peer-auth v1";
constexpr std::string_view kAnnounceLabel = "swarmlab tracker-announce v1";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void PutU64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// A field of any length, unambiguously: its length (4 bytes, big-endian),
// then its bytes.
void PutField(std::string_view field, std::string* out) {
  const auto n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(n >> shift));
  out->append(field);
}

const char* RoleName(AuthRole r) { return r == AuthRole::kDialer ? "dialer" : "listener"; }

}  // namespace

core::PeerId PeerIdFromPublicKey(std::string_view public_key) {
  const core::Sha256Digest d = core::Sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(public_key.data()),
                               public_key.size()));
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = id << 8 | d[i];
  return core::PeerId(id);
}

bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (public_key.size() != kPublicKeyBytes || signature.size() != kSignatureBytes) {
    return false;
  }
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key),
                                       public_key.size()));
  if (!key) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  SWARM_CHECK(ctx != nullptr);
  // Ed25519 hashes internally: no digest is named (RFC 8032, "pure" mode).
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                          message.size()) == 1;
}

std::string RandomNonce() {
  std::string nonce(kNonceBytes, '\0');
  SWARM_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()),
                         static_cast<int>(nonce.size())) == 1);
  return nonce;
}

PeerIdentity::PeerIdentity(EVP_PKEY* key) : key_(key) {
  size_t n = kPublicKeyBytes;
  public_key_.assign(kPublicKeyBytes, '\0');
  SWARM_CHECK(EVP_PKEY_get_raw_public_key(
                  key_, reinterpret_cast<unsigned char*>(public_key_.data()), &n) == 1 &&
              n == kPublicKeyBytes);
  id_ = PeerIdFromPublicKey(public_key_);
}

PeerIdentity::~PeerIdentity() { EVP_PKEY_free(key_); }

std::shared_ptr<const PeerIdentity> PeerIdentity::Generate() {
  EVP_PKEY* key = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  SWARM_CHECK(ctx != nullptr);
  SWARM_CHECK(EVP_PKEY_keygen_init(ctx.get()) == 1);
  SWARM_CHECK(EVP_PKEY_keygen(ctx.get(), &key) == 1 && key != nullptr);
  return std::shared_ptr<const PeerIdentity>(new PeerIdentity(key));
}

std::shared_ptr<const PeerIdentity> PeerIdentity::FromPrivateKey(std::string_view raw) {
  if (raw.size() != kPrivateKeyBytes) return nullptr;
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size());
  if (key == nullptr) return nullptr;
  return std::shared_ptr<const PeerIdentity>(new PeerIdentity(key));
}

std::string PeerIdentity::Sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  SWARM_CHECK(ctx != nullptr);
  SWARM_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) == 1);
  std::string sig(kSignatureBytes, '\0');
  size_t n = sig.size();
  SWARM_CHECK(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                             Bytes(message), message.size()) == 1 &&
              n == kSignatureBytes);
  return sig;
}

std::string ProofTranscript(const core::InfoHash& info_hash, AuthRole signer_role,
                            core::PeerId signer, std::string_view signer_public_key,
                            core::PeerId verifier, std::string_view verifier_nonce,
                            std::string_view signer_nonce) {
  std::string t;
  PutField(kTranscriptLabel, &t);
  PutField(std::string_view(reinterpret_cast<const char*>(info_hash.data()), info_hash.size()),
           &t);
  PutField(RoleName(signer_role), &t);
  PutU64(signer.value(), &t);
  PutField(signer_public_key, &t);
  PutU64(verifier.value(), &t);
  PutField(verifier_nonce, &t);
  PutField(signer_nonce, &t);
  return t;
}

uint64_t PeerIdentity::NextAnnounceCounter(uint64_t now_us) const {
  uint64_t last = last_counter_.load();
  uint64_t next;
  do {
    next = last + 1 > now_us + kAnnounceWindowMicros ? now_us : std::max(now_us, last + 1);
  } while (!last_counter_.compare_exchange_weak(last, next));
  return next;
}

std::string AnnounceTranscript(const core::AnnounceRequest& request,
                               std::string_view public_key, uint64_t counter) {
  std::string t;
  PutField(kAnnounceLabel, &t);
  PutField(std::string_view(reinterpret_cast<const char*>(request.info_hash.data()),
                            request.info_hash.size()),
           &t);
  PutU64(request.peer.id.value(), &t);
  PutField(request.peer.endpoint, &t);
  PutField(core::AnnounceEventName(request.event), &t);
  // As the wire carries them (uint64): the same bytes on both sides.
  PutU64(static_cast<uint64_t>(request.uploaded), &t);
  PutU64(static_cast<uint64_t>(request.downloaded), &t);
  PutU64(static_cast<uint64_t>(request.left), &t);
  PutU64(request.numwant, &t);
  PutField(public_key, &t);
  PutU64(counter, &t);
  return t;
}

AnnounceSignature SignAnnounce(const PeerIdentity& self, const core::AnnounceRequest& request,
                               uint64_t now_us) {
  SWARM_CHECK(request.peer.id == self.id());
  AnnounceSignature s;
  s.public_key = self.public_key();
  s.counter = self.NextAnnounceCounter(now_us);
  s.signature = self.Sign(AnnounceTranscript(request, s.public_key, s.counter));
  return s;
}

std::optional<std::string> VerifyAnnounce(const core::AnnounceRequest& request,
                                          const AnnounceSignature& sig) {
  if (sig.public_key.empty() && sig.signature.empty()) {
    return "announce is not signed (a public key and signature are required)";
  }
  if (sig.public_key.size() != kPublicKeyBytes) {
    return "announce public key is " + std::to_string(sig.public_key.size()) +
           " bytes, not " + std::to_string(kPublicKeyBytes);
  }
  if (sig.signature.size() != kSignatureBytes) {
    return "announce signature is " + std::to_string(sig.signature.size()) + " bytes, not " +
           std::to_string(kSignatureBytes);
  }
  if (PeerIdFromPublicKey(sig.public_key) != request.peer.id) {
    return "announced id " + std::to_string(request.peer.id.value()) +
           " is not the one its public key names";
  }
  if (!VerifySignature(sig.public_key, AnnounceTranscript(request, sig.public_key, sig.counter),
                       sig.signature)) {
    return "announce signature for id " + std::to_string(request.peer.id.value()) +
           " does not verify";
  }
  return std::nullopt;
}

PeerAuth::PeerAuth(std::shared_ptr<const PeerIdentity> self, const core::InfoHash& info_hash,
                   AuthRole role, std::optional<core::PeerId> expect, std::string nonce)
    : self_(std::move(self)), role_(role), expect_(expect) {
  SWARM_CHECK(self_ != nullptr);
  ours_ = AuthHello{info_hash, self_->id(), self_->public_key(), std::move(nonce)};
}

bool PeerAuth::Fail(std::string* error, std::string why, core::DisconnectReason reason) {
  state_ = State::kFailed;
  failure_ = reason;
  *error = std::move(why);
  return false;
}

std::optional<AuthProof> PeerAuth::OnHello(const AuthHello& theirs, std::string* error) {
  if (state_ != State::kAwaitHello) {
    Fail(error, "a second handshake", core::DisconnectReason::kUnexpectedHandshake);
    return std::nullopt;
  }
  std::string why;
  core::DisconnectReason reason = core::DisconnectReason::kBadHandshake;
  if (theirs.info_hash != ours_.info_hash) {
    why = "handshake names another torrent";
    reason = core::DisconnectReason::kWrongInfoHash;
  } else if (theirs.public_key.size() != kPublicKeyBytes || theirs.nonce.size() != kNonceBytes) {
    why = "handshake public key or nonce has the wrong length";
  } else if (PeerIdFromPublicKey(theirs.public_key) != theirs.peer_id) {
    why = "claimed id " + std::to_string(theirs.peer_id.value()) +
          " is not the one its public key names";
  } else if (theirs.nonce == ours_.nonce) {
    why = "handshake echoes our own nonce";
  } else if (expect_ && theirs.peer_id == self_->id()) {
    // Our id with a nonce of its own: our own listener answered. Only a
    // dialer asks: it knows which address that was, and tells the core so
    // that it is not dialed again (the listener's end is closed with it).
    why = "dialed peer " + std::to_string(expect_->value()) + " but reached ourselves";
    reason = core::DisconnectReason::kSelfConnection;
  } else if (expect_ && theirs.peer_id != *expect_) {
    why = "dialed peer " + std::to_string(expect_->value()) + " but the remote is " +
          std::to_string(theirs.peer_id.value());
    reason = core::DisconnectReason::kWrongPeer;
  }
  if (!why.empty()) {
    Fail(error, std::move(why), reason);
    return std::nullopt;
  }
  theirs_ = theirs;
  state_ = State::kAwaitProof;
  return AuthProof{self_->Sign(ProofTranscript(ours_.info_hash, role_, self_->id(),
                                               self_->public_key(), theirs_.peer_id,
                                               theirs_.nonce, ours_.nonce))};
}

bool PeerAuth::OnProof(const AuthProof& proof, std::string* error) {
  if (state_ == State::kAwaitHello) {
    return Fail(error, "proof before handshake", core::DisconnectReason::kBadHandshake);
  }
  if (state_ != State::kAwaitProof) {
    return Fail(error, "a second proof", core::DisconnectReason::kBadHandshake);
  }
  const AuthRole theirs_role = role_ == AuthRole::kDialer ? AuthRole::kListener
                                                          : AuthRole::kDialer;
  const std::string transcript =
      ProofTranscript(ours_.info_hash, theirs_role, theirs_.peer_id, theirs_.public_key,
                      self_->id(), ours_.nonce, theirs_.nonce);
  if (!VerifySignature(theirs_.public_key, transcript, proof.signature)) {
    return Fail(error,
                "proof of id " + std::to_string(theirs_.peer_id.value()) + " does not verify",
                core::DisconnectReason::kBadHandshake);
  }
  state_ = State::kDone;
  return true;
}

}  // namespace swarm::net
