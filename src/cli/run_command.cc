// mlforge run PROJECT_DIR [-e ENTRY] [-P key=value]... [--experiment NAME]
//   [--run-name NAME] [--tracking-uri URI]

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "projects/mlproject.h"
#include "projects/project_run.h"

namespace mlforge::cli {
namespace {

// The signal that asked the project run to stop (0: none yet).
std::atomic<int> project_stop_signal{0};

void RequestProjectStop(int signal_number) { project_stop_signal.store(signal_number); }

}  // namespace

void AddRunCommand(CLI::App& app) {
  struct Flags {
    std::string project;
    std::string entry_point = "main";
    std::vector<std::string> parameters;
    std::string experiment;
    std::string run_name;
    std::vector<std::string> tags;
    std::string tracking_uri;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* run =
      app.add_subcommand("run", "Run an MLflow Project entry point (MLproject) as a tracked run");
  run->add_option("project", flags->project, "Project folder (holding an MLproject file)")
      ->required();
  run->add_option("-e,--entry-point", flags->entry_point, "Entry point (default: main)");
  run->add_option("-P,--param", flags->parameters, "A parameter: -P alpha=0.5 (repeatable)");
  run->add_option("--experiment,--experiment-name", flags->experiment,
                  "Experiment name (default: $MLFLOW_EXPERIMENT_NAME, else Default)");
  run->add_option("--run-name", flags->run_name, "Run name (default: generated)");
  run->add_option("--tag", flags->tags,
                  "Set a tag on the run: --tag mlflow.parentRunId=ID (repeatable)");
  run->add_option("--tracking-uri", flags->tracking_uri,
                  "http://host:port or sqlite:///path.db (default: $MLFLOW_TRACKING_URI, else "
                  "$MLFORGE_HOME/mlruns.db)");
  run->callback([flags] {
    projects::ProjectRunOptions options;
    options.project_dir = flags->project;
    options.entry_point = flags->entry_point;
    for (const std::string& text : flags->parameters) {
      auto assignment = projects::ParseAssignment(text);
      if (!assignment.ok()) throw CLI::RuntimeError(Fail(assignment.status().message()));
      options.parameters.push_back(*assignment);
    }
    for (const std::string& text : flags->tags) {
      auto tag = projects::ParseAssignment(text);
      if (!tag.ok()) throw CLI::RuntimeError(Fail("--tag '" + text + "' must be KEY=VALUE"));
      options.tags.push_back(*tag);
    }
    options.experiment = flags->experiment;
    options.run_name = flags->run_name;
    options.tracking_uri = TrackingUriFrom(flags->tracking_uri);
    options.default_tracking_uri = DefaultTrackingUri();
    options.default_artifact_root = (Home() / "artifacts").string();
    options.stop_signal = &project_stop_signal;
    options.warn = [](const std::string& line) {
      std::fprintf(stderr, "warning: %s\n", line.c_str());
    };
    std::signal(SIGTERM, RequestProjectStop);
    std::signal(SIGINT, RequestProjectStop);
    auto result = projects::RunProject(options);
    if (!result.ok()) throw CLI::RuntimeError(Fail(result.status().message()));
    std::fprintf(stderr, "run %s %s (exit code %d; experiment %s, %s)\n", result->run_id.c_str(),
                 result->status.c_str(), result->exit_code, result->experiment_id.c_str(),
                 result->tracking_uri.c_str());
    if (result->exit_code != 0) throw CLI::RuntimeError(result->exit_code);
    if (result->status != "FINISHED") throw CLI::RuntimeError(1);
  });
}

}  // namespace mlforge::cli
