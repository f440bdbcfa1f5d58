#include "deploy/serving.h"

#include <fmt/format.h>

#include <chrono>

#include "deploy/internal/objects.h"
#include "deploy/validation.h"
#include "net/http_server.h"

namespace mlforge::deploy {
namespace {

constexpr const char* kHome = "/var/lib/mlforge";
constexpr int kPreStopSeconds = 5;
constexpr int kGraceMarginSeconds = 5;

// "mnist" of models:/mnist@champion or models:/mnist/3; "run-<id>" of
// runs:/<id>/model; the folder's name of a path.
std::string ModelName(const std::string& uri) {
  if (uri.rfind("models:/", 0) == 0) {
    std::string rest = uri.substr(8);
    return rest.substr(0, rest.find_first_of("@/"));
  }
  if (uri.rfind("runs:/", 0) == 0) {
    std::string rest = uri.substr(6);
    return "run-" + rest.substr(0, std::min<size_t>(rest.find('/'), 12));
  }
  std::string clean = uri;
  while (!clean.empty() && clean.back() == '/') clean.pop_back();
  std::string last = clean.substr(clean.find_last_of('/') + 1);
  if (last == "model") {
    std::string parent = clean.substr(0, clean.find_last_of('/'));
    last = parent.substr(parent.find_last_of('/') + 1);
  }
  return last;
}

core::Status Validate(const ServeOptions& options) {
  if (options.model_uri.empty()) {
    return core::InvalidArgumentError(
        "the model URI is empty; give models:/NAME@ALIAS, models:/NAME/VERSION or "
        "runs:/RUN_ID/model");
  }
  const bool remote =
      options.model_uri.rfind("models:/", 0) == 0 || options.model_uri.rfind("runs:/", 0) == 0;
  if (remote && options.tracking_uri.empty()) {
    return core::InvalidArgumentError(fmt::format(
        "{} is resolved through a tracking server, but no --tracking-uri is given; pass "
        "--tracking-uri http://<tracking server>:5000",
        options.model_uri));
  }
  MLFORGE_RETURN_IF_ERROR(ValidateImage("--image", options.image));
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--replicas", options.replicas, 1));
  if (options.max_replicas != 0 && options.max_replicas < options.replicas) {
    return core::InvalidArgumentError(
        fmt::format("--max-replicas {} is below --replicas {}; the autoscaler needs max >= min",
                    options.max_replicas, options.replicas));
  }
  MLFORGE_RETURN_IF_ERROR(ValidatePort("--port", options.port));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--cpu", options.cpu));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--memory", options.memory));
  if (options.target_cpu_percent < 1 || options.target_cpu_percent > 100) {
    return core::InvalidArgumentError(
        fmt::format("--target-cpu {} is not a percentage of the CPU request; use 1-100",
                    options.target_cpu_percent));
  }
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--target-queue-depth", options.target_queue_depth, 1));
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--max-batch", options.max_batch, 0));
  MLFORGE_RETURN_IF_ERROR(ValidateAtLeast("--max-delay-us", options.max_delay_us, 0));
  if (!options.name_space.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--namespace", options.name_space));
  }
  return core::Status::Ok();
}

}  // namespace

int PreStopSeconds() { return kPreStopSeconds; }

int TerminationGraceSeconds() {
  const auto drain =
      std::chrono::ceil<std::chrono::seconds>(net::HttpServer::Options{}.drain_timeout);
  return kPreStopSeconds + static_cast<int>(drain.count()) + kGraceMarginSeconds;
}

core::Result<std::vector<Document>> RenderServe(const ServeOptions& options) {
  MLFORGE_RETURN_IF_ERROR(Validate(options));
  std::string name = options.name;
  if (name.empty()) {
    name = "mlforge-serve-" + ToNameFragment(ModelName(options.model_uri), 63 - 14);
    while (!name.empty() && name.back() == '-') name.pop_back();
  }
  MLFORGE_RETURN_IF_ERROR(ValidateName("--name", name));
  const Object labels = internal::Labels("serve", name);
  const int max_replicas = options.max_replicas > 0 ? options.max_replicas : 4 * options.replicas;

  Object args = Object::array(
      {"serve", options.model_uri, "--host", "0.0.0.0", "--port", std::to_string(options.port)});
  if (options.max_batch > 0) {
    args.push_back("--max-batch");
    args.push_back(std::to_string(options.max_batch));
  }
  if (options.max_delay_us > 0) {
    args.push_back("--max-delay-us");
    args.push_back(std::to_string(options.max_delay_us));
  }
  Object env = Object::array({internal::Env("MLFORGE_HOME", kHome)});
  if (!options.tracking_uri.empty()) {
    env.push_back(internal::Env("MLFLOW_TRACKING_URI", options.tracking_uri));
  }
  Object startup = internal::HttpProbe("/v2/health/live", "http", 5, 60);
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
      {"startupProbe", startup},
      {"readinessProbe", internal::HttpProbe("/v2/health/ready", "http", 5, 2)},
      {"livenessProbe", internal::HttpProbe("/v2/health/live", "http", 10, 3)},
      // Endpoints controllers and proxies drop the pod while it sleeps here;
      // SIGTERM then starts the server's own drain.
      {"lifecycle",
       {{"preStop",
         {{"exec", {{"command", Object::array({"sleep", std::to_string(kPreStopSeconds)})}}}}}}},
      {"volumeMounts", Object::array({{{"name", "home"}, {"mountPath", kHome}}})},
      {"securityContext", internal::ContainerSecurity()}};
  Object pod_labels = labels;
  Object deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", internal::Metadata(name, options.name_space, labels)},
      {"spec",
       {{"replicas", options.replicas},
        {"selector", {{"matchLabels", labels}}},
        {"strategy",
         {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", 1}}}}},
        {"template",
         {{"metadata",
           {{"labels", pod_labels},
            {"annotations",
             {{"prometheus.io/scrape", "true"},
              {"prometheus.io/port", std::to_string(options.port)},
              {"prometheus.io/path", "/metrics"}}}}},
          {"spec",
           {{"terminationGracePeriodSeconds", TerminationGraceSeconds()},
            {"securityContext", internal::PodSecurity()},
            {"containers", Object::array({container})},
            // Downloaded model packages are cached here.
            {"volumes", Object::array({{{"name", "home"}, {"emptyDir", Object::object()}}})}}}}}}}};

  Object service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", internal::Metadata(name, options.name_space, labels)},
                    {"spec",
                     {{"type", "ClusterIP"},
                      {"selector", labels},
                      {"ports", Object::array({{{"name", "http"},
                                                {"port", options.port},
                                                {"targetPort", "http"},
                                                {"protocol", "TCP"}}})}}}};

  Object metrics = Object::array(
      {{{"type", "Resource"},
        {"resource",
         {{"name", "cpu"},
          {"target",
           {{"type", "Utilization"}, {"averageUtilization", options.target_cpu_percent}}}}}}});
  if (!options.cpu_only) {
    metrics.push_back({{"type", "Pods"},
                       {"pods",
                        {{"metric", {{"name", kQueueDepthMetric}}},
                         {"target",
                          {{"type", "AverageValue"},
                           {"averageValue", std::to_string(options.target_queue_depth)}}}}}});
  }
  Object autoscaler = {
      {"apiVersion", "autoscaling/v2"},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata", internal::Metadata(name, options.name_space, labels)},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name}}},
        {"minReplicas", options.replicas},
        {"maxReplicas", max_replicas},
        {"metrics", metrics}}}};

  std::vector<Document> documents;
  documents.push_back(
      {fmt::format("mlforge serve {}: MLflow scoring (/invocations), KServe V2 (/v2/...) and TF\n"
                   "Serving (/v1/models/...) on port {}. On deletion: preStop sleeps {} s, then\n"
                   "SIGTERM makes the server unready and drain; grace period {} s.",
                   options.model_uri, options.port, kPreStopSeconds, TerminationGraceSeconds()),
       deployment});
  documents.push_back({"", service});
  std::string hpa_comment =
      fmt::format("Scales between {} and {} replicas on CPU ({}% of the request)", options.replicas,
                  max_replicas, options.target_cpu_percent);
  if (!options.cpu_only) {
    hpa_comment += fmt::format(
        " and on the Pods metric\n{} ({} waiting requests per pod). That metric needs a custom "
        "metrics\nadapter (e.g. prometheus-adapter scraping /metrics); without one the autoscaler "
        "still\nscales up on CPU but will not scale down. Render with --cpu-only to leave it out.",
        kQueueDepthMetric, options.target_queue_depth);
  } else {
    hpa_comment += ".";
  }
  documents.push_back({hpa_comment, autoscaler});
  return documents;
}

}  // namespace mlforge::deploy
