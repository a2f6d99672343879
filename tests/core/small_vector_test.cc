#include "core/small_vector.h"

#include <gtest/gtest.h>

#include <vector>

namespace swarm::core {
namespace {

template <size_t N>
std::vector<int> Items(const SmallVector<int, N>& v) {
  return std::vector<int>(v.begin(), v.end());
}

TEST(SmallVectorTest, GrowsPastItsInlineElementsInOrder) {
  SmallVector<int, 3> v;
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 10; ++i) v.push_back(i);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(Items(v), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(v.front(), 0);
  EXPECT_EQ(v.back(), 9);
}

TEST(SmallVectorTest, EraseKeepsTheOrderInlineAndOnTheHeap) {
  for (int n : {3, 8}) {
    SCOPED_TRACE(n);
    SmallVector<int, 3> v;
    std::vector<int> want;
    for (int i = 0; i < n; ++i) {
      v.push_back(i);
      want.push_back(i);
    }
    EXPECT_EQ(*v.erase(v.begin() + 1), 2);  // the element after the erased one
    want.erase(want.begin() + 1);
    v.erase(v.begin());
    want.erase(want.begin());
    v.erase(v.end() - 1);
    want.pop_back();
    EXPECT_EQ(Items(v), want);
    v.clear();
    EXPECT_TRUE(v.empty());
    v.push_back(7);
    EXPECT_EQ(Items(v), std::vector<int>{7});
  }
}

TEST(SmallVectorTest, CopiesAreDeepAndMovesLeaveAnEmptyVector) {
  for (int n : {2, 6}) {
    SCOPED_TRACE(n);
    SmallVector<int, 3> v;
    for (int i = 0; i < n; ++i) v.push_back(i);
    SmallVector<int, 3> copy = v;
    copy.push_back(99);
    copy.erase(copy.begin());
    EXPECT_EQ(v.size(), size_t(n));
    EXPECT_EQ(v.front(), 0);
    SmallVector<int, 3> assigned;
    assigned.push_back(5);
    assigned = v;
    EXPECT_EQ(Items(assigned), Items(v));
    SmallVector<int, 3> moved = std::move(assigned);
    EXPECT_EQ(Items(moved), Items(v));
    EXPECT_TRUE(assigned.empty());  // NOLINT(bugprone-use-after-move)
    assigned.push_back(1);          // and usable again
    EXPECT_EQ(Items(assigned), std::vector<int>{1});
  }
}

}  // namespace
}  // namespace swarm::core
