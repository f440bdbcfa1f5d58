#pragma once

// The manifests that run `mlforge serve MODEL_URI` on a cluster, as
// `mlforge k8s render serve` writes them: a Deployment, a Service and a
// HorizontalPodAutoscaler (autoscaling/v2).
//
//   ServeOptions options;
//   options.model_uri = "models:/mnist@champion";
//   options.image = "registry.example.com/mlforge:0.1.0";
//   options.tracking_uri = "http://mlforge-server:5000";
//   MLFORGE_ASSIGN_OR_RETURN(std::vector<Document> documents, RenderServe(options));
//
// The Deployment's probes use the server's own health routes: readiness on
// KServe V2's /v2/health/ready (false while draining), liveness on
// /v2/health/live, and a startup probe on the latter that allows for the
// model's download. On deletion a pod first sleeps in a preStop hook while
// the Service drops it from its endpoints, then gets SIGTERM, on which
// `mlforge serve` turns unready and drains requests in flight for up to
// net::HttpServer::Options::drain_timeout; terminationGracePeriodSeconds
// covers both, plus a margin.
//
// The autoscaler scales on CPU utilisation and, unless cpu_only, also on the
// Pods metric mlforge_serving_queue_depth (requests waiting in the batch
// queue, from the server's /metrics), which only works where a custom
// metrics adapter (e.g. prometheus-adapter) serves it; the pods carry the
// usual prometheus.io scrape annotations for that.
//
// Pure function of its options; thread-safe.

#include <string>
#include <vector>

#include "core/status.h"
#include "deploy/yaml_writer.h"

namespace mlforge::deploy {

// The metric the autoscaler's Pods target names: ServingMetrics' gauge.
inline constexpr const char* kQueueDepthMetric = "mlforge_serving_queue_depth";

struct ServeOptions {
  // What `mlforge serve` loads: models:/NAME@ALIAS, models:/NAME/VERSION,
  // runs:/RUN_ID/model or a path inside the image. Required.
  std::string model_uri;
  // Container image with mlforge on PATH. Required.
  std::string image;
  // Deployment, Service and autoscaler name. Default (empty):
  // "mlforge-serve-<model name>".
  std::string name;
  // Namespace; empty: none written.
  std::string name_space;
  // Replicas at start, also the autoscaler's minimum; at least 1. Default 1.
  int replicas = 1;
  // The autoscaler's maximum; 0 (default): 4 x replicas.
  int max_replicas = 0;
  // Container port and Service port. Default 8080.
  int port = 8080;
  // MLFLOW_TRACKING_URI of the pods, for models:/ and runs:/ URIs; empty:
  // none (then the URI must be a path inside the image).
  std::string tracking_uri;
  // Resource requests per pod. Defaults 1 CPU, 1Gi.
  std::string cpu = "1";
  std::string memory = "1Gi";
  // The autoscaler's CPU utilisation target, percent of the request, 1-100.
  // Default 70.
  int target_cpu_percent = 70;
  // The queue-depth target, waiting requests per pod on average. Default 8.
  int target_queue_depth = 8;
  // When true, the autoscaler scales on CPU only (no metrics adapter needed).
  bool cpu_only = false;
  // The batcher's flags, passed on to `mlforge serve`; 0 keeps its defaults.
  int64_t max_batch = 0;
  int64_t max_delay_us = 0;
};

// Deployment, Service, HorizontalPodAutoscaler. InvalidArgument naming the
// option that is out of range or malformed.
core::Result<std::vector<Document>> RenderServe(const ServeOptions& options);

// Seconds the preStop hook waits before SIGTERM, and the grace period given
// in all (preStop + the server's drain timeout + a margin).
int PreStopSeconds();
int TerminationGraceSeconds();

}  // namespace mlforge::deploy
