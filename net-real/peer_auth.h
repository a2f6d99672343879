// Peer authentication on the real wire: a remote's peer id is proven, not
// just claimed.
//
// Each PeerDriver holds a PeerIdentity, an Ed25519 key pair (RFC 8032,
// through OpenSSL's libcrypto) whose public key names its peer id: the
// first 8 bytes of SHA-256(public key), big-endian (PeerIdFromPublicKey).
// Without the private key nobody can prove that id, so a peer cannot take
// another's id to get it struck or banned (core::Peer keys strikes and bans
// by peer id, and on loopback every peer shares one IP address).
//
// A connection opens with two messages in each direction (proto/peer.proto):
//   AuthHello (the wire Handshake): info-hash, peer id, public key and a
//     nonce, 32 random bytes fresh for this connection;
//   AuthProof: a signature over ProofTranscript, which names the other
//     side's nonce, both ids and the signer's role, so a proof made for one
//     connection (or for the other direction) is worthless on another.
// PeerAuth runs one connection's exchange without I/O or clock: the driver
// feeds it what arrives, sends what it returns, and hands the connection to
// the core only once Done(). It keeps the timeout itself.
//
// The same key signs every announce to the tracker (SignAnnounce below):
// the tracker checks the signature and a counter before its core sees the
// announce (tracker_rpc.cc), so nobody can announce under another's id.
//
// What this does not do: encrypt or integrity-protect what follows the
// proofs (the stream is plain gRPC); see docs/real-network.md, "Limits and
// known gaps".
//
// PeerIdentity is thread-safe; apart from its announce counter (an atomic)
// it is immutable once made. PeerAuth is
// thread-compatible (one per connection, on its driver's thread).
#ifndef SWARM_NET_PEER_AUTH_H_
#define SWARM_NET_PEER_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <atomic>
#include <cstdint>

#include "core/action.h"
#include "core/announce.h"
#include "core/torrent_info.h"
#include "core/types.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace swarm::net {

// Ed25519 sizes (RFC 8032) and the nonce length (256 bits: never repeats).
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kPrivateKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kNonceBytes = 32;

// The peer id a public key names. Any byte string is accepted (it is only
// hashed); whether it is a usable key shows when a signature is checked.
core::PeerId PeerIdFromPublicKey(std::string_view public_key);

// True if `signature` is `public_key`'s Ed25519 signature of `message`.
// Malformed keys or signatures are simply false.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// kNonceBytes from OpenSSL's random generator.
std::string RandomNonce();

// How far an announce's counter (microseconds of the announcer's wall
// clock) may be from the tracker's wall clock, either way: clocks a few
// minutes apart still work, and older counters need not be remembered.
inline constexpr uint64_t kAnnounceWindowMicros = 300ull * 1000 * 1000;

class PeerIdentity {
 public:
  // A fresh key pair from OpenSSL's random generator.
  static std::shared_ptr<const PeerIdentity> Generate();
  // The key pair of a 32-byte Ed25519 private key; nullptr if it is not
  // 32 bytes. For tests that need the same identity twice.
  static std::shared_ptr<const PeerIdentity> FromPrivateKey(std::string_view raw);

  ~PeerIdentity();
  PeerIdentity(const PeerIdentity&) = delete;
  PeerIdentity& operator=(const PeerIdentity&) = delete;

  core::PeerId id() const { return id_; }
  const std::string& public_key() const { return public_key_; }
  // The Ed25519 signature (kSignatureBytes) of `message`.
  std::string Sign(std::string_view message) const;

  // The counter for this key's next announce: `now_us` (microseconds of
  // the wall clock since the Unix epoch), or one more than the last one
  // handed out if that is not below it, so that the counters of one key
  // strictly increase even when the clock steps back or two announces
  // share a microsecond. Except after a correction of more than
  // kAnnounceWindowMicros: counters that far ahead are refused by every
  // tracker, so keeping them would shut the peer out until real time
  // caught up; the counter starts again from `now_us`.
  uint64_t NextAnnounceCounter(uint64_t now_us) const;

 private:
  explicit PeerIdentity(::evp_pkey_st* key);
  ::evp_pkey_st* key_;  // owned
  std::string public_key_;
  core::PeerId id_;
  mutable std::atomic<uint64_t> last_counter_{0};
};

// --- Signed announces -------------------------------------------------------
//
// An announce carries the announcer's public key, a counter and a signature
// over AnnounceTranscript. The tracker (tracker_rpc.cc) refuses it unless
// the key names the announced id, the signature verifies, and the counter
// is recent and above every counter it has accepted for that id and file
// (AnnounceReplayGuard): so nobody can announce under another's id, and a
// copy of an announce is worth nothing once the original has arrived.

struct AnnounceSignature {
  std::string public_key;  // kPublicKeyBytes
  uint64_t counter = 0;    // PeerIdentity::NextAnnounceCounter
  std::string signature;   // kSignatureBytes
  bool operator==(const AnnounceSignature&) const = default;
};

// The bytes an announce's signature covers: a versioned domain-separation
// label (so it means nothing as a peer-auth proof, or to any other
// protocol), then every field of `request` (info-hash, peer id, endpoint
// exactly as sent, before the tracker fills in a host; event, uploaded,
// downloaded, left, numwant), the public key and the counter.
std::string AnnounceTranscript(const core::AnnounceRequest& request,
                               std::string_view public_key, uint64_t counter);

// Signs `request` (whose peer id must be `self`'s) with the next counter of
// `self` at wall-clock time `now_us`.
AnnounceSignature SignAnnounce(const PeerIdentity& self, const core::AnnounceRequest& request,
                               uint64_t now_us);

// Why `request` is not proven by `sig` (missing or malformed key or
// signature, a key that names another id, a signature that does not
// verify), or nullopt if it is. The counter's freshness is the tracker's
// to judge (AnnounceReplayGuard).
std::optional<std::string> VerifyAnnounce(const core::AnnounceRequest& request,
                                          const AnnounceSignature& sig);

enum class AuthRole { kDialer, kListener };

// What each side sends first (the wire Handshake).
struct AuthHello {
  core::InfoHash info_hash{};
  core::PeerId peer_id;
  std::string public_key;  // kPublicKeyBytes
  std::string nonce;       // kNonceBytes
  bool operator==(const AuthHello&) const = default;
};

// What each side sends second: a signature over ProofTranscript.
struct AuthProof {
  std::string signature;  // kSignatureBytes
  bool operator==(const AuthProof&) const = default;
};

// The bytes an AuthProof signs: a domain-separation label (so the
// signature means nothing to any other protocol), the info-hash, the
// signer's role, id and public key, the verifier's id, the verifier's
// nonce (freshness: no replay) and the signer's own nonce.
std::string ProofTranscript(const core::InfoHash& info_hash, AuthRole signer_role,
                            core::PeerId signer, std::string_view signer_public_key,
                            core::PeerId verifier, std::string_view verifier_nonce,
                            std::string_view signer_nonce);

// One connection's exchange, from one side.
//
// Invariants: the remote's hello is accepted at most once, and only if its
// public key names its id and matches `expect`; Done() only after a proof
// that verifies against that key over this connection's nonce; after any
// error nothing more is accepted (Failed()).
class PeerAuth {
 public:
  // `expect`: for a dialer, the id it meant to reach (the tracker's listing
  // for that address); a listener takes whoever proves its id. `nonce`:
  // ours for this connection (tests pin it; otherwise RandomNonce()).
  // REQUIRES: self is non-null.
  PeerAuth(std::shared_ptr<const PeerIdentity> self, const core::InfoHash& info_hash,
           AuthRole role, std::optional<core::PeerId> expect,
           std::string nonce = RandomNonce());

  // Ours: the first message to send.
  const AuthHello& hello() const { return ours_; }
  AuthRole role() const { return role_; }

  // The remote's hello. Returns our proof, to send after our hello; or
  // nullopt and *error (close the connection).
  std::optional<AuthProof> OnHello(const AuthHello& theirs, std::string* error);
  // The remote's proof. True: the remote holds the key of its claimed id;
  // false and *error: close the connection.
  bool OnProof(const AuthProof& proof, std::string* error);

  bool Done() const { return state_ == State::kDone; }
  bool Failed() const { return state_ == State::kFailed; }
  // Why it failed, as the core names it: kWrongInfoHash, kSelfConnection
  // (a dial that reached ourselves), kWrongPeer (a dial answered by another
  // id than `expect`), kUnexpectedHandshake (a second one), kBadHandshake
  // (a malformed one, or a proof that fails). REQUIRES: Failed().
  core::DisconnectReason failure() const { return failure_; }
  // REQUIRES: Done(), or at least OnHello succeeded.
  const AuthHello& remote() const { return theirs_; }

 private:
  enum class State { kAwaitHello, kAwaitProof, kDone, kFailed };
  bool Fail(std::string* error, std::string why, core::DisconnectReason reason);

  std::shared_ptr<const PeerIdentity> self_;
  AuthRole role_;
  std::optional<core::PeerId> expect_;
  AuthHello ours_;
  AuthHello theirs_;
  State state_ = State::kAwaitHello;
  core::DisconnectReason failure_ = core::DisconnectReason::kBadHandshake;
};

}  // namespace swarm::net

#endif  // SWARM_NET_PEER_AUTH_H_
