// The flags of `sim sweep` and `sim merge` (SweepCommands, sweep_cli.h)
// and the choice between them; the commands themselves are in
// sweep_command.cc and merge_command.cc.
#include "sim/sweep_cli.h"

#include <CLI/CLI.hpp>

#include "sim/cli_checks.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

// --jobs 0 means "as many as possible" to xargs -P and ninja -j, "one per
// core" to xz -T and an error to make -j; here it quietly meant the default.
// Refused, so no one gets what another tool would have given them.
CLI::Validator AtLeastOneJob() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.find_first_not_of('0') != std::string::npos) return "";
        return "'" + s + "': at least 1 run at a time (leave --jobs out for one per core)";
      },
      "");
}

}  // namespace

SweepCommands::SweepCommands(CLI::App& app) {
  sweep_ = app.add_subcommand("sweep", "run a scenario over a cross product of values x seeds");
  // Not ->required(): a --vary-together before the file takes it as a field,
  // and VaryParams says so, which is clearer than CLI11's "FILE is required".
  sweep_->add_option("FILE", file_, "scenario YAML")->type_name("");
  sweep_->add_option("--vary", vary_, "values of a field (repeat for a cross product)")
      ->type_name("FIELD=V1,V2,...");
  sweep_->add_option("--vary-together", together_,
                     "two or more fields whose i-th values go into the same runs (lock "
                     "step); the group crosses with the other --vary's")
      ->type_name("FIELD=V1,V2,...")
      ->expected(2, 64);
  sweep_->add_option("--seeds", seeds_, "seeds per combination (1 or more)")
      ->required()
      ->type_name("N")
      ->check(UnsignedWhole(32));
  sweep_->add_option("--seed-base", seed_base_, "first seed (default 1)")
      ->type_name("N")
      ->check(UnsignedWhole());
  sweep_->add_option("--jobs", jobs_, "runs at once, at least 1 (default: number of cores)")
      ->type_name("N")
      ->check(UnsignedWhole(32))
      ->check(AtLeastOneJob());
  sweep_->add_option("--out", out_, "sweep folder (default results/NAME-sweep)")
      ->type_name("DIR");
  sweep_->add_option("--set", sets_, "override a field in every run")->type_name("FIELD=VALUE");
  sweep_->add_flag("--emit-jobs", emit_jobs_, "print one `sim run` per line instead of running");
  sweep_->add_option("--plot", plot_, "plot sweep.csv with analysis/plot_sweep.py")
      ->type_name("X:METRIC");
  AddPlotOptions(sweep_);
  sweep_->add_flag("--resume", resume_,
                   "skip runs whose folder is already complete (with --emit-jobs: print only "
                   "the others)");
  sweep_->add_flag("--quiet", quiet_, "no progress output");
  sweep_->add_flag("--no-memory-check", no_memory_check_,
                   "run even if a run's estimated memory exceeds the machine's (passed on to "
                   "each `sim run`); --jobs is then not lowered to fit either");

  merge_ = app.add_subcommand("merge", "build sweep.csv from sweep folders made anywhere");
  merge_->add_option("DIR", dirs_, "sweep folders (each with sweep.yaml and runs/)")
      ->required()
      ->type_name("");
  merge_->add_option("--out", out_,
                    "table to write (default DIR/sweep.csv for one DIR); any other "
                    "FILE.csv also gets FILE.sweep.yaml, its manifest; replaces only a "
                    "table written before or an empty file")
      ->type_name("FILE.csv");
  merge_->add_option("--plot", plot_, "plot the table with analysis/plot_sweep.py")
      ->type_name("X:METRIC");
  AddPlotOptions(merge_);
}

void SweepCommands::AddPlotOptions(CLI::App* app) {
  app->add_option("--plot-paired-to", plot_paired_to_,
                  "with --plot: plot each X value's difference to the run of X=VALUE with "
                  "the same seed (plot_sweep.py --paired-to)")
      ->type_name("VALUE");
  app->add_option("--plot-diff-to", plot_diff_to_,
                  "with --plot: plot each X value's difference of means to X=VALUE's, "
                  "with Welch's 95% interval, for runs that do not pair by seed "
                  "(plot_sweep.py --diff-to)")
      ->type_name("VALUE");
  app->add_flag("--plot-ratio", plot_ratio_,
                "with --plot-paired-to: the ratio to that run instead (plot_sweep.py --ratio)");
  app->add_flag("--plot-logx", plot_logx_,
                "with --plot: a logarithmic x axis (plot_sweep.py --logx)");
}

std::optional<std::string> SweepCommands::VaryParams(std::vector<SweepParam>* params) const {
  // In the order given on the command line, --vary and --vary-together
  // mixed: that order is the order of the columns and of the cross product.
  // parse_order() lists an option once per value it took.
  size_t vary = 0, group = 0, skip = 0;
  for (const CLI::Option* o : sweep_->parse_order()) {
    if (o->get_name() == "--vary") {
      auto p = ParseVary(vary_.at(vary++));
      if (auto* e = std::get_if<std::string>(&p)) return *e;
      params->push_back(std::get<SweepParam>(std::move(p)));
    } else if (o->get_name() == "--vary-together") {
      if (skip > 0) {  // a later field of a group already taken
        --skip;
        continue;
      }
      const std::vector<std::string>& fields = together_.at(group++);
      skip = fields.size() - 1;
      auto p = ParseVaryTogether(fields);
      if (auto* e = std::get_if<std::string>(&p)) return *e;
      for (SweepParam& q : std::get<std::vector<SweepParam>>(p)) params->push_back(std::move(q));
    }
  }
  return std::nullopt;
}

std::optional<int> SweepCommands::RunIfChosen(const std::string& argv0) const {
  if (*sweep_) return Sweep(argv0);
  if (*merge_) return Merge(argv0);
  return std::nullopt;
}

}  // namespace swarm::sim
