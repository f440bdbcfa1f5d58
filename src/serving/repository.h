#pragma once

// The models a server holds: name -> versions, each a loaded Model with its
// own Batcher, plus the server's readiness.
//
//   ServingMetrics metrics(&registry);
//   ModelRepository repository(batcher_options, &metrics);
//   MLFORGE_RETURN_IF_ERROR(repository.Load("mnist", 1, model));
//   MLFORGE_ASSIGN_OR_RETURN(ServableHandle servable, repository.Get("mnist", std::nullopt));
//   MLFORGE_ASSIGN_OR_RETURN(Matrix scores, servable->batcher->Predict(rows));
//
// A handle is a shared_ptr (TFS's ServableHandle): Load() of a version that is
// already there swaps in the new one atomically, and Unload() removes one,
// while requests holding the old handle finish on it; the old version (and its
// batcher thread) goes away when its last handle does.
//
// Hot reload (an alias moved to another version) is two steps, so the new
// version can answer a warm-up request on its own batcher before any client
// sees it:
//
//   MLFORGE_ASSIGN_OR_RETURN(ServableHandle next, repository.Prepare("mnist", 2, model, options));
//   MLFORGE_RETURN_IF_ERROR(next->batcher->Predict(model->WarmupRows()).status());
//   MLFORGE_RETURN_IF_ERROR(repository.Swap(next, "champion"));  // v2 only, label moved
//
// Labels (TF Serving's version labels; mlforge serve uses the registry alias
// it follows) name one loaded version each.
//
// Thread safety: every method may be called from any thread. No model runs
// and no batcher is destroyed under the repository's lock.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/batcher.h"
#include "serving/metrics.h"
#include "serving/model.h"

namespace mlforge::serving {

// One loaded version. Fixed after Load().
struct ServableVersion {
  std::string name;
  int64_t version = 0;
  std::shared_ptr<const Model> model;
  std::unique_ptr<Batcher> batcher;
};
using ServableHandle = std::shared_ptr<const ServableVersion>;

class ModelRepository {
 public:
  // `metrics` is borrowed and must outlive the repository; null records
  // nothing.
  ModelRepository(Batcher::Options batcher_options, ServingMetrics* metrics);
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  // Starts a batcher for `model` and makes it `name` version `version`
  // (replacing that version if loaded). InvalidArgument for an empty name,
  // a version below 1, or batcher options out of range. Without `options`
  // the repository's default batcher options apply.
  core::Status Load(const std::string& name, int64_t version, std::shared_ptr<const Model> model);
  core::Status Load(const std::string& name, int64_t version, std::shared_ptr<const Model> model,
                    const Batcher::Options& options);

  // A servable with its batcher running, not yet visible to Get(): for a
  // warm-up call before Swap(). Errors as Load().
  core::Result<ServableHandle> Prepare(const std::string& name, int64_t version,
                                       std::shared_ptr<const Model> model,
                                       const Batcher::Options& options) const;

  // Atomically makes `servable` the only loaded version of its model and,
  // when `label` is not empty, points that label at it. Requests that already
  // hold a handle to a replaced version finish on it. Records a load event
  // for the new version and an unload event for each one replaced.
  // InvalidArgument for a null servable.
  core::Status Swap(ServableHandle servable, const std::string& label);

  // Removes a version; NotFound when it is not loaded.
  core::Status Unload(const std::string& name, int64_t version);

  // `version`, or the highest loaded version when nullopt. NotFound naming
  // what is loaded when there is no such model or version.
  core::Result<ServableHandle> Get(const std::string& name, std::optional<int64_t> version) const;

  // The version `label` of model `name` points at. NotFound naming the
  // model's labels when there is no such label (or model).
  core::Result<ServableHandle> GetByLabel(const std::string& name, const std::string& label) const;
  // Points `label` at a loaded version. NotFound when it is not loaded;
  // InvalidArgument for an empty label.
  core::Status SetLabel(const std::string& name, const std::string& label, int64_t version);
  // Label -> version of model `name`; empty when none.
  std::map<std::string, int64_t> Labels(const std::string& name) const;

  // Every loaded version of `name`, ascending; empty when none.
  std::vector<ServableHandle> Versions(const std::string& name) const;
  // Model names, sorted.
  std::vector<std::string> Names() const;

  // Server readiness: false before the first Load() and after SetReady(false)
  // (a draining server), so health checks take it out of rotation.
  bool ready() const;
  void SetReady(bool ready);

  ServingMetrics* metrics() const { return metrics_; }

 private:
  const Batcher::Options batcher_options_;
  ServingMetrics* const metrics_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::map<std::string, std::map<int64_t, ServableHandle>> models_;
  // Guarded by mutex_: model name -> label -> version (always a loaded one).
  std::map<std::string, std::map<std::string, int64_t>> labels_;
  bool ready_ = true;  // guarded by mutex_
};

}  // namespace mlforge::serving
