#include "net-real/cli/file_table.h"

#include <locale.h>
#include <wchar.h>

#include <algorithm>
#include <cstdio>

#include "core/sha256.h"
#include "core/utf8.h"
#include "net-real/units.h"

namespace swarm::net::cli {
namespace {

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
    const size_t len = core::Utf8DecodeOne(name, i, &c);
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
  // glibc's C.UTF-8 is built into the library (2.35 and later): no locale
  // files, no LANG needed. Made once; never freed.
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  const locale_t before = utf8 ? ::uselocale(utf8) : locale_t{};
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    const size_t len = core::Utf8DecodeOne(text, i, &c);
    const int w = utf8 ? ::wcwidth(static_cast<wchar_t>(c)) : 1;
    width += w < 0 ? 1 : static_cast<size_t>(w);  // a character glibc cannot place: one
    i += len == 0 ? 1 : len;
  }
  if (utf8) ::uselocale(before);
  return width;
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
  std::snprintf(buf, sizeof buf, " %12s %8s %6s %9s  %-16s\n", "SIZE", "PIECES", "SEEDS",
                "LEECHERS", "INFO-HASH");
  out += buf;
  for (size_t i = 0; i < files.size(); ++i) {
    const core::FileEntry& f = files[i];
    std::snprintf(buf, sizeof buf, " %12s %8u %6u %9u  %-16s\n",
                  FormatBytes(static_cast<double>(f.length)).c_str(), f.piece_count, f.seeds,
                  f.leechers, core::ToHex(f.info_hash).substr(0, 16).c_str());
    out += padded(names[i]) + buf;
  }
  if (files.empty()) out += "(no files published)\n";
  return out;
}

}  // namespace swarm::net::cli
