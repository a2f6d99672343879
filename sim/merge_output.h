// Where `sim merge` may write a table and its manifest, and merging sweep
// folders into a table (MergeSweeps) with its report on stderr, for `sim
// merge` and for `sim sweep`, which merges its own folder when its runs
// are done.
#ifndef SWARM_SIM_MERGE_OUTPUT_H_
#define SWARM_SIM_MERGE_OUTPUT_H_

#include <optional>
#include <string>
#include <vector>

namespace swarm::sim {

// Merges `dirs` into `csv`, reports problems (with commands that start with
// `program`); returns the exit code. With `with_manifest`, also writes
// MergedManifestPath(csv): the table is not a sweep folder's own
// sweep.csv, so no sweep.yaml beside it describes it.
int MergeInto(const std::vector<std::string>& dirs, const std::string& csv,
              bool with_manifest, const std::string& program);

// Why `sim merge` must not write `path` (the table, or with `manifest` the
// table's manifest), or nullopt. It writes only where nothing is, over an
// empty file, or over what it wrote before: a table (IsSweepTable) or a
// table's manifest (IsMergedManifest); never into the files a sweep folder
// being merged keeps (sweep.yaml, jobs.txt, runs/, logs/, and its own
// sweep.csv unless that is the table of that one folder: `own_table`).
std::optional<std::string> MergeOutputProblem(const std::string& path, bool manifest,
                                              const std::vector<std::string>& dirs,
                                              bool own_table);

}  // namespace swarm::sim

#endif  // SWARM_SIM_MERGE_OUTPUT_H_
