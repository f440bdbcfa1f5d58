#pragma once

// The manifests that run the tracking server (`mlforge server`: tracking
// REST API, artifact proxy, model registry) on a cluster, as
// `mlforge k8s render server` writes them: a Deployment and a Service.
//
//   TrackingServerOptions options;
//   options.image = "registry.example.com/mlforge:0.1.0";
//   options.postgres_uri_secret = "mlforge-postgres";   // key "uri"
//   options.artifacts_pvc = "mlforge-artifacts";
//   options.auth_secret = "mlforge-admin";              // key "password"
//   MLFORGE_ASSIGN_OR_RETURN(std::vector<Document> documents, RenderTrackingServer(options));
//
// The backend store is PostgreSQL whose postgresql:// URI the pod reads from
// a Secret (so the password is in no manifest), passed as
// --backend-store-uri $(MLFORGE_BACKEND_STORE_URI). Without a Secret the
// store is SQLite in the artifact volume, which allows one replica only.
// The artifact proxy stores into /mnt/mlforge/artifacts on the claim
// `artifacts_pvc` (an emptyDir when none is given: artifacts then vanish with
// the pod). Probes use the server's /health.
//
// The server refuses to listen beyond loopback without --auth, so exactly
// one of `auth_secret` (the admin's password, MLFORGE_ADMIN_PASSWORD, with
// users in /mnt/mlforge/basic_auth.db) and `insecure_no_auth` must be set.
//
// Pure function of its options; thread-safe.

#include <string>
#include <vector>

#include "core/status.h"
#include "deploy/yaml_writer.h"

namespace mlforge::deploy {

struct TrackingServerOptions {
  // Container image with mlforge on PATH. Required.
  std::string image;
  // Deployment and Service name. Default "mlforge-server".
  std::string name = "mlforge-server";
  // Namespace; empty: none written.
  std::string name_space;
  // Secret holding the postgresql:// URI under `postgres_uri_key`; empty:
  // SQLite on the artifact volume.
  std::string postgres_uri_secret;
  std::string postgres_uri_key = "uri";
  // PersistentVolumeClaim for artifacts (and SQLite, auth database); empty:
  // an emptyDir.
  std::string artifacts_pvc;
  // Secret holding the admin password under `auth_secret_key`: turns --auth on.
  std::string auth_secret;
  std::string auth_secret_key = "password";
  // Serve without authentication inside the cluster (--insecure-no-auth).
  bool insecure_no_auth = false;
  // Replicas; more than 1 needs PostgreSQL (and a ReadWriteMany claim).
  // Default 1.
  int replicas = 1;
  // Port of the server and its Service. Default 5000, MLflow's.
  int port = 5000;
  // Resource requests. Defaults 500m CPU, 512Mi.
  std::string cpu = "500m";
  std::string memory = "512Mi";
};

// Deployment, Service. InvalidArgument naming the option that is missing,
// out of range or malformed.
core::Result<std::vector<Document>> RenderTrackingServer(const TrackingServerOptions& options);

}  // namespace mlforge::deploy
