#include "sim/scenario_diff.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace swarm::sim {
namespace {

// The first place where two YAML trees differ, as a dotted path ("" for the
// root) and the value at that place in each ("(none)" where there is none).
bool FirstDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                     std::string* where, std::string* in_a, std::string* in_b) {
  // A scalar in double quotes (backslash, quote and control bytes escaped), so a
  // value with spaces, commas or colons cannot run into the text around it;
  // a list or map as flow YAML, which its brackets delimit.
  auto show = [](const YAML::Node& n) -> std::string {
    if (!n.IsDefined() || n.IsNull()) return "(none)";
    if (n.IsScalar()) {
      std::string q = "\"";
      for (unsigned char c : n.Scalar()) {
        if (c == '"' || c == '\\') {
          q += '\\';
          q += static_cast<char>(c);
        } else if (c == '\n') {
          q += "\\n";
        } else if (c < 0x20 || c == 0x7f) {
          static const char* const kHex = "0123456789abcdef";
          q += "\\x";
          q += kHex[c >> 4];
          q += kHex[c & 15];
        } else {
          q += static_cast<char>(c);
        }
      }
      return q + "\"";
    }
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
  };
  auto child = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (a.IsDefined() && b.IsDefined() && a.Type() == b.Type()) {
    if (a.IsMap()) {
      for (const auto& kv : a) {
        const std::string key = kv.first.Scalar();
        if (FirstDifference(kv.second, b[key], child(key), where, in_a, in_b)) return true;
      }
      for (const auto& kv : b) {
        const std::string key = kv.first.Scalar();
        if (!a[key] && FirstDifference(a[key], kv.second, child(key), where, in_a, in_b))
          return true;
      }
      return false;
    }
    if (a.IsSequence()) {
      for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (FirstDifference(a[i], b[i], child(std::to_string(i)), where, in_a, in_b))
          return true;
      }
      return false;
    }
    if (!a.IsScalar() || a.Scalar() == b.Scalar()) return false;
  } else if (!a.IsDefined() && !b.IsDefined()) {
    return false;
  }
  *where = path;
  *in_a = show(a);
  *in_b = show(b);
  return true;
}

}  // namespace

std::string ScenarioDifference(const std::string& a, const std::string& b,
                               const std::string& label_a, const std::string& label_b) {
  std::string where, in_a, in_b;
  try {
    if (FirstDifference(YAML::Load(a), YAML::Load(b), "", &where, &in_a, &in_b))
      return where + ": " + in_a + " " + label_a + ", " + in_b + " " + label_b;
  } catch (const YAML::Exception&) {
  }
  return "";
}

}  // namespace swarm::sim
