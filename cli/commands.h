// The subcommands of segc. Each registers its options on the CLI app and
// returns the process exit code when run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace seg::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitErrors = 1;  // the input has errors
inline constexpr int kExitUsage = 2;   // bad usage or I/O failure

struct Command {
  CLI::App* app;             // the subcommand, to know whether it was chosen
  std::function<int()> run;  // runs it; returns the exit code
};

Command addCheckCommand(CLI::App& app);
Command addImportCommand(CLI::App& app);
Command addExportCommand(CLI::App& app);
Command addStatsCommand(CLI::App& app);
Command addGenCommand(CLI::App& app);
Command addEvalCommand(CLI::App& app);
Command addExplainCommand(CLI::App& app);
Command addTestCommand(CLI::App& app);
Command addPlanCommand(CLI::App& app);
Command addOutboxCommand(CLI::App& app);
Command addSimulateCommand(CLI::App& app);
Command addWebhookCommand(CLI::App& app);
Command addRunCommand(CLI::App& app);

}  // namespace seg::cli
