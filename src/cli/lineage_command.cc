// mlforge lineage models:/NAME/VERSION | models:/NAME@ALIAS [--json] [--tracking-uri URI]

#include <cstdio>

#include "cli/commands.h"
#include "lineage/lineage.h"
#include "registry/registry_store_factory.h"
#include "tracking/store_factory.h"

namespace mlforge::cli {

void AddLineageCommand(CLI::App& app) {
  struct Flags {
    std::string model_uri;
    std::string tracking_uri;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "lineage", "Where a registered model version came from: run, data, code, config, parents");
  command->add_option("model_uri", flags->model_uri, "models:/NAME/VERSION or models:/NAME@ALIAS")
      ->required();
  command->add_option("--tracking-uri", flags->tracking_uri,
                      "Tracking server or store (default: $MLFLOW_TRACKING_URI, else "
                      "$MLFORGE_HOME/mlruns.db); the registry is $MLFLOW_REGISTRY_URI or this");
  command->add_flag("--json", flags->json, "Print the chain as JSON");
  command->callback([flags] {
    const std::string tracking_uri = TrackingUriFrom(flags->tracking_uri);
    const std::string registry_uri = EnvOr("MLFLOW_REGISTRY_URI", tracking_uri);
    auto tracking = tracking::OpenStore(tracking_uri, (Home() / "artifacts").string());
    if (!tracking.ok()) {
      throw CLI::RuntimeError(
          Fail("tracking store " + tracking_uri + ": " + tracking.status().message()));
    }
    auto registry = registry::OpenRegistryStore(registry_uri);
    if (!registry.ok()) {
      throw CLI::RuntimeError(
          Fail("model registry " + registry_uri + ": " + registry.status().message()));
    }
    auto lineage =
        lineage::TraceModelLineage(**registry, **tracking, flags->model_uri, {tracking_uri});
    if (!lineage.ok()) {
      throw CLI::RuntimeError(Fail(lineage.status().message() +
                                   ". See the registered models with: mlforge models list"));
    }
    const std::string text = flags->json ? lineage::LineageToJson(*lineage).dump(2) + "\n"
                                         : lineage::FormatLineage(*lineage);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

}  // namespace mlforge::cli
