#pragma once

// A model URI made into a local folder holding the model's files, for
// `mlforge serve` and anything else that loads a package:
//
//   a folder, file:///folder        that folder, as it is
//   runs:/RUN_ID/PATH               PATH under the run's artifact location
//   models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest|STAGE
//                                   the registered version's download URI
//                                   (registry/model_uri.h)
//
// Files that are not already local (behind a tracking server's artifact
// proxy) are downloaded once into `cache_root/<digest of their URI>`; the
// download lands atomically (ArtifactRepository::DownloadFolder), so a
// folder found there is complete and is reused.
//
//   MLFORGE_ASSIGN_OR_RETURN(FetchedModel model,
//       FetchModel("models:/mnist@champion", {"http://127.0.0.1:5000"}, home / "models"));

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::registry {

struct ModelStores {
  // Where runs:/ look their run up and where proxied artifacts come from.
  std::string tracking_uri;
  // Where models:/ resolve; the tracking URI when empty.
  std::string registry_uri;
};

struct FetchedModel {
  std::filesystem::path folder;  // the model's files, local
  std::string name;              // the registered model, for models:/ URIs
  int64_t version = 0;           // the registered version, for models:/ URIs
  std::string source_uri;        // where the files came from
};

core::Result<FetchedModel> FetchModel(std::string_view uri, const ModelStores& stores,
                                      const std::filesystem::path& cache_root);

}  // namespace mlforge::registry
