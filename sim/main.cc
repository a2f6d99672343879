// `sim`: run, check and bound simulation scenarios.
//
//   sim run FILE [--seed N] [--out DIR] [--set K=V]... [--quiet] [--plot] [--trace FILE]
//           [--no-memory-check]
//   sim check FILE [--set K=V]...
//   sim bounds FILE [--set K=V]...
//   sim sweep FILE --vary K=V1,V2,... --seeds N ...  /  sim merge DIR...  (sweep_cli.h)
//
// Scenario problems print one "FILE:LINE: field 'x': problem" line and exit
// with code 2 without writing anything.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/bounds.h"
#include "sim/build_info.h"
#include "sim/cli_checks.h"
#include "sim/engine.h"
#include "sim/huge_pages.h"
#include "sim/memory_estimate.h"
#include "sim/results.h"
#include "sim/scenario_warnings.h"
#include "sim/scenario_yaml.h"
#include "sim/stop_signals.h"
#include "sim/sweep.h"
#include "sim/sweep_cli.h"
#include "sim/write_file.h"
#include "sim/theory/fluid_model.h"

namespace {

using swarm::sim::Scenario;

constexpr int kUserError = 2;

std::optional<Scenario> Load(const std::string& file, const std::vector<std::string>& sets) {
  auto r = swarm::sim::LoadScenario(file, sets);
  if (auto* e = std::get_if<swarm::sim::ScenarioLoadError>(&r)) {
    std::cerr << e->message << "\n";
    return std::nullopt;
  }
  return std::get<Scenario>(std::move(r));
}

// Prints "sim 812.3 s | 73.1% done | 2.41 M ev/s | ETA 3 s" over itself.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  void Update(const swarm::sim::Progress& p) {
    if (!enabled_) return;
    double wall = Seconds(Clock::now() - start_);
    if (wall < 1.0 || wall - last_ < 0.25) return;
    last_ = wall;
    double frac = p.leechers ? static_cast<double>(p.done) / p.leechers : 0;
    char eta[32] = "?";
    if (p.fraction > 0.01)
      std::snprintf(eta, sizeof eta, "%.0f s", wall / p.fraction - wall);
    std::fprintf(stderr, "\r  sim %.1f s | %5.1f%% done | %.2f M ev/s | ETA %s    ",
                 p.now.seconds(), 100 * frac, p.events / wall / 1e6, eta);
    shown_ = true;
  }
  void Finish() {
    if (shown_) std::fprintf(stderr, "\r%80s\r", "");
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  bool enabled_;
  Clock::time_point start_;
  double last_ = 0;
  bool shown_ = false;
};

// After a stop signal stopped a --plot script: says so and ends sim by it.
void EndPlotBySignal(int sig, const std::string& out_dir) {
  std::cerr << "sim run: --plot stopped by " << swarm::sim::StopSignalName(sig)
            << "; the results in " << out_dir << " are complete, the plots are not\n";
  swarm::sim::EndBySignal(sig);
}

// Runs one plotting command; false (after saying why) when it failed. A
// stop signal meanwhile stops the script and ends sim by that signal.
bool RunPlotCommand(const std::vector<std::string>& argv, const std::string& out_dir) {
  const swarm::sim::ChildOutcome c = swarm::sim::RunStoppably(argv);
  if (c.stopped_by) EndPlotBySignal(c.stopped_by, out_dir);
  if (c.ok()) return true;
  std::cerr << "--plot: " << swarm::sim::ShellCommand(argv[0], {argv.begin() + 1, argv.end()})
            << " failed\n";
  return false;
}

// Returns false (after saying why) when no plots were made. With a trace,
// its piece map goes into the result folder too (pieces.png).
bool Plot(const std::string& out_dir, const std::string& trace_file, uint32_t pieces) {
  const std::string analysis = std::string(SWARMLAB_SOURCE_DIR) + "/analysis/";
  std::string script = analysis + "plot_run.py";
  if (!std::filesystem::exists(script)) {
    std::cerr << "--plot: " << script << " not found (analysis/ not built yet)\n";
    return false;
  }
  const swarm::sim::ChildOutcome has_matplotlib =
      swarm::sim::RunStoppably({"/usr/bin/python3", "-c", "import matplotlib"}, true);
  if (has_matplotlib.stopped_by) EndPlotBySignal(has_matplotlib.stopped_by, out_dir);
  if (!has_matplotlib.ok()) {
    std::cerr << "--plot: matplotlib is missing; install it with "
                 "`sudo apt-get install python3-matplotlib`\n";
    return false;
  }
  // Run directly (no shell): any folder name reaches the script as it is.
  if (!RunPlotCommand({"/usr/bin/python3", script, out_dir}, out_dir)) return false;
  if (trace_file.empty()) return true;
  return RunPlotCommand({"/usr/bin/python3", analysis + "plot_pieces.py", trace_file, "--pieces",
                         std::to_string(pieces), "--out", out_dir + "/pieces.png"},
                        out_dir);
}

// Why the --trace file could not be written, or nullopt (also for no
// --trace): it must not be a folder, and its folder must be creatable.
std::optional<std::string> TraceFileProblem(const std::string& trace_file) {
  if (trace_file.empty()) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_directory(trace_file, ec)) return "is a directory";
  const std::string parent = std::filesystem::path(trace_file).parent_path().string();
  return swarm::sim::OutDirProblem(parent.empty() ? "." : parent);
}

// Whether two paths name one file: the same inode when both exist, else the
// same canonical path (symbolic links and ".." resolved as far as they go).
bool SamePath(const std::filesystem::path& a, const std::filesystem::path& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(fs::absolute(a, ec), ec) ==
         fs::weakly_canonical(fs::absolute(b, ec), ec);
}

// Why --trace must not go where it points, or nullopt: the scenario being
// run, the --out folder, or a file the run (or --plot) writes there would
// be overwritten by the trace or overwrite it.
std::optional<std::string> TraceClash(const std::string& trace_file, const std::string& file,
                                      const std::string& out_dir) {
  if (trace_file.empty()) return std::nullopt;
  if (SamePath(trace_file, file)) return "is the scenario file being run";
  if (SamePath(trace_file, out_dir)) return "is the --out folder";
  const std::filesystem::path out(out_dir);
  std::optional<std::string> clash;
  auto check = [&](const char* name) {
    if (!clash && SamePath(trace_file, out / name))
      clash = std::string("is the run's own ") + name + " in --out " + out_dir;
  };
  for (const char* name : swarm::sim::kResultFiles) check(name);
  for (const char* name : swarm::sim::kPlotFiles) check(name);
  return clash;
}

// A path this run made, and the device and inode it made there, so that
// an interrupt removes it only while the path still holds that very file
// or folder: another run that shares the --out folder (both found it
// missing, say) keeps its own. `known` is set last, once the rest is.
struct Owned {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  volatile sig_atomic_t known = 0;
  void Record(const struct stat& st) {
    dev = st.st_dev;
    ino = st.st_ino;
    std::atomic_signal_fence(std::memory_order_release);
    known = 1;
  }
  // Async-signal-safe.
  bool StillThere() const {
    struct stat st;
    return known && ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }
};

// What an interrupted run removes: the folders it created itself (deepest
// first; rmdir leaves one that is not empty), its trace when the trace's
// folder is one of them, the hidden .partial files of a result write cut
// short (named by this process's pid) and the result files it renamed into
// place. The paths are filled before the handler is installed, and only
// their identities change after.
struct MadeByRun {
  explicit MadeByRun(size_t folders)
      : dirs(folders), results(std::size(swarm::sim::kResultFiles)) {}
  std::vector<Owned> dirs;  // candidates: those missing before the run
  Owned trace;
  std::vector<Owned> results;  // as kResultFiles
  std::vector<std::string> partials;
  const Owned* summary = nullptr;  // written last: once there, the results are whole
};
const MadeByRun* g_made = nullptr;

// Async-signal-safe.
void RemoveMade(const MadeByRun& made) {
  // Interrupted after this run's summary.json went in: the run is complete
  // and stays (sim still ends by the signal).
  if (made.summary && made.summary->StillThere()) return;
  for (const std::string& p : made.partials) ::unlink(p.c_str());
  for (const Owned& f : made.results)
    if (f.StillThere()) ::unlink(f.path.c_str());
  if (made.trace.StillThere()) ::unlink(made.trace.path.c_str());
  for (const Owned& d : made.dirs)
    if (d.StillThere()) ::rmdir(d.path.c_str());
}

extern "C" void RemoveWhatTheRunMade(int sig) {
  // Only async-signal-safe calls here.
  if (g_made) RemoveMade(*g_made);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // so the shell sees the signal (exit status 128 + sig)
}

// While it exists, a stop signal removes what the run made and ends sim by
// the signal (StopSignalScope: one ignored when sim started stays
// ignored). Destroyed on every way out of the run's setup, or released
// after the run, it puts the handlers back and forgets `made` (which it
// must not outlive).
class RemoveOnInterrupt {
 public:
  // Nothing is made yet when the handlers go in, so g_made may follow.
  explicit RemoveOnInterrupt(const MadeByRun* made) : scope_(RemoveWhatTheRunMade) {
    g_made = made;
  }
  ~RemoveOnInterrupt() { Release(); }
  void Release() {
    scope_.Release();
    g_made = nullptr;
  }

 private:
  swarm::sim::StopSignalScope scope_;
};

// Refuses (false, after saying why) a run whose estimated memory exceeds
// the machine's: it would swap or be killed, after hours. The estimate
// assumes every peer present at once, so only the part of the classes that
// stay to the end (FirmRunMemory) refuses a run; beyond that, a run whose
// peers leave or fail is only warned about, and runs. Notes a large one
// (not --quiet).
bool MemoryFits(const Scenario& s, const std::string& file, bool no_memory_check, bool quiet) {
  using swarm::sim::FormatMemory;
  const swarm::sim::MemoryLimit limit = swarm::sim::AvailableMemory();
  const double need = swarm::sim::EstimateRunMemory(s), have = limit.bytes;
  const double firm_need = swarm::sim::FirmRunMemory(s);
  const bool firm = firm_need >= need;
  if (have > 0 && firm_need > have && !no_memory_check) {
    std::cerr << file << ": this run needs about " << FormatMemory(firm_need)
              << " of memory (estimated from its peers, pieces and connections, "
              << (firm ? "every peer present at once" : "the peers of its classes that stay")
              << "), more than the available " << FormatMemory(have)
              << " (" << limit.source
              << "); fewer peers or a smaller file would fit, or "
                 "--no-memory-check runs it anyway\n";
    return false;
  }
  if (have > 0 && need > have && !no_memory_check) {
    std::cerr << "sim: warning: " << file << ": this run may need up to " << FormatMemory(need)
              << " of memory, more than the available " << FormatMemory(have)
              << " (" << limit.source
              << "), if its peers were all present at once; they leave or "
                 "fail, so it likely needs less: running it\n";
    return true;
  }
  if (need >= 1e9 && !quiet) {
    std::cerr << "sim: note: this run " << (firm ? "needs about " : "may need up to ")
              << FormatMemory(need) << " of memory (estimate; this machine has "
              << FormatMemory(have) << ", " << limit.source << ")\n";
  }
  return true;
}

int Run(const std::string& file, const std::vector<std::string>& sets,
        std::optional<uint64_t> seed, std::string out_dir, bool quiet, bool plot,
        const std::string& trace_file, bool no_memory_check) {
  // As in sim sweep: the seed has its own flag, and a --set seed= next to
  // --seed would leave one of the two silently unused.
  for (const std::string& set : sets) {
    if (set.substr(0, set.find('=')) == "seed") {
      std::cerr << "--set seed=...: give the seed with --seed\n";
      return kUserError;
    }
  }
  auto s = Load(file, sets);
  if (!s) return kUserError;
  for (const std::string& warning : swarm::sim::ScenarioWarnings(*s))
    std::cerr << "sim: warning: " << file << ": " << warning << "\n";
  if (seed) s->seed = *seed;
  if (!MemoryFits(*s, file, no_memory_check, quiet)) return kUserError;
  if (out_dir.empty()) out_dir = "results/" + s->name + "-seed" + std::to_string(s->seed);
  // Checked and created now, not after a run that may take minutes.
  if (auto problem = swarm::sim::OutDirProblem(out_dir)) {
    std::cerr << "--out " << out_dir << ": " << *problem << "\n";
    return kUserError;
  }
  // Before the result folder is made: bad input writes nothing.
  if (auto problem = TraceClash(trace_file, file, out_dir)) {
    std::cerr << "--trace " << trace_file << ": " << *problem << " (choose another path)\n";
    return kUserError;
  }
  if (auto problem = TraceFileProblem(trace_file)) {
    std::cerr << "--trace " << trace_file << ": " << *problem << "\n";
    return kUserError;
  }
  // Interrupted (Ctrl-C, kill), the run leaves nothing it made itself.
  std::vector<std::string> missing = swarm::sim::MissingFolders(out_dir);
  std::string trace_dir;
  if (!trace_file.empty()) {
    trace_dir = std::filesystem::absolute(trace_file).lexically_normal().parent_path().string();
    for (const std::string& d : swarm::sim::MissingFolders(trace_dir))
      if (std::find(missing.begin(), missing.end(), d) == missing.end()) missing.push_back(d);
  }
  // Deepest first: the trace's folder may be inside the result folder.
  std::sort(missing.begin(), missing.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  MadeByRun made(missing.size());
  for (size_t i = 0; i < missing.size(); ++i) made.dirs[i].path = missing[i];
  made.trace.path = trace_file;
  for (size_t i = 0; i < std::size(swarm::sim::kResultFiles); ++i) {
    const std::filesystem::path f = std::filesystem::path(out_dir) / swarm::sim::kResultFiles[i];
    made.results[i].path = f.string();
    made.partials.push_back(swarm::sim::PartialPath(f).string());
    if (std::string_view(swarm::sim::kResultFiles[i]) == "summary.json")
      made.summary = &made.results[i];
  }
  RemoveOnInterrupt remove_on_interrupt(&made);
  // Shallowest first; a folder counts as this run's only when its own mkdir
  // made it (not when another process got there first). The stop signals
  // wait while a folder is made and recorded: one that came in between
  // would find it not yet this run's and leave it behind.
  auto make_folders = [&]() -> std::optional<std::string> {
    for (auto d = made.dirs.rbegin(); d != made.dirs.rend(); ++d) {
      swarm::sim::BlockStopSignals block;
      if (::mkdir(d->path.c_str(), 0777) == 0) {
        struct stat st;
        if (::lstat(d->path.c_str(), &st) == 0) d->Record(st);
      } else if (errno != EEXIST) {
        return d->path + ": " + std::strerror(errno);
      }
    }
    return std::nullopt;
  };
  if (auto problem = make_folders(); problem || !std::filesystem::is_directory(out_dir)) {
    // e.g. under /proc, which OutDirProblem cannot foresee
    std::cerr << "--out " << out_dir << ": cannot create the folder: "
              << (problem ? *problem : std::string("it is not a folder")) << "\n";
    RemoveMade(made);  // the part of the path that was made, if any
    return kUserError;  // nothing run, nothing written: a bad flag
  }
  std::ofstream trace;
  swarm::sim::SimOptions opt;
  if (!trace_file.empty()) {
    // As for the folders: a trace this run creates is created and recorded
    // with the stop signals held back, so one that comes meanwhile finds it
    // recorded. Only a create that cannot wait is held so (O_EXCL: a new
    // regular file); a path that is there already is not this run's and is
    // opened as it is, with the signals free: the open of a FIFO without a
    // reader waits until one comes, and Ctrl-C must still stop the run.
    std::optional<std::string> problem;
    {
      swarm::sim::BlockStopSignals block;
      const int fd = ::open(trace_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        // Removed when interrupted only if this run made the folder it is in.
        struct stat st;
        for (const Owned& d : made.dirs)
          if (d.path == trace_dir && d.known && ::fstat(fd, &st) == 0) made.trace.Record(st);
        ::close(fd);
      } else if (errno != EEXIST) {
        problem = std::strerror(errno);
      }
    }
    if (!problem) trace.open(trace_file, std::ios::trunc);
    if (problem || !trace) {
      std::cerr << "--trace " << trace_file << ": cannot open for writing"
                << (problem ? ": " + *problem : std::string()) << "\n";
      RemoveMade(made);  // nothing written: no folder made for it stays
      return kUserError;
    }
    opt.trace = &trace;
  }
  ProgressLine progress(!quiet && isatty(STDERR_FILENO));
  opt.progress = [&](const swarm::sim::Progress& p) { progress.Update(p); };
  swarm::sim::Simulation sim(*s, opt);
  swarm::sim::RunResult r = sim.Run();
  progress.Finish();
  if (trace.is_open()) {
    // Complete on disk before anything reads it (--plot's piece map).
    trace.close();
    if (trace.fail()) {
      std::cerr << "--trace " << trace_file << ": write failed (disk full?)\n";
      return 1;
    }
  }
  // A folder of an earlier run keeps no plot of it beside these results
  // (--plot makes them anew). Only the files sim writes: a result folder is
  // rewritten, not emptied (sim sweep redoes its runs in their folders).
  // Any of the result files marks an earlier run, also one whose rewrite
  // failed part-way (WriteResultFolder removes its summary.json first).
  bool earlier_run = false;
  for (const char* name : swarm::sim::kResultFiles) {
    std::error_code ec;
    earlier_run = earlier_run || std::filesystem::exists(std::filesystem::path(out_dir) / name, ec);
  }
  if (earlier_run) {
    for (const char* name : swarm::sim::kPlotFiles) {
      std::error_code ec;
      std::filesystem::remove(std::filesystem::path(out_dir) / name, ec);
    }
  }
  // The handler stays through the writing: interrupted before this run's
  // summary.json is in place, the result files this run put in place go,
  // and so does a folder it made; no .partial file stays. An earlier run's
  // files that were not yet replaced stay, less its summary.json.
  {
    std::error_code ec;
    std::filesystem::remove(made.summary->path, ec);  // WriteResultFolder would, but later
    if (ec) {
      std::cerr << made.summary->path << ": cannot remove: " << ec.message() << "\n";
      return 1;
    }
  }
  auto record = [&](const char* name, const struct stat& st) {
    for (size_t i = 0; i < std::size(swarm::sim::kResultFiles); ++i)
      if (std::string_view(swarm::sim::kResultFiles[i]) == name) made.results[i].Record(st);
  };
  if (auto err = swarm::sim::WriteResultFolder(out_dir, *s, r, record)) {
    std::cerr << *err << "\n";
    return 1;
  }
  remove_on_interrupt.Release();  // the results are whole
  std::cout << swarm::sim::HumanSummary(*s, r, swarm::sim::Summarize(*s, r));
  std::cout << "  results        " << out_dir << std::endl;  // before plot_run.py prints
  if (plot && !Plot(out_dir, trace_file, s->PieceCount())) return 1;  // the results are written; the plots are not
  return 0;
}

// Qiu-Srikant steady state for each class that arrives as a Poisson process
// and leaves after seeding (the fluid model's assumptions).
void PrintFluid(const Scenario& s) {
  for (const swarm::sim::ClassFluid& f : swarm::sim::ComputeFluid(s)) {
    const char* name = s.peers[f.class_index].name.c_str();
    if (!f.skipped.empty()) {
      std::printf("  fluid model (Qiu-Srikant), class %s: not computed (%s)\n", name,
                  f.skipped.c_str());
      continue;
    }
    std::printf("  fluid model (Qiu-Srikant), class %s: %s, leechers %.1f, seeds %.1f, "
                "download time %.1f s\n",
                name, swarm::sim::theory::FluidRegimeName(f.state.regime), f.state.leechers,
                f.state.seeds, f.state.download_time_s);
  }
}

int Bounds(const std::string& file, const std::vector<std::string>& sets) {
  auto s = Load(file, sets);
  if (!s) return kUserError;
  swarm::sim::SimpleBounds b = swarm::sim::ComputeSimpleBounds(*s);
  std::printf("%s: N = %u leechers, F = %.0f bit, M = %u pieces\n", s->name.c_str(),
              b.leechers, b.file_bits, s->PieceCount());
  std::printf("  seed upload u_s      %.3f Mbit/s\n", b.seed_upload_bps / 1e6);
  std::printf("  leecher upload sum   %.3f Mbit/s\n", b.leecher_upload_bps / 1e6);
  std::printf("  min leecher download %.3f Mbit/s\n", b.min_download_bps / 1e6);
  std::printf("  F/u_s                %.1f s\n", b.file_bits / b.seed_upload_bps);
  std::printf("  F/d_min              %.1f s\n", b.file_bits / b.min_download_bps);
  std::printf("  N F/(u_s + sum u_i)  %.1f s\n",
              b.leechers * b.file_bits / (b.seed_upload_bps + b.leecher_upload_bps));
  std::printf("  Kumar-Ross T_min     %.1f s\n", b.kumar_ross_s);
  if (b.piece_granular_s) {
    // Its doubling argument has one sender per piece; a peer that
    // downloads faster than the (equal) upload can gather a piece from
    // several at once and finish earlier (docs/theory.md, section 2).
    bool faster = false;
    for (const swarm::sim::PeerClassSpec& c : s->peers)
      faster |= c.count > 0 && !c.start_complete &&
                c.download.bits_per_second() > b.seed_upload_bps * (1 + 1e-9);
    std::printf("  piece-granular       %.1f s%s\n", *b.piece_granular_s,
                faster ? " (a reference, not a bound: leechers download faster than they "
                         "upload; docs/theory.md)"
                       : "");
  } else
    std::printf("  piece-granular       n/a (needs one seed and equal uploads)\n");
  PrintFluid(*s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"swarmlab simulator: thousands of virtual peers running the real core"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sim ") + swarm::Version() + " (build " +
                                        swarm::BuildId() + ")");
  std::string file, out_dir, trace_file;
  std::vector<std::string> sets;
  std::optional<uint64_t> seed;
  bool quiet = false, plot = false, no_memory_check = false;

  CLI::App* run = app.add_subcommand("run", "run a scenario and write a result folder");
  run->add_option("FILE", file, "scenario YAML")->required()->type_name("");
  run->add_option("--seed", seed, "run seed (overrides the scenario's)")
      ->type_name("N")
      ->check(swarm::sim::UnsignedWhole());
  run->add_option("--out", out_dir, "result folder (default results/NAME-seedN)")
      ->type_name("DIR");
  run->add_option("--set", sets, "override a field, e.g. protocol.choker=round_robin")
      ->type_name("FIELD=VALUE");
  run->add_flag("--quiet", quiet, "no progress line");
  run->add_flag("--plot", plot, "plot the result folder with analysis/plot_run.py");
  run->add_option("--trace", trace_file, "write one line per protocol event (small swarms)")
      ->type_name("FILE");
  run->add_flag("--no-memory-check", no_memory_check,
                "run even if the estimated memory exceeds the machine's");

  CLI::App* check = app.add_subcommand("check", "validate a scenario file");
  check->add_option("FILE", file, "scenario YAML")->required()->type_name("");
  check->add_option("--set", sets, "override a field")->type_name("FIELD=VALUE");

  CLI::App* bounds = app.add_subcommand("bounds", "print the theoretical bounds of a scenario");
  bounds->add_option("FILE", file, "scenario YAML")->required()->type_name("");
  bounds->add_option("--set", sets, "override a field")->type_name("FIELD=VALUE");

  swarm::sim::SweepCommands sweep_commands(app);  // sim sweep, sim merge

  // CLI11 would say only "A subcommand is required" for `sim frob`. Only
  // --help and --version come before the subcommand.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string name = argv[1];
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
      found = found || sub->get_name() == name;
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      std::cerr << "sim: unknown subcommand '" << name << "' (one of " << known
                << "; see sim --help)\n";
      return kUserError;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kUserError;
  }
  if (*run) {
    swarm::sim::ReexecWithHugePages(argv);  // returns at once after the re-exec
    return Run(file, sets, seed, out_dir, quiet, plot, trace_file, no_memory_check);
  }
  if (*check) {
    auto s = Load(file, sets);
    if (!s) return kUserError;
    const swarm::sim::MemoryLimit limit = swarm::sim::AvailableMemory();
    const double need = swarm::sim::EstimateRunMemory(*s), have = limit.bytes;
    std::cout << file << ": ok (" << s->name << ", " << s->TotalPeers() << " peers, "
              << s->PieceCount() << (s->PieceCount() == 1 ? " piece" : " pieces") << ", about "
              << swarm::sim::FormatMemory(need) << " of memory)\n";
    if (have > 0 && need > have) {
      std::cerr << "sim: warning: " << file << ": about " << swarm::sim::FormatMemory(need)
                << " of memory is more than the available " << swarm::sim::FormatMemory(have)
                << " (" << limit.source << ")"
                << (swarm::sim::FirmRunMemory(*s) > have
                        ? "; sim run refuses it without --no-memory-check\n"
                        : " (if every peer were present at once; its peers leave or fail, so "
                          "sim run warns and runs it)\n");
    }
    for (const std::string& warning : swarm::sim::ScenarioWarnings(*s))
      std::cerr << "sim: warning: " << file << ": " << warning << "\n";
    return 0;
  }
  if (*bounds) return Bounds(file, sets);
  if (auto rc = sweep_commands.RunIfChosen(argv[0])) return *rc;
  return kUserError;
}
