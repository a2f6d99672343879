// docs/scenarios.md documents every field the scenario reader accepts in a
// table row of its own, and no field the reader does not accept; each
// default it gives in backquotes is the reader's default; and the rows of
// the policy fields (`piece_selection`, `choker`, `seed_choke`) name every
// policy the core accepts.
//
// The fields are not listed here: they are asked of the reader. A mapping
// the reader knows refuses a key it does not know with "unknown field
// (known here: a, b, ...)", so a key no field has, put into each mapping in
// turn, yields the names that mapping accepts; each of those is then given
// a mapping (or a list of one mapping) holding that key in turn, which
// finds the mappings inside it. A field added to the reader is found so
// without a change here, and fails this test until the docs have its row.
//
// A table of docs/scenarios.md counts when its header's first column is
// `field` and it has a `default` column. The names in backquotes in a row's first cell are
// fields, relative to the section: the first name in backquotes in the
// nearest heading above (`network.latency`, `protocol`, `tracker`,
// `peers`), none for "Top level". List indices are left out of paths
// (`peers.arrival.poisson.rate` is the field of every class), and a class's
// own `protocol` takes the fields of the scenario's (its table). Defaults
// are checked for the fields a scenario that gives only what is required
// resolves to (48 of them); those inside a form it does not use
// (`topology.access`, `arrival.poisson.start`) are not.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/peer_config.h"
#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

constexpr const char* kProbe = "zz_no_such_field";

// A valid scenario that gives every optional mapping, so that most probes
// find the mapping's other fields in place (a failure's probability, a
// topology's regions).
const char* kRich = R"(name: rich
description: every section
seed: 3
stop: {all_complete: true, max_time: 1h}
file: {name: f, size: 1MiB, piece_size: 256KiB, block_size: 16KiB}
network:
  latency:
    topology: {regions: [a, b], links: [{from: a, to: b, delay: 10ms}], access: 5ms}
protocol: {choker: tit_for_tat}
tracker: {numwant: 50}
peers:
  - {class: s, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete, region: a,
     arrival: {at: 0s}, leave: never, failure: {probability: 0.5, after: 10min},
     protocol: {choker: round_robin}}
  - {class: l, count: 2, upload: 1Mbit/s, download: 1Mbit/s, region: b,
     arrival: {poisson: {rate: 1/s, start: 0s}}, leave: {after_complete: 1min}}
sample_interval: 1s
measure: {joins_from: 0s, joins_until: 30min}
)";

// Only what the reader requires; everything else at its default.
const char* kMinimal = R"(name: minimal
peers:
  - {class: s, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: l, count: 1, upload: 1Mbit/s, download: 1Mbit/s}
)";

using Path = std::vector<std::string>;  // mapping keys and list indices

bool IsIndex(const std::string& part) {
  return !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
}

std::string Dotted(const Path& path) {
  std::string s;
  for (const std::string& p : path) s += (s.empty() ? "" : ".") + p;
  return s;
}

// `n` with the node at path[i...] replaced by `value`. The mappings at
// depth `strip_from` and below keep only the key on the path: a choice of
// forms (network.latency, arrival, leave) refuses a second key before it
// reads the one probed.
YAML::Node Replaced(const YAML::Node& n, const Path& path, size_t i, const YAML::Node& value,
                    size_t strip_from) {
  if (i == path.size()) return value;
  const std::string& part = path[i];
  if (n.IsSequence() && IsIndex(part)) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (size_t k = 0; k < n.size(); ++k)
      out.push_back(k == std::stoul(part) ? Replaced(n[k], path, i + 1, value, strip_from)
                                          : YAML::Clone(n[k]));
    return out;
  }
  YAML::Node out(YAML::NodeType::Map);
  YAML::Node old;
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it->first.Scalar() == part) {
        old = it->second;
      } else if (i < strip_from) {
        out[it->first.Scalar()] = YAML::Clone(it->second);
      }
    }
  }
  out[part] = Replaced(old, path, i + 1, value, strip_from);
  return out;
}

std::string ErrorOf(const YAML::Node& doc) {
  YAML::Emitter e;
  e << doc;
  auto r = ParseScenario("probe.yaml", e.c_str());
  if (auto* err = std::get_if<ScenarioLoadError>(&r)) return err->message;
  return "";
}

// The keys the reader accepts in the mapping at `path` of `base`, or none
// when it reads no mapping there. `*list` tells whether the mappings are
// the elements of a list there (peers, topology links).
std::vector<std::string> KnownAt(const YAML::Node& base, const Path& path, bool* list) {
  auto known = [](const std::string& message, const std::string& field) {
    const std::string head = "field '" + field + "': unknown field (known here: ";
    const size_t at = message.find(head);
    std::vector<std::string> keys;
    if (at == std::string::npos) return keys;
    std::stringstream ss(message.substr(at + head.size(), message.find(')', at) - at - head.size()));
    for (std::string k; std::getline(ss, k, ',');) keys.push_back(k.substr(k.find_first_not_of(' ')));
    return keys;
  };
  YAML::Node map_probe(YAML::NodeType::Map);
  map_probe[kProbe] = "1";
  if (path.empty()) {
    *list = false;
    return known(ErrorOf(Replaced(base, {kProbe}, 0, YAML::Node("1"), 1)), kProbe);
  }
  YAML::Node list_probe(YAML::NodeType::Sequence);
  list_probe.push_back(map_probe);
  // Keep the other fields of every mapping on the way first; then leave
  // them out from the deepest mapping up (never those of the top level and
  // of a class, which hold what the reader requires).
  const size_t lowest = path[0] == "peers" ? 3 : 1;
  for (size_t strip_from = path.size();; --strip_from) {
    for (bool as_list : {false, true}) {
      const YAML::Node doc = Replaced(base, path, 0, as_list ? list_probe : map_probe, strip_from);
      auto keys = known(ErrorOf(doc), Dotted(path) + (as_list ? ".0." : ".") + kProbe);
      if (!keys.empty()) {
        *list = as_list;
        return keys;
      }
    }
    if (strip_from <= lowest) return {};
  }
}

// Every field path the reader accepts, list indices left out, a mapping
// with its fields (`network.latency`, then `network.latency.constant`, ...).
void Discover(const YAML::Node& base, const Path& path, std::set<std::string>* leaves,
              std::set<std::string>* mappings) {
  bool list = false;
  const std::vector<std::string> keys = KnownAt(base, path, &list);
  Path shown;
  for (const std::string& p : path)
    if (!IsIndex(p)) shown.push_back(p);
  if (keys.empty()) {
    leaves->insert(Dotted(shown));
    return;
  }
  if (!path.empty()) mappings->insert(Dotted(shown));
  for (const std::string& k : keys) {
    Path next = path;
    if (list) next.push_back("0");
    next.push_back(k);
    Discover(base, next, leaves, mappings);
  }
}

// A class's protocol has the scenario's fields (ReadProtocol reads both).
std::string DocumentedAs(const std::string& field) {
  const std::string own = "peers.protocol.";
  return field.rfind(own, 0) == 0 ? "protocol." + field.substr(own.size()) : field;
}

struct DocRow {
  int line;
  std::string default_cell;
  size_t names;  // how many fields the row documents together
  std::string meaning;  // the last cell
};

std::vector<std::string> Backquoted(const std::string& text) {
  std::vector<std::string> out;
  for (size_t a = text.find('`'); a != std::string::npos; a = text.find('`', a)) {
    const size_t b = text.find('`', a + 1);
    if (b == std::string::npos) break;
    out.push_back(text.substr(a + 1, b - a - 1));
    a = b + 1;
  }
  return out;
}

std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::stringstream ss(row.substr(1));
  for (std::string c; std::getline(ss, c, '|');) {
    const size_t a = c.find_first_not_of(' ');
    const size_t b = c.find_last_not_of(' ');
    cells.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
  }
  return cells;
}

// The fields docs/scenarios.md's field tables document, by full path.
std::map<std::string, DocRow> DocumentedFields() {
  std::ifstream in(std::string(SWARMLAB_SOURCE_DIR) + "/docs/scenarios.md");
  EXPECT_TRUE(in) << "cannot read docs/scenarios.md";
  std::map<std::string, DocRow> fields;
  std::string prefix;
  enum { kNoTable, kFieldTable, kOtherTable } table = kNoTable;
  size_t default_col = 0;
  bool in_code = false;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.rfind("```", 0) == 0) in_code = !in_code;
    if (in_code) continue;
    if (line.rfind("#", 0) == 0) {
      const auto names = Backquoted(line);
      prefix = names.empty() ? "" : names[0];
    }
    if (line.rfind("|", 0) != 0) {
      table = kNoTable;
      continue;
    }
    const std::vector<std::string> cells = Cells(line);
    if (table == kNoTable) {  // its header row
      table = kOtherTable;
      for (size_t i = 1; i < cells.size(); ++i) {
        if (cells[0] == "field" && cells[i] == "default") {
          table = kFieldTable;
          default_col = i;
        }
      }
      continue;
    }
    if (table != kFieldTable || cells.size() <= default_col || cells[0].rfind("---", 0) == 0)
      continue;
    const auto names = Backquoted(cells[0]);
    for (const std::string& name : names)
      fields[prefix.empty() ? name : prefix + "." + name] = {number, cells[default_col],
                                                            names.size(), cells.back()};
  }
  return fields;
}

struct Fields {
  std::set<std::string> leaves, mappings;
};

const Fields& ReaderFields() {
  static const Fields f = [] {
    Fields r;
    Discover(YAML::Load(kRich), {}, &r.leaves, &r.mappings);
    return r;
  }();
  return f;
}

TEST(ScenarioDocs, RichScenarioIsValid) {
  // The probes start from it: an error of its own would hide theirs.
  EXPECT_EQ(ErrorOf(YAML::Load(kRich)), "");
  EXPECT_EQ(ErrorOf(YAML::Load(kMinimal)), "");
}

TEST(ScenarioDocs, ProbesFindTheReadersFields) {
  // A check of the probing itself, with a few fields of each depth.
  const Fields& f = ReaderFields();
  for (const char* leaf : {"name", "stop.max_time", "protocol.choker", "peers.protocol.choker",
                           "tracker.latency", "peers.arrival.poisson.rate",
                           "peers.leave.after_complete.exponential", "peers.failure.after.fixed",
                           "network.latency.topology.links.delay", "network.latency.matrix",
                           "measure.joins_until"})
    EXPECT_TRUE(f.leaves.count(leaf)) << leaf;
  for (const char* map : {"stop", "peers", "peers.arrival", "network.latency.topology.links",
                          "peers.failure.after"})
    EXPECT_TRUE(f.mappings.count(map)) << map;
  EXPECT_GE(f.leaves.size(), 90u);  // 96 when written, 25 of them a class's protocol
}

TEST(ScenarioDocs, EveryFieldTheReaderAcceptsHasARow) {
  const auto documented = DocumentedFields();
  for (const std::string& leaf : ReaderFields().leaves) {
    EXPECT_TRUE(documented.count(DocumentedAs(leaf)))
        << "field '" << leaf << "' is accepted by the scenario reader but has no row in a "
        << "field table of docs/scenarios.md (documented as `" << DocumentedAs(leaf) << "`)";
  }
}

TEST(ScenarioDocs, EveryDocumentedFieldIsAccepted) {
  const Fields& f = ReaderFields();
  for (const auto& [field, row] : DocumentedFields()) {
    EXPECT_TRUE(f.leaves.count(field) || f.mappings.count(field))
        << "docs/scenarios.md:" << row.line << " documents `" << field
        << "`, which the scenario reader does not accept";
  }
}

// The rows of the policy fields name every policy the core has (its name
// tables, which the reader takes and lists in its refusals), in backquotes.
TEST(ScenarioDocs, PolicyRowsNameEveryPolicy) {
  const auto documented = DocumentedFields();
  const std::pair<const char*, std::span<const std::string_view>> policies[] = {
      {"protocol.piece_selection", core::PieceSelectionNames()},
      {"protocol.choker", core::ChokerKindNames()},
      {"protocol.seed_choke", core::SeedChokeNames()}};
  for (const auto& [field, names] : policies) {
    const auto row = documented.find(field);
    ASSERT_NE(row, documented.end()) << field;
    const std::vector<std::string> quoted = Backquoted(row->second.meaning);
    for (std::string_view name : names) {
      EXPECT_NE(std::find(quoted.begin(), quoted.end(), name), quoted.end())
          << "docs/scenarios.md:" << row->second.line << ": the row of `" << field
          << "` does not name `" << name << "`, which the core accepts";
    }
  }
}

// Whether the resolved scenario `n` holds the field parts[i...] (in class 1
// for a field of `peers`).
bool InResolved(const YAML::Node& n, const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return true;
  if (!n.IsMap()) return false;
  const YAML::Node child = n[parts[i]];
  if (!child.IsDefined()) return false;
  if (parts[i] != "peers") return InResolved(child, parts, i + 1);
  return child.IsSequence() && child.size() > 1 && InResolved(child[1], parts, i + 1);
}

// The default a row gives in backquotes is what the reader fills in: the
// minimal scenario with that field set to it resolves (EmitScenario) to the
// same text as without. Checked for the fields the minimal scenario's
// resolved form holds; `peers` fields on its class 1, a leecher.
TEST(ScenarioDocs, DocumentedDefaultsAreTheReaders) {
  auto resolve = [](const std::vector<std::string>& sets) -> std::string {
    auto r = ParseScenario("minimal.yaml", kMinimal, sets);
    if (auto* e = std::get_if<ScenarioLoadError>(&r)) return "error: " + e->message;
    return EmitScenario(std::get<Scenario>(r));
  };
  const std::string plain = resolve({});
  const YAML::Node resolved = YAML::Load(plain);
  int checked = 0;
  for (const auto& [field, row] : DocumentedFields()) {
    if (row.names != 1 || row.default_cell.rfind("`", 0) != 0) continue;
    const std::string value = Backquoted(row.default_cell)[0];
    std::vector<std::string> parts;
    std::stringstream ss(field);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    // A form's field (`arrival.uniform`) is not in the resolved minimal scenario.
    if (!InResolved(resolved, parts, 0)) continue;
    std::string path;
    for (const std::string& part : parts)
      path += (path.empty() ? "" : ".") + part + (part == "peers" ? ".1" : "");  // not in the minimal scenario's resolved form (a form's field)
    ++checked;
    const std::string with = resolve({path + "=" + value});
    if (with == plain) continue;
    // The first line that differs, rather than both whole scenarios.
    std::stringstream a(plain), b(with);
    std::string la, lb;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) {
    }
    ADD_FAILURE() << "docs/scenarios.md:" << row.line << ": `" << field
                  << "` is documented with default `" << value
                  << "`, which is not what the reader fills in (--set " << path << "=" << value
                  << " resolves to '" << lb << "' instead of '" << la << "')";
  }
  EXPECT_GE(checked, 45);  // 48 when written
}

// docs/scenarios.md shows scenarios/flash_crowd.yaml "in full": the
// yaml block after that sentence must be the file, byte for byte (its
// description once drifted from the file's).
TEST(ScenarioDocs, TheFlashCrowdShownInFullIsTheFile) {
  auto read = [](const std::string& path) {
    std::ifstream in(std::string(SWARMLAB_SOURCE_DIR) + "/" + path);
    EXPECT_TRUE(in) << "cannot read " << path;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string doc = read("docs/scenarios.md");
  const std::string file = read("scenarios/flash_crowd.yaml");
  const size_t said = doc.find("`scenarios/flash_crowd.yaml`, in full");
  ASSERT_NE(said, std::string::npos) << "docs/scenarios.md no longer shows it in full";
  const size_t start = doc.find("```yaml\n", said);
  ASSERT_NE(start, std::string::npos);
  const size_t body = start + 8;
  const size_t end = doc.find("```\n", body);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(doc.substr(body, end - body), file)
      << "docs/scenarios.md's block differs from scenarios/flash_crowd.yaml";
}

}  // namespace
}  // namespace swarm::sim
