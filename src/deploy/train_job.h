#pragma once

// The manifests that run `mlforge train CONFIG` on a Kubernetes cluster with
// N data-parallel workers, as `mlforge k8s render train` writes them.
//
//   TrainJobOptions options;
//   options.config_name = "train.yaml";
//   options.config_text = ...;  // the file's contents
//   options.workers = 4;
//   options.image = "registry.example.com/mlforge:0.1.0";
//   MLFORGE_ASSIGN_OR_RETURN(std::vector<Document> documents, RenderTrainJob(options));
//   std::string yaml = ToYaml(documents);
//
// Two shapes, both without an operator of mlforge's own:
//
//  - kIndexedJob (plain Kubernetes): a ConfigMap with the config, a headless
//    Service, and a Job with completionMode Indexed and completions =
//    parallelism = workers. Pod i is named <name>-i, lives in the Service's
//    subdomain, so rank 0 is reachable as <name>-0.<name>, and gets
//    MASTER_ADDR=<name>-0.<name>, MASTER_PORT, WORLD_SIZE and
//    JOB_COMPLETION_INDEX (its rank): dist::DetectLaunchEnv's "indexed-job"
//    scheme.
//  - kPyTorchJob (Kubeflow training operator): a ConfigMap and a
//    kubeflow.org/v1 PyTorchJob with one Master and workers-1 Worker replicas
//    whose container is named "pytorch"; the operator sets MASTER_ADDR,
//    MASTER_PORT, WORLD_SIZE and RANK: the "torchrun" scheme.
//
// With nproc_per_pod P > 1 each pod starts P processes through a small
// POSIX shell wrapper that gives process l of pod i RANK = i*P + l,
// LOCAL_RANK = l, LOCAL_WORLD_SIZE = P and WORLD_SIZE = workers*P, as torchrun
// would.
//
// Storage: the pod's work folder /mnt/mlforge (MLFORGE_HOME: data, runs,
// checkpoints) is the PersistentVolumeClaim `pvc` when given, else an
// emptyDir. When the config names a dataset (data.name), an init container
// runs `mlforge data get` into it first (a no-op when the claim already
// holds it). With `tracking_uri` the ranks log to that tracking server, and
// rank 0's model package goes to its artifact proxy; without one the local
// store on the claim is used.
//
// Pure function of its options; thread-safe.

#include <string>
#include <vector>

#include "core/status.h"
#include "deploy/yaml_writer.h"

namespace mlforge::deploy {

enum class TrainKind { kIndexedJob, kPyTorchJob };

// "job" -> kIndexedJob, "pytorchjob" -> kPyTorchJob; InvalidArgument otherwise.
core::Result<TrainKind> ParseTrainKind(const std::string& text);

struct TrainJobOptions {
  // The config file's name (its ConfigMap key and the name it is mounted
  // as), e.g. "train.yaml". Required.
  std::string config_name;
  // The config file's contents, shipped as they are. Required; parsed (with
  // `overrides`) only to check it and read data.name.
  std::string config_text;
  // `--set key=value` overrides passed on to every rank's `mlforge train`.
  std::vector<std::string> overrides;
  // Name of the Job / PyTorchJob, its Service and ConfigMap prefix; at most
  // 50 characters so pod host names stay DNS labels. Default (empty):
  // "mlforge-train-<the config's experiment, else the file's stem>".
  std::string name;
  // Namespace of every object; empty: none written (kubectl's current one).
  std::string name_space;
  // Pods, at least 1.
  int workers = 0;
  // Container image with the mlforge binary on PATH (the Dockerfile's). Required.
  std::string image;
  TrainKind kind = TrainKind::kIndexedJob;
  // Processes per pod, at least 1. Default 1.
  int nproc_per_pod = 1;
  // MLFLOW_TRACKING_URI of every rank, e.g. "http://mlforge-server:5000";
  // empty: the local store in the work folder, which then must be a `pvc`
  // (with neither, results would vanish with the pods: InvalidArgument).
  std::string tracking_uri;
  // PersistentVolumeClaim mounted as the work folder; empty: an emptyDir.
  std::string pvc;
  // How often the group may be started again after a pod fails: the Job's
  // backoffLimit (workers x this, since one failure stops every rank) or the
  // PyTorchJob's runPolicy.backoffLimit. Default 0: the first failure is final.
  int max_restarts = 0;
  // Resource requests per pod (Kubernetes quantities). Defaults 1 CPU, 2Gi.
  std::string cpu = "1";
  std::string memory = "2Gi";
  // Port of rank 0's rendezvous store. Default 29500.
  int master_port = 29500;
};

// The objects in apply order (ConfigMap, Service, Job; or ConfigMap,
// PyTorchJob). InvalidArgument naming the option when one is out of range,
// a name or image is malformed, or the config is not a YAML mapping.
core::Result<std::vector<Document>> RenderTrainJob(const TrainJobOptions& options);

}  // namespace mlforge::deploy
