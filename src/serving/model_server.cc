#include "serving/model_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <set>

#include "registry/model_uri.h"
#include "registry/registry_store_factory.h"
#include "serving/routes.h"

namespace mlforge::serving {

core::Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return core::InvalidArgumentError(fmt::format(
        "'{}' is not a duration; write e.g. 500ms, 10s, 2m or 1h (a bare number is seconds)",
        text));
  };
  std::string_view number = text;
  double unit_ms = 1000;
  if (number.ends_with("ms")) {
    unit_ms = 1;
    number.remove_suffix(2);
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
  } else if (number.ends_with("m")) {
    unit_ms = 60'000;
    number.remove_suffix(1);
  } else if (number.ends_with("h")) {
    unit_ms = 3'600'000;
    number.remove_suffix(1);
  }
  if (number.empty()) return bad();
  double value = 0;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return bad();
  }
  if (value < 0) return core::InvalidArgumentError(fmt::format("duration '{}' is negative", text));
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * unit_ms)));
}

std::string FollowedLabel(std::string_view uri) {
  if (!registry::IsModelsUri(uri)) return "";
  std::string_view rest = uri.substr(std::string_view("models:/").size());
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    return std::string(rest.substr(at + 1));
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view suffix = rest.substr(slash + 1);
  if (suffix.empty()) return "";
  bool digits = true;
  for (char c : suffix) digits = digits && c >= '0' && c <= '9';
  return digits ? "" : std::string(suffix);
}

std::string DefaultModelName(const std::filesystem::path& folder) {
  std::filesystem::path clean = folder.lexically_normal();
  if (clean.filename().empty()) clean = clean.parent_path();
  std::string name = clean.filename().string();
  if ((name == "model" || name.empty()) && !clean.parent_path().filename().empty()) {
    name = clean.parent_path().filename().string();
  }
  return name.empty() ? "model" : name;
}

core::Result<RepositoryFile> ReadRepositoryFile(const std::filesystem::path& path,
                                                const Batcher::Options& defaults) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return core::NotFoundError(fmt::format("no repository file at {}", path.string()));
  }
  const std::string source = path.string();
  RepositoryFile file;
  try {
    YAML::Node root = YAML::LoadFile(source);
    if (!root.IsMap()) {
      return core::InvalidArgumentError(
          fmt::format("{}: expected a map with a 'models' list", source));
    }
    for (const auto& item : root) {
      const std::string key = item.first.as<std::string>();
      if (key != "models" && key != "poll_interval") {
        return core::InvalidArgumentError(fmt::format(
            "{}: unknown key '{}'; the keys are 'models' and 'poll_interval'", source, key));
      }
    }
    if (root["poll_interval"]) {
      MLFORGE_ASSIGN_OR_RETURN(file.poll_interval,
                               ParseDuration(root["poll_interval"].as<std::string>()));
    }
    YAML::Node models = root["models"];
    if (!models || !models.IsSequence() || models.size() == 0) {
      return core::InvalidArgumentError(fmt::format(
          "{}: 'models' must be a non-empty list of {{name, uri, ...}} entries", source));
    }
    std::set<std::string> names;
    for (size_t index = 0; index < models.size(); ++index) {
      const YAML::Node entry = models[index];
      const std::string where = fmt::format("{}: models[{}]", source, index);
      if (!entry.IsMap()) return core::InvalidArgumentError(where + " must be a map");
      ServedModelSpec spec;
      spec.batching = defaults;
      for (const auto& item : entry) {
        const std::string key = item.first.as<std::string>();
        const YAML::Node& value = item.second;
        auto integer = [&](int64_t minimum) -> core::Result<int64_t> {
          int64_t number = 0;
          if (!YAML::convert<int64_t>::decode(value, number) || number < minimum) {
            return core::InvalidArgumentError(
                fmt::format("{}: '{}' must be an integer of at least {}", where, key, minimum));
          }
          return number;
        };
        if (key == "name") {
          spec.name = value.as<std::string>();
        } else if (key == "uri") {
          spec.uri = value.as<std::string>();
        } else if (key == "version") {
          MLFORGE_ASSIGN_OR_RETURN(spec.version, integer(1));
        } else if (key == "max_batch") {
          MLFORGE_ASSIGN_OR_RETURN(spec.batching.max_batch_rows, integer(1));
        } else if (key == "max_delay_us") {
          MLFORGE_ASSIGN_OR_RETURN(int64_t delay, integer(0));
          spec.batching.max_delay = std::chrono::microseconds(delay);
        } else if (key == "queue") {
          MLFORGE_ASSIGN_OR_RETURN(int64_t queue, integer(1));
          spec.batching.max_queued_requests = static_cast<size_t>(queue);
        } else {
          return core::InvalidArgumentError(fmt::format(
              "{}: unknown key '{}'; an entry has name, uri, version, max_batch, max_delay_us "
              "and queue",
              where, key));
        }
      }
      if (spec.uri.empty()) return core::InvalidArgumentError(where + " needs a 'uri'");
      // A relative folder is relative to the file, so the file can move with its models.
      if (spec.uri.find(':') == std::string::npos &&
          std::filesystem::path(spec.uri).is_relative()) {
        spec.uri = (path.parent_path() / spec.uri).lexically_normal().string();
      }
      if (!spec.name.empty() && !names.insert(spec.name).second) {
        return core::InvalidArgumentError(
            fmt::format("{}: the name '{}' is given twice", where, spec.name));
      }
      file.models.push_back(std::move(spec));
    }
  } catch (const YAML::Exception& exception) {
    return core::InvalidArgumentError(fmt::format("{}: {}", source, exception.what()));
  }
  return file;
}

ModelServer::ModelServer(Options options, ModelLoader loader)
    : options_(std::move(options)),
      loader_(std::move(loader)),
      metrics_(&metrics_registry_),
      repository_(Batcher::Options{}, &metrics_) {}

ModelServer::~ModelServer() { Drain(); }

core::Result<std::unique_ptr<ModelServer>> ModelServer::Start(Options options, ModelLoader loader) {
  if (options.models.empty()) return core::InvalidArgumentError("no model to serve");
  std::unique_ptr<ModelServer> server(new ModelServer(std::move(options), std::move(loader)));
  bool follows = false;
  for (const ServedModelSpec& spec : server->options_.models) {
    Entry entry;
    entry.spec = spec;
    entry.label = FollowedLabel(spec.uri);
    follows = follows || !entry.label.empty();
    server->entries_.push_back(std::move(entry));
  }
  std::set<std::string> names;
  for (Entry& entry : server->entries_) {
    MLFORGE_RETURN_IF_ERROR(server->LoadInitial(&entry));
    if (!names.insert(entry.state.name).second) {
      return core::InvalidArgumentError(fmt::format(
          "two models would serve as '{}'; give each a different name", entry.state.name));
    }
  }
  if (follows) {
    const registry::ModelStores& stores = server->options_.stores;
    const std::string& uri =
        stores.registry_uri.empty() ? stores.tracking_uri : stores.registry_uri;
    MLFORGE_ASSIGN_OR_RETURN(server->registry_, registry::OpenRegistryStore(uri));
  }
  net::HttpServer::Options http = server->options_.http;
  http.metrics = &server->metrics_registry_;
  MLFORGE_ASSIGN_OR_RETURN(
      server->http_,
      net::HttpServer::Start(
          http, MakeServingRouter(&server->repository_, server->entries_.front().state.name)));
  if (server->registry_ && server->options_.poll_interval.count() > 0) {
    server->poller_ = std::thread([raw = server.get()] { raw->PollLoop(); });
  }
  return server;
}

core::Status ModelServer::LoadInitial(Entry* entry) {
  const ServedModelSpec& spec = entry->spec;
  auto fetched = registry::FetchModel(spec.uri, options_.stores, options_.cache_root);
  if (!fetched.ok()) return fetched.status();
  auto model = loader_(fetched->folder);
  if (!model.ok()) return model.status().WithContext(spec.uri);
  ServedModel& state = entry->state;
  state.name = !spec.name.empty()       ? spec.name
               : !fetched->name.empty() ? fetched->name
                                        : DefaultModelName(fetched->folder);
  state.version = fetched->version > 0 ? fetched->version : spec.version;
  state.uri = spec.uri;
  state.label = entry->label;
  state.folder = fetched->folder;
  state.signature = (*model)->signature();
  MLFORGE_ASSIGN_OR_RETURN(ServableHandle servable,
                           repository_.Prepare(state.name, state.version, *model, spec.batching));
  return repository_.Swap(std::move(servable), entry->label);
}

void ModelServer::Drain(std::chrono::milliseconds grace) {
  repository_.SetReady(false);
  if (grace.count() > 0) std::this_thread::sleep_for(grace);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (http_) http_->Stop();
  if (poller_.joinable()) poller_.join();
}

std::string ModelServer::address() const { return http_->address(); }
int ModelServer::port() const { return http_->port(); }

std::vector<ModelServer::ServedModel> ModelServer::models() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ServedModel> result;
  for (const Entry& entry : entries_) result.push_back(entry.state);
  return result;
}

void ModelServer::PollNowForTesting() { PollOnce(); }

void ModelServer::PollLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    PollOnce();
    lock.lock();
  }
}

void ModelServer::PollOnce() {
  std::lock_guard<std::mutex> poll_lock(poll_mutex_);
  if (!registry_) return;
  for (size_t index = 0; index < entries_.size(); ++index) {
    int64_t serving = 0;
    int64_t rejected = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      if (entries_[index].label.empty()) continue;
      serving = entries_[index].state.version;
      rejected = entries_[index].rejected_version;
    }
    const std::string& uri = entries_[index].spec.uri;  // fixed after Start
    auto resolved = registry::ResolveModelUri(*registry_, uri);
    if (!resolved.ok()) {
      spdlog::warn("serve: cannot resolve {} (still serving version {}): {}", uri, serving,
                   resolved.status().message());
      continue;
    }
    if (resolved->version == serving || resolved->version == rejected) continue;
    core::Status reloaded = Reload(index, resolved->version);
    if (!reloaded.ok() && reloaded.code() != core::StatusCode::kUnavailable) {
      std::lock_guard<std::mutex> lock(mutex_);
      entries_[index].rejected_version = resolved->version;
    }
  }
}

core::Status ModelServer::Reload(size_t index, int64_t wanted_version) {
  const Entry& entry = entries_[index];  // spec and label are fixed after Start
  std::string name;
  int64_t serving = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    name = entry.state.name;
    serving = entry.state.version;
  }
  spdlog::info("serve: {} now names version {} of '{}' (serving {}); loading it", entry.spec.uri,
               wanted_version, name, serving);
  auto reject = [&](int64_t version, const core::Status& status) {
    spdlog::error("serve: rejected version {} of '{}' ({}), still serving version {}: {}", version,
                  name, entry.spec.uri, serving, status.message());
    metrics_.RecordModelEvent(name, version, "load_failure");
    return status;
  };
  auto fetched = registry::FetchModel(entry.spec.uri, options_.stores, options_.cache_root);
  if (!fetched.ok()) {
    if (fetched.status().code() == core::StatusCode::kUnavailable) {
      spdlog::warn("serve: cannot fetch {} now (still serving version {}): {}", entry.spec.uri,
                   serving, fetched.status().message());
      return fetched.status();
    }
    return reject(wanted_version, fetched.status());
  }
  // The alias may have moved again between the two look-ups; what was
  // fetched is what counts.
  const int64_t version = fetched->version;
  if (version == serving) return core::Status::Ok();
  auto model = loader_(fetched->folder);
  if (!model.ok()) return reject(version, model.status());
  auto servable = repository_.Prepare(name, version, *model, entry.spec.batching);
  if (!servable.ok()) return reject(version, servable.status());
  const Matrix warm_rows = (*model)->WarmupRows();
  auto warm = (*servable)->batcher->Predict(warm_rows);
  if (!warm.ok()) {
    return reject(version, warm.status().WithContext("the warm-up request failed"));
  }
  if (warm->rows != warm_rows.rows) {
    return reject(version,
                  core::InternalError(fmt::format("the warm-up request answered {} rows for {}",
                                                  warm->rows, warm_rows.rows)));
  }
  for (float value : warm->values) {
    if (!std::isfinite(value)) {
      return reject(version, core::InvalidArgumentError(
                                 "the warm-up request answered a value that is not finite"));
    }
  }
  const ModelSignature& signature = (*model)->signature();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (signature.row_width() != entry.state.signature.row_width()) {
      spdlog::warn("serve: version {} of '{}' takes {} values per row, version {} took {}", version,
                   name, signature.row_width(), serving, entry.state.signature.row_width());
    }
  }
  MLFORGE_RETURN_IF_ERROR(repository_.Swap(*servable, entry.label));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ServedModel& state = entries_[index].state;
    state.version = version;
    state.folder = fetched->folder;
    state.signature = signature;
  }
  spdlog::info("serve: '{}' now serves version {} (was {}), {} = {}", name, version, serving,
               entry.label, version);
  return core::Status::Ok();
}

}  // namespace mlforge::serving
