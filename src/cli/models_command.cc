// mlforge models register SOURCE NAME [--alias A] [--output FILE]
// mlforge models list [--filter F]
// mlforge models show NAME
// mlforge models alias NAME ALIAS VERSION | mlforge models alias NAME ALIAS --delete
// mlforge models resolve models:/NAME@ALIAS | models:/NAME/VERSION
// All take --tracking-uri (default: $MLFLOW_TRACKING_URI, else the local
// store). The registry is the tracking URI's, unless $MLFLOW_REGISTRY_URI
// names another, as in MLflow.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/file.h"
#include "registry/model_uri.h"
#include "registry/register_model.h"
#include "registry/registry_store_factory.h"
#include "tracking/store_factory.h"

namespace mlforge::cli {
namespace {

// The stores one models command works on.
struct Stores {
  std::string tracking_uri;
  std::string registry_uri;
  std::unique_ptr<tracking::Store> tracking;  // opened only when needed
  std::unique_ptr<registry::RegistryStore> registry;
};

Stores OpenStores(const std::string& uri_flag, bool with_tracking) {
  Stores stores;
  stores.tracking_uri = TrackingUriFrom(uri_flag);
  stores.registry_uri = EnvOr("MLFLOW_REGISTRY_URI", stores.tracking_uri);
  if (with_tracking) {
    // Opening the tracking store first creates a fresh local database with
    // its tables, which the registry's live beside.
    auto tracking = tracking::OpenStore(stores.tracking_uri, (Home() / "artifacts").string());
    if (!tracking.ok()) {
      throw CLI::RuntimeError(
          Fail("tracking store " + stores.tracking_uri + ": " + tracking.status().message()));
    }
    stores.tracking = std::move(tracking).value();
  }
  auto registry = registry::OpenRegistryStore(stores.registry_uri);
  if (!registry.ok()) {
    throw CLI::RuntimeError(
        Fail("model registry " + stores.registry_uri + ": " + registry.status().message()));
  }
  stores.registry = std::move(registry).value();
  return stores;
}

// The value, or exits with the error and `hint` (what to do next).
template <typename T>
T Check(core::Result<T> result, const std::string& hint = "") {
  if (!result.ok()) {
    throw CLI::RuntimeError(
        Fail(result.status().message() + (hint.empty() ? std::string() : ". " + hint)));
  }
  return std::move(result).value();
}

void Check(const core::Status& status, const std::string& hint = "") {
  if (!status.ok()) {
    throw CLI::RuntimeError(Fail(status.message() + (hint.empty() ? std::string() : ". " + hint)));
  }
}

std::string ListModelsHint(const Stores& stores) {
  return "See the registered models with: mlforge models list --tracking-uri " +
         stores.registry_uri;
}

// A filter string literal for `value` (MLflow's grammar takes ' or ").
std::string Quoted(const std::string& value) {
  return value.find('\'') == std::string::npos ? "'" + value + "'" : "\"" + value + "\"";
}

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string joined;
  for (const std::string& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined.empty() ? "-" : joined;
}

std::string AliasList(const registry::RegisteredModel& model) {
  std::vector<std::string> parts;
  for (const auto& alias : model.aliases) {
    parts.push_back(alias.alias + "=v" + std::to_string(alias.version));
  }
  return Join(parts, ", ");
}

// Every version of `name`, newest first.
std::vector<registry::ModelVersion> AllVersions(registry::RegistryStore& store,
                                                const std::string& name) {
  std::vector<registry::ModelVersion> versions;
  std::string token;
  do {
    auto page = Check(
        store.SearchModelVersions("name = " + Quoted(name), 1000, {"version_number DESC"}, token));
    versions.insert(versions.end(), page.model_versions.begin(), page.model_versions.end());
    token = page.next_page_token;
  } while (!token.empty());
  return versions;
}

}  // namespace

void AddModelsCommands(CLI::App& app) {
  auto uri = std::make_shared<std::string>();
  CLI::App* models = app.add_subcommand("models", "The model registry: versions and aliases");
  models->require_subcommand(1);
  const char* uri_help =
      "Tracking server or store (default: $MLFLOW_TRACKING_URI, else the local "
      "store); the registry is the same unless $MLFLOW_REGISTRY_URI is set";

  struct RegisterFlags {
    std::string source;
    std::string name;
    std::string alias;
    std::string output;
  };
  auto register_flags = std::make_shared<RegisterFlags>();
  CLI::App* register_command = models->add_subcommand(
      "register", "Register a new version of a model from a run's artifacts or a folder");
  register_command
      ->add_option("source", register_flags->source,
                   "runs:/RUN_ID/PATH (e.g. runs:/0123abcd/model), a folder or an artifact URI")
      ->required();
  register_command->add_option("name", register_flags->name, "Registered model name")->required();
  register_command->add_option("--alias", register_flags->alias,
                               "Point this alias (e.g. champion) at the new version");
  register_command->add_option(
      "--output,-o", register_flags->output,
      "Also write the new version as JSON here (name, version, source, run_id, alias, uri)");
  register_command->add_option("--tracking-uri", *uri, uri_help);
  register_command->callback([uri, register_flags] {
    Stores stores = OpenStores(*uri, /*with_tracking=*/true);
    registry::RegisterModelOptions options;
    options.alias = register_flags->alias;
    options.tracking_store_name = "tracking store " + stores.tracking_uri;
    auto version = Check(registry::RegisterModel(
        *stores.tracking, *stores.registry, register_flags->source, register_flags->name, options));
    std::printf("Registered %s version %lld\n", version.name.c_str(),
                static_cast<long long>(version.version));
    std::printf("  source  %s\n", version.source.c_str());
    if (!version.run_id.empty()) std::printf("  run     %s\n", version.run_id.c_str());
    if (!version.model_id.empty()) std::printf("  model   %s\n", version.model_id.c_str());
    if (!register_flags->alias.empty()) {
      std::printf("  alias   %s -> version %lld (models:/%s@%s)\n", register_flags->alias.c_str(),
                  static_cast<long long>(version.version), version.name.c_str(),
                  register_flags->alias.c_str());
    }
    if (!register_flags->output.empty()) {
      nlohmann::json record = {{"name", version.name},
                               {"version", version.version},
                               {"source", version.source},
                               {"run_id", version.run_id},
                               {"alias", register_flags->alias},
                               {"uri", "models:/" + version.name + "/" +
                                           std::to_string(version.version)}};
      core::Status written =
          core::WriteFileAtomic(register_flags->output, record.dump(2) + "\n");
      if (!written.ok()) throw CLI::RuntimeError(Fail(written.message()));
    }
  });

  auto filter = std::make_shared<std::string>();
  CLI::App* list = models->add_subcommand("list", "List registered models");
  list->add_option("--filter,-f", *filter, "MLflow filter, e.g. \"name LIKE 'mnist%'\"");
  list->add_option("--tracking-uri", *uri, uri_help);
  list->callback([uri, filter] {
    Stores stores = OpenStores(*uri, /*with_tracking=*/false);
    std::vector<std::vector<std::string>> rows = {{"NAME", "LATEST", "ALIASES", "UPDATED"}};
    std::string token;
    do {
      auto page = Check(stores.registry->SearchRegisteredModels(*filter, 1000, {}, token));
      for (const auto& model : page.registered_models) {
        int64_t latest = 0;
        for (const auto& version : model.latest_versions) {
          latest = std::max(latest, version.version);
        }
        rows.push_back({model.name, latest > 0 ? std::to_string(latest) : "-", AliasList(model),
                        FormatTime(model.last_updated_timestamp)});
      }
      token = page.next_page_token;
    } while (!token.empty());
    if (rows.size() == 1) {
      std::printf(
          "No registered models in %s. Register one with: mlforge models register "
          "runs:/RUN_ID/model NAME\n",
          stores.registry_uri.c_str());
      return;
    }
    PrintTable(rows);
  });

  auto name = std::make_shared<std::string>();
  CLI::App* show =
      models->add_subcommand("show", "Show a registered model: its versions, aliases and tags");
  show->add_option("name", *name, "Registered model name")->required();
  show->add_option("--tracking-uri", *uri, uri_help);
  show->callback([uri, name] {
    Stores stores = OpenStores(*uri, /*with_tracking=*/false);
    auto model = Check(stores.registry->GetRegisteredModel(*name), ListModelsHint(stores));
    std::printf("model    %s\ncreated  %s\nupdated  %s\naliases  %s\n", model.name.c_str(),
                FormatTime(model.creation_timestamp).c_str(),
                FormatTime(model.last_updated_timestamp).c_str(), AliasList(model).c_str());
    if (!model.description.empty()) std::printf("about    %s\n", model.description.c_str());
    std::vector<std::string> tags;
    for (const auto& tag : model.tags) tags.push_back(tag.key + "=" + tag.value);
    std::printf("tags     %s\n", Join(tags, ", ").c_str());
    std::vector<registry::ModelVersion> versions = AllVersions(*stores.registry, model.name);
    if (versions.empty()) {
      std::printf(
          "\nNo versions yet. Add one with: mlforge models register runs:/RUN_ID/model "
          "%s\n",
          model.name.c_str());
      return;
    }
    std::printf("\n");
    std::vector<std::vector<std::string>> rows = {
        {"VERSION", "STATUS", "STAGE", "RUN", "SOURCE", "ALIASES", "TAGS", "CREATED"}};
    for (const auto& version : versions) {
      std::vector<std::string> version_tags;
      for (const auto& tag : version.tags) version_tags.push_back(tag.key + "=" + tag.value);
      rows.push_back({std::to_string(version.version),
                      std::string(registry::ModelVersionStatusName(version.status)),
                      version.current_stage, version.run_id.empty() ? "-" : version.run_id,
                      version.source, Join(version.aliases, ","), Join(version_tags, ","),
                      FormatTime(version.creation_timestamp)});
    }
    PrintTable(rows);
  });

  struct AliasFlags {
    std::string name;
    std::string alias;
    int64_t version = 0;
    bool remove = false;
  };
  auto alias_flags = std::make_shared<AliasFlags>();
  CLI::App* alias = models->add_subcommand(
      "alias", "Point an alias at a version (moving it if set), or delete it with --delete");
  alias->add_option("name", alias_flags->name, "Registered model name")->required();
  alias->add_option("alias", alias_flags->alias, "Alias, e.g. champion")->required();
  alias->add_option("version", alias_flags->version, "Version number the alias points at");
  alias->add_flag("--delete", alias_flags->remove, "Delete the alias instead");
  alias->add_option("--tracking-uri", *uri, uri_help);
  alias->callback([uri, alias_flags] {
    const AliasFlags& flags = *alias_flags;
    if (!flags.remove && flags.version <= 0) {
      throw CLI::RuntimeError(Fail("give the version the alias points at (mlforge models alias " +
                                   flags.name + " " + flags.alias +
                                   " VERSION), or --delete to remove the alias"));
    }
    if (flags.remove && flags.version > 0) {
      throw CLI::RuntimeError(Fail("--delete takes no version: mlforge models alias " + flags.name +
                                   " " + flags.alias + " --delete"));
    }
    Stores stores = OpenStores(*uri, /*with_tracking=*/false);
    if (flags.remove) {
      // The model must exist; a missing alias is not an error (as MLflow).
      Check(stores.registry->DeleteRegisteredModelAlias(flags.name, flags.alias),
            ListModelsHint(stores));
      std::printf("Deleted alias %s of %s\n", flags.alias.c_str(), flags.name.c_str());
      return;
    }
    Check(stores.registry->SetRegisteredModelAlias(flags.name, flags.alias, flags.version),
          "See the versions with: mlforge models show " + flags.name + " --tracking-uri " +
              stores.registry_uri);
    std::printf("%s@%s -> version %lld\n", flags.name.c_str(), flags.alias.c_str(),
                static_cast<long long>(flags.version));
  });

  auto model_uri = std::make_shared<std::string>();
  CLI::App* resolve = models->add_subcommand(
      "resolve", "Print the version and download URI a models:/ URI names now");
  resolve
      ->add_option("uri", *model_uri,
                   "models:/NAME/VERSION, models:/NAME@ALIAS, "
                   "models:/NAME/latest or models:/NAME/STAGE")
      ->required();
  resolve->add_option("--tracking-uri", *uri, uri_help);
  resolve->callback([uri, model_uri] {
    Stores stores = OpenStores(*uri, /*with_tracking=*/false);
    auto resolved =
        Check(registry::ResolveModelUri(*stores.registry, *model_uri), ListModelsHint(stores));
    std::printf("%s version %lld\n%s\n", resolved.name.c_str(),
                static_cast<long long>(resolved.version), resolved.download_uri.c_str());
  });
}

}  // namespace mlforge::cli
