// GoogleTest printers so that failed comparisons of actions read as text.
// Found by argument-dependent lookup through std::variant's arguments.
#ifndef SWARM_TESTS_CORE_PRINTERS_H_
#define SWARM_TESTS_CORE_PRINTERS_H_

#include <ostream>

#include "core/action.h"

namespace swarm::core {

inline void PrintTo(const Action& a, std::ostream* os) { *os << ToString(a); }
inline void PrintTo(const Message& m, std::ostream* os) { *os << ToString(m); }

}  // namespace swarm::core

#endif  // SWARM_TESTS_CORE_PRINTERS_H_
