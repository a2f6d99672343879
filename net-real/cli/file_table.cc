#include "net-real/cli/file_table.h"

#include <algorithm>
#include <cstdio>

#include "net-real/units.h"

namespace swarm::net::cli {
namespace {

// The length of the well-formed UTF-8 sequence starting at s[i] (1..4),
// with its code point in *cp; 0 if the bytes there are malformed (a stray
// continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut
// short). Ranges as in the Unicode standard's table of well-formed
// sequences.
size_t DecodeOne(std::string_view s, size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  char32_t c = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    c = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // else overlong
    if (b0 == 0xED) hi = 0x9F;  // else a surrogate
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    c = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // else overlong
    if (b0 == 0xF4) hi = 0x8F;  // else beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  *cp = c;
  return len;
}

// Characters a terminal acts on instead of showing.
bool Steers(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) ||  // C0, DEL, C1
         c == 0x061C || c == 0x200E || c == 0x200F ||  // bidi marks
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);  // embeddings, isolates
}

}  // namespace

std::string PrintableName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    char32_t c = 0;
    const size_t len = DecodeOne(name, i, &c);
    if (len == 0 || Steers(c)) {
      out.push_back('?');
      i += len == 0 ? 1 : len;  // a malformed byte is replaced on its own
    } else {
      out.append(name.substr(i, len));
      i += len;
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  // One per code point: count every byte that does not continue a sequence.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  }));
}

std::string FormatFileTable(const std::vector<core::FileEntry>& files) {
  std::vector<std::string> names;
  size_t width = 32;
  for (const auto& f : files) {
    names.push_back(PrintableName(f.name));
    width = std::max(width, DisplayWidth(names.back()));
  }
  // printf pads by bytes, so the name column is padded here by columns.
  auto padded = [width](const std::string& s) {
    return s + std::string(width - DisplayWidth(s), ' ');
  };
  std::string out = padded("NAME");
  char buf[128];
  std::snprintf(buf, sizeof buf, " %12s %8s %6s %9s\n", "SIZE", "PIECES", "SEEDS", "LEECHERS");
  out += buf;
  for (size_t i = 0; i < files.size(); ++i) {
    const core::FileEntry& f = files[i];
    std::snprintf(buf, sizeof buf, " %12s %8u %6u %9u\n",
                  FormatBytes(static_cast<double>(f.length)).c_str(), f.piece_count, f.seeds,
                  f.leechers);
    out += padded(names[i]) + buf;
  }
  if (files.empty()) out += "(no files published)\n";
  return out;
}

}  // namespace swarm::net::cli
