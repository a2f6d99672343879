// CgroupMemoryLimit and AvailableMemory (memory_estimate.h): the memory a
// run may use, which in a container or a systemd slice is less than the
// machine's.
#include "sim/memory_estimate.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

// The bytes a limit file sets, or 0 for none: "max" (v2), v1's largest
// number, a file that is not there or not a whole number.
double LimitIn(const fs::path& file) {
  std::ifstream in(file);
  std::string word;
  if (!(in >> word) || word.find_first_not_of("0123456789") != std::string::npos) return 0;
  // v1 writes "no limit" as the largest page count it can hold
  // (9223372036854771712 with 4 KiB pages).
  const double bytes = std::strtod(word.c_str(), nullptr);
  return bytes >= 0x1p62 ? 0 : bytes;
}

// Looks at `name` in the cgroup `cgroup` (as /proc/self/cgroup gives it)
// and in each of its parents, up to the hierarchy's root `top`; keeps the
// smallest limit in *best.
void SmallestUp(const fs::path& root, const fs::path& top, const std::string& cgroup,
                const char* name, MemoryLimit* best) {
  fs::path rel = fs::path(cgroup).relative_path().lexically_normal();
  // Outside this process's cgroup namespace ("/../.."): not under `top`.
  if (!rel.empty() && *rel.begin() == "..") return;
  if (rel == ".") rel.clear();
  while (true) {
    const fs::path file = top / rel / name;
    const double bytes = LimitIn(root / file.relative_path());
    if (bytes > 0 && (best->bytes == 0 || bytes < best->bytes))
      *best = {bytes, "cgroup limit, " + file.lexically_normal().string()};
    if (rel.empty()) return;
    rel = rel.parent_path();
  }
}

}  // namespace

MemoryLimit CgroupMemoryLimit(const std::string& root) {
  const fs::path base = root.empty() ? fs::path("/") : fs::path(root);
  MemoryLimit best;
  std::ifstream in(base / "proc/self/cgroup");
  // Lines "ID:CONTROLLERS:PATH": "0::PATH" is v2, a v1 hierarchy lists its
  // controllers ("4:memory:PATH").
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      SmallestUp(base, "/sys/fs/cgroup", path, "memory.max", &best);
      continue;
    }
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');) {
      if (c == "memory") SmallestUp(base, "/sys/fs/cgroup/memory", path,
                                    "memory.limit_in_bytes", &best);
    }
  }
  return best;
}

MemoryLimit AvailableMemory(const std::string& root) {
  MemoryLimit physical{PhysicalMemory(), "physical memory"};
  const MemoryLimit cgroup = CgroupMemoryLimit(root);
  if (cgroup.bytes > 0 && (physical.bytes <= 0 || cgroup.bytes < physical.bytes)) return cgroup;
  return physical;
}

}  // namespace swarm::sim
