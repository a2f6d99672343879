// PeerConfig's policy names: each table names every value of its enum once,
// in declaration order, and Parse and Name are each other's inverse. Tests
// that try every policy (the conversation fuzz test, the mini swarms) count
// on it when they turn an index into a value.
#include "core/peer_config.h"

#include <gtest/gtest.h>

#include <set>
#include <span>
#include <string>
#include <string_view>

namespace swarm::core {
namespace {

template <typename ParseFn>
void ExpectTableFollowsEnum(std::span<const std::string_view> names, ParseFn parse) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(std::string(names[i]));
    EXPECT_TRUE(seen.insert(names[i]).second) << "named twice";
    const auto value = parse(names[i]);
    ASSERT_TRUE(value.has_value());
    EXPECT_EQ(static_cast<size_t>(*value), i) << "not in the enum's order";
    EXPECT_EQ(Name(*value), names[i]);
  }
}

TEST(PeerConfigTest, NameTablesFollowTheEnums) {
  ExpectTableFollowsEnum(PieceSelectionNames(), ParsePieceSelection);
  ExpectTableFollowsEnum(ChokerKindNames(), ParseChokerKind);
  ExpectTableFollowsEnum(SeedChokeNames(), ParseSeedChoke);
}

}  // namespace
}  // namespace swarm::core
