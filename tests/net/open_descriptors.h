// How many descriptors this process holds, from /proc/self/fd: for tests
// that check a socket API leaves nothing open behind it.
#ifndef SWARM_TESTS_NET_OPEN_DESCRIPTORS_H_
#define SWARM_TESTS_NET_OPEN_DESCRIPTORS_H_

#include <dirent.h>

#include <cstddef>

namespace swarm::net::testing {

// 0 if /proc is not mounted (the callers' comparisons then hold trivially).
inline size_t OpenDescriptors() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory's own
}

}  // namespace swarm::net::testing

#endif  // SWARM_TESTS_NET_OPEN_DESCRIPTORS_H_
