// Announces signed as TrackerClient signs them, built by hand so that tests
// can speak to a tracker directly and tamper with any field.
#ifndef SWARM_TESTS_NET_SIGNED_ANNOUNCE_H_
#define SWARM_TESTS_NET_SIGNED_ANNOUNCE_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "core/announce.h"
#include "net-real/peer_auth.h"
#include "net-real/tracker_rpc.h"
#include "proto/tracker.grpc.pb.h"

namespace swarm::net::testing {

// What the tracker reads out of `w` (the endpoint as sent).
inline core::AnnounceRequest FromWire(const wire::AnnounceRequest& w) {
  core::AnnounceRequest a;
  std::copy(w.info_hash().begin(), w.info_hash().end(), a.info_hash.begin());
  a.peer = core::PeerAddress{core::PeerId(w.peer_id()), w.endpoint()};
  a.event = static_cast<core::AnnounceEvent>(w.event());
  a.uploaded = static_cast<core::Bytes>(w.uploaded());
  a.downloaded = static_cast<core::Bytes>(w.downloaded());
  a.left = static_cast<core::Bytes>(w.left());
  a.numwant = w.numwant();
  return a;
}

// Signs `w` as it stands (its public key and counter included) with
// `signer`'s private key, whoever's key `w` names.
inline void Resign(const PeerIdentity& signer, wire::AnnounceRequest* w) {
  w->set_signature(signer.Sign(AnnounceTranscript(FromWire(*w), w->public_key(), w->counter())));
}

// An honest announce of `key`'s id: a leecher unless `left` is 0.
inline wire::AnnounceRequest SignedAnnounce(
    const PeerIdentity& key, const core::InfoHash& hash, const std::string& endpoint,
    wire::AnnounceRequest::Event event = wire::AnnounceRequest::NONE, uint64_t left = 1) {
  wire::AnnounceRequest w;
  w.set_info_hash(hash.data(), hash.size());
  w.set_peer_id(key.id().value());
  w.set_endpoint(endpoint);
  w.set_event(event);
  w.set_left(left);
  w.set_numwant(50);
  w.set_public_key(key.public_key());
  w.set_counter(key.NextAnnounceCounter(WallClockMicros()));
  Resign(key, &w);
  return w;
}

inline grpc::Status CallAnnounce(wire::Tracker::Stub* stub, const wire::AnnounceRequest& req,
                                 wire::AnnounceResponse* resp) {
  resp->Clear();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub->Announce(&ctx, req, resp);
}

}  // namespace swarm::net::testing

#endif  // SWARM_TESTS_NET_SIGNED_ANNOUNCE_H_
