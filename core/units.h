// Units: parsing and printing quantities typed by people — scenario files
// and command-line flags of both `sim` and `swarm` share this one grammar.
// Pure string functions; no I/O.
//
// Every duration, size and rate carries its unit, as in OMNeT++/ns-3
// configurations: "25ms", "100MiB", "10Mbit/s", "0.2/s".
// Binary prefixes (KiB, MiB, GiB) are powers of 1024; SI prefixes (KB/kB,
// MB, GB, kbit, Mbit, Gbit) are powers of 1000, so 1 Mbit/s = 10^6 bit/s.
// A bare number is rejected: the caller turns nullopt into a user error.
//
// The Format* functions print a value back in a form the parsers accept, so
// a resolved scenario written by `sim` can be read again unchanged.
#ifndef SWARM_CORE_UNITS_H_
#define SWARM_CORE_UNITS_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace swarm::core {

// "250ms", "1.5s", "30min" (or "30m"), "4h", "2d", "0s", "100us". Must be >= 0.
std::optional<Duration> ParseDuration(std::string_view s);
// "100MiB", "256KiB", "16KiB", "1GB", "512B". Must be >= 0 and at most
// 9000000000000000000B; a whole number is counted exactly, one with a point
// must come to a whole number of bytes below 2^53 (8 PiB).
std::optional<Bytes> ParseBytes(std::string_view s);
// "10Mbit/s", "512kbit/s", "1MiB/s", "100KB/s", "0bit/s". Must be >= 0 and
// at most kMaxRate.
std::optional<Rate> ParseRate(std::string_view s);
// 1 Tbit/s: far beyond any access link, and small enough that a million
// peers' rates add up without overflow or loss of precision in the
// simulator's flow model (which works in doubles of bytes per second).
inline constexpr Rate kMaxRate = Rate::BytesPerSecond(1e12 / 8);
// Events per unit of time: "0.2/s", "12/min", "100/h". Must be >= 0.
// Returned in events per second.
std::optional<double> ParseFrequency(std::string_view s);

std::string FormatDuration(Duration d);
std::string FormatBytes(Bytes b);
std::string FormatRate(Rate r);
std::string FormatFrequency(double per_second);

}  // namespace swarm::core

#endif  // SWARM_CORE_UNITS_H_
