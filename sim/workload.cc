#include "sim/workload.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include "core/rng.h"

namespace swarm::sim {
namespace {

constexpr uint64_t kClassStreamBase = uint64_t{1} << 62;
// Failures draw from two more streams per class (whether a peer fails;
// after how long), so that switching failures on, or changing their
// probability or delay, leaves every arrival and seeding time as it was:
// common random numbers for comparing runs with and without churn.
constexpr uint64_t kFailStreamBase = kClassStreamBase + (uint64_t{1} << 60);
constexpr uint64_t kFailDelayStreamBase = kClassStreamBase + (uint64_t{1} << 61);
// The order of same-instant joins; just below the tracker's stream
// (kClassStreamBase - 1, engine.cc) and far above any peer index.
constexpr uint64_t kJoinOrderStream = kClassStreamBase - 2;

// Random offsets are capped here, far past any stop.max_time (durations in
// a scenario are at most 1e12 s), so that a tiny rate or a huge mean cannot
// overflow the microsecond clock; an event this late simply never happens.
constexpr double kLatestS = 2e12;  // 2e18 us, a quarter of the clock's range

core::Duration SecondsCapped(double s) { return core::Duration::SecondsF(std::min(s, kLatestS)); }

core::Duration Draw(const RandomDuration& d, core::Rng& rng) {
  if (!d.exponential) return d.value;
  return SecondsCapped(rng.Exponential(d.value.seconds()));
}

// Join offsets for `count` peers of one class, in non-decreasing order.
std::vector<core::Time> Arrivals(const ArrivalSpec& a, uint32_t count, core::Rng& rng) {
  std::vector<core::Time> out;
  out.reserve(count);
  core::Time start = core::Time::Zero() + a.at;
  switch (a.kind) {
    case ArrivalSpec::Kind::kAt:
      out.assign(count, start);
      break;
    case ArrivalSpec::Kind::kUniform: {
      // Evenly spread order statistics would hide the randomness; draw and
      // sort instead.
      for (uint32_t i = 0; i < count; ++i)
        out.push_back(core::Time::FromMicros(rng.UniformInt(a.from.micros(), a.to.micros())));
      std::sort(out.begin(), out.end());
      break;
    }
    case ArrivalSpec::Kind::kPoisson: {
      double t = a.at.seconds();
      for (uint32_t i = 0; i < count; ++i) {
        t += rng.Exponential(1.0 / a.rate_per_s);
        out.push_back(core::Time::Zero() + SecondsCapped(t));
      }
      break;
    }
    case ArrivalSpec::Kind::kDecaying: {
      // Rate proportional to exp(-t/tau) (Guo et al. 2005): given the count,
      // arrival offsets are i.i.d. exponential with mean tau.
      for (uint32_t i = 0; i < count; ++i)
        out.push_back(start + SecondsCapped(rng.Exponential(a.tau.seconds())));
      std::sort(out.begin(), out.end());
      break;
    }
  }
  return out;
}

}  // namespace

std::vector<PeerPlan> PlanWorkload(const Scenario& s) {
  std::vector<PeerPlan> plans;
  plans.reserve(s.TotalPeers());
  for (uint32_t ci = 0; ci < s.peers.size(); ++ci) {
    const PeerClassSpec& c = s.peers[ci];
    core::Rng rng = core::Rng::ForStream(s.seed, kClassStreamBase + ci);
    core::Rng fail_rng = core::Rng::ForStream(s.seed, kFailStreamBase + ci);
    core::Rng fail_delay_rng = core::Rng::ForStream(s.seed, kFailDelayStreamBase + ci);
    std::vector<core::Time> joins = Arrivals(c.arrival, c.count, rng);
    for (uint32_t k = 0; k < c.count; ++k) {
      PeerPlan p;
      p.class_index = ci;
      p.join = joins[k];
      if (c.leave.kind == LeaveSpec::Kind::kAfterComplete)
        p.seeding_time = Draw(c.leave.seeding_time, rng);
      if (c.leave.kind == LeaveSpec::Kind::kAt) p.leave_at = core::Time::Zero() + c.leave.at;
      if (c.failure.probability > 0) {
        // One uniform and one delay per peer whether or not it fails: the
        // k-th peer's draws stay its own, so a higher probability fails a
        // superset of the peers a lower one fails, each at the same time.
        const bool fails = fail_rng.UniformReal() < c.failure.probability;
        const core::Duration after = Draw(c.failure.after, fail_delay_rng);
        if (fails) p.fail_at = p.join + after;
      }
      plans.push_back(p);
    }
  }
  return plans;
}

std::vector<uint32_t> JoinOrder(const Scenario& s, const std::vector<PeerPlan>& plans) {
  // Seeds before leechers at one instant: the publisher of a file is at the
  // tracker before a crowd that arrives with it.
  auto key = [&](uint32_t i) {
    return std::pair(plans[i].join, !s.peers[plans[i].class_index].start_complete);
  };
  std::vector<uint32_t> order(plans.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t x, uint32_t y) { return key(x) < key(y); });
  core::Rng rng = core::Rng::ForStream(s.seed, kJoinOrderStream);
  for (size_t lo = 0; lo < order.size();) {
    size_t hi = lo + 1;
    while (hi < order.size() && key(order[hi]) == key(order[lo])) ++hi;
    rng.Shuffle(std::span<uint32_t>(order.data() + lo, hi - lo));
    lo = hi;
  }
  return order;
}

}  // namespace swarm::sim
