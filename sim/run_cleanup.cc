#include "sim/run_cleanup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "sim/cli_checks.h"
#include "sim/write_file.h"

namespace swarm::sim {
namespace {

const MadeByRun* g_made = nullptr;

extern "C" void RemoveWhatTheRunMade(int sig) {
  // Only async-signal-safe calls here.
  if (g_made) {
    RemoveMade(*g_made);
    ReportInterrupt(*g_made, sig);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // so the shell sees the signal (exit status 128 + sig)
}

// The folders that --out and the trace's folder need and are missing,
// deepest first: the trace's folder may be inside the result folder.
std::vector<std::string> FoldersToMake(const std::string& out_dir,
                                       const std::string& trace_dir) {
  std::vector<std::string> missing = MissingFolders(out_dir);
  if (!trace_dir.empty()) {
    for (const std::string& d : MissingFolders(trace_dir))
      if (std::find(missing.begin(), missing.end(), d) == missing.end()) missing.push_back(d);
  }
  std::sort(missing.begin(), missing.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return missing;
}

// Appends to stderr; async-signal-safe (a message cut short is let be).
void Say(const char* text) { (void)!::write(STDERR_FILENO, text, std::strlen(text)); }

// `tenths` / 10 with one decimal, e.g. "180.1"; async-signal-safe.
void SayTenths(int64_t tenths) {
  char buf[24];
  char* p = buf + sizeof buf;
  *--p = '\0';
  *--p = static_cast<char>('0' + tenths % 10);
  *--p = '.';
  int64_t whole = tenths / 10;
  do {
    *--p = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole > 0);
  Say(p);
}

}  // namespace

MadeByRun::MadeByRun(const std::string& out_dir, const std::string& trace_file)
    : results(std::size(kResultFiles)) {
  if (!trace_file.empty())
    trace_dir = std::filesystem::absolute(trace_file).lexically_normal().parent_path().string();
  const std::vector<std::string> missing = FoldersToMake(out_dir, trace_dir);
  dirs = std::vector<Owned>(missing.size());
  for (size_t i = 0; i < missing.size(); ++i) dirs[i].path = missing[i];
  this->out_dir = out_dir;
  const std::vector<std::string> out_missing = MissingFolders(out_dir);
  for (const Owned& d : dirs)
    if (!out_missing.empty() && d.path == out_missing.front()) out_folder = &d;
  stderr_is_tty = ::isatty(STDERR_FILENO);
  trace.path = trace_file;
  for (size_t i = 0; i < std::size(kResultFiles); ++i) {
    const std::filesystem::path f = std::filesystem::path(out_dir) / kResultFiles[i];
    results[i].path = f.string();
    partials.push_back(PartialPath(f).string());
    if (std::string_view(kResultFiles[i]) == "summary.json") summary = &results[i];
  }
}

std::optional<std::string> MadeByRun::MakeFolders() {
  // The stop signals wait while a folder is made and recorded: one that
  // came in between would find it not yet this run's and leave it behind.
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) {
    BlockStopSignals block;
    if (::mkdir(d->path.c_str(), 0777) == 0) {
      struct stat st;
      if (::lstat(d->path.c_str(), &st) == 0) d->Record(st);
    } else if (errno != EEXIST) {
      return d->path + ": " + std::strerror(errno);
    }
  }
  return std::nullopt;
}

std::optional<std::string> MadeByRun::CreateTrace() {
  // As for the folders: a trace this run creates is created and recorded
  // with the stop signals held back, so one that comes meanwhile finds it
  // recorded. Only a create that cannot wait is held so (O_EXCL: a new
  // regular file); a path that is there already is not this run's and is
  // opened as it is, with the signals free: the open of a FIFO without a
  // reader waits until one comes, and Ctrl-C must still stop the run.
  BlockStopSignals block;
  const int fd = ::open(trace.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno != EEXIST) return std::strerror(errno);
    return std::nullopt;
  }
  // Removed when interrupted only if this run made the folder it is in.
  struct stat st;
  for (const Owned& d : dirs)
    if (d.path == trace_dir && d.known && ::fstat(fd, &st) == 0) trace.Record(st);
  ::close(fd);
  return std::nullopt;
}

void MadeByRun::RecordResult(const char* name, const struct stat& st) {
  for (size_t i = 0; i < std::size(kResultFiles); ++i)
    if (std::string_view(kResultFiles[i]) == name) results[i].Record(st);
}

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

void ReportInterrupt(const MadeByRun& made, int sig) {
  if (made.stderr_is_tty) Say("\r\033[K");  // over the progress line
  const char* out = made.out_dir.c_str();
  Say("sim run: ");
  if (made.summary && made.summary->StillThere()) {
    Say(StopSignalName(sig));
    Say(" after the results were written; ");
    Say(out);
    Say(" is complete\n");
    return;
  }
  Say("interrupted by ");
  Say(StopSignalName(sig));
  const bool writing = made.phase == MadeByRun::kWriting;
  if (made.phase == MadeByRun::kRunning) {
    Say(" at sim time ");
    SayTenths(made.sim_time_us.load(std::memory_order_relaxed) / 100'000);
    Say(" s");
  } else if (made.phase == MadeByRun::kSetup) {
    Say(" before the run began");
  } else {
    Say(" while writing the results");
  }
  Say(writing ? "; none kept (" : "; nothing written (");
  struct stat st;
  const bool out_there = ::lstat(made.out_dir.c_str(), &st) == 0;
  if (made.out_folder && made.out_folder->known && !out_there) {
    Say("removed ");
    Say(out);
  } else if (made.out_folder && made.out_folder->known) {
    Say(out);
    Say(" stays: files this run did not write are in it");
  } else if (writing && made.had_earlier_results) {
    Say(out);
    Say(" keeps the earlier run's files this run had not yet replaced, less its summary.json");
  } else {
    Say(out);
    Say(" is as it was");
  }
  Say(")\n");
}

RemoveOnInterrupt::RemoveOnInterrupt(const MadeByRun* made) : scope_(RemoveWhatTheRunMade) {
  g_made = made;
}

void RemoveOnInterrupt::Release() {
  scope_.Release();
  g_made = nullptr;
}

}  // namespace swarm::sim
