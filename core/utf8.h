// UTF-8: the one rule for text that both sides share. Scenario files, file
// names published to a tracker, and everything written into summary.json,
// CSV files, plots and protobuf `string` fields must be well-formed UTF-8;
// these functions say whether text is, and where it is not. Pure string
// functions; no I/O.
#ifndef SWARM_CORE_UTF8_H_
#define SWARM_CORE_UTF8_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace swarm::core {

// The length (1..4) of the well-formed UTF-8 sequence that starts at s[i],
// with its code point in *cp; 0 if the bytes there are malformed: a stray
// continuation byte, an overlong form, a surrogate, a code point beyond
// U+10FFFF, or a sequence cut short. The ranges are those of the Unicode
// standard's table of well-formed byte sequences.
// REQUIRES: i < s.size().
size_t Utf8DecodeOne(std::string_view s, size_t i, char32_t* cp);

// The offset of the first byte of `s` that is not part of well-formed
// UTF-8, or npos when all of it is.
size_t Utf8ErrorAt(std::string_view s);

// "not valid UTF-8 at byte N (0xNN)" (N counted from 1), or nullopt.
std::optional<std::string> Utf8Problem(std::string_view s);

// `s` with each byte that is not part of well-formed UTF-8 written as \xNN,
// so that a message can quote bad text.
std::string EscapeNonUtf8(std::string_view s);

}  // namespace swarm::core

#endif  // SWARM_CORE_UTF8_H_
