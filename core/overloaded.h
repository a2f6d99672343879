// Overloaded: combines lambdas into one visitor for std::visit, so each
// alternative of a std::variant (Message, Action) gets its own handler.
#ifndef SWARM_CORE_OVERLOADED_H_
#define SWARM_CORE_OVERLOADED_H_

namespace swarm::core {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_OVERLOADED_H_
