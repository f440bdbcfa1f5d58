#pragma once

// Each subcommand of the mlforge binary registers itself on the CLI11 app.
// A command parses flags, calls one library function and prints; it holds no
// logic of its own.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

namespace mlforge::cli {

// $MLFORGE_HOME, else ~/.mlforge: datasets live in <home>/data and runs in
// <home>/runs unless flags say otherwise.
std::filesystem::path Home();

// The tracking store commands use when neither --tracking-uri nor
// MLFLOW_TRACKING_URI names one: "sqlite:///<home>/mlruns.db".
std::string DefaultTrackingUri();

// The value of environment variable `name`, or `fallback` when it is unset
// or empty.
std::string EnvOr(const char* name, const std::string& fallback);

// MLflow's order: the --tracking-uri flag when given, else
// MLFLOW_TRACKING_URI, else DefaultTrackingUri().
std::string TrackingUriFrom(const std::string& flag);

// Prints "error: <message>" to stderr and returns the process exit code 1.
int Fail(const std::string& message);

void AddDataCommand(CLI::App& app);
void AddTrainCommand(CLI::App& app);
void AddPredictCommand(CLI::App& app);
void AddRunsCommands(CLI::App& app);  // experiments list, runs list|show|compare
void AddServerCommand(CLI::App& app);
void AddServeCommand(CLI::App& app);       // serve MODEL_URI over the three inference protocols
void AddServeCheckCommand(CLI::App& app);  // serve-check: serve in-process, score rows over HTTP
void AddModelsCommands(CLI::App& app);     // models register|list|show|alias|resolve
// The `pipeline` group with run|validate. Commands added later (export) find
// the group with app.get_subcommand("pipeline"), so register them after this.
void AddPipelineCommands(CLI::App& app);
void AddRunCommand(CLI::App& app);        // run PROJECT_DIR: an MLflow Project entry point
void AddLineageCommand(CLI::App& app);    // lineage models:/NAME/VERSION
void AddEvaluateCommand(CLI::App& app);   // evaluate MODEL_URI --data D
void AddReproduceCommand(CLI::App& app);  // runs reproduce RUN_ID (after AddRunsCommands)
void AddK8sCommands(CLI::App& app);     // k8s render train|serve|server
// `pipeline export --argo`, on the group AddPipelineCommands made.
void AddPipelineExportCommand(CLI::App& app);

}  // namespace mlforge::cli
