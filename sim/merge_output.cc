#include "sim/merge_output.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "sim/cli_common.h"
#include "sim/sweep.h"
#include "sim/write_file.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

// Whether `inner` is `outer` or inside it, both resolved (symlinks, ..).
bool Within(const fs::path& inner, const fs::path& outer) {
  auto resolved = [](const fs::path& p) {
    std::error_code ec;
    fs::path full = fs::absolute(p, ec).lexically_normal();
    fs::path real = fs::weakly_canonical(full, ec);
    return ec || real.empty() ? full : real;
  };
  const fs::path a = resolved(inner), b = resolved(outer);
  auto [end_b, end_a] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return !b.empty() && end_b == b.end();
}

}  // namespace

int MergeInto(const std::vector<std::string>& dirs, const std::string& csv,
              bool with_manifest, const std::string& program) {
  MergeResult m = MergeSweeps(dirs, program);
  if (m.fatal) {
    std::cerr << *m.fatal << "\n";
    return kUserError;
  }
  for (const std::string& n : m.notes) std::cerr << "sim merge: note: " << n << "\n";
  for (const std::string& p : m.problems) std::cerr << "sim merge: " << p << "\n";
  std::error_code ec;  // like `sim run --out`, create the folder it goes in
  if (fs::path parent = fs::path(csv).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
  }
  if (auto err = WriteFileWhole(csv, m.csv)) {
    std::cerr << *err << "\n";
    return kCommandFailed;
  }
  if (with_manifest) {
    if (auto err = WriteFileWhole(MergedManifestPath(csv), MergedManifest(m, csv))) {
      std::cerr << *err << "\n";
      return kCommandFailed;
    }
  }
  std::cout << "  sweep table    " << csv << " (" << m.rows << " of " << m.expected
            << " runs)" << std::endl;  // before plot_sweep.py prints
  if (with_manifest) std::cout << "  its manifest   " << MergedManifestPath(csv) << std::endl;
  // On stdout with the table it is about: its means count survivors only.
  if (const std::string cut = CutAtMaxTimeNote(m); !cut.empty())
    std::cout << "  note: " << cut << std::endl;
  return m.problems.empty() && m.rows == m.expected ? 0 : kCommandFailed;
}

std::optional<std::string> MergeOutputProblem(const std::string& path, bool manifest,
                                              const std::vector<std::string>& dirs,
                                              bool own_table) {
  for (const std::string& dir : dirs) {
    const fs::path d(dir);
    for (const char* name : {"sweep.yaml", "jobs.txt"}) {
      if (Within(path, d / name))
        return std::string("is the ") + name + " of sweep folder " + dir;
    }
    for (const char* name : {"runs", "logs"}) {
      if (Within(path, d / name))
        return std::string("is inside ") + name + "/ of sweep folder " + dir;
    }
    if (!own_table && Within(path, d / "sweep.csv"))
      return "is the own table of sweep folder " + dir + " (its sweep.yaml describes it)";
  }
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::is_symlink(st)) return "is a symbolic link; sim merge replaces only files it wrote";
  if (!fs::is_regular_file(st)) return std::nullopt;  // nothing there, or a pipe
  if (fs::file_size(path, ec) == 0 && !ec) return std::nullopt;
  if (manifest ? IsMergedManifest(path) : IsSweepTable(path)) return std::nullopt;
  return manifest ? "exists and is not the manifest of a table sim merge wrote"
                  : "exists and is not a table sim merge or sim sweep wrote (its first line is "
                    "not a sweep.csv header)";
}

}  // namespace swarm::sim
