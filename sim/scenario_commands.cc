#include "sim/scenario_commands.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/units.h"
#include "sim/bounds.h"
#include "sim/cli_common.h"
#include "sim/memory_estimate.h"
#include "sim/scenario_warnings.h"
#include "sim/theory/fluid_model.h"

namespace swarm::sim {
namespace {

// Qiu-Srikant steady state for each class that arrives as a Poisson process
// and leaves after seeding (the fluid model's assumptions).
void PrintFluid(const Scenario& s) {
  for (const ClassFluid& f : ComputeFluid(s)) {
    const char* name = s.peers[f.class_index].name.c_str();
    if (!f.skipped.empty()) {
      std::printf("  fluid model (Qiu-Srikant), class %s: not computed (%s)\n", name,
                  f.skipped.c_str());
      continue;
    }
    std::printf("  fluid model (Qiu-Srikant), class %s: %s, leechers %.1f, seeds %.1f, "
                "download time %.1f s\n",
                name, theory::FluidRegimeName(f.state.regime), f.state.leechers,
                f.state.seeds, f.state.download_time_s);
  }
}

// Why the piece-granular bound does not apply (it takes one seed and
// every leecher uploading at the seed's rate): "one seed uploads 10Mbit/s,
// the leechers 1Mbit/s". Uploads as the bounds count them (a free-rider's
// and a polluter's are 0).
std::string WhyNoPieceGranular(const Scenario& s) {
  const theory::DistributionProblem p = ToDistributionProblem(s);
  if (p.leechers.empty()) return "no leechers";
  if (p.seed_uploads.size() != 1)
    return "it needs exactly one seed; this scenario has " +
           std::to_string(p.seed_uploads.size());
  std::vector<double> rates;  // bytes/s: the leechers' uploads, distinct
  for (const theory::LeecherCapacity& l : p.leechers) {
    const double r = l.upload.bytes_per_second();
    if (std::find(rates.begin(), rates.end(), r) == rates.end()) rates.push_back(r);
  }
  std::sort(rates.begin(), rates.end());
  std::string list;
  for (size_t i = 0; i < rates.size(); ++i)
    list += (i == 0 ? "" : i + 1 == rates.size() ? " and " : ", ") +
            core::FormatRate(core::Rate::BytesPerSecond(rates[i]));
  return "it needs every leecher to upload at the seed's rate; the seed uploads " +
         core::FormatRate(p.seed_uploads[0]) + ", leechers " + list;
}

}  // namespace

int CheckCommand(const std::string& file, const std::vector<std::string>& sets) {
  auto s = LoadOrReport(file, sets);
  if (!s) return kUserError;
  const MemoryLimit limit = AvailableMemory();
  const double need = EstimateRunMemory(*s), have = limit.bytes;
  std::cout << file << ": ok (" << s->name << ", " << s->TotalPeers() << " peers, "
            << s->PieceCount() << (s->PieceCount() == 1 ? " piece" : " pieces") << ", about "
            << FormatMemory(need) << " of memory)\n";
  if (have > 0 && need > have) {
    std::cerr << "sim: warning: " << file << ": about " << FormatMemory(need)
              << " of memory is more than the available " << FormatMemory(have)
              << " (" << limit.source << ")"
              << (FirmRunMemory(*s) > have
                      ? "; sim run refuses it without --no-memory-check\n"
                      : " (if every peer were present at once; its peers leave or fail, so "
                        "sim run warns and runs it)\n");
  }
  for (const std::string& warning : ScenarioWarnings(*s))
    std::cerr << "sim: warning: " << file << ": " << warning << "\n";
  return 0;
}

int BoundsCommand(const std::string& file, const std::vector<std::string>& sets) {
  auto s = LoadOrReport(file, sets);
  if (!s) return kUserError;
  SimpleBounds b = ComputeSimpleBounds(*s);
  std::printf("%s: N = %u leechers, F = %.0f bit, M = %u pieces\n", s->name.c_str(),
              b.leechers, b.file_bits, s->PieceCount());
  std::printf("  seed upload u_s      %.3f Mbit/s\n", b.seed_upload_bps / 1e6);
  std::printf("  leecher upload sum   %.3f Mbit/s\n", b.leecher_upload_bps / 1e6);
  std::printf("  min leecher download %.3f Mbit/s\n", b.min_download_bps / 1e6);
  std::printf("  F/u_s                %.1f s\n", b.file_bits / b.seed_upload_bps);
  std::printf("  F/d_min              %.1f s\n", b.file_bits / b.min_download_bps);
  std::printf("  N F/(u_s + sum u_i)  %.1f s\n",
              b.leechers * b.file_bits / (b.seed_upload_bps + b.leecher_upload_bps));
  std::printf("  Kumar-Ross T_min     %.1f s\n", b.kumar_ross_s);
  if (b.piece_granular_s) {
    // Its doubling argument has one sender per piece: a bound only where no
    // leecher downloads faster than the (equal) upload (docs/theory.md, 2).
    std::printf("  piece-granular       %.1f s%s\n", *b.piece_granular_s,
                b.piece_granular_is_bound ? ""
                                          : " (a reference, not a bound: leechers download "
                                            "faster than they upload; docs/theory.md)");
  } else
    std::printf("  piece-granular       n/a (%s)\n", WhyNoPieceGranular(*s).c_str());
  PrintFluid(*s);
  return 0;
}

}  // namespace swarm::sim
