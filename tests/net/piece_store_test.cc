// PieceStore on a real temporary directory: in-place writes, verification,
// re-check after "crash", atomic finalisation, unsafe names.
#include "net-real/piece_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/rng.h"
#include "core/sha256.h"

namespace swarm::net {
namespace {

namespace fs = std::filesystem;

class PieceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("swarm_piece_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    core::Rng rng(42);
    data_.resize(100 * 1024 + 123);  // 4 pieces of 32 KiB, last one short
    for (auto& b : data_) b = static_cast<uint8_t>(rng.NextU64());
    info_ = core::TorrentInfo::FromData("file.bin", data_, 32 * 1024);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Slice(core::BlockRef b) {
    auto off = info_.PieceOffset(b.piece) + b.offset;
    return std::string(reinterpret_cast<const char*>(data_.data()) + off, b.length);
  }
  // Writes the torrent's bytes to DIR/seed.bin, for a seed to open.
  fs::path WriteCompleteFile() {
    fs::path path = dir_ / "seed.bin";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data_.data()), std::streamsize(data_.size()));
    return path;
  }
  // Writes piece p as two blocks.
  void WritePiece(PieceStore* s, uint32_t p) {
    uint32_t size = static_cast<uint32_t>(info_.PieceSize(core::PieceIndex(p)));
    uint32_t half = size / 2;
    core::BlockRef a{core::PieceIndex(p), 0, half};
    core::BlockRef b{core::PieceIndex(p), half, size - half};
    ASSERT_TRUE(s->WriteBlock(a, Slice(a)));
    ASSERT_TRUE(s->WriteBlock(b, Slice(b)));
  }

  fs::path dir_;
  std::vector<uint8_t> data_;
  core::TorrentInfo info_;
};

TEST_F(PieceStoreTest, DownloadVerifyAndFinalize) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->is_final());
  EXPECT_TRUE(fs::exists(PieceStore::PartialPath((dir_ / "file.bin").string(), info_)));
  EXPECT_TRUE(s->Recheck().None());
  for (uint32_t p = 0; p < info_.piece_count(); ++p) {
    WritePiece(s.get(), p);
    EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(p)));
  }
  EXPECT_FALSE(fs::exists(dir_ / "file.bin"));
  ASSERT_TRUE(s->Finalize(&error)) << error;
  EXPECT_TRUE(fs::exists(dir_ / "file.bin"));
  EXPECT_FALSE(fs::exists(PieceStore::PartialPath((dir_ / "file.bin").string(), info_)));
  auto block = s->ReadBlock(core::BlockRef{core::PieceIndex(3), 10, 20});
  ASSERT_TRUE(block);
  EXPECT_EQ(block->ToString(), Slice(core::BlockRef{core::PieceIndex(3), 10, 20}));
}

// A file that appears under the final name during the download is the
// user's: the finished download stays in its partial file instead.
TEST_F(PieceStoreTest, FinalizeNeverReplacesAFileThatAppeared) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  for (uint32_t p = 0; p < info_.piece_count(); ++p) WritePiece(s.get(), p);
  { std::ofstream(dir_ / "file.bin") << "mine"; }
  EXPECT_FALSE(s->Finalize(&error));
  EXPECT_NE(error.find("appeared during the download and is kept"), std::string::npos) << error;
  std::ifstream in(dir_ / "file.bin");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "mine");
  EXPECT_TRUE(fs::exists(PieceStore::PartialPath((dir_ / "file.bin").string(), info_)));
}

TEST_F(PieceStoreTest, CorruptPieceFailsVerification) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s);
  WritePiece(s.get(), 1);
  // Overwrite one byte with a value it does not have (one bit flipped), so
  // the piece on disk always differs from the torrent's.
  core::BlockRef b{core::PieceIndex(1), 100, 1};
  std::string flipped = Slice(b);
  flipped[0] = static_cast<char>(flipped[0] ^ 0x01);
  ASSERT_TRUE(s->WriteBlock(b, flipped));
  EXPECT_FALSE(s->VerifyPiece(core::PieceIndex(1)));
}

TEST_F(PieceStoreTest, OutOfOrderBlocksAreVerifiedFromDisk) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s);
  core::BlockRef a{core::PieceIndex(2), 0, 1000};
  core::BlockRef b{core::PieceIndex(2), 1000, 32 * 1024 - 1000};
  ASSERT_TRUE(s->WriteBlock(b, Slice(b)));  // second half first
  ASSERT_TRUE(s->WriteBlock(a, Slice(a)));
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(2)));
}

TEST_F(PieceStoreTest, BadInOrderPieceFailsThenRedownloadPasses) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s);
  core::BlockRef a{core::PieceIndex(0), 0, 1000};
  core::BlockRef b{core::PieceIndex(0), 1000, 32 * 1024 - 1000};
  std::string bad = Slice(b);
  bad[5] ^= 0x40;
  ASSERT_TRUE(s->WriteBlock(a, Slice(a)));
  ASSERT_TRUE(s->WriteBlock(b, bad));
  EXPECT_FALSE(s->VerifyPiece(core::PieceIndex(0)));  // from the running hash
  ASSERT_TRUE(s->WriteBlock(a, Slice(a)));  // the core fetches it again
  ASSERT_TRUE(s->WriteBlock(b, Slice(b)));
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(0)));
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(0)));  // again: now from disk
}

TEST_F(PieceStoreTest, RecheckAfterReopenFindsVerifiedPieces) {
  std::string error;
  {
    auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
    ASSERT_TRUE(s);
    WritePiece(s.get(), 0);
    WritePiece(s.get(), 2);
    // Half of piece 3 only: must not count.
    core::BlockRef half{core::PieceIndex(3), 0, 1000};
    ASSERT_TRUE(s->WriteBlock(half, Slice(half)));
  }  // "crash": no finalisation
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Recheck().ToString(), "1010");
  // Asked to stop (Ctrl-C), the scan ends before reading a piece.
  EXPECT_EQ(s->Recheck([] { return true; }).ToString(), "0000");
}

// A second download into the same folder finds the partial file locked,
// and a file in the way that is not the torrent's size is left alone.
TEST_F(PieceStoreTest, OneWriterAndForeignFilesUntouched) {
  std::string error;
  auto first = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_NE(error.find("another swarm get is downloading into it"), std::string::npos) << error;
  first.reset();
  { std::ofstream(dir_ / "file.bin") << "not the file"; }
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_NE(error.find("exists and is not file.bin"), std::string::npos) << error;
  std::ifstream in(dir_ / "file.bin");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "not the file");
}

TEST_F(PieceStoreTest, SeedsExistingFile) {
  fs::path path = WriteCompleteFile();
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->Recheck().All());
  EXPECT_FALSE(PieceStore::OpenComplete((dir_ / "missing").string(), info_, &error));
  EXPECT_NE(error.find("missing"), std::string::npos);
}

// Sets a file's modification time well into the past, so that a write in
// this same clock tick still shows as a change.
void AgeFile(const fs::path& path) {
  struct timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// Overwrites one byte of `path` in place, as an editor saving into the
// same file would.
void EditInPlace(const fs::path& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(5);
  f.put('!');
}

TEST_F(PieceStoreTest, SeedStopsReadingAFileEditedInPlace) {
  fs::path path = WriteCompleteFile();
  AgeFile(path);
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->stamp(), PieceStore::StampOf(path.string()));
  core::BlockRef block{core::PieceIndex(2), 0, 1000};
  ASSERT_TRUE(s->ReadBlock(block).has_value());
  EditInPlace(path);
  EXPECT_FALSE(s->ReadBlock(block).has_value());
  EXPECT_TRUE(s->changed_on_disk());
}

// A file truncated under a seed reads short: that too is a change to the
// file (not a bare read error), reported as such.
TEST_F(PieceStoreTest, SeedNoticesItsFileTruncated) {
  fs::path path = WriteCompleteFile();
  AgeFile(path);
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  fs::resize_file(path, 10);
  EXPECT_FALSE(s->ReadBlock(core::BlockRef{core::PieceIndex(2), 0, 1000}, &error));
  EXPECT_TRUE(s->changed_on_disk());
  EXPECT_NE(error.find("changed on disk"), std::string::npos) << error;
}

TEST_F(PieceStoreTest, SeedKeepsServingTheOpenFileWhenItIsReplaced) {
  // Replacing by rename (what most editors and `cp` to a temp + mv do)
  // leaves the open file's bytes intact: they still match the hashes.
  fs::path path = WriteCompleteFile();
  AgeFile(path);
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  {
    std::ofstream out(dir_ / "new.bin", std::ios::binary);
    out << "something else";
  }
  fs::rename(dir_ / "new.bin", path);
  core::BlockRef block{core::PieceIndex(1), 0, 1000};
  auto back = s->ReadBlock(block);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ToString(), Slice(block));
  EXPECT_FALSE(s->changed_on_disk());
}

TEST_F(PieceStoreTest, FinishedDownloadIsWatchedLikeASharedFile) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->stamp());  // the partial file is ours to write
  for (uint32_t p = 0; p < info_.piece_count(); ++p) WritePiece(s.get(), p);
  AgeFile(s->path());
  ASSERT_TRUE(s->Finalize(&error)) << error;
  core::BlockRef block{core::PieceIndex(0), 0, 1000};
  ASSERT_TRUE(s->ReadBlock(block).has_value());
  EditInPlace(dir_ / "file.bin");
  EXPECT_FALSE(s->ReadBlock(block).has_value());
  EXPECT_TRUE(s->changed_on_disk());
}

// Another program writing into the partial file after a piece was
// verified: the store notices (the stamp is not the one our own last write
// left), refuses to serve from the file, and re-verification names the
// piece that no longer matches. (The file is also aged: on kernels
// without fine-grained timestamps an edit in the clock tick of our last
// write would leave the same mtime.)
TEST_F(PieceStoreTest, PartialFileWrittenByAnotherProgramIsReverified) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  WritePiece(s.get(), 0);
  WritePiece(s.get(), 1);
  ASSERT_TRUE(s->VerifyPiece(core::PieceIndex(0)));
  ASSERT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
  // Our own writes are ours: nothing to see.
  EXPECT_FALSE(s->PartialWrittenByOthers());
  core::BlockRef block{core::PieceIndex(1), 0, 1000};
  ASSERT_TRUE(s->ReadBlock(block).has_value());
  EXPECT_FALSE(s->partial_written_by_others());

  EditInPlace(s->path());  // byte 5: piece 0
  AgeFile(s->path());
  EXPECT_FALSE(s->ReadBlock(block, &error).has_value());
  EXPECT_TRUE(s->partial_written_by_others());
  EXPECT_NE(error.find("was written to by another program"), std::string::npos) << error;
  EXPECT_FALSE(s->changed_on_disk());  // that is the complete file's flag
  EXPECT_TRUE(s->PartialWrittenByOthers());
  const std::vector<core::PieceIndex> lost = s->ReverifyVerified();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0], core::PieceIndex(0));
  // A piece was lost: the driver is to stop, and until then nothing is
  // served, not even piece 1, which still verifies (a block of piece 0
  // must not go out in between).
  EXPECT_TRUE(s->PartialWrittenByOthers());
  EXPECT_TRUE(s->partial_written_by_others());
  EXPECT_FALSE(s->ReadBlock(block).has_value());
}

// A re-check that finds every verified piece still good watches the file
// anew: it is served again.
TEST_F(PieceStoreTest, PartialFileTouchedButIntactIsServedAgainAfterTheRecheck) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  WritePiece(s.get(), 1);
  ASSERT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
  core::BlockRef block{core::PieceIndex(1), 0, 1000};
  EditInPlace(s->path());  // byte 5: piece 0, not verified
  AgeFile(s->path());
  EXPECT_TRUE(s->PartialWrittenByOthers());
  EXPECT_TRUE(s->ReverifyVerified().empty());
  EXPECT_FALSE(s->PartialWrittenByOthers());
  EXPECT_TRUE(s->ReadBlock(block).has_value());
}

// A change by another program between two of our writes is not hidden by
// the stamp our next write leaves.
TEST_F(PieceStoreTest, AnotherProgramsWriteIsNotHiddenByOurNextWrite) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  WritePiece(s.get(), 0);
  ASSERT_TRUE(s->VerifyPiece(core::PieceIndex(0)));
  EditInPlace(s->path());
  AgeFile(s->path());
  WritePiece(s.get(), 2);
  EXPECT_TRUE(s->PartialWrittenByOthers());
  EXPECT_EQ(s->ReverifyVerified(), std::vector<core::PieceIndex>{core::PieceIndex(0)});
  // Only what still verifies counts: re-verifying again finds nothing more.
  EXPECT_TRUE(s->ReverifyVerified().empty());
}

// A read on the driver's thread while the disk thread sits inside one of
// our own writes (bytes written, stamp not yet noted: under load a thread
// can be descheduled there for a whole time slice) is not taken for
// another program's write: it is refused and left to the disk thread,
// which finds nothing, and serving goes on. (Two gets at once used to
// warn of "another program" several times a download, each time
// re-hashing everything verified.)
TEST_F(PieceStoreTest, OurOwnSlowWriteIsNotTakenForAnotherPrograms) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  WritePiece(s.get(), 1);
  ASSERT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
  // Watch the file from an old mtime, so that our next write surely moves
  // it (on kernels with coarse timestamps it might not otherwise).
  AgeFile(s->path());
  ASSERT_TRUE(s->PartialWrittenByOthers());
  ASSERT_TRUE(s->ReverifyVerified().empty());
  ASSERT_FALSE(s->PartialWrittenByOthers());

  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, go = false;
  s->set_inside_write_for_testing([&] {
    std::unique_lock<std::mutex> lock(mu);
    inside = true;
    cv.notify_all();
    cv.wait(lock, [&] { return go; });
  });
  std::thread writer([&] { WritePiece(s.get(), 2); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return inside; });
  }
  const core::BlockRef block{core::PieceIndex(1), 0, 1000};
  bool ask_disk_thread = false;
  EXPECT_FALSE(s->ReadBlock(block, &error, &ask_disk_thread).has_value());
  EXPECT_TRUE(ask_disk_thread);
  EXPECT_FALSE(s->partial_written_by_others()) << error;
  EXPECT_TRUE(s->partial_check_wanted());
  EXPECT_NE(error.find("our own write overlapped"), std::string::npos) << error;
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  writer.join();
  s->set_inside_write_for_testing(nullptr);
  // The disk thread's look: nothing but our own writes. It clears the flag
  // whoever asked; a driver that read the flag only now would find it
  // false and take the refusal above for a fatal one, which is why
  // ReadBlock's own answer (ask_disk_thread) is what PumpUploads reads.
  EXPECT_FALSE(s->PartialWrittenByOthers());
  EXPECT_FALSE(s->partial_check_wanted());
  ask_disk_thread = false;
  EXPECT_TRUE(s->ReadBlock(block, nullptr, &ask_disk_thread).has_value());
  EXPECT_FALSE(ask_disk_thread);
}

// Ctrl-C during a resume of big pieces: `stop` is asked every
// kRecheckStopBytes, within a piece too, not once every 16 pieces (1 GiB
// at 64 MiB pieces).
TEST_F(PieceStoreTest, RecheckAsksToStopWithinBigPieces) {
  const core::Bytes piece = 4 * kRecheckStopBytes;
  std::vector<uint8_t> data(static_cast<size_t>(2 * piece), 7);
  core::TorrentInfo info = core::TorrentInfo::FromData("big.bin", data, piece);
  fs::path path = dir_ / "big.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
  }
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->Recheck().All());
  int asked = 0;
  // "Ctrl-C" comes after the first question: the scan must end within the
  // first piece, having counted none.
  EXPECT_TRUE(s->Recheck([&asked] { return ++asked > 1; }).None());
  EXPECT_EQ(asked, 2);
}

TEST(SafeFileNameTest, RejectsPathsAndDots) {
  EXPECT_TRUE(SafeFileName("movie.mkv").has_value());
  EXPECT_TRUE(SafeFileName("..hidden").has_value());
  EXPECT_FALSE(SafeFileName("").has_value());
  EXPECT_FALSE(SafeFileName(".").has_value());
  EXPECT_FALSE(SafeFileName("..").has_value());
  EXPECT_FALSE(SafeFileName("../etc/passwd").has_value());
  EXPECT_FALSE(SafeFileName("/etc/passwd").has_value());
  EXPECT_FALSE(SafeFileName("a\\b").has_value());
  EXPECT_FALSE(SafeFileName(std::string("a\0b", 3)).has_value());
  EXPECT_FALSE(SafeFileName(std::string(256, 'x')).has_value());
}

// Every refusal of a name (share, get, run-scenario) says which rule it broke.
TEST(SafeFileNameTest, TheProblemNamesTheRule) {
  EXPECT_EQ(FileNameProblem("movie.mkv"), std::nullopt);
  EXPECT_EQ(FileNameProblem(""), "it is empty");
  EXPECT_EQ(FileNameProblem(".."), "it is '..'");
  EXPECT_EQ(FileNameProblem("../etc/passwd"), "it contains '/'");
  EXPECT_EQ(FileNameProblem("a\\b"), "it contains '\\'");
  EXPECT_EQ(FileNameProblem("bell\a"), "it contains a control character (byte 0x07)");
  EXPECT_EQ(FileNameProblem("del\x7f"), "it contains a control character (byte 0x7f)");
  EXPECT_EQ(FileNameProblem(std::string(238, 'x')), "it has 238 bytes (at most 237)");
  // A name travels in protobuf string fields: a tracker could not parse a
  // request carrying one that is not UTF-8 (and would look like no tracker).
  EXPECT_EQ(FileNameProblem("bad\xff.bin"), "it is not valid UTF-8 at byte 4 (0xff)");
  EXPECT_EQ(FileNameProblem("caf\xc3"), "it is not valid UTF-8 at byte 4 (0xc3)");
  EXPECT_EQ(FileNameProblem("caf\u00e9 \u65e5\u672c.bin"), std::nullopt);
}

// The partial file's name adds ".<12 hex digits>.part" (18 bytes) to the
// torrent's: a name is safe only if that still fits in 255 bytes, or the
// download fails after the tracker listed the file.
TEST_F(PieceStoreTest, TheLongestSafeNameCanBeDownloaded) {
  EXPECT_FALSE(SafeFileName(std::string(kMaxFileNameBytes + 1, 'x')).has_value());
  const std::string longest(kMaxFileNameBytes, 'x');
  ASSERT_TRUE(SafeFileName(longest).has_value());
  core::TorrentInfo info = core::TorrentInfo::FromData(longest, data_, 32 * 1024);
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info, &error);
  ASSERT_TRUE(s) << error;
  core::BlockRef whole{core::PieceIndex(0), 0, 32 * 1024};
  ASSERT_TRUE(s->WriteBlock(whole, Slice(whole)));
}

TEST_F(PieceStoreTest, BlocksInSeveralPartsAreWrittenAndHashed) {
  // A received block arrives as views into several transport buffers.
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  uint32_t size = static_cast<uint32_t>(info_.PieceSize(core::PieceIndex(1)));
  core::BlockRef whole{core::PieceIndex(1), 0, size};
  std::string bytes = Slice(whole);
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < bytes.size(); i += 1000) {
    parts.push_back(std::string_view(bytes).substr(i, 1000));
  }
  ASSERT_TRUE(s->WriteBlock(whole, Payload(nullptr, parts)));
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
  auto back = s->ReadBlock(whole);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ToString(), bytes);
}

// Limits the size of files this process writes (RLIMIT_FSIZE) for its
// lifetime, with SIGXFSZ ignored so that writes past it fail with EFBIG:
// a full disk, as far as the store can tell, without root.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  sighandler_t old_handler_;
  bool ok_ = false;
};

TEST_F(PieceStoreTest, AWriteErrorNamesTheFileAndTheReason) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  core::BlockRef block{core::PieceIndex(3), 0, 1000};
  {
    FileSizeLimit limit(static_cast<rlim_t>(info_.PieceOffset(core::PieceIndex(3))));
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(s->WriteBlock(block, Slice(block), &error));
  }
  EXPECT_EQ(error, "cannot write to " + s->path() + ": File too large");
  EXPECT_FALSE(s->VerifyPiece(core::PieceIndex(3)));
}

// A block written only in part (the limit falls inside it) must not leave
// the piece's running hash standing: that hash is of the bytes meant to be
// on disk, not of those that are, and the piece would pass verification
// with the file holding something else.
TEST_F(PieceStoreTest, APartWrittenBlockIsNeverVerifiedFromItsRunningHash) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  const core::PieceIndex p(1);
  core::BlockRef a{p, 0, 16 * 1024};
  core::BlockRef b{p, 16 * 1024, 16 * 1024};
  ASSERT_TRUE(s->WriteBlock(a, Slice(a)));  // the piece's hash starts
  std::string other(a.length, 'x');         // a resend of a, cut short
  {
    FileSizeLimit limit(static_cast<rlim_t>(info_.PieceOffset(p) + 8 * 1024));
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(s->WriteBlock(a, other, &error));
  }
  ASSERT_TRUE(s->WriteBlock(b, Slice(b)));
  EXPECT_FALSE(s->VerifyPiece(p)) << "verified with 8 KiB of 'x' on disk";
  ASSERT_TRUE(s->WriteBlock(a, Slice(a)));  // fetched again, written whole
  ASSERT_TRUE(s->WriteBlock(b, Slice(b)));
  EXPECT_TRUE(s->VerifyPiece(p));
}

// A piece longer than what VerifyPiece reads at a time is read back in
// several chunks, the last one short: a byte flipped in that last chunk
// fails it, and the piece after it (shorter than a chunk) still verifies.
TEST_F(PieceStoreTest, APieceLongerThanAChunkIsVerifiedChunkByChunk) {
  const core::Bytes piece = 3 * kVerifyChunkBytes + 123;
  core::Rng rng(5);
  std::vector<uint8_t> data(static_cast<size_t>(piece + 1000));
  for (auto& b : data) b = static_cast<uint8_t>(rng.NextU64());
  const auto info = core::TorrentInfo::FromData("big.bin", data, piece);
  ASSERT_EQ(info.piece_count(), 2u);
  const fs::path path = dir_ / "big.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
  }
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), info, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(0)));
  EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
  // Flip the piece's last byte, then one at the start of its last chunk.
  for (const core::Bytes at : {piece - 1, 3 * kVerifyChunkBytes}) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at);
    f.put(static_cast<char>(data[static_cast<size_t>(at)] ^ 0x01));
    f.close();
    EXPECT_FALSE(s->VerifyPiece(core::PieceIndex(0))) << "byte " << at << " flipped";
    EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(1)));
    f.open(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at);
    f.put(static_cast<char>(data[static_cast<size_t>(at)]));
    f.close();
    EXPECT_TRUE(s->VerifyPiece(core::PieceIndex(0))) << "byte " << at << " restored";
  }
}

// Resident memory per check does not grow with the piece: a 96 MiB piece
// is verified in a child process whose address space may grow by 48 MiB
// only (RLIMIT_AS). Reading it back into one buffer of its size, as the
// store did, fails to allocate there.
TEST_F(PieceStoreTest, VerifyingAHugePieceNeedsNoBufferOfItsSize) {
  const core::Bytes piece = 96 * 1024 * 1024;
  const fs::path path = dir_ / "huge.bin";
  {
    // Sparse: zeros but for the last byte.
    std::ofstream out(path, std::ios::binary);
    out.seekp(piece - 1);
    out.put('\x07');
  }
  core::Sha256Hasher hasher;
  std::vector<uint8_t> zeros(1024 * 1024, 0);
  for (core::Bytes done = 0; done < piece; done += core::Bytes(zeros.size())) {
    if (done + core::Bytes(zeros.size()) == piece) zeros.back() = 7;
    hasher.Update(zeros);
  }
  zeros = {};
  auto info = core::TorrentInfo::FromHashes("huge.bin", piece, piece, {hasher.Finish()});
  ASSERT_TRUE(info);
  std::string error;
  auto s = PieceStore::OpenComplete(path.string(), *info, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EXIT(
      {
        // The address space in use now (pages), plus 48 MiB.
        std::ifstream statm("/proc/self/statm");
        long pages = 0;
        statm >> pages;
        rlimit limit{};
        ::getrlimit(RLIMIT_AS, &limit);
        limit.rlim_cur = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + (48 << 20);
        if (::setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(3);
        std::_Exit(s->VerifyPiece(core::PieceIndex(0)) ? 0 : 4);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(PieceStoreTest, KnowsWhenItsPartialFileWasDeleted) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->Unlinked());
  fs::remove(s->path());
  EXPECT_TRUE(s->Unlinked());
}

// A partial file that cannot be given its size (a full disk, a file size
// limit) is not left behind, empty, when it was created for this download.
TEST_F(PieceStoreTest, APartialFileThatCannotBeSizedIsRemoved) {
  std::string error;
  {
    FileSizeLimit limit(1000);
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(PieceStore::OpenForDownload(dir_.string(), info_, &error));
  }
  const std::string part = PieceStore::PartialPath((dir_ / "file.bin").string(), info_);
  EXPECT_EQ(error, "cannot allocate space for " + part + ": File too large");
  EXPECT_FALSE(fs::exists(part));
}

// The partial file's name is predictable, so whoever can write into the
// folder could plant a link there: the download must never be written
// through it into another file.
TEST_F(PieceStoreTest, NeverWritesThroughALinkAtThePartialPath) {
  const fs::path victim = dir_ / "victim.txt";
  { std::ofstream(victim) << "precious"; }
  const std::string part = PieceStore::PartialPath((dir_ / "file.bin").string(), info_);
  fs::create_symlink(victim, part);
  std::string error;
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_EQ(error, part + " is a symbolic link; refusing to write through it (move it away first)");
  // A link to nothing is not followed to create its target either.
  fs::remove(part);
  fs::create_symlink(dir_ / "created.txt", part);
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_FALSE(fs::exists(dir_ / "created.txt"));
  // Nor is a hard link to the victim written into.
  fs::remove(part);
  fs::create_hard_link(victim, part);
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_EQ(error, part + " has other hard links; refusing to write into it (move it away first)");
  std::ifstream in(victim);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
  EXPECT_EQ(fs::file_size(victim), 8u);
}

// Under the final name: a link to nothing is refused up front (the rename
// would replace it), and a folder is called one.
TEST_F(PieceStoreTest, ALinkToNothingOrAFolderAtTheFinalNameIsRefused) {
  fs::create_symlink(dir_ / "nowhere", dir_ / "file.bin");
  std::string error;
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_EQ(error, (dir_ / "file.bin").string() +
                       " is a symbolic link to nothing; move it away first");
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));
  fs::remove(dir_ / "file.bin");
  fs::create_directory(dir_ / "file.bin");
  EXPECT_EQ(PieceStore::OpenForDownload(dir_.string(), info_, &error), nullptr);
  EXPECT_EQ(error, (dir_ / "file.bin").string() +
                       " exists and is a folder, not file.bin from the tracker; move it away "
                       "first");
}

// A link planted under the final name during the download is not replaced
// by the finished file, nor followed.
TEST_F(PieceStoreTest, FinalizeLeavesALinkThatAppearedAlone) {
  std::string error;
  auto s = PieceStore::OpenForDownload(dir_.string(), info_, &error);
  ASSERT_TRUE(s) << error;
  for (uint32_t p = 0; p < info_.piece_count(); ++p) WritePiece(s.get(), p);
  fs::create_symlink(dir_ / "nowhere", dir_ / "file.bin");
  EXPECT_FALSE(s->Finalize(&error));
  EXPECT_TRUE(fs::is_symlink(dir_ / "file.bin"));
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));
  EXPECT_NE(error.find("appeared during the download and is kept"), std::string::npos) << error;
}

}  // namespace
}  // namespace swarm::net
