#include "core/choker.h"

#include <algorithm>

namespace swarm::core {

const ChokeDecision& Choker::Rechoke(std::span<const ChokeCandidate> candidates,
                                     bool we_are_seed, RechokeKind kind,
                                     Rng& rng) {
  ChokeDecision& d = decision_;
  d.Clear();
  if (config_.free_rider) return d;
  switch (config_.choker) {
    case ChokerKind::kUnchokeAll:
      for (const auto& c : candidates) {
        if (c.interested) d.unchoke.push_back(c.conn);
      }
      break;
    case ChokerKind::kRoundRobin:
      RoundRobin(candidates, config_.unchoke_slots, d);
      break;
    case ChokerKind::kPropShare:
      if (!we_are_seed) {
        PropShare(candidates, kind, rng, d);
      } else {
        TitForTat(candidates, true, kind, rng, d);
      }
      break;
    case ChokerKind::kBitTyrant:
      if (!we_are_seed && config_.upload_capacity > Rate::Zero()) {
        BitTyrant(candidates, kind, rng, d);
      } else {
        TitForTat(candidates, we_are_seed, kind, rng, d);
      }
      break;
    case ChokerKind::kTitForTat:
    case ChokerKind::kStrictTitForTat:
    case ChokerKind::kMainlineTitForTat:
      if (we_are_seed && config_.seed_choke == SeedChoke::kRoundRobin) {
        RoundRobin(candidates, config_.unchoke_slots, d);
      } else {
        TitForTat(candidates, we_are_seed, kind, rng, d,
                  config_.choker == ChokerKind::kMainlineTitForTat);
      }
      break;
  }
  return d;
}

bool Choker::TakesTurns(bool we_are_seed) const {
  switch (config_.choker) {
    case ChokerKind::kRoundRobin:
      return true;
    case ChokerKind::kTitForTat:
    case ChokerKind::kStrictTitForTat:
    case ChokerKind::kMainlineTitForTat:
      return we_are_seed && config_.seed_choke == SeedChoke::kRoundRobin;
    default:
      return false;
  }
}

bool Choker::CountsSlots(bool we_are_seed) const {
  switch (config_.choker) {
    case ChokerKind::kUnchokeAll:
      return false;
    case ChokerKind::kPropShare:
      return we_are_seed;  // a seed falls back to tit-for-tat
    case ChokerKind::kBitTyrant:
      return we_are_seed || config_.upload_capacity <= Rate::Zero();  // as Rechoke
    default:
      return true;
  }
}

void Choker::TitForTat(std::span<const ChokeCandidate> c, bool seed, RechokeKind kind,
                       Rng& rng, ChokeDecision& d, bool earned) {
  // Rank the interested peers. Shuffle first so that ties (common at the
  // start, when every rate is zero) are broken at random, not by id.
  std::vector<const ChokeCandidate*>& ranked = ranked_scratch_;
  ranked.clear();
  for (const auto& x : c) {
    if (x.interested && (seed || !x.snubbed)) ranked.push_back(&x);
  }
  rng.Shuffle(std::span(ranked));

  // Only the first `regular` places are used, so select them one by one
  // instead of sorting everything (this runs whenever a slot frees up, a
  // few hundred times per peer). Taking the first of the fastest and
  // rotating it forward keeps the shuffled order among the rest: the same
  // places a stable sort by rate would give.
  auto rate = [seed](const ChokeCandidate* x) {
    return seed ? x->upload_rate : x->download_rate;
  };
  // Between intervals, equal rates go to the peers holding slots: regular
  // holders first, then the optimistic one (which, promoted, hands its
  // slot to a new optimistic draw), so that nobody still interested is
  // choked for an equal peer. At an interval ties stay random.
  const bool keep_holders = kind == RechokeKind::kSlotFreed;
  auto holding = [](const ChokeCandidate* x) {
    return x->unchoked ? (x->optimistic ? 1 : 2) : 0;
  };
  // A peer that left our unchoke unused comes after every other, whatever
  // its rate: a slot it holds serves nobody.
  auto better = [&](const ChokeCandidate* a, const ChokeCandidate* b) {
    if (a->ignores_unchoke != b->ignores_unchoke) return b->ignores_unchoke;
    if (rate(a) != rate(b)) return rate(a) > rate(b);
    return keep_holders && holding(a) > holding(b);
  };
  const size_t regular = config_.unchoke_slots > 1 ? config_.unchoke_slots - 1 : 1;
  for (size_t i = 0; i < ranked.size() && d.unchoke.size() < regular; ++i) {
    size_t best = i;
    for (size_t j = i + 1; j < ranked.size(); ++j) {
      if (better(ranked[j], ranked[best])) best = j;
    }
    // The best left gave nothing, so the rest gave nothing either: with
    // `earned` their slots stay for the optimistic draw, but one.
    if (earned && !seed && rate(ranked[best]) == Rate::Zero() && !d.unchoke.empty()) break;
    std::rotate(ranked.begin() + static_cast<std::ptrdiff_t>(i),
                ranked.begin() + static_cast<std::ptrdiff_t>(best),
                ranked.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    d.unchoke.push_back(ranked[i]->conn);
  }
  if (config_.unchoke_slots <= 1) return;

  AddOptimistic(c, kind == RechokeKind::kOptimistic, rng, d);
}

void Choker::AddOptimistic(std::span<const ChokeCandidate> c, bool rotate,
                           Rng& rng, ChokeDecision& d) {
  auto chosen = [&](ConnectionId id) {
    return std::find(d.unchoke.begin(), d.unchoke.end(), id) != d.unchoke.end();
  };
  // The interested peers left choked, new peers weighted three times;
  // those that left an unchoke of ours unused only if there is nobody else.
  std::vector<ConnectionId>& pool = pool_scratch_;
  auto fill_pool = [&](bool ignoring) {
    pool.clear();
    for (const auto& x : c) {
      if (!x.interested || chosen(x.conn) || x.ignores_unchoke != ignoring) continue;
      for (int k = 0; k < (x.is_new ? 3 : 1); ++k) pool.push_back(x.conn);
    }
  };
  fill_pool(false);
  // Keep the current optimistic peer until the interval elapses, unless
  // it left the slot unused and another could have it.
  if (!rotate) {
    for (const auto& x : c) {
      if (x.optimistic && x.interested && !chosen(x.conn) &&
          (!x.ignores_unchoke || pool.empty())) {
        d.optimistic = x.conn;
        d.unchoke.push_back(x.conn);
        return;
      }
    }
  }
  // Draw a new one.
  if (pool.empty()) fill_pool(true);
  if (!pool.empty()) {
    d.optimistic = pool[rng.Below(pool.size())];
    d.unchoke.push_back(*d.optimistic);
  }
}

void Choker::PropShare(std::span<const ChokeCandidate> c, RechokeKind kind, Rng& rng,
                       ChokeDecision& d) {
  double total = 0;
  for (const auto& x : c) {
    if (x.interested && x.download_rate.bytes_per_second() > 0) {
      d.unchoke.push_back(x.conn);
      d.weight.push_back(x.download_rate.bytes_per_second());
      total += x.download_rate.bytes_per_second();
    }
  }
  if (d.unchoke.empty()) {
    // Nobody gave anything yet: start like tit-for-tat, equal shares.
    d.Clear();
    TitForTat(c, /*seed=*/false, kind, rng, d);
    return;
  }
  for (double& w : d.weight) w *= (1 - config_.propshare_reserve);
  const size_t before = d.unchoke.size();
  AddOptimistic(c, kind == RechokeKind::kOptimistic, rng, d);
  if (d.unchoke.size() > before) {
    d.weight.push_back(std::max(total * config_.propshare_reserve, 1.0));
  }
}

void Choker::BitTyrant(std::span<const ChokeCandidate> c, RechokeKind kind, Rng& rng,
                       ChokeDecision& d) {
  const double capacity = config_.upload_capacity.bytes_per_second();
  const double equal_split = capacity / std::max<uint32_t>(config_.unchoke_slots, 1);
  // The estimates learn once per round. A rechoke between rounds (a freed
  // slot) reuses them: counting it as a round would move them faster the
  // more often peers come and go.
  const bool learn = kind != RechokeKind::kSlotFreed;
  std::map<ConnectionId, BitTyrantState> next;
  struct Ranked {
    ConnectionId conn;
    double ratio;
    double upload;
    bool unchoked;
    bool ignores_unchoke;
  };
  std::vector<Ranked> ranked;
  for (const auto& x : c) {
    BitTyrantState s;
    auto it = tyrant_.find(x.conn);
    if (it != tyrant_.end()) {
      s = it->second;
    } else {
      s.upload = equal_split;
    }
    if (learn) {
      LearnFromRound(x, s);
      next[x.conn] = s;
    }
    if (x.interested) {
      ranked.push_back({x.conn, s.download / std::max(s.upload, 1.0), s.upload, x.unchoked,
                        x.ignores_unchoke});
    }
  }
  if (learn) tyrant_ = std::move(next);
  // Ties at random, except between rounds, when they go to the peers
  // already unchoked (as in TitForTat).
  rng.Shuffle(std::span(ranked));
  std::stable_sort(ranked.begin(), ranked.end(), [learn](const Ranked& a, const Ranked& b) {
    if (a.ignores_unchoke != b.ignores_unchoke) return b.ignores_unchoke;
    if (a.ratio != b.ratio) return a.ratio > b.ratio;
    return !learn && a.unchoked && !b.unchoked;
  });
  double spent = 0;
  for (const Ranked& r : ranked) {
    if (spent + r.upload > capacity && !d.unchoke.empty()) break;
    d.unchoke.push_back(r.conn);
    d.weight.push_back(r.upload);
    spent += r.upload;
  }
}

void Choker::LearnFromRound(const ChokeCandidate& x, BitTyrantState& s) const {
  if (x.unchoking_us && x.download_rate.bytes_per_second() > 0) {
    s.download = x.download_rate.bytes_per_second();
    if (x.unchoked && ++s.reciprocated_rounds >= 3) {
      s.upload *= 0.9;
      s.reciprocated_rounds = 0;
    }
  } else {
    // Not reciprocating: estimate its download from its announcements.
    s.download = std::max(s.download * 0.5, x.announce_rate.bytes_per_second() /
                                                std::max<uint32_t>(config_.unchoke_slots, 1));
    if (x.unchoked) {
      s.upload *= 1.2;
      s.reciprocated_rounds = 0;
    }
  }
}

void Choker::RoundRobin(std::span<const ChokeCandidate> c, size_t slots,
                        ChokeDecision& d) {
  // Candidates arrive in connection-id order; start after the cursor and
  // wrap around. Peers that left an unchoke of ours unused take the slots
  // nobody else wants, and do not move the cursor.
  std::optional<ConnectionId> last;
  for (bool ignoring : {false, true}) {
    std::vector<ConnectionId> interested;
    for (const auto& x : c) {
      if (x.interested && x.ignores_unchoke == ignoring) interested.push_back(x.conn);
    }
    if (interested.empty()) continue;
    size_t start = 0;
    while (start < interested.size() &&
           interested[start].value() <= round_robin_cursor_) {
      ++start;
    }
    for (size_t k = 0; k < interested.size() && d.unchoke.size() < slots; ++k) {
      d.unchoke.push_back(interested[(start + k) % interested.size()]);
    }
    if (!last && !d.unchoke.empty()) last = d.unchoke.back();
  }
  if (last) round_robin_cursor_ = last->value();
}

}  // namespace swarm::core
