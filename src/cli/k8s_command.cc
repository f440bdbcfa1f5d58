// mlforge k8s render train CONFIG.yaml --workers N --image IMAGE [--kind job|pytorchjob] ...
// mlforge k8s render serve MODEL_URI --image IMAGE [--replicas N] ...
// mlforge k8s render server --image IMAGE [--postgres-uri-secret NAME] ...
//
// Writes Kubernetes manifests (deploy/) as one multi-document YAML stream to
// stdout or, atomically, to --output FILE. Applies nothing itself:
// `kubectl apply -f` the result.

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/file.h"
#include "deploy/serving.h"
#include "deploy/tracking_server.h"
#include "deploy/train_job.h"
#include "deploy/yaml_writer.h"

namespace mlforge::cli {
namespace {

void Write(const core::Result<std::vector<deploy::Document>>& documents,
           const std::string& output) {
  if (!documents.ok()) throw CLI::RuntimeError(Fail(documents.status().message()));
  const std::string yaml = deploy::ToYaml(*documents);
  if (output.empty() || output == "-") {
    std::fwrite(yaml.data(), 1, yaml.size(), stdout);
    std::fflush(stdout);
    return;
  }
  if (auto status = core::WriteFileAtomic(output, yaml); !status.ok()) {
    throw CLI::RuntimeError(Fail(status.message()));
  }
  std::fprintf(stderr, "wrote %zu object(s) to %s; apply with: kubectl apply -f %s\n",
               documents->size(), output.c_str(), output.c_str());
}

void AddRenderTrain(CLI::App& render) {
  struct Flags {
    std::string config;
    std::string kind = "job";
    std::string output = "-";
    deploy::TrainJobOptions options;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* train = render.add_subcommand(
      "train", "Distributed training: an Indexed Job + headless Service, or a PyTorchJob");
  train->add_option("config", flags->config, "Training config (YAML), shipped as a ConfigMap")
      ->required();
  train->add_option("--workers", flags->options.workers, "Pods (data-parallel workers)")
      ->required();
  train->add_option("--image", flags->options.image, "Container image with mlforge (Dockerfile)")
      ->required();
  train->add_option("--kind", flags->kind, "job (plain Kubernetes Indexed Job) or pytorchjob")
      ->capture_default_str();
  train->add_option("--nproc-per-pod", flags->options.nproc_per_pod, "Ranks per pod")
      ->capture_default_str();
  train->add_option("--tracking-uri", flags->options.tracking_uri,
                    "Tracking server the ranks log to, e.g. http://mlforge-server:5000");
  train->add_option("--pvc", flags->options.pvc,
                    "PersistentVolumeClaim for data, runs and checkpoints (default: emptyDir)");
  train->add_option("--namespace", flags->options.name_space, "Namespace of every object");
  train->add_option("--name", flags->options.name,
                    "Job name (default: mlforge-train-<experiment or file stem>)");
  train
      ->add_option("--max-restarts", flags->options.max_restarts,
                   "Times the group may start again after a pod fails")
      ->capture_default_str();
  train->add_option("--cpu", flags->options.cpu, "CPU request per pod")->capture_default_str();
  train->add_option("--memory", flags->options.memory, "Memory request (and limit) per pod")
      ->capture_default_str();
  train->add_option("--master-port", flags->options.master_port, "Rank 0's rendezvous port")
      ->capture_default_str();
  train->add_option("--set", flags->options.overrides,
                    "Config override passed to every rank: --set train.epochs=1");
  train->add_option("--output,-o", flags->output, "File to write, or - for stdout")
      ->capture_default_str();
  train->callback([flags] {
    auto kind = deploy::ParseTrainKind(flags->kind);
    if (!kind.ok()) throw CLI::RuntimeError(Fail(kind.status().message()));
    auto text = core::ReadFile(flags->config);
    if (!text.ok()) throw CLI::RuntimeError(Fail(text.status().message()));
    flags->options.kind = *kind;
    flags->options.config_name = std::filesystem::path(flags->config).filename().string();
    flags->options.config_text = *text;
    Write(deploy::RenderTrainJob(flags->options), flags->output);
  });
}

void AddRenderServe(CLI::App& render) {
  struct Flags {
    std::string output = "-";
    deploy::ServeOptions options;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* serve = render.add_subcommand(
      "serve", "Model serving: Deployment, Service and HorizontalPodAutoscaler");
  serve
      ->add_option("model", flags->options.model_uri,
                   "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a path in the "
                   "image")
      ->required();
  serve->add_option("--image", flags->options.image, "Container image with mlforge")->required();
  serve->add_option("--replicas", flags->options.replicas, "Replicas (the autoscaler's minimum)")
      ->capture_default_str();
  serve->add_option("--max-replicas", flags->options.max_replicas,
                    "The autoscaler's maximum (default: 4 x --replicas)");
  serve->add_option("--port", flags->options.port, "Container and Service port")
      ->capture_default_str();
  serve->add_option("--tracking-uri", flags->options.tracking_uri,
                    "Tracking server for models:/ and runs:/ URIs");
  serve->add_option("--namespace", flags->options.name_space, "Namespace of every object");
  serve->add_option("--name", flags->options.name, "Name (default: mlforge-serve-<model>)");
  serve->add_option("--cpu", flags->options.cpu, "CPU request per pod")->capture_default_str();
  serve->add_option("--memory", flags->options.memory, "Memory request (and limit) per pod")
      ->capture_default_str();
  serve
      ->add_option("--target-cpu", flags->options.target_cpu_percent,
                   "CPU utilisation the autoscaler aims at, percent of the request")
      ->capture_default_str();
  serve
      ->add_option("--target-queue-depth", flags->options.target_queue_depth,
                   "Waiting requests per pod the autoscaler aims at")
      ->capture_default_str();
  serve->add_flag("--cpu-only", flags->options.cpu_only,
                  "Scale on CPU only (no custom metrics adapter for the queue depth)");
  serve->add_option("--max-batch", flags->options.max_batch, "mlforge serve --max-batch");
  serve->add_option("--max-delay-us", flags->options.max_delay_us, "mlforge serve --max-delay-us");
  serve->add_option("--output,-o", flags->output, "File to write, or - for stdout")
      ->capture_default_str();
  serve->callback([flags] { Write(deploy::RenderServe(flags->options), flags->output); });
}

void AddRenderServer(CLI::App& render) {
  struct Flags {
    std::string output = "-";
    deploy::TrackingServerOptions options;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* server = render.add_subcommand(
      "server", "The tracking server on PostgreSQL with an artifact volume: Deployment, Service");
  server->add_option("--image", flags->options.image, "Container image with mlforge")->required();
  server->add_option("--postgres-uri-secret", flags->options.postgres_uri_secret,
                     "Secret with the postgresql:// URI (default: SQLite on the volume)");
  server->add_option("--postgres-uri-key", flags->options.postgres_uri_key, "Key in that Secret")
      ->capture_default_str();
  server->add_option("--artifacts-pvc", flags->options.artifacts_pvc,
                     "PersistentVolumeClaim for artifacts (default: emptyDir)");
  server->add_option("--auth-secret", flags->options.auth_secret,
                     "Secret with the admin password: turns on --auth");
  server->add_option("--auth-secret-key", flags->options.auth_secret_key, "Key in that Secret")
      ->capture_default_str();
  server->add_flag("--insecure-no-auth", flags->options.insecure_no_auth,
                   "Serve without users (anyone reaching the Service may change runs)");
  server->add_option("--replicas", flags->options.replicas, "Replicas (more than 1: PostgreSQL)")
      ->capture_default_str();
  server->add_option("--port", flags->options.port, "Server and Service port")
      ->capture_default_str();
  server->add_option("--name", flags->options.name, "Deployment and Service name")
      ->capture_default_str();
  server->add_option("--namespace", flags->options.name_space, "Namespace of every object");
  server->add_option("--cpu", flags->options.cpu, "CPU request")->capture_default_str();
  server->add_option("--memory", flags->options.memory, "Memory request (and limit)")
      ->capture_default_str();
  server->add_option("--output,-o", flags->output, "File to write, or - for stdout")
      ->capture_default_str();
  server->callback([flags] { Write(deploy::RenderTrackingServer(flags->options), flags->output); });
}

}  // namespace

void AddK8sCommands(CLI::App& app) {
  CLI::App* k8s = app.add_subcommand("k8s", "Kubernetes manifests for training, serving, tracking");
  k8s->require_subcommand(1);
  CLI::App* render = k8s->add_subcommand("render", "Write manifests as YAML (kubectl apply -f)");
  render->require_subcommand(1);
  AddRenderTrain(*render);
  AddRenderServe(*render);
  AddRenderServer(*render);
}

}  // namespace mlforge::cli
