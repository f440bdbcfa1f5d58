#pragma once

// Running an MLflow Project entry point as a tracked run: what `mlforge run`
// does, in the way `mlflow run` runs a local project with env_manager=local.
//
//   1. Loads the project (projects/mlproject.h), picks the entry point and
//      renders its command from the parameters; a bad parameter fails here,
//      before any run exists.
//   2. Creates a run in the experiment (created when missing) with MLflow's
//      tags: mlflow.source.name (the project folder), mlflow.source.type
//      PROJECT, mlflow.project.entryPoint, mlflow.project.env "local",
//      mlflow.project.backend "local", mlflow.user, and
//      mlflow.source.git.commit when the folder is in a git checkout; and
//      logs every parameter used (defaults included) as a param.
//   3. Runs `bash -c COMMAND` in the project folder, in a process group of
//      its own, with MLFLOW_RUN_ID, MLFLOW_TRACKING_URI and
//      MLFLOW_EXPERIMENT_ID added to the environment so the script can log
//      into the run. Its output goes straight to this process's stdout and
//      stderr (streamed, not buffered).
//   4. Ends the run FINISHED when the command exits 0, FAILED otherwise, and
//      KILLED when `stop_signal` became non-zero: the signal is passed on to
//      the command's process group, and SIGKILL follows after
//      `kill_grace_ms`.
//
// Environment specs (python_env, conda_env, docker_env) are not created;
// `warn` is told about each.

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::projects {

struct ProjectRunOptions {
  std::filesystem::path project_dir;
  std::string entry_point = "main";
  // -P key=value pairs, in the order given.
  std::vector<std::pair<std::string, std::string>> parameters;
  // Experiment name; empty: $MLFLOW_EXPERIMENT_NAME, else "Default".
  std::string experiment;
  // More tags for the new run, e.g. {"mlflow.parentRunId", ID} to nest it
  // under a pipeline's run; they may override the tags above.
  std::vector<std::pair<std::string, std::string>> tags;
  // Run name; empty: the store generates one.
  std::string run_name;
  // As tracking::Client::Open: empty means MLFLOW_TRACKING_URI, then
  // `default_tracking_uri`.
  std::string tracking_uri;
  std::string default_tracking_uri;
  std::string default_artifact_root;
  // Where relative path parameters are resolved; empty: the current folder.
  std::filesystem::path cwd;
  // Set (to the signal number) by the caller's SIGTERM/SIGINT handler.
  // Borrowed; may be null.
  const std::atomic<int>* stop_signal = nullptr;
  // How long the command gets after the forwarded signal before SIGKILL.
  // Default 10 s.
  int kill_grace_ms = 10'000;
  // Gets one line per warning (unmanaged environments). May be empty.
  std::function<void(const std::string&)> warn;
};

struct ProjectRunResult {
  std::string run_id;
  std::string experiment_id;
  std::string tracking_uri;
  std::string command;  // as run
  std::string status;   // FINISHED, FAILED or KILLED
  // The command's exit code, or 128 + signal when a signal ended it.
  int exit_code = 0;
};

// Errors before the command starts (bad project, entry point, parameter,
// tracking store) are returned as a Status and no command runs; a command
// that fails or is killed is a result with that status, not an error.
core::Result<ProjectRunResult> RunProject(const ProjectRunOptions& options);

}  // namespace mlforge::projects
