// CHECK: assertions on swarmlab's own invariants. They stay on in every build
// type: a broken invariant in a simulator silently corrupts results, so we
// abort loudly instead. Never use CHECK on remote input (that is a protocol
// violation and becomes a Disconnect) or on user input (a clear error).
#ifndef SWARM_CORE_CHECK_H_
#define SWARM_CORE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define SWARM_CHECK(cond)                                              \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,      \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // SWARM_CORE_CHECK_H_
