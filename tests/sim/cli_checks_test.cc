// MissingFolders (sim/cli_checks.h), which `sim run` and `swarm get` both
// use to know which folders of --out they made.
#include "sim/cli_checks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

class MissingFoldersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("swarm_missing_folders_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string At(const std::string& rel) const { return (dir_ / rel).string(); }

  fs::path dir_;
};

TEST_F(MissingFoldersTest, DeepestFirstUpToTheFirstThatExists) {
  EXPECT_EQ(MissingFolders(At("a/b/c")),
            (std::vector<std::string>{At("a/b/c"), At("a/b"), At("a")}));
  // A trailing '/' or "." names the same folder.
  EXPECT_EQ(MissingFolders(At("a/b/")), (std::vector<std::string>{At("a/b"), At("a")}));
  EXPECT_EQ(MissingFolders(At("a/./b/.")), (std::vector<std::string>{At("a/b"), At("a")}));
  fs::create_directories(dir_ / "a");
  EXPECT_EQ(MissingFolders(At("a/b")), (std::vector<std::string>{At("a/b")}));
  EXPECT_TRUE(MissingFolders(At("a")).empty());
  EXPECT_TRUE(MissingFolders(dir_.string() + "/").empty());
}

// A folder whose existence stat cannot tell (here: a name over NAME_MAX,
// ENAMETOOLONG) is not listed, nor anything above it: it is not known to
// be missing. (`sim run`'s own copy listed it and went on upwards.)
TEST_F(MissingFoldersTest, StopsWhereStatFails) {
  const std::string too_long(300, 'x');
  std::error_code ec;
  ASSERT_FALSE(fs::exists(dir_ / too_long, ec));
  ASSERT_TRUE(ec) << "expected stat to fail on a 300-character name";
  EXPECT_TRUE(MissingFolders(At(too_long + "/y")).empty());
  EXPECT_TRUE(MissingFolders(At(too_long)).empty());
}

}  // namespace
}  // namespace swarm::sim
