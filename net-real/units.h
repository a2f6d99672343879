// Parsing of user-supplied quantities for the `swarm` CLI: byte sizes
// ("256KiB", "1MB"), rates ("2MiB/s", "10Mbit/s", "0" = unlimited) and
// durations ("30s", "5m", "250ms"). Errors name the offending text.
//
// Stateless; thread-safe.
#ifndef SWARM_NET_UNITS_H_
#define SWARM_NET_UNITS_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace swarm::net {

// "1024", "16KiB", "1MiB", "1GB" (SI: 10^9), case-sensitive unit names.
std::optional<core::Bytes> ParseBytes(std::string_view s);
// "<bytes>/s" or "<n>bit/s", "<n>kbit/s", "<n>Mbit/s", "<n>Gbit/s"; "0" or
// "unlimited" mean no limit (Rate::Zero()).
std::optional<core::Rate> ParseRate(std::string_view s);
// "<n>us", "<n>ms", "<n>s", "<n>m", "<n>h"; n may have a fraction.
std::optional<core::Duration> ParseDuration(std::string_view s);
// "12.3 MiB" style, for logs and progress lines.
std::string FormatBytes(double bytes);

}  // namespace swarm::net

#endif  // SWARM_NET_UNITS_H_
