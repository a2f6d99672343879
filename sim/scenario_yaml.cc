#include "sim/scenario_yaml.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/units.h"
#include "core/utf8.h"

namespace swarm::sim {
namespace {

// Thrown inside this file only; LoadScenario turns it into a message.
struct ParseFail {
  int line;  // 1-based; 0 when unknown
  std::string field;
  std::string problem;
};

struct Context {
  std::vector<std::string> overridden;  // dotted paths set from the CLI
  std::vector<std::string> override_text;
  // Line of each field path seen in the file (for Validate() errors).
  std::map<std::string, int> lines;
};

thread_local Context* g_ctx = nullptr;  // set for the duration of one parse

// The longest scenario name: with "-real-seed" and a 20-digit seed it still
// fits the 255 bytes of one file name.
constexpr size_t kMaxNameLength = 200;

int LineOf(const YAML::Node& n) {
  return n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

[[noreturn]] void Fail(const YAML::Node& n, const std::string& field,
                       const std::string& problem) {
  throw ParseFail{n ? LineOf(n) : 0, field, problem};
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The Levenshtein distance between `a` and `b`: the fewest one-byte
// insertions, deletions and substitutions that turn one into the other.
// Written here because none of the libraries this project builds with
// (the standard library, yaml-cpp, CLI11, Boost, Eigen, OpenSSL, all from
// Debian) offers one; it only compares field and class names.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);  // distances from a[0..i) to b[0..j)
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];  // a[0..i-1) to b[0..j-1)
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The one name in `known` that `key` is most likely a slip for, or "":
// the one nearest to it ignoring case, when at most 2 edits away -- and at
// most one edit per three characters of `key` (one at least), but fewer
// than all of them, so that a short key is not "corrected" into an
// unrelated word ("to" is 2 edits from "at", "x" one from "l") -- else the
// one that starts with `key` or that `key` starts with (for a key of 3
// characters or more). A tie at either step is no answer.
std::string Closest(const std::string& key, const std::vector<std::string>& known) {
  if (key.empty()) return "";
  const std::string k = Lower(key);
  const size_t limit = std::min<size_t>({2, std::max<size_t>(1, k.size() / 3), k.size() - 1});
  std::string best;
  size_t best_distance = limit + 1;
  bool tie = false;
  for (const std::string& name : known) {
    const size_t d = EditDistance(k, Lower(name));
    if (d < best_distance) {
      best = name;
      best_distance = d;
      tie = false;
    } else if (d == best_distance) {
      tie = true;
    }
  }
  if (!best.empty() && !tie) return best;
  std::string prefix;
  for (const std::string& name : known) {
    const std::string n = Lower(name);
    if (k.size() < 3 || (n.rfind(k, 0) != 0 && k.rfind(n, 0) != 0)) continue;
    if (!prefix.empty()) return "";
    prefix = name;
  }
  return prefix;
}

// A number without a unit. nan and inf are not numbers one forgot a unit on.
bool IsPlainNumber(const std::string& s) {
  double v;
  const char* b = s.data();
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

// yaml-cpp's tag of a node that has none: "?" for a plain value or a
// collection, "!" for a quoted value, "" for an empty one.
bool Untagged(const YAML::Node& n) {
  return n.Tag() == "?" || n.Tag() == "!" || n.Tag().empty();
}

// What holds for every key and value of the document, whatever field it
// is: UTF-8 text, no YAML tag (`!foo 1h` would otherwise read as 1h, the
// tag dropped without a word), and keys that are names, not lists or
// mappings (`? [a, b]`, which would read as an empty name).
void CheckDocument(const YAML::Node& n, const std::string& path) {
  const std::string here = path.empty() ? "(top level)" : path;
  if (!Untagged(n))
    Fail(n, here, "YAML tags (" + n.Tag() + ") are not supported: write the value alone");
  if (n.IsScalar()) {
    if (auto p = core::Utf8Problem(n.Scalar())) Fail(n, here, *p);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) CheckDocument(n[i], Join(path, std::to_string(i)));
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar())
        Fail(it->first, here, "a key must be a single name, not a list or a mapping");
      const std::string key = it->first.Scalar();
      const std::string field = Join(path, core::EscapeNonUtf8(key));
      if (!Untagged(it->first))
        Fail(it->first, field,
             "YAML tags (" + it->first.Tag() + ") are not supported: write the name alone");
      if (auto p = core::Utf8Problem(key)) Fail(it->first, field, "name " + *p);
      CheckDocument(it->second, field);
    }
  }
}

std::string Scalar(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) Fail(n, field, "expected a single value");
  return n.Scalar();
}

// The largest value of a kind of quantity, in the base unit `Magnitude`
// returns (seconds, bytes, ...), and how a message says it.
struct Largest {
  double value;
  const char* text;
  // Below `value`, the largest written with a decimal point (sizes: 2^53
  // bytes, beyond which a double cannot tell whole bytes), or 0 for none.
  double with_point = 0;
  const char* with_point_text = "";
};

// Whether `s`, which `parse` refused, is a well-formed number and unit
// whose value is beyond `largest` (rather than a misspelling); with a
// decimal point, beyond `limit` (largest.value unless given).
template <typename ParseFn, typename MagnitudeFn>
bool TooLarge(const std::string& s, ParseFn parse, MagnitudeFn magnitude, Largest largest,
              double limit = 0) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + i, v);
  if (ec == std::errc::result_out_of_range && p == s.data() + i) {
    v = HUGE_VAL;
  } else if (ec != std::errc() || p != s.data() + i) {
    return false;
  }
  auto one = parse("1" + s.substr(i));  // the unit alone, if it is one
  if (!one) return false;
  // A whole number in a known unit is refused only for its size (sizes are
  // counted exactly, beyond what the double `v` tells apart).
  if (s.find('.') == std::string::npos) return true;
  const double value = v * magnitude(*one);
  return limit > 0 ? !(value < limit) : !(value <= largest.value);
}

template <typename T, typename ParseFn, typename MagnitudeFn>
T Quantity(const YAML::Node& n, const std::string& field, ParseFn parse,
           const char* example, MagnitudeFn magnitude, Largest largest) {
  std::string s = Scalar(n, field);
  if (!s.empty() && s[0] == '-') Fail(n, field, "must not be negative (got '" + s + "')");
  if (IsPlainNumber(s))
    Fail(n, field, "missing unit in '" + s + "' (write e.g. " + example + ")");
  auto v = parse(s);
  if (!v && TooLarge(s, parse, magnitude, largest))
    Fail(n, field, "'" + s + "' is too large (at most " + largest.text + ")");
  if (!v && largest.with_point > 0 && TooLarge(s, parse, magnitude, largest, largest.with_point))
    Fail(n, field, "'" + s + "' is too large for a number with a decimal point (" +
                       largest.with_point_text + ")");
  if (!v) Fail(n, field, "cannot read '" + s + "' (write e.g. " + example + ")");
  return *v;
}

// The limits of core/units.cc's parsers.
core::Duration Dur(const YAML::Node& n, const std::string& f) {
  return Quantity<core::Duration>(
      n, f, core::ParseDuration, "25ms, 10s, 30min, 4h",
      [](core::Duration d) { return d.seconds(); },
      Largest{1e12, "1000000000000s, some 31,700 years"});
}
core::Bytes Size(const YAML::Node& n, const std::string& f) {
  return Quantity<core::Bytes>(
      n, f, core::ParseBytes, "256KiB, 100MiB", [](core::Bytes b) { return double(b); },
      Largest{9e18, "9000000000000000000B, some 7.8 EiB", 9007199254740992.0,
              "below 2^53 bytes, 8 PiB; write a larger size as a whole number, e.g. in a "
              "smaller unit"});
}
core::Rate RateOf(const YAML::Node& n, const std::string& f) {
  return Quantity<core::Rate>(
      n, f, core::ParseRate, "10Mbit/s, 1MiB/s",
      [](core::Rate r) { return r.bytes_per_second(); },
      Largest{core::kMaxRate.bytes_per_second(), "1000Gbit/s"});
}
double Freq(const YAML::Node& n, const std::string& f) {
  return Quantity<double>(
      n, f, core::ParseFrequency, "0.2/s, 12/min", [](double per_s) { return per_s; },
      Largest{DBL_MAX, "a double's range, some 1.8e308/s"});
}

uint64_t UInt(const YAML::Node& n, const std::string& f, uint64_t max) {
  std::string s = Scalar(n, f);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!s.empty() && s[0] == '-') Fail(n, f, "must not be negative (got '" + s + "')");
  if (ec == std::errc::result_out_of_range && p == s.data() + s.size())
    Fail(n, f, "too large (at most " + std::to_string(max) + ")");
  if (ec != std::errc() || p != s.data() + s.size())
    Fail(n, f, "expected a whole number, got '" + s + "'");
  if (v > max) Fail(n, f, "too large (at most " + std::to_string(max) + ")");
  return v;
}
uint32_t U32(const YAML::Node& n, const std::string& f) {
  return static_cast<uint32_t>(UInt(n, f, 0xffffffffu));
}

double Real(const YAML::Node& n, const std::string& f) {
  std::string s = Scalar(n, f);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    Fail(n, f, "expected a number, got '" + s + "'");
  if (!std::isfinite(v)) Fail(n, f, "expected a finite number, got '" + s + "'");
  // -0 is 0 (every real field is a non-negative fraction); kept, it would be
  // written back as -0.
  return v == 0 ? 0.0 : v;
}

bool Bool(const YAML::Node& n, const std::string& f) {
  std::string s = Scalar(n, f);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  Fail(n, f, "expected true or false, got '" + s + "'");
}

bool IsDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// A YAML mapping whose keys must all be known.
class MapReader {
 public:
  MapReader(const YAML::Node& n, std::string path,
            std::initializer_list<const char*> allowed)
      : node_(n), path_(std::move(path)) {
    if (!n.IsMap()) Fail(n, path_.empty() ? "(top level)" : path_, "expected a mapping of fields");
    // A list element has no key line of its own (e.g. `- {class: seed, ...}`).
    if (!path_.empty()) g_ctx->lines.try_emplace(path_, LineOf(n));
    std::map<std::string, int> seen;  // key -> its line
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.Scalar();
      bool ok = false;
      for (const char* a : allowed) ok |= key == a;
      std::string field = Join(path_, key);
      if (!ok && key == "<<") {
        // yaml-cpp reads a merge key as a plain key named "<<".
        Fail(it->first, field,
             "YAML merge keys (<<) are not supported: write the fields out, or "
             "vary them with --set");
      }
      if (!ok && it != n.begin() && IsDigits(key) && it->second.IsNull()) {
        // `count: 1,000` inside {...}: the comma ends the field, and 000
        // reads as a field of its own.
        auto before = n.begin();
        for (auto next = std::next(before); next != it; ++next) before = next;
        if (before->second.IsScalar() && IsDigits(before->second.Scalar())) {
          const std::string number = before->second.Scalar() + "," + key;
          Fail(it->first, Join(path_, before->first.Scalar()),
               number + " reads as " + before->second.Scalar() + " and a field named '" + key +
                   "': inside {...} a comma separates fields; write " +
                   before->second.Scalar() + key);
        }
      }
      if (!ok) {
        const std::string close = Closest(key, {allowed.begin(), allowed.end()});
        if (!close.empty())
          Fail(it->first, field, "unknown field '" + key + "' (did you mean '" + close + "'?)");
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Fail(it->first, field, "unknown field (known here: " + list + ")");
      }
      // yaml-cpp keeps both entries and a lookup finds the first, so the
      // later value would be ignored without a word.
      auto [first, fresh] = seen.try_emplace(key, LineOf(it->first));
      if (!fresh) Fail(it->first, field, "given twice (first on line " + std::to_string(first->second) + ")");
      g_ctx->lines[field] = LineOf(it->first);
    }
  }
  bool Has(const char* key) const { return static_cast<bool>(node_[key]); }
  YAML::Node operator[](const char* key) const { return node_[key]; }
  std::string Path(const char* key) const { return Join(path_, key); }
  const YAML::Node& node() const { return node_; }
  // Exactly one of `keys` must be present; returns it.
  std::string OneOf(std::initializer_list<const char*> keys) const {
    std::string found;
    for (const char* k : keys) {
      if (!Has(k)) continue;
      if (!found.empty()) Fail(node_, path_, "give only one of '" + found + "' and '" + k + "'");
      found = k;
    }
    if (found.empty()) {
      std::string list;
      for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
      Fail(node_, path_, "expected one of: " + list);
    }
    return found;
  }

  template <typename T, typename Fn>
  void Read(const char* key, T& out, Fn fn) const {
    if (Has(key)) out = fn(node_[key], Path(key));
  }

 private:
  YAML::Node node_;
  std::string path_;
};

std::pair<core::Duration, core::Duration> Window(const YAML::Node& n,
                                                 const std::string& f) {
  if (!n.IsSequence() || n.size() != 2)
    Fail(n, f, "expected [low, high], e.g. [0s, 10s]");
  return {Dur(n[0], f + ".0"), Dur(n[1], f + ".1")};
}

RandomDuration RandomDur(const YAML::Node& n, const std::string& f) {
  RandomDuration r;
  if (n.IsScalar()) {
    r.value = Dur(n, f);
    return r;
  }
  MapReader m(n, f, {"fixed", "exponential"});
  std::string k = m.OneOf({"fixed", "exponential"});
  r.exponential = k == "exponential";
  r.value = Dur(m[k.c_str()], m.Path(k.c_str()));
  return r;
}

LatencySpec ReadLatency(const YAML::Node& n, const std::string& f) {
  LatencySpec l;
  MapReader m(n, f, {"constant", "uniform", "matrix", "topology"});
  std::string k = m.OneOf({"constant", "uniform", "matrix", "topology"});
  if (k == "constant") {
    l.kind = LatencySpec::Kind::kConstant;
    l.constant = Dur(m["constant"], m.Path("constant"));
  } else if (k == "uniform") {
    l.kind = LatencySpec::Kind::kUniform;
    std::tie(l.low, l.high) = Window(m["uniform"], m.Path("uniform"));
  } else if (k == "matrix") {
    l.kind = LatencySpec::Kind::kMatrix;
    YAML::Node mat = m["matrix"];
    if (!mat.IsMap()) Fail(mat, m.Path("matrix"), "expected class: {class: delay, ...}");
    // Keys are class names, so no MapReader; a repeated one is refused as
    // there (yaml-cpp keeps both, and the later would be dropped unsaid).
    // Each row and delay's line is kept for Validate()'s errors.
    auto once = [](std::map<std::string, int>& seen, const YAML::Node& key,
                   const std::string& field) {
      auto [first, fresh] = seen.try_emplace(key.Scalar(), LineOf(key));
      if (!fresh)
        Fail(key, field, "given twice (first on line " + std::to_string(first->second) + ")");
      g_ctx->lines[field] = LineOf(key);
    };
    std::map<std::string, int> rows;
    for (auto a = mat.begin(); a != mat.end(); ++a) {
      std::string fa = m.Path("matrix") + "." + a->first.Scalar();
      once(rows, a->first, fa);
      if (!a->second.IsMap()) Fail(a->second, fa, "expected {class: delay, ...}");
      std::map<std::string, int> row;
      for (auto b = a->second.begin(); b != a->second.end(); ++b) {
        const std::string fb = fa + "." + b->first.Scalar();
        once(row, b->first, fb);
        l.matrix[a->first.Scalar()][b->first.Scalar()] = Dur(b->second, fb);
      }
    }
  } else {
    l.kind = LatencySpec::Kind::kTopology;
    MapReader t(m["topology"], m.Path("topology"), {"regions", "links", "access"});
    t.Read("access", l.access, Dur);
    YAML::Node regions = t["regions"];
    if (!regions || !regions.IsSequence() || regions.size() == 0)
      Fail(t.node(), t.Path("regions"), "expected a list of region names");
    for (size_t i = 0; i < regions.size(); ++i)
      l.regions.push_back(Scalar(regions[i], t.Path("regions") + "." + std::to_string(i)));
    YAML::Node links = t["links"];
    if (links && !links.IsSequence()) Fail(links, t.Path("links"), "expected a list");
    for (size_t i = 0; links && i < links.size(); ++i) {
      std::string fl = t.Path("links") + "." + std::to_string(i);
      MapReader lr(links[i], fl, {"from", "to", "delay"});
      if (!lr.Has("from") || !lr.Has("to") || !lr.Has("delay"))
        Fail(links[i], fl, "a link needs from, to and delay");
      l.links.push_back({Scalar(lr["from"], lr.Path("from")),
                         Scalar(lr["to"], lr.Path("to")),
                         Dur(lr["delay"], lr.Path("delay"))});
    }
  }
  return l;
}

ArrivalSpec ReadArrival(const YAML::Node& n, const std::string& f) {
  ArrivalSpec a;
  MapReader m(n, f, {"at", "uniform", "poisson", "decaying"});
  std::string k = m.OneOf({"at", "uniform", "poisson", "decaying"});
  if (k == "at") {
    a.kind = ArrivalSpec::Kind::kAt;
    a.at = Dur(m["at"], m.Path("at"));
  } else if (k == "uniform") {
    a.kind = ArrivalSpec::Kind::kUniform;
    std::tie(a.from, a.to) = Window(m["uniform"], m.Path("uniform"));
  } else if (k == "poisson") {
    a.kind = ArrivalSpec::Kind::kPoisson;
    MapReader p(m["poisson"], m.Path("poisson"), {"rate", "start"});
    if (!p.Has("rate")) Fail(p.node(), p.Path("rate"), "missing (e.g. rate: 0.2/s)");
    a.rate_per_s = Freq(p["rate"], p.Path("rate"));
    p.Read("start", a.at, Dur);
  } else {
    a.kind = ArrivalSpec::Kind::kDecaying;
    MapReader p(m["decaying"], m.Path("decaying"), {"tau", "start"});
    if (!p.Has("tau")) Fail(p.node(), p.Path("tau"), "missing (e.g. tau: 10min)");
    a.tau = Dur(p["tau"], p.Path("tau"));
    p.Read("start", a.at, Dur);
  }
  return a;
}

LeaveSpec ReadLeave(const YAML::Node& n, const std::string& f) {
  LeaveSpec l;
  if (n.IsScalar()) {
    if (n.Scalar() != "never") Fail(n, f, "expected never, {after_complete: ...} or {at: ...}");
    return l;
  }
  MapReader m(n, f, {"after_complete", "at"});
  std::string k = m.OneOf({"after_complete", "at"});
  if (k == "at") {
    l.kind = LeaveSpec::Kind::kAt;
    l.at = Dur(m["at"], m.Path("at"));
  } else {
    l.kind = LeaveSpec::Kind::kAfterComplete;
    l.seeding_time = RandomDur(m["after_complete"], m.Path("after_complete"));
  }
  return l;
}

void ReadProtocol(const YAML::Node& n, const std::string& f, core::PeerConfig& p);

PeerClassSpec ReadClass(const YAML::Node& n, const std::string& f,
                        const core::PeerConfig& base) {
  PeerClassSpec c;
  MapReader m(n, f, {"class", "count", "upload", "download", "start", "arrival",
                     "leave", "free_rider", "corrupt_uploads", "connectable", "failure",
                     "region", "protocol"});
  for (const char* req : {"class", "count", "upload", "download"})
    if (!m.Has(req)) Fail(n, m.Path(req), "missing (every class needs class, count, upload, download)");
  c.name = Scalar(m["class"], m.Path("class"));
  // Class names end up in CSV files, plot legends and --set paths.
  for (char ch : c.name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '.')
      Fail(m["class"], m.Path("class"),
           "use letters, digits, '_', '-' and '.' only (got '" + c.name + "')");
  }
  c.count = static_cast<uint32_t>(UInt(m["count"], m.Path("count"), kMaxPeers));
  c.upload = RateOf(m["upload"], m.Path("upload"));
  c.download = RateOf(m["download"], m.Path("download"));
  if (m.Has("start")) {
    std::string s = Scalar(m["start"], m.Path("start"));
    if (s != "complete" && s != "empty") Fail(m["start"], m.Path("start"), "expected complete or empty");
    c.start_complete = s == "complete";
  }
  if (m.Has("arrival")) c.arrival = ReadArrival(m["arrival"], m.Path("arrival"));
  if (m.Has("leave")) c.leave = ReadLeave(m["leave"], m.Path("leave"));
  m.Read("free_rider", c.free_rider, Bool);
  m.Read("corrupt_uploads", c.corrupt_uploads, Bool);
  m.Read("connectable", c.connectable, Bool);
  if (m.Has("failure")) {
    MapReader fr(m["failure"], m.Path("failure"), {"probability", "after"});
    // Without it nobody fails, whatever `after` says.
    if (!fr.Has("probability"))
      Fail(m["failure"], fr.Path("probability"), "missing: the chance that a peer fails (e.g. 0.2)");
    fr.Read("probability", c.failure.probability, Real);
    if (fr.Has("after")) {
      c.failure.after = RandomDur(fr["after"], fr.Path("after"));
    } else if (c.failure.probability > 0) {
      Fail(m["failure"], fr.Path("after"),
           "missing: when after joining a failing peer vanishes (e.g. after: 10min)");
    }
  }
  if (m.Has("region")) c.region = Scalar(m["region"], m.Path("region"));
  if (m.Has("protocol")) {
    c.protocol = base;
    ReadProtocol(m["protocol"], m.Path("protocol"), *c.protocol);
  }
  return c;
}

// An enum field: `parse` is the core's Parse function for it, `names` the
// names it accepts (core::ChokerKindNames(), ...), listed when it refuses.
template <typename E, typename ParseFn>
E Enum(const YAML::Node& n, const std::string& f, ParseFn parse,
       std::span<const std::string_view> names) {
  std::string s = Scalar(n, f);
  auto v = parse(s);
  if (!v) {
    std::string list;
    for (std::string_view name : names) {
      if (!list.empty()) list += ", ";
      list += name;
    }
    Fail(n, f, "unknown value '" + s + "' (expected one of: " + list + ")");
  }
  return *v;
}

void ReadProtocol(const YAML::Node& n, const std::string& f, core::PeerConfig& p) {
  MapReader m(n, f, {"piece_selection", "random_first_pieces", "endgame", "choker",
                     "seed_choke", "unchoke_slots", "rechoke_interval",
                     "optimistic_interval", "max_connections", "min_connections",
                     "request_pipeline", "request_queue_time", "max_request_length",
                     "max_queued_requests",
                     "uploads_in_flight", "request_timeout", "keepalive_interval",
                     "inactivity_timeout", "idle_timeout", "unused_unchoke_timeout",
                     "upload_stall_timeout",
                     "housekeeping_interval",
                     "min_reannounce_interval", "dial_attempts", "redial_backoff",
                     "ban_strikes", "strict_tft_allowance",
                     "propshare_reserve", "super_seeding"});
  if (m.Has("piece_selection"))
    p.piece_selection =
        Enum<core::PieceSelection>(m["piece_selection"], m.Path("piece_selection"),
                                   core::ParsePieceSelection, core::PieceSelectionNames());
  if (m.Has("choker"))
    p.choker = Enum<core::ChokerKind>(m["choker"], m.Path("choker"), core::ParseChokerKind,
                                      core::ChokerKindNames());
  if (m.Has("seed_choke"))
    p.seed_choke = Enum<core::SeedChoke>(m["seed_choke"], m.Path("seed_choke"),
                                         core::ParseSeedChoke, core::SeedChokeNames());
  m.Read("random_first_pieces", p.random_first_pieces, U32);
  m.Read("endgame", p.endgame, Bool);
  m.Read("unchoke_slots", p.unchoke_slots, U32);
  m.Read("rechoke_interval", p.rechoke_interval, Dur);
  m.Read("optimistic_interval", p.optimistic_interval, Dur);
  m.Read("max_connections", p.max_connections, U32);
  m.Read("min_connections", p.min_connections, U32);
  // Unless given, the dialing threshold follows a lowered connection cap.
  if (!m.Has("min_connections")) p.min_connections = std::min(p.min_connections, p.max_connections);
  m.Read("request_pipeline", p.request_pipeline, U32);
  m.Read("request_queue_time", p.request_queue_time, Dur);
  if (m.Has("max_request_length")) {
    const core::Bytes max = Size(m["max_request_length"], m.Path("max_request_length"));
    if (max > core::Bytes{UINT32_MAX})
      Fail(m["max_request_length"], m.Path("max_request_length"), "too large (at most 4GiB - 1B)");
    p.max_request_length = static_cast<uint32_t>(max);
  }
  m.Read("max_queued_requests", p.max_queued_requests, U32);
  m.Read("uploads_in_flight", p.uploads_in_flight, U32);
  m.Read("request_timeout", p.request_timeout, Dur);
  m.Read("keepalive_interval", p.keepalive_interval, Dur);
  m.Read("inactivity_timeout", p.inactivity_timeout, Dur);
  m.Read("idle_timeout", p.idle_timeout, Dur);
  m.Read("unused_unchoke_timeout", p.unused_unchoke_timeout, Dur);
  m.Read("upload_stall_timeout", p.upload_stall_timeout, Dur);
  m.Read("housekeeping_interval", p.housekeeping_interval, Dur);
  m.Read("min_reannounce_interval", p.min_reannounce_interval, Dur);
  m.Read("dial_attempts", p.dial_attempts, U32);
  m.Read("redial_backoff", p.redial_backoff, Dur);
  m.Read("ban_strikes", p.ban_strikes, U32);
  m.Read("strict_tft_allowance", p.strict_tft_allowance, Size);
  m.Read("propshare_reserve", p.propshare_reserve, Real);
  m.Read("super_seeding", p.super_seeding, Bool);
}

Scenario ReadScenario(const YAML::Node& root) {
  Scenario s;
  CheckDocument(root, "");
  MapReader m(root, "", {"name", "description", "seed", "stop", "file", "network",
                         "protocol", "tracker", "peers", "sample_interval", "measure"});
  if (!m.Has("name")) Fail(root, "name", "missing");
  if (!m.Has("peers")) Fail(root, "peers", "missing");
  s.name = Scalar(m["name"], "name");
  // The name makes the default result folders (results/NAME-seedN,
  // results/NAME-sweep, results/NAME-real-seedN): it must stay one folder
  // name inside results/, neither hidden nor too long for one. Spaces and
  // any UTF-8 letter are fine (older scenarios use them); a '/' or a
  // control character is not.
  if (s.name.empty()) Fail(m["name"], "name", "must not be empty");
  if (s.name.find('/') != std::string::npos)
    Fail(m["name"], "name", "must not contain '/' (got '" + s.name + "')");
  for (size_t i = 0; i < s.name.size(); ++i) {
    const auto u = static_cast<unsigned char>(s.name[i]);
    if (u >= 0x20 && u != 0x7f) continue;
    char what[96];
    std::snprintf(what, sizeof what, "must not contain control characters (byte 0x%02x at %zu)",
                  u, i + 1);
    Fail(m["name"], "name", what);
  }
  if (s.name[0] == '.') Fail(m["name"], "name", "must not start with '.' (got '" + s.name + "')");
  if (s.name.size() > kMaxNameLength)
    Fail(m["name"], "name", "too long (" + std::to_string(s.name.size()) + " characters; at most " +
                                std::to_string(kMaxNameLength) + ")");
  if (m.Has("description")) s.description = Scalar(m["description"], "description");
  if (m.Has("seed")) s.seed = UInt(m["seed"], "seed", ~uint64_t{0});
  if (m.Has("stop")) {
    MapReader st(m["stop"], "stop", {"all_complete", "max_time"});
    st.Read("all_complete", s.stop.all_complete, Bool);
    st.Read("max_time", s.stop.max_time, Dur);
  }
  if (m.Has("file")) {
    MapReader fl(m["file"], "file", {"name", "size", "piece_size", "block_size"});
    if (fl.Has("name")) s.file.name = Scalar(fl["name"], "file.name");
    fl.Read("size", s.file.size, Size);
    fl.Read("piece_size", s.file.piece_size, Size);
    fl.Read("block_size", s.file.block_size, Size);
  }
  if (m.Has("network")) {
    MapReader nw(m["network"], "network", {"latency"});
    if (nw.Has("latency")) s.network.latency = ReadLatency(nw["latency"], "network.latency");
  }
  if (m.Has("protocol")) ReadProtocol(m["protocol"], "protocol", s.protocol);
  if (m.Has("tracker")) {
    MapReader t(m["tracker"], "tracker", {"numwant", "announce_interval", "peer_timeout",
                                          "max_numwant", "latency"});
    t.Read("numwant", s.tracker.numwant, U32);
    t.Read("announce_interval", s.tracker.announce_interval, Dur);
    t.Read("peer_timeout", s.tracker.peer_timeout, Dur);
    t.Read("max_numwant", s.tracker.max_numwant, U32);
    t.Read("latency", s.tracker.latency, Dur);
  }
  YAML::Node peers = m["peers"];
  if (!peers.IsSequence()) Fail(peers, "peers", "expected a list of peer classes");
  for (size_t i = 0; i < peers.size(); ++i)
    s.peers.push_back(ReadClass(peers[i], "peers." + std::to_string(i), s.protocol));
  m.Read("sample_interval", s.sample_interval, Dur);
  if (m.Has("measure")) {
    MapReader ms(m["measure"], "measure", {"joins_from", "joins_until"});
    MeasureSpec& w = s.measure.emplace();
    ms.Read("joins_from", w.joins_from, Dur);
    if (ms.Has("joins_until")) {
      w.joins_until.emplace();
      ms.Read("joins_until", *w.joins_until, Dur);
    }
  }
  return s;
}

bool IsIndex(const std::string& part) {
  return !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
}

// The name of class `i` of the list `peers`, or "" when that element has
// none (ReadClass refuses it later).
std::string ClassNameAt(const YAML::Node& peers, size_t i) {
  const YAML::Node c = peers[i];
  if (!c.IsMap()) return "";
  const YAML::Node name = c["class"];
  return name && name.IsScalar() ? name.Scalar() : "";
}

// The indices of the classes of `peers` named `name`.
std::vector<size_t> ClassesNamed(const YAML::Node& peers, const std::string& name) {
  std::vector<size_t> found;
  for (size_t i = 0; i < peers.size(); ++i)
    if (ClassNameAt(peers, i) == name) found.push_back(i);
  return found;
}

// "peers is a list of 2 classes: 0 = seed, 1 = leecher".
std::string DescribeClasses(const YAML::Node& peers) {
  if (peers.size() == 0) return "peers is an empty list";
  constexpr size_t kShown = 12;
  std::string text = "peers is a list of " + std::to_string(peers.size()) +
                     (peers.size() == 1 ? " class" : " classes");
  for (size_t i = 0; i < peers.size() && i < kShown; ++i) {
    std::string name;  // the message stays one line whatever the file holds
    for (unsigned char c : ClassNameAt(peers, i)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      name += c < 0x20 || c == 0x7f ? std::string(hex) : std::string(1, static_cast<char>(c));
    }
    text += (i == 0 ? ": " : ", ") + std::to_string(i) + " = " +
            (name.empty() ? "(no class name)" : core::EscapeNonUtf8(name));
  }
  return text + (peers.size() > kShown ? ", ..." : "");
}

// The element of the list `list` (at `path`) that the path part `part`
// names: an index, or -- in `peers`, the one list whose elements have
// names -- a class name. An all-digit part is always an index (so a class
// named "7" is reached by its index only).
size_t ListElement(const YAML::Node& list, const std::string& path, const std::string& part) {
  const std::string field = Join(path, part);
  const bool peers = path == "peers";
  if (IsIndex(part)) {
    uint64_t idx = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), idx);
    if (ec == std::errc() && idx < list.size()) return idx;
    if (peers) throw ParseFail{0, field, "no class " + part + ": " + DescribeClasses(list)};
  }
  if (!peers)
    throw ParseFail{0, field, "no such list element (the list has " +
                                  std::to_string(list.size()) + ")"};
  const std::vector<size_t> named = ClassesNamed(list, part);
  if (named.size() == 1) return named[0];
  if (named.size() > 1) {
    std::string which;
    for (size_t i : named) which += (which.empty() ? "" : ", ") + std::to_string(i);
    throw ParseFail{0, field, "more than one class is named '" + part + "' (" + which +
                                  "): give the index (class names must be unique)"};
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) names.push_back(ClassNameAt(list, i));
  const std::string close = Closest(part, names);
  throw ParseFail{0, field, "no class named '" + part + "'" +
                                (close.empty() ? "" : " (did you mean '" + close + "'?)") +
                                ": " + DescribeClasses(list)};
}

// The field an override sets, spelled as errors spell it: a list index
// without leading zeros (peers.01.count sets peers.1.count; ApplyOverride
// reads both as element 1), and a class by its index (peers.leecher.count
// sets peers.1.count when class 1 is named leecher in `root`, the document
// the override applies to). Scenario sections have no numeric keys of
// their own, so an all-digit part is always an index.
std::string OverrideKey(const YAML::Node& root, const std::string& kv) {
  const std::string path = kv.substr(0, kv.find('='));
  std::string key;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (IsIndex(part)) {
      part.erase(0, std::min(part.find_first_not_of('0'), part.size() - 1));
    } else if (key == "peers" && root.IsMap() && root["peers"].IsSequence()) {
      const std::vector<size_t> named = ClassesNamed(root["peers"], part);
      if (named.size() == 1) part = std::to_string(named[0]);
    }
    key = Join(key, part);
  }
  return key;
}

// Is `field` the field `section` names or one inside it?
bool Within(const std::string& field, const std::string& section) {
  return field == section || field.rfind(section + ".", 0) == 0;
}

// Applies "a.b.c=value" to the document. Missing map keys are created (the
// unknown-field check then reports them); list indices must exist.
void ApplyOverride(YAML::Node& root, const std::string& kv) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ParseFail{0, kv, "override must look like field.path=value"};
  std::string path = kv.substr(0, eq);
  if (path.find('[') != std::string::npos) {
    // peers[1].count would become an unknown top-level field 'peers[1]'.
    std::string dotted;
    for (char c : path) {
      if (c == '[') dotted += '.';
      else if (c != ']') dotted += c;
    }
    throw ParseFail{0, path, "list elements take a dot, not brackets: write " + dotted};
  }
  YAML::Node value;
  const std::string text = kv.substr(eq + 1);
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string problem = "bad value: " + e.msg;
    // Unquoted in a shell, --set peers.0.leave={at: 3s} arrives cut at the
    // space: the value is "{at:", and "3s}" another word.
    const size_t first = text.find_first_not_of(" \t");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '['))
      problem += " (a value with { } or [ ] must be one shell word: quote the whole --set "
                 "argument, e.g. --set 'peers.0.leave={at: 3s}')";
    throw ParseFail{0, OverrideKey(root, kv), problem};
  }
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  YAML::Node cur = root;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    const std::string here = walked;
    walked = Join(walked, key);
    bool last = i + 1 == parts.size();
    if (cur.IsSequence()) {
      const size_t idx = ListElement(cur, here, key);
      walked = Join(here, std::to_string(idx));  // as OverrideKey spells it
      if (last) { cur[idx] = value; return; }
      YAML::Node next = cur[idx];
      cur.reset(next);
    } else {
      if (!cur.IsMap() && !cur.IsNull())
        throw ParseFail{0, walked, "cannot set a field inside a single value"};
      if (last) { cur[key] = value; return; }
      // A section the file leaves out (e.g. no `protocol:`) starts empty.
      if (!cur[key].IsDefined()) cur[key] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[key];
      cur.reset(next);
    }
  }
}

// The override an error is about, if any: one that names its field, a
// field inside it or a section holding it, or -- for a Validate() error (no
// line) -- a sibling setting: --set protocol.request_pipeline=300 is refused
// as 'protocol.max_queued_requests'.
std::optional<size_t> OverrideOf(const ParseFail& f) {
  auto section = [](const std::string& field) {
    const size_t dot = field.rfind('.');
    return dot == std::string::npos ? std::string() : field.substr(0, dot);
  };
  for (size_t i = 0; i < g_ctx->overridden.size(); ++i) {
    const std::string& o = g_ctx->overridden[i];
    if (f.field == o || f.field.rfind(o + ".", 0) == 0 || o.rfind(f.field + ".", 0) == 0)
      return i;
  }
  for (size_t i = 0; f.line == 0 && i < g_ctx->overridden.size(); ++i) {
    const std::string& o = g_ctx->overridden[i];
    if (!section(o).empty() && section(o) == section(f.field)) return i;
  }
  return std::nullopt;
}

// What a Validate() error `e` blames: its field, or -- when the file does
// not give that field (it is left at its default) and no override names
// it -- its cause, the setting written in the file that conflicts with the
// default, at that setting's line.
ParseFail Blame(const FieldError& e) {
  const ParseFail f{0, e.field, e.problem};
  if (e.cause.empty() || g_ctx->lines.count(e.field) || OverrideOf(f)) return f;
  auto at = g_ctx->lines.find(e.cause);
  if (at == g_ctx->lines.end()) return f;
  return ParseFail{at->second, e.cause, e.cause_problem};
}

std::string Locate(const std::string& file, const ParseFail& f) {
  if (auto i = OverrideOf(f)) return file + ": --set " + g_ctx->override_text[*i];
  int line = f.line;
  if (line == 0) {
    // Validate() errors: find the closest enclosing field we saw.
    std::string p = f.field;
    while (!p.empty()) {
      auto it = g_ctx->lines.find(p);
      if (it != g_ctx->lines.end()) { line = it->second; break; }
      size_t dot = p.rfind('.');
      p = dot == std::string::npos ? "" : p.substr(0, dot);
    }
  }
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

// A class's region when the latency model is not a topology, which alone
// uses regions: a region written in such a file does nothing, which its
// author cannot have meant. One left by an override that replaces the
// latency is fine (docs/scenarios.md: `--set 'network.latency={constant:
// 25ms}'` on heterogeneous.yaml).
std::optional<ParseFail> UnusedRegion(const Scenario& s) {
  if (s.network.latency.kind == LatencySpec::Kind::kTopology) return std::nullopt;
  for (const std::string& o : g_ctx->overridden) {
    if (Within("network.latency", o) || Within(o, "network.latency")) return std::nullopt;
  }
  for (size_t i = 0; i < s.peers.size(); ++i) {
    if (s.peers[i].region.empty()) continue;
    const std::string field = "peers." + std::to_string(i) + ".region";
    auto line = g_ctx->lines.find(field);
    return ParseFail{line == g_ctx->lines.end() ? 0 : line->second, field,
                     "only a topology latency (network.latency.topology) places classes in "
                     "regions; with this network.latency the region would be ignored"};
  }
  return std::nullopt;
}

// The field a Validate() error is about when `root` (left unchanged) is
// read with `overrides`: "" when the scenario is valid, "\n" when it cannot
// even be read.
std::string ValidateErrorField(const YAML::Node& root, const std::vector<std::string>& overrides) {
  Context scratch;
  // Puts the caller's context back however this ends (an exception other
  // than the two caught below would otherwise leave g_ctx on `scratch`).
  struct Restore {
    Context* ours;
    ~Restore() { g_ctx = ours; }
  } restore{g_ctx};
  g_ctx = &scratch;
  std::string field;
  try {
    YAML::Node copy = YAML::Clone(root);
    for (const std::string& kv : overrides) ApplyOverride(copy, kv);
    if (auto e = ReadScenario(copy).Validate()) field = e->field;
  } catch (const ParseFail&) {
    field = "\n";
  } catch (const YAML::Exception&) {
    field = "\n";
  }
  return field;
}

// The overrides that together cause a Validate() error on `f.field`: each
// one without which the scenario would be valid, and each that names the
// field, a field inside it or a section holding it (two overrides may each
// cause the error alone). In the order given. (One without which another
// error comes up first is not counted: it may well be unrelated.)
std::vector<size_t> OverridesInvolved(const YAML::Node& root, const ParseFail& f) {
  const std::vector<std::string>& all = g_ctx->override_text;
  std::vector<size_t> involved;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& o = g_ctx->overridden[i];
    bool names = f.field == o || f.field.rfind(o + ".", 0) == 0 || o.rfind(f.field + ".", 0) == 0;
    if (!names) {
      std::vector<std::string> others = all;
      others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
      names = ValidateErrorField(root, others).empty();
    }
    if (names) involved.push_back(i);
  }
  return involved;
}

// Line `n` (0-based) of `text`, without its line break; "" past the end.
std::string LineOfText(const std::string& text, int n) {
  size_t begin = 0;
  for (int i = 0; i < n && begin != std::string::npos; ++i) {
    begin = text.find('\n', begin);
    if (begin != std::string::npos) ++begin;
  }
  if (n < 0 || begin == std::string::npos || begin > text.size()) return "";
  const size_t end = text.find('\n', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Plain words after yaml-cpp's message `msg` for a syntax error it found
// on line `line` (0-based) of `text`. A tab in the indentation of that line
// or the one before comes first: YAML forbids it, and yaml-cpp names it
// only sometimes ("illegal map value" is as likely).
std::string SyntaxHint(const std::string& text, int line, const std::string& msg) {
  for (int n : {line, line - 1}) {
    const std::string s = LineOfText(text, n);
    const size_t indent = s.find_first_not_of(" \t-");
    if (s.substr(0, indent).find('\t') != std::string::npos)
      return " (line " + std::to_string(n + 1) + " contains a tab; YAML indentation must use spaces)";
  }
  namespace msgs = YAML::ErrorMsg;
  if (msg == msgs::MAP_VALUE || msg == msgs::MAP_KEY || msg == msgs::END_OF_MAP ||
      msg == msgs::END_OF_SEQ || msg == msgs::BLOCK_ENTRY)
    return " (check the indentation of this line and the one before: YAML indents with "
           "spaces, and the fields of one mapping start in the same column)";
  if (msg == msgs::END_OF_MAP_FLOW || msg == msgs::END_OF_SEQ_FLOW)
    return std::string(" (a '") + (msg == msgs::END_OF_MAP_FLOW ? "{" : "[") +
           "' before this point is not closed, or two of its entries lack a comma between "
           "them)";
  return "";
}

}  // namespace

std::variant<Scenario, ScenarioLoadError> ParseScenario(
    const std::string& path, const std::string& text,
    const std::vector<std::string>& overrides) {
  Context ctx;
  g_ctx = &ctx;
  auto fail = [&](const ParseFail& f) {
    ScenarioLoadError e{Locate(path, f) + ": field '" + f.field + "': " + f.problem};
    g_ctx = nullptr;
    return e;
  };
  try {
    YAML::Node root;
    try {
      std::vector<YAML::Node> docs = YAML::LoadAll(text);
      if (docs.size() > 1) {
        // YAML::Load would read the first and drop the rest without a word.
        g_ctx = nullptr;
        return ScenarioLoadError{path + ":" + std::to_string(docs[1].Mark().line + 1) +
                                 ": a second YAML document (after '---'); a scenario "
                                 "file holds one"};
      }
      if (!docs.empty()) root = docs[0];
    } catch (const YAML::DeepRecursion& e) {
      // yaml-cpp's own message is "bad file".
      g_ctx = nullptr;
      return ScenarioLoadError{path + ":" + std::to_string(e.mark.line + 1) +
                               ": bad YAML: lists or mappings nested too deeply inside one "
                               "another (beyond the YAML reader's limit)"};
    } catch (const YAML::ParserException& e) {
      g_ctx = nullptr;
      return ScenarioLoadError{path + ":" + std::to_string(e.mark.line + 1) +
                               ": bad YAML: " + e.msg + SyntaxHint(text, e.mark.line, e.msg)};
    }
    // An empty file (or one of comments only) reads as no mapping at all:
    // say so rather than "(top level): expected a mapping of fields".
    auto blank = [](const std::string& t) {  // only spaces, line breaks and comments
      std::stringstream lines(t);
      for (std::string l; std::getline(lines, l);) {
        const size_t at = l.find_first_not_of(" \t\r");
        if (at != std::string::npos && l[at] != '#') return false;
      }
      return true;
    };
    if (root.IsNull() && blank(text)) {
      g_ctx = nullptr;
      return ScenarioLoadError{path + ": the file is empty; a scenario is a mapping of fields "
                               "such as name, file and peers (docs/scenarios.md)"};
    }
    // The file as read, for finding out which overrides an error needs.
    const YAML::Node pristine = overrides.empty() ? YAML::Node() : YAML::Clone(root);
    for (const std::string& kv : overrides) {
      // "=5": no field to name, so the error names the --set itself, as
      // the other override errors do.
      if (kv.rfind('=', 0) == 0) {
        g_ctx = nullptr;
        return ScenarioLoadError{path + ": --set " + kv +
                                 ": no field before '='; an override must look like "
                                 "field.path=value"};
      }
      // Written as given into summary.json, which is UTF-8.
      if (auto problem = core::Utf8Problem(kv)) {
        g_ctx = nullptr;
        return ScenarioLoadError{path + ": --set " + core::EscapeNonUtf8(kv) + ": " + *problem};
      }
      const std::string key = OverrideKey(root, kv);
      // The later one would win without a word, and a script that appends
      // a --set to a command line holding one would be silently ignored
      // (or silently win): refused like a key given twice in the file. So
      // is a section set after a field inside it (protocol.x=... then
      // protocol={...}), which drops the field's setting; a field after its
      // section (the section, then one change to it) is fine.
      for (size_t i = 0; i < ctx.overridden.size(); ++i) {
        const std::string& earlier = ctx.overridden[i];
        if (!Within(earlier, key)) continue;
        g_ctx = nullptr;
        return ScenarioLoadError{path + ": --set " + ctx.override_text[i] + " --set " + kv +
                                 ": field '" + earlier + "': set twice; give it once"};
      }
      ctx.overridden.push_back(key);
      ctx.override_text.push_back(kv);
      ApplyOverride(root, kv);
    }
    Scenario s = ReadScenario(root);
    if (auto f = UnusedRegion(s)) return fail(*f);
    if (auto e = s.Validate()) {
      const ParseFail f{0, e->field, e->problem};
      // The file alone may already be wrong here; then it, not an override
      // of a neighbouring setting, gets the blame.
      if (!overrides.empty()) {
        Context* ours = g_ctx;
        auto plain = ParseScenario(path, text, {});
        g_ctx = ours;
        auto* err = std::get_if<ScenarioLoadError>(&plain);
        auto ends_with = [&](const std::string& field, const std::string& problem) {
          const std::string same = ": field '" + field + "': " + problem;
          return err && err->message.size() >= same.size() &&
                 err->message.compare(err->message.size() - same.size(), same.size(), same) == 0;
        };
        if (ends_with(e->field, e->problem) ||
            (!e->cause.empty() && ends_with(e->cause, e->cause_problem))) {
          g_ctx = nullptr;
          return *err;
        }
        // Name every override involved, even one that does not name the
        // field (a topology set from the command line leaves the file's
        // classes without a region; a longer max_time makes the file's
        // sample_interval too small). When the file alone is fine and no
        // single override is to blame, all of them are.
        std::vector<size_t> involved = OverridesInvolved(pristine, f);
        if (involved.empty() && !err) {
          for (size_t i = 0; i < ctx.override_text.size(); ++i) involved.push_back(i);
        }
        if (!involved.empty()) {
          std::string sets;
          for (size_t i : involved) sets += " --set " + ctx.override_text[i];
          ScenarioLoadError blamed{path + ":" + sets + ": field '" + f.field + "': " + f.problem};
          g_ctx = nullptr;
          return blamed;
        }
      }
      return fail(Blame(*e));
    }
    g_ctx = nullptr;
    s.overrides = overrides;
    return s;
  } catch (const ParseFail& f) {
    return fail(f);
  } catch (const YAML::Exception& e) {
    g_ctx = nullptr;
    return ScenarioLoadError{path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

std::variant<Scenario, ScenarioLoadError> LoadScenario(
    const std::string& path, const std::vector<std::string>& overrides) {
  // A folder opens as an empty stream and would read as an empty scenario.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return ScenarioLoadError{path + ": is a directory, not a scenario file"};
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // The stream keeps no reason; the open(2) under it left one in errno.
    const int err = errno;
    return ScenarioLoadError{path + ": cannot open file" +
                             (err ? std::string(": ") + std::strerror(err) : std::string())};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(path, ss.str(), overrides);
}

namespace {

// The shortest text that reads back as exactly `v` (0.1, not yaml-cpp's
// 0.10000000000000001): a resolved scenario must reproduce its run, and a
// person reads it too.
std::string ShortestReal(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

void EmitRandom(YAML::Emitter& e, const RandomDuration& r) {
  if (!r.exponential) {
    e << core::FormatDuration(r.value);
  } else {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "exponential" << YAML::Value
      << core::FormatDuration(r.value) << YAML::EndMap;
  }
}

void EmitLatency(YAML::Emitter& e, const LatencySpec& l) {
  e << YAML::BeginMap;
  switch (l.kind) {
    case LatencySpec::Kind::kConstant:
      e << YAML::Key << "constant" << YAML::Value << core::FormatDuration(l.constant);
      break;
    case LatencySpec::Kind::kUniform:
      e << YAML::Key << "uniform" << YAML::Value << YAML::Flow << YAML::BeginSeq
        << core::FormatDuration(l.low) << core::FormatDuration(l.high) << YAML::EndSeq;
      break;
    case LatencySpec::Kind::kMatrix:
      e << YAML::Key << "matrix" << YAML::Value << YAML::BeginMap;
      for (const auto& [a, row] : l.matrix) {
        e << YAML::Key << a << YAML::Value << YAML::Flow << YAML::BeginMap;
        for (const auto& [b, d] : row) e << YAML::Key << b << YAML::Value << core::FormatDuration(d);
        e << YAML::EndMap;
      }
      e << YAML::EndMap;
      break;
    case LatencySpec::Kind::kTopology:
      e << YAML::Key << "topology" << YAML::Value << YAML::BeginMap;
      e << YAML::Key << "regions" << YAML::Value << YAML::Flow << l.regions;
      e << YAML::Key << "links" << YAML::Value << YAML::BeginSeq;
      for (const TopologyLink& k : l.links)
        e << YAML::Flow << YAML::BeginMap << YAML::Key << "from" << YAML::Value << k.from
          << YAML::Key << "to" << YAML::Value << k.to << YAML::Key << "delay"
          << YAML::Value << core::FormatDuration(k.delay) << YAML::EndMap;
      e << YAML::EndSeq;
      e << YAML::Key << "access" << YAML::Value << core::FormatDuration(l.access);
      e << YAML::EndMap;
      break;
  }
  e << YAML::EndMap;
}

void EmitArrival(YAML::Emitter& e, const ArrivalSpec& a) {
  e << YAML::Flow << YAML::BeginMap;
  switch (a.kind) {
    case ArrivalSpec::Kind::kAt:
      e << YAML::Key << "at" << YAML::Value << core::FormatDuration(a.at);
      break;
    case ArrivalSpec::Kind::kUniform:
      e << YAML::Key << "uniform" << YAML::Value << YAML::BeginSeq
        << core::FormatDuration(a.from) << core::FormatDuration(a.to) << YAML::EndSeq;
      break;
    case ArrivalSpec::Kind::kPoisson:
      e << YAML::Key << "poisson" << YAML::Value << YAML::BeginMap << YAML::Key << "rate"
        << YAML::Value << core::FormatFrequency(a.rate_per_s) << YAML::Key << "start"
        << YAML::Value << core::FormatDuration(a.at) << YAML::EndMap;
      break;
    case ArrivalSpec::Kind::kDecaying:
      e << YAML::Key << "decaying" << YAML::Value << YAML::BeginMap << YAML::Key << "tau"
        << YAML::Value << core::FormatDuration(a.tau) << YAML::Key << "start" << YAML::Value
        << core::FormatDuration(a.at) << YAML::EndMap;
      break;
  }
  e << YAML::EndMap;
}

void EmitProtocol(YAML::Emitter& e, const core::PeerConfig& p,
                  const core::PeerConfig* base = nullptr);

void EmitClass(YAML::Emitter& e, const PeerClassSpec& c, const core::PeerConfig& global) {
  e << YAML::BeginMap;
  e << YAML::Key << "class" << YAML::Value << c.name;
  e << YAML::Key << "count" << YAML::Value << c.count;
  e << YAML::Key << "upload" << YAML::Value << core::FormatRate(c.upload);
  e << YAML::Key << "download" << YAML::Value << core::FormatRate(c.download);
  e << YAML::Key << "start" << YAML::Value << (c.start_complete ? "complete" : "empty");
  e << YAML::Key << "arrival" << YAML::Value;
  EmitArrival(e, c.arrival);
  e << YAML::Key << "leave" << YAML::Value;
  switch (c.leave.kind) {
    case LeaveSpec::Kind::kNever: e << "never"; break;
    case LeaveSpec::Kind::kAt:
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "at" << YAML::Value
        << core::FormatDuration(c.leave.at) << YAML::EndMap;
      break;
    case LeaveSpec::Kind::kAfterComplete:
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "after_complete" << YAML::Value;
      EmitRandom(e, c.leave.seeding_time);
      e << YAML::EndMap;
      break;
  }
  e << YAML::Key << "free_rider" << YAML::Value << c.free_rider;
  e << YAML::Key << "corrupt_uploads" << YAML::Value << c.corrupt_uploads;
  e << YAML::Key << "connectable" << YAML::Value << c.connectable;
  e << YAML::Key << "failure" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
    << "probability" << YAML::Value << ShortestReal(c.failure.probability) << YAML::Key << "after"
    << YAML::Value;
  EmitRandom(e, c.failure.after);
  e << YAML::EndMap;
  if (!c.region.empty()) e << YAML::Key << "region" << YAML::Value << c.region;
  if (c.protocol) {
    e << YAML::Key << "protocol" << YAML::Value;
    EmitProtocol(e, *c.protocol, &global);
  }
  e << YAML::EndMap;
}

// With `base`, only the settings that differ from it: a class's protocol
// is the scenario's plus its own changes, and written that way it follows
// an override of the scenario's setting as it did when read (so that `sim
// merge` can tell runs of one experiment apart from another's).
void EmitProtocol(YAML::Emitter& e, const core::PeerConfig& p, const core::PeerConfig* base) {
  auto field = [&](const char* k, auto member, auto format) {
    if (base && (*base).*member == p.*member) return;
    e << YAML::Key << k << YAML::Value << format(p.*member);
  };
  auto same = [](const auto& v) { return v; };
  auto name = [](auto v) { return std::string(core::Name(v)); };
  auto dur = [](core::Duration d) { return core::FormatDuration(d); };
  auto bytes = [](auto b) { return core::FormatBytes(b); };
  using P = core::PeerConfig;
  e << YAML::BeginMap;
  field("piece_selection", &P::piece_selection, name);
  field("random_first_pieces", &P::random_first_pieces, same);
  field("endgame", &P::endgame, same);
  field("choker", &P::choker, name);
  field("seed_choke", &P::seed_choke, name);
  field("unchoke_slots", &P::unchoke_slots, same);
  field("rechoke_interval", &P::rechoke_interval, dur);
  field("optimistic_interval", &P::optimistic_interval, dur);
  field("max_connections", &P::max_connections, same);
  field("min_connections", &P::min_connections, same);
  field("request_pipeline", &P::request_pipeline, same);
  // Written only when on: a scenario.yaml of a run without it stays as it
  // was before the field existed.
  if (p.request_queue_time != core::Duration::Zero() || base)
    field("request_queue_time", &P::request_queue_time, dur);
  field("max_request_length", &P::max_request_length, bytes);
  field("max_queued_requests", &P::max_queued_requests, same);
  field("uploads_in_flight", &P::uploads_in_flight, same);
  field("request_timeout", &P::request_timeout, dur);
  field("keepalive_interval", &P::keepalive_interval, dur);
  field("inactivity_timeout", &P::inactivity_timeout, dur);
  field("idle_timeout", &P::idle_timeout, dur);
  field("unused_unchoke_timeout", &P::unused_unchoke_timeout, dur);
  field("upload_stall_timeout", &P::upload_stall_timeout, dur);
  field("housekeeping_interval", &P::housekeeping_interval, dur);
  field("min_reannounce_interval", &P::min_reannounce_interval, dur);
  field("dial_attempts", &P::dial_attempts, same);
  field("redial_backoff", &P::redial_backoff, dur);
  field("ban_strikes", &P::ban_strikes, same);
  field("strict_tft_allowance", &P::strict_tft_allowance, bytes);
  field("propshare_reserve", &P::propshare_reserve, ShortestReal);
  field("super_seeding", &P::super_seeding, same);
  e << YAML::EndMap;
}

}  // namespace

std::string EmitScenario(const Scenario& s) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << s.name;
  e << YAML::Key << "description" << YAML::Value << s.description;
  e << YAML::Key << "seed" << YAML::Value << s.seed;
  e << YAML::Key << "stop" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
    << "all_complete" << YAML::Value << s.stop.all_complete << YAML::Key << "max_time"
    << YAML::Value << core::FormatDuration(s.stop.max_time) << YAML::EndMap;
  e << YAML::Key << "file" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
    << "name" << YAML::Value << s.file.name << YAML::Key << "size" << YAML::Value
    << core::FormatBytes(s.file.size) << YAML::Key << "piece_size" << YAML::Value
    << core::FormatBytes(s.file.piece_size) << YAML::Key << "block_size" << YAML::Value
    << core::FormatBytes(s.file.block_size) << YAML::EndMap;
  e << YAML::Key << "network" << YAML::Value << YAML::BeginMap << YAML::Key << "latency"
    << YAML::Value;
  EmitLatency(e, s.network.latency);
  e << YAML::EndMap;
  e << YAML::Key << "protocol" << YAML::Value;
  EmitProtocol(e, s.protocol);
  e << YAML::Key << "tracker" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "numwant" << YAML::Value << s.tracker.numwant;
  e << YAML::Key << "announce_interval" << YAML::Value << core::FormatDuration(s.tracker.announce_interval);
  e << YAML::Key << "peer_timeout" << YAML::Value << core::FormatDuration(s.tracker.peer_timeout);
  e << YAML::Key << "max_numwant" << YAML::Value << s.tracker.max_numwant;
  e << YAML::Key << "latency" << YAML::Value << core::FormatDuration(s.tracker.latency);
  e << YAML::EndMap;
  e << YAML::Key << "peers" << YAML::Value << YAML::BeginSeq;
  for (const PeerClassSpec& c : s.peers) EmitClass(e, c, s.protocol);
  e << YAML::EndSeq;
  e << YAML::Key << "sample_interval" << YAML::Value << core::FormatDuration(s.sample_interval);
  if (s.measure) {  // only when given: scenarios without it read as before it existed
    e << YAML::Key << "measure" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
      << "joins_from" << YAML::Value << core::FormatDuration(s.measure->joins_from);
    if (s.measure->joins_until)
      e << YAML::Key << "joins_until" << YAML::Value
        << core::FormatDuration(*s.measure->joins_until);
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string ClosestName(const std::string& key, const std::vector<std::string>& known) {
  return Closest(key, known);
}

}  // namespace swarm::sim
