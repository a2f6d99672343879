// Sweeps: --vary parsing, the cross product and its folder names, the
// commands of --emit-jobs, and (through the real `sim` binary) sweep.csv
// from tiny scenarios, independence from --jobs, merging folders made
// elsewhere, and the handling of bad input and failing runs.
#include "sim/sweep.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/bounds.h"
#include "sim/engine.h"
#include "sim/memory_estimate.h"
#include "sim/results.h"
#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

const char* kTiny = R"(name: tiny
seed: 1
stop: {all_complete: true, max_time: 1h}
file: {size: 2MiB, piece_size: 64KiB, block_size: 16KiB}
network: {latency: {uniform: [10ms, 30ms]}}
protocol: {piece_selection: rarest_first}
tracker: {numwant: 10}
peers:
  - {class: seed, count: 1, upload: 4Mbit/s, download: 8Mbit/s, start: complete}
  - {class: leecher, count: 5, upload: 1Mbit/s, download: 8Mbit/s,
     arrival: {uniform: [0s, 2s]}}
sample_interval: 1s
)";

// Everything a test writes goes under a folder private to this process:
// ctest runs each test case as its own process, two at a time, and another
// build tree's tests may be running on the same machine (a fixed
// TempDir()/sweep_test/NAME was shared by all of them). Removed at exit.
const std::string& Private() {
  static const std::string dir = [] {
    std::string d = testing::TempDir() + "/sweep_test_" + std::to_string(getpid());
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

class RemovePrivateFolder : public ::testing::Environment {
 public:
  void TearDown() override {
    if (std::getenv("SWARMLAB_KEEP_TEST_FILES") == nullptr) fs::remove_all(Private());
  }
};
[[maybe_unused]] ::testing::Environment* const kRemovePrivateFolder =
    ::testing::AddGlobalTestEnvironment(new RemovePrivateFolder);

std::string Dir(const std::string& name) {
  std::string d = Private() + "/" + name;
  fs::remove_all(d);
  return d;
}

std::string TestFile(const std::string& suffix) {
  return Private() + "/" +
         testing::UnitTest::GetInstance()->current_test_info()->name() + suffix;
}

std::string TinyFile() {
  std::string path = TestFile(".yaml");
  std::ofstream(path) << kTiny;
  return path;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// The binary under test as a shell word: the checkout's path may hold a
// space (or a quote), so it is quoted as sim quotes the commands it prints.
const std::string& QuotedSim() {
  static const std::string quoted = ShellCommand(SIM_BINARY, {});
  return quoted;
}

// Runs `PROGRAM ARGS` in the shell, PROGRAM already quoted as a shell word
// (or a shell fragment such as "cd DIR && PROGRAM"); returns the exit code,
// stdout and stderr in *out, *err.
int SimAs(const std::string& program, const std::string& args, std::string* out = nullptr,
          std::string* err = nullptr) {
  std::string o = TestFile(".out"), e = TestFile(".err");
  int rc = std::system((program + " " + args + " >" + o + " 2>" + e).c_str());
  if (out) *out = Read(o);
  if (err) *err = Read(e);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs `sim ARGS`, the binary under test by its full path.
int Sim(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
  return SimAs(QuotedSim(), args, out, err);
}

// The line after "redo: " in `err`, or "".
std::string RedoLine(const std::string& err) {
  size_t at = err.find("redo: ");
  if (at == std::string::npos) return "";
  at += 6;
  return err.substr(at, err.find('\n', at) - at);
}

SweepParam Vary(const std::string& text) {
  auto p = ParseVary(text);
  if (auto* e = std::get_if<std::string>(&p)) ADD_FAILURE() << *e;
  return std::get_if<SweepParam>(&p) ? std::get<SweepParam>(p) : SweepParam{};
}

std::string VaryError(const std::string& text) {
  auto p = ParseVary(text);
  return std::get_if<std::string>(&p) ? std::get<std::string>(p) : "(parsed)";
}

TEST(ParseVary, KeyAndValuesInOrder) {
  SweepParam p = Vary("protocol.piece_selection=rarest_first,random,sequential");
  EXPECT_EQ(p.key, "protocol.piece_selection");
  EXPECT_EQ(p.values, (std::vector<std::string>{"rarest_first", "random", "sequential"}));
  EXPECT_EQ(Vary("peers.1.upload=1Mbit/s").values, std::vector<std::string>{"1Mbit/s"});
}

TEST(ParseVary, BadSyntaxSaysWhatIsWrong) {
  EXPECT_EQ(VaryError("protocol.choker"),
            "--vary 'protocol.choker': expected KEY=V1,V2,... (e.g. --vary "
            "protocol.piece_selection=rarest_first,random)");
  EXPECT_NE(VaryError("=a,b").find("no field path"), std::string::npos);
  EXPECT_NE(VaryError("protocol.choker=").find("no values"), std::string::npos);
  EXPECT_EQ(VaryError("a.b=x,,y"), "--vary 'a.b=x,,y': value 2 is empty (stray comma?)");
  EXPECT_EQ(VaryError("a.b=x,"), "--vary 'a.b=x,': value 2 is empty (stray comma?)");
  EXPECT_EQ(VaryError("a.b=x,y,x"), "--vary 'a.b=x,y,x': value 'x' is given twice");
  EXPECT_NE(VaryError("a b=1").find("may only contain"), std::string::npos);
  EXPECT_EQ(VaryError("peers[1].count=5,10"),
            "--vary 'peers[1].count=5,10': list elements take a dot, not brackets: write "
            "peers.1.count");
  EXPECT_EQ(VaryError("network.latency={constant: 5ms},{uniform: [1ms, 9ms]}"),
            "--vary 'network.latency={constant: 5ms},{uniform: [1ms, 9ms]}': value "
            "'{uniform: [1ms' is cut at a comma inside brackets: values are split at every "
            "comma; vary a field inside instead (e.g. network.latency.uniform.1=40ms,60ms)");
  EXPECT_EQ(Vary("network.latency={constant: 5ms},{constant: 9ms}").values.size(), 2u);
  // The shell cut an unquoted value at its space: no comma is to blame.
  EXPECT_EQ(VaryError("peers.0.leave={at:"),
            "--vary 'peers.0.leave={at:': a '{' or '[' is not closed: a value with { } or [ ] "
            "must be one shell word; quote the whole --vary argument (e.g. --vary "
            "'peers.0.leave={at: 30s},{at: 60s}')");
  EXPECT_EQ(Vary("peers.0.leave={at: 30s},{at: 60s}").values.size(), 2u);
  EXPECT_EQ(VaryError("peers.0.leave=at: 3s}"),
            "--vary 'peers.0.leave=at: 3s}': a '}' or ']' closes nothing");
}

TEST(PlanSweep, CrossProductFirstParameterSlowestSeedFastest) {
  SweepSpec spec{"s.yaml", {Vary("protocol.choker=tit_for_tat,round_robin"),
                            Vary("peers.1.upload=1Mbit/s,2Mbit/s,512kbit/s")},
                 {}, 7, 2, "out"};
  std::vector<SweepRun> runs = PlanSweep(spec);
  ASSERT_EQ(runs.size(), 2u * 3u * 2u);
  EXPECT_EQ(runs[0].name, "protocol.choker=tit_for_tat__peers.1.upload=1Mbit%2Fs__seed=7");
  EXPECT_EQ(runs[1].name, "protocol.choker=tit_for_tat__peers.1.upload=1Mbit%2Fs__seed=8");
  EXPECT_EQ(runs[2].values, (std::vector<std::string>{"tit_for_tat", "2Mbit/s"}));
  EXPECT_EQ(runs[6].values, (std::vector<std::string>{"round_robin", "1Mbit/s"}));
  EXPECT_EQ(runs[11].name, "protocol.choker=round_robin__peers.1.upload=512kbit%2Fs__seed=8");
  EXPECT_EQ(runs[11].seed, 8u);
  std::set<std::string> names;
  for (const SweepRun& r : runs) {
    names.insert(r.name);
    for (char c : r.name) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) ||
                                      std::string("._-=%").find(c) != std::string::npos)
        << r.name;
  }
  EXPECT_EQ(names.size(), runs.size());
}

TEST(PlanSweep, NoVaryMeansSeedsOnly) {
  SweepSpec spec{"s.yaml", {}, {}, 1, 3, "out"};
  std::vector<SweepRun> runs = PlanSweep(spec);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[2].name, "seed=3");
}

TEST(RunArguments, SameCommandAsSimRun) {
  SweepSpec spec{"scenarios/x.yaml", {Vary("protocol.choker=round_robin")},
                 {"file.size=1MiB", "network.latency={constant: 5ms}"}, 1, 1, "res/sw"};
  SweepRun run = PlanSweep(spec)[0];
  EXPECT_EQ(ShellCommand("build/bin/sim", RunArguments(spec, run)),
            "build/bin/sim run scenarios/x.yaml --seed 1 --set file.size=1MiB "
            "--set 'network.latency={constant: 5ms}' --set protocol.choker=round_robin "
            "--out res/sw/runs/protocol.choker=round_robin__seed=1 --quiet");
  EXPECT_EQ(ShellCommand("a b", {"it's"}), "'a b' 'it'\\''s'");
}

TEST(CheckSweepSpec, RejectsConflictsAndBadFields) {
  std::string file = TinyFile();
  SweepSpec ok{file, {Vary("protocol.piece_selection=random,sequential")}, {}, 1, 2, "o"};
  EXPECT_EQ(CheckSweepSpec(ok), std::nullopt);
  SweepSpec bad_field = ok;
  bad_field.params.push_back(Vary("protocol.nope=1,2"));
  EXPECT_EQ(CheckSweepSpec(bad_field).value_or("").rfind(
                file + ": --vary protocol.nope=1: field 'protocol.nope': unknown field", 0),
            0u) << *CheckSweepSpec(bad_field);
  SweepSpec bad_value{file, {Vary("protocol.piece_selection=random,fastest")}, {}, 1, 1, "o"};
  EXPECT_NE(CheckSweepSpec(bad_value).value_or("").find("--vary protocol.piece_selection=fastest"),
            std::string::npos);
  SweepSpec both = ok;
  both.sets = {"protocol.piece_selection=random"};
  EXPECT_EQ(CheckSweepSpec(both).value_or(""),
            "protocol.piece_selection is given both with --set and with --vary");
  SweepSpec twice = ok;
  twice.params.push_back(twice.params[0]);
  EXPECT_EQ(CheckSweepSpec(twice).value_or(""), "--vary protocol.piece_selection is given twice");
  SweepSpec seed{file, {Vary("seed=1,2")}, {}, 1, 1, "o"};
  EXPECT_NE(CheckSweepSpec(seed).value_or("").find("--seeds"), std::string::npos);
  SweepSpec none = ok;
  none.seeds = 0;
  EXPECT_EQ(CheckSweepSpec(none).value_or(""), "--seeds must be at least 1");
}

// The run-wide metrics, then the columns of the one class that downloads.
const char* kMetricsHeader =
    "completed,mean_completion_s,median_completion_s,p90_completion_s,makespan_s,efficiency,"
    "kumar_ross_s,piece_granular_s,piece_granular_is_bound,leechers_time_avg,seeds_time_avg,"
    "seeds_from_leechers_time_avg,upload_utilization_time_avg,availability_min_time_avg,"
    "availability_min_lowest,availability_entropy_time_avg,fluid_x,fluid_y,"
    "fluid_download_time_s";
const char* kClassHeader =
    "leecher_completed,leecher_leechers,leecher_mean_completion_s,leecher_median_completion_s,"
    "leecher_bytes_uploaded,leecher_bytes_downloaded,leecher_share_ratio";
const std::string kHeader = std::string("run,seed,protocol.piece_selection,") + kMetricsHeader +
                            "," + kClassHeader;

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// The cell of `column` in `row` of a table whose header is `header`.
std::string Cell(const std::string& header, const std::string& row, const std::string& column) {
  const std::vector<std::string> h = SplitCsv(header), r = SplitCsv(row);
  for (size_t i = 0; i < h.size(); ++i)
    if (h[i] == column) return i < r.size() ? r[i] : "(short row)";
  return "(no column " + column + ")";
}

// summary.json's per_class.CLASS.FIELD of a run folder, as written.
std::string PerClass(const std::string& run_dir, const std::string& klass,
                     const std::string& field) {
  const YAML::Node n = YAML::LoadFile(run_dir + "/summary.json")["per_class"][klass][field];
  return n.IsNull() ? "" : n.Scalar();
}

std::string SweepArgs(const std::string& out, int jobs) {
  return "sweep " + TinyFile() +
         " --vary protocol.piece_selection=rarest_first,random --seeds 2 --quiet --jobs " +
         std::to_string(jobs) + " --out " + out;
}

TEST(SimSweep, WritesOneFolderPerRunAndTheTable) {
  std::string out = Dir("j1"), err;
  ASSERT_EQ(Sim(SweepArgs(out, 1), nullptr, &err), 0) << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], kHeader);
  EXPECT_EQ(rows[1].rfind("protocol.piece_selection=rarest_first__seed=1,1,rarest_first,5,", 0),
            0u) << rows[1];
  EXPECT_EQ(rows[4].rfind("protocol.piece_selection=random__seed=2,2,random,5,", 0), 0u);
  for (const char* name :
       {"rarest_first__seed=1", "rarest_first__seed=2", "random__seed=1", "random__seed=2"}) {
    std::string dir = out + "/runs/protocol.piece_selection=" + std::string(name);
    for (const char* f : {"peers.csv", "timeline.csv", "summary.json", "scenario.yaml"})
      EXPECT_TRUE(fs::exists(dir + "/" + f)) << dir << "/" << f;
  }
  EXPECT_FALSE(fs::exists(out + "/logs"));  // logs of successful runs are removed

  // Row 4 holds exactly what an in-process run of the same scenario gives.
  auto parsed = LoadScenario(TinyFile(), {"protocol.piece_selection=random", "seed=2"});
  Scenario s = std::get<Scenario>(parsed);
  Summary sum = Summarize(s, Simulation(s).Run());
  char expect[512];
  std::snprintf(expect, sizeof expect, ",%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f", sum.completed,
                *sum.mean, *sum.median, *sum.p90, *sum.makespan_s, *sum.efficiency,
                sum.bounds.kumar_ross_s);
  // The piece-granular bound does not apply (the seed uploads faster than
  // the leechers): an empty cell, as summary.json's null.
  ASSERT_FALSE(sum.bounds.piece_granular_s);
  // Then the class's columns, copied from the run's summary.json.
  const std::string run = out + "/runs/protocol.piece_selection=random__seed=2";
  const std::string mean = PerClass(run, "leecher", "mean_completion_s");
  char class_mean[32];
  std::snprintf(class_mean, sizeof class_mean, "%.6f", *sum.mean);  // every leecher is of it
  EXPECT_EQ(mean, class_mean);
  // Empty piece_granular_s and piece_granular_is_bound; the swarm over the
  // whole run; no fluid model (a flash crowd).
  ASSERT_TRUE(sum.over_time);
  const auto& o = *sum.over_time;
  char over[512];
  std::snprintf(over, sizeof over, ",,,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,,,,", o.leechers, o.seeds,
                o.seeds_from_leechers, *o.upload_utilization, *o.availability_min,
                *o.lowest_availability_min, *o.availability_entropy);
  EXPECT_EQ(rows[4], "protocol.piece_selection=random__seed=2,2,random" + std::string(expect) +
                         over + "5,5," + mean + "," +
                         PerClass(run, "leecher", "median_completion_s") + "," +
                         PerClass(run, "leecher", "bytes_uploaded") + "," +
                         PerClass(run, "leecher", "bytes_downloaded") + "," +
                         PerClass(run, "leecher", "share_ratio"));
}

// sweep.csv had no piece_granular_s, though every summary.json carries it
// (null when it does not apply: one seed and equal uploads). It is now the
// last column; tables written before it are still tables (`sim merge
// --out` replaces them), and a summary.json without it gives an empty cell.
// A run stopped at stop.max_time keeps a mean over the leechers that
// finished, which reads shorter than the swarm's; the table gave it beside
// complete runs without a word. `sim sweep` and `sim merge` now say under
// the table how many runs stopped so, and which.
// A run stopped with pieces_lost (the seed gone before any leecher could
// complete) is cut short as one stopped at max_time is, and noted so.
TEST(SimSweep, RunsStoppedWithPiecesLostAreNotedUnderTheTable) {
  const std::string out = Dir("lost"), file = TinyFile();
  std::string stdout_text, err;
  ASSERT_EQ(Sim("sweep " + file + " --set 'peers.0.leave={at: 1us}' --vary stop.max_time=1h " +
                    "--seeds 1 --quiet --jobs 1 --out " + out,
                &stdout_text, &err),
            0)
      << err;
  const std::string note = "  note: 1 of 1 runs stopped with pieces_lost (no leecher could "
                           "complete any more) before every leecher finished "
                           "(stop.max_time=1h__seed=1: 0 of 5 completed)";
  EXPECT_NE(stdout_text.find(note), std::string::npos) << stdout_text;
}

TEST(SimSweep, RunsStoppedAtMaxTimeAreNotedUnderTheTable) {
  const std::string out = Dir("cut"), file = TinyFile();
  std::string stdout_text, err;
  ASSERT_EQ(Sim("sweep " + file + " --vary stop.max_time=3s,1h --seeds 1 --quiet --jobs 2 --out " +
                    out,
                &stdout_text, &err),
            0)
      << err;
  const std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  const std::string done = Cell(rows[0], rows[1], "completed");
  ASSERT_NE(done, "5") << rows[1];  // the 3 s run is cut short
  EXPECT_EQ(Cell(rows[0], rows[2], "completed"), "5") << rows[2];
  const std::string note = "  note: 1 of 2 runs stopped at stop.max_time before every leecher "
                           "finished (stop.max_time=3s__seed=1: " + done +
                           " of 5 completed): their download times count only the leechers "
                           "that finished, and they have no makespan\n";
  EXPECT_NE(stdout_text.find(note), std::string::npos) << stdout_text;
  ASSERT_EQ(Sim("merge " + out, &stdout_text, &err), 0) << err;
  EXPECT_NE(stdout_text.find(note), std::string::npos) << stdout_text;
  // A sweep of complete runs has no such note.
  const std::string whole = Dir("whole");
  ASSERT_EQ(Sim("sweep " + file + " --vary stop.max_time=1h --seeds 1 --quiet --out " + whole,
                &stdout_text, &err),
            0)
      << err;
  EXPECT_EQ(stdout_text.find("note:"), std::string::npos) << stdout_text;
}

// A scenario's `measure` window (summary.json's "measured") gives the
// table five columns of its own, last; runs without one add none (the
// header of kHeader above).
TEST(SimSweep, AMeasureWindowAddsItsColumns) {
  const std::string out = Dir("window"), file = TinyFile();
  std::string err;
  ASSERT_EQ(Sim("sweep " + file + " --set measure.joins_from=1s --vary protocol.piece_selection="
                "rarest_first --seeds 1 --quiet --out " + out,
                nullptr, &err),
            0)
      << err;
  const std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], kHeader + ",leechers_in_window,completed_in_window,"
                     "mean_completion_s_in_window,median_completion_s_in_window,"
                     "p90_completion_s_in_window");
  const YAML::Node w = YAML::LoadFile(out + "/runs/protocol.piece_selection=rarest_first__seed=1"
                                            "/summary.json")["measured"];
  ASSERT_TRUE(w);
  EXPECT_EQ(Cell(rows[0], rows[1], "leechers_in_window"), w["leechers"].Scalar());
  EXPECT_EQ(Cell(rows[0], rows[1], "completed_in_window"), w["completed"].Scalar());
  EXPECT_EQ(Cell(rows[0], rows[1], "mean_completion_s_in_window"),
            w["completion_time_s"]["mean"].Scalar());
  EXPECT_EQ(Cell(rows[0], rows[1], "p90_completion_s_in_window"),
            w["completion_time_s"]["p90"].Scalar());
  // Leechers join uniformly in [0 s, 2 s]: some of the 5, not all, from 1 s.
  const int in_window = std::stoi(w["leechers"].Scalar());
  EXPECT_GT(in_window, 0);
  EXPECT_LT(in_window, 5);
}

TEST(SimSweep, TableHasThePieceGranularBoundWhereItApplies) {
  const std::string out = Dir("piece_granular"), file = TinyFile();
  std::string err;
  ASSERT_EQ(Sim("sweep " + file + " --vary peers.0.upload=1Mbit/s,4Mbit/s --seeds 1 --quiet "
                "--jobs 2 --out " + out,
                nullptr, &err),
            0)
      << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[0].find(",piece_granular_s,piece_granular_is_bound,"), std::string::npos)
      << rows[0];
  // Equal uploads, but the leechers download 8 times faster: a reference.
  EXPECT_EQ(Cell(rows[0], rows[1], "piece_granular_is_bound"), "0") << rows[1];
  EXPECT_EQ(Cell(rows[0], rows[2], "piece_granular_is_bound"), "") << rows[2];
  auto parsed = LoadScenario(file, {"peers.0.upload=1Mbit/s"});
  const Scenario equal = std::get<Scenario>(parsed);
  const SimpleBounds b = ComputeSimpleBounds(equal);
  ASSERT_TRUE(b.piece_granular_s);
  char kr[32], pg[32];
  std::snprintf(kr, sizeof kr, "%.6f", b.kumar_ross_s);
  std::snprintf(pg, sizeof pg, "%.6f", *b.piece_granular_s);
  EXPECT_EQ(Cell(rows[0], rows[1], "kumar_ross_s"), kr) << rows[1];
  EXPECT_EQ(Cell(rows[0], rows[1], "piece_granular_s"), pg) << rows[1];
  const std::string summary = Read(out + "/runs/peers.0.upload=1Mbit%2Fs__seed=1/summary.json");
  EXPECT_NE(summary.find(std::string("\"piece_granular_s\": ") + pg), std::string::npos)
      << summary;
  EXPECT_EQ(Cell(rows[0], rows[2], "piece_granular_s"), "") << rows[2];  // 4Mbit/s seed

  // A table written before the column existed is replaced by a merge.
  const std::string old_table = TestFile(".old.csv");
  std::string old_header = "run,seed,peers.0.upload," + std::string(kMetricsHeader);
  old_header = old_header.substr(0, old_header.find(",piece_granular_s"));
  std::ofstream(old_table) << old_header << "\nx,1,rarest_first,5,1,1,1,1,1,1\n";
  ASSERT_TRUE(IsSweepTable(old_table));
  EXPECT_EQ(Sim("merge " + out + " --out " + old_table, nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(old_table)), rows);
  // A run folder whose summary.json lacks the field: an empty cell.
  const std::string path = out + "/runs/peers.0.upload=1Mbit%2Fs__seed=1/summary.json";
  std::string text = Read(path);
  const size_t at = text.find(", \"piece_granular_s\": ");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, text.find('}', at) - at);
  std::ofstream(path, std::ios::trunc) << text;
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 0) << err;
  rows = Lines(Read(out + "/sweep.csv"));
  EXPECT_EQ(Cell(rows[0], rows[1], "piece_granular_s"), "") << rows[1];
}

// summary.json's over_time, fluid model and per-class bytes are columns of
// the table, as written there; a run folder whose summary.json predates
// them merges with empty cells.
TEST(SimSweep, TableHasTheSwarmOverTimeTheFluidModelAndClassBytes) {
  const std::string out = Dir("over_time"), file = TinyFile();
  std::string err;
  ASSERT_EQ(Sim("sweep " + file + " --vary peers.1.count=4,6 --set "
                "'peers.1.arrival={poisson: {rate: 1/s}}' --set "
                "'peers.1.leave={after_complete: {exponential: 10s}}' --seeds 1 --quiet "
                "--jobs 2 --out " + out,
                nullptr, &err),
            0)
      << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "run,seed,peers.1.count," + std::string(kMetricsHeader) + "," + kClassHeader);
  const std::string run = out + "/runs/peers.1.count=6__seed=1";
  const YAML::Node s = YAML::LoadFile(run + "/summary.json");
  const std::pair<const char*, const char*> over[] = {
      {"leechers_time_avg", "leechers"},
      {"seeds_time_avg", "seeds"},
      {"seeds_from_leechers_time_avg", "seeds_from_leechers"},
      {"upload_utilization_time_avg", "upload_utilization"},
      {"availability_min_time_avg", "availability_min"},
      {"availability_min_lowest", "lowest_availability_min"},
      {"availability_entropy_time_avg", "availability_entropy"}};
  for (const auto& [column, field] : over) {
    EXPECT_EQ(Cell(rows[0], rows[2], column), s["over_time"][field].Scalar()) << column;
    EXPECT_NE(Cell(rows[0], rows[2], column), "") << column;
  }
  EXPECT_EQ(Cell(rows[0], rows[2], "fluid_x"), s["fluid_model"]["leechers"].Scalar());
  EXPECT_EQ(Cell(rows[0], rows[2], "fluid_y"), s["fluid_model"]["seeds"].Scalar());
  EXPECT_EQ(Cell(rows[0], rows[2], "fluid_download_time_s"),
            s["fluid_model"]["download_time_s"].Scalar());
  EXPECT_NE(Cell(rows[0], rows[2], "fluid_x"), "");
  for (const char* m : {"bytes_uploaded", "bytes_downloaded", "share_ratio"})
    EXPECT_EQ(Cell(rows[0], rows[2], std::string("leecher_") + m), PerClass(run, "leecher", m))
        << m;
  EXPECT_NE(Cell(rows[0], rows[2], "leecher_bytes_downloaded"), "0");

  // Without those fields (a summary.json of an older sim): empty cells.
  std::string text = Read(run + "/summary.json");
  const size_t at = text.find("  \"over_time\": ");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, text.find("  \"events\"") - at);
  std::ofstream(run + "/summary.json", std::ios::trunc) << text;
  ASSERT_EQ(Sim("merge " + out, nullptr, &err), 0) << err;
  std::vector<std::string> merged = Lines(Read(out + "/sweep.csv"));
  EXPECT_EQ(merged[0], rows[0]);
  EXPECT_EQ(merged[1], rows[1]);
  for (const auto& [column, field] : over)
    EXPECT_EQ(Cell(rows[0], merged[2], column), "") << column;
  EXPECT_EQ(Cell(rows[0], merged[2], "completed"), Cell(rows[0], rows[2], "completed"));
}

TEST(SimSweep, ResultsDoNotDependOnJobs) {
  std::string one = Dir("jobs1"), two = Dir("jobs2"), err;
  ASSERT_EQ(Sim(SweepArgs(one, 1), nullptr, &err), 0) << err;
  ASSERT_EQ(Sim(SweepArgs(two, 2), nullptr, &err), 0) << err;
  EXPECT_EQ(Read(one + "/sweep.csv"), Read(two + "/sweep.csv"));
  EXPECT_EQ(Lines(Read(one + "/sweep.csv")).size(), 5u);
  std::string run = "/runs/protocol.piece_selection=random__seed=1/peers.csv";
  EXPECT_EQ(Read(one + run), Read(two + run));
}

// Marks a run's summary.json so that a test can tell whether the run was
// made again: its wall_time_s, the one field that differs between
// identical runs, becomes 9999.999 (no real run of these takes that long).
const char* kMarkedWallTime = "\"wall_time_s\": 9999.999,";
void MarkWallTime(const std::string& summary) {
  std::string text = Read(summary);
  const size_t at = text.find("\"wall_time_s\": ");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, text.find(',', at) + 1 - at, kMarkedWallTime);
  std::ofstream(summary, std::ios::trunc) << text;
}

bool Marked(const std::string& summary) {
  return Read(summary).find(kMarkedWallTime) != std::string::npos;
}

TEST(SimSweep, ResumeRunsOnlyWhatIsMissing) {
  std::string out = Dir("resume"), err;
  ASSERT_EQ(Sim(SweepArgs(out, 2)), 0);
  std::string table = Read(out + "/sweep.csv");
  std::string runs = out + "/runs/protocol.piece_selection=";
  fs::remove_all(runs + "random__seed=1");
  MarkWallTime(runs + "rarest_first__seed=1/summary.json");
  ASSERT_EQ(Sim(SweepArgs(out, 2) + " --resume", nullptr, &err), 0) << err;
  EXPECT_TRUE(fs::exists(runs + "random__seed=1/summary.json"));
  EXPECT_TRUE(Marked(runs + "rarest_first__seed=1/summary.json"));
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
  ASSERT_EQ(Sim(SweepArgs(out, 2)), 0);  // without --resume everything runs again
  EXPECT_FALSE(Marked(runs + "rarest_first__seed=1/summary.json"));
}

// Replaces summary.json's "build" value, as if another commit had made the run.
void SetBuild(const std::string& summary, const std::string& build) {
  std::string text = Read(summary);
  const std::string key = "\"build\": \"";
  size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos) << text;
  at += key.size();
  text.replace(at, text.find('"', at) - at, build);
  std::ofstream(summary, std::ios::trunc) << text;
}

TEST(SimSweep, RunsOfAnotherBuildAreReportedAndResumedAgain) {
  std::string out = Dir("builds"), err, version;
  ASSERT_EQ(Sim("--version", &version), 0);
  ASSERT_EQ(Sim(SweepArgs(out, 2)), 0);
  std::string runs = out + "/runs/protocol.piece_selection=";
  // summary.json names the build that `sim --version` reports.
  const std::string summary = runs + "random__seed=1/summary.json";
  size_t at = version.find("(build ");
  ASSERT_NE(at, std::string::npos) << version;
  const std::string build = version.substr(at + 7, version.find(')', at) - at - 7);
  EXPECT_NE(Read(summary).find("\"build\": \"" + build + "\""), std::string::npos);
  // The project version is the same at every commit; the build is not.
  SetBuild(summary, "0123456789ab");
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("runs come from different builds (0.1.0 build 0123456789ab, 0.1.0 build " +
                     build + ")"),
            std::string::npos) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 5u);  // the table still has every run
  // --resume runs that one again with this build, and only that one.
  MarkWallTime(runs + "rarest_first__seed=1/summary.json");
  ASSERT_EQ(Sim(SweepArgs(out, 2) + " --resume", nullptr, &err), 0) << err;
  EXPECT_NE(Read(summary).find("\"build\": \"" + build + "\""), std::string::npos);
  EXPECT_TRUE(Marked(runs + "rarest_first__seed=1/summary.json"));
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 0) << err;
}

// Starts `sim ARGS...` as a shell starts a job (default signal actions,
// nothing blocked), output to `log`, without waiting for it.
pid_t StartSim(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {SIM_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The processes whose parent is `parent`, from /proc/PID/stat.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = Read(entry.path().string() + "/stat");  // "" if it is gone
    const size_t paren = stat.rfind(')');  // the command name may hold anything
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

// Whether process `pid` exists and its command line contains `text` (so a
// pid reused by another process does not count).
bool Running(pid_t pid, const std::string& text) {
  return Read("/proc/" + std::to_string(pid) + "/cmdline").find(text) != std::string::npos;
}

// Waits for child `pid` to end, up to `seconds`; true with its status.
bool WaitEnded(pid_t pid, int seconds, int* status) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    usleep(10000);
  }
  return false;
}

// A sweep told to stop (kill, Ctrl-C, a closed terminal) stops its runs
// too. They used to go on without it, adopted by init, and a following
// --resume raced with them for their folders.
TEST(SimSweep, AStopSignalStopsTheRunsToo) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    const std::string out = Dir("stopped_" + std::to_string(sig)), log = out + ".log";
    // Runs that would take minutes: the sweep is stopped in the middle.
    pid_t sweep = StartSim({"sweep", TinyFile(), "--set", "file.size=1GiB", "--set",
                            "peers.1.count=300", "--vary",
                            "protocol.piece_selection=rarest_first,random", "--seeds", "1",
                            "--jobs", "2", "--quiet", "--out", out},
                           log);
    ASSERT_GT(sweep, 0);
    std::vector<pid_t> runs;
    for (int i = 0; i < 6000 && runs.size() < 2; ++i) {  // up to a minute
      runs = ChildrenOf(sweep);
      if (runs.size() < 2) usleep(10000);
    }
    EXPECT_EQ(runs.size(), 2u) << Read(log);
    kill(sweep, sig);
    int status = 0;
    if (!WaitEnded(sweep, 120, &status)) {
      kill(sweep, SIGKILL);
      waitpid(sweep, &status, 0);
      ADD_FAILURE() << "the sweep did not end within 2 minutes of the signal";
    }
    // Ended by the signal itself, as a shell expects: $? is 128 + N.
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status << "\n" << Read(log);
    EXPECT_NE(Read(log).find("sim sweep: stopped by SIG"), std::string::npos) << Read(log);
    for (pid_t run : runs) {
      EXPECT_FALSE(Running(run, out)) << "run " << run << " is still running";
      if (Running(run, out)) kill(run, SIGKILL);  // an orphan of this test: clean up
    }
    EXPECT_FALSE(fs::exists(out + "/logs"));  // stopped runs did not fail
  }
}

TEST(SimSweep, EmitJobsPrintsCommandsAndRunsNothing) {
  std::string out = Dir("emit"), stdout_text, err;
  ASSERT_EQ(Sim(SweepArgs(out, 1) + " --emit-jobs", &stdout_text, &err), 0) << err;
  std::vector<std::string> lines = Lines(stdout_text);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], ShellCommand(SIM_BINARY, {"run", TinyFile(), "--seed", "1", "--set",
                                                 "protocol.piece_selection=rarest_first", "--out",
                                                 out + "/runs/protocol.piece_selection="
                                                       "rarest_first__seed=1",
                                                 "--quiet"}));
  EXPECT_EQ(Read(out + "/jobs.txt"), stdout_text);
  EXPECT_FALSE(fs::exists(out + "/runs"));
  EXPECT_NE(err.find("merge " + out), std::string::npos) << err;
}

// --emit-jobs into a folder that held a sweep rewrote its manifest without
// a check: the runs of the old sweep (other values, or an edited scenario)
// stayed under runs/ and a merge took them for the new sweep's. Now only
// the same sweep may be emitted again; --resume extends one whose finished
// runs are still runs of this command, and prints only what is missing.
TEST(SimSweep, EmitJobsIntoAnotherSweepIsRefused) {
  const std::string file = TestFile(".emit.yaml"), out = Dir("emit_again");
  std::ofstream(file) << kTiny;
  const std::string args = "sweep " + file + " --vary peers.1.count=3,4 --quiet --out " + out;
  std::string jobs, err;
  ASSERT_EQ(Sim(args + " --seeds 1 --emit-jobs", &jobs, &err), 0) << err;
  const std::string manifest = Read(out + "/sweep.yaml");
  // The same sweep again: fine, the same commands.
  std::string again;
  ASSERT_EQ(Sim(args + " --seeds 1 --emit-jobs", &again, &err), 0) << err;
  EXPECT_EQ(again, jobs);
  // Other values, other seeds, other --set: another sweep. Nothing written.
  for (const std::string& other :
       {"sweep " + file + " --vary peers.1.count=3,5 --quiet --out " + out + " --seeds 1",
        args + " --seeds 2", args + " --seeds 1 --set peers.1.upload=2Mbit/s"}) {
    EXPECT_EQ(Sim(other + " --emit-jobs", nullptr, &err), 2) << other;
    EXPECT_NE(err.find("--emit-jobs --out " + out + ": holds another sweep"),
              std::string::npos) << err;
    EXPECT_EQ(Read(out + "/sweep.yaml"), manifest);
  }
  // One job done, then the scenario edited: its run is of another
  // experiment, with or without --resume.
  ASSERT_EQ(std::system((Lines(jobs)[0] + " >/dev/null").c_str()), 0);
  std::string edited = kTiny;
  edited.replace(edited.find("size: 2MiB"), 10, "size: 4MiB");
  std::ofstream(file, std::ios::trunc) << edited;
  for (const char* resume : {"", " --resume"}) {
    EXPECT_EQ(Sim(args + " --seeds 1 --emit-jobs" + resume, nullptr, &err), 2) << resume;
    EXPECT_NE(err.find(out + "/runs/peers.1.count=3__seed=1: made from another scenario"),
              std::string::npos) << err;
    EXPECT_NE(err.find("file.size"), std::string::npos) << err;
    EXPECT_EQ(Read(out + "/sweep.yaml"), manifest);
  }
  // As it was, with --resume and a second seed: the three runs not done.
  std::ofstream(file, std::ios::trunc) << kTiny;
  ASSERT_EQ(Sim(args + " --seeds 2 --emit-jobs --resume", &again, &err), 0) << err;
  EXPECT_EQ(Lines(again).size(), 3u) << again;
  EXPECT_EQ(again.find("count=3__seed=1"), std::string::npos) << again;
  EXPECT_EQ(Lines(Read(out + "/jobs.txt")).size(), 4u);
  EXPECT_NE(err.find("(1 already done; " + out + "/jobs.txt has all 4)"), std::string::npos) << err;
}

TEST(SimSweep, APlainSweepIntoAnotherSweepIsRefused) {
  const std::string file = TestFile(".plain.yaml"), out = Dir("plain_again");
  std::ofstream(file) << kTiny;
  const std::string args = "sweep " + file + " --vary peers.1.count=3,4 --quiet --out " + out;
  std::string err;
  ASSERT_EQ(Sim(args + " --seeds 1", nullptr, &err), 0) << err;
  const std::string manifest = Read(out + "/sweep.yaml"), table = Read(out + "/sweep.csv");
  ASSERT_FALSE(table.empty());
  // Other values, other seeds, other --set: another sweep, whose table
  // stays as it was; nothing is run or written.
  for (const std::string& other :
       {"sweep " + file + " --vary peers.1.count=3,5 --quiet --out " + out + " --seeds 1",
        args + " --seeds 2", args + " --seeds 1 --set peers.1.upload=2Mbit/s"}) {
    EXPECT_EQ(Sim(other, nullptr, &err), 2) << other;
    EXPECT_NE(err.find("--out " + out + ": holds another sweep ("), std::string::npos) << err;
    EXPECT_NE(err.find("would replace its table"), std::string::npos) << err;
    EXPECT_EQ(Read(out + "/sweep.yaml"), manifest);
    EXPECT_EQ(Read(out + "/sweep.csv"), table);
    EXPECT_FALSE(fs::exists(out + "/runs/peers.1.count=5__seed=1")) << other;
    EXPECT_FALSE(fs::exists(out + "/runs/peers.1.count=3__seed=2")) << other;
  }
  // The same sweep again is made again, into its own folder: the same table.
  ASSERT_EQ(Sim(args + " --seeds 1", nullptr, &err), 0) << err;
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
  // --resume may extend it (its finished runs are runs of this command).
  ASSERT_EQ(Sim(args + " --seeds 2 --resume", nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 5u);
}

TEST(SimMerge, FoldersMadeElsewhereGiveTheSameTable) {
  std::string local = Dir("merge_local"), remote = Dir("merge_remote"), out, err;
  ASSERT_EQ(Sim(SweepArgs(local, 2), nullptr, &err), 0) << err;
  ASSERT_EQ(Sim(SweepArgs(remote, 1) + " --emit-jobs", &out, &err), 0) << err;
  // "Other machines": every line run on its own, in reverse order.
  std::vector<std::string> jobs = Lines(out);
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it)
    ASSERT_EQ(std::system((*it + " >/dev/null").c_str()), 0) << *it;
  ASSERT_EQ(Sim("merge " + remote, &out, &err), 0) << err;
  EXPECT_EQ(Read(remote + "/sweep.csv"), Read(local + "/sweep.csv"));
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
}

TEST(SimMerge, SeveralSweepFoldersConcatenate) {
  std::string a = Dir("part_a"), b = Dir("part_b"), err;
  std::string base = "sweep " + TinyFile() +
                     " --vary protocol.piece_selection=rarest_first,random --seeds 1 --quiet";
  ASSERT_EQ(Sim(base + " --out " + a), 0);
  ASSERT_EQ(Sim(base + " --seed-base 2 --out " + b), 0);
  std::string merged = Dir("part_merged") + ".csv";
  EXPECT_EQ(Sim("merge " + a + " " + b, nullptr, &err), 2);
  EXPECT_NE(err.find("--out"), std::string::npos);
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + merged, nullptr, &err), 0) << err;
  std::vector<std::string> rows = Lines(Read(merged));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], kHeader);
  EXPECT_EQ(rows[1].substr(0, rows[1].find(',')),
            "protocol.piece_selection=rarest_first__seed=1");
  EXPECT_EQ(rows[3].substr(0, rows[3].find(',')),
            "protocol.piece_selection=rarest_first__seed=2");
  // The same folder twice is read once.
  EXPECT_EQ(Sim("merge " + a + " " + a + " --out " + merged, nullptr, &err), 0) << err;
  EXPECT_NE(err.find(a + ": given twice; read once"), std::string::npos) << err;
  EXPECT_EQ(Lines(Read(merged)).size(), 3u);
}

// A table merged to a file of its own had no manifest beside it, so
// plot_sweep.py could not name the scenario and the fixed --set values of
// its runs. It now gets FILE.sweep.yaml; a sweep folder's own sweep.csv
// still has only the folder's sweep.yaml.
TEST(SimMerge, AMergedTableGetsAManifestOfItsOwn) {
  std::string a = Dir("mf_a"), b = Dir("mf_b"), err, out;
  std::string scenario = TinyFile();
  std::string base = "sweep " + scenario + " --set peers.1.count=4" +
                     " --vary protocol.piece_selection=rarest_first,random --seeds 1 --quiet";
  ASSERT_EQ(Sim(base + " --out " + a), 0);
  ASSERT_EQ(Sim(base + " --seed-base 2 --out " + b), 0);
  EXPECT_FALSE(fs::exists(a + "/sweep.sweep.yaml"));
  std::string dir = Dir("mf_m"), table = dir + "/t.csv";
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + table, &out, &err), 0) << err;
  EXPECT_EQ(MergedManifestPath(table), dir + "/t.sweep.yaml");
  EXPECT_NE(out.find("its manifest   " + dir + "/t.sweep.yaml"), std::string::npos) << out;
  YAML::Node m = YAML::LoadFile(dir + "/t.sweep.yaml");
  EXPECT_EQ(m["scenario"].as<std::string>(), scenario);
  EXPECT_EQ(m["params"].as<std::vector<std::string>>(),
            std::vector<std::string>{"protocol.piece_selection"});
  EXPECT_EQ(m["sets"].as<std::vector<std::string>>(),
            std::vector<std::string>{"peers.1.count=4"});
  EXPECT_EQ(m["merged"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"../mf_a", "../mf_b"}));
  // Every row of the table, in its order, with a folder that leads to the
  // run from where the table is.
  std::vector<std::string> rows = Lines(Read(table));
  ASSERT_EQ(rows.size(), 5u);
  ASSERT_EQ(m["runs"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const YAML::Node& r = m["runs"][i];
    std::string name = r["run"].as<std::string>();
    EXPECT_EQ(rows[i + 1].substr(0, rows[i + 1].find(',')), name);
    EXPECT_TRUE(fs::equivalent(dir + "/" + r["folder"].as<std::string>(),
                               (i < 2 ? a : b) + "/runs/" + name));
    EXPECT_EQ(r["seed"].as<uint64_t>(), i < 2 ? 1u : 2u);
    EXPECT_NE(r["command"].as<std::string>().find("--set peers.1.count=4"), std::string::npos);
  }
  // A single folder merged into its own sweep.csv, by default or by name:
  // no second manifest.
  ASSERT_EQ(Sim("merge " + a, &out, &err), 0) << err;
  ASSERT_EQ(Sim("merge " + a + " --out " + a + "/sweep.csv", &out, &err), 0) << err;
  EXPECT_EQ(out.find("its manifest"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(a + "/sweep.sweep.yaml"));
  // ... but merged elsewhere it is a table of its own.
  ASSERT_EQ(Sim("merge " + a + " --out " + dir + "/a_only.csv", &out, &err), 0) << err;
  EXPECT_EQ(YAML::LoadFile(dir + "/a_only.sweep.yaml")["runs"].size(), 2u);
}

// Two sweeps varying the same field over different experiments (here other
// --set values) used to merge into one table without a word.
TEST(SimMerge, SweepsOfDifferentExperimentsAreRefused) {
  std::string a = Dir("exp_a"), b = Dir("exp_b"), err;
  std::string base = "sweep " + TinyFile() +
                     " --vary protocol.piece_selection=rarest_first,random --seeds 1 --quiet";
  ASSERT_EQ(Sim(base + " --out " + a), 0);
  ASSERT_EQ(Sim(base + " --seed-base 2 --set peers.1.count=3 --out " + b), 0);
  std::string merged = Dir("exp_merged") + "/new/table.csv";
  EXPECT_EQ(Sim("merge " + a + " " + b + " --out " + merged, nullptr, &err), 2);
  EXPECT_NE(err.find("is a different experiment from those in " + a), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(merged));
  EXPECT_FALSE(fs::exists(MergedManifestPath(merged)));
  // Also when every run of the other experiment has a name already merged
  // (same values and seed): it was kept out as a "duplicate" and the merge
  // went on.
  std::string d = Dir("exp_d");
  ASSERT_EQ(Sim(base + " --set peers.1.count=3 --out " + d), 0);
  EXPECT_EQ(Sim("merge " + a + " " + d + " --out " + merged, nullptr, &err), 2);
  EXPECT_NE(err.find("is a different experiment from those in " + a), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(merged));
  // The same experiment merges, into a folder that did not exist yet.
  std::string c = Dir("exp_c");
  ASSERT_EQ(Sim(base + " --seed-base 3 --out " + c), 0);
  EXPECT_EQ(Sim("merge " + a + " " + c + " --out " + merged, nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(merged)).size(), 5u);
}

// Two sweeps of one grid, one made with --vary a --vary b and the other with
// --vary b --vary a, were refused as varying "different fields". The table
// now follows the first folder's order: its columns, its runs' names and
// values; each run's folder and command stay those of the folder it is in.
TEST(SimMerge, TheSameFieldsVariedInAnotherOrderMerge) {
  const std::string a = Dir("order_a"), b = Dir("order_b"), c = Dir("order_c");
  const std::string file = TinyFile(), ps = " --vary protocol.piece_selection=rarest_first,random",
                    count = " --vary peers.1.count=3,4", tail = " --seeds 1 --quiet --out ";
  std::string out, err;
  ASSERT_EQ(Sim("sweep " + file + ps + count + tail + a, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim("sweep " + file + count + ps + " --seed-base 2" + tail + b, nullptr, &err), 0)
      << err;
  const std::string dir = Dir("order_t"), table = dir + "/t.csv";
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + table, &out, &err), 0) << err;
  EXPECT_NE(out.find("(8 of 8 runs)"), std::string::npos) << out;
  std::vector<std::string> rows = Lines(Read(table));
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows[0].substr(0, rows[0].find(",completed")),
            "run,seed,protocol.piece_selection,peers.1.count");
  // b's first run (count 3, rarest_first), named and valued in a's order,
  // with its results as b's own table has them.
  const std::string in_b = "peers.1.count=3__protocol.piece_selection=rarest_first__seed=2";
  const std::string as_a = "protocol.piece_selection=rarest_first__peers.1.count=3__seed=2";
  const std::string b_row = Lines(Read(b + "/sweep.csv"))[1];
  ASSERT_EQ(b_row.substr(0, b_row.find(',')), in_b);
  const std::string results = b_row.substr(b_row.find(",3,rarest_first,") + 16);
  EXPECT_EQ(rows[5], as_a + ",2,rarest_first,3," + results);
  YAML::Node m = YAML::LoadFile(MergedManifestPath(table));
  EXPECT_EQ(m["params"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"protocol.piece_selection", "peers.1.count"}));
  const YAML::Node& r = m["runs"][4];
  EXPECT_EQ(r["run"].as<std::string>(), as_a);
  EXPECT_EQ(r["values"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"rarest_first", "3"}));
  EXPECT_TRUE(fs::equivalent(dir + "/" + r["folder"].as<std::string>(), b + "/runs/" + in_b));
  // Its command is b's: run from the table's folder, it writes the same
  // folder with the same --set order.
  const std::string command = r["command"].as<std::string>();
  EXPECT_NE(command.find("--set peers.1.count=3 --set protocol.piece_selection=rarest_first "
                         "--out ../order_b/runs/" + in_b + " "),
            std::string::npos) << command;
  // Merged the other way round, the table follows b's order.
  ASSERT_EQ(Sim("merge " + b + " " + a + " --out " + table, &out, &err), 0) << err;
  rows = Lines(Read(table));
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows[0].substr(0, rows[0].find(",completed")),
            "run,seed,peers.1.count,protocol.piece_selection");
  EXPECT_EQ(rows[1], b_row);
  // The same runs made in the other order are copies of one run: the
  // results agree, and each is counted once.
  ASSERT_EQ(Sim("sweep " + file + count + ps + tail + c, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim("merge " + a + " " + c + " --out " + table, &out, &err), 0) << err;
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
  EXPECT_NE(err.find("4 runs are in more than one folder, alike in each"), std::string::npos)
      << err;
  EXPECT_EQ(Read(table), Read(a + "/sweep.csv"));
  // Other fields are still refused, saying what each folder varies.
  const std::string d = Dir("order_d");
  ASSERT_EQ(Sim("sweep " + file + ps + tail + d, nullptr, &err), 0) << err;
  EXPECT_EQ(Sim("merge " + a + " " + d + " --out " + table, nullptr, &err), 2) << err;
  EXPECT_NE(err.find(d + ": varies different fields than " + a +
                     " (protocol.piece_selection there, protocol.piece_selection, "
                     "peers.1.count in " + a + ")"),
            std::string::npos) << err;
  EXPECT_NE(err.find("--vary peers.1.count=VALUE"), std::string::npos) << err;
}

// Two sweeps of one scenario file, edited between them in a field neither
// varies (file.size): the message said "another scenario file or other
// --set values" and named no field. It now names both folders, the run and
// the field, with the value in each, as --resume does.
TEST(SimMerge, AScenarioEditedBetweenSweepsIsRefusedNamingTheField) {
  const std::string file = TestFile(".edited.yaml"), a = Dir("edit_a"), b = Dir("edit_b");
  std::ofstream(file) << kTiny;
  const std::string base = "sweep " + file +
                           " --vary protocol.piece_selection=rarest_first,random --seeds 1 "
                           "--quiet --jobs 2";
  std::string err;
  ASSERT_EQ(Sim(base + " --out " + a, nullptr, &err), 0) << err;
  std::string edited = kTiny;
  edited.replace(edited.find("size: 2MiB"), 10, "size: 4MiB");
  std::ofstream(file, std::ios::trunc) << edited;
  ASSERT_EQ(Sim(base + " --seed-base 2 --out " + b, nullptr, &err), 0) << err;
  const std::string merged = Dir("edit_m") + "/t.csv";
  EXPECT_EQ(Sim("merge " + a + " " + b + " --out " + merged, nullptr, &err), 2) << err;
  EXPECT_NE(err.find(b + ": run protocol.piece_selection=rarest_first__seed=2 is a different "
                         "experiment from those in " + a),
            std::string::npos) << err;
  EXPECT_NE(err.find("file.size: \"4MiB\" in this run, \"2MiB\" in " + a +
                     "/runs/protocol.piece_selection=rarest_first__seed=1"),
            std::string::npos) << err;
  EXPECT_FALSE(fs::exists(merged));
  // Within one folder too: a run redone after the edit.
  ASSERT_EQ(Sim("run " + file + " --seed 1 --set protocol.piece_selection=random --out " + a +
                    "/runs/protocol.piece_selection=random__seed=1 --quiet",
                nullptr, &err), 0) << err;
  EXPECT_EQ(Sim("merge " + a, nullptr, &err), 2) << err;
  EXPECT_NE(err.find("file.size: \"4MiB\" in this run, \"2MiB\" in " + a), std::string::npos) << err;
}

// A class with its own protocol settings inherits the scenario's others;
// varying one of those is still one experiment (the class's copy follows).
TEST(SimMerge, AClassProtocolFollowsTheVariedSetting) {
  std::string out = Dir("class_protocol"), err;
  ASSERT_EQ(Sim("sweep " + TinyFile() + " --set 'peers.1.protocol={request_pipeline: 4}'" +
                    " --vary protocol.unchoke_slots=3,4 --seeds 1 --quiet --out " + out,
                nullptr, &err),
            0) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 3u);
  // The class's block lists only what differs from the scenario's.
  const std::string resolved = Read(out + "/runs/protocol.unchoke_slots=3__seed=1/scenario.yaml");
  EXPECT_NE(resolved.find("protocol:\n      request_pipeline: 4"), std::string::npos) << resolved;
}

TEST(SimSweep, SeedsMustBeWholeNumbersThatFit) {
  std::string err;
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --seeds 2 --seed-base 18446744073709551615 --quiet "
                "--out " + Dir("seed_overflow"), nullptr, &err), 2);
  EXPECT_NE(err.find("runs past the largest seed"), std::string::npos) << err;
  EXPECT_EQ(Sim("run " + TinyFile() + " --seed -1 --out " + Dir("seed_neg"), nullptr, &err), 2);
  EXPECT_NE(err.find("'-1' is not a non-negative whole number"), std::string::npos) << err;
  EXPECT_EQ(Sim("run " + TinyFile() + " --seed 18446744073709551616 --out " + Dir("seed_big"),
                nullptr, &err), 2);
  EXPECT_NE(err.find("not a whole number below 2^64"), std::string::npos) << err;
  // --seeds counts seeds in 32 bits; CLI11 alone said only "Could not convert".
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --seeds 5000000000 --emit-jobs", nullptr, &err), 2);
  EXPECT_NE(err.find("--seeds: '5000000000' is not a whole number below 2^32"), std::string::npos)
      << err;
}

TEST(SimMerge, MissingAndForeignRunsAreReportedWithTheirCommand) {
  std::string out = Dir("holes"), err;
  ASSERT_EQ(Sim(SweepArgs(out, 2)), 0);
  std::string runs = out + "/runs/protocol.piece_selection=";
  fs::remove_all(runs + "random__seed=1");
  // A folder of another run copied over this one (wrong seed and values).
  fs::remove_all(runs + "random__seed=2");
  fs::copy(runs + "rarest_first__seed=1", runs + "random__seed=2");
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("random__seed=1/summary.json: missing"), std::string::npos) << err;
  EXPECT_NE(err.find("redo: "), std::string::npos) << err;
  EXPECT_NE(err.find("--set protocol.piece_selection=random --out"), std::string::npos) << err;
  EXPECT_NE(err.find("random__seed=2/scenario.yaml: was not made with this run's"),
            std::string::npos) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 3u);
  // A folder written by another version of sim (here: without a field this
  // one writes) is refused as such, not as a foreign run.
  const std::string own = runs + "rarest_first__seed=1/scenario.yaml";
  const std::string original = Read(own);
  std::string older;
  for (const std::string& line : Lines(original))
    if (line.find("connectable:") == std::string::npos) older += line + "\n";
  ASSERT_NE(older, original);
  std::ofstream(own, std::ios::trunc) << older;
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("rarest_first__seed=1/scenario.yaml: written by another version of sim"),
            std::string::npos) << err;
  std::ofstream(own, std::ios::trunc) << original;
  // A run copied back in part (no timeline.csv) is not complete either,
  // and --resume runs it again.
  fs::remove(runs + "rarest_first__seed=2/timeline.csv");
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("rarest_first__seed=2/timeline.csv: missing"), std::string::npos) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 2u);
  fs::remove_all(runs + "random__seed=2");
  ASSERT_EQ(Sim(SweepArgs(out, 2) + " --resume", nullptr, &err), 0) << err;
  EXPECT_TRUE(fs::exists(runs + "rarest_first__seed=2/timeline.csv"));
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 5u);
  EXPECT_EQ(Sim("merge " + Dir("nothing_here"), nullptr, &err), 2);
  EXPECT_NE(err.find("sweep.yaml"), std::string::npos) << err;
}


// A sweep folder copied elsewhere (as from another machine) keeps in
// sweep.yaml the commands of the place it was made; the redo commands of
// `sim merge` used to write there instead of into the folder merged.
TEST(SimMerge, ACopiedSweepFolderIsRedoneWhereItIsNow) {
  std::string made = Dir("made_here"), copy = Dir("copied_there"), err, out;
  ASSERT_EQ(Sim(SweepArgs(made, 2), nullptr, &err), 0) << err;
  fs::copy(made, copy, fs::copy_options::recursive);
  const std::string run = "/runs/protocol.piece_selection=random__seed=1";
  fs::remove(copy + run + "/summary.json");
  fs::remove_all(made + run);
  EXPECT_EQ(Sim("merge " + copy, nullptr, &err), 1);
  const std::string redo = RedoLine(err);
  EXPECT_EQ(redo, ShellCommand(SIM_BINARY, {"run", TinyFile(), "--seed", "1", "--set",
                                             "protocol.piece_selection=random", "--out",
                                             copy + run, "--quiet"})) << err;
  ASSERT_EQ(std::system((redo + " >/dev/null").c_str()), 0) << redo;
  EXPECT_FALSE(fs::exists(made + run));
  ASSERT_EQ(Sim("merge " + copy + " --out " + copy + "/t.csv", &out, &err), 0) << err;
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
  // The table's manifest gives every run the command that makes it there
  // (run from the table's folder, here the copy).
  for (const YAML::Node& r : YAML::LoadFile(copy + "/t.sweep.yaml")["runs"])
    EXPECT_NE(r["command"].as<std::string>().find(" --out ./runs/"), std::string::npos)
        << r["command"];
}

// A sweep made with a relative scenario path, merged from another folder
// (here: the results folder inside the project): the redo command used to
// name the scenario as typed, which that folder does not have.
TEST(SimMerge, ARedoCommandFromAnotherFolderNamesTheScenarioTheSweepUsed) {
  const std::string project = Dir("project"), sim = QuotedSim();
  std::string err;
  fs::create_directories(project + "/scen");
  std::ofstream(project + "/scen/tiny.yaml") << kTiny;
  ASSERT_EQ(SimAs("cd " + project + " && " + sim,
                  "sweep scen/tiny.yaml --vary protocol.piece_selection=rarest_first,random "
                  "--seeds 2 --quiet --out results/sw",
                  nullptr, &err),
            0) << err;
  const std::string run = "/runs/protocol.piece_selection=random__seed=1";
  fs::remove(project + "/results/sw" + run + "/summary.json");
  EXPECT_EQ(SimAs("cd " + project + "/results && " + sim, "merge sw", nullptr, &err), 1);
  const std::string redo = RedoLine(err);
  EXPECT_EQ(redo, sim + " run " + fs::canonical(project + "/scen/tiny.yaml").string() +
                      " --seed 1 --set protocol.piece_selection=random --out sw" + run +
                      " --quiet") << err;
  ASSERT_EQ(std::system(("cd " + project + "/results && " + redo + " >/dev/null").c_str()), 0);
  EXPECT_EQ(SimAs("cd " + project + "/results && " + sim, "merge sw", nullptr, &err), 0) << err;
  // From the folder the sweep ran in, the path stays as typed.
  fs::remove(project + "/results/sw" + run + "/summary.json");
  EXPECT_EQ(SimAs("cd " + project + " && " + sim, "merge results/sw", nullptr, &err), 1);
  EXPECT_NE(RedoLine(err).find(" run scen/tiny.yaml "), std::string::npos) << err;
}

// summary.json records the size of each CSV file beside it; a run whose
// peers.csv or timeline.csv was cut short (an interrupted copy, a full
// disk) passed for complete, in `sim merge` and in --resume.
TEST(SimMerge, ACutShortCsvFileIsAnUnfinishedRun) {
  std::string out = Dir("cut_short"), err;
  ASSERT_EQ(Sim(SweepArgs(out, 2), nullptr, &err), 0) << err;
  const std::string runs = out + "/runs/protocol.piece_selection=";
  for (const char* run : {"random__seed=1", "rarest_first__seed=2"}) {
    const std::string dir = runs + run;
    YAML::Node sizes = YAML::LoadFile(dir + "/summary.json")["csv_bytes"];
    EXPECT_EQ(sizes["peers.csv"].as<uint64_t>(), fs::file_size(dir + "/peers.csv"));
    EXPECT_EQ(sizes["timeline.csv"].as<uint64_t>(), fs::file_size(dir + "/timeline.csv"));
  }
  fs::resize_file(runs + "random__seed=1/peers.csv", 100);
  fs::resize_file(runs + "rarest_first__seed=2/timeline.csv", 100);
  MarkWallTime(runs + "rarest_first__seed=1/summary.json");
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("random__seed=1/peers.csv: 100 bytes, but "), std::string::npos) << err;
  EXPECT_NE(err.find("rarest_first__seed=2/timeline.csv: 100 bytes, but "), std::string::npos)
      << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 3u);
  // --resume makes those two again, and only those.
  ASSERT_EQ(Sim(SweepArgs(out, 2) + " --resume", nullptr, &err), 0) << err;
  EXPECT_GT(fs::file_size(runs + "random__seed=1/peers.csv"), 100u);
  EXPECT_GT(fs::file_size(runs + "rarest_first__seed=2/timeline.csv"), 100u);
  EXPECT_TRUE(Marked(runs + "rarest_first__seed=1/summary.json"));
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 5u);
}

// `sim run --plot` (here rather than in a file of its own: it needs the
// binary and Sim()). The plot script is called through the shell, so the
// folder name must be quoted whatever it holds.
TEST(SimRunPlot, FolderNameWithQuoteAndSpaceIsPlotted) {
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib for /usr/bin/python3";
  std::string out = Dir("plot") + "/it's a run", text, err;
  ASSERT_EQ(Sim("run " + TinyFile() + " --quiet --plot --out \"" + out + "\"", &text, &err), 0)
      << err;
  EXPECT_TRUE(fs::exists(out + "/overview.png")) << err;
  // Into a file or pipe too, the summary comes first, then the plots.
  EXPECT_LT(text.find("  results"), text.find("plots: ")) << text;
  EXPECT_EQ(err.find("failed"), std::string::npos) << err;
}

// With --trace, --plot also draws the piece map, from the whole trace
// (the trace file is complete before the script reads it).
TEST(SimRunPlot, ATraceAddsThePieceMap) {
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib for /usr/bin/python3";
  std::string out = Dir("plot_trace"), trace = Dir("plot_trace_log") + "/t.log", text, err;
  ASSERT_EQ(Sim("run " + TinyFile() + " --quiet --plot --out " + out + " --trace " + trace,
                &text, &err), 0)
      << err;
  EXPECT_TRUE(fs::exists(out + "/pieces.png")) << err;
  EXPECT_NE(text.find("plot: " + out + "/pieces.png"), std::string::npos) << text;
  EXPECT_EQ(err, "");
}

TEST(SimRunPlot, FailedPlotIsANonZeroExit) {
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib for /usr/bin/python3";
  std::string out = Dir("plot_fails"), err;
  fs::create_directories(out + "/overview.png");  // cannot be written as a file
  EXPECT_EQ(Sim("run " + TinyFile() + " --quiet --plot --out " + out, nullptr, &err), 1);
  EXPECT_NE(err.find("--plot: "), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(out + "/summary.json"));  // the results are there
}

TEST(SimSweep, BadInputExitsTwoBeforeRunningAnything) {
  std::string out = Dir("bad"), err;
  std::string head = "sweep " + TinyFile() + " --seeds 1 --out " + out;
  EXPECT_EQ(Sim(head + " --vary protocol.piece_selection", nullptr, &err), 2);
  EXPECT_EQ(err, "--vary 'protocol.piece_selection': expected KEY=V1,V2,... (e.g. --vary "
                 "protocol.piece_selection=rarest_first,random)\n");
  EXPECT_EQ(Sim(head + " --vary protocol.piece_selection=random,", nullptr, &err), 2);
  EXPECT_EQ(Sim(head + " --vary protocol.piece_selectio=random", nullptr, &err), 2);
  EXPECT_NE(err.find("--vary protocol.piece_selectio=random: field 'protocol.piece_selectio'"),
            std::string::npos) << err;
  EXPECT_EQ(Sim(head + " --vary protocol.piece_selection=random --plot x:speed", nullptr, &err),
            2);
  EXPECT_NE(err.find("unknown metric 'speed'"), std::string::npos) << err;
  EXPECT_EQ(Sim(head + " --vary protocol.piece_selection=random --plot "
                       "protocol.choker:makespan_s", nullptr, &err), 2);
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --vary protocol.piece_selection=random", nullptr,
                &err), 2);  // --seeds is required
  // --jobs 0 quietly meant the default; xargs -P 0 means "no limit".
  EXPECT_EQ(Sim(head + " --jobs 0", nullptr, &err), 2);
  EXPECT_NE(err.find("--jobs: '0': at least 1 run at a time (leave --jobs out for one per core)"),
            std::string::npos) << err;
  EXPECT_EQ(Sim(head + " --jobs -1", nullptr, &err), 2);
  EXPECT_NE(err.find("--jobs: '-1' is not a non-negative whole number"), std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(out));
}

// Runs at once are limited so that their estimated memory fits together.
TEST(JobsThatFit, AsManyAsFitAtLeastOneAtMostAsked) {
  EXPECT_EQ(JobsThatFit(8, 1e9, 24e9), 8u);
  EXPECT_EQ(JobsThatFit(8, 5e9, 24e9), 4u);
  EXPECT_EQ(JobsThatFit(8, 24e9, 24e9), 1u);
  EXPECT_EQ(JobsThatFit(8, 30e9, 24e9), 1u);  // sim run refuses it, not the sweep's planner
  EXPECT_EQ(JobsThatFit(8, 0, 24e9), 8u);     // unknown: as asked
  EXPECT_EQ(JobsThatFit(8, 1e9, 0), 8u);
}

// A sweep whose largest run could not fit in this machine's memory (every
// `sim run` of it would be refused) is refused before anything is written.
// Writes `text` to ROOT/PATH, making the folders on the way.
void Put(const std::string& root, const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(root + "/" + path).parent_path());
  std::ofstream(root + "/" + path, std::ios::trunc) << text;
}

// The memory check compared with the physical memory only, which a
// container or a systemd slice may not have: the smallest cgroup limit, up
// the tree, now counts too. Here with fake /proc and /sys under a folder.
TEST(CgroupMemoryLimit, TheSmallestLimitOfTheCgroupAndItsParents) {
  const std::string root = Dir("cgroup_v2");
  EXPECT_EQ(CgroupMemoryLimit(root).bytes, 0);  // no /proc/self/cgroup at all
  Put(root, "proc/self/cgroup", "0::/user.slice/job.scope\n");
  EXPECT_EQ(CgroupMemoryLimit(root).bytes, 0);  // no limit files
  Put(root, "sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n");
  Put(root, "sys/fs/cgroup/user.slice/memory.max", "4294967296\n");
  MemoryLimit l = CgroupMemoryLimit(root);
  EXPECT_EQ(l.bytes, 4294967296.0);
  EXPECT_EQ(l.source, "cgroup limit, /sys/fs/cgroup/user.slice/memory.max");
  Put(root, "sys/fs/cgroup/user.slice/job.scope/memory.max", "1073741824\n");
  l = CgroupMemoryLimit(root);
  EXPECT_EQ(l.bytes, 1073741824.0);
  EXPECT_EQ(l.source, "cgroup limit, /sys/fs/cgroup/user.slice/job.scope/memory.max");
  // Smaller than any machine's memory: it is what a run may use.
  l = AvailableMemory(root);
  EXPECT_EQ(l.bytes, 1073741824.0);
  EXPECT_EQ(l.source, "cgroup limit, /sys/fs/cgroup/user.slice/job.scope/memory.max");
  // Larger than the machine: the physical memory counts.
  Put(root, "sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n");
  Put(root, "sys/fs/cgroup/user.slice/memory.max", "1125899906842624\n");  // 1 PiB
  EXPECT_EQ(AvailableMemory(root).source, "physical memory");
  EXPECT_EQ(AvailableMemory(root).bytes, PhysicalMemory());
  // The root's own limit counts (a cgroup namespace's root), junk does not.
  Put(root, "sys/fs/cgroup/memory.max", "2147483648\n");
  EXPECT_EQ(CgroupMemoryLimit(root).source, "cgroup limit, /sys/fs/cgroup/memory.max");
  Put(root, "sys/fs/cgroup/memory.max", "lots\n");
  EXPECT_EQ(CgroupMemoryLimit(root).source, "cgroup limit, /sys/fs/cgroup/user.slice/memory.max");
  // A path outside this process's namespace is not looked up.
  Put(root, "proc/self/cgroup", "0::/../../other\n");
  EXPECT_EQ(CgroupMemoryLimit(root).bytes, 0);
}

TEST(CgroupMemoryLimit, VersionOneMemoryHierarchy) {
  const std::string root = Dir("cgroup_v1");
  // A hybrid machine: v1 hierarchies, "memory" one of them, and v2's "0::".
  Put(root, "proc/self/cgroup",
      "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
  // v1 writes "no limit" as a huge number.
  Put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  Put(root, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(CgroupMemoryLimit(root).bytes, 0);
  Put(root, "sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "536870912\n");
  const MemoryLimit l = CgroupMemoryLimit(root);
  EXPECT_EQ(l.bytes, 536870912.0);
  EXPECT_EQ(l.source, "cgroup limit, /sys/fs/cgroup/memory/docker/memory.limit_in_bytes");
  // Listed with other controllers ("memory,cpu") it is found too.
  Put(root, "proc/self/cgroup", "4:cpu,memory:/docker/abc\n");
  EXPECT_EQ(CgroupMemoryLimit(root).bytes, 536870912.0);
}

TEST(SimSweep, ARunBeyondTheMachinesMemoryIsRefusedBeforeAnything) {
  std::string out = Dir("too_big"), err;
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --seeds 1 --out " + out +
                    " --set file.size=512GiB --vary peers.1.count=5,999999",
                nullptr, &err),
            2);
  EXPECT_NE(err.find("its largest run needs about "), std::string::npos) << err;
  EXPECT_NE(err.find("(physical memory); sim run would refuse it"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
}

// The estimate is firm only for the classes whose peers stay to the end:
// that part alone refuses a sweep or limits --jobs. Peers that leave or
// fail need less than the estimate (it counts them all at once), but a
// class that leaves cannot make the ones that stay need less: one seed
// leaving after the run's end, or failing, leaves the leechers' part firm.
TEST(LargestRunMemory, CountsTheClassesThatStayAsFirm) {
  SweepSpec stay{TinyFile(), {Vary("peers.1.count=5,999999")}, {"file.size=512GiB"}, 1, 1, ""};
  const SweepMemory s = LargestRunMemory(stay);
  EXPECT_GT(s.largest, 1e12);
  EXPECT_EQ(s.largest_firm, s.largest);
  SweepSpec leave = stay;
  leave.sets.push_back("peers.1.leave={after_complete: {fixed: 0s}}");
  const SweepMemory l = LargestRunMemory(leave);
  EXPECT_EQ(l.largest, s.largest);
  EXPECT_LT(l.largest_firm, 1e9);  // only the seed, the timeline and the program
  SweepSpec fail = stay;
  fail.sets.push_back("peers.1.failure={probability: 0.1, after: 10s}");
  EXPECT_LT(LargestRunMemory(fail).largest_firm, 1e9);
  SweepSpec seed_leaves_late = stay;  // after stop.max_time (1h): it stays
  seed_leaves_late.sets.push_back("peers.0.leave={at: 2h}");
  EXPECT_EQ(LargestRunMemory(seed_leaves_late).largest_firm, s.largest);
  SweepSpec seed_fails = stay;
  seed_fails.sets.push_back("peers.0.failure={probability: 0.001, after: 10s}");
  EXPECT_GT(LargestRunMemory(seed_fails).largest_firm, 1e12);
}

// --no-memory-check reaches every run: its command (jobs.txt, sweep.yaml,
// redo lines) and the sweep's own check.
TEST(SimSweep, NoMemoryCheckIsPassedOnToEveryRun) {
  SweepSpec spec{"s.yaml", {}, {}, 1, 1, "res/sw"};
  spec.no_memory_check = true;
  EXPECT_EQ(ShellCommand("sim", RunArguments(spec, PlanSweep(spec)[0])),
            "sim run s.yaml --seed 1 --out res/sw/runs/seed=1 --quiet --no-memory-check");
  std::string out = Dir("no_memory_check"), text, err;
  ASSERT_EQ(Sim("sweep " + TinyFile() + " --seeds 2 --emit-jobs --no-memory-check --out " + out,
                &text, &err),
            0)
      << err;
  EXPECT_EQ(text.find("--quiet\n"), std::string::npos) << text;
  EXPECT_NE(text.find("--quiet --no-memory-check\n"), std::string::npos) << text;
  EXPECT_NE(Read(out + "/sweep.yaml").find("no_memory_check: true"), std::string::npos);
  // Without it, a run beyond the machine's memory is refused (below); with
  // it, the refusal names the flag that overrides it.
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --seeds 1 --out " + out + "2" +
                    " --set file.size=512GiB --vary peers.1.count=5,999999",
                nullptr, &err),
            2);
  EXPECT_NE(err.find("every peer present at once"), std::string::npos) << err;
  EXPECT_NE(err.find("--no-memory-check runs it anyway"), std::string::npos) << err;
}

// `sim merge` redoes a run of a --no-memory-check sweep with the flag.
TEST(SimMerge, RedoKeepsNoMemoryCheck) {
  std::string dir = Dir("merge_no_memory_check"), err;
  ASSERT_EQ(Sim("sweep " + TinyFile() + " --seeds 2 --quiet --no-memory-check --out " + dir,
                nullptr, &err),
            0)
      << err;
  fs::remove(dir + "/runs/seed=1/summary.json");
  EXPECT_EQ(Sim("merge " + dir, nullptr, &err), 1);
  const std::string redo = RedoLine(err);
  EXPECT_EQ(redo.substr(redo.size() - std::string(" --quiet --no-memory-check").size()),
            " --quiet --no-memory-check")
      << err;
}

// Folders of one experiment, one swept with --no-memory-check and one
// without: the merged manifest took the flag of the first folder for every
// command. Each run's command now keeps its own folder's flag, and the
// manifest says `no_memory_check: true` when any run of the table had it.
TEST(SimMerge, NoMemoryCheckOfEachFolderIsKept) {
  const std::string scenario = TinyFile(), a = Dir("nmc_a"), b = Dir("nmc_b");
  const std::string base = "sweep " + scenario + " --seeds 1 --quiet";
  ASSERT_EQ(Sim(base + " --out " + a), 0);
  ASSERT_EQ(Sim(base + " --seed-base 2 --no-memory-check --out " + b), 0);
  const std::string dir = Dir("nmc_m");
  for (const std::string& order : {a + " " + b, b + " " + a}) {
    std::string e;
    ASSERT_EQ(Sim("merge " + order + " --out " + dir + "/t.csv", nullptr, &e), 0) << e;
    YAML::Node m = YAML::LoadFile(dir + "/t.sweep.yaml");
    EXPECT_TRUE(m["no_memory_check"] && m["no_memory_check"].as<bool>()) << order;
    ASSERT_EQ(m["runs"].size(), 2u);
    for (const YAML::Node& r : m["runs"]) {
      const std::string command = r["command"].as<std::string>();
      const bool flagged = command.find("--no-memory-check") != std::string::npos;
      EXPECT_EQ(flagged, r["seed"].as<uint64_t>() == 2) << command;
    }
  }
  // Without the flag anywhere, the manifest does not say it.
  std::string e;
  ASSERT_EQ(Sim("merge " + a + " --out " + dir + "/a.csv", nullptr, &e), 0) << e;
  EXPECT_FALSE(YAML::LoadFile(dir + "/a.sweep.yaml")["no_memory_check"]);
}

// One experiment from two scenario files: A's sets the leechers to 4 in
// the file, B's file has 3 and its sweep --set peers.1.count=4. The merged
// manifest gave every run the first folder's --set values, so the command
// of B's run made 3 leechers: another experiment. Each run's command now
// has its own folder's --set values.
TEST(SimMerge, EachRunsCommandHasItsOwnFoldersSetValues) {
  std::string four = kTiny, three = kTiny;
  four.replace(four.find("count: 5"), 8, "count: 4");
  three.replace(three.find("count: 5"), 8, "count: 3");
  const std::string x = TestFile(".four.yaml"), y = TestFile(".three.yaml");
  std::ofstream(x) << four;
  std::ofstream(y) << three;
  const std::string a = Dir("sets_a"), b = Dir("sets_b"), dir = Dir("sets_m");
  std::string err;
  ASSERT_EQ(Sim("sweep " + x + " --seeds 1 --quiet --out " + a, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim("sweep " + y + " --seeds 1 --seed-base 2 --set peers.1.count=4 --quiet --out " +
                    b, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + dir + "/t.csv", nullptr, &err), 0) << err;
  const std::string table = Read(dir + "/t.csv");
  YAML::Node m = YAML::LoadFile(dir + "/t.sweep.yaml");
  ASSERT_EQ(m["runs"].size(), 2u);
  const std::string command = m["runs"][1]["command"].as<std::string>();
  EXPECT_NE(command.find("--set peers.1.count=4"), std::string::npos) << command;
  // Run from the table's folder, it makes that very run again.
  fs::remove_all(b + "/runs/seed=2");
  ASSERT_EQ(std::system(("cd " + dir + " && " + command + " >/dev/null").c_str()), 0) << command;
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + dir + "/t.csv", nullptr, &err), 0) << err;
  EXPECT_EQ(Read(dir + "/t.csv"), table);
}

// A scenario named with a space or a non-ASCII letter, as older ones are,
// sweeps and merges: the strict name rule made `sim merge` of such a sweep
// find none of its runs.
TEST(SimMerge, ANameWithASpaceOrAccentMerges) {
  for (const std::string name : {"base run", "caf\xc3\xa9"}) {
    std::string file = TestFile(".yaml"), dir = Dir("named"), out, err;
    std::string text = kTiny;
    text.replace(text.find("name: tiny"), 10, "name: \"" + name + "\"");
    std::ofstream(file) << text;
    ASSERT_EQ(Sim("sweep " + file + " --seeds 2 --quiet --out " + dir, nullptr, &err), 0) << err;
    ASSERT_EQ(Sim("merge " + dir, &out, &err), 0) << err;
    EXPECT_NE(out.find("(2 of 2 runs)"), std::string::npos) << out;
  }
}

// An --out that cannot be used is bad input, as for `sim run`: exit code 2
// before anything is run or written.
TEST(SimSweep, UnusableOutIsBadInput) {
  const std::string blocker = TestFile(".blocker");
  std::ofstream(blocker) << "a file, not a folder\n";
  std::string err;
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --seeds 1 --quiet --out " + blocker + "/sweep",
                nullptr, &err), 2);
  EXPECT_EQ(err, "--out " + blocker + "/sweep: " + blocker + " is not a directory\n");
  const std::string out = Dir("merge_out_src");
  ASSERT_EQ(Sim("sweep " + TinyFile() + " --seeds 1 --quiet --out " + out, nullptr, &err), 0)
      << err;
  EXPECT_EQ(Sim("merge " + out + " --out " + blocker + "/t.csv", nullptr, &err), 2);
  EXPECT_EQ(err, "--out " + blocker + "/t.csv: " + blocker + " is not a directory\n");
  // A folder for the table: it said "cannot write", exit code 1.
  const std::string folder = Dir("merge_out_folder");
  fs::create_directories(folder);
  EXPECT_EQ(Sim("merge " + out + " --out " + folder, nullptr, &err), 2);
  EXPECT_EQ(err, "--out " + folder + ": is a directory; the table is a file (e.g. " + folder +
                     "/sweep.csv)\n");
  EXPECT_TRUE(fs::is_empty(folder));
  EXPECT_FALSE(fs::exists(MergedManifestPath(folder)));
}

// The redo command of a failed run started with the binary's resolved path,
// that of `sim merge` with `sim` as typed. Both are now the run's line in
// jobs.txt: the program as typed, like every command a sweep writes.
TEST(SimSweep, RedoCommandsStartWithTheProgramAsTyped) {
  const std::string typed = Private() + "/typed-sim";  // resolves to SIM_BINARY
  fs::remove(typed);
  fs::create_symlink(SIM_BINARY, typed);
  std::string out = Dir("redo_typed"), err;
  fs::create_directories(out + "/runs");  // a file in the way makes one run fail
  std::ofstream(out + "/runs/protocol.piece_selection=random__seed=1") << "in the way";
  EXPECT_EQ(SimAs(typed, SweepArgs(out, 2), nullptr, &err), 1);
  const std::string sweep_redo = RedoLine(err);
  std::string job;
  for (const std::string& line : Lines(Read(out + "/jobs.txt")))
    if (line.find("random__seed=1 ") != std::string::npos) job = line;
  EXPECT_EQ(job.rfind(typed + " run ", 0), 0u) << job;
  EXPECT_EQ(sweep_redo, job) << err;
  EXPECT_EQ(SimAs(typed, "merge " + out, nullptr, &err), 1);
  EXPECT_EQ(RedoLine(err), job) << err;
}

TEST(SimSweep, FailingRunIsReportedAndTheExitCodeIsNonZero) {
  std::string out = Dir("failing"), err;
  // The run cannot create its folder: a plain file is in the way.
  fs::create_directories(out + "/runs");
  std::ofstream(out + "/runs/protocol.piece_selection=random__seed=1") << "in the way";
  EXPECT_EQ(Sim(SweepArgs(out, 2), nullptr, &err), 1);
  EXPECT_NE(err.find("run protocol.piece_selection=random__seed=1 failed (exit code 2)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("is not a directory"), std::string::npos) << err;  // the log's tail
  EXPECT_NE(err.find("1 of 4 runs failed"), std::string::npos) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 4u);  // the three good runs
  EXPECT_TRUE(fs::exists(out + "/logs/protocol.piece_selection=random__seed=1.log"));
}


// A sweep can switch a class off: --vary peers.2.count=0,2 runs with and
// without the free riders, at the same other classes.
TEST(SimSweep, ACountCanBeVariedToZero) {
  const std::string file = TestFile(".riders.yaml"), out = Dir("riders");
  std::string text = kTiny;
  text.insert(text.rfind("sample_interval"),
              "  - {class: rider, count: 2, upload: 1Mbit/s, download: 8Mbit/s, free_rider: true,\n"
              "     arrival: {uniform: [0s, 2s]}}\n");
  std::ofstream(file) << text;
  std::string err;
  ASSERT_EQ(Sim("sweep " + file + " --vary peers.2.count=0,2 --seeds 1 --quiet --jobs 2 --out " +
                    out,
                nullptr, &err),
            0)
      << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].rfind("peers.2.count=0__seed=1,1,0,5,", 0), 0u) << rows[1];
  EXPECT_EQ(rows[2].rfind("peers.2.count=2__seed=1,1,2,7,", 0), 0u) << rows[2];
  EXPECT_EQ(Lines(Read(out + "/runs/peers.2.count=0__seed=1/peers.csv")).size(), 1u + 1 + 5);
}

// `sim merge --out` wrote wherever it was told: over the scenario file, a
// sweep folder's manifest or jobs.txt, a run's summary.json. It now
// replaces only a table (or the manifest of one) written before, an empty
// file, or nothing; anything else is refused with exit code 2, untouched.
TEST(SimMerge, OutNeverReplacesAFileThatIsNotATable) {
  const std::string scenario = TinyFile(), out = Dir("guard"), other = Dir("guard_other");
  std::string err, text;
  const std::string sweep = "sweep " + scenario +
                            " --vary protocol.piece_selection=rarest_first,random --seeds 1 "
                            "--quiet --out ";
  ASSERT_EQ(Sim(sweep + out, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim(sweep + other + " --seed-base 2", nullptr, &err), 0) << err;
  const std::string run = out + "/runs/protocol.piece_selection=random__seed=1";
  const std::string notes = TestFile(".notes.csv");
  std::ofstream(notes) << "a,b\n1,2\n";
  const std::string in_the_way = TestFile(".t2.csv");  // its manifest's place is taken
  std::ofstream(MergedManifestPath(in_the_way)) << "my own notes\n";
  const std::string link = TestFile(".link.csv");
  fs::remove(link);
  fs::create_symlink(notes, link);
  const std::vector<std::string> kept = {scenario, out + "/sweep.yaml", out + "/jobs.txt",
                                         run + "/summary.json", notes,
                                         MergedManifestPath(in_the_way)};
  std::vector<std::string> before;
  for (const std::string& f : kept) before.push_back(Read(f));
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {out + " --out " + scenario, "not a table"},
      {out + " --out " + out + "/sweep.yaml", "sweep.yaml of sweep folder " + out},
      {out + " --out " + out + "/jobs.txt", "jobs.txt of sweep folder " + out},
      {out + " --out " + run + "/summary.json", "inside runs/ of sweep folder " + out},
      {out + " --out " + out + "/runs/new.csv", "inside runs/ of sweep folder " + out},
      {out + " " + other + " --out " + out + "/sweep.csv", "own table of sweep folder " + out},
      {out + " --out " + notes, "not a table"},
      {out + " --out " + in_the_way, "not the manifest of a table"},
      {out + " --out " + link, "symbolic link"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Sim("merge " + c.args, nullptr, &err), 2) << c.args << "\n" << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.args << "\n" << err;
    EXPECT_EQ(err.rfind("--out ", 0), 0u) << err;
  }
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(Read(kept[i]), before[i]) << kept[i];
  EXPECT_FALSE(fs::exists(out + "/runs/new.csv"));
  EXPECT_FALSE(fs::exists(in_the_way));
  EXPECT_TRUE(fs::is_symlink(link));
  // What stays allowed: a table written before (the same merge again), an
  // empty file, a sweep folder's own table.
  const std::string table = TestFile(".t.csv"), empty = TestFile(".empty.csv");
  ASSERT_EQ(Sim("merge " + out + " " + other + " --out " + table, nullptr, &err), 0) << err;
  ASSERT_EQ(Sim("merge " + out + " " + other + " --out " + table, nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(table)).size(), 5u);
  std::ofstream(empty).flush();
  ASSERT_EQ(Sim("merge " + out + " --out " + empty, nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(empty)).size(), 3u);
  EXPECT_EQ(Sim("merge " + out, nullptr, &err), 0) << err;
  EXPECT_EQ(Sim("merge " + out + " --out " + out + "/sweep.csv", nullptr, &err), 0) << err;
  EXPECT_EQ(Sim(sweep + out + " --resume", nullptr, &err), 0) << err;
}

// --resume kept the runs already made even when the scenario file or the
// --set values had been changed since: the table mixed (or only held) runs
// of the old experiment. It now compares every finished run with what this
// command would make of it and refuses, before running or writing anything.
TEST(SimSweep, ResumeRefusesRunsOfAnotherScenario) {
  const std::string file = TestFile(".edited.yaml"), out = Dir("resume_edited");
  std::ofstream(file) << kTiny;
  const std::string args = "sweep " + file +
                           " --vary peers.1.count=3,4 --seeds 1 --quiet --jobs 2 --out " + out;
  std::string err;
  ASSERT_EQ(Sim(args, nullptr, &err), 0) << err;
  const std::string table = Read(out + "/sweep.csv"), manifest = Read(out + "/sweep.yaml");
  const std::string runs = out + "/runs/peers.1.count=";
  MarkWallTime(runs + "3__seed=1/summary.json");
  std::string edited = kTiny;
  edited.replace(edited.find("size: 2MiB"), 10, "size: 4MiB");
  std::ofstream(file, std::ios::trunc) << edited;
  EXPECT_EQ(Sim(args + " --resume", nullptr, &err), 2) << err;
  EXPECT_NE(err.find(runs + "3__seed=1"), std::string::npos) << err;
  EXPECT_NE(err.find("file.size"), std::string::npos) << err;
  EXPECT_NE(err.find("new --out"), std::string::npos) << err;
  EXPECT_TRUE(Marked(runs + "3__seed=1/summary.json"));
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
  EXPECT_EQ(Read(out + "/sweep.yaml"), manifest);
  // Some runs missing: the others still say it, and none is made.
  fs::remove_all(runs + "3__seed=1");
  EXPECT_EQ(Sim(args + " --resume", nullptr, &err), 2) << err;
  EXPECT_NE(err.find(runs + "4__seed=1"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(runs + "3__seed=1"));
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
  // Another fixed --set is another experiment too.
  std::ofstream(file, std::ios::trunc) << kTiny;
  EXPECT_EQ(Sim(args + " --set peers.1.upload=2Mbit/s --resume", nullptr, &err), 2) << err;
  EXPECT_NE(err.find("peers.1.upload"), std::string::npos) << err;
  // The scenario as it was: the missing run is made, the table rebuilt.
  ASSERT_EQ(Sim(args + " --resume", nullptr, &err), 0) << err;
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
  // A folder of another run of this sweep under the wrong name is not a
  // changed scenario: it is made again.
  fs::remove_all(runs + "3__seed=1");
  fs::copy(runs + "4__seed=1", runs + "3__seed=1");
  ASSERT_EQ(Sim(args + " --resume", nullptr, &err), 0) << err;
  EXPECT_EQ(Read(out + "/sweep.csv"), table);
}

// Replaces the value of the first "KEY": in a run's summary.json.
void SetSummaryNumber(const std::string& summary, const std::string& key,
                      const std::string& value) {
  std::string text = Read(summary);
  size_t at = text.find("\"" + key + "\": ");
  ASSERT_NE(at, std::string::npos) << text;
  at += key.size() + 4;
  text.replace(at, text.find_first_of(",\n}", at) - at, value);
  std::ofstream(summary, std::ios::trunc) << text;
}

// Two copies of one sweep folder, each missing the runs the other has, were
// merged as "4 of 16 runs" with the runs only in the second reported as
// duplicates and needless redo commands; a damaged first copy of a run hid
// a good second one. Each run now counts once, from its first good copy.
TEST(SimMerge, FoldersThatShareRunsCountEachRunOnce) {
  const std::string made = Dir("shared"), a = Dir("shared_a"), b = Dir("shared_b");
  std::string out, err;
  ASSERT_EQ(Sim(SweepArgs(made, 2), nullptr, &err), 0) << err;
  const std::string table = Read(made + "/sweep.csv");
  for (const std::string& copy : {a, b}) fs::copy(made, copy, fs::copy_options::recursive);
  const std::string runs = "/runs/protocol.piece_selection=";
  for (const char* seed : {"1", "2"}) {
    fs::remove_all(a + runs + "random__seed=" + seed);
    fs::remove_all(b + runs + "rarest_first__seed=" + seed);
  }
  const std::string merged = Dir("shared_t") + "/t.csv";
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + merged, &out, &err), 0) << err;
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
  EXPECT_EQ(err.find("redo"), std::string::npos) << err;
  EXPECT_EQ(Read(merged), table);
  YAML::Node m = YAML::LoadFile(MergedManifestPath(merged));
  ASSERT_EQ(m["runs"].size(), 4u);
  EXPECT_NE(m["runs"][0]["folder"].as<std::string>().find("shared_a/"), std::string::npos);
  EXPECT_NE(m["runs"][2]["folder"].as<std::string>().find("shared_b/"), std::string::npos);
  // A damaged first copy: the second is used, and the message says so.
  fs::remove_all(a);
  fs::copy(made, a, fs::copy_options::recursive);
  const std::string cut = runs + "random__seed=2";
  fs::resize_file(a + cut + "/peers.csv", 10);
  ASSERT_EQ(Sim("merge " + a + " " + b + " --out " + merged, &out, &err), 0) << err;
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
  EXPECT_NE(err.find(a + cut + "/peers.csv: 10 bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("used the copy in " + b), std::string::npos) << err;
  EXPECT_EQ(Read(merged), table);
  m = YAML::LoadFile(MergedManifestPath(merged));
  EXPECT_NE(m["runs"][3]["folder"].as<std::string>().find("shared_b/"), std::string::npos);
  // Identical copies count once, with a note.
  const std::string c = Dir("shared_c");
  fs::copy(made, c, fs::copy_options::recursive);
  ASSERT_EQ(Sim("merge " + made + " " + c + " --out " + merged, &out, &err), 0) << err;
  EXPECT_NE(out.find("(4 of 4 runs)"), std::string::npos) << out;
  EXPECT_NE(err.find("4 runs are in more than one folder"), std::string::npos) << err;
  EXPECT_EQ(Read(merged), table);
  // Copies that disagree are reported (exit code 1); the first is used.
  SetSummaryNumber(b + runs + "random__seed=1/summary.json", "mean", "1.000000");
  EXPECT_EQ(Sim("merge " + made + " " + b + " --out " + merged, &out, &err), 1) << err;
  EXPECT_NE(err.find("random__seed=1: the copies in " + made + " and " + b + " disagree"),
            std::string::npos) << err;
  EXPECT_NE(err.find("mean_completion_s"), std::string::npos) << err;
  EXPECT_EQ(Read(merged), table);
  // Missing everywhere: one problem, one redo command, counted once.
  fs::remove_all(a + runs + "random__seed=1");
  fs::remove_all(b + runs + "random__seed=1");
  EXPECT_EQ(Sim("merge " + a + " " + b + " --out " + merged, &out, &err), 1) << err;
  EXPECT_NE(out.find("(3 of 4 runs)"), std::string::npos) << out;
  EXPECT_EQ(err.find("redo: "), err.rfind("redo: ")) << err;
  EXPECT_NE(err.find(a + runs + "random__seed=1/summary.json: missing"), std::string::npos)
      << err;
  EXPECT_NE(err.find(b + runs + "random__seed=1/summary.json: missing"), std::string::npos)
      << err;
}

// The merge command printed after --emit-jobs was the only one not quoted
// for the shell.
TEST(SimSweep, EmitJobsQuotesTheMergeCommand) {
  const std::string out = Dir("emit it's here"), quoted = ShellCommand("sim", {"merge", out});
  std::string err;
  ASSERT_EQ(Sim("sweep " + TinyFile() + " --seeds 1 --emit-jobs --out \"" + out + "\"", nullptr,
                &err), 0) << err;
  EXPECT_NE(err.find("when they are done: " + QuotedSim() + " merge '"),
            std::string::npos) << err;
  EXPECT_NE(err.find(quoted.substr(4)), std::string::npos) << err;
}

// The merged manifest gave folders relative to the table's folder but the
// scenario and the commands relative to where the sweep ran. Every
// relative path in it, the commands' included, is now relative to the
// manifest's own folder: its commands run from there.
TEST(SimMerge, EveryPathInAMergedManifestIsRelativeToItsFolder) {
  const std::string project = Dir("paths_project"), sim = SIM_BINARY;
  std::string err, out;
  fs::create_directories(project + "/scen");
  fs::create_directories(project + "/bin");
  fs::create_symlink(sim, project + "/bin/sim");
  std::ofstream(project + "/scen/tiny.yaml") << kTiny;
  const std::string cd = "cd " + project + " && bin/sim";
  ASSERT_EQ(SimAs(cd, "sweep scen/tiny.yaml --vary protocol.piece_selection=rarest_first,random "
                      "--seeds 1 --quiet --out results/sw", nullptr, &err), 0) << err;
  ASSERT_EQ(SimAs(cd, "merge results/sw --out tables/t.csv", &out, &err), 0) << err;
  const std::string text = Read(project + "/tables/t.sweep.yaml");
  EXPECT_EQ(text.rfind("# ", 0), 0u) << text;  // says so first
  YAML::Node m = YAML::LoadFile(project + "/tables/t.sweep.yaml");
  EXPECT_EQ(m["scenario"].as<std::string>(), "../scen/tiny.yaml");
  EXPECT_EQ(m["merged"].as<std::vector<std::string>>(), std::vector<std::string>{"../results/sw"});
  const std::string name = "protocol.piece_selection=random__seed=1";
  const YAML::Node run = m["runs"][1];
  EXPECT_EQ(run["folder"].as<std::string>(), "../results/sw/runs/" + name);
  const std::string command = run["command"].as<std::string>();
  EXPECT_EQ(command, "../bin/sim run ../scen/tiny.yaml --seed 1 --set "
                     "protocol.piece_selection=random --out ../results/sw/runs/" + name +
                     " --quiet");
  // Run from the manifest's folder, the command remakes the run.
  fs::remove_all(project + "/results/sw/runs/" + name);
  ASSERT_EQ(std::system(("cd " + project + "/tables && " + command + " >/dev/null").c_str()), 0);
  EXPECT_EQ(SimAs(cd, "merge results/sw --out tables/t.csv", &out, &err), 0) << err;
}

}  // namespace
}  // namespace swarm::sim

namespace swarm::sim {
namespace {

// --emit-jobs into a folder without sweep.yaml skipped the check that its
// finished runs are runs of this command (a local --resume always made
// it): one job done, the manifest deleted, the scenario edited, and
// `--emit-jobs --resume` said "1 already done". Now refused, naming the field.
TEST(SimSweep, EmitJobsWithoutAManifestStillChecksTheFinishedRuns) {
  const std::string file = TestFile(".yaml"), out = Dir("emit_no_manifest");
  std::ofstream(file) << kTiny;
  const std::string args =
      "sweep " + file + " --vary peers.1.count=3,4 --seeds 1 --quiet --emit-jobs --out " + out;
  std::string jobs, err;
  ASSERT_EQ(Sim(args, &jobs, &err), 0) << err;
  ASSERT_EQ(std::system((Lines(jobs)[0] + " >/dev/null").c_str()), 0);
  fs::remove(out + "/sweep.yaml");
  std::string edited = kTiny;
  edited.replace(edited.find("size: 2MiB"), 10, "size: 4MiB");
  std::ofstream(file, std::ios::trunc) << edited;
  for (const char* resume : {"", " --resume"}) {
    EXPECT_EQ(Sim(args + resume, nullptr, &err), 2) << resume << err;
    EXPECT_NE(err.find("--emit-jobs --out " + out + ": " + out +
                       "/runs/peers.1.count=3__seed=1: made from another scenario"),
              std::string::npos) << err;
    EXPECT_NE(err.find("file.size: \"2MiB\" in that run, \"4MiB\" now"), std::string::npos)
        << err;
    EXPECT_FALSE(fs::exists(out + "/sweep.yaml"));
  }
}

// jobs.txt has one command per line and --emit-jobs printed its lines, one
// per run: a scenario file named "a<newline>b.yaml" printed 2 of 4 commands
// while saying "4 commands". An argument with a line break is refused.
TEST(SimSweep, AnArgumentWithALineBreakIsRefused) {
  const std::string file = Private() + "/line\nbreak.yaml", out = Dir("line_break");
  std::ofstream(file) << kTiny;
  std::string printed, err;
  EXPECT_EQ(Sim("sweep '" + file + "' --vary peers.1.count=3,4 --seeds 2 --emit-jobs --out " +
                    out, &printed, &err), 2) << printed << err;
  EXPECT_NE(err.find("the scenario file's name has a line break"), std::string::npos) << err;
  EXPECT_EQ(printed, "");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(Sim("sweep " + TinyFile() + " --set 'name=two\nlines' --seeds 1 --out " + out,
                nullptr, &err), 2) << err;
  EXPECT_NE(err.find("--set name has a line break"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
}

// The same --set values in another order were "another sweep" for
// --emit-jobs. They are the same sweep when they give every run the same
// scenario (the loader refuses a field set twice, and a section set after
// a field inside it, so no order that loads changes the result); other
// values are still another sweep.
TEST(SimSweep, EmitJobsTakesSetValuesInAnyOrderThatGivesTheSameScenario) {
  const std::string file = TestFile(".yaml"), out = Dir("emit_set_order");
  std::ofstream(file) << kTiny;
  const std::string args =
      "sweep " + file + " --vary peers.1.count=3,4 --seeds 1 --quiet --emit-jobs --out " + out;
  std::string err;
  ASSERT_EQ(Sim(args + " --set peers.1.upload=2Mbit/s --set peers.0.upload=8Mbit/s", nullptr,
                &err), 0) << err;
  EXPECT_EQ(Sim(args + " --set peers.0.upload=8Mbit/s --set peers.1.upload=2Mbit/s", nullptr,
                &err), 0) << err;
  EXPECT_EQ(Sim(args + " --set peers.0.upload=8Mbit/s --set peers.1.upload=3Mbit/s", nullptr,
                &err), 2) << err;
  EXPECT_NE(err.find("holds another sweep (other --set values)"), std::string::npos) << err;
}

// "1 commands", "0 commands": the count now takes its noun's number.
TEST(SimSweep, EmitJobsCountsCommandsInTheRightNumber) {
  const std::string out = Dir("emit_count"), file = TinyFile();
  std::string jobs, err;
  ASSERT_EQ(Sim("sweep " + file + " --seeds 1 --emit-jobs --out " + out, &jobs, &err), 0) << err;
  EXPECT_NE(err.find("sim sweep: 1 command (also in"), std::string::npos) << err;
  ASSERT_EQ(std::system((Lines(jobs)[0] + " >/dev/null").c_str()), 0);
  ASSERT_EQ(Sim("sweep " + file + " --seeds 1 --emit-jobs --resume --out " + out, &jobs, &err),
            0) << err;
  EXPECT_EQ(jobs, "");
  EXPECT_NE(err.find("sim sweep: 0 commands (1 already done"), std::string::npos) << err;
}

// A field's values were shown unquoted ("name: window in that run, win
// dow: ü now"), so where one ended was a guess. Scalars are now quoted.
TEST(SimSweep, ResumeQuotesTheValuesOfTheFieldThatDiffers) {
  const std::string file = TestFile(".yaml"), out = Dir("resume_quoted");
  std::string text = kTiny;
  text.replace(text.find("name: tiny"), 10, "name: window");
  std::ofstream(file) << text;
  const std::string args = "sweep " + file + " --seeds 1 --quiet --out " + out;
  std::string err;
  ASSERT_EQ(Sim(args, nullptr, &err), 0) << err;
  text.replace(text.find("name: window"), 12, "name: 'win dow: \xc3\xbc \"x\"'");
  std::ofstream(file, std::ios::trunc) << text;
  EXPECT_EQ(Sim(args + " --resume", nullptr, &err), 2) << err;
  EXPECT_NE(err.find("(name: \"window\" in that run, \"win dow: \xc3\xbc \\\"x\\\"\" now; "),
            std::string::npos) << err;
}

// --resume with fewer seeds left the runs it no longer plans out of the
// table without a word. They are kept, and a note says how many.
TEST(SimSweep, ResumeWithASmallerPlanNotesTheRunsLeftOut) {
  const std::string file = TinyFile(), out = Dir("resume_smaller");
  const std::string args = "sweep " + file + " --vary peers.1.count=3,4 --quiet --jobs 2 --out " +
                           out;
  std::string jobs, err;
  ASSERT_EQ(Sim(args + " --seeds 2", nullptr, &err), 0) << err;
  EXPECT_EQ(err.find("not in this plan"), std::string::npos) << err;
  const std::string note =
      "sim sweep: note: 2 finished runs in " + out +
      "/runs are not in this plan (kept on disk, not in the table)";
  ASSERT_EQ(Sim(args + " --seeds 1 --resume", nullptr, &err), 0) << err;
  EXPECT_NE(err.find(note), std::string::npos) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")).size(), 3u);
  EXPECT_TRUE(fs::exists(out + "/runs/peers.1.count=4__seed=2/summary.json"));
  ASSERT_EQ(Sim(args + " --seeds 1 --resume --emit-jobs", &jobs, &err), 0) << err;
  EXPECT_NE(err.find(note), std::string::npos) << err;
  ASSERT_EQ(Sim(args + " --seed-base 2 --seeds 1 --resume --emit-jobs", &jobs, &err), 0) << err;
  EXPECT_NE(err.find("note: 2 finished runs"), std::string::npos) << err;
}

// --vary-together: fields that move in lock step, crossing with the
// other --vary's as one parameter would.
std::vector<SweepParam> Together(const std::vector<std::string>& fields) {
  auto p = ParseVaryTogether(fields);
  if (auto* e = std::get_if<std::string>(&p)) ADD_FAILURE() << *e;
  return std::get_if<std::vector<SweepParam>>(&p) ? std::get<std::vector<SweepParam>>(p)
                                                   : std::vector<SweepParam>{};
}

std::string TogetherError(const std::vector<std::string>& fields) {
  auto p = ParseVaryTogether(fields);
  return std::get_if<std::string>(&p) ? std::get<std::string>(p) : "(parsed)";
}

TEST(ParseVaryTogether, FieldsInOrderAllButTheFirstWithThePrevious) {
  std::vector<SweepParam> g = Together({"file.size=2MiB,4MiB", "stop.max_time=1h,2h"});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].key, "file.size");
  EXPECT_FALSE(g[0].with_previous);
  EXPECT_EQ(g[1].values, (std::vector<std::string>{"1h", "2h"}));
  EXPECT_TRUE(g[1].with_previous);
}

TEST(ParseVaryTogether, UnequalOrSingleFieldsAreRefused) {
  EXPECT_EQ(TogetherError({"file.size=2MiB,4MiB,8MiB", "stop.max_time=1h,2h"}),
            "--vary-together file.size=2MiB,4MiB,8MiB stop.max_time=1h,2h: its fields move in "
            "lock step, so each needs as many values: 3 for file.size, 2 for stop.max_time");
  EXPECT_NE(TogetherError({"file.size=2MiB,4MiB"}).find("needs two or more fields"),
            std::string::npos);
  EXPECT_EQ(TogetherError({"file.size=2MiB", "stop.max_time"}),
            "--vary-together 'stop.max_time': expected KEY=V1,V2,... (e.g. --vary "
            "protocol.piece_selection=rarest_first,random); a --vary-together takes every field "
            "up to the next option, so give the scenario file before it");
}

TEST(PlanSweep, FieldsVariedTogetherCrossWithTheOthersAsOne) {
  SweepSpec spec{"s.yaml", {Vary("protocol.choker=tit_for_tat,round_robin")}, {}, 1, 2, "out"};
  for (SweepParam& p : Together({"peers.1.upload=1Mbit/s,2Mbit/s,4Mbit/s",
                                 "peers.1.download=8Mbit/s,16Mbit/s,32Mbit/s"}))
    spec.params.push_back(p);
  std::vector<SweepRun> runs = PlanSweep(spec);
  ASSERT_EQ(runs.size(), 2u * 3u * 2u);  // not 2 x 3 x 3 x 2
  EXPECT_EQ(runs[0].name,
            "protocol.choker=tit_for_tat__peers.1.upload=1Mbit%2Fs__peers.1.download=8Mbit%2Fs"
            "__seed=1");
  EXPECT_EQ(runs[2].values, (std::vector<std::string>{"tit_for_tat", "2Mbit/s", "16Mbit/s"}));
  EXPECT_EQ(runs[11].values, (std::vector<std::string>{"round_robin", "4Mbit/s", "32Mbit/s"}));
  EXPECT_EQ(runs[11].seed, 2u);
  // A group first, a --vary after it: the group varies slowest.
  SweepSpec first{"s.yaml", Together({"file.size=2MiB,4MiB", "stop.max_time=1h,2h"}), {}, 1, 1,
                  "out"};
  first.params.push_back(Vary("protocol.choker=tit_for_tat,round_robin"));
  runs = PlanSweep(first);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1].values, (std::vector<std::string>{"2MiB", "1h", "round_robin"}));
  EXPECT_EQ(runs[2].values, (std::vector<std::string>{"4MiB", "2h", "tit_for_tat"}));
}

TEST(CheckSweepSpec, FieldsVariedTogetherNeedAsManyValues) {
  std::string file = TinyFile();
  SweepSpec spec{file, Together({"peers.1.upload=1Mbit/s,2Mbit/s", "peers.1.download=8Mbit/s,16Mbit/s"}),
                 {}, 1, 1, "o"};
  EXPECT_EQ(CheckSweepSpec(spec), std::nullopt);
  spec.params[1].values.pop_back();
  EXPECT_EQ(CheckSweepSpec(spec).value_or(""),
            "--vary-together peers.1.upload peers.1.download: its fields move in lock step, so "
            "each needs as many values: 2 for peers.1.upload, 1 for peers.1.download");
  SweepSpec bad{file, Together({"peers.1.upload=1Mbit/s,2Mbit/s", "peers.1.download=8Mbit/s,fast"}),
                {}, 1, 1, "o"};
  EXPECT_NE(CheckSweepSpec(bad).value_or("").find("--vary-together peers.1.download=fast: field"),
            std::string::npos) << CheckSweepSpec(bad).value_or("");
}

// Through the binary: a table with a column per field, --resume, and jobs
// emitted, run elsewhere and merged, give the same table.
TEST(SimSweep, VaryTogetherRunsTheFieldsInLockStep) {
  const std::string file = TinyFile(), out = Dir("together"), emitted = Dir("together_jobs");
  const std::string args = "sweep " + file +
                           " --vary protocol.piece_selection=rarest_first,random --vary-together "
                           "peers.1.upload=1Mbit/s,2Mbit/s peers.1.download=8Mbit/s,16Mbit/s "
                           "--seeds 1 --quiet --jobs 2";
  std::string jobs, err;
  ASSERT_EQ(Sim(args + " --out " + out, nullptr, &err), 0) << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], "run,seed,protocol.piece_selection,peers.1.upload,peers.1.download," +
                         std::string(kMetricsHeader) + "," + kClassHeader);
  EXPECT_EQ(rows[2].rfind("protocol.piece_selection=rarest_first__peers.1.upload=2Mbit%2Fs__"
                          "peers.1.download=16Mbit%2Fs__seed=1,1,rarest_first,2Mbit/s,16Mbit/s,5,",
                          0),
            0u) << rows[2];
  const std::string scenario = Read(out + "/runs/protocol.piece_selection=random__peers.1.upload="
                                    "2Mbit%2Fs__peers.1.download=16Mbit%2Fs__seed=1/scenario.yaml");
  EXPECT_NE(scenario.find("upload: 2Mbit/s\n    download: 16Mbit/s"), std::string::npos)
      << scenario;
  ASSERT_EQ(Sim(args + " --out " + out + " --resume", nullptr, &err), 0) << err;
  EXPECT_EQ(Lines(Read(out + "/sweep.csv")), rows);
  ASSERT_EQ(Sim(args + " --out " + emitted + " --emit-jobs", &jobs, &err), 0) << err;
  ASSERT_EQ(Lines(jobs).size(), 4u);
  for (const std::string& line : Lines(jobs)) ASSERT_EQ(std::system(line.c_str()), 0) << line;
  ASSERT_EQ(Sim("merge " + emitted, nullptr, &err), 0) << err;
  std::string theirs = Read(emitted + "/sweep.csv"), ours = Read(out + "/sweep.csv");
  EXPECT_EQ(theirs, ours);
  // Unequal lengths: exit code 2, nothing written.
  const std::string bad = Dir("together_bad");
  EXPECT_EQ(Sim("sweep " + file + " --vary-together peers.1.upload=1Mbit/s,2Mbit/s "
                "peers.1.download=8Mbit/s --seeds 1 --out " + bad, nullptr, &err), 2);
  EXPECT_EQ(err, "--vary-together peers.1.upload=1Mbit/s,2Mbit/s peers.1.download=8Mbit/s: its "
                 "fields move in lock step, so each needs as many values: 2 for "
                 "peers.1.upload, 1 for peers.1.download\n");
  EXPECT_FALSE(fs::exists(bad));
}

// Per-class columns: every class that downloads, in scenario order, also
// one switched off by a count of 0 (no leechers, no times); none for a
// class of seeds.
TEST(SimSweep, TableHasColumnsPerClassThatDownloads) {
  const std::string file = TestFile(".yaml"), out = Dir("per_class");
  std::string text = kTiny;
  text += "";
  std::ofstream(file) << std::string(kTiny).replace(
      std::string(kTiny).find("sample_interval"), 0,
      "  - {class: free.rider, count: 2, upload: 0Mbit/s, download: 8Mbit/s, "
      "free_rider: true}\n");
  std::string err;
  ASSERT_EQ(Sim("sweep " + file + " --vary peers.2.count=0,2 --seeds 1 --quiet --jobs 2 --out " +
                out, nullptr, &err),
            0) << err;
  std::vector<std::string> rows = Lines(Read(out + "/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "run,seed,peers.2.count," + std::string(kMetricsHeader) + "," +
                         kClassHeader +
                         ",free.rider_completed,free.rider_leechers,free.rider_mean_completion_s,"
                         "free.rider_median_completion_s,free.rider_bytes_uploaded,"
                         "free.rider_bytes_downloaded,free.rider_share_ratio");
  EXPECT_EQ(Cell(rows[0], rows[1], "free.rider_completed"), "0");
  EXPECT_EQ(Cell(rows[0], rows[1], "free.rider_leechers"), "0");
  EXPECT_EQ(Cell(rows[0], rows[1], "free.rider_mean_completion_s"), "");
  const std::string run = out + "/runs/peers.2.count=2__seed=1";
  EXPECT_EQ(Cell(rows[0], rows[2], "free.rider_leechers"), "2");
  EXPECT_EQ(Cell(rows[0], rows[2], "free.rider_completed"), PerClass(run, "free.rider", "completed"));
  EXPECT_EQ(Cell(rows[0], rows[2], "free.rider_median_completion_s"),
            PerClass(run, "free.rider", "median_completion_s"));
  EXPECT_EQ(Cell(rows[0], rows[2], "leecher_mean_completion_s"),
            PerClass(run, "leecher", "mean_completion_s"));
  // The class's numbers are those of its peers in peers.csv.
  std::vector<double> times;
  for (const std::string& line : Lines(Read(run + "/peers.csv"))) {
    std::vector<std::string> c = SplitCsv(line);
    if (c[1] == "free.rider" && !c[4].empty()) times.push_back(std::stod(c[4]) - std::stod(c[2]));
  }
  ASSERT_EQ(times.size(), 2u);
  EXPECT_NEAR(std::stod(Cell(rows[0], rows[2], "free.rider_mean_completion_s")),
              (times[0] + times[1]) / 2, 2e-6);
  // A per-class column can be plotted; a class that does not download
  // cannot (checked before anything runs).
  const std::string none = Dir("per_class_bad");
  EXPECT_EQ(Sim("sweep " + file + " --vary peers.2.count=0,2 --seeds 1 --out " + none +
                " --plot peers.2.count:seed_mean_completion_s", nullptr, &err), 2);
  EXPECT_EQ(err, "--plot 'peers.2.count:seed_mean_completion_s': no class 'seed' downloads in "
                 "this sweep (per-class columns of: leecher, free.rider)\n");
  EXPECT_FALSE(fs::exists(none));
}

// --plot-paired-to, --plot-ratio and --plot-logx reach plot_sweep.py.
TEST(SimSweep, PlotOptionsArePassedOnToPlotSweep) {
  const std::string file = TinyFile(), out = Dir("plot_options");
  const std::string args = "sweep " + file + " --vary peers.1.upload=1Mbit/s,2Mbit/s --seeds 2 "
                           "--quiet --jobs 2 --out " + out + " --plot peers.1.upload:";
  std::string stdout_text, err;
  // Refused before anything runs.
  EXPECT_EQ(Sim(args + "leecher_mean_completion_s --plot-paired-to 3Mbit/s", nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-paired-to 3Mbit/s: not a value of --vary peers.1.upload\n");
  EXPECT_EQ(Sim(args + "mean_completion_s --plot-ratio", nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-ratio needs --plot-paired-to VALUE\n");
  EXPECT_EQ(Sim("sweep " + file + " --vary peers.1.upload=1Mbit/s --seeds 1 --plot-logx --out " +
                out, nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-logx needs --plot X:METRIC\n");
  EXPECT_FALSE(fs::exists(out));
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib for /usr/bin/python3";
  ASSERT_EQ(Sim(args + "leecher_mean_completion_s --plot-paired-to 1Mbit/s --plot-ratio "
                "--plot-logx", &stdout_text, &err), 0) << err;
  EXPECT_NE(stdout_text.find("paired ratio of leecher_mean_completion_s to "
                             "peers.1.upload=1Mbit/s"), std::string::npos) << stdout_text;
  EXPECT_TRUE(fs::exists(out + "/sweep_leecher_mean_completion_s_vs_peers.1.upload_ratio_to_"
                               "1Mbit%2Fs.png"));
  // And through sim merge.
  ASSERT_EQ(Sim("merge " + out + " --plot peers.1.upload:mean_completion_s --plot-paired-to "
                "1Mbit/s", &stdout_text, &err), 0) << err;
  EXPECT_NE(stdout_text.find("paired difference of mean_completion_s"), std::string::npos)
      << stdout_text;
}

// --plot-diff-to reaches plot_sweep.py as --diff-to (sim sweep could not
// ask for Welch's unpaired differences before), through sim sweep and sim
// merge; its value is checked as --plot-paired-to's is, and the two
// exclude each other.
TEST(SimSweep, PlotDiffToIsPassedOnToPlotSweep) {
  const std::string file = TinyFile(), out = Dir("plot_diff_to");
  const std::string args = "sweep " + file + " --vary peers.1.upload=1Mbit/s,2Mbit/s --seeds 2 "
                           "--quiet --jobs 2 --out " + out + " --plot peers.1.upload:";
  std::string stdout_text, err;
  // Refused before anything runs.
  EXPECT_EQ(Sim(args + "mean_completion_s --plot-diff-to 3Mbit/s", nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-diff-to 3Mbit/s: not a value of --vary peers.1.upload\n");
  EXPECT_EQ(Sim(args + "mean_completion_s --plot-diff-to 1Mbit/s --plot-paired-to 1Mbit/s",
                nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-paired-to and --plot-diff-to: give one (--plot-paired-to pairs runs "
                 "by seed, --plot-diff-to does not)\n");
  EXPECT_EQ(Sim(args + "mean_completion_s --plot-diff-to 1Mbit/s --plot-ratio", nullptr, &err),
            2);
  EXPECT_EQ(err, "--plot-ratio needs --plot-paired-to VALUE\n");
  EXPECT_EQ(Sim("sweep " + file + " --vary peers.1.upload=1Mbit/s --seeds 1 --plot-diff-to "
                "1Mbit/s --out " + out, nullptr, &err), 2);
  EXPECT_EQ(err, "--plot-diff-to needs --plot X:METRIC\n");
  EXPECT_FALSE(fs::exists(out));
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib for /usr/bin/python3";
  ASSERT_EQ(Sim(args + "leecher_mean_completion_s --plot-diff-to 1Mbit/s", &stdout_text, &err),
            0) << err;
  EXPECT_NE(stdout_text.find("difference of mean leecher_mean_completion_s to "
                             "peers.1.upload=1Mbit/s (unpaired: Welch 95% CI)"),
            std::string::npos) << stdout_text;
  EXPECT_TRUE(fs::exists(out + "/sweep_leecher_mean_completion_s_vs_peers.1.upload_welch_"
                               "difference_to_1Mbit%2Fs.png"));
  // And through sim merge.
  ASSERT_EQ(Sim("merge " + out + " --plot peers.1.upload:mean_completion_s --plot-diff-to "
                "2Mbit/s", &stdout_text, &err), 0) << err;
  EXPECT_NE(stdout_text.find("difference of mean mean_completion_s to peers.1.upload=2Mbit/s"),
            std::string::npos) << stdout_text;
}

}  // namespace
}  // namespace swarm::sim
