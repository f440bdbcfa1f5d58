#include "projects/project_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "core/ids.h"
#include "core/source_control.h"
#include "projects/mlproject.h"
#include "tracking/client.h"

extern char** environ;

namespace mlforge::projects {
namespace {

// The first executable "bash" on $PATH, else /bin/bash.
std::string FindBash() {
  const char* path = std::getenv("PATH");
  std::string entries = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= entries.size()) {
    size_t end = entries.find(':', start);
    if (end == std::string::npos) end = entries.size();
    const std::string folder = entries.substr(start, end - start);
    if (!folder.empty()) {
      std::string candidate = folder + "/bash";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "/bin/bash";
}

// This process's environment with `extra` set (replacing any old values).
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool replaced = false;
    for (const auto& [key, value] : extra) {
      if (text.rfind(key + "=", 0) == 0) replaced = true;
    }
    if (!replaced) environment.push_back(text);
  }
  for (const auto& [key, value] : extra) environment.push_back(key + "=" + value);
  return environment;
}

struct ChildOutcome {
  int exit_code = 0;
  bool killed = false;  // stopped because stop_signal was set
};

// Starts `bash -c command` in `dir` in a new process group and waits for it,
// passing a stop request on to the group (see the header).
core::Result<ChildOutcome> RunChild(const std::string& command, const std::filesystem::path& dir,
                                    const std::vector<std::string>& environment,
                                    const ProjectRunOptions& options) {
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed (the tracking client has threads).
  const std::string bash = FindBash();
  const std::string dir_text = dir.string();
  std::vector<char*> argv = {const_cast<char*>(bash.c_str()), const_cast<char*>("-c"),
                             const_cast<char*>(command.c_str()), nullptr};
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  const pid_t child = fork();
  if (child < 0) return core::InternalError("cannot start the entry point's command: fork failed");
  if (child == 0) {
    setpgid(0, 0);
    // The parent may have ignored or caught these; the command starts clean.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (chdir(dir_text.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(child, child);  // also here, so the group exists before any kill

  ChildOutcome outcome;
  std::optional<std::chrono::steady_clock::time_point> kill_deadline;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) {
      return core::InternalError("waiting for the entry point's command failed");
    }
    const int stop = options.stop_signal != nullptr ? options.stop_signal->load() : 0;
    if (stop != 0 && !kill_deadline) {
      outcome.killed = true;
      kill(-child, stop);
      kill_deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options.kill_grace_ms);
    } else if (kill_deadline && std::chrono::steady_clock::now() > *kill_deadline) {
      kill(-child, SIGKILL);
      kill_deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.exit_code = 128 + WTERMSIG(status);
  }
  // Whatever the command left behind in its group goes too.
  if (outcome.killed) kill(-child, SIGKILL);
  return outcome;
}

}  // namespace

core::Result<ProjectRunResult> RunProject(const ProjectRunOptions& options) {
  MLFORGE_ASSIGN_OR_RETURN(Project project, LoadProject(options.project_dir));
  MLFORGE_ASSIGN_OR_RETURN(EntryPoint entry_point, FindEntryPoint(project, options.entry_point));
  const std::filesystem::path cwd =
      options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
  MLFORGE_ASSIGN_OR_RETURN(RenderedCommand rendered,
                           RenderCommand(entry_point, options.parameters, cwd));
  if (options.warn) {
    for (const auto& [kind, spec] : project.environments) {
      options.warn(project.name + " declares " + kind + ": " + spec +
                   "; mlforge does not create environments, so the command runs in the current "
                   "one (like mlflow run --env-manager local)");
    }
  }

  MLFORGE_ASSIGN_OR_RETURN(
      std::unique_ptr<tracking::Client> client,
      tracking::Client::Open(options.tracking_uri, options.default_tracking_uri, {},
                             options.default_artifact_root));
  ProjectRunResult result;
  result.tracking_uri = client->uri();
  result.command = rendered.command;
  std::string experiment = options.experiment;
  if (experiment.empty()) {
    const char* from_env = std::getenv("MLFLOW_EXPERIMENT_NAME");
    experiment = from_env != nullptr && *from_env != '\0' ? from_env : "Default";
  }
  MLFORGE_ASSIGN_OR_RETURN(result.experiment_id, client->GetOrCreateExperiment(experiment));
  std::vector<tracking::RunTag> tags = {
      {"mlflow.user", core::CurrentUser()}, {"mlflow.source.name", project.dir.string()},
      {"mlflow.source.type", "PROJECT"},    {"mlflow.project.entryPoint", entry_point.name},
      {"mlflow.project.env", "local"},      {"mlflow.project.backend", "local"}};
  const std::string commit = core::GitCommit(project.dir);
  if (!commit.empty()) tags.push_back({"mlflow.source.git.commit", commit});
  for (const auto& extra : options.tags) {
    auto same = std::find_if(tags.begin(), tags.end(),
                             [&](const tracking::RunTag& tag) { return tag.key == extra.first; });
    if (same != tags.end()) {
      same->value = extra.second;
    } else {
      tags.push_back({extra.first, extra.second});
    }
  }
  MLFORGE_ASSIGN_OR_RETURN(
      tracking::Run run,
      client->store().CreateRun(
          result.experiment_id, core::CurrentUser(), core::NowMillis(), tags,
          options.run_name.empty() ? std::nullopt : std::optional<std::string>(options.run_name)));
  result.run_id = run.info.run_id;
  auto finish = [&](tracking::RunStatus status) {
    return client->store()
        .UpdateRun(result.run_id, status, core::NowMillis(), std::nullopt)
        .status()
        .WithContext("ending run " + result.run_id);
  };
  std::vector<tracking::Param> params;
  for (const auto& [key, value] : rendered.parameters) params.push_back({key, value});
  if (core::Status logged = client->store().LogBatch(result.run_id, {}, params, {}); !logged.ok()) {
    (void)finish(tracking::RunStatus::kFailed);
    return logged.WithContext("logging the parameters of run " + result.run_id);
  }

  const std::vector<std::string> environment =
      ChildEnvironment({{"MLFLOW_RUN_ID", result.run_id},
                        {"MLFLOW_TRACKING_URI", result.tracking_uri},
                        {"MLFLOW_EXPERIMENT_ID", result.experiment_id}});
  auto outcome = RunChild(rendered.command, project.dir, environment, options);
  if (!outcome.ok()) {
    (void)finish(tracking::RunStatus::kFailed);
    return outcome.status();
  }
  result.exit_code = outcome->exit_code;
  tracking::RunStatus status = tracking::RunStatus::kFinished;
  if (outcome->killed) {
    status = tracking::RunStatus::kKilled;
  } else if (outcome->exit_code != 0) {
    status = tracking::RunStatus::kFailed;
  }
  result.status = std::string(tracking::RunStatusName(status));
  MLFORGE_RETURN_IF_ERROR(finish(status));
  return result;
}

}  // namespace mlforge::projects
