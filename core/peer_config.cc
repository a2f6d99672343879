#include "core/peer_config.h"

#include <algorithm>
#include <array>

#include "core/units.h"

namespace swarm::core {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::pair<std::string_view, E> (&table)[N],
                        std::string_view s) {
  for (const auto& [name, value] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view NameOf(const std::pair<std::string_view, E> (&table)[N],
                        E e) {
  for (const auto& [name, value] : table) {
    if (value == e) return name;
  }
  return "?";
}

// One row per value, in the order the enum declares them: the order in
// which messages list the names (PieceSelectionNames(), ...).
constexpr std::pair<std::string_view, PieceSelection> kPieceSelections[] = {
    {"rarest_first", PieceSelection::kRarestFirst},
    {"random", PieceSelection::kRandom},
    {"sequential", PieceSelection::kSequential},
};
constexpr std::pair<std::string_view, ChokerKind> kChokers[] = {
    {"tit_for_tat", ChokerKind::kTitForTat},
    {"strict_tit_for_tat", ChokerKind::kStrictTitForTat},
    {"round_robin", ChokerKind::kRoundRobin},
    {"unchoke_all", ChokerKind::kUnchokeAll},
    {"propshare", ChokerKind::kPropShare},
    {"bittyrant", ChokerKind::kBitTyrant},
    {"mainline_tit_for_tat", ChokerKind::kMainlineTitForTat},
};
constexpr std::pair<std::string_view, SeedChoke> kSeedChokes[] = {
    {"fastest_upload", SeedChoke::kFastestUpload},
    {"round_robin", SeedChoke::kRoundRobin},
};

// The first column of a table.
template <typename E, size_t N>
constexpr std::array<std::string_view, N> NamesIn(
    const std::pair<std::string_view, E> (&table)[N]) {
  std::array<std::string_view, N> names{};
  for (size_t i = 0; i < N; ++i) names[i] = table[i].first;
  return names;
}
constexpr auto kPieceSelectionNames = NamesIn(kPieceSelections);
constexpr auto kChokerNames = NamesIn(kChokers);
constexpr auto kSeedChokeNames = NamesIn(kSeedChokes);

}  // namespace

std::optional<PieceSelection> ParsePieceSelection(std::string_view s) {
  return Lookup(kPieceSelections, s);
}
std::optional<ChokerKind> ParseChokerKind(std::string_view s) {
  return Lookup(kChokers, s);
}
std::optional<SeedChoke> ParseSeedChoke(std::string_view s) {
  return Lookup(kSeedChokes, s);
}
std::string_view Name(PieceSelection p) { return NameOf(kPieceSelections, p); }
std::string_view Name(ChokerKind c) { return NameOf(kChokers, c); }
std::string_view Name(SeedChoke c) { return NameOf(kSeedChokes, c); }
std::span<const std::string_view> PieceSelectionNames() { return kPieceSelectionNames; }
std::span<const std::string_view> ChokerKindNames() { return kChokerNames; }
std::span<const std::string_view> SeedChokeNames() { return kSeedChokeNames; }

std::optional<std::string> PeerConfig::Validate() const {
  if (unchoke_slots < 1) return "unchoke_slots must be at least 1";
  if (rechoke_interval <= Duration::Zero()) return "rechoke_interval must be positive";
  if (optimistic_interval <= Duration::Zero()) return "optimistic_interval must be positive";
  if (max_connections < 1) return "max_connections must be at least 1";
  if (min_connections > max_connections) return "min_connections must not exceed max_connections";
  if (block_size < 1024 || block_size > max_request_length)
    return "block_size must be between 1 KiB and max_request_length";
  if (request_pipeline < 1) return "request_pipeline must be at least 1";
  if (max_queued_requests < request_pipeline)
    return "max_queued_requests must be at least request_pipeline";
  if (request_queue_time < Duration::Zero())
    return "request_queue_time must not be negative (0s turns it off)";
  if (uploads_in_flight < 1) return "uploads_in_flight must be at least 1";
  if (request_timeout <= Duration::Zero()) return "request_timeout must be positive";
  if (keepalive_interval <= Duration::Zero()) return "keepalive_interval must be positive";
  if (inactivity_timeout <= keepalive_interval)
    return "inactivity_timeout must exceed keepalive_interval";
  if (idle_timeout < Duration::Zero()) return "idle_timeout must not be negative (0s turns it off)";
  if (unused_unchoke_timeout < Duration::Zero())
    return "unused_unchoke_timeout must not be negative (0s turns it off)";
  if (upload_stall_timeout < Duration::Zero())
    return "upload_stall_timeout must not be negative (0s turns it off)";
  if (housekeeping_interval <= Duration::Zero()) return "housekeeping_interval must be positive";
  if (min_reannounce_interval <= Duration::Zero()) return "min_reannounce_interval must be positive";
  if (min_reannounce_interval > kMaxAnnounceInterval)
    return "min_reannounce_interval must be at most " + FormatDuration(kMaxAnnounceInterval);
  if (announce_interval < min_reannounce_interval || announce_interval > kMaxAnnounceInterval) {
    return "announce_interval must be between min_reannounce_interval (" +
           FormatDuration(min_reannounce_interval) + ") and " + FormatDuration(kMaxAnnounceInterval);
  }
  if (ban_strikes < 1) return "ban_strikes must be at least 1";
  if (dial_attempts < 1) return "dial_attempts must be at least 1";
  if (redial_backoff < Duration::Zero()) return "redial_backoff must not be negative";
  if (strict_tft_allowance < 0) return "strict_tft_allowance must not be negative";
  if (!(propshare_reserve >= 0 && propshare_reserve < 1))
    return "propshare_reserve must be in [0, 1)";
  if (upload_capacity < Rate::Zero()) return "upload_capacity must not be negative";
  return std::nullopt;
}

Duration PeerConfig::AnnounceIntervalFrom(Duration tracker_says) const {
  return std::clamp(tracker_says, min_reannounce_interval, kMaxAnnounceInterval);
}

}  // namespace swarm::core
