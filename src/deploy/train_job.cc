#include "deploy/train_job.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/config.h"
#include "deploy/internal/objects.h"
#include "deploy/validation.h"

namespace mlforge::deploy {
namespace {

using internal::Env;

constexpr const char* kWorkDir = "/mnt/mlforge";
constexpr const char* kConfigDir = "/etc/mlforge";
// Longest name: pods are <name>-<index> and host names are DNS labels.
constexpr size_t kMaxNameLength = 50;

struct Plan {
  std::string name;
  std::string config_path;  // inside the container
  std::string dataset;      // data.name of the config, "" when none
  int world_size = 1;
};

core::Status Validate(const TrainJobOptions& options) {
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--workers", options.workers, 1));
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--nproc-per-pod", options.nproc_per_pod, 1));
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--max-restarts", options.max_restarts, 0));
  if (static_cast<int64_t>(options.workers) * options.nproc_per_pod > 100'000) {
    return core::InvalidArgumentError(
        fmt::format("--workers {} x --nproc-per-pod {} is more ranks than mlforge supports "
                    "(100000)",
                    options.workers, options.nproc_per_pod));
  }
  MLFORGE_RETURN_IF_ERROR(ValidateImage("--image", options.image));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--cpu", options.cpu));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--memory", options.memory));
  MLFORGE_RETURN_IF_ERROR(ValidatePort("--master-port", options.master_port));
  if (!options.name_space.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--namespace", options.name_space));
  }
  if (!options.pvc.empty()) MLFORGE_RETURN_IF_ERROR(ValidateName("--pvc", options.pvc, 253));
  if (options.pvc.empty() && options.tracking_uri.empty()) {
    return core::InvalidArgumentError(
        "neither --tracking-uri nor --pvc is given, so the run's metrics and model would vanish "
        "with the pods; pass --tracking-uri http://<tracking server>:5000 (see `mlforge k8s "
        "render server`) or --pvc CLAIM");
  }
  MLFORGE_RETURN_IF_ERROR(ValidateConfigKey("the config file name", options.config_name));
  return core::Status::Ok();
}

core::Result<Plan> MakePlan(const TrainJobOptions& options) {
  Plan plan;
  auto config = core::Config::Parse(options.config_text, options.config_name, options.overrides);
  if (!config.ok()) return config.status().WithContext("the training config");
  plan.name = options.name;
  if (plan.name.empty()) {
    // The experiment's name reads best; the file's stem when it has none.
    MLFORGE_ASSIGN_OR_RETURN(
        std::string base,
        config->String("experiment", std::filesystem::path(options.config_name).stem().string()));
    plan.name = "mlforge-train-" + ToNameFragment(base, kMaxNameLength - 14);
    while (!plan.name.empty() && plan.name.back() == '-') plan.name.pop_back();
  }
  MLFORGE_RETURN_IF_ERROR(ValidateName("--name", plan.name, kMaxNameLength));
  MLFORGE_ASSIGN_OR_RETURN(plan.dataset, config->String("data.name", std::string()));
  plan.config_path = fmt::format("{}/{}", kConfigDir, options.config_name);
  plan.world_size = options.workers * options.nproc_per_pod;
  return plan;
}

// The shell wrapper that starts P ranks in one pod, torchrun's way; `node`
// is the shell expression of the pod's index. Passes SIGTERM on and exits
// non-zero when any rank did.
std::string RankWrapper(const std::string& node, int nproc, int world_size) {
  return fmt::format(
      "# Starts {0} ranks of this pod as torchrun would: RANK = pod index x {0} + local rank.\n"
      "node={1}\n"
      "pids=\n"
      "trap 'kill $pids 2>/dev/null' TERM INT\n"
      "local_rank=0\n"
      "while [ \"$local_rank\" -lt {0} ]; do\n"
      "  RANK=$((node * {0} + local_rank)) LOCAL_RANK=$local_rank LOCAL_WORLD_SIZE={0} \\\n"
      "    GROUP_RANK=$node WORLD_SIZE={2} \"$0\" \"$@\" &\n"
      "  pids=\"$pids $!\"\n"
      "  local_rank=$((local_rank + 1))\n"
      "done\n"
      "status=0\n"
      "for pid in $pids; do\n"
      "  if ! wait \"$pid\"; then status=1; kill $pids 2>/dev/null; fi\n"
      "done\n"
      "exit $status\n",
      nproc, node, world_size);
}

Object TrainArgs(const TrainJobOptions& options, const Plan& plan) {
  Object args = Object::array({"train", plan.config_path, "--no-progress", "--data-dir",
                               std::string(kWorkDir) + "/data", "--run-dir",
                               fmt::format("{}/runs/{}", kWorkDir, plan.name)});
  for (const std::string& assignment : options.overrides) {
    args.push_back("--set");
    args.push_back(assignment);
  }
  return args;
}

Object PodTemplate(const TrainJobOptions& options, const Plan& plan, const Object& labels) {
  const bool indexed = options.kind == TrainKind::kIndexedJob;
  Object env = Object::array();
  if (indexed) {
    // The rank: Kubernetes sets this itself for Indexed Jobs; spelling it out
    // keeps the manifest self-describing.
    env.push_back(
        internal::EnvFromField("JOB_COMPLETION_INDEX",
                               "metadata.annotations['batch.kubernetes.io/job-completion-index']"));
    env.push_back(Env("WORLD_SIZE", std::to_string(plan.world_size)));
    env.push_back(Env("MASTER_ADDR", fmt::format("{0}-0.{0}", plan.name)));
    env.push_back(Env("MASTER_PORT", std::to_string(options.master_port)));
  }
  env.push_back(Env("MLFORGE_HOME", kWorkDir));
  if (!options.tracking_uri.empty())
    env.push_back(Env("MLFLOW_TRACKING_URI", options.tracking_uri));

  Object container = {{"name", indexed ? "mlforge" : "pytorch"},
                      {"image", options.image},
                      {"imagePullPolicy", "IfNotPresent"}};
  if (options.nproc_per_pod == 1) {
    container["command"] = Object::array({"mlforge"});
  } else {
    container["command"] =
        Object::array({"/bin/sh", "-c",
                       RankWrapper(indexed ? "${JOB_COMPLETION_INDEX:?}" : "${RANK:?}",
                                   options.nproc_per_pod, plan.world_size),
                       "mlforge"});
  }
  container["args"] = TrainArgs(options, plan);
  container["env"] = env;
  // The training operator finds the rendezvous port by this name.
  container["ports"] = Object::array({{{"name", indexed ? "rendezvous" : "pytorchjob-port"},
                                       {"containerPort", options.master_port},
                                       {"protocol", "TCP"}}});
  container["resources"] = internal::Resources(options.cpu, options.memory);
  container["volumeMounts"] =
      Object::array({{{"name", "config"}, {"mountPath", kConfigDir}, {"readOnly", true}},
                     {{"name", "work"}, {"mountPath", kWorkDir}}});
  container["securityContext"] = internal::ContainerSecurity();

  Object spec = Object::object();
  if (indexed) {
    spec["subdomain"] = plan.name;
    spec["restartPolicy"] = "Never";
  }
  spec["securityContext"] = internal::PodSecurity();
  if (!plan.dataset.empty()) {
    Object fetch = {{"name", "data"},
                    {"image", options.image},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"command", Object::array({"mlforge"})},
                    {"args", Object::array({"data", "get", plan.dataset, "--dir",
                                            std::string(kWorkDir) + "/data"})},
                    {"env", Object::array({Env("MLFORGE_HOME", kWorkDir)})},
                    {"resources", internal::Resources("250m", "512Mi")},
                    {"volumeMounts", Object::array({{{"name", "work"}, {"mountPath", kWorkDir}}})},
                    {"securityContext", internal::ContainerSecurity()}};
    spec["initContainers"] = Object::array({fetch});
  }
  spec["containers"] = Object::array({container});
  Object work = {{"name", "work"}};
  if (options.pvc.empty()) {
    work["emptyDir"] = Object::object();
  } else {
    work["persistentVolumeClaim"] = {{"claimName", options.pvc}};
  }
  spec["volumes"] =
      Object::array({{{"name", "config"}, {"configMap", {{"name", plan.name + "-config"}}}}, work});
  return Object{{"metadata", {{"labels", labels}}}, {"spec", spec}};
}

Document ConfigMap(const TrainJobOptions& options, const Plan& plan, const Object& labels) {
  Object object = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", internal::Metadata(plan.name + "-config", options.name_space, labels)},
      {"data", {{options.config_name, options.config_text}}}};
  return {fmt::format("The training config, mounted at {} in every pod.", plan.config_path),
          object};
}

Document HeadlessService(const TrainJobOptions& options, const Plan& plan, const Object& labels) {
  Object object = {{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata", internal::Metadata(plan.name, options.name_space, labels)},
                   {"spec",
                    {{"clusterIP", "None"},
                     // Pods resolve before they are ready, so rank 0 is found at start-up.
                     {"publishNotReadyAddresses", true},
                     {"selector", labels},
                     {"ports", Object::array({{{"name", "rendezvous"},
                                               {"port", options.master_port},
                                               {"targetPort", options.master_port},
                                               {"protocol", "TCP"}}})}}}};
  return {
      fmt::format("Headless Service: the Job's pods are <name>-<index>.{}, so rank 0's is {}-0.{}.",
                  plan.name, plan.name, plan.name),
      object};
}

Document IndexedJob(const TrainJobOptions& options, const Plan& plan, const Object& labels) {
  Object object = {{"apiVersion", "batch/v1"},
                   {"kind", "Job"},
                   {"metadata", internal::Metadata(plan.name, options.name_space, labels)},
                   {"spec",
                    {{"completionMode", "Indexed"},
                     {"completions", options.workers},
                     {"parallelism", options.workers},
                     // One failed rank stops every rank of the group, so each restart of
                     // the group may cost as many pod failures as there are pods.
                     {"backoffLimit", options.max_restarts * options.workers},
                     {"template", PodTemplate(options, plan, labels)}}}};
  return {
      fmt::format("{} data-parallel workers ({} rank(s) per pod, world size {}); pod i has rank\n"
                  "JOB_COMPLETION_INDEX=i and meets rank 0 at MASTER_ADDR:MASTER_PORT.",
                  options.workers, options.nproc_per_pod, plan.world_size),
      object};
}

Document PyTorchJob(const TrainJobOptions& options, const Plan& plan, const Object& labels) {
  const std::string restart_policy = options.max_restarts > 0 ? "OnFailure" : "Never";
  Object replicas = {{"Master",
                      {{"replicas", 1},
                       {"restartPolicy", restart_policy},
                       {"template", PodTemplate(options, plan, labels)}}}};
  if (options.workers > 1) {
    replicas["Worker"] = {{"replicas", options.workers - 1},
                          {"restartPolicy", restart_policy},
                          {"template", PodTemplate(options, plan, labels)}};
  }
  Object object = {
      {"apiVersion", "kubeflow.org/v1"},
      {"kind", "PyTorchJob"},
      {"metadata", internal::Metadata(plan.name, options.name_space, labels)},
      {"spec",
       {{"runPolicy", {{"backoffLimit", options.max_restarts}, {"cleanPodPolicy", "None"}}},
        {"pytorchReplicaSpecs", replicas}}}};
  return {fmt::format(
              "Kubeflow PyTorchJob (needs the training operator): {} pod(s), world size {}; the\n"
              "operator sets MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK in each.",
              options.workers, plan.world_size),
          object};
}

}  // namespace

core::Result<TrainKind> ParseTrainKind(const std::string& text) {
  if (text == "job") return TrainKind::kIndexedJob;
  if (text == "pytorchjob") return TrainKind::kPyTorchJob;
  return core::InvalidArgumentError(
      fmt::format("--kind '{}' is not known; use job (a plain Kubernetes Indexed Job) or "
                  "pytorchjob (Kubeflow's training operator)",
                  text));
}

core::Result<std::vector<Document>> RenderTrainJob(const TrainJobOptions& options) {
  MLFORGE_RETURN_IF_ERROR(Validate(options));
  MLFORGE_ASSIGN_OR_RETURN(Plan plan, MakePlan(options));
  Object labels = internal::Labels("train", plan.name);
  std::vector<Document> documents;
  documents.push_back(ConfigMap(options, plan, labels));
  if (options.kind == TrainKind::kIndexedJob) {
    documents.push_back(HeadlessService(options, plan, labels));
    documents.push_back(IndexedJob(options, plan, labels));
  } else {
    documents.push_back(PyTorchJob(options, plan, labels));
  }
  return documents;
}

}  // namespace mlforge::deploy
