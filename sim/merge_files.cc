// The files `sim merge` writes and recognizes besides sweep folders
// (sweep.h): a table's manifest (MergedManifestPath, MergedManifest), and
// whether a file is a table or such a manifest, which it may replace.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/sweep.h"
#include "sim/sweep_folder.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

// The first line of the file at `path`, read no further than 64 KiB (the
// file may be anything, a disk image say); "" if it cannot be read.
std::string FirstLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head.substr(0, head.find('\n'));
}

}  // namespace

std::string MergedManifestPath(const std::string& csv_path) {
  fs::path p(csv_path);
  return (p.parent_path() / (p.stem().string() + ".sweep.yaml")).string();
}

std::string MergedManifest(const MergeResult& merged, const std::string& csv_path) {
  std::error_code ec;
  const fs::path base =
      fs::weakly_canonical(fs::absolute(fs::path(csv_path), ec).parent_path(), ec);
  // `path` (relative to the current folder, or absolute) from the table's
  // folder; absolute if there is no relative path. The folders above it
  // are resolved (a `..` must lead where it says), not the last part: a
  // program reached through a link stays that link.
  auto from_table = [&](const std::string& path) {
    std::error_code e;
    const fs::path full = fs::absolute(path, e).lexically_normal();
    fs::path last = full.filename();
    fs::path parent = full.parent_path();
    if (last.empty()) {  // "dir/"
      last = parent.filename();
      parent = parent.parent_path();
    }
    const fs::path resolved = fs::weakly_canonical(parent, e) / last;
    fs::path rel = resolved.lexically_relative(base);
    if (e || rel.empty()) return full.string();
    return rel.string();
  };
  // The same, but an absolute path stays as it was given.
  auto rebased = [&](const std::string& path) {
    return fs::path(path).is_absolute() ? path : from_table(path);
  };
  // A program found on PATH (no '/') stays a bare name; a relative one
  // keeps a '/' so that the shell does not look it up on PATH instead.
  std::string program = merged.program;
  if (program.find('/') != std::string::npos && fs::path(program).is_relative()) {
    program = from_table(program);
    if (program.find('/') == std::string::npos) program = "./" + program;
  }
  YAML::Emitter y;
  y << YAML::Comment(
      "Written by `sim merge` for the table beside it. Every relative path here, those in "
      "the commands too, is relative to the folder this file is in: run the commands from "
      "there.");
  y << YAML::BeginMap << YAML::Key << "scenario" << YAML::Value << rebased(merged.scenario);
  y << YAML::Key << "params" << YAML::Value << YAML::Flow << merged.params;
  y << YAML::Key << "sets" << YAML::Value << YAML::Flow << merged.sets;
  if (merged.no_memory_check) y << YAML::Key << "no_memory_check" << YAML::Value << true;
  y << YAML::Key << "merged" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& d : merged.dirs) y << from_table(d);
  y << YAML::EndSeq << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
  for (const MergedRun& r : merged.runs) {
    y << YAML::BeginMap << YAML::Key << "run" << YAML::Value << r.name;
    y << YAML::Key << "folder" << YAML::Value << from_table(r.folder);
    y << YAML::Key << "seed" << YAML::Value << r.seed;
    y << YAML::Key << "values" << YAML::Value << YAML::Flow << r.values;
    y << YAML::Key << "command" << YAML::Value
      << RunCommandLine(program, rebased(r.scenario), r.folder_params, r.sets,
                        from_table(r.dir), r.folder_name, r.seed,
                        r.folder_values, r.no_memory_check)
      << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

bool IsSweepTable(const std::string& path) {
  const std::string header = FirstLine(path);
  if (header.rfind("run,seed,", 0) != 0) return false;
  std::set<std::string> columns;
  std::stringstream ss(header);
  for (std::string column; std::getline(ss, column, ',');) columns.insert(column);
  for (size_t i = 0; i < kSweepMetricsAlways; ++i)
    if (!columns.count(kSweepMetrics[i])) return false;
  return true;
}

bool IsMergedManifest(const std::string& path) {
  // What MergedManifest writes first (before it said where paths start
  // from, the scenario): anything else is not parsed at all.
  const std::string first = FirstLine(path);
  if (first.rfind("# Written by `sim merge`", 0) != 0 && first.rfind("scenario:", 0) != 0)
    return false;
  try {
    YAML::Node y = YAML::LoadFile(path);
    return y.IsMap() && y["merged"] && y["runs"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace swarm::sim
