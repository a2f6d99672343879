#include "core/utf8.h"

#include <cstdio>

namespace swarm::core {

size_t Utf8DecodeOne(std::string_view s, size_t i, char32_t* cp) {
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
    return 0;  // a continuation byte, 0xC0/0xC1 (overlong) or 0xF5..0xFF
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

size_t Utf8ErrorAt(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = Utf8DecodeOne(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::optional<std::string> Utf8Problem(std::string_view s) {
  const size_t at = Utf8ErrorAt(s);
  if (at == std::string_view::npos) return std::nullopt;
  char buf[80];
  std::snprintf(buf, sizeof buf, "not valid UTF-8 at byte %zu (0x%02x)", at + 1,
                static_cast<unsigned char>(s[at]));
  return std::string(buf);
}

std::string EscapeNonUtf8(std::string_view s) {
  std::string out;
  for (size_t at; (at = Utf8ErrorAt(s)) != std::string_view::npos;) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[at]));
    out.append(s.substr(0, at)).append(buf);
    s.remove_prefix(at + 1);
  }
  return out.append(s);
}

}  // namespace swarm::core
