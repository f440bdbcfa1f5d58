#include "train/metrics_sink.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/ids.h"

namespace mlforge::train {

core::Result<std::unique_ptr<JsonLinesSink>> JsonLinesSink::Open(
    const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) return core::InternalError("cannot open metrics file " + path.string());
  return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(file));
}

JsonLinesSink::~JsonLinesSink() {
  (void)Flush();
  std::fclose(file_);
}

void JsonLinesSink::WriteLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

void JsonLinesSink::LogParams(const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [key, value] : params) {
    WriteLine(nlohmann::json{{"type", "param"}, {"key", key}, {"value", value}}.dump());
  }
}

void JsonLinesSink::LogMetric(const std::string& key, double value, int64_t step) {
  WriteLine(nlohmann::json{{"type", "metric"},
                           {"key", key},
                           {"value", value},
                           {"step", step},
                           {"timestamp", core::NowMillis()}}
                .dump());
}

void JsonLinesSink::SetTag(const std::string& key, const std::string& value) {
  WriteLine(nlohmann::json{{"type", "tag"}, {"key", key}, {"value", value}}.dump());
}

void JsonLinesSink::LogInput(const DatasetRef& dataset) {
  WriteLine(nlohmann::json{{"type", "input"},
                           {"name", dataset.name},
                           {"digest", dataset.digest},
                           {"source", dataset.source},
                           {"context", dataset.context}}
                .dump());
}

core::Status JsonLinesSink::Flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) {
    return core::InternalError("cannot flush the metrics file");
  }
  return core::Status::Ok();
}

}  // namespace mlforge::train
