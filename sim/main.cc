// `sim`: run, check and bound simulation scenarios.
//
//   sim run FILE [--seed N] [--out DIR] [--set K=V]... [--quiet] [--plot] [--trace FILE]
//           [--no-memory-check]                                (run_command.h)
//   sim check FILE [--set K=V]...                             (scenario_commands.h)
//   sim bounds FILE [--set K=V]...                            (scenario_commands.h)
//   sim sweep FILE --vary K=V1,V2,... --seeds N ...  /  sim merge DIR...  (sweep_cli.h)
//
// This file only declares the subcommands and their flags and hands the
// chosen one over. Scenario problems print one "FILE:LINE: field 'x':
// problem" line and exit with code 2 without writing anything.
#include <CLI/CLI.hpp>
#include <iostream>

#include "sim/build_info.h"
#include "sim/cli_checks.h"
#include "sim/huge_pages.h"
#include "sim/cli_common.h"
#include "sim/run_command.h"
#include "sim/scenario_commands.h"
#include "sim/scenario_yaml.h"
#include "sim/sweep_cli.h"

namespace {

using swarm::sim::kUserError;

// Adds `sim run` with its flags, which fill `flags`.
CLI::App* AddRun(CLI::App& app, swarm::sim::RunFlags* flags) {
  CLI::App* run = app.add_subcommand("run", "run a scenario and write a result folder");
  run->add_option("FILE", flags->file, "scenario YAML")->required()->type_name("");
  run->add_option("--seed", flags->seed, "run seed (overrides the scenario's)")
      ->type_name("N")
      ->check(swarm::sim::UnsignedWhole());
  run->add_option("--out", flags->out_dir, "result folder (default results/NAME-seedN)")
      ->type_name("DIR");
  run->add_option("--set", flags->sets, "override a field, e.g. protocol.choker=round_robin")
      ->type_name("FIELD=VALUE");
  run->add_flag("--quiet", flags->quiet, "no progress line");
  run->add_flag("--plot", flags->plot, "plot the result folder with analysis/plot_run.py");
  run->add_option("--trace", flags->trace_file,
                  "write one line per protocol event (small swarms)")
      ->type_name("FILE");
  run->add_flag("--no-memory-check", flags->no_memory_check,
                "run even if the estimated memory exceeds the machine's");
  return run;
}

// Adds `sim check` or `sim bounds`: FILE and --set, which fill `file` and
// `sets`.
CLI::App* AddScenarioCommand(CLI::App& app, const std::string& name,
                             const std::string& description, std::string* file,
                             std::vector<std::string>* sets) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("FILE", *file, "scenario YAML")->required()->type_name("");
  command->add_option("--set", *sets, "override a field")->type_name("FIELD=VALUE");
  return command;
}

// CLI11 would say only "A subcommand is required" for `sim frob`: false,
// after naming the subcommands there are, when argv[1] is none of them.
// Only --help and --version come before the subcommand.
bool KnownSubcommand(const CLI::App& app, int argc, char** argv) {
  if (argc <= 1 || argv[1][0] == '-') return true;
  const std::string name = argv[1];
  std::string known;
  bool found = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    found = found || sub->get_name() == name;
    known += (known.empty() ? "" : ", ") + sub->get_name();
  }
  if (!found) {
    std::cerr << "sim: unknown subcommand '" << name << "' (one of " << known
              << "; see sim --help)\n";
  }
  return found;
}

// The subcommand CLI11 parsed (the last one chosen), or null.
const CLI::App* ChosenSubcommand(const CLI::App& app) {
  const std::vector<CLI::App*> chosen = app.get_subcommands();
  return chosen.empty() ? nullptr : chosen.back();
}

// "--seeds=3" -> "--seeds"; "" for what is not an option.
std::string OptionName(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return "";
  return arg.substr(0, arg.find('='));
}

// What to say about the unknown option `name` of `sub`: the option of
// `sub` it is likely a slip for, and the subcommand it belongs to when
// another one has it (`sim run --seeds 3`: sim sweep's).
std::string UnknownOptionText(const CLI::App& app, const CLI::App& sub, const std::string& name) {
  std::vector<std::string> known;
  for (const CLI::Option* o : sub.get_options())
    for (const std::string& l : o->get_lnames()) known.push_back("--" + l);
  std::string text = "unknown option " + name;
  std::vector<std::string> hints;
  if (const std::string close = swarm::sim::ClosestName(name, known); !close.empty())
    hints.push_back("did you mean " + close + "?");
  std::vector<std::string> owners;
  for (const CLI::App* other : app.get_subcommands({})) {
    if (other != &sub && other->get_option_no_throw(name) != nullptr)
      owners.push_back("sim " + other->get_name());
  }
  if (!owners.empty()) {
    std::string list;
    for (size_t i = 0; i < owners.size(); ++i)
      list += (i == 0 ? "" : i + 1 == owners.size() ? " and " : ", ") + owners[i];
    hints.push_back(name + " is an option of " + list);
  }
  for (size_t i = 0; i < hints.size(); ++i) text += (i ? "; " : " (") + hints[i];
  return hints.empty() ? text : text + ")";
}

// CLI11's own text for a bad command line names neither sim nor the
// subcommand ("The following arguments were not expected: 3 --seeds")
// and suggests nothing: say "sim run: unknown option --seeds (did you mean
// --seed?; --seeds is an option of sim sweep)", one line per unknown
// option, and where to read more. --help and --version print as CLI11 does.
int ReportParseError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == 0) return app.exit(e);
  const CLI::App* sub = ChosenSubcommand(app);
  const std::string who = sub ? "sim " + sub->get_name() : std::string("sim");
  std::vector<std::string> lines;
  if (sub && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    for (int i = 2; i < argc; ++i) {
      const std::string name = OptionName(argv[i]);
      if (!name.empty() && sub->get_option_no_throw(name) == nullptr)
        lines.push_back(UnknownOptionText(app, *sub, name));
    }
  }
  if (lines.empty()) lines.push_back(e.what());
  for (const std::string& line : lines) std::cerr << who << ": " << line << "\n";
  std::cerr << "(see " << who << " --help)\n";
  return kUserError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"swarmlab simulator: thousands of virtual peers running the real core"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sim ") + swarm::Version() + " (build " +
                                        swarm::BuildId() + ")");
  swarm::sim::RunFlags run_flags;
  CLI::App* run = AddRun(app, &run_flags);
  std::string file;
  std::vector<std::string> sets;
  CLI::App* check = AddScenarioCommand(app, "check", "validate a scenario file", &file, &sets);
  CLI::App* bounds = AddScenarioCommand(
      app, "bounds", "print the theoretical bounds of a scenario", &file, &sets);
  swarm::sim::SweepCommands sweep_commands(app);  // sim sweep, sim merge

  if (!KnownSubcommand(app, argc, argv)) return kUserError;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, e, argc, argv);
  }
  if (*run) {
    swarm::sim::ReexecWithHugePages(argv);  // returns at once after the re-exec
    return swarm::sim::RunCommand(run_flags);
  }
  if (*check) return swarm::sim::CheckCommand(file, sets);
  if (*bounds) return swarm::sim::BoundsCommand(file, sets);
  if (auto rc = sweep_commands.RunIfChosen(argv[0])) return *rc;
  return kUserError;
}
