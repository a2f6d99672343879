#include "sim/huge_pages.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace swarm::sim {

void ReexecWithHugePages(char** argv) {
  constexpr const char* kTunable = "glibc.malloc.hugetlb";
  const char* opt = std::getenv("SWARMLAB_HUGEPAGES");
  if (opt && std::strcmp(opt, "0") == 0) return;
  const char* old = std::getenv("GLIBC_TUNABLES");
  if (old && std::strstr(old, kTunable)) return;
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload && std::strstr(preload, "vgpreload")) return;  // valgrind
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(f, mode) || mode.find("[madvise]") == std::string::npos) return;

  const std::string previous = old ? old : "";
  const std::string value =
      (previous.empty() ? "" : previous + ":") + std::string(kTunable) + "=1";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the exec failed. Carry on with ordinary pages.
  if (old) {
    setenv("GLIBC_TUNABLES", previous.c_str(), 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace swarm::sim
