// mlforge: the machine-learning lifecycle in one program.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "core/logging.h"

namespace mlforge::cli {

std::filesystem::path Home() {
  if (const char* home = std::getenv("MLFORGE_HOME"); home != nullptr && *home != '\0') {
    return home;
  }
  const char* user_home = std::getenv("HOME");
  return std::filesystem::path(user_home ? user_home : ".") / ".mlforge";
}

std::string DefaultTrackingUri() { return "sqlite:///" + (Home() / "mlruns.db").string(); }

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string TrackingUriFrom(const std::string& flag) {
  return flag.empty() ? EnvOr("MLFLOW_TRACKING_URI", DefaultTrackingUri()) : flag;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace mlforge::cli

int main(int argc, char** argv) {
  CLI::App app{"mlforge: data, training, tracking, registry and serving in one program"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags such as --quiet may follow the subcommand
  int verbosity = 1;
  app.add_flag_callback(
      "-q,--quiet", [&] { verbosity = 0; }, "Only warnings and errors");
  app.add_flag_callback(
      "-v,--verbose", [&] { verbosity = 2; }, "Debug output");
  app.parse_complete_callback([&] { mlforge::core::SetupLogging(verbosity); });
  app.add_subcommand("version", "Print the mlforge version")->callback([] {
    std::printf("mlforge %s\n", MLFORGE_VERSION);
  });
  mlforge::cli::AddDataCommand(app);
  mlforge::cli::AddTrainCommand(app);
  mlforge::cli::AddPredictCommand(app);
  mlforge::cli::AddRunsCommands(app);
  mlforge::cli::AddServerCommand(app);
  mlforge::cli::AddServeCommand(app);
  mlforge::cli::AddServeCheckCommand(app);
  mlforge::cli::AddModelsCommands(app);
  mlforge::cli::AddPipelineCommands(app);
  mlforge::cli::AddRunCommand(app);
  mlforge::cli::AddLineageCommand(app);
  mlforge::cli::AddEvaluateCommand(app);
  mlforge::cli::AddReproduceCommand(app);
  mlforge::cli::AddK8sCommands(app);
  mlforge::cli::AddPipelineExportCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // A command's CLI::RuntimeError lands here too; exit() returns its code
    // without printing, as the command already said what went wrong.
    return app.exit(error);
  }
  return 0;
}
