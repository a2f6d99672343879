// PeerDriver's threads: one that cannot be started is a clear error from
// Start(), with nothing left running, not an abort (std::thread throws).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/bitfield.h"
#include "core/torrent_info.h"
#include "net-real/peer_driver.h"
#include "net-real/piece_store.h"

namespace swarm::net {
namespace {

// The process's virtual memory now, in bytes (VmSize), or 0.
uint64_t AddressSpaceInUse() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

// In a child process: a download's driver, started with the address space
// capped just above what is in use, so that no thread stack (8 MiB by
// default) fits. Prints Start()'s outcome; returns the exit code.
int StartWithNoRoomForAThread() {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("swarm_driver_threads_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> data(64 * 1024, 1);
  core::TorrentInfo info = core::TorrentInfo::FromData("t.bin", data, 16 * 1024);
  std::string error;
  auto store = PieceStore::OpenForDownload(dir.string(), info, &error);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    return 2;
  }
  DriverOptions o;
  o.endpoint = "127.0.0.1:1";
  PeerDriver driver(info, std::move(store), core::Bitfield(info.piece_count(), false), o,
                    nullptr, nullptr);
  const uint64_t in_use = AddressSpaceInUse();
  rlimit cap{};
  cap.rlim_cur = cap.rlim_max = in_use + 1024 * 1024;
  if (in_use == 0 || ::setrlimit(RLIMIT_AS, &cap) != 0) return 2;
  const bool started = driver.Start(&error);
  std::fprintf(stderr, "Start: %s\n", started ? "ok" : error.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return started ? 3 : 0;
}

// A download whose threads cannot be started (RLIMIT_NPROC would be the
// natural limit, but it does not bind root): Start() must return false
// and say why. Before, std::thread's exception ended the process
// (SIGABRT) before any `stopped` announce.
TEST(DriverThreadsTest, AThreadThatCannotStartIsAnErrorNotAnAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::_Exit(StartWithNoRoomForAThread()), ::testing::ExitedWithCode(0),
              "Start: cannot start a thread");
}

}  // namespace
}  // namespace swarm::net
