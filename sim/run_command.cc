#include "sim/run_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/cli_checks.h"
#include "sim/engine.h"
#include "sim/load_or_report.h"
#include "sim/progress_line.h"
#include "sim/results.h"
#include "sim/run_checks.h"
#include "sim/run_cleanup.h"
#include "sim/run_plot.h"
#include "sim/scenario_warnings.h"
#include "sim/stop_signals.h"
#include "sim/write_file.h"

namespace swarm::sim {
namespace {

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
  auto s = LoadOrReport(file, sets);
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
  if (plot && !PlotRunFolder(out_dir, trace_file, s->PieceCount())) return 1;  // the results are written; the plots are not
  return 0;
}

}  // namespace

int RunCommand(const RunFlags& f) {
  return Run(f.file, f.sets, f.seed, f.out_dir, f.quiet, f.plot, f.trace_file,
             f.no_memory_check);
}

}  // namespace swarm::sim
