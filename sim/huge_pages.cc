#include "sim/huge_pages.h"

#include <sys/auxv.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace swarm::sim {

void ReexecWithHugePages(char** argv) {
  constexpr const char* kTunable = "glibc.malloc.hugetlb";
  constexpr const char* kDone = "SWARMLAB_HUGEPAGES_REEXEC";  // one re-exec at most
  const char* opt = std::getenv("SWARMLAB_HUGEPAGES");
  if (opt && std::strcmp(opt, "0") == 0) return;
  if (std::getenv(kDone)) return;
  const char* old = std::getenv("GLIBC_TUNABLES");
  if (old && std::strstr(old, kTunable)) return;
  // Set-user-ID or capabilities: glibc would drop the tunable anyway.
  if (getauxval(AT_SECURE)) return;
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload && std::strstr(preload, "vgpreload")) return;  // valgrind
  // Started through the dynamic loader (ld-linux... sim run ...):
  // /proc/self/exe is the loader, which would not know what to run.
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char* base = std::strrchr(exe, '/');
  if (std::strncmp(base ? base + 1 : exe, "ld-", 3) == 0) return;
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(f, mode) || mode.find("[madvise]") == std::string::npos) return;

  const std::string previous = old ? old : "";
  const std::string value =
      (previous.empty() ? "" : previous + ":") + std::string(kTunable) + "=1";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  setenv(kDone, "1", 1);
  execv(exe, argv);
  // Still here: the exec failed. Carry on with ordinary pages.
  unsetenv(kDone);
  if (old) {
    setenv("GLIBC_TUNABLES", previous.c_str(), 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace swarm::sim
