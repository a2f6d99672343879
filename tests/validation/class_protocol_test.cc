// The scenario features the validation checks rely on: a class's own
// `protocol:` (choker, super-seeding) on top of the scenario's, and the
// host's upload handed to the core as PeerConfig::upload_capacity
// (propshare and bittyrant divide it). Fast; not in the validation label.
#include <gtest/gtest.h>

#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

const char* kTwoClasses = R"(name: t
protocol: {choker: tit_for_tat, unchoke_slots: 5}
peers:
  - {class: seed, count: 1, upload: 2Mbit/s, download: 8Mbit/s, start: complete,
     protocol: {super_seeding: true}}
  - {class: tyrant, count: 1, upload: 1Mbit/s, download: 8Mbit/s,
     protocol: {choker: bittyrant}}
  - {class: plain, count: 3, upload: 500kbit/s, download: 8Mbit/s})";

Scenario Parse(const std::string& text, std::vector<std::string> sets = {}) {
  auto r = ParseScenario("t.yaml", text, sets);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<Scenario>(r);
}

TEST(ClassProtocol, AmendsTheScenarioProtocol) {
  Scenario s = Parse(kTwoClasses);
  ASSERT_EQ(s.peers.size(), 3u);
  core::PeerConfig seed = s.PeerConfigFor(s.peers[0]);
  core::PeerConfig tyrant = s.PeerConfigFor(s.peers[1]);
  core::PeerConfig plain = s.PeerConfigFor(s.peers[2]);
  EXPECT_TRUE(seed.super_seeding);
  EXPECT_EQ(seed.choker, core::ChokerKind::kTitForTat);
  EXPECT_EQ(tyrant.choker, core::ChokerKind::kBitTyrant);
  EXPECT_FALSE(tyrant.super_seeding);
  EXPECT_EQ(plain.choker, core::ChokerKind::kTitForTat);
  // Fields the class does not name keep the scenario's value.
  EXPECT_EQ(tyrant.unchoke_slots, 5u);
}

TEST(ClassProtocol, UploadCapacityIsTheClassUpload) {
  Scenario s = Parse(kTwoClasses);
  EXPECT_DOUBLE_EQ(s.PeerConfigFor(s.peers[1]).upload_capacity.bytes_per_second(), 125000);
  EXPECT_DOUBLE_EQ(s.PeerConfigFor(s.peers[2]).upload_capacity.bytes_per_second(), 62500);
}

TEST(ClassProtocol, OverridesReachTheClassProtocol) {
  Scenario s = Parse(kTwoClasses, {"peers.1.protocol.choker=tit_for_tat",
                                   "peers.2.protocol={choker: propshare}"});
  EXPECT_EQ(s.PeerConfigFor(s.peers[1]).choker, core::ChokerKind::kTitForTat);
  EXPECT_EQ(s.PeerConfigFor(s.peers[2]).choker, core::ChokerKind::kPropShare);
}

TEST(ClassProtocol, NewProtocolFieldsParse) {
  Scenario s = Parse(R"(name: t
protocol: {choker: strict_tit_for_tat, strict_tft_allowance: 512KiB, propshare_reserve: 0.2}
peers:
  - {class: seed, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: leecher, count: 1, upload: 1Mbit/s, download: 1Mbit/s})");
  EXPECT_EQ(s.protocol.choker, core::ChokerKind::kStrictTitForTat);
  EXPECT_EQ(s.protocol.strict_tft_allowance, 512 * 1024);
  EXPECT_DOUBLE_EQ(s.protocol.propshare_reserve, 0.2);
}

TEST(ClassProtocol, BadValueNamesTheClassField) {
  std::string text = kTwoClasses;
  text.replace(text.find("bittyrant"), 9, "tyranny");
  auto r = ParseScenario("t.yaml", text);
  auto* e = std::get_if<ScenarioLoadError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("t.yaml:7"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("peers.1.protocol.choker"), std::string::npos) << e->message;
}

TEST(ClassProtocol, InvalidClassProtocolIsReportedForThatClass) {
  std::string text = kTwoClasses;
  text.replace(text.find("choker: bittyrant"), 17, "propshare_reserve: 1.5");
  auto r = ParseScenario("t.yaml", text);
  auto* e = std::get_if<ScenarioLoadError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("peers.1.protocol"), std::string::npos) << e->message;
}

TEST(ClassProtocol, ResolvedScenarioRoundTrips) {
  Scenario s = Parse(kTwoClasses);
  Scenario again = Parse(EmitScenario(s));
  EXPECT_TRUE(again.PeerConfigFor(again.peers[0]).super_seeding);
  EXPECT_EQ(again.PeerConfigFor(again.peers[1]).choker, core::ChokerKind::kBitTyrant);
  EXPECT_FALSE(again.peers[2].protocol.has_value());
}

}  // namespace
}  // namespace swarm::sim
