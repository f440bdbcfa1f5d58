// mlforge pipeline run PIPELINE.yaml [--set name=value]... [--parallel N] [--no-cache]
//   [--tracking-uri URI] [--experiment NAME] [--run-dir DIR]
// mlforge pipeline validate PIPELINE.yaml [--set name=value]...

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "pipeline/runner.h"
#include "pipeline/spec.h"
#include "pipeline/status_table.h"

namespace mlforge::cli {
namespace {

// Set by SIGINT / SIGTERM: running steps are killed, on_exit still runs.
std::atomic<bool> pipeline_stop{false};

void RequestPipelineStop(int) { pipeline_stop.store(true); }

}  // namespace

void AddPipelineCommands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("pipeline", "Run and check pipelines (a DAG of steps)");
  group->require_subcommand(1);

  struct RunFlags {
    std::string spec;
    std::vector<std::string> overrides;
    int parallel = 4;
    bool no_cache = false;
    std::string tracking_uri;
    std::string experiment;
    std::string run_dir;
  };
  auto run_flags = std::make_shared<RunFlags>();
  CLI::App* run = group->add_subcommand("run", "Run a pipeline, reusing cached step outputs");
  run->add_option("pipeline", run_flags->spec, "Pipeline spec (YAML)")->required();
  run->add_option("--set", run_flags->overrides, "Set a param: --set epochs=5");
  run->add_option("--parallel", run_flags->parallel, "Independent steps at once (default 4)")
      ->check(CLI::PositiveNumber);
  run->add_flag("--no-cache", run_flags->no_cache, "Run every step, even when cached");
  run->add_option("--tracking-uri", run_flags->tracking_uri,
                  "http://host:port or sqlite:///path.db (default: $MLFLOW_TRACKING_URI, "
                  "else $MLFORGE_HOME/mlruns.db)");
  run->add_option("--experiment", run_flags->experiment,
                  "Experiment of the run (default: the pipeline's name)");
  run->add_option("--run-dir", run_flags->run_dir,
                  "Folder for this run (default: $MLFORGE_HOME/pipelines/<run id>)");
  run->callback([run_flags] {
    auto pipeline = pipeline::LoadPipeline(run_flags->spec);
    if (!pipeline.ok()) throw CLI::RuntimeError(Fail(pipeline.status().message()));
    auto params = pipeline::ResolveParams(*pipeline, run_flags->overrides);
    if (!params.ok()) throw CLI::RuntimeError(Fail(params.status().message()));
    pipeline::RunOptions options;
    options.params = *params;
    options.parallel = run_flags->parallel;
    options.use_cache = !run_flags->no_cache;
    options.cache_dir = Home() / "cache" / "pipeline";
    options.runs_root = Home() / "pipelines";
    options.run_dir = run_flags->run_dir;
    options.tracking_uri = TrackingUriFrom(run_flags->tracking_uri);
    options.artifact_root = (Home() / "artifacts").string();
    options.experiment = run_flags->experiment;
    options.stop_requested = &pipeline_stop;
    pipeline::ProgressPrinter printer(stdout, isatty(STDOUT_FILENO) != 0);
    options.on_progress = [&printer](const std::vector<pipeline::StepReport>& steps) {
      printer.Update(steps);
    };
    std::signal(SIGINT, RequestPipelineStop);
    std::signal(SIGTERM, RequestPipelineStop);
    auto report = pipeline::RunPipeline(*pipeline, options);
    if (!report.ok()) throw CLI::RuntimeError(Fail(report.status().message()));
    printer.Finish(*report);
    if (!report->succeeded) throw CLI::RuntimeError(1);
  });

  struct ValidateFlags {
    std::string spec;
    std::vector<std::string> overrides;
  };
  auto validate_flags = std::make_shared<ValidateFlags>();
  CLI::App* validate =
      group->add_subcommand("validate", "Check a pipeline spec and its DAG without running it");
  validate->add_option("pipeline", validate_flags->spec, "Pipeline spec (YAML)")->required();
  validate->add_option("--set", validate_flags->overrides, "Check a param value too");
  validate->callback([validate_flags] {
    auto pipeline = pipeline::LoadPipeline(validate_flags->spec);
    if (!pipeline.ok()) throw CLI::RuntimeError(Fail(pipeline.status().message()));
    auto params = pipeline::ResolveParams(*pipeline, validate_flags->overrides);
    if (!params.ok()) throw CLI::RuntimeError(Fail(params.status().message()));
    std::string order;
    for (const std::string& name : pipeline::TopologicalOrder(*pipeline)) {
      order += (order.empty() ? "" : " -> ") + name;
    }
    std::printf("%s: pipeline '%s' is valid: %zu steps%s\norder: %s\n",
                validate_flags->spec.c_str(), pipeline->name.c_str(), pipeline->steps.size(),
                pipeline->on_exit ? " and on_exit" : "", order.c_str());
    for (const pipeline::ParamValue& param : *params) {
      std::printf("param %s = %s\n", param.name.c_str(), param.value.ToTemplateText().c_str());
    }
  });
}

}  // namespace mlforge::cli
