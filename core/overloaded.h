// Overloaded: combines lambdas into one visitor for std::visit, so each
// alternative of a std::variant (Message, Action) gets its own handler.
#ifndef SWARM_CORE_OVERLOADED_H_
#define SWARM_CORE_OVERLOADED_H_

namespace swarm::core {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces an aggregate's template arguments from its initializers
// (P1816), but Clang implements that only from Clang 17: with this guide
// `Overloaded{f, g}` also compiles with Clang 14 (Debian 12's).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace swarm::core

#endif  // SWARM_CORE_OVERLOADED_H_
