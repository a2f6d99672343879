#include "sim/run_command.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/cli_checks.h"
#include "sim/engine.h"
#include "sim/cli_common.h"
#include "sim/progress_line.h"
#include "sim/results.h"
#include "sim/run_checks.h"
#include "sim/run_cleanup.h"
#include "sim/run_plot.h"
#include "sim/scenario_warnings.h"

namespace swarm::sim {
namespace {

// The scenario of `f` with its --seed, after printing its warnings, or
// nullopt after saying why it is not run (a bad flag, a scenario problem,
// more memory than the machine has).
std::optional<Scenario> ScenarioToRun(const RunFlags& f) {
  if (auto problem = SeedSetProblem(f.sets)) {  // as sim sweep and swarm run-scenario
    std::cerr << *problem << "\n";
    return std::nullopt;
  }
  auto s = LoadOrReport(f.file, f.sets);
  if (!s) return std::nullopt;
  for (const std::string& warning : ScenarioWarnings(*s))
    std::cerr << "sim: warning: " << f.file << ": " << warning << "\n";
  if (f.seed) s->seed = *f.seed;
  if (!MemoryFits(*s, f.file, f.no_memory_check, f.quiet)) return std::nullopt;
  return s;
}

std::string DefaultOutDir(const Scenario& s) {
  return "results/" + s.name + "-seed" + std::to_string(s.seed);
}

// Whether the run may write `out_dir` and the --trace of `f`: checked now,
// not after a run that may take minutes, and before the result folder is
// made, so that bad input writes nothing. False after saying why not.
bool OutputsAllowed(const std::string& out_dir, const RunFlags& f) {
  if (auto problem = OutDirProblem(out_dir)) {
    std::cerr << "--out " << out_dir << ": " << *problem << "\n";
    return false;
  }
  if (auto problem = TraceClash(f.trace_file, f.file, out_dir)) {
    std::cerr << "--trace " << f.trace_file << ": " << *problem << " (choose another path)\n";
    return false;
  }
  if (auto problem = TraceFileProblem(f.trace_file)) {
    std::cerr << "--trace " << f.trace_file << ": " << *problem << "\n";
    return false;
  }
  return true;
}

// Makes the folders of `made` (--out's and the trace's); false, after
// saying why and removing the part of the path that was made, when
// `out_dir` is not a folder then.
bool MakeOutputFolders(MadeByRun& made, const std::string& out_dir) {
  if (auto problem = made.MakeFolders(); problem || !std::filesystem::is_directory(out_dir)) {
    // e.g. under /proc, which OutDirProblem cannot foresee
    std::cerr << "--out " << out_dir << ": cannot create the folder: "
              << (problem ? *problem : std::string("it is not a folder")) << "\n";
    RemoveMade(made);
    return false;
  }
  return true;
}

// Opens `trace_file` into `trace`, recorded in `made` when this run creates
// it; false, after saying why and removing the folders made for it, when
// it cannot be opened for writing.
bool OpenTrace(const std::string& trace_file, MadeByRun& made, std::ofstream& trace) {
  std::optional<std::string> problem = made.CreateTrace();
  if (!problem) trace.open(trace_file, std::ios::trunc);
  if (problem || !trace) {
    std::cerr << "--trace " << trace_file << ": cannot open for writing"
              << (problem ? ": " + *problem : std::string()) << "\n";
    RemoveMade(made);  // nothing written: no folder made for it stays
    return false;
  }
  return true;
}

// Closes the trace (when open), complete on disk before anything reads it
// (--plot's piece map); false after saying so when the writes failed.
bool CloseTrace(const std::string& trace_file, std::ofstream& trace) {
  if (!trace.is_open()) return true;
  trace.close();
  if (!trace.fail()) return true;
  std::cerr << "--trace " << trace_file << ": write failed (disk full?)\n";
  return false;
}

// Whether `out_dir` holds an earlier run's results: any of the result
// files marks one, also a run whose rewrite failed part-way
// (WriteResultFolder removes its summary.json first).
bool HoldsEarlierRun(const std::string& out_dir) {
  for (const char* name : kResultFiles) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(out_dir) / name, ec)) return true;
  }
  return false;
}

// A folder of an earlier run keeps no plot of it beside these results
// (--plot makes them anew). Only the files sim writes: a result folder is
// rewritten, not emptied (sim sweep redoes its runs in their folders).
void RemoveEarlierPlots(const std::string& out_dir) {
  if (!HoldsEarlierRun(out_dir)) return;
  for (const char* name : kPlotFiles) {
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(out_dir) / name, ec);
  }
}

// Writes the result folder, recording in `made` each result file as it
// takes its place; false after saying why when it could not. The caller's
// handler stays through the writing: interrupted before this run's
// summary.json is in place, the result files this run put in place go,
// and so does a folder it made; no .partial file stays. An earlier run's
// files that were not yet replaced stay, less its summary.json.
bool WriteResults(const std::string& out_dir, const Scenario& s, const RunResult& r,
                  MadeByRun& made) {
  std::error_code ec;
  std::filesystem::remove(made.summary->path, ec);  // WriteResultFolder would, but later
  if (ec) {
    std::cerr << made.summary->path << ": cannot remove: " << ec.message() << "\n";
    return false;
  }
  auto record = [&](const char* name, const struct stat& st) { made.RecordResult(name, st); };
  if (auto err = WriteResultFolder(out_dir, s, r, record)) {
    std::cerr << *err << "\n";
    return false;
  }
  return true;
}

}  // namespace

int RunCommand(const RunFlags& f) {
  std::optional<Scenario> s = ScenarioToRun(f);
  if (!s) return kUserError;
  const std::string out_dir = f.out_dir.empty() ? DefaultOutDir(*s) : f.out_dir;
  if (!OutputsAllowed(out_dir, f)) return kUserError;
  // Interrupted (Ctrl-C, kill), the run leaves nothing it made itself.
  MadeByRun made(out_dir, f.trace_file);
  made.had_earlier_results = HoldsEarlierRun(out_dir);
  // Said before the run, not after: a run may take long, and the default
  // folder (results/NAME-seedN) does not tell --set variants apart.
  if (made.had_earlier_results)
    std::cerr << "sim run: " << out_dir
              << " holds an earlier run's results; this run replaces them\n";
  RemoveOnInterrupt remove_on_interrupt(&made);
  // Until the run starts, a failure is a bad flag: nothing run, nothing written.
  if (!MakeOutputFolders(made, out_dir)) return kUserError;
  std::ofstream trace;
  if (!f.trace_file.empty() && !OpenTrace(f.trace_file, made, trace)) return kUserError;
  SimOptions options;
  if (trace.is_open()) options.trace = &trace;
  ProgressLine progress(!f.quiet && isatty(STDERR_FILENO));
  options.progress = [&](const Progress& p) { progress.Update(p); };
  options.sim_time_us = &made.sim_time_us;
  Simulation sim(*s, options);
  made.SetPhase(MadeByRun::kRunning);
  const RunResult r = sim.Run();
  made.SetPhase(MadeByRun::kWriting);
  progress.Finish();
  if (!CloseTrace(f.trace_file, trace)) return kCommandFailed;
  RemoveEarlierPlots(out_dir);
  if (!WriteResults(out_dir, *s, r, made)) return kCommandFailed;
  remove_on_interrupt.Release();  // the results are whole
  std::cout << HumanSummary(*s, r, Summarize(*s, r));
  std::cout << "  results        " << out_dir << std::endl;  // before plot_run.py prints
  // The results are written; the plots may not be.
  if (f.plot && !PlotRunFolder(out_dir, f.trace_file, s->PieceCount())) return kCommandFailed;
  return 0;
}

}  // namespace swarm::sim
