// FlowNetwork: the flow-level model of the simulated network.
//
// Every host has an uplink and a downlink with a fixed capacity. A block
// transfer is a flow from one host's uplink to another host's downlink.
// Active flows share the capacities max-min fairly (progressive filling over
// both uplink and downlink constraints, Bertsekas & Gallager, "Data
// Networks", 6.5.2).
//
// Incremental recomputation. Starting or removing a flow only marks its two
// links dirty; Reallocate() then re-solves a *region*: first the flows on the
// dirty links, with every other flow's rate held fixed. A feasible allocation
// is max-min fair iff every flow has a bottleneck link (a saturated link on
// which no flow is faster). After solving the region we test that condition
// for every flow on every link the region touches; flows that fail it join
// the region (with the flows sharing their links) and the region is solved
// again. Flows whose links the region never touched keep their loads and
// rates, so their bottlenecks still hold. The loop ends with the exact
// max-min allocation -- at worst the region is the whole connected component,
// but typically it is the few flows on the two touched hosts.
//
// Each flow's progress is integrated piecewise: remaining bytes at `since`
// (negative for a restarted flow already past its transfer's end, see
// Restart) and a rate. Reallocate reports every flow whose rate changed
// together with its new finish time, so the driver can reschedule its
// completion. The same pieces, summed, give BytesMoved(): the integral of
// TotalRate() over time, exact, at the cost of one addition wherever a
// piece is closed.
//
// Invariants: for every link, the sum of its flows' rates <= capacity
// (within float slack), checked by CheckCaps(). Thread-compatible.
#ifndef SWARM_SIM_FLOW_NETWORK_H_
#define SWARM_SIM_FLOW_NETWORK_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/types.h"

namespace swarm::sim {

using FlowId = uint32_t;
inline constexpr FlowId kNoFlow = ~FlowId{0};

class FlowNetwork {
 public:
  explicit FlowNetwork(size_t hosts = 0);

  // Adds hosts so that `hosts` exist. Capacities start at zero.
  void Resize(size_t hosts);
  size_t host_count() const { return links_.size() / 2; }
  void SetCapacity(uint32_t host, core::Rate up, core::Rate down);
  double up_capacity(uint32_t host) const { return links_[Up(host)].cap; }
  double down_capacity(uint32_t host) const { return links_[Down(host)].cap; }

  // Starts a flow of `bytes` from src's uplink to dst's downlink. Its rate is
  // zero until the next Reallocate(). `tag` is the driver's cookie.
  FlowId Start(core::Time now, uint32_t src, uint32_t dst, double bytes,
               uint64_t tag);
  // Removes a finished or aborted flow (its id may be reused).
  void Remove(core::Time now, FlowId f);
  // Reuses the active flow `f` for a new transfer of `bytes` between the same
  // two hosts, starting at `now`. The set of flows on every link is
  // unchanged, so the max-min allocation is too: the flow keeps its rate and
  // nothing is marked dirty. This is the common "one block finished, the
  // next block on the same connection starts" step, and it costs O(1)
  // instead of a region solve. The generation changes, so completions
  // scheduled for the old transfer go stale. Returns the new transfer's
  // finish time under the current rate (Time::Never() for a zero rate).
  // If the old transfer ended before `now` (its finish time is rounded up to
  // a whole microsecond), the bytes the flow moved after its end count
  // towards the new one, so back-to-back transfers take their bytes over the
  // rate in all, not up to 1 us more each. If it had not ended, the rest of
  // it is dropped.
  core::Time Restart(core::Time now, FlowId f, double bytes, uint64_t tag);

  // Re-solves the part of the allocation disturbed since the last call and
  // calls `changed(flow, generation, finish_time)` for every flow whose
  // rate changed (finish_time is Time::Never() for a zero rate).
  using ChangedFn = std::function<void(FlowId, uint64_t, core::Time)>;
  void Reallocate(core::Time now, const ChangedFn& changed);
  bool dirty() const { return !dirty_links_.empty(); }

  // --- Getters ---
  bool active(FlowId f) const { return f < flows_.size() && flows_[f].active; }
  uint64_t generation(FlowId f) const { return flows_[f].gen; }
  uint64_t tag(FlowId f) const { return flows_[f].tag; }
  uint32_t src(FlowId f) const { return flows_[f].src; }
  uint32_t dst(FlowId f) const { return flows_[f].dst; }
  double rate(FlowId f) const { return flows_[f].rate; }
  // A hint for a driver about to look at `f` (no effect on behaviour).
  void Prefetch(FlowId f) const {
    if (f < flows_.size()) __builtin_prefetch(&flows_[f]);
  }
  // Bytes still to move at `now` under the current rate.
  double Remaining(FlowId f, core::Time now) const;
  // Sum of the rates of all active flows (bytes/s).
  double TotalRate() const;
  // Sum of the rates of the flows on one host's uplink / downlink (bytes/s).
  double UploadRate(uint32_t host) const { return LinkLoad(Up(host)); }
  double DownloadRate(uint32_t host) const { return LinkLoad(Down(host)); }
  // Bytes moved by all flows, finished, aborted or still active, from the
  // start up to `now`: the integral of TotalRate() over time. A flow counts
  // at most the bytes it was started (or restarted) with, so one that ends
  // at its finish time (rounded up to a microsecond) counts exactly those;
  // a flow restarted there counts its overrun towards the new transfer.
  // Walks every flow, like TotalRate(). REQUIRES: `now` is not before the
  // time of the last call that changed a flow.
  double BytesMoved(core::Time now) const;
  size_t active_flows() const { return active_count_; }
  // Flows re-solved so far (a cost measure for benchmarks).
  uint64_t solved_flows() const { return solved_flows_; }
  // Number of links whose load exceeds capacity by more than float slack.
  int CheckCaps() const;
  // CheckCaps() restricted to the links of the flows the last Reallocate()
  // re-solved. Only those flows changed rate and a removed flow only lowers
  // a load, so checking this after every Reallocate() checks every link at
  // every instant, at the cost of the region instead of the whole network.
  int CheckCapsOfLastRegion() const;
  // The flows the last Reallocate() re-solved (sorted by id; empty when it
  // had nothing to do), for a driver's own checks of the same region. Valid
  // until the next Reallocate().
  const std::vector<FlowId>& last_region() const { return region_; }

 private:
  struct Link {
    double cap = 0;
    std::vector<FlowId> flows;
  };
  struct Flow {
    uint32_t src = 0, dst = 0;
    uint32_t pos[2] = {0, 0};  // index in links_[up].flows / [down].flows
    double rate = 0;
    double remaining = 0;  // at `since`
    core::Time since;
    uint64_t gen = 0;
    uint64_t tag = 0;
    bool active = false;
  };
  static uint32_t Up(uint32_t h) { return 2 * h; }
  static uint32_t Down(uint32_t h) { return 2 * h + 1; }
  uint32_t LinkOf(const Flow& fl, int side) const {
    return side == 0 ? Up(fl.src) : Down(fl.dst);
  }
  void MarkDirty(uint32_t link);
  void AddLinkFlowsToRegion(uint32_t link);
  void SolveRegion();
  bool ExpandRegion();
  bool HasBottleneck(FlowId f);
  double Effective(FlowId f) const;
  static core::Time FinishTime(core::Time now, double remaining, double rate);
  // Bytes `fl` has moved since its `since`, at most its remaining bytes.
  static double MovedSince(const Flow& fl, double seconds) {
    return std::min(std::max(fl.remaining, 0.0), fl.rate * seconds);
  }
  void LinkStats(uint32_t link, double* load, double* max_rate);
  double LinkLoad(uint32_t link) const;

  std::vector<Link> links_;
  std::vector<Flow> flows_;
  std::vector<FlowId> free_;
  size_t active_count_ = 0;
  uint64_t next_gen_ = 1;
  uint64_t solved_flows_ = 0;
  // Bytes moved by every flow up to its `since` (or its removal).
  double moved_ = 0;

  // Scratch state of one Reallocate(), reused to avoid allocation.
  std::vector<uint32_t> dirty_links_;
  std::vector<uint8_t> link_dirty_;
  std::vector<FlowId> region_;
  std::vector<uint32_t> region_links_;
  std::vector<uint32_t> flow_mark_;   // == epoch_: in region
  std::vector<uint32_t> link_mark_;   // == epoch_: in region_links_
  std::vector<uint32_t> stat_mark_;   // == stat_epoch_: stats cached
  std::vector<double> new_rate_;      // per flow, valid in region
  std::vector<uint8_t> frozen_;       // per flow
  std::vector<double> residual_;      // per link, valid in region_links_
  std::vector<uint32_t> unfrozen_;    // per link
  std::vector<double> stat_load_, stat_max_;
  std::vector<uint32_t> seed_links_;     // the dirty links of this call
  std::vector<uint32_t> changed_links_;  // links whose load or max may differ
  std::vector<uint32_t> change_mark_;    // == stat_epoch_: in changed_links_
  std::vector<std::pair<double, uint32_t>> heap_;
  std::vector<FlowId> failing_;
  uint32_t epoch_ = 0;
  uint32_t stat_epoch_ = 0;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_FLOW_NETWORK_H_
