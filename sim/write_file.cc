#include "sim/write_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace swarm::sim {

std::optional<std::string> WriteFileWhole(const std::filesystem::path& path,
                                          std::string_view text) {
  const std::filesystem::path partial =
      path.parent_path() / ("." + path.filename().string() + ".partial");
  auto fail = [&](const char* what, int err) -> std::optional<std::string> {
    ::unlink(partial.c_str());
    return path.string() + ": cannot " + what + ": " + std::strerror(err);
  };
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return path.string() + ": cannot write: " + std::strerror(errno);
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail("write", err);
    }
    done += static_cast<size_t>(n);
  }
  // Some file systems (NFS) report a failed write only at close.
  if (::close(fd) != 0) return fail("write", errno);
  if (std::rename(partial.c_str(), path.c_str()) != 0) return fail("replace", errno);
  return std::nullopt;
}

}  // namespace swarm::sim
