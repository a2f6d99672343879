// The table `swarm list` prints, and the two pieces of text handling it
// needs: making a name that came from a tracker safe to show on a terminal,
// and measuring how many columns it takes there.
#ifndef SWARM_NET_CLI_FILE_TABLE_H_
#define SWARM_NET_CLI_FILE_TABLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/tracker.h"

namespace swarm::net::cli {

// `name` with every character that could steer the terminal replaced by
// '?': C0 and C1 control characters, DEL, the bidirectional formatting
// characters (which can reorder what is shown), and each byte that is not
// part of well-formed UTF-8. Everything else passes unchanged.
std::string PrintableName(std::string_view name);

// The columns `text` takes on a terminal: glibc's wcwidth under its
// built-in C.UTF-8 locale, whatever the environment's, so East Asian wide
// characters and most emoji count two and combining marks none (a
// terminal whose own tables differ may still shift a row by a column).
// One per code point if that locale cannot be had.
// REQUIRES: well-formed UTF-8 (PrintableName's output).
size_t DisplayWidth(std::string_view text);

// The whole listing: a header, then one line per file (name, size, pieces,
// seeds, leechers, the first 16 hex digits of its info-hash: what `swarm
// share` prints and `swarm get --info-hash` takes), or a note when there
// are none. The name column is as
// wide as the widest name, and at least 32 columns.
std::string FormatFileTable(const std::vector<core::FileEntry>& files);

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_FILE_TABLE_H_
