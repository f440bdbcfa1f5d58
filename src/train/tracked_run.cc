#include "train/tracked_run.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/ids.h"
#include "core/source_control.h"
#include "dist/process_group.h"
#include "dist/strategy.h"
#include "tracking/artifacts/artifact_repository.h"
#include "tracking/client.h"
#include "train/tracking_sink.h"

namespace mlforge::train {
namespace {

constexpr char kRunFile[] = "run.json";

// Uploads what a finished run leaves in its folder to the run's artifacts,
// as MLflow's log_model and log_artifact would: the model package under
// "model" (so `runs:/<id>/model` names it), the last checkpoint under
// "checkpoints", and the resolved config and summary at the top.
core::Status UploadRunArtifacts(const std::filesystem::path& run_dir,
                                const std::string& artifact_uri, const std::string& tracking_uri) {
  MLFORGE_ASSIGN_OR_RETURN(auto repository,
                           tracking::ArtifactRepository::Open(artifact_uri, tracking_uri));
  MLFORGE_RETURN_IF_ERROR(repository->LogFolder(run_dir / "model", "model"));
  for (const char* file : {"config.yaml", "summary.json"}) {
    if (std::filesystem::exists(run_dir / file)) {
      MLFORGE_RETURN_IF_ERROR(repository->LogFile(run_dir / file, ""));
    }
  }
  if (std::filesystem::exists(run_dir / "checkpoint.pt")) {
    MLFORGE_RETURN_IF_ERROR(repository->LogFile(run_dir / "checkpoint.pt", "checkpoints"));
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<TrackedRunResult> RunTracked(const core::Config& given_config,
                                          const TrackedRunOptions& options) {
  TrackedRunResult result;
  core::Config config = given_config;
  nlohmann::json run_record;
  const dist::LaunchEnv& launch = options.launch;
  const bool chief = launch.rank == 0;
  if (launch.distributed() && options.run_dir.empty()) {
    return core::InvalidArgumentError(
        "distributed training needs --run-dir (the same folder on every rank), or start it with "
        "mlforge train CONFIG --nproc N, which picks one");
  }
  bool resume = options.resume;
  bool resume_optional = false;
  if (!resume && launch.restart_count > 0 &&
      std::filesystem::exists(options.run_dir / "config.yaml") &&
      std::filesystem::exists(options.run_dir / kRunFile)) {
    // A restarted group continues the run its previous attempt began.
    resume = true;
    resume_optional = true;
    spdlog::info("restart {} of the group: continuing the run in {}", launch.restart_count,
                 options.run_dir.string());
  }
  if (resume) {
    result.run_dir = options.run_dir;
    if (!std::filesystem::exists(result.run_dir / "config.yaml")) {
      return core::FailedPreconditionError(
          "cannot resume: " + result.run_dir.string() +
          " holds no run (no config.yaml); start one with: mlforge train CONFIG.yaml");
    }
    MLFORGE_ASSIGN_OR_RETURN(config, core::Config::Load(result.run_dir / "config.yaml"));
    auto text = core::ReadFile(result.run_dir / kRunFile);
    if (!text.ok()) {
      return core::FailedPreconditionError("cannot resume: " + result.run_dir.string() +
                                           " holds no run.json (was it made by mlforge train?)");
    }
    run_record = nlohmann::json::parse(*text, nullptr, false);
    if (!run_record.is_object()) {
      return core::InvalidArgumentError((result.run_dir / kRunFile).string() + " is corrupt");
    }
  }
  // A bad dist.* key fails before the group forms.
  MLFORGE_RETURN_IF_ERROR(dist::ReadStrategy(config).status());
  std::unique_ptr<dist::ProcessGroup> group;
  if (launch.distributed()) {
    MLFORGE_ASSIGN_OR_RETURN(int64_t timeout_s, config.Int("dist.timeout_s", 300));
    MLFORGE_ASSIGN_OR_RETURN(group,
                             dist::ProcessGroup::Join(launch, {.timeout_ms = timeout_s * 1000}));
  }
  RunOptions run_options;
  run_options.data_dir = options.data_dir;
  run_options.resume = resume;
  run_options.resume_optional = resume_optional;
  run_options.threads = options.threads;
  run_options.interactive = options.interactive;
  run_options.stop_requested = options.stop_requested;
  run_options.group = group.get();
  run_options.processes_per_host = launch.local_world_size;
  if (launch.threads_per_worker > 0) {
    // mlforge's launcher gives each worker N threads in all: N intra-op
    // threads and a single-threaded BLAS.
    if (run_options.threads == 0) run_options.threads = launch.threads_per_worker;
    run_options.blas_threads = 1;
  }
  MLFORGE_ASSIGN_OR_RETURN(int64_t bucket_kib, config.Int("dist.bucket_kib", 0));
  run_options.bucket_bytes = bucket_kib * 1024;
  run_options.log_world_size = launch.launcher != dist::Launcher::kNone;
  MLFORGE_ASSIGN_OR_RETURN(run_options.strategy, dist::ReadStrategy(config));
  if (!chief) {
    // Only rank 0 tracks; the others train their shard and report nothing.
    result.run_dir = options.run_dir;
    if (run_record.is_object()) result.run_id = run_record.value("run_id", "");
    run_options.run_dir = options.run_dir;
    run_options.run_id = result.run_id;
    NullSink null_sink;
    MLFORGE_ASSIGN_OR_RETURN(result.train, Train(config, run_options, null_sink));
    return result;
  }

  std::string tracking_uri = options.tracking_uri;
  if (tracking_uri.empty() && resume) tracking_uri = run_record.value("tracking_uri", "");
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<tracking::Client> client,
                           tracking::Client::Open(tracking_uri, options.default_tracking_uri, {},
                                                  options.default_artifact_root));
  result.tracking_uri = client->uri();

  if (resume) {
    result.run_id = run_record.value("run_id", "");
    result.experiment_id = run_record.value("experiment_id", "");
    MLFORGE_RETURN_IF_ERROR(
        client->store()
            .UpdateRun(result.run_id, tracking::RunStatus::kRunning, std::nullopt, std::nullopt)
            .status()
            .WithContext("resuming tracking run " + result.run_id));
  } else {
    std::vector<tracking::RunTag> tags = {{"mlflow.user", core::CurrentUser()},
                                          {"mlflow.source.name", config.source()}};
    std::string commit = core::GitCommit(config.source());
    if (!commit.empty()) tags.push_back({"mlflow.source.git.commit", commit});
    for (const auto& [key, value] : options.extra_tags) tags.push_back({key, value});
    tracking::Run run;
    if (!options.existing_run_id.empty()) {
      // MLflow's start_run() under MLFLOW_RUN_ID: continue that run.
      auto existing = client->store().GetRun(options.existing_run_id);
      if (!existing.ok()) {
        return existing.status().WithContext("MLFLOW_RUN_ID names run " + options.existing_run_id);
      }
      run = *existing;
      result.experiment_id = run.info.experiment_id;
      MLFORGE_RETURN_IF_ERROR(
          client->store()
              .UpdateRun(run.info.run_id, tracking::RunStatus::kRunning, std::nullopt, std::nullopt)
              .status()
              .WithContext("continuing tracking run " + run.info.run_id));
      MLFORGE_RETURN_IF_ERROR(client->store().LogBatch(run.info.run_id, {}, {}, tags));
    } else {
      MLFORGE_ASSIGN_OR_RETURN(std::string config_experiment,
                               config.String("experiment", "Default"));
      MLFORGE_ASSIGN_OR_RETURN(std::string config_run_name, config.String("run_name", ""));
      const std::string experiment =
          options.experiment.empty() ? config_experiment : options.experiment;
      const std::string run_name = options.run_name.empty() ? config_run_name : options.run_name;
      MLFORGE_ASSIGN_OR_RETURN(result.experiment_id, client->GetOrCreateExperiment(experiment));
      tags.push_back({"mlflow.source.type", "LOCAL"});
      MLFORGE_ASSIGN_OR_RETURN(
          run, client->store().CreateRun(
                   result.experiment_id, core::CurrentUser(), core::NowMillis(), tags,
                   run_name.empty() ? std::nullopt : std::optional<std::string>(run_name)));
    }
    result.run_id = run.info.run_id;
    result.run_dir = options.run_dir.empty() ? options.runs_dir / result.run_id : options.run_dir;
    run_record = {{"run_id", result.run_id},
                  {"experiment_id", result.experiment_id},
                  {"tracking_uri", result.tracking_uri},
                  {"artifact_uri", run.info.artifact_uri}};
    MLFORGE_RETURN_IF_ERROR(
        core::WriteFileAtomic(result.run_dir / kRunFile, run_record.dump(2) + "\n"));
  }
  spdlog::info("tracking run {} in experiment {} at {}", result.run_id, result.experiment_id,
               result.tracking_uri);

  MLFORGE_ASSIGN_OR_RETURN(auto file_sink, JsonLinesSink::Open(result.run_dir / "metrics.jsonl"));
  TrackingSink tracking_sink(*client, result.run_id);
  MultiSink sink({file_sink.get(), &tracking_sink});
  run_options.run_dir = result.run_dir;
  run_options.run_id = result.run_id;
  if (launch.distributed() || launch.restart_count > 0) {
    sink.SetTag("mlforge.dist.launcher", dist::LauncherName(launch.launcher));
    sink.SetTag("mlforge.dist.world_size", std::to_string(launch.world_size));
    sink.SetTag("mlforge.restarts", std::to_string(launch.restart_count));
    sink.SetTag("mlforge.dist.strategy", dist::DescribeStrategy(run_options.strategy));
    sink.LogMetric("restarts", static_cast<double>(launch.restart_count), 0);
  }
  auto trained = Train(config, run_options, sink);
  if (trained.ok()) {
    const std::string artifact_uri = run_record.value("artifact_uri", "");
    core::Status uploaded =
        artifact_uri.empty()
            ? core::FailedPreconditionError(result.run_dir.string() +
                                            "/run.json names no artifact_uri")
            : UploadRunArtifacts(result.run_dir, artifact_uri, result.tracking_uri);
    if (uploaded.ok()) {
      spdlog::info("model package logged to {}/model", artifact_uri);
    } else {
      // The package is still in the run folder; the run is marked FAILED so
      // nobody registers a model that is not where the run says.
      trained = uploaded.WithContext("logging the run's artifacts (the model package is in " +
                                     (result.run_dir / "model").string() + ")");
    }
  }

  tracking::RunStatus final_status = tracking::RunStatus::kFinished;
  if (!trained.ok()) {
    bool stopped = options.stop_requested != nullptr && options.stop_requested->load();
    final_status = stopped ? tracking::RunStatus::kKilled : tracking::RunStatus::kFailed;
    sink.SetTag("mlforge.error", trained.status().message().substr(0, 5000));
  }
  core::Status flushed = sink.Flush();
  core::Status updated =
      client->store()
          .UpdateRun(result.run_id, final_status, core::NowMillis(), std::nullopt)
          .status();
  if (!trained.ok()) return trained.status();
  if (!flushed.ok()) spdlog::warn("tracking: {}", flushed.message());
  MLFORGE_RETURN_IF_ERROR(updated.WithContext("finishing tracking run " + result.run_id));
  result.train = *trained;
  return result;
}

}  // namespace mlforge::train
