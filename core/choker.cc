#include "core/choker.h"

#include <algorithm>

namespace swarm::core {

ChokeDecision Choker::Rechoke(std::span<const ChokeCandidate> candidates,
                              bool we_are_seed, bool rotate_optimistic,
                              Rng& rng) {
  if (config_.free_rider) return {};
  switch (config_.choker) {
    case ChokerKind::kUnchokeAll: {
      ChokeDecision d;
      for (const auto& c : candidates) {
        if (c.interested) d.unchoke.push_back(c.conn);
      }
      return d;
    }
    case ChokerKind::kRoundRobin:
      return RoundRobin(candidates, config_.unchoke_slots);
    case ChokerKind::kTitForTat:
      if (we_are_seed && config_.seed_choke == SeedChoke::kRoundRobin) {
        return RoundRobin(candidates, config_.unchoke_slots);
      }
      return TitForTat(candidates, we_are_seed, rotate_optimistic, rng);
  }
  return {};
}

ChokeDecision Choker::TitForTat(std::span<const ChokeCandidate> c, bool seed,
                                bool rotate, Rng& rng) {
  // Rank the interested peers. Shuffle first so that ties (common at the
  // start, when every rate is zero) are broken at random, not by id.
  std::vector<const ChokeCandidate*> ranked;
  for (const auto& x : c) {
    if (x.interested && (seed || !x.snubbed)) ranked.push_back(&x);
  }
  rng.Shuffle(std::span(ranked));
  std::stable_sort(ranked.begin(), ranked.end(), [seed](auto* a, auto* b) {
    return seed ? a->upload_rate > b->upload_rate
                : a->download_rate > b->download_rate;
  });

  ChokeDecision d;
  const size_t regular = config_.unchoke_slots > 1 ? config_.unchoke_slots - 1 : 1;
  for (size_t i = 0; i < ranked.size() && d.unchoke.size() < regular; ++i) {
    d.unchoke.push_back(ranked[i]->conn);
  }
  if (config_.unchoke_slots <= 1) return d;

  auto is_regular = [&](ConnectionId id) {
    return std::find(d.unchoke.begin(), d.unchoke.end(), id) != d.unchoke.end();
  };
  // Keep the current optimistic peer until the interval elapses.
  if (!rotate) {
    for (const auto& x : c) {
      if (x.optimistic && x.interested && !is_regular(x.conn)) {
        d.optimistic = x.conn;
        d.unchoke.push_back(x.conn);
        return d;
      }
    }
  }
  // Draw a new one among the interested peers left choked, new peers
  // weighted three times.
  std::vector<ConnectionId> pool;
  for (const auto& x : c) {
    if (!x.interested || is_regular(x.conn)) continue;
    for (int k = 0; k < (x.is_new ? 3 : 1); ++k) pool.push_back(x.conn);
  }
  if (!pool.empty()) {
    d.optimistic = pool[rng.Below(pool.size())];
    d.unchoke.push_back(*d.optimistic);
  }
  return d;
}

ChokeDecision Choker::RoundRobin(std::span<const ChokeCandidate> c,
                                 size_t slots) {
  // Candidates arrive in connection-id order; start after the cursor and
  // wrap around.
  std::vector<ConnectionId> interested;
  for (const auto& x : c) {
    if (x.interested) interested.push_back(x.conn);
  }
  ChokeDecision d;
  if (interested.empty()) return d;
  size_t start = 0;
  while (start < interested.size() &&
         interested[start].value() <= round_robin_cursor_) {
    ++start;
  }
  for (size_t k = 0; k < interested.size() && d.unchoke.size() < slots; ++k) {
    d.unchoke.push_back(interested[(start + k) % interested.size()]);
  }
  round_robin_cursor_ = d.unchoke.back().value();
  return d;
}

}  // namespace swarm::core
