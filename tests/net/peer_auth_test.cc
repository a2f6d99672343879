// The authentication exchange without a network: two PeerAuth objects, one
// per side, and an attacker's variations on what one side sends.
#include "net-real/peer_auth.h"

#include <gtest/gtest.h>

#include <string>

#include "core/sha256.h"
#include "core/torrent_info.h"
#include "net-real/wire_codec.h"

namespace swarm::net {
namespace {

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// RFC 8032, section 7.1, TEST 1 (empty message).
TEST(PeerIdentityTest, SignsAsRfc8032Says) {
  auto id = PeerIdentity::FromPrivateKey(
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->public_key(),
            Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  const std::string sig = id->Sign("");
  EXPECT_EQ(sig, Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb"
                       "8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_TRUE(VerifySignature(id->public_key(), "", sig));
  EXPECT_FALSE(VerifySignature(id->public_key(), "x", sig));
  EXPECT_FALSE(VerifySignature(id->public_key(), "", sig.substr(1)));
  EXPECT_FALSE(VerifySignature("short key", "", sig));
  EXPECT_FALSE(PeerIdentity::FromPrivateKey("short"));
}

TEST(PeerIdentityTest, TheIdIsTheFirstEightBytesOfTheKeysHash) {
  auto id = PeerIdentity::Generate();
  const std::string& key = id->public_key();
  const core::Sha256Digest d = core::Sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) want = want << 8 | d[i];
  EXPECT_EQ(id->id(), core::PeerId(want));
  EXPECT_EQ(PeerIdFromPublicKey(key), id->id());
  EXPECT_NE(PeerIdentity::Generate()->id(), id->id());
}

class PeerAuthTest : public ::testing::Test {
 protected:
  core::InfoHash hash_ = core::TorrentInfo::Synthetic("t", 1 << 20, 1 << 18).info_hash();
  std::shared_ptr<const PeerIdentity> a_ = PeerIdentity::Generate();  // dials
  std::shared_ptr<const PeerIdentity> b_ = PeerIdentity::Generate();  // listens
  std::shared_ptr<const PeerIdentity> m_ = PeerIdentity::Generate();  // an impostor
  std::string error_;
};

TEST_F(PeerAuthTest, HonestPeersProveTheirIdsToEachOther) {
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, b_->id());
  PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
  EXPECT_EQ(dialer.hello().peer_id, a_->id());
  EXPECT_NE(dialer.hello().nonce, listener.hello().nonce);
  auto from_listener = listener.OnHello(dialer.hello(), &error_);
  ASSERT_TRUE(from_listener) << error_;
  auto from_dialer = dialer.OnHello(listener.hello(), &error_);
  ASSERT_TRUE(from_dialer) << error_;
  ASSERT_TRUE(dialer.OnProof(*from_listener, &error_)) << error_;
  ASSERT_TRUE(listener.OnProof(*from_dialer, &error_)) << error_;
  EXPECT_TRUE(dialer.Done());
  EXPECT_TRUE(listener.Done());
  EXPECT_EQ(dialer.remote().peer_id, b_->id());
  EXPECT_EQ(listener.remote().peer_id, a_->id());
}

// The impostor claims a's id. With its own key the id does not match;
// with a's public key (which a's handshakes show to anyone) it cannot sign.
TEST_F(PeerAuthTest, AClaimedIdWithoutItsKeyIsRefused) {
  {
    PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
    PeerAuth impostor(m_, hash_, AuthRole::kDialer, std::nullopt);
    AuthHello claim = impostor.hello();
    claim.peer_id = a_->id();
    EXPECT_FALSE(listener.OnHello(claim, &error_));
    EXPECT_NE(error_.find("is not the one its public key names"), std::string::npos) << error_;
    EXPECT_TRUE(listener.Failed());
  }
  PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
  AuthHello claim{hash_, a_->id(), a_->public_key(), RandomNonce()};
  ASSERT_TRUE(listener.OnHello(claim, &error_)) << error_;  // so far, only public facts
  // Signed by the impostor's own key over the right transcript.
  const std::string transcript =
      ProofTranscript(hash_, AuthRole::kDialer, a_->id(), a_->public_key(), b_->id(),
                      listener.hello().nonce, claim.nonce);
  EXPECT_FALSE(listener.OnProof(AuthProof{m_->Sign(transcript)}, &error_));
  EXPECT_NE(error_.find("does not verify"), std::string::npos) << error_;
  EXPECT_FALSE(listener.Done());
  // Nothing more is accepted after a failure.
  EXPECT_FALSE(listener.OnProof(AuthProof{a_->Sign(transcript)}, &error_));
}

TEST_F(PeerAuthTest, ABadSignatureIsRefused) {
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, std::nullopt);
  PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
  ASSERT_TRUE(listener.OnHello(dialer.hello(), &error_));
  auto proof = dialer.OnHello(listener.hello(), &error_);
  ASSERT_TRUE(proof);
  proof->signature[10] ^= 1;
  EXPECT_FALSE(listener.OnProof(*proof, &error_));
  EXPECT_FALSE(listener.OnProof(AuthProof{std::string(kSignatureBytes, '\0')}, &error_));
}

// a's proof from one connection, replayed by the impostor on another: the
// listener's nonce is new, so the proof names the wrong one.
TEST_F(PeerAuthTest, AProofReplayedOnAnotherConnectionIsRefused) {
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, std::nullopt);
  PeerAuth first(b_, hash_, AuthRole::kListener, std::nullopt);
  ASSERT_TRUE(first.OnHello(dialer.hello(), &error_));
  auto recorded = dialer.OnHello(first.hello(), &error_);
  ASSERT_TRUE(first.OnProof(*recorded, &error_)) << error_;

  PeerAuth second(b_, hash_, AuthRole::kListener, std::nullopt);
  ASSERT_TRUE(second.OnHello(dialer.hello(), &error_));  // the same hello, replayed too
  EXPECT_FALSE(second.OnProof(*recorded, &error_));
  EXPECT_NE(error_.find("does not verify"), std::string::npos) << error_;
}

// A proof is bound to its signer's role: the listener's proof cannot be
// turned around and presented as a dialer's (e.g. by someone relaying
// between b's two connections).
TEST_F(PeerAuthTest, AProofIsBoundToItsRoleAndToTheVerifier) {
  const std::string nonce = RandomNonce();
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, std::nullopt);
  // Whether a fresh listener b (with `nonce`) takes a's signature over a
  // transcript naming a in `role` and `verifier` as the one it proves to.
  auto b_accepts = [&](AuthRole role, core::PeerId verifier) {
    PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt, nonce);
    EXPECT_TRUE(listener.OnHello(dialer.hello(), &error_)) << error_;
    const std::string transcript = ProofTranscript(hash_, role, a_->id(), a_->public_key(),
                                                   verifier, nonce, dialer.hello().nonce);
    return listener.OnProof(AuthProof{a_->Sign(transcript)}, &error_);
  };
  // a's proof as a listener, over the same nonces, is not a's proof as a dialer.
  EXPECT_FALSE(b_accepts(AuthRole::kListener, b_->id()));
  // Nor is a proof a made for someone else (m) over the same nonce.
  EXPECT_FALSE(b_accepts(AuthRole::kDialer, m_->id()));
  // The right transcript does verify (the two above failed for their fields).
  EXPECT_TRUE(b_accepts(AuthRole::kDialer, b_->id())) << error_;
}

TEST_F(PeerAuthTest, ADialerRefusesSomeoneElseAtTheAddressItDialed) {
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, b_->id());
  PeerAuth other(m_, hash_, AuthRole::kListener, std::nullopt);
  EXPECT_FALSE(dialer.OnHello(other.hello(), &error_));
  EXPECT_NE(error_.find("dialed peer"), std::string::npos) << error_;
}

// Why a dial failed tells the core whether to try it again
// (core::WorthRedial): none of these is worth it.
TEST_F(PeerAuthTest, AFailureNamesItsReasonForTheCore) {
  using R = core::DisconnectReason;
  auto dial = [&](const AuthHello& answer) {
    PeerAuth dialer(a_, hash_, AuthRole::kDialer, b_->id());
    EXPECT_FALSE(dialer.OnHello(answer, &error_));
    EXPECT_TRUE(dialer.Failed());
    return dialer.failure();
  };
  const PeerAuth b(b_, hash_, AuthRole::kListener, std::nullopt);
  AuthHello elsewhere = b.hello();
  elsewhere.info_hash[0] ^= 1;
  EXPECT_EQ(dial(elsewhere), R::kWrongInfoHash);
  // Our own listener (same key, a nonce of its own): we dialed ourselves.
  EXPECT_EQ(dial(PeerAuth(a_, hash_, AuthRole::kListener, std::nullopt).hello()),
            R::kSelfConnection);
  EXPECT_NE(error_.find("reached ourselves"), std::string::npos) << error_;
  EXPECT_EQ(dial(PeerAuth(m_, hash_, AuthRole::kListener, std::nullopt).hello()), R::kWrongPeer);
  AuthHello forged = b.hello();
  forged.peer_id = core::PeerId(forged.peer_id.value() + 1);
  EXPECT_EQ(dial(forged), R::kBadHandshake);
  // Our own hello reflected back carries our id too, but it is no listener
  // of ours: a broken handshake, not a self-connection.
  PeerAuth reflected(a_, hash_, AuthRole::kDialer, b_->id());
  EXPECT_FALSE(reflected.OnHello(reflected.hello(), &error_));
  EXPECT_EQ(reflected.failure(), R::kBadHandshake);

  PeerAuth dialer(a_, hash_, AuthRole::kDialer, b_->id());
  PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
  ASSERT_TRUE(listener.OnHello(dialer.hello(), &error_));
  auto proof = dialer.OnHello(listener.hello(), &error_);
  ASSERT_TRUE(proof);
  EXPECT_FALSE(dialer.OnHello(listener.hello(), &error_));
  EXPECT_EQ(dialer.failure(), R::kUnexpectedHandshake);
  proof->signature[10] ^= 1;
  EXPECT_FALSE(listener.OnProof(*proof, &error_));
  EXPECT_EQ(listener.failure(), R::kBadHandshake);
}

TEST_F(PeerAuthTest, OutOfOrderAndMisdirectedMessagesAreRefused) {
  PeerAuth dialer(a_, hash_, AuthRole::kDialer, std::nullopt);
  {
    PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
    EXPECT_FALSE(listener.OnProof(AuthProof{std::string(kSignatureBytes, 'x')}, &error_));
    EXPECT_EQ(error_, "proof before handshake");
  }
  {
    PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
    ASSERT_TRUE(listener.OnHello(dialer.hello(), &error_));
    EXPECT_FALSE(listener.OnHello(dialer.hello(), &error_));
    EXPECT_EQ(error_, "a second handshake");
  }
  {
    PeerAuth listener(b_, hash_, AuthRole::kListener, std::nullopt);
    AuthHello elsewhere = dialer.hello();
    elsewhere.info_hash[0] ^= 1;
    EXPECT_FALSE(listener.OnHello(elsewhere, &error_));
  }
  {
    // Our own handshake reflected back at us.
    PeerAuth self(a_, hash_, AuthRole::kDialer, std::nullopt);
    EXPECT_FALSE(self.OnHello(self.hello(), &error_));
    EXPECT_EQ(error_, "handshake echoes our own nonce");
  }
}

// The codec's side: exact lengths, a tight size cap, and a Proof is never
// a message for the core.
TEST(AuthCodecTest, ShapesAndLimits) {
  auto id = PeerIdentity::Generate();
  const AuthHello hello{core::InfoHash{}, id->id(), id->public_key(), RandomNonce()};
  std::string error;
  WireFrame f = EncodeAuthFrame(hello);
  auto back = DecodeAuthFrame(Payload(f.head), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(std::get<AuthHello>(*back), hello);
  EXPECT_LE(f.size(), kMaxAuthMessageBytes);

  const AuthProof proof{std::string(kSignatureBytes, 's')};
  f = EncodeAuthFrame(proof);
  back = DecodeAuthFrame(Payload(f.head), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(std::get<AuthProof>(*back), proof);
  EXPECT_FALSE(DecodeFrame(Payload(f.head), &error));
  EXPECT_EQ(error, "proof outside the handshake");

  EXPECT_FALSE(DecodeAuthFrame(Payload(EncodeAuthFrame(AuthProof{"short"}).head), &error));
  AuthHello bad = hello;
  bad.nonce.pop_back();
  EXPECT_FALSE(DecodeAuthFrame(Payload(EncodeAuthFrame(bad).head), &error));
  EXPECT_EQ(error, "handshake nonce is not 32 bytes");
  bad = hello;
  bad.public_key += "x";
  EXPECT_FALSE(DecodeAuthFrame(Payload(EncodeAuthFrame(bad).head), &error));
  EXPECT_EQ(error, "handshake public_key is not 32 bytes");
  // Unknown fields make a handshake of any size: past the cap, refused.
  wire::WireMessage big;
  EncodeAuth(hello, &big);
  big.mutable_handshake()->GetReflection()->MutableUnknownFields(big.mutable_handshake())
      ->AddLengthDelimited(15, std::string(300, 'u'));
  EXPECT_FALSE(DecodeAuthFrame(Payload(big.SerializeAsString()), &error));
  EXPECT_NE(error.find("at most 256"), std::string::npos) << error;
  wire::WireMessage keep_alive;
  keep_alive.mutable_keep_alive();
  EXPECT_FALSE(DecodeAuthFrame(Payload(keep_alive.SerializeAsString()), &error));
  EXPECT_EQ(error, "expected a handshake or a proof, got keep_alive");
}

}  // namespace
}  // namespace swarm::net
