// Command-line checks shared by `sim` and `swarm` (header-only: CLI11
// validators, the --out check both run before any work, and the list of
// folders --out would create).
#ifndef SWARM_SIM_CLI_CHECKS_H_
#define SWARM_SIM_CLI_CHECKS_H_

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace swarm::sim {

// A whole number in [0, 2^bits) (bits is 32 or 64): CLI11 alone would take
// "-1" as 2^64 - 1 and quietly clamp a number too large for the option's
// type, or refuse it with a bare "Could not convert".
inline CLI::Validator UnsignedWhole(int bits = 64) {
  const uint64_t max = bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const std::string limit = "2^" + std::to_string(bits);
  return CLI::Validator(
      [max, limit](std::string& s) -> std::string {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec == std::errc::result_out_of_range || (ec == std::errc() && v > max))
          return "'" + s + "' is not a whole number below " + limit;
        if (ec != std::errc() || p != s.data() + s.size())
          return "'" + s + "' is not a non-negative whole number";
        return "";
      },
      "");  // nothing added to --help's type column (the option's type_name says it)
}

// Why `--set seed=N` is refused by `sim run` and `swarm run-scenario`, or
// nullopt: the run seed has its own flag (--seed), and next to it the
// --set would be silently unused yet listed in summary.json's overrides.
inline std::optional<std::string> SeedSetProblem(const std::vector<std::string>& sets) {
  for (const std::string& set : sets) {
    if (set.substr(0, set.find('=')) == "seed")
      return std::string("--set seed=...: give the seed with --seed");
  }
  return std::nullopt;
}

// Whether DIR can be created or written: the nearest existing directory at
// or above it must be a writable directory. For checking --out before a
// long run rather than after it.
inline std::optional<std::string> OutDirProblem(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec);
  if (ec) return ec.message();
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p.parent_path() != p) {
    // A loop of symbolic links does not exist either, as far as exists()
    // is concerned: it says why in `ec` (ELOOP).
    if (ec) return p.string() + ": " + ec.message();
    // mkdir would fail on it with a bare "File exists".
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(p, ec)))
      return p.string() + " is a symbolic link to " +
             std::filesystem::read_symlink(p, ec).string() + ", which does not exist";
    p = p.parent_path();
  }
  if (!std::filesystem::is_directory(p, ec)) return p.string() + " is not a directory";
  if (::access(p.c_str(), W_OK) != 0) return p.string() + " is not writable";
  return std::nullopt;
}

// The folders that creating DIR (mkdir -p) would make, deepest first, as
// absolute, lexically normal paths: DIR itself and each parent up to the
// nearest one that exists. `sim run` and `swarm get` record them before
// making them, to remove again what they made if the run stops early. The
// walk stops at a folder whose existence cannot be told (stat fails other
// than "no such file", e.g. EACCES or ELOOP), listing none from there up:
// such a folder is not known to be missing, and mkdir -p would fail on it
// anyway (OutDirProblem refuses such a path before either tool gets here).
inline std::vector<std::string> MissingFolders(const std::string& dir) {
  std::vector<std::string> missing;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec).lexically_normal();
  if (ec) return missing;
  if (!p.has_filename()) p = p.parent_path();  // "a/b/" -> "a/b"
  while (!p.empty() && !std::filesystem::exists(p, ec) && !ec) {
    missing.push_back(p.string());
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return missing;
}

}  // namespace swarm::sim

#endif  // SWARM_SIM_CLI_CHECKS_H_
