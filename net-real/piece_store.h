// PieceStore: a torrent's bytes on disk.
//
// Downloading writes blocks in place into a partial file DIR/NAME.HASH.part
// (HASH: the first 12 hex digits of the info-hash; sized up front, locked
// against a second writer), verifies a whole piece with SHA-256 against the
// torrent before the core counts it, and when every piece is verified
// renames the partial file to NAME atomically. Resume after a crash or
// kill -9 needs no journal: Recheck() hashes whatever is in the partial file
// and reports the pieces that verify.
// Seeding opens an existing complete file read-only, and notices when the
// file is edited in place afterwards (see Stamp).
// While downloading, the partial file is watched the same way: the store
// remembers its stamp after each of its own writes and compares before the
// next write, before each verification (PartialWrittenByOthers) and after
// each read for an upload, so that bytes another program wrote into a
// verified piece are neither served nor renamed into place as the
// download; the driver then re-hashes the verified pieces
// (ReverifyVerified).
//
// Thread-compatible: owned by one driver thread, which reads blocks for
// uploads, while writes, hashes and Finalize() run on its disk thread. The
// stamps and the path, which the disk thread sets while the driver may be
// reading, are guarded; the flag and counter that tell another program's
// writes from ours are atomic.
#ifndef SWARM_NET_PIECE_STORE_H_
#define SWARM_NET_PIECE_STORE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bitfield.h"
#include "core/message.h"
#include "core/sha256.h"
#include "core/torrent_info.h"
#include "net-real/payload.h"

namespace swarm::net {

class PieceStore {
 public:
  // A file's size and modification time at one moment. Writing into the
  // file changes them; replacing it by a rename does not affect a store
  // that already has the old file open, whose bytes stay as they were.
  struct Stamp {
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  // nullopt if `path` cannot be stat()ed.
  static std::optional<Stamp> StampOf(const std::string& path);
  // Which file a name or descriptor refers to (device and inode): a file
  // moved over a name has another.
  struct FileId {
    uint64_t dev = 0;
    uint64_t ino = 0;
    bool operator==(const FileId&) const = default;
  };
  // nullopt if `path` cannot be lstat()ed.
  static std::optional<FileId> FileIdOf(const std::string& path);

  ~PieceStore();
  PieceStore(const PieceStore&) = delete;
  PieceStore& operator=(const PieceStore&) = delete;

  // Seeds `path`, which must hold exactly the torrent's bytes (not checked
  // here; call Recheck() to check). Returns nullptr and sets *error on an
  // I/O error.
  static std::unique_ptr<PieceStore> OpenComplete(const std::string& path,
                                                  const core::TorrentInfo& info,
                                                  std::string* error);
  // Downloads into directory `dir`. If DIR/NAME already exists with the
  // torrent's size it is opened read-only as the (candidate) complete file
  // (of another size: an error, the file is left alone); otherwise the
  // partial file is created or reopened. An error too if another process
  // holds the partial file. REQUIRES: info.name() is a safe file name (see
  // SafeFileName).
  static std::unique_ptr<PieceStore> OpenForDownload(const std::string& dir,
                                                     const core::TorrentInfo& info,
                                                     std::string* error);

  // DIR/NAME -> DIR/NAME.<first 12 hex digits of the info-hash>.part
  static std::string PartialPath(const std::string& final_path, const core::TorrentInfo& info);

  // Hashes every piece on disk; the result has the verified ones set.
  // `stop`, if given, is asked before the first piece and then after every
  // kRecheckStopBytes hashed (within a piece too: pieces may be up to
  // 1 GiB); when it says true the scan ends early and the result holds
  // only the pieces checked in full so far.
  core::Bitfield Recheck(const std::function<bool()>& stop = {});
  // Writes a block's payload at its place. False on an I/O error (a full
  // disk, EFBIG past a file size limit), with *error (if given) naming the
  // file and the OS error; part of the block may then be on disk, and its
  // piece will be verified from disk, never from what was meant to be
  // written. Blocks that arrive in order within their piece are also
  // hashed on the way, so VerifyPiece need not read them back.
  // REQUIRES: data.size() == block.length and the block lies in the torrent.
  bool WriteBlock(const core::BlockRef& block, const Payload& data,
                  std::string* error = nullptr);
  bool WriteBlock(const core::BlockRef& block, std::string_view data,
                  std::string* error = nullptr) {
    return WriteBlock(block, Payload(nullptr, {data}), error);
  }
  // Reads a block into a fresh buffer (not zero-filled first). nullopt on an
  // I/O error (a file truncated under us reads short), or if the complete
  // file was written to since it was opened (or finalized): its bytes may
  // no longer match the piece hashes, and a seed must not send them.
  // changed_on_disk() then says which; *error (if given) says what failed.
  // While downloading, nullopt too if another program wrote into the
  // partial file since the store last looked (partial_written_by_others()
  // then says so, until ReverifyVerified()); a change that overlaps one of
  // our own writes is read again (a few times), and if ours still overlaps
  // it is left to the disk thread to judge (partial_check_wanted()).
  // *ask_disk_thread (if given) is set in both partial-file cases: the
  // caller must hold uploads for the disk thread's look, and must take it
  // from here, since that look (PartialWrittenByOthers, at the disk
  // thread's next write) may already have cleared partial_check_wanted()
  // by the time the caller asks.
  std::optional<Payload> ReadBlock(const core::BlockRef& block, std::string* error = nullptr,
                                   bool* ask_disk_thread = nullptr);
  bool changed_on_disk() const { return changed_on_disk_; }
  bool partial_written_by_others() const;
  // Driver's thread, after ReadBlock refused: true if the refusal is the
  // partial file's (partial_written_by_others), or ReadBlock could not tell
  // our own write from another's because one of ours kept overlapping its
  // check. Either way uploads wait for the disk thread's
  // PartialWrittenByOthers (which clears the second reason) and, if that
  // says so, ReverifyVerified.
  bool partial_check_wanted() const;
  // Tests only: called inside WriteBlock's window, after the bytes are
  // written and before the store notes the stamp they left (where a disk
  // thread descheduled under load leaves a reader to find the stamp moved).
  void set_inside_write_for_testing(std::function<void()> f) {
    inside_write_for_testing_ = std::move(f);
  }

  // Disk thread, while downloading: true if something other than this
  // store wrote into (or resized, or touched) the partial file since the
  // store last looked, i.e. its stamp is not the one our own last write
  // left (or a reader saw so). One fstat. A write by another program in
  // the same timestamp tick as ours, of the same size, cannot be told
  // from ours (on kernels without fine-grained timestamps, a few ms).
  bool PartialWrittenByOthers();
  // Disk thread: re-hashes from disk every piece verified so far (by
  // VerifyPiece or Recheck), forgets the hashes of pieces in progress (their
  // blocks are read back when they complete), and watches the partial file
  // anew from its stamp before the re-hash. Returns the pieces that no
  // longer verify; they count as unverified from now on. If there are
  // any, partial_written_by_others() stays true (ReadBlock keeps refusing)
  // until the store is gone: the caller is to stop the download.
  std::vector<core::PieceIndex> ReverifyVerified();
  // The complete file's stamp when it was opened or finalized; nullopt
  // while downloading (the partial file is ours to write).
  std::optional<Stamp> stamp() const;
  // True if the piece's bytes hash to the torrent's piece hash: from the
  // running hash if every block came in order, else read back from disk
  // kVerifyChunkBytes at a time (never the whole piece at once).
  bool VerifyPiece(core::PieceIndex p);
  // True if the file has no name left (its folder, or the file itself, was
  // deleted): whatever is written to it now is lost when it is closed.
  bool Unlinked() const;
  // The open file's identity; compare with FileIdOf(path()) to tell
  // whether the name still refers to it. nullopt if fstat fails.
  std::optional<FileId> file_id() const;
  // Syncs and renames the partial file to NAME (no-op if already final).
  bool Finalize(std::string* error);

  bool is_final() const { return is_final_; }
  // The file's name now: the partial file's, the final one's once
  // Finalize() renamed it. A copy: Finalize() may change it meanwhile.
  std::string path() const;
  const std::string& final_path() const { return final_path_; }

 private:
  PieceStore(int fd, std::string path, std::string final_path, bool is_final,
             const core::TorrentInfo& info);

  // A piece being hashed as its blocks arrive in order.
  struct Running {
    core::Sha256Hasher hasher;
    uint32_t next_offset = 0;
  };
  void HashOnArrival(const core::BlockRef& block, const Payload& data);
  enum class Hashed { kMatch, kMismatch, kStopped };
  // Hashes piece p from disk, kVerifyChunkBytes at a time, calling
  // `after_chunk` (if given) with each chunk's size: when it returns true
  // the hash stops (kStopped).
  Hashed HashFromDisk(core::PieceIndex p,
                      const std::function<bool(core::Bytes)>& after_chunk = {});

  int fd_;
  std::map<core::PieceIndex, std::unique_ptr<Running>> running_;
  std::string final_path_;
  bool is_final_;
  bool fresh_ = false;  // the partial file did not exist before
  // Set by Finalize() on the disk thread, read by ReadBlock() on the
  // driver's: a leecher that just completed goes on serving meanwhile.
  mutable std::mutex mu_;
  std::string path_;            // guarded by mu_
  std::optional<Stamp> stamp_;  // guarded by mu_
  // While downloading: the partial file's stamp after our last write (or
  // when it was opened or re-verified); nullopt once final. Guarded by mu_.
  std::optional<Stamp> partial_stamp_;
  // Bumped before and after each of our writes (odd while one is under
  // way), so that ReadBlock can tell our own write from another's.
  std::atomic<uint64_t> write_gen_{0};
  // Another program wrote into the partial file: set on either thread,
  // cleared by a ReverifyVerified that found every piece still good.
  std::atomic<bool> foreign_write_{false};
  // ReadBlock could not tell our write from another's (partial_check_wanted);
  // cleared by PartialWrittenByOthers on the disk thread.
  std::atomic<bool> check_wanted_{false};
  std::function<void()> inside_write_for_testing_;
  // Pieces found good by VerifyPiece or Recheck (disk thread).
  core::Bitfield verified_;
  bool changed_on_disk_ = false;
  const core::TorrentInfo& info_;
};

// How much of a piece VerifyPiece reads back from disk at a time: its
// memory per check whatever the piece length (pieces may be up to 1 GiB).
inline constexpr core::Bytes kVerifyChunkBytes = 1024 * 1024;

// How many bytes Recheck hashes between two calls of its `stop`: at 64 MiB
// pieces, asking once every 16 pieces (as until 2026-11-27) meant Ctrl-C
// waited for up to 1 GiB of hashing.
inline constexpr core::Bytes kRecheckStopBytes = 4 * kVerifyChunkBytes;

// Longest torrent name we store: the partial file adds ".<12 hex>.part"
// (18 bytes) and Linux file names hold at most 255.
inline constexpr size_t kMaxFileNameBytes = 255 - 18;

// Why `name` cannot be a torrent's file name (e.g. "it contains '/'"), or
// nullopt if it can: it must not be empty, "." or "..", contain '/', '\\'
// or a control character, or be longer than kMaxFileNameBytes. Every
// message that refuses a name says this.
std::optional<std::string> FileNameProblem(std::string_view name);

// The torrent name as a file name, or nullopt if FileNameProblem has one.
std::optional<std::string> SafeFileName(std::string_view name);

}  // namespace swarm::net

#endif  // SWARM_NET_PIECE_STORE_H_
