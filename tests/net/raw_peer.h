// Helpers for tests that play a peer by hand on a raw gRPC stream: the
// authentication exchange every stream opens with (net-real/peer_auth.h),
// honestly or not.
#ifndef SWARM_TESTS_NET_RAW_PEER_H_
#define SWARM_TESTS_NET_RAW_PEER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "net-real/peer_auth.h"
#include "net-real/wire_codec.h"
#include "proto/peer.grpc.pb.h"

namespace swarm::net {

using RawStream = grpc::ClientReaderWriter<wire::WireMessage, wire::WireMessage>;

inline wire::WireMessage ToWire(const AuthMessage& m) {
  wire::WireMessage w;
  EncodeAuth(m, &w);
  return w;
}

// A handshake of the right shape whose key is not a real one: enough for
// the transport, which routes without checking keys.
inline AuthHello ShapedHello(const core::InfoHash& hash, uint64_t id) {
  return AuthHello{hash, core::PeerId(id), std::string(kPublicKeyBytes, 'k'),
                   std::string(kNonceBytes, 'n')};
}

// Reads the listener's first two messages, its handshake and its proof.
// False (and *error) if the stream ends first or they are not those.
inline bool ReadHelloAndProof(RawStream* s, AuthHello* hello, AuthProof* proof,
                              std::string* error) {
  wire::WireMessage in;
  if (!s->Read(&in)) return (*error = "stream ended before the handshake", false);
  auto h = DecodeAuthMessage(in, error);
  if (!h || !std::holds_alternative<AuthHello>(*h)) {
    if (h) *error = "first message is not a handshake";
    return false;
  }
  if (!s->Read(&in)) return (*error = "stream ended before the proof", false);
  auto p = DecodeAuthMessage(in, error);
  if (!p || !std::holds_alternative<AuthProof>(*p)) {
    if (p) *error = "second message is not a proof";
    return false;
  }
  *hello = std::get<AuthHello>(*h);
  *proof = std::get<AuthProof>(*p);
  return true;
}

// The whole exchange, honestly, as the dialer with identity `me`: checks
// the listener's proof and sends ours. Returns what we sent as proof (a
// test may replay it), or nullopt and *error.
inline std::optional<AuthProof> RawAuthenticate(RawStream* s, const core::InfoHash& hash,
                                                std::shared_ptr<const PeerIdentity> me,
                                                std::string* error) {
  PeerAuth auth(std::move(me), hash, AuthRole::kDialer, std::nullopt);
  if (!s->Write(ToWire(auth.hello()))) return (*error = "cannot send the handshake", std::nullopt);
  AuthHello hello;
  AuthProof theirs;
  if (!ReadHelloAndProof(s, &hello, &theirs, error)) return std::nullopt;
  std::optional<AuthProof> ours = auth.OnHello(hello, error);
  if (!ours || !auth.OnProof(theirs, error)) return std::nullopt;
  if (!s->Write(ToWire(*ours))) return (*error = "cannot send the proof", std::nullopt);
  return ours;
}

}  // namespace swarm::net

#endif  // SWARM_TESTS_NET_RAW_PEER_H_
