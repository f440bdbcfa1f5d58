#include "deploy/tracking_server.h"

#include <fmt/format.h>

#include "deploy/internal/objects.h"
#include "deploy/validation.h"

namespace mlforge::deploy {
namespace {

constexpr const char* kDataDir = "/mnt/mlforge";

core::Status Validate(const TrackingServerOptions& options) {
  MLFORGE_RETURN_IF_ERROR(ValidateImage("--image", options.image));
  MLFORGE_RETURN_IF_ERROR(ValidateName("--name", options.name));
  if (!options.name_space.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--namespace", options.name_space));
  }
  if (!options.postgres_uri_secret.empty()) {
    MLFORGE_RETURN_IF_ERROR(
        ValidateName("--postgres-uri-secret", options.postgres_uri_secret, 253));
    MLFORGE_RETURN_IF_ERROR(ValidateConfigKey("--postgres-uri-key", options.postgres_uri_key));
  }
  if (!options.artifacts_pvc.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--artifacts-pvc", options.artifacts_pvc, 253));
  }
  if (!options.auth_secret.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--auth-secret", options.auth_secret, 253));
    MLFORGE_RETURN_IF_ERROR(ValidateConfigKey("--auth-secret-key", options.auth_secret_key));
  }
  if (options.auth_secret.empty() == !options.insecure_no_auth) {
    return core::InvalidArgumentError(
        options.insecure_no_auth
            ? "--auth-secret and --insecure-no-auth contradict each other; give one"
            : "the tracking server listens beyond loopback, so it needs users: give "
              "--auth-secret NAME (a Secret with the admin password under 'password'), or "
              "--insecure-no-auth to let everyone who reaches the Service read and change runs");
  }
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--replicas", options.replicas, 1));
  if (options.replicas > 1 && options.postgres_uri_secret.empty()) {
    return core::InvalidArgumentError(
        fmt::format("--replicas {} needs a shared store; SQLite allows one server, so give "
                    "--postgres-uri-secret NAME (a Secret holding the postgresql:// URI)",
                    options.replicas));
  }
  MLFORGE_RETURN_IF_ERROR(ValidatePort("--port", options.port));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--cpu", options.cpu));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--memory", options.memory));
  return core::Status::Ok();
}

}  // namespace

core::Result<std::vector<Document>> RenderTrackingServer(const TrackingServerOptions& options) {
  MLFORGE_RETURN_IF_ERROR(Validate(options));
  const Object labels = internal::Labels("tracking-server", options.name);
  const bool postgres = !options.postgres_uri_secret.empty();
  Object env = Object::array({internal::Env("MLFORGE_HOME", kDataDir)});
  if (postgres) {
    env.push_back(internal::EnvFromSecret("MLFORGE_BACKEND_STORE_URI", options.postgres_uri_secret,
                                          options.postgres_uri_key));
  }
  Object args = Object::array({"server", "--host", "0.0.0.0", "--port",
                               std::to_string(options.port), "--backend-store-uri",
                               postgres ? std::string("$(MLFORGE_BACKEND_STORE_URI)")
                                        : fmt::format("sqlite:///{}/mlruns.db", kDataDir),
                               "--artifacts-destination", fmt::format("{}/artifacts", kDataDir)});
  if (options.insecure_no_auth) {
    args.push_back("--insecure-no-auth");
  } else {
    args.push_back("--auth");
    args.push_back("--auth-db");
    args.push_back(fmt::format("{}/basic_auth.db", kDataDir));
    env.push_back(internal::EnvFromSecret("MLFORGE_ADMIN_PASSWORD", options.auth_secret,
                                          options.auth_secret_key));
  }
  Object container = {
      {"name", "mlforge"},
      {"image", options.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", Object::array({"mlforge"})},
      {"args", args},
      {"env", env},
      {"ports",
       Object::array({{{"name", "http"}, {"containerPort", options.port}, {"protocol", "TCP"}}})},
      {"resources", internal::Resources(options.cpu, options.memory)},
      {"readinessProbe", internal::HttpProbe("/health", "http", 5, 3)},
      {"livenessProbe", internal::HttpProbe("/health", "http", 10, 6)},
      {"volumeMounts", Object::array({{{"name", "data"}, {"mountPath", kDataDir}}})},
      {"securityContext", internal::ContainerSecurity()}};
  Object volume = {{"name", "data"}};
  if (options.artifacts_pvc.empty()) {
    volume["emptyDir"] = Object::object();
  } else {
    volume["persistentVolumeClaim"] = {{"claimName", options.artifacts_pvc}};
  }
  Object deployment = {{"apiVersion", "apps/v1"},
                       {"kind", "Deployment"},
                       {"metadata", internal::Metadata(options.name, options.name_space, labels)},
                       {"spec",
                        {{"replicas", options.replicas},
                         {"selector", {{"matchLabels", labels}}},
                         // A SQLite store or a ReadWriteOnce claim is held by one pod at a time.
                         {"strategy", {{"type", postgres ? "RollingUpdate" : "Recreate"}}},
                         {"template",
                          {{"metadata", {{"labels", labels}}},
                           {"spec",
                            {{"terminationGracePeriodSeconds", 30},
                             {"securityContext", internal::PodSecurity()},
                             {"containers", Object::array({container})},
                             {"volumes", Object::array({volume})}}}}}}}};
  Object service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", internal::Metadata(options.name, options.name_space, labels)},
                    {"spec",
                     {{"type", "ClusterIP"},
                      {"selector", labels},
                      {"ports", Object::array({{{"name", "http"},
                                                {"port", options.port},
                                                {"targetPort", "http"},
                                                {"protocol", "TCP"}}})}}}};
  std::string comment = fmt::format(
      "mlforge tracking server: MLflow REST API, artifact proxy and registry on port {}.\n"
      "Store: {}. Artifacts: {}. Auth: {}.\n"
      "Clients use MLFLOW_TRACKING_URI=http://{}:{}",
      options.port,
      postgres ? fmt::format("PostgreSQL, URI from Secret {} key {}", options.postgres_uri_secret,
                             options.postgres_uri_key)
               : "SQLite on the data volume (one replica)",
      options.artifacts_pvc.empty()
          ? std::string("an emptyDir (lost with the pod; give --artifacts-pvc)")
          : "PersistentVolumeClaim " + options.artifacts_pvc,
      options.insecure_no_auth ? "off (--insecure-no-auth)"
                               : "on, admin password from Secret " + options.auth_secret,
      options.name, options.port);
  return std::vector<Document>{{comment, deployment}, {"", service}};
}

}  // namespace mlforge::deploy
