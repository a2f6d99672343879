// verify_piece FILE: PieceStore::VerifyPiece on a file that is one piece
// (its hash is computed first, in 1 MiB reads), for measuring what one
// check of a large piece costs: run it under `/usr/bin/time -f %M` for
// the peak resident memory. Prints whether it verified and how long the
// check took. See docs/real-network.md (PieceStore).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <span>
#include <vector>

#include "core/sha256.h"
#include "core/torrent_info.h"
#include "net-real/piece_store.h"

int main(int argc, char** argv) {
  using namespace swarm;
  if (argc != 2) {
    std::fprintf(stderr, "usage: verify_piece FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  core::Sha256Hasher hasher;
  std::vector<char> buf(1 << 20);
  core::Bytes total = 0;
  while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0) {
    hasher.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf.data()),
                                           size_t(in.gcount())));
    total += in.gcount();
  }
  buf = {};
  auto info = core::TorrentInfo::FromHashes("piece.bin", total, total, {hasher.Finish()});
  std::string error;
  auto store = info ? net::PieceStore::OpenComplete(argv[1], *info, &error) : nullptr;
  if (!store) {
    std::fprintf(stderr, "verify_piece: cannot open %s: %s\n", argv[1], error.c_str());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const bool ok = store->VerifyPiece(core::PieceIndex(0));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("verified=%d piece_bytes=%lld verify_s=%.3f\n", ok ? 1 : 0,
              static_cast<long long>(total), s);
  return ok ? 0 : 1;
}
