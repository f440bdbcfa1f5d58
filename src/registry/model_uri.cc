#include "registry/model_uri.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "registry/validation.h"

namespace mlforge::registry {
namespace {

constexpr std::string_view kScheme = "models:/";

core::Status BadUri(std::string_view uri, std::string_view why) {
  return core::InvalidArgumentError(
      "Invalid model URI '" + std::string(uri) + "': " + std::string(why) +
      ". Write models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or "
      "models:/NAME/STAGE");
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

core::Result<ResolvedModelUri> Resolved(RegistryStore& store, std::string name, int64_t version) {
  MLFORGE_ASSIGN_OR_RETURN(std::string download_uri,
                           store.GetModelVersionDownloadUri(name, version));
  return ResolvedModelUri{std::move(name), version, std::move(download_uri)};
}

}  // namespace

bool IsModelsUri(std::string_view uri) { return uri.starts_with(kScheme); }

core::Result<ResolvedModelUri> ResolveModelUri(RegistryStore& store, std::string_view uri) {
  if (!IsModelsUri(uri)) return BadUri(uri, "not a models:/ URI");
  std::string_view path = uri.substr(kScheme.size());
  // "models:///name/1" is the same URI with an empty authority.
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);

  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    const size_t at = path.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == path.size()) {
      return BadUri(uri, "no version, stage or alias");
    }
    std::string name(path.substr(0, at));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version,
                             store.GetModelVersionByAlias(name, path.substr(at + 1)));
    return Resolved(store, std::move(name), version.version);
  }
  std::string name(path.substr(0, slash));
  const std::string_view suffix = path.substr(slash + 1);
  if (name.empty() || name.find('/') != std::string::npos) {
    return BadUri(uri, "the model name must be one path segment");
  }
  if (AllDigits(suffix)) {
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, ParseModelVersionNumber(suffix));
    return Resolved(store, std::move(name), number);
  }
  const bool latest = EqualsIgnoringCase(suffix, "latest");
  std::vector<std::string> stages;
  if (!latest) {
    // An unknown stage is InvalidArgument from the store, in MLflow's words.
    MLFORGE_ASSIGN_OR_RETURN(std::string stage, CanonicalStage(suffix));
    stages.push_back(std::move(stage));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<ModelVersion> versions,
                           store.GetLatestVersions(name, stages));
  if (versions.empty()) {
    return core::NotFoundError("Registered model '" + name + "' has no version" +
                               (latest ? std::string() : " in stage " + stages.front()) +
                               " (from model URI '" + std::string(uri) + "')");
  }
  int64_t highest = 0;
  for (const ModelVersion& version : versions) highest = std::max(highest, version.version);
  return Resolved(store, std::move(name), highest);
}

}  // namespace mlforge::registry
