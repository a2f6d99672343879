#include "sim/run_checks.h"

#include <filesystem>
#include <iostream>

#include "sim/cli_checks.h"
#include "sim/memory_estimate.h"
#include "sim/results.h"

namespace swarm::sim {
namespace {

// Whether two paths name one file: the same inode when both exist, else the
// same canonical path (symbolic links and ".." resolved as far as they go).
bool SamePath(const std::filesystem::path& a, const std::filesystem::path& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(fs::absolute(a, ec), ec) ==
         fs::weakly_canonical(fs::absolute(b, ec), ec);
}

}  // namespace

bool MemoryFits(const Scenario& s, const std::string& file, bool no_memory_check, bool quiet) {
  const MemoryLimit limit = AvailableMemory();
  const double need = EstimateRunMemory(s), have = limit.bytes;
  const double firm_need = FirmRunMemory(s);
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
  for (const char* name : kResultFiles) check(name);
  for (const char* name : kPlotFiles) check(name);
  return clash;
}

std::optional<std::string> TraceFileProblem(const std::string& trace_file) {
  if (trace_file.empty()) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_directory(trace_file, ec)) return "is a directory";
  const std::string parent = std::filesystem::path(trace_file).parent_path().string();
  return OutDirProblem(parent.empty() ? "." : parent);
}

}  // namespace swarm::sim
