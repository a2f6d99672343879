// Transparent huge pages for the simulator's heap.
//
// A large simulated swarm's state (~50-75 KB per peer) is touched at random,
// one peer per event, so with 4 KiB pages nearly every cold access also
// misses the TLB. glibc can back malloc's heap with transparent huge pages
// (the tunable glibc.malloc.hugetlb=1, glibc >= 2.35), but it reads tunables
// only at process start: so a long-running tool calls this first thing, and
// it re-executes the binary once with the tunable added to GLIBC_TUNABLES.
// Measured in docs/performance.md (-8% CPU on the 1k flash crowd at 20 MiB,
// -11% at 10k peers). No result depends on it: nothing in the simulator's
// output depends on addresses.
//
// Returns (doing nothing) when the kernel's THP mode is not "madvise" (under
// "always" the heap gets huge pages anyway, under "never" it cannot),
// after the one re-exec (a marker variable says so), when GLIBC_TUNABLES
// already names the tunable, under valgrind (which would not follow the
// exec), for a set-user-ID binary, when started through the dynamic
// loader, when SWARMLAB_HUGEPAGES=0, or when the exec fails.
#ifndef SWARM_SIM_HUGE_PAGES_H_
#define SWARM_SIM_HUGE_PAGES_H_

namespace swarm::sim {

void ReexecWithHugePages(char** argv);

}  // namespace swarm::sim

#endif  // SWARM_SIM_HUGE_PAGES_H_
