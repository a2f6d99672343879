// Results of one run and the result folder they are written to.
//
// The folder format is shared with `swarm run-scenario` (net-real/) and
// analysis/ (analysis/README.md, "Result folder format"): peers.csv,
// timeline.csv, summary.json and scenario.yaml.
// Times are seconds with 6 decimals; an empty CSV field means "never".
#ifndef SWARM_SIM_RESULTS_H_
#define SWARM_SIM_RESULTS_H_

#include <cstdint>
#include <sys/stat.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"
#include "sim/bounds.h"
#include "sim/scenario.h"

namespace swarm::sim {

struct PeerRecord {
  uint32_t class_index = 0;
  bool started_complete = false;
  std::optional<core::Time> join, first_piece, completion, leave;
  bool failed = false;  // `leave` was a failure: vanished without `stopped`
  core::Bytes uploaded = 0;    // payload bytes whose transfer finished
  core::Bytes downloaded = 0;  // payload bytes delivered to this peer
  uint32_t pieces_failed = 0;  // pieces that failed their hash check here
  uint32_t peers_banned = 0;   // neighbours this peer banned for bad data
};

struct TimelineRow {
  core::Time time;
  uint32_t leechers = 0, seeds = 0, completed = 0;
  double upload_utilization = 0;  // at `time`
  // Over the interval since the previous row: bytes moved / integral of the
  // present peers' upload capacity (0 for the first row).
  double upload_utilization_mean = 0;
  double availability_min = 0, availability_mean = 0, availability_entropy = 0;
};

// timeline.csv's piece availability columns, from the number of copies of
// each piece among the peers present (`copies[i]`: piece i's), as both the
// simulator and `swarm run-scenario` write them:
// - min, mean: the rarest piece's copies and the average piece's;
// - entropy: the Shannon entropy of the pieces' shares of all copies
//   (copies[i] / sum), divided by its maximum, log(pieces): 1 when every
//   piece has as many copies as every other, lower the more the copies pile
//   up on a few pieces. A one-piece file is as even as can be: 1 whenever it
//   has a copy (log(1) = 0 leaves the ratio undefined; 1 is its value for
//   any file whose pieces all have equal copies).
// With no copy at all (or no piece) there is no distribution: all three 0.
struct AvailabilityStats {
  double min = 0, mean = 0, entropy = 0;
};
AvailabilityStats PieceAvailability(std::span<const uint32_t> copies);

// Why a run ended (summary.json's "stopped").
enum class StopReason : uint8_t {
  kLeechersDone,  // stop.all_complete: every leecher completed, left or failed
  kMaxTime,       // stop.max_time reached first
  kNothingLeft,   // no event left to process (everyone gone, nothing scheduled)
  kMaxWall,       // real runs: swarm run-scenario's --max-wall reached first
  kPiecesLost,    // stop.all_complete: a piece had no holder left that could pass it
                  // on, and no seed was due, so no leecher could complete
};
const char* StopReasonName(StopReason r);

struct RunStats {
  uint64_t events = 0;
  double wall_time_s = 0;
  core::Time end_time;
  StopReason stop = StopReason::kNothingLeft;
  // kPiecesLost: how many pieces were lost when the run stopped.
  uint32_t lost_pieces = 0;
  // Invariant counters (all should be zero / balanced).
  uint64_t causality_violations = 0;  // SendBlock of a piece not verified
  uint64_t cap_violations = 0;        // links over capacity (checked runs)
  // Rate caps against the scenario's capacities, not the network model's
  // (sim/cap_check.h; checked runs): each host's summed upload and download
  // rates against its class's `upload` and `download`, after every
  // reallocation (the hosts of the re-solved flows, from their links) and at
  // every timeline sample (every present host, from its connections),
  // counting each direction over it; and the highest rate / capacity seen.
  uint64_t host_rate_violations = 0;
  double worst_host_rate_share = 0;
  // At the end: CheckCapVolumes (bytes over each peer's stay against
  // capacity x stay): peer-directions over it, and the highest share.
  uint64_t volume_violations = 0;
  double worst_volume_share = 0;
  // Timeline samples whose upload utilisation, instantaneous or over the
  // interval, exceeds 1 + 1e-6 before timeline.csv caps it at 1 (upload
  // rates over the scenario's summed upload of the peers present); and the
  // highest uncapped value (checked runs).
  uint64_t utilization_violations = 0;
  double max_upload_utilization = 0;
  // Peer inputs after which a connection could have asked for a block and
  // did not (core::Peer::IdleConnections; checked runs).
  uint64_t idle_violations = 0;
  core::Bytes bytes_sent = 0;         // payload whose flow finished
  core::Bytes bytes_delivered = 0;    // payload handed to a receiver
  core::Bytes bytes_dropped = 0;      // finished but receiver had closed
  core::Bytes bytes_in_flight = 0;    // finished, not yet arrived at end
  uint64_t flows_aborted = 0;
  uint64_t flows_solved = 0;          // network model work measure
  // Connections dialed (to a peer present), and the endpoint slots they
  // took: two each, but closed connections' slots are reused.
  uint64_t connections = 0;
  uint64_t endpoint_slots = 0;
  // Sum over peers of core::PeerStats::downloaded + wasted.
  core::Bytes core_downloaded = 0;
  core::Bytes core_uploaded = 0;
};

struct RunResult {
  std::vector<PeerRecord> peers;
  std::vector<TimelineRow> timeline;
  RunStats stats;
  // summary.json's "mode": "sim", or "real" for a scenario run on real
  // sockets (swarm run-scenario), which writes the same files.
  std::string mode = "sim";
};

// Completion-time statistics over the leechers that completed.
struct Summary {
  uint32_t total = 0, leechers = 0, completed = 0;
  std::optional<double> mean, median, p90, min, max;
  std::optional<double> makespan_s;
  SimpleBounds bounds;
  // Kumar-Ross bound / makespan; only for a flash crowd (the bound assumes
  // everyone joins at once): not when the leechers' joins spread over more
  // than FlashCrowdMaxSpread() (kept_arriving), the rule
  // analysis/resultdir.py's is_flash_crowd() applies to the plots.
  std::optional<double> efficiency;
  bool kept_arriving = false;
  // With the scenario's `measure` window (MeasureSpec): the same statistics
  // over the leechers that joined in it. `leechers` counts those that
  // joined there, `completed` those of them that finished by the end of
  // the run; the times are over the latter. Unset without a window.
  struct Window {
    uint32_t leechers = 0, completed = 0;
    std::optional<double> mean, median, p90, min, max;
  };
  std::optional<Window> measured;
  // The swarm over time, over the span from `from_s` to `until_s`: the
  // `measure` window's join times when the scenario has one (to its end, or
  // the run's), else the whole run. For setting a steady state against the
  // fluid model's x and y (fluid_model in summary.json), and a swarm's use
  // of its capacity against another's. Unset when the span is empty.
  struct OverTime {
    double from_s = 0, until_s = 0;
    // Exact time averages of the peers present, from the peers' join,
    // completion and leave times: leechers, seeds (the permanent ones
    // included, as the timeline counts them), and the seeds that were
    // leechers of this run (the fluid model's y).
    double leechers = 0, seeds = 0, seeds_from_leechers = 0;
    // From the timeline's rows: the mean of upload_utilization_mean over
    // the span, each row's interval weighted by the part of it inside the
    // span; the same weighted mean of availability_min and
    // availability_entropy, each sample standing for the interval that ends
    // at it; and the lowest availability_min sampled in the span. Unset
    // without a row in the span.
    std::optional<double> upload_utilization, availability_min, availability_entropy,
        lowest_availability_min;
  };
  std::optional<OverTime> over_time;
};

// The leechers', seeds' and timeline's averages over [from, until]
// (Summary::OverTime, in seconds as summary.json gives them); nullopt when
// until <= from.
std::optional<Summary::OverTime> AverageOverTime(const RunResult& r, core::Time from,
                                                core::Time until);

// The widest spread of leecher joins (first to last, seconds) that still
// counts as a flash crowd: a quarter of the larger of the Kumar-Ross and
// the piece-granular bound, so that the bound drawn on download times is off
// by at most a quarter; half the makespan when no bound is finite.
double FlashCrowdMaxSpread(const SimpleBounds& b, double makespan_s);

Summary Summarize(const Scenario& s, const RunResult& r);

std::string PeersCsv(const Scenario& s, const RunResult& r);
std::string TimelineCsv(const RunResult& r);
// Byte sizes of a result folder's CSV files, which summary.json records
// ("csv_bytes") so that a reader (`sim merge`, `sim sweep --resume`) can
// tell a complete folder from one whose files were cut short by an
// interrupted copy or a full disk.
struct CsvBytes {
  uint64_t peers = 0;     // peers.csv
  uint64_t timeline = 0;  // timeline.csv
};

std::string SummaryJson(const Scenario& s, const RunResult& r, const Summary& sum,
                        const CsvBytes& csv);
// The same, measuring the CSV text of `s` and `r` itself.
std::string SummaryJson(const Scenario& s, const RunResult& r, const Summary& sum);
std::string HumanSummary(const Scenario& s, const RunResult& r, const Summary& sum);

// The files WriteResultFolder writes into a result folder, and those
// `sim run --plot` adds to it (analysis/plot_run.py's OUTPUTS, and
// plot_pieces.py's piece map of a --trace).
inline constexpr const char* kResultFiles[] = {"peers.csv", "timeline.csv", "summary.json",
                                               "scenario.yaml"};
inline constexpr const char* kPlotFiles[] = {
    "overview.png",     "completion_cdf.png", "population.png", "upload_utilization.png",
    "availability.png", "class_ratio.png",    "growth.png",     "pieces.png"};

// Creates `dir` if needed and writes the four files. `before_rename`, if
// given, is told each file's name (as in kResultFiles) and identity just
// before it takes its place (WriteFileWhole). Returns an error message or
// nullopt.
std::optional<std::string> WriteResultFolder(
    const std::string& dir, const Scenario& s, const RunResult& r,
    const std::function<void(const char* name, const struct stat&)>& before_rename = {});

}  // namespace swarm::sim

#endif  // SWARM_SIM_RESULTS_H_
