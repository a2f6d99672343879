// HashFile: piece hashes of a file on disk, and why it fails when it does;
// FromProto: why it refuses metadata that does not add up.
#include "net-real/torrent_meta.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "core/sha256.h"

namespace swarm::net {
namespace {

namespace fs = std::filesystem;

class HashFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("swarm_hashfile_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return path;
  }

  fs::path dir_;
};

TEST_F(HashFileTest, HashesEachPieceAndTheShortLastOne) {
  std::vector<uint8_t> bytes(40 * 1024);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  const std::string path = Write("f.bin", bytes);
  HashError error;
  auto info = HashFile(path, "f.bin", 16 * 1024, &error);
  ASSERT_TRUE(info) << error.message;
  EXPECT_EQ(error.kind, HashError::Kind::kNone);
  EXPECT_EQ(info->length(), 40 * 1024);
  ASSERT_EQ(info->piece_count(), 3u);
  const std::span<const uint8_t> all(bytes);
  EXPECT_EQ(info->piece_hashes()[0], core::Sha256(all.subspan(0, 16 * 1024)));
  EXPECT_EQ(info->piece_hashes()[1], core::Sha256(all.subspan(16 * 1024, 16 * 1024)));
  EXPECT_EQ(info->piece_hashes()[2], core::Sha256(all.subspan(32 * 1024)));
}

TEST_F(HashFileTest, EmptyFileIsTheUsersInput) {
  const std::string path = Write("empty.bin", {});
  HashError error;
  EXPECT_FALSE(HashFile(path, "empty.bin", 16 * 1024, &error));
  EXPECT_EQ(error.kind, HashError::Kind::kEmpty);
  EXPECT_NE(error.message.find("is empty"), std::string::npos) << error.message;
}

TEST_F(HashFileTest, StopRequestEndsHashing) {
  const std::string path = Write("f.bin", std::vector<uint8_t>(64 * 1024, 1));
  HashError error;
  int asked = 0;
  EXPECT_FALSE(HashFile(path, "f.bin", 16 * 1024, &error, [&] { return ++asked == 2; }));
  EXPECT_EQ(error.kind, HashError::Kind::kStopped);
  EXPECT_EQ(asked, 2);
}

TEST_F(HashFileTest, MissingFileNamesTheOsError) {
  HashError error;
  EXPECT_FALSE(HashFile((dir_ / "absent").string(), "absent", 16 * 1024, &error));
  EXPECT_EQ(error.kind, HashError::Kind::kReadError);
  EXPECT_NE(error.message.find("No such file or directory"), std::string::npos)
      << error.message;
}

// A read that fails (not one that ends) is the machine's problem and must
// say which error: reading /proc/self/mem at offset 0 fails with EIO, as a
// failing disk would.
TEST_F(HashFileTest, ReadErrorNamesFileOffsetAndOsError) {
  HashError error;
  EXPECT_FALSE(HashFile("/proc/self/mem", "mem", 16 * 1024, &error));
  EXPECT_EQ(error.kind, HashError::Kind::kReadError);
  EXPECT_EQ(error.message, "cannot read /proc/self/mem at byte 0: Input/output error");
}

// A torrent counts its pieces in 32 bits. Metadata whose length and piece
// length make more is refused for that, with the true count: it used to be
// "0 piece hashes for 1099511627776 bytes in pieces of 256 (4294967296
// expected)", as if the hashes were all that was missing.
TEST(FromProtoTest, MorePiecesThan32BitsCountIsRefusedForThat) {
  wire::TorrentMeta meta;
  meta.set_name("big");
  meta.set_length(uint64_t{1} << 40);
  meta.set_piece_length(256);  // 2^32 pieces, one past the most
  std::string why;
  EXPECT_FALSE(FromProto(meta, &why));
  EXPECT_EQ(why, "1099511627776 bytes in pieces of 256 make 4294967296 pieces (at most "
                 "4294967295)");
  meta.set_length((uint64_t{1} << 50));
  meta.set_piece_length(1);
  EXPECT_FALSE(FromProto(meta, &why));
  EXPECT_EQ(why, "1125899906842624 bytes in pieces of 1 make 1125899906842624 pieces (at most "
                 "4294967295)");
}

// Within the count, a list of hashes that does not match it says both.
TEST(FromProtoTest, AHashListOfTheWrongLengthSaysHowManyWereExpected) {
  wire::TorrentMeta meta;
  ToProto(core::TorrentInfo::Synthetic("f", 1 << 20, 1 << 18), &meta);
  ASSERT_TRUE(FromProto(meta));
  meta.set_length((uint64_t{1} << 32) * 2);  // 2^15 pieces of 256 KiB
  std::string why;
  EXPECT_FALSE(FromProto(meta, &why));
  EXPECT_EQ(why, "4 piece hashes for 8589934592 bytes in pieces of 262144 (32768 expected)");
}

}  // namespace
}  // namespace swarm::net
