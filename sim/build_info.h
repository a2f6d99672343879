// Which code produced a result: the project version and the commit it was
// built from. Both go into every summary.json and `sim|swarm --version`.
#ifndef SWARM_SIM_BUILD_INFO_H_
#define SWARM_SIM_BUILD_INFO_H_

namespace swarm {

// The project version from CMake (0.1.0). It changes only with releases, so
// it does not tell two commits apart.
const char* Version();

// `git describe --always --dirty` of the source tree at build time, e.g.
// "0716078e1a2b", or "0716078e1a2b-dirty-3f09c2a1be" when uncommitted
// changes were built (the suffix is a digest of `git diff HEAD`, so two
// different sets of edits get different ids); "unknown" when built outside
// a git checkout.
const char* BuildId();

}  // namespace swarm

#endif  // SWARM_SIM_BUILD_INFO_H_
