// Writing a result file so that no reader ever sees half of it.
#ifndef SWARMLAB_SIM_WRITE_FILE_H_
#define SWARMLAB_SIM_WRITE_FILE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace swarm::sim {

// Writes `text` to `path` so that `path` holds either what it held before
// or all of `text`, never a prefix: a disk that fills up or a kill
// mid-write leaves it as it was. The text goes to a hidden sibling first
// (".NAME.partial", which the next attempt overwrites) and is renamed over
// `path` once written and closed. No fsync: results can be made again, a
// power cut is not worth a disk flush per file. Returns why it failed,
// naming `path`, or nullopt.
std::optional<std::string> WriteFileWhole(const std::filesystem::path& path,
                                          std::string_view text);

}  // namespace swarm::sim

#endif  // SWARMLAB_SIM_WRITE_FILE_H_
