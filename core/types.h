// Unit and identifier types shared by every layer of swarmlab.
//
// Time is a point on a driver's timeline and Duration a span, both in integer
// microseconds so that arithmetic is exact and simulated runs repeat bit for
// bit. Byte counts are signed 64-bit (`Bytes`). Rates are bytes per second in
// a double (`Rate`). Identifiers are distinct types so a PieceIndex can never
// be passed where a ConnectionId is expected.
//
// All types here are plain values: thread-compatible, no hidden state.
#ifndef SWARM_CORE_TYPES_H_
#define SWARM_CORE_TYPES_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace swarm::core {

// A span of time in microseconds.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Micros(int64_t us) { return Duration(us); }
  static constexpr Duration Millis(int64_t ms) { return Duration(ms * 1000); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000000); }
  // Rounds to the nearest microsecond.
  static constexpr Duration SecondsF(double s) {
    return Duration(static_cast<int64_t>(s * 1e6 + (s >= 0 ? 0.5 : -0.5)));
  }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() {
    return Duration(std::numeric_limits<int64_t>::max() / 4);
  }

  constexpr int64_t micros() const { return us_; }
  constexpr double seconds() const { return static_cast<double>(us_) / 1e6; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(us_ + o.us_); }
  constexpr Duration operator-(Duration o) const { return Duration(us_ - o.us_); }
  constexpr Duration operator*(int64_t k) const { return Duration(us_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(us_ / k); }
  constexpr Duration& operator+=(Duration o) { us_ += o.us_; return *this; }
  constexpr Duration& operator-=(Duration o) { us_ -= o.us_; return *this; }

 private:
  constexpr explicit Duration(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// A point in time, microseconds since the driver's epoch (the start of a
// simulation, or the start of a real process's steady clock).
class Time {
 public:
  constexpr Time() = default;
  static constexpr Time FromMicros(int64_t us) { return Time(us); }
  static constexpr Time Zero() { return Time(0); }
  static constexpr Time Never() { return Time(std::numeric_limits<int64_t>::max() / 2); }

  constexpr int64_t micros() const { return us_; }
  constexpr double seconds() const { return static_cast<double>(us_) / 1e6; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return Time(us_ + d.micros()); }
  constexpr Time operator-(Duration d) const { return Time(us_ - d.micros()); }
  constexpr Duration operator-(Time o) const { return Duration::Micros(us_ - o.us_); }
  constexpr Time& operator+=(Duration d) { us_ += d.micros(); return *this; }

 private:
  constexpr explicit Time(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// A byte count. Signed so that differences are safe.
using Bytes = int64_t;

inline constexpr Bytes kKiB = 1024;
inline constexpr Bytes kMiB = 1024 * kKiB;
inline constexpr Bytes kGiB = 1024 * kMiB;

// A transfer rate in bytes per second.
class Rate {
 public:
  constexpr Rate() = default;
  static constexpr Rate BytesPerSecond(double b) { return Rate(b); }
  // 1 Mbit/s = 10^6 bit/s (SI, as network capacities are quoted).
  static constexpr Rate MegabitsPerSecond(double m) { return Rate(m * 1e6 / 8); }
  static constexpr Rate Zero() { return Rate(0); }

  constexpr double bytes_per_second() const { return bps_; }
  constexpr double bits_per_second() const { return bps_ * 8; }
  constexpr auto operator<=>(const Rate&) const = default;

 private:
  constexpr explicit Rate(double b) : bps_(b) {}
  double bps_ = 0;
};

// A strongly typed integer identifier. `Tag` makes each id type distinct.
template <typename Tag, typename Rep>
class StrongId {
 public:
  using rep = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Rep v_ = 0;
};

// Index of a piece within a torrent: 0 .. piece_count-1.
using PieceIndex = StrongId<struct PieceIndexTag, uint32_t>;
// Identity of a peer, stable across its connections. In the simulator it is
// the virtual node's index; a real peer draws a random one at start-up.
using PeerId = StrongId<struct PeerIdTag, uint64_t>;
// One connection as numbered by the driver that owns the Peer. Unique for the
// life of that Peer (never reused).
using ConnectionId = StrongId<struct ConnectionIdTag, uint64_t>;

}  // namespace swarm::core

template <typename Tag, typename Rep>
struct std::hash<swarm::core::StrongId<Tag, Rep>> {
  size_t operator()(const swarm::core::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>()(id.value());
  }
};

#endif  // SWARM_CORE_TYPES_H_
