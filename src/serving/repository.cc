#include "serving/repository.h"

#include <fmt/format.h>

namespace mlforge::serving {

ModelRepository::ModelRepository(Batcher::Options batcher_options, ServingMetrics* metrics)
    : batcher_options_(batcher_options), metrics_(metrics) {}

ModelRepository::~ModelRepository() = default;

core::Status ModelRepository::Load(const std::string& name, int64_t version,
                                   std::shared_ptr<const Model> model) {
  return Load(name, version, std::move(model), batcher_options_);
}

core::Result<ServableHandle> ModelRepository::Prepare(const std::string& name, int64_t version,
                                                      std::shared_ptr<const Model> model,
                                                      const Batcher::Options& options) const {
  if (name.empty()) return core::InvalidArgumentError("a model needs a name");
  if (version < 1) {
    return core::InvalidArgumentError(fmt::format("model versions start at 1, got {}", version));
  }
  if (!model) return core::InvalidArgumentError("no model to load");
  Batcher::Metrics batcher_metrics;
  if (metrics_) {
    batcher_metrics.batch_rows = &metrics_->BatchRows(name, version);
    batcher_metrics.queue_depth = &metrics_->QueueDepth(name, version);
  }
  auto servable = std::make_shared<ServableVersion>();
  servable->name = name;
  servable->version = version;
  servable->model = model;
  MLFORGE_ASSIGN_OR_RETURN(servable->batcher,
                           Batcher::Create(std::move(model), options, batcher_metrics));
  return ServableHandle(std::move(servable));
}

core::Status ModelRepository::Load(const std::string& name, int64_t version,
                                   std::shared_ptr<const Model> model,
                                   const Batcher::Options& options) {
  MLFORGE_ASSIGN_OR_RETURN(ServableHandle servable,
                           Prepare(name, version, std::move(model), options));
  ServableHandle replaced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ServableHandle& slot = models_[name][version];
    replaced = std::move(slot);
    slot = std::move(servable);
  }
  if (metrics_) metrics_->RecordModelEvent(name, version, "load");
  // `replaced` drops here, outside the lock; requests still holding it finish first.
  return core::Status::Ok();
}

core::Status ModelRepository::Swap(ServableHandle servable, const std::string& label) {
  if (!servable) return core::InvalidArgumentError("no servable to swap in");
  const std::string name = servable->name;
  const int64_t version = servable->version;
  std::map<int64_t, ServableHandle> replaced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<int64_t, ServableHandle>& versions = models_[name];
    replaced.swap(versions);
    versions[version] = std::move(servable);
    std::map<std::string, int64_t>& labels = labels_[name];
    labels.clear();
    if (!label.empty()) labels[label] = version;
  }
  if (metrics_) {
    metrics_->RecordModelEvent(name, version, "load");
    for (const auto& [number, old] : replaced) {
      if (number != version) metrics_->RecordModelEvent(name, number, "unload");
    }
  }
  // The replaced versions drop here, outside the lock, each once its last
  // request in flight has let go of it.
  return core::Status::Ok();
}

core::Status ModelRepository::Unload(const std::string& name, int64_t version) {
  ServableHandle removed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto model = models_.find(name);
    if (model == models_.end() || !model->second.contains(version)) {
      return core::NotFoundError(fmt::format("model '{}' version {} is not loaded", name, version));
    }
    removed = std::move(model->second[version]);
    model->second.erase(version);
    if (model->second.empty()) models_.erase(model);
    if (auto labels = labels_.find(name); labels != labels_.end()) {
      std::erase_if(labels->second,
                    [version](const auto& entry) { return entry.second == version; });
    }
  }
  if (metrics_) metrics_->RecordModelEvent(name, version, "unload");
  return core::Status::Ok();
}

core::Result<ServableHandle> ModelRepository::Get(const std::string& name,
                                                  std::optional<int64_t> version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto model = models_.find(name);
  if (model == models_.end() || model->second.empty()) {
    std::string loaded;
    for (const auto& [loaded_name, versions] : models_) {
      loaded += (loaded.empty() ? "" : ", ") + loaded_name;
    }
    return core::NotFoundError(fmt::format("model '{}' is not loaded (loaded: {})", name,
                                           loaded.empty() ? "none" : loaded));
  }
  if (!version) return model->second.rbegin()->second;
  auto found = model->second.find(*version);
  if (found == model->second.end()) {
    std::string loaded;
    for (const auto& [number, servable] : model->second) {
      loaded += (loaded.empty() ? "" : ", ") + std::to_string(number);
    }
    return core::NotFoundError(
        fmt::format("model '{}' has no version {} (loaded: {})", name, *version, loaded));
  }
  return found->second;
}

core::Result<ServableHandle> ModelRepository::GetByLabel(const std::string& name,
                                                         const std::string& label) const {
  std::optional<int64_t> version;
  std::string known;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto labels = labels_.find(name); labels != labels_.end()) {
      if (auto found = labels->second.find(label); found != labels->second.end()) {
        version = found->second;
      }
      for (const auto& [known_label, number] : labels->second) {
        known += (known.empty() ? "" : ", ") + known_label;
      }
    }
  }
  if (!version) {
    return core::NotFoundError(fmt::format("model '{}' has no version labelled '{}' (labels: {})",
                                           name, label, known.empty() ? "none" : known));
  }
  return Get(name, *version);
}

core::Status ModelRepository::SetLabel(const std::string& name, const std::string& label,
                                       int64_t version) {
  if (label.empty()) return core::InvalidArgumentError("a label must not be empty");
  std::lock_guard<std::mutex> lock(mutex_);
  auto model = models_.find(name);
  if (model == models_.end() || !model->second.contains(version)) {
    return core::NotFoundError(fmt::format("model '{}' version {} is not loaded", name, version));
  }
  labels_[name][label] = version;
  return core::Status::Ok();
}

std::map<std::string, int64_t> ModelRepository::Labels(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto labels = labels_.find(name);
  if (labels == labels_.end()) return {};
  return labels->second;
}

std::vector<ServableHandle> ModelRepository::Versions(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ServableHandle> result;
  auto model = models_.find(name);
  if (model == models_.end()) return result;
  for (const auto& [number, servable] : model->second) result.push_back(servable);
  return result;
}

std::vector<std::string> ModelRepository::Names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, versions] : models_) names.push_back(name);
  return names;
}

bool ModelRepository::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ready_) return false;
  for (const auto& [name, versions] : models_) {
    if (!versions.empty()) return true;
  }
  return false;
}

void ModelRepository::SetReady(bool ready) {
  std::lock_guard<std::mutex> lock(mutex_);
  ready_ = ready;
}

}  // namespace mlforge::serving
