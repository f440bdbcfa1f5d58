#pragma once

// A pipeline (pipeline/spec.h) as an Argo Workflow, as
// `mlforge pipeline export --argo PIPELINE.yaml` writes it.
//
//   MLFORGE_ASSIGN_OR_RETURN(pipeline::Pipeline spec, pipeline::LoadPipeline("p.yaml"));
//   ArgoOptions options{.image = "registry.example.com/mlforge:0.1.0"};
//   MLFORGE_ASSIGN_OR_RETURN(std::vector<Document> documents, RenderArgoWorkflow(spec, options));
//
// The shape (argoproj.io/v1alpha1 Workflow):
//  - the pipeline's params are the workflow's arguments.parameters (a list
//    param's default as a JSON array), referenced as
//    {{workflow.parameters.NAME}};
//  - one "main" template with a DAG, one task per step with `dependencies`
//    (the spec's explicit and inferred ones), `when` (the condition with
//    step outputs and params as Argo references, `and`/`or`/`not` as
//    `&&`/`||`/`!`), `withItems` / `withParam` for for_each (the item is the
//    input parameter "item");
//  - one container template per step, running the same mlforge binary of
//    `image` under /bin/sh -c: `mlforge:` steps as `mlforge ARGS`, `run:`
//    steps as written. retry becomes retryStrategy (limit, backoff duration
//    and factor), timeout activeDeadlineSeconds;
//  - on_exit becomes the workflow's onExit template, which sees
//    {{workflow.status}} as {{pipeline.status}}.
//
// Files move between steps on one volume mounted at /mnt/mlforge in every
// step (MLFORGE_HOME): the claim `pvc`, or a per-workflow claim Argo creates
// from volumeClaimTemplates. Step s's output o is the path
// /mnt/mlforge/pipelines/{{workflow.name}}/s/o (a for_each step adds the
// pod's name per item), and every output is also an Argo output parameter:
// the path for file and folder outputs, the value for value outputs (a
// `from`/`key` output reads the JSON file and takes the key with Argo's
// jsonpath expression where it is used), so later steps, `when` and joins
// over for_each steps (a JSON array of every item's value) use them as
// {{tasks.s.outputs.parameters.o}}. With `tracking_uri` every step has
// MLFLOW_TRACKING_URI, so mlforge steps log runs and upload models through
// the tracking server's artifact proxy. The spec's input files (its config
// files) ride along inside the workflow as raw input artifacts, placed at
// the same relative paths in the steps' working folder /mnt/mlforge/work;
// a folder input, or a file over 256 KiB, must already be on the claim.
//
// A step whose run id another step uses ({{steps.S.run_id}}) opens a
// tracking run first (`mlforge runs create`), runs with it as MLFLOW_RUN_ID,
// ends it FINISHED or FAILED (`mlforge runs end`) and passes its id on as
// the output parameter mlforge-run-id.
//
// Not carried over: the content-hash cache (every step runs each time in
// Argo), and the exit handler's references to step outputs or run ids; step
// names that collide once '_' becomes '-' are rejected.
//
// Pure function of its arguments apart from reading the input files
// relative to `working_dir`; thread-safe.

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "deploy/yaml_writer.h"
#include "pipeline/spec.h"

namespace mlforge::deploy {

struct ArgoOptions {
  // Container image with mlforge on PATH. Required.
  std::string image;
  // Namespace of the Workflow; empty: none written.
  std::string name_space;
  // PersistentVolumeClaim shared by the steps; empty: a volumeClaimTemplate
  // of `volume_size` that Argo creates for each workflow.
  std::string pvc;
  std::string volume_size = "10Gi";
  // MLFLOW_TRACKING_URI of every step; empty: none (the local store on the
  // volume).
  std::string tracking_uri;
  // Service account the workflow's pods run as; empty: the namespace's default.
  std::string service_account;
  // Resource requests of each step. Defaults 1 CPU, 2Gi.
  std::string cpu = "1";
  std::string memory = "2Gi";
  // Where the spec's relative input paths are read from. Default: the
  // current folder.
  std::filesystem::path working_dir;
};

// One Workflow document. InvalidArgument for bad options or a reference
// that cannot be expressed; NotFound when an input file cannot be read.
core::Result<std::vector<Document>> RenderArgoWorkflow(const pipeline::Pipeline& pipeline,
                                                       const ArgoOptions& options);

}  // namespace mlforge::deploy
