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

// The columns `text` takes on a terminal, counted as one per code point.
// REQUIRES: well-formed UTF-8 (PrintableName's output).
// Code points are an approximation: East Asian wide characters and most
// emoji take two columns and combining marks none, so a name holding those
// still shifts its row by that much. Getting them right would need the
// terminal's own width tables (wcwidth and a UTF-8 locale, which a
// script's environment may lack); plain accented and non-Latin alphabets,
// the common case, come out exact.
size_t DisplayWidth(std::string_view text);

// The whole listing: a header, then one line per file (name, size, pieces,
// seeds, leechers, the first 16 hex digits of its info-hash: what `swarm
// share` prints and `swarm get --info-hash` takes), or a note when there
// are none. The name column is as
// wide as the widest name, and at least 32 columns.
std::string FormatFileTable(const std::vector<core::FileEntry>& files);

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_FILE_TABLE_H_
