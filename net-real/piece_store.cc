#include "net-real/piece_store.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "core/sha256.h"
#include "core/utf8.h"

namespace swarm::net {
namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Reads exactly n bytes at `off`. 0, or the errno of the failure (EIO for
// a file that ends before off + n: it was truncated).
int PreadAll(int fd, char* buf, size_t n, off_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return EIO;
    buf += r;
    n -= static_cast<size_t>(r);
    off += r;
  }
  return 0;
}

// Writes every part of `data` at `off` onwards (pwritev, resuming after a
// short write). 0, or the errno of the failure; part of the data may have
// been written by then.
int PwriteAll(int fd, const Payload& data, off_t off) {
  std::vector<iovec> iov;
  for (std::string_view p : data.parts()) {
    iov.push_back(iovec{const_cast<char*>(p.data()), p.size()});
  }
  size_t i = 0;
  while (i < iov.size()) {
    int n = static_cast<int>(std::min<size_t>(iov.size() - i, IOV_MAX));
    ssize_t r = ::pwritev(fd, iov.data() + i, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return EIO;
    off += r;
    auto done = static_cast<size_t>(r);
    while (i < iov.size() && done >= iov[i].iov_len) {
      done -= iov[i].iov_len;
      ++i;
    }
    if (done > 0) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + done;
      iov[i].iov_len -= done;
    }
  }
  return 0;
}

PieceStore::Stamp StampOfStat(const struct stat& st) {
  return PieceStore::Stamp{st.st_size,
                           int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::optional<PieceStore::Stamp> StampOfFd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return std::nullopt;
  return StampOfStat(st);
}

// Takes an exclusive advisory lock on `fd`, so that two `swarm get`s of
// one file into one folder cannot write the same bytes at once.
bool LockExclusive(int fd) { return ::flock(fd, LOCK_EX | LOCK_NB) == 0; }

}  // namespace

std::string PieceStore::PartialPath(const std::string& final_path,
                                    const core::TorrentInfo& info) {
  static const char kHex[] = "0123456789abcdef";
  std::string tag;
  for (size_t i = 0; i < 6; ++i) {
    tag += kHex[info.info_hash()[i] >> 4];
    tag += kHex[info.info_hash()[i] & 15];
  }
  return final_path + "." + tag + ".part";
}

std::optional<PieceStore::Stamp> PieceStore::StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return StampOfStat(st);
}

std::optional<std::string> FileNameProblem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name == "." || name == "..") return "it is '" + std::string(name) + "'";
  if (name.size() > kMaxFileNameBytes) {
    return "it has " + std::to_string(name.size()) + " bytes (at most " +
           std::to_string(kMaxFileNameBytes) + ")";
  }
  // Names travel in protobuf `string` fields, which must be UTF-8: a
  // tracker (gRPC) cannot even parse a request that carries anything else.
  if (auto problem = core::Utf8Problem(name)) return "it is " + *problem;
  for (char c : name) {
    // No separators, and no control characters (a name is printed to
    // terminals by `list` and in messages).
    if (c == '/' || c == '\\') return std::string("it contains '") + c + "'";
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", byte);
      return std::string("it contains a control character (byte ") + hex + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> SafeFileName(std::string_view name) {
  if (FileNameProblem(name)) return std::nullopt;
  return std::string(name);
}

PieceStore::PieceStore(int fd, std::string path, std::string final_path,
                       bool is_final, const core::TorrentInfo& info)
    : fd_(fd), final_path_(std::move(final_path)), is_final_(is_final),
      path_(std::move(path)), verified_(info.piece_count()), info_(info) {}

PieceStore::~PieceStore() { ::close(fd_); }

std::unique_ptr<PieceStore> PieceStore::OpenComplete(const std::string& path,
                                                     const core::TorrentInfo& info,
                                                     std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno("cannot open", path);
    return nullptr;
  }
  auto store = std::unique_ptr<PieceStore>(new PieceStore(fd, path, path, true, info));
  store->stamp_ = StampOfFd(fd);
  return store;
}

std::unique_ptr<PieceStore> PieceStore::OpenForDownload(const std::string& dir,
                                                        const core::TorrentInfo& info,
                                                        std::string* error) {
  auto name = SafeFileName(info.name());
  SWARM_CHECK(name.has_value());
  std::string final_path = dir + "/" + *name;
  struct stat st;
  // A symbolic link under the final name that points nowhere would let the
  // final rename put the download in its place only on file systems
  // without RENAME_NOREPLACE; it is the user's either way.
  if (::lstat(final_path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) &&
      ::stat(final_path.c_str(), &st) != 0) {
    *error = final_path + " is a symbolic link to nothing; move it away first";
    return nullptr;
  }
  if (::stat(final_path.c_str(), &st) == 0) {
    // Only the very file counts as done: same size, and (Recheck) every
    // piece verifies. Anything else is the user's and is left alone.
    if (!S_ISREG(st.st_mode)) {
      *error = final_path + " exists and is " +
               (S_ISDIR(st.st_mode) ? "a folder" : "not a plain file") + ", not " +
               info.name() + " from the tracker; move it away first";
      return nullptr;
    }
    if (st.st_size != static_cast<off_t>(info.length())) {
      *error = final_path + " exists and is not " + info.name() + " from the tracker (" +
               std::to_string(st.st_size) + " bytes, expected " +
               std::to_string(info.length()) + "); move it away first";
      return nullptr;
    }
    int fd = ::open(final_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = Errno("cannot open", final_path);
      return nullptr;
    }
    auto store = std::unique_ptr<PieceStore>(
        new PieceStore(fd, final_path, final_path, true, info));
    store->stamp_ = StampOfFd(fd);
    return store;
  }
  // The partial file's name carries the info-hash: a file of the user's
  // called NAME.part, or another torrent of the same name, is never taken
  // for it.
  std::string part = PartialPath(final_path, info);
  // The partial file's name is predictable: whoever can write into the
  // folder could put a symbolic link there (or a hard link, or a FIFO) and
  // have the download written over a file of their choice. Only a plain
  // file of our own is written into; anything else is refused and left
  // alone. (O_NONBLOCK: opening a FIFO must not hang; it is not kept.)
  int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0 && errno == ELOOP) {
    *error = part + " is a symbolic link; refusing to write through it (move it away first)";
    return nullptr;
  }
  if (fd < 0) {
    *error = Errno("cannot create", part);
    return nullptr;
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0) {
    *error = Errno("cannot inspect", part);
    ::close(fd);
    return nullptr;
  }
  if (S_ISREG(opened.st_mode) && opened.st_nlink == 0) {
    // Unlinked between our open and fstat (say, with its folder): not a
    // file with other links, and nothing to write into.
    *error = part + " was deleted during the download (as it was opened)";
    ::close(fd);
    return nullptr;
  }
  if (!S_ISREG(opened.st_mode) || opened.st_nlink != 1) {
    *error = part + (S_ISREG(opened.st_mode)
                         ? " has other hard links; refusing to write into it (move it away first)"
                         : " is not a plain file; refusing to write into it (move it away first)");
    ::close(fd);
    return nullptr;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (!LockExclusive(fd)) {
    *error = part + ": another swarm get is downloading into it";
    ::close(fd);
    return nullptr;
  }
  struct stat part_st;
  bool fresh = ::fstat(fd, &part_st) == 0 && part_st.st_size == 0;
  // Pieces are read back only to verify what was just written: readahead
  // would zero-fill the file's holes for nothing.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  // Reserve the disk space up front (as libtorrent's "allocate" mode does):
  // a full disk shows now rather than mid-download, and ext4 no longer
  // reserves and maps blocks page by page on every write (a quarter less
  // CPU per pwrite here). Filesystems without fallocate just get a sparse
  // file; existing data is never touched (mode 0 only fills holes).
  // A partial file made just now is removed again if it cannot be sized
  // (a full disk, a file size limit): it holds nothing.
  auto give_up = [&](const char* what) {
    *error = Errno(what, part);
    if (fresh) ::unlink(part.c_str());
    ::close(fd);
    return nullptr;
  };
  if (info.length() > 0 && ::fallocate(fd, 0, 0, info.length()) != 0 &&
      errno != EOPNOTSUPP && errno != ENOSYS) {
    return give_up("cannot allocate space for");
  }
  if (::ftruncate(fd, info.length()) != 0) return give_up("cannot size");
  auto store = std::unique_ptr<PieceStore>(
      new PieceStore(fd, part, final_path, false, info));
  store->fresh_ = fresh;
  store->partial_stamp_ = StampOfFd(fd);  // from here on, only our writes change it
  return store;
}

core::Bitfield PieceStore::Recheck(const std::function<bool()>& stop) {
  core::Bitfield have(info_.piece_count());
  if (fresh_) return have;  // created empty just now: nothing to find
  if (stop && stop()) return have;
  core::Bytes unasked = 0;  // hashed since `stop` was last asked
  auto after_chunk = [&](core::Bytes n) {
    if ((unasked += n) < kRecheckStopBytes) return false;
    unasked = 0;
    return stop();
  };
  for (uint32_t i = 0; i < info_.piece_count(); ++i) {
    const core::PieceIndex p(i);
    running_.erase(p);
    const Hashed h = HashFromDisk(p, stop ? std::function<bool(core::Bytes)>(after_chunk)
                                          : std::function<bool(core::Bytes)>());
    if (h == Hashed::kStopped) break;
    if (h == Hashed::kMatch) {
      have.Set(i);
      verified_.Set(i);
    } else if (verified_.Test(i)) {
      verified_.Clear(i);
    }
  }
  return have;
}

bool PieceStore::WriteBlock(const core::BlockRef& block, const Payload& data,
                            std::string* error) {
  SWARM_CHECK(data.size() == block.length);
  // Our own write changes the stamp: whatever changed it before must be
  // noticed now, or the stamp taken after the write would hide it.
  if (!is_final_) PartialWrittenByOthers();
  off_t off = info_.PieceOffset(block.piece) + block.offset;
  ++write_gen_;  // odd: a write of ours is under way
  const int e = PwriteAll(fd_, data, off);
  if (inside_write_for_testing_) inside_write_for_testing_();
  if (!is_final_) {
    std::optional<Stamp> after = StampOfFd(fd_);
    std::lock_guard<std::mutex> lock(mu_);
    partial_stamp_ = after;
  }
  ++write_gen_;
  if (e != 0) {
    // Part of the block may be on disk: the piece's running hash (of what
    // was there before) no longer describes the file, so it is read back.
    running_.erase(block.piece);
    if (error) *error = "cannot write to " + path() + ": " + std::strerror(e);
    return false;
  }
  HashOnArrival(block, data);
  return true;
}

bool PieceStore::PartialWrittenByOthers() {
  check_wanted_ = false;  // this is the look ReadBlock asked for
  std::optional<Stamp> now = StampOfFd(fd_);
  std::lock_guard<std::mutex> lock(mu_);
  if (partial_stamp_ && now != partial_stamp_) foreign_write_ = true;
  return foreign_write_.load();
}

bool PieceStore::partial_written_by_others() const {
  std::lock_guard<std::mutex> lock(mu_);
  return partial_stamp_.has_value() && foreign_write_.load();
}

bool PieceStore::partial_check_wanted() const {
  // Only while downloading: a request left over from before Finalize must
  // not hold a complete file's uploads (its refusals are changed_on_disk's).
  std::lock_guard<std::mutex> lock(mu_);
  return partial_stamp_.has_value() && (check_wanted_.load() || foreign_write_.load());
}

std::vector<core::PieceIndex> PieceStore::ReverifyVerified() {
  // Taken before the re-hash: a write during it shows at the next look.
  std::optional<Stamp> before = StampOfFd(fd_);
  running_.clear();  // pieces in progress are read back when they complete
  std::vector<core::PieceIndex> lost;
  for (uint32_t i = 0; i < info_.piece_count(); ++i) {
    if (!verified_.Test(i)) continue;
    if (HashFromDisk(core::PieceIndex(i)) != Hashed::kMatch) {
      verified_.Clear(i);
      lost.push_back(core::PieceIndex(i));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (partial_stamp_) partial_stamp_ = before;
  }
  // With a piece lost the flag stays: uploads stay held until the driver,
  // told by the caller, stops (a block of a lost piece must not go out).
  if (lost.empty()) foreign_write_ = false;
  return lost;
}

void PieceStore::HashOnArrival(const core::BlockRef& block, const Payload& data) {
  auto it = running_.find(block.piece);
  if (block.offset == 0) {  // a piece (re)starts: begin a fresh hash
    if (it != running_.end()) running_.erase(it);
    it = running_.emplace(block.piece, std::make_unique<Running>()).first;
  }
  if (it == running_.end()) return;
  if (block.offset != it->second->next_offset) {  // out of order: read back later
    running_.erase(it);
    return;
  }
  for (std::string_view p : data.parts()) {
    it->second->hasher.Update(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.data()), p.size()));
  }
  it->second->next_offset += block.length;
}

std::optional<Payload> PieceStore::ReadBlock(const core::BlockRef& block, std::string* error,
                                             bool* ask_disk_thread) {
  std::shared_ptr<char[]> buf(new char[block.length]);
  off_t off = info_.PieceOffset(block.piece) + block.offset;
  // A few tries while our own writes to the partial file overlap the read
  // and its stamp check; then the difference counts as another's write
  // (and costs a re-verification, not the download).
  constexpr int kTries = 4;
  int e = 0;
  for (int attempt = 1;; ++attempt) {
    const uint64_t gen = write_gen_.load();
    e = PreadAll(fd_, buf.get(), block.length, off);
    // Checked after the read, and after a failed one too (a file truncated
    // under us fails to read): a write that lands before it shows in the
    // stamp. (A user who edits the file and then restores its mtime
    // defeats this; leechers' hash checks still catch the bytes.)
    const std::optional<Stamp> now = StampOfFd(fd_);
    std::optional<Stamp> watched, partial;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watched = stamp_;
      partial = partial_stamp_;
    }
    if (watched && now != watched) {
      changed_on_disk_ = true;
      if (error) *error = path() + " changed on disk";
      return std::nullopt;
    }
    if (partial && (foreign_write_.load() || now != partial)) {
      const bool ours_overlapped = (gen & 1) != 0 || write_gen_.load() != gen;
      if (!foreign_write_.load() && ours_overlapped) {
        if (attempt < kTries) continue;
        // Our disk thread is still inside a write: under load it may sit
        // there, descheduled, for a whole time slice, longer than any
        // number of quick tries. That is no sign of another program; the
        // disk thread, which cannot race its own writes, is to look.
        check_wanted_ = true;
        if (ask_disk_thread) *ask_disk_thread = true;
        if (error) *error = path() + ": our own write overlapped the check; asking the disk thread";
        return std::nullopt;
      }
      foreign_write_ = true;
      if (ask_disk_thread) *ask_disk_thread = true;
      if (error) *error = path() + " was written to by another program";
      return std::nullopt;
    }
    break;
  }
  if (e != 0) {
    if (error) *error = "cannot read " + path() + ": " + std::strerror(e);
    return std::nullopt;
  }
  std::string_view bytes(buf.get(), block.length);
  return Payload(std::move(buf), {bytes});
}

std::optional<PieceStore::Stamp> PieceStore::stamp() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stamp_;
}

std::string PieceStore::path() const {
  std::lock_guard<std::mutex> lock(mu_);
  return path_;
}

bool PieceStore::VerifyPiece(core::PieceIndex p) {
  bool ok = false;
  auto it = running_.find(p);
  if (it != running_.end() && it->second->next_offset == info_.PieceSize(p)) {
    ok = it->second->hasher.Finish() == info_.piece_hash(p);
  } else {
    ok = HashFromDisk(p) == Hashed::kMatch;
  }
  if (it != running_.end()) running_.erase(p);
  if (ok) {
    verified_.Set(p.value());
  } else if (verified_.Test(p.value())) {
    verified_.Clear(p.value());
  }
  return ok;
}

PieceStore::Hashed PieceStore::HashFromDisk(
    core::PieceIndex p, const std::function<bool(core::Bytes)>& after_chunk) {
  // Read back in chunks: a piece may be up to a GiB (a tracker's metadata
  // may say so), and a buffer of its size per check would be that much
  // memory on every resume or out-of-order piece.
  const core::Bytes size = info_.PieceSize(p);
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<core::Bytes>(size, kVerifyChunkBytes)));
  core::Sha256Hasher hasher;
  for (core::Bytes done = 0; done < size;) {
    const size_t n = static_cast<size_t>(std::min<core::Bytes>(size - done, buf.size()));
    if (PreadAll(fd_, reinterpret_cast<char*>(buf.data()), n, info_.PieceOffset(p) + done) != 0) {
      return Hashed::kMismatch;
    }
    hasher.Update(std::span<const uint8_t>(buf.data(), n));
    done += static_cast<core::Bytes>(n);
    if (after_chunk && after_chunk(static_cast<core::Bytes>(n))) return Hashed::kStopped;
  }
  return hasher.Finish() == info_.piece_hash(p) ? Hashed::kMatch : Hashed::kMismatch;
}

std::optional<PieceStore::FileId> PieceStore::FileIdOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

std::optional<PieceStore::FileId> PieceStore::file_id() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return std::nullopt;
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

bool PieceStore::Unlinked() const {
  struct stat st;
  return ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

bool PieceStore::Finalize(std::string* error) {
  if (is_final_) return true;
  // Only this thread changes path_, so it reads it without the lock.
  const std::string partial = path_;
  if (::fsync(fd_) != 0) {
    *error = Errno("cannot sync", partial);
    return false;
  }
  // Never over a file that appeared under the final name meanwhile: that
  // one is the user's (the complete download stays in the partial file).
  int r =
      ::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, final_path_.c_str(), RENAME_NOREPLACE);
  if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // A file system without the flag: check, then rename (a race remains).
    struct stat st;
    if (::lstat(final_path_.c_str(), &st) == 0) {  // a link too, even to nothing
      errno = EEXIST;
    } else {
      r = ::rename(partial.c_str(), final_path_.c_str());
    }
  }
  if (r != 0) {
    *error = errno == EEXIST ? final_path_ + " appeared during the download and is kept; the "
                                             "complete file is " + partial
                             : Errno("cannot rename to", final_path_);
    return false;
  }
  is_final_ = true;
  std::optional<Stamp> now = StampOfFd(fd_);  // from now on the file is the user's to edit
  std::lock_guard<std::mutex> lock(mu_);
  path_ = final_path_;
  stamp_ = now;
  partial_stamp_.reset();
  return true;
}

}  // namespace swarm::net
