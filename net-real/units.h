// The `swarm` CLI's quantities: the shared grammar of core/units.h, plus
// "0" / "unlimited" for rate limits, and human-readable byte counts for logs
// and progress lines.
//
// Stateless; thread-safe.
#ifndef SWARM_NET_UNITS_H_
#define SWARM_NET_UNITS_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"
#include "core/units.h"

namespace swarm::net {

using core::ParseBytes;
using core::ParseDuration;

// A rate limit: anything core::ParseRate accepts, or "0" / "unlimited" for
// no limit (Rate::Zero()).
std::optional<core::Rate> ParseRate(std::string_view s);
// "12.3 MiB" style, for logs and progress lines.
std::string FormatBytes(double bytes);

}  // namespace swarm::net

#endif  // SWARM_NET_UNITS_H_
