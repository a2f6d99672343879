// Writing a result file so that no reader ever sees half of it.
//
// sim writes its results (peers.csv, timeline.csv, scenario.yaml,
// summary.json), a sweep's plan (sweep.yaml, jobs.txt) and merged tables
// through WriteFileWhole. Thread-safe for distinct paths.
#ifndef SWARMLAB_SIM_WRITE_FILE_H_
#define SWARMLAB_SIM_WRITE_FILE_H_

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace swarm::sim {

// Writes `text` to `path` so that `path` holds either what it held before
// or all of `text`, never a prefix: a disk that fills up or a kill
// mid-write leaves it as it was. The text goes to a hidden sibling first
// (".NAME.PID.partial", created afresh, never through a link) and is
// renamed over `path` once written and closed; so a link at `path` is
// replaced, not followed, and the new file has the umask's mode, not the
// old file's. A `path` that is not a plain file (a pipe, /dev/stdout) is
// written directly: there is nothing to replace. No fsync: results can be
// made again, a power cut is not worth a disk flush per file. Returns why
// it failed, naming `path`, or nullopt.
// `before_rename`, if given, is told the written file (its device and
// inode, which the rename keeps) just before it takes `path`'s place, so
// that an interrupt handler can later tell this process's file from any
// other's at `path`. Not called for a file written directly.
std::optional<std::string> WriteFileWhole(
    const std::filesystem::path& path, std::string_view text,
    const std::function<void(const struct stat&)>& before_rename = {});

// The hidden sibling WriteFileWhole writes `path`'s text to in this process
// (".NAME.PID.partial"): what an interrupted writer removes on its way out.
std::filesystem::path PartialPath(const std::filesystem::path& path);

}  // namespace swarm::sim

#endif  // SWARMLAB_SIM_WRITE_FILE_H_
