// segc: the seg compiler's command-line driver.
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"

int main(int argc, char** argv) {
  using namespace seg::cli;
  CLI::App app{"segc — check, explain, test and run seg rule programs for LINE Official Accounts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "segc 0.1.0");

  const std::vector<Command> commands = {
      addCheckCommand(app),
      addImportCommand(app),
      addExportCommand(app),
      addStatsCommand(app),
      addGenCommand(app),
      addEvalCommand(app),
      addExplainCommand(app),
      addTestCommand(app),
      addPlanCommand(app),
      addOutboxCommand(app),
      addSimulateCommand(app),
      addWebhookCommand(app),
      addRunCommand(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    printToolError(e.what());
    fmt::print(stderr, "run `segc --help` for usage\n");
    return kExitUsage;
  }
  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const std::exception& e) {
    printToolError(e.what());
    return kExitUsage;
  }
  return kExitUsage;
}
