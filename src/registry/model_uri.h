#pragma once

// Resolving MLflow's registry model URIs to the registered version they
// name and where its files are:
//
//   models:/NAME/VERSION   that version ("models:/mnist/3")
//   models:/NAME@ALIAS     the version the alias points at now
//                          ("models:/mnist@champion")
//   models:/NAME/latest    the highest-numbered version in any stage
//   models:/NAME/STAGE     the highest-numbered version in that stage
//                          (None, Staging, Production, Archived; any case)
//
// as mlflow/store/artifact/utils/models.py reads them. An alias is read at
// the moment of the call: a caller that follows alias moves (mlforge serve)
// resolves again.
//
// Thread safety: as the store's.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/registry_store.h"

namespace mlforge::registry {

struct ResolvedModelUri {
  std::string name;          // the registered model
  int64_t version = 0;       // the version the URI names now
  std::string download_uri;  // where its files are (the store's answer)
};

// True for a "models:/" URI (which ResolveModelUri may still reject).
bool IsModelsUri(std::string_view uri);

// Resolves `uri` against `store`. InvalidArgument for a URI of another
// scheme or shape (naming the accepted forms) and for an unknown alias;
// NotFound for a missing model or version, or a stage with no version.
core::Result<ResolvedModelUri> ResolveModelUri(RegistryStore& store, std::string_view uri);

}  // namespace mlforge::registry
