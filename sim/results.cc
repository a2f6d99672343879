#include "sim/results.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "sim/build_info.h"
#include "sim/scenario_yaml.h"
#include "sim/write_file.h"

namespace swarm::sim {
namespace {

std::string Fixed(double v, int decimals = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string TimeField(const std::optional<core::Time>& t) {
  return t ? Fixed(t->seconds()) : "";
}

// JSON has no infinity or NaN: such a value (e.g. the Kumar-Ross bound when
// no seed uploads anything) is written as null.
std::string JsonNum(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? Fixed(*v) : "null";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

double Percentile(const std::vector<double>& sorted, double q) {
  // Nearest rank: the smallest value with at least q of the data at or below.
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

// The mean of download times, summed smallest first: the swarm's mean and
// a class's are then the very same number when the class holds every
// leecher (summed in two orders, they differed in the last digit).
double MeanTime(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return std::accumulate(times.begin(), times.end(), 0.0) / times.size();
}

// The median of sorted download times (the mean of the two middle ones
// for an even count). REQUIRES: !sorted.empty().
double MedianTime(const std::vector<double>& sorted) {
  const size_t n = sorted.size();
  return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// The download-time statistics of the leechers that joined in the
// scenario's `measure` window (see Summary::measured).
Summary::Window MeasureWindow(const MeasureSpec& w, const RunResult& r) {
  Summary::Window out;
  std::vector<double> times;
  for (const PeerRecord& p : r.peers) {
    if (p.started_complete || !p.join) continue;
    const core::Duration joined = *p.join - core::Time::Zero();
    if (joined < w.joins_from || (w.joins_until && joined > *w.joins_until)) continue;
    ++out.leechers;
    if (p.completion) times.push_back((*p.completion - *p.join).seconds());
  }
  out.completed = static_cast<uint32_t>(times.size());
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    out.median = MedianTime(times);
    out.p90 = Percentile(times, 0.9);
    out.min = times.front();
    out.max = times.back();
    out.mean = MeanTime(std::move(times));
  }
  return out;
}

}  // namespace

AvailabilityStats PieceAvailability(std::span<const uint32_t> copies) {
  AvailabilityStats a;
  if (copies.empty()) return a;
  uint32_t min = copies[0];
  double sum = 0;
  for (uint32_t c : copies) {
    min = std::min(min, c);
    sum += c;
  }
  a.min = min;
  a.mean = sum / copies.size();
  if (sum == 0) return a;
  if (copies.size() == 1) {
    a.entropy = 1;
    return a;
  }
  double h = 0;
  for (uint32_t c : copies) {
    if (c == 0) continue;  // 0 log 0 = 0
    const double q = c / sum;
    h -= q * std::log(q);
  }
  a.entropy = h / std::log(static_cast<double>(copies.size()));
  return a;
}

std::optional<Summary::OverTime> AverageOverTime(const RunResult& r, core::Time from,
                                                core::Time until) {
  if (until <= from) return std::nullopt;
  // In seconds from here on: the averages are of seconds spent, and
  // OverTime gives the span in seconds.
  const double from_s = from.seconds(), until_s = until.seconds();
  Summary::OverTime o;
  o.from_s = from_s;
  o.until_s = until_s;
  const double span = until_s - from_s;
  // The part of [a, b] inside the span, in seconds.
  auto inside = [&](double a, double b) {
    return std::max(0.0, std::min(b, until_s) - std::max(a, from_s));
  };
  for (const PeerRecord& p : r.peers) {
    if (!p.join) continue;  // never arrived
    const double join = p.join->seconds();
    const double gone = p.leave ? p.leave->seconds() : until_s;
    if (p.started_complete) {
      o.seeds += inside(join, gone);
      continue;
    }
    const double done = p.completion ? std::min(p.completion->seconds(), gone) : gone;
    o.leechers += inside(join, done);
    const double seeding = inside(done, gone);
    o.seeds += seeding;
    o.seeds_from_leechers += seeding;
  }
  o.leechers /= span;
  o.seeds /= span;
  o.seeds_from_leechers /= span;
  double weight = 0, utilization = 0, min = 0, entropy = 0;
  for (size_t i = 1; i < r.timeline.size(); ++i) {
    const TimelineRow& row = r.timeline[i];
    const double w = inside(r.timeline[i - 1].time.seconds(), row.time.seconds());
    weight += w;
    utilization += w * row.upload_utilization_mean;
    min += w * row.availability_min;
    entropy += w * row.availability_entropy;
  }
  if (weight > 0) {
    o.upload_utilization = utilization / weight;
    o.availability_min = min / weight;
    o.availability_entropy = entropy / weight;
  }
  for (const TimelineRow& row : r.timeline) {
    const double t = row.time.seconds();
    if (t < from_s || t > until_s) continue;
    o.lowest_availability_min =
        std::min(o.lowest_availability_min.value_or(row.availability_min), row.availability_min);
  }
  return o;
}

double FlashCrowdMaxSpread(const SimpleBounds& b, double makespan_s) {
  double bound = b.kumar_ross_s;
  if (b.piece_granular_s && std::isfinite(*b.piece_granular_s))
    bound = std::max(bound, *b.piece_granular_s);
  if (std::isfinite(bound) && bound > 0) return 0.25 * bound;
  return 0.5 * makespan_s;
}

Summary Summarize(const Scenario& s, const RunResult& r) {
  Summary sum;
  sum.bounds = ComputeSimpleBounds(s);
  std::vector<double> times;
  double first_join = 1e300, last_join = -1, last_done = -1;
  for (const PeerRecord& p : r.peers) {
    ++sum.total;
    if (p.started_complete) continue;
    ++sum.leechers;
    if (p.join) {
      first_join = std::min(first_join, p.join->seconds());
      last_join = std::max(last_join, p.join->seconds());
    }
    if (!p.completion) continue;
    ++sum.completed;
    times.push_back((*p.completion - *p.join).seconds());
    last_done = std::max(last_done, p.completion->seconds());
  }
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    sum.mean = MeanTime(times);
    sum.median = MedianTime(times);
    sum.p90 = Percentile(times, 0.9);
    sum.min = times.front();
    sum.max = times.back();
  }
  // Makespan: from the first leecher's arrival to the last completion, and
  // only when every leecher completed (otherwise it is not defined).
  if (sum.leechers > 0 && sum.completed == sum.leechers) {
    sum.makespan_s = last_done - first_join;
    // The bounds assume everyone joins at once: a run is a flash crowd when
    // its leechers' arrivals are spread over at most a quarter of the bound
    // (the larger of Kumar-Ross and piece-granular); the makespan of a steady
    // state measures its arrivals, not the swarm. Without a finite bound,
    // over at most half of the makespan.
    sum.kept_arriving = last_join - first_join > FlashCrowdMaxSpread(sum.bounds, *sum.makespan_s);
    if (*sum.makespan_s > 0 && std::isfinite(sum.bounds.kumar_ross_s) && !sum.kept_arriving)
      sum.efficiency = sum.bounds.kumar_ross_s / *sum.makespan_s;
  }
  if (s.measure) sum.measured = MeasureWindow(*s.measure, r);
  // The span of the time averages: the measure window's, else the run.
  core::Time end = r.stats.end_time;
  if (!r.timeline.empty()) end = std::max(end, r.timeline.back().time);
  core::Time from = core::Time::Zero(), until = end;
  if (s.measure) {
    from = core::Time::Zero() + s.measure->joins_from;
    if (s.measure->joins_until)
      until = std::min(until, core::Time::Zero() + *s.measure->joins_until);
  }
  sum.over_time = AverageOverTime(r, from, until);
  return sum;
}

std::string PeersCsv(const Scenario& s, const RunResult& r) {
  std::string out =
      "peer,class,join_s,first_piece_s,completion_s,leave_s,bytes_uploaded,bytes_downloaded,"
      "failed\n";
  for (size_t i = 0; i < r.peers.size(); ++i) {
    const PeerRecord& p = r.peers[i];
    out += std::to_string(i) + "," + s.peers[p.class_index].name + "," + TimeField(p.join) +
           "," + TimeField(p.first_piece) + "," + TimeField(p.completion) + "," +
           TimeField(p.leave) + "," + std::to_string(p.uploaded) + "," +
           std::to_string(p.downloaded) + "," + (p.failed ? "1" : "0") + "\n";
  }
  return out;
}

namespace {

// Append `v` then `sep` at `p` (room up to `end`): `v` as Fixed(v) would
// write it ("%.6f": both round the exact binary value to nearest), without
// printf's format parsing and locale.
char* PutFixed6(char* p, char* end, double v, char sep) {
  char* q = std::to_chars(p, end - 1, v, std::chars_format::fixed, 6).ptr;
  *q = sep;
  return q + 1;
}

char* PutWhole(char* p, char* end, uint64_t v, char sep) {
  char* q = std::to_chars(p, end - 1, v).ptr;
  *q = sep;
  return q + 1;
}

// The efficiency line's cell: the figure, or "-" and why there is none (the
// tests in Summarize, in its order).
std::string EfficiencyCell(const Summary& sum) {
  if (sum.efficiency) return Fixed(*sum.efficiency, 3);
  if (sum.leechers == 0) return "- (no leechers)";
  if (sum.completed < sum.leechers)
    return "- (" + std::to_string(sum.leechers - sum.completed) + " of " +
           std::to_string(sum.leechers) +
           " leechers did not complete: no makespan to set against the bound)";
  if (sum.kept_arriving) return "- (leechers kept arriving: not a flash crowd)";
  if (!std::isfinite(sum.bounds.kumar_ross_s))
    return "- (no Kumar-Ross bound: the seeds upload nothing)";
  return "- (makespan 0 s)";
}

}  // namespace

// The hot one of the CSV files: a run may sample millions of rows (10 M
// took ~23 s to format with string concatenation and snprintf). Each row is
// formatted with to_chars into a stack buffer and appended once.
std::string TimelineCsv(const RunResult& r) {
  std::string out =
      "time_s,leechers,seeds,completed,upload_utilization,availability_min,"
      "availability_mean,availability_entropy,upload_utilization_mean\n";
  out.reserve(out.size() + r.timeline.size() * 81);
  // Six doubles of at most ~330 digits each (1e308 in fixed notation),
  // three 10-digit counts, separators.
  char row[6 * 340 + 3 * 12 + 16];
  char* const end = row + sizeof row;
  for (const TimelineRow& t : r.timeline) {
    char* p = PutFixed6(row, end, t.time.seconds(), ',');
    p = PutWhole(p, end, t.leechers, ',');
    p = PutWhole(p, end, t.seeds, ',');
    p = PutWhole(p, end, t.completed, ',');
    p = PutFixed6(p, end, t.upload_utilization, ',');
    p = PutFixed6(p, end, t.availability_min, ',');
    p = PutFixed6(p, end, t.availability_mean, ',');
    p = PutFixed6(p, end, t.availability_entropy, ',');
    p = PutFixed6(p, end, t.upload_utilization_mean, '\n');
    out.append(row, p);
  }
  return out;
}

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kLeechersDone: return "leechers_done";
    case StopReason::kMaxTime: return "max_time";
    case StopReason::kNothingLeft: return "nothing_left";
    case StopReason::kMaxWall: return "max_wall";
    case StopReason::kPiecesLost: return "pieces_lost";
  }
  return "?";
}

std::string SummaryJson(const Scenario& s, const RunResult& r, const Summary& sum) {
  return SummaryJson(s, r, sum, {PeersCsv(s, r).size(), TimelineCsv(r).size()});
}

std::string SummaryJson(const Scenario& s, const RunResult& r, const Summary& sum,
                        const CsvBytes& csv) {
  std::ostringstream o;
  o << "{\n";
  o << "  \"scenario\": " << JsonString(s.name) << ",\n";
  o << "  \"seed\": " << s.seed << ",\n";
  o << "  \"version\": \"" << Version() << "\",\n";
  o << "  \"build\": " << JsonString(BuildId()) << ",\n";
  o << "  \"mode\": \"" << r.mode << "\",\n";
  o << "  \"stopped\": \"" << StopReasonName(r.stats.stop) << "\",\n";
  o << "  \"overrides\": [";
  for (size_t i = 0; i < s.overrides.size(); ++i) {
    o << (i ? ", " : "") << JsonString(s.overrides[i]);
  }
  o << "],\n";
  o << "  \"peers\": {\"total\": " << sum.total << ", \"leechers\": " << sum.leechers
    << ", \"completed\": " << sum.completed << "},\n";
  o << "  \"completion_time_s\": {\"mean\": " << JsonNum(sum.mean)
    << ", \"median\": " << JsonNum(sum.median) << ", \"p90\": " << JsonNum(sum.p90)
    << ", \"min\": " << JsonNum(sum.min) << ", \"max\": " << JsonNum(sum.max) << "},\n";
  o << "  \"makespan_s\": " << JsonNum(sum.makespan_s) << ",\n";
  o << "  \"bounds\": {\"kumar_ross_s\": " << JsonNum(sum.bounds.kumar_ross_s)
    << ", \"piece_granular_s\": " << JsonNum(sum.bounds.piece_granular_s)
    << ", \"piece_granular_is_bound\": "
    << (!sum.bounds.piece_granular_s         ? "null"
        : sum.bounds.piece_granular_is_bound ? "true"
                                             : "false")
    << "},\n";
  o << "  \"efficiency\": " << JsonNum(sum.efficiency) << ",\n";
  o << "  \"fluid_model\": ";
  if (auto f = SwarmFluidSteadyState(s)) {
    o << "{\"class\": " << JsonString(s.peers[f->class_index].name) << ", \"regime\": \""
      << theory::FluidRegimeName(f->state.regime) << "\", \"leechers\": "
      << JsonNum(f->state.leechers) << ", \"seeds\": " << JsonNum(f->state.seeds)
      << ", \"download_time_s\": " << JsonNum(f->state.download_time_s)
      << ", \"permanent_seeds\": " << f->permanent_seeds << "},\n";
  } else {
    o << "null,\n";
  }
  o << "  \"over_time\": ";
  if (const auto& a = sum.over_time) {
    o << "{\"from_s\": " << Fixed(a->from_s) << ", \"until_s\": " << Fixed(a->until_s)
      << ", \"leechers\": " << Fixed(a->leechers) << ", \"seeds\": " << Fixed(a->seeds)
      << ", \"seeds_from_leechers\": " << Fixed(a->seeds_from_leechers)
      << ",\n    \"upload_utilization\": " << JsonNum(a->upload_utilization)
      << ", \"availability_min\": " << JsonNum(a->availability_min)
      << ", \"lowest_availability_min\": " << JsonNum(a->lowest_availability_min)
      << ", \"availability_entropy\": " << JsonNum(a->availability_entropy) << "},\n";
  } else {
    o << "null,\n";
  }
  o << "  \"events\": " << r.stats.events << ",\n";
  // Wall time is the one field that differs between identical runs.
  o << "  \"wall_time_s\": " << Fixed(r.stats.wall_time_s, 3) << ",\n";
  o << "  \"csv_bytes\": {\"peers.csv\": " << csv.peers << ", \"timeline.csv\": " << csv.timeline
    << "},\n";
  o << "  \"per_class\": {";
  for (size_t c = 0; c < s.peers.size(); ++c) {
    uint32_t count = 0;
    std::vector<double> times;
    core::Bytes up = 0, down = 0;
    uint64_t failed = 0, banned = 0;
    uint32_t leechers = 0;  // as peers.leechers: the class's peers that did not start complete
    for (const PeerRecord& p : r.peers) {
      if (p.class_index != c) continue;
      ++count;
      leechers += !p.started_complete;
      up += p.uploaded;
      down += p.downloaded;
      failed += p.pieces_failed;
      banned += p.peers_banned;
      if (p.completion && p.join && !p.started_complete)
        times.push_back((*p.completion - *p.join).seconds());
    }
    std::optional<double> mean, median, share_ratio;
    if (down > 0) share_ratio = static_cast<double>(up) / static_cast<double>(down);
    const size_t completed = times.size();
    if (!times.empty()) {
      std::sort(times.begin(), times.end());
      median = MedianTime(times);
      mean = MeanTime(std::move(times));
    }
    // leechers, completed and median_completion_s came last (2026-11-27),
    // after the others, and share_ratio (bytes uploaded / downloaded) after
    // them: appended, so the older fields keep their place.
    o << (c ? ",\n    " : "\n    ") << JsonString(s.peers[c].name) << ": {\"count\": " << count
      << ", \"mean_completion_s\": " << JsonNum(mean) << ", \"bytes_uploaded\": " << up
      << ", \"bytes_downloaded\": " << down << ", \"pieces_failed\": " << failed
      << ", \"peers_banned\": " << banned << ", \"leechers\": " << leechers
      << ", \"completed\": " << completed << ", \"median_completion_s\": " << JsonNum(median)
      << ", \"share_ratio\": " << JsonNum(share_ratio) << "}";
  }
  o << "\n  }";
  // Last, and only with a `measure` window: without one summary.json reads
  // as it did before the window existed.
  if (const auto& w = sum.measured) {
    o << ",\n  \"measured\": {\"joins_from_s\": " << JsonNum(s.measure->joins_from.seconds())
      << ", \"joins_until_s\": "
      << JsonNum(s.measure->joins_until ? std::optional<double>(s.measure->joins_until->seconds())
                                        : std::nullopt)
      << ", \"leechers\": " << w->leechers << ", \"completed\": " << w->completed
      << ",\n    \"completion_time_s\": {\"mean\": " << JsonNum(w->mean)
      << ", \"median\": " << JsonNum(w->median) << ", \"p90\": " << JsonNum(w->p90)
      << ", \"min\": " << JsonNum(w->min) << ", \"max\": " << JsonNum(w->max) << "}}";
  }
  o << "\n}\n";
  return o.str();
}

std::string HumanSummary(const Scenario& s, const RunResult& r, const Summary& sum) {
  std::ostringstream o;
  auto sec = [](const std::optional<double>& v) { return v ? Fixed(*v, 1) + " s" : "-"; };
  o << s.name << " (random seed " << s.seed << "): " << sum.completed << "/" << sum.leechers
    << " leechers completed";
  switch (r.stats.stop) {
    case StopReason::kLeechersDone: break;
    case StopReason::kMaxTime: o << " (stopped at max_time)"; break;
    case StopReason::kNothingLeft: o << " (nothing left to happen)"; break;
    case StopReason::kMaxWall: o << " (stopped by --max-wall)"; break;
    case StopReason::kPiecesLost:
      o << " (stopped at " << Fixed(r.stats.end_time.seconds(), 1) << " s: pieces lost";
      if (r.stats.lost_pieces > 0) o << ", " << r.stats.lost_pieces << " held by no peer that can pass them on";
      o << ")";
      break;
  }
  o << "\n";
  o << "  download time  mean " << sec(sum.mean) << ", median " << sec(sum.median) << ", p90 "
    << sec(sum.p90) << "\n";
  if (const auto& w = sum.measured) {
    o << "  joins window   " << Fixed(s.measure->joins_from.seconds(), 1) << " s to "
      << (s.measure->joins_until ? Fixed(s.measure->joins_until->seconds(), 1) + " s" : "the end")
      << " (measure): " << w->completed << "/" << w->leechers << " completed, mean "
      << sec(w->mean) << ", median " << sec(w->median) << ", p90 " << sec(w->p90) << "\n";
  }
  o << "  makespan       " << sec(sum.makespan_s) << "   Kumar-Ross bound "
    << (std::isfinite(sum.bounds.kumar_ross_s) ? Fixed(sum.bounds.kumar_ross_s, 1) + " s"
                                               : std::string("none (the seeds upload nothing)"));
  if (sum.bounds.piece_granular_s)
    o << "   piece-granular " << Fixed(*sum.bounds.piece_granular_s, 1) << " s";
  o << "\n";
  // Where the Qiu-Srikant model applies (the summary.json fluid_model):
  // its steady-state download time, to set against the mean above.
  if (auto f = SwarmFluidSteadyState(s)) {
    o << "  fluid model    download time " << Fixed(f->state.download_time_s, 1)
      << " s (Qiu-Srikant steady state, " << theory::FluidRegimeName(f->state.regime)
      << "; leechers " << Fixed(f->state.leechers, 1) << ", seeds " << Fixed(f->state.seeds, 1)
      << ")\n";
  }
  o << "  efficiency     " << EfficiencyCell(sum) << "\n";
  uint64_t failed = 0, banned = 0;
  for (const PeerRecord& p : r.peers) {
    failed += p.pieces_failed;
    banned += p.peers_banned;
  }
  if (failed > 0) {
    o << "  bad data       " << failed << " pieces failed their hash check, " << banned
      << " bans\n";
  }
  if (r.stats.events == 0) {  // a real run (swarm run-scenario): no event loop
    o << "  wall time      " << Fixed(r.stats.wall_time_s, 2) << " s\n";
  } else {
    o << "  events         " << r.stats.events << " in " << Fixed(r.stats.wall_time_s, 2)
      << " s wall (" << Fixed(r.stats.events / std::max(1e-9, r.stats.wall_time_s) / 1e6, 2)
      << " M events/s), simulated " << Fixed(r.stats.end_time.seconds(), 1) << " s\n";
  }
  return o.str();
}

std::optional<std::string> WriteResultFolder(
    const std::string& dir, const Scenario& s, const RunResult& r,
    const std::function<void(const char* name, const struct stat&)>& before_rename) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return dir + ": cannot create directory: " + ec.message();
  Summary sum = Summarize(s, r);
  std::string peers = PeersCsv(s, r), timeline = TimelineCsv(r);
  const CsvBytes sizes{peers.size(), timeline.size()};
  // summary.json says the folder is complete (sim merge and --resume read
  // it so): an earlier run's goes first and this run's comes last, so a
  // rewrite that fails or is killed half-way leaves a folder that reads as
  // not done rather than one whose summary describes other files.
  const std::filesystem::path folder(dir);
  std::filesystem::remove(folder / "summary.json", ec);
  if (ec) return (folder / "summary.json").string() + ": cannot remove: " + ec.message();
  const std::pair<const char*, std::string> files[] = {
      {"peers.csv", std::move(peers)},
      {"timeline.csv", std::move(timeline)},
      {"scenario.yaml", EmitScenario(s)},
      {"summary.json", SummaryJson(s, r, sum, sizes)},
  };
  for (const auto& [name, text] : files) {
    auto told = [&, name = name](const struct stat& st) {
      if (before_rename) before_rename(name, st);
    };
    if (auto err = WriteFileWhole(folder / name, text, told)) return err;
  }
  return std::nullopt;
}

}  // namespace swarm::sim
