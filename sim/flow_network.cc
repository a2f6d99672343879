#include "sim/flow_network.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/check.h"

namespace swarm::sim {
namespace {

// Relative slack for "saturated" and "as fast as the fastest".
constexpr double kRelEps = 1e-9;
constexpr double kAbsEps = 1e-6;  // bytes/s

bool AtLeast(double a, double b) { return a >= b - kRelEps * std::fabs(b) - kAbsEps; }

}  // namespace

FlowNetwork::FlowNetwork(size_t hosts) { Resize(hosts); }

void FlowNetwork::Resize(size_t hosts) {
  if (hosts * 2 <= links_.size()) return;
  links_.resize(hosts * 2);
  link_dirty_.resize(hosts * 2, 0);
  link_mark_.resize(hosts * 2, 0);
  stat_mark_.resize(hosts * 2, 0);
  residual_.resize(hosts * 2, 0);
  unfrozen_.resize(hosts * 2, 0);
  stat_load_.resize(hosts * 2, 0);
  change_mark_.resize(hosts * 2, 0);
  stat_max_.resize(hosts * 2, 0);
}

void FlowNetwork::SetCapacity(uint32_t host, core::Rate up, core::Rate down) {
  SWARM_CHECK(host < host_count());
  links_[Up(host)].cap = up.bytes_per_second();
  links_[Down(host)].cap = down.bytes_per_second();
  MarkDirty(Up(host));
  MarkDirty(Down(host));
}

void FlowNetwork::MarkDirty(uint32_t link) {
  if (link_dirty_[link]) return;
  link_dirty_[link] = 1;
  dirty_links_.push_back(link);
}

FlowId FlowNetwork::Start(core::Time now, uint32_t src, uint32_t dst,
                          double bytes, uint64_t tag) {
  SWARM_CHECK(src < host_count() && dst < host_count() && src != dst);
  FlowId f;
  if (!free_.empty()) {
    f = free_.back();
    free_.pop_back();
  } else {
    f = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
    flow_mark_.push_back(0);
    new_rate_.push_back(0);
    frozen_.push_back(0);
  }
  Flow& fl = flows_[f];
  fl = Flow{};
  fl.src = src;
  fl.dst = dst;
  fl.remaining = bytes;
  fl.since = now;
  fl.gen = next_gen_++;
  fl.tag = tag;
  fl.active = true;
  for (int side = 0; side < 2; ++side) {
    Link& l = links_[LinkOf(fl, side)];
    fl.pos[side] = static_cast<uint32_t>(l.flows.size());
    l.flows.push_back(f);
    MarkDirty(LinkOf(fl, side));
  }
  ++active_count_;
  return f;
}

void FlowNetwork::Remove(core::Time now, FlowId f) {
  SWARM_CHECK(active(f));
  Flow& fl = flows_[f];
  moved_ += MovedSince(fl, (now - fl.since).seconds());
  for (int side = 0; side < 2; ++side) {
    uint32_t li = LinkOf(fl, side);
    Link& l = links_[li];
    FlowId last = l.flows.back();
    l.flows[fl.pos[side]] = last;
    Flow& moved = flows_[last];
    moved.pos[LinkOf(moved, 0) == li ? 0 : 1] = fl.pos[side];
    l.flows.pop_back();
    MarkDirty(li);
  }
  fl.active = false;
  fl.rate = 0;
  fl.gen = next_gen_++;
  free_.push_back(f);
  --active_count_;
}

core::Time FlowNetwork::Restart(core::Time now, FlowId f, double bytes, uint64_t tag) {
  SWARM_CHECK(active(f));
  Flow& fl = flows_[f];
  const double seconds = (now - fl.since).seconds();
  // The old transfer's finish time was rounded up to a whole microsecond,
  // so by then the flow has run past its last byte; what it moved since is
  // the start of the new transfer. (With `remaining` negative, it had
  // already run past an earlier transfer's end: that part is carried on.)
  const double overrun = fl.rate * seconds - fl.remaining;
  moved_ += MovedSince(fl, seconds);
  if (overrun > 0) {
    moved_ += std::min(bytes, overrun);
    fl.remaining = bytes - overrun;  // negative if the overrun covers it all
  } else {
    fl.remaining = bytes;  // cut short: the rest of the old transfer is dropped
  }
  fl.since = now;
  fl.gen = next_gen_++;
  fl.tag = tag;
  return FinishTime(now, fl.remaining, fl.rate);
}

core::Time FlowNetwork::FinishTime(core::Time now, double remaining, double rate) {
  if (rate <= 0) return core::Time::Never();
  double us = std::ceil(std::max(0.0, remaining) / rate * 1e6);
  if (us >= 1e15) return core::Time::Never();
  return now + core::Duration::Micros(static_cast<int64_t>(us));
}

double FlowNetwork::Remaining(FlowId f, core::Time now) const {
  const Flow& fl = flows_[f];
  return fl.remaining - fl.rate * (now - fl.since).seconds();
}

double FlowNetwork::Effective(FlowId f) const {
  return flow_mark_[f] == epoch_ ? new_rate_[f] : flows_[f].rate;
}

void FlowNetwork::AddLinkFlowsToRegion(uint32_t link) {
  for (FlowId f : links_[link].flows) {
    if (flow_mark_[f] == epoch_) continue;
    flow_mark_[f] = epoch_;
    region_.push_back(f);
    for (int side = 0; side < 2; ++side) {
      uint32_t li = LinkOf(flows_[f], side);
      if (link_mark_[li] != epoch_) {
        link_mark_[li] = epoch_;
        region_links_.push_back(li);
      }
    }
  }
}

// Progressive filling over the region's flows; flows outside the region
// keep their rates and use up part of each link's capacity.
void FlowNetwork::SolveRegion() {
  for (uint32_t li : region_links_) {
    double outside = 0;
    uint32_t inside = 0;
    for (FlowId f : links_[li].flows) {
      if (flow_mark_[f] == epoch_) ++inside;
      else outside += flows_[f].rate;
    }
    residual_[li] = std::max(0.0, links_[li].cap - outside);
    unfrozen_[li] = inside;
  }
  for (FlowId f : region_) frozen_[f] = 0;
  // Min-heap of (fair share, link); entries go stale as shares rise.
  std::vector<std::pair<double, uint32_t>>& heap = heap_;
  heap.clear();
  auto greater = [](const auto& a, const auto& b) { return a > b; };
  for (uint32_t li : region_links_) {
    if (unfrozen_[li] > 0) heap.emplace_back(residual_[li] / unfrozen_[li], li);
  }
  std::make_heap(heap.begin(), heap.end(), greater);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    auto [share, li] = heap.back();
    heap.pop_back();
    if (unfrozen_[li] == 0) continue;
    double current = residual_[li] / unfrozen_[li];
    if (current != share) continue;  // stale: a fresher entry exists
    for (FlowId f : links_[li].flows) {
      if (flow_mark_[f] != epoch_ || frozen_[f]) continue;
      frozen_[f] = 1;
      new_rate_[f] = share;
      for (int side = 0; side < 2; ++side) {
        uint32_t lj = LinkOf(flows_[f], side);
        residual_[lj] = std::max(0.0, residual_[lj] - share);
        --unfrozen_[lj];
        if (lj != li && unfrozen_[lj] > 0) {
          heap.emplace_back(residual_[lj] / unfrozen_[lj], lj);
          std::push_heap(heap.begin(), heap.end(), greater);
        }
      }
    }
  }
  solved_flows_ += region_.size();
}

void FlowNetwork::LinkStats(uint32_t link, double* load, double* max_rate) {
  if (stat_mark_[link] != stat_epoch_) {
    double l = 0, m = 0;
    for (FlowId f : links_[link].flows) {
      double r = Effective(f);
      l += r;
      m = std::max(m, r);
    }
    stat_load_[link] = l;
    stat_max_[link] = m;
    stat_mark_[link] = stat_epoch_;
  }
  *load = stat_load_[link];
  *max_rate = stat_max_[link];
}

bool FlowNetwork::HasBottleneck(FlowId f) {
  double r = Effective(f);
  for (int side = 0; side < 2; ++side) {
    uint32_t li = LinkOf(flows_[f], side);
    double load, max_rate;
    LinkStats(li, &load, &max_rate);
    if (AtLeast(load, links_[li].cap) && AtLeast(r, max_rate)) return true;
  }
  return false;
}

// Adds to the region every flow on a touched link that lost its
// bottleneck. Returns whether the region grew.
bool FlowNetwork::ExpandRegion() {
  ++stat_epoch_;
  changed_links_.clear();
  auto mark = [&](uint32_t li) {
    if (change_mark_[li] == stat_epoch_) return;
    change_mark_[li] = stat_epoch_;
    changed_links_.push_back(li);
  };
  for (uint32_t li : seed_links_) mark(li);
  for (FlowId f : region_) {
    if (new_rate_[f] == flows_[f].rate) continue;
    mark(LinkOf(flows_[f], 0));
    mark(LinkOf(flows_[f], 1));
  }
  std::vector<FlowId>& failing = failing_;
  failing.clear();
  for (uint32_t li : changed_links_) {
    for (FlowId f : links_[li].flows) {
      if (!HasBottleneck(f)) failing.push_back(f);
    }
  }
  size_t before = region_.size();
  for (FlowId f : failing) {
    AddLinkFlowsToRegion(LinkOf(flows_[f], 0));
    AddLinkFlowsToRegion(LinkOf(flows_[f], 1));
  }
  return region_.size() > before;
}

void FlowNetwork::Reallocate(core::Time now, const ChangedFn& changed) {
  region_.clear();  // last_region(): nothing re-solved yet
  if (dirty_links_.empty()) return;
  ++epoch_;
  region_links_.clear();
  seed_links_.swap(dirty_links_);
  dirty_links_.clear();
  for (uint32_t li : seed_links_) {
    link_dirty_[li] = 0;
    AddLinkFlowsToRegion(li);
  }
  if (region_.empty()) return;
  do {
    SolveRegion();
  } while (ExpandRegion());
  // Deterministic report order: by flow id.
  std::sort(region_.begin(), region_.end());
  for (FlowId f : region_) {
    Flow& fl = flows_[f];
    if (new_rate_[f] == fl.rate) continue;
    const double seconds = (now - fl.since).seconds();
    moved_ += MovedSince(fl, seconds);
    fl.remaining -= fl.rate * seconds;
    fl.since = now;
    fl.rate = new_rate_[f];
    fl.gen = next_gen_++;
    changed(f, fl.gen, FinishTime(now, fl.remaining, fl.rate));
  }
}

double FlowNetwork::TotalRate() const {
  double sum = 0;
  for (const Flow& fl : flows_) {
    if (fl.active) sum += fl.rate;
  }
  return sum;
}

double FlowNetwork::BytesMoved(core::Time now) const {
  double sum = moved_;
  for (const Flow& fl : flows_) {
    if (fl.active) sum += MovedSince(fl, (now - fl.since).seconds());
  }
  return sum;
}

double FlowNetwork::LinkLoad(uint32_t link) const {
  double load = 0;
  for (FlowId f : links_[link].flows) load += flows_[f].rate;
  return load;
}

int FlowNetwork::CheckCaps() const {
  int bad = 0;
  for (uint32_t li = 0; li < links_.size(); ++li) {
    if (LinkLoad(li) > links_[li].cap * (1 + 1e-9) + 1e-6) ++bad;
  }
  return bad;
}

int FlowNetwork::CheckCapsOfLastRegion() const {
  int bad = 0;
  for (FlowId f : region_) {
    if (!flows_[f].active) continue;
    for (int side = 0; side < 2; ++side) {
      const uint32_t li = LinkOf(flows_[f], side);
      if (LinkLoad(li) > links_[li].cap * (1 + 1e-9) + 1e-6) ++bad;
    }
  }
  return bad;
}

}  // namespace swarm::sim
