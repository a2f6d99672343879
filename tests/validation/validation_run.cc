// validation_run: runs one scenario for the validation checks.
//
// Like `sim run FILE --seed N --set K=V --out DIR`, but with the simulator's
// invariant checks switched on, and it also writes DIR/checks.json: the hard
// bounds of VALIDATION.md evaluated on this run (byte conservation, rate
// caps -- against the network model's link capacities and, independently,
// the scenario's class capacities (sim/cap_check.h) --, causality, upload
// utilisation <= 1, Kumar-Ross per-rank and per-peer bounds), plus what a
// single result folder cannot show:
//   --seed-cost  runs the scenario a second time, stopped at the moment the
//                first leecher completed (the engine is deterministic, so the
//                two runs agree up to then), and reports how many bytes the
//                initial seeds had uploaded by then (BEP 16 seeding cost, V6).
// tests/validation/validate.py drives it and judges the numbers.
//
// Exit codes: 0 ran (whatever the bounds say), 1 run or write failed,
// 2 bad scenario or arguments.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sim/bounds.h"
#include "sim/engine.h"
#include "sim/huge_pages.h"
#include "sim/results.h"
#include "sim/scenario_yaml.h"
#include "sim/theory/distribution_bounds.h"

namespace {

using swarm::sim::RunResult;
using swarm::sim::Scenario;

// Absolute slack for time bounds: completion times are whole microseconds.
constexpr double kTimeSlackS = 1e-5;

struct BoundCheck {
  double kumar_ross_s = 0;
  uint64_t rank_violations = 0;  // k-th completion before the k-th bound
  double worst_rank_margin_s = 1e300;  // min over k of (t_k - bound_k)
  uint64_t peer_violations = 0;  // download time below F/d_i
};

BoundCheck CheckBounds(const Scenario& s, const RunResult& r) {
  namespace th = swarm::sim::theory;
  // The simulator's own mapping (sim/bounds.cc): free-riders and polluters
  // offer no upload. A copy here that forgot them checked v5_free_riders
  // against a Kumar–Ross time of 209.7 s instead of 258.9 s.
  th::DistributionProblem prob = swarm::sim::ToDistributionProblem(s);
  BoundCheck b;
  b.kumar_ross_s = th::KumarRossMinTime(prob);
  std::vector<double> rank = th::KumarRossRankBounds(prob);
  std::vector<double> done;
  for (const swarm::sim::PeerRecord& p : r.peers) {
    if (p.started_complete || !p.completion) continue;
    done.push_back(p.completion->seconds());
    const swarm::sim::PeerClassSpec& c = s.peers[p.class_index];
    double own = th::KumarRossPeerBound(s.file.size, {c.upload, c.download});
    if ((*p.completion - *p.join).seconds() < own - kTimeSlackS) ++b.peer_violations;
  }
  std::sort(done.begin(), done.end());
  for (size_t k = 0; k < done.size() && k < rank.size(); ++k) {
    b.worst_rank_margin_s = std::min(b.worst_rank_margin_s, done[k] - rank[k]);
    if (done[k] < rank[k] - kTimeSlackS) ++b.rank_violations;
  }
  return b;
}

std::optional<double> FirstCompletion(const RunResult& r) {
  std::optional<double> t;
  for (const swarm::sim::PeerRecord& p : r.peers) {
    if (p.started_complete || !p.completion) continue;
    if (!t || p.completion->seconds() < *t) t = p.completion->seconds();
  }
  return t;
}

// Bytes the initial seeds had uploaded when the first leecher completed.
std::optional<int64_t> SeedCost(Scenario s, const RunResult& full) {
  std::optional<double> first = FirstCompletion(full);
  if (!first) return std::nullopt;
  s.stop.max_time = swarm::core::Duration::Micros(static_cast<int64_t>(*first * 1e6 + 0.5));
  s.stop.all_complete = false;
  swarm::sim::Simulation sim(s);
  RunResult r = sim.Run();
  int64_t bytes = 0;
  for (const swarm::sim::PeerRecord& p : r.peers) {
    if (p.started_complete) bytes += p.uploaded;
  }
  return bytes;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

// A ratio to a capacity, to 9 decimals (a breach by a few parts in a
// million must show); null for an infinite one (bytes over a zero capacity,
// which the matching violation count also reports): JSON has no infinity.
std::string Share(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", v);
  return buf;
}

std::string ChecksJson(const Scenario& s, const RunResult& r, const BoundCheck& b,
                       std::optional<int64_t> seed_cost) {
  const swarm::sim::RunStats& st = r.stats;
  int64_t up = 0, down = 0;
  for (const swarm::sim::PeerRecord& p : r.peers) {
    up += p.uploaded;
    down += p.downloaded;
  }
  std::optional<double> first = FirstCompletion(r);
  std::string o = "{\n";
  auto kv = [&](const char* k, const std::string& v, bool last = false) {
    o += std::string("  \"") + k + "\": " + v + (last ? "\n" : ",\n");
  };
  kv("causality_violations", std::to_string(st.causality_violations));
  kv("cap_violations", std::to_string(st.cap_violations));
  kv("host_rate_violations", std::to_string(st.host_rate_violations));
  kv("worst_host_rate_share", Share(st.worst_host_rate_share));
  kv("volume_violations", std::to_string(st.volume_violations));
  kv("worst_volume_share", Share(st.worst_volume_share));
  kv("utilization_violations", std::to_string(st.utilization_violations));
  kv("max_upload_utilization", Share(st.max_upload_utilization));
  kv("idle_violations", std::to_string(st.idle_violations));
  kv("bytes_sent", std::to_string(st.bytes_sent));
  kv("bytes_delivered", std::to_string(st.bytes_delivered));
  kv("bytes_dropped", std::to_string(st.bytes_dropped));
  kv("bytes_in_flight", std::to_string(st.bytes_in_flight));
  kv("peers_uploaded", std::to_string(up));
  kv("peers_downloaded", std::to_string(down));
  kv("hit_max_time", st.stop == swarm::sim::StopReason::kMaxTime ? "true" : "false");
  kv("kumar_ross_s", Num(b.kumar_ross_s));
  kv("rank_bound_violations", std::to_string(b.rank_violations));
  kv("worst_rank_margin_s", b.worst_rank_margin_s < 1e299 ? Num(b.worst_rank_margin_s) : "null");
  kv("peer_bound_violations", std::to_string(b.peer_violations));
  kv("first_completion_s", first ? Num(*first) : "null");
  kv("file_bytes", std::to_string(s.file.size));
  std::string seeds;
  for (const swarm::sim::PeerClassSpec& c : s.peers) {
    if (c.start_complete) seeds += (seeds.empty() ? "\"" : ", \"") + c.name + "\"";
  }
  kv("seed_classes", "[" + seeds + "]");
  kv("seed_uploaded_at_first_completion", seed_cost ? std::to_string(*seed_cost) : "null",
     true);
  o += "}\n";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  swarm::sim::ReexecWithHugePages(argv);  // as `sim run` does
  CLI::App app{"Run one validation scenario with invariant checks (see validate.py)"};
  std::string file, out_dir;
  std::vector<std::string> sets;
  std::optional<uint64_t> seed;
  bool seed_cost = false;
  app.add_option("FILE", file, "scenario YAML")->required();
  app.add_option("--seed", seed, "run seed (overrides the scenario's)");
  app.add_option("--set", sets, "override a field, e.g. protocol.choker=round_robin");
  app.add_option("--out", out_dir, "result folder")->required();
  app.add_flag("--seed-cost", seed_cost, "also measure seed upload before the first completion");
  CLI11_PARSE(app, argc, argv);

  auto loaded = swarm::sim::LoadScenario(file, sets);
  if (auto* e = std::get_if<swarm::sim::ScenarioLoadError>(&loaded)) {
    std::cerr << e->message << "\n";
    return 2;
  }
  Scenario s = std::get<Scenario>(std::move(loaded));
  if (seed) s.seed = *seed;
  swarm::sim::SimOptions opt;
  opt.check_invariants = true;
  swarm::sim::Simulation sim(s, opt);
  RunResult r = sim.Run();
  BoundCheck b = CheckBounds(s, r);
  std::optional<int64_t> cost;
  if (seed_cost) cost = SeedCost(s, r);
  if (auto err = swarm::sim::WriteResultFolder(out_dir, s, r)) {
    std::cerr << *err << "\n";
    return 1;
  }
  std::ofstream out(out_dir + "/checks.json", std::ios::trunc);
  out << ChecksJson(s, r, b, cost);
  if (!out) {
    std::cerr << out_dir << "/checks.json: cannot write\n";
    return 1;
  }
  return 0;
}
