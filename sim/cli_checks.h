// CLI11 validators shared by the `sim` subcommands.
#ifndef SWARM_SIM_CLI_CHECKS_H_
#define SWARM_SIM_CLI_CHECKS_H_

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <string>

namespace swarm::sim {

// A whole number in [0, 2^64): CLI11 alone would take "-1" as 2^64 - 1 and
// quietly clamp a number too large for 64 bits.
inline CLI::Validator UnsignedWhole() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec == std::errc::result_out_of_range)
          return "'" + s + "' is not a whole number below 2^64";
        if (ec != std::errc() || p != s.data() + s.size())
          return "'" + s + "' is not a non-negative whole number";
        return "";
      },
      "UINT64");
}

}  // namespace swarm::sim

#endif  // SWARM_SIM_CLI_CHECKS_H_
