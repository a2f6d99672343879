#include "sim/write_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace swarm::sim {
namespace {

// Writes all of `text` to `fd`; errno on failure.
bool WriteAll(int fd, std::string_view text) {
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::filesystem::path PartialPath(const std::filesystem::path& path) {
  return path.parent_path() /
         ("." + path.filename().string() + "." + std::to_string(::getpid()) + ".partial");
}

std::optional<std::string> WriteFileWhole(
    const std::filesystem::path& path, std::string_view text,
    const std::function<void(const struct stat&)>& before_rename) {
  auto failed = [&](const char* what, int err) {
    return path.string() + ": cannot " + what + ": " + std::strerror(err);
  };
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return failed("write", errno);
    const bool ok = WriteAll(fd, text);
    const int err = errno;
    if (::close(fd) != 0 && ok) return failed("write", errno);
    if (!ok) return failed("write", err);
    return std::nullopt;
  }
  // Our own name, made afresh (O_EXCL, O_NOFOLLOW): no other writer's file
  // and no link planted there is ever written into. One left by a killed
  // process of the same pid is stale and goes.
  const std::filesystem::path partial = PartialPath(path);
  constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(partial.c_str(), kCreate, 0666);
  if (fd < 0 && errno == EEXIST && ::unlink(partial.c_str()) == 0) {
    fd = ::open(partial.c_str(), kCreate, 0666);
  }
  if (fd < 0) return failed("write", errno);
  auto abandon = [&](const char* what, int err) {
    ::unlink(partial.c_str());
    return failed(what, err);
  };
  if (!WriteAll(fd, text)) {
    const int err = errno;
    ::close(fd);
    return abandon("write", err);
  }
  struct stat written;
  const bool known = ::fstat(fd, &written) == 0;
  // Some file systems (NFS) report a failed write only at close.
  if (::close(fd) != 0) return abandon("write", errno);
  if (known && before_rename) before_rename(written);
  if (std::rename(partial.c_str(), path.c_str()) != 0) return abandon("replace", errno);
  return std::nullopt;
}

}  // namespace swarm::sim
