#include "tracking/validation.h"

#include <cctype>
#include <set>
#include <string>

namespace mlforge::tracking {

namespace {

// The value as JSON would show it, as MLflow's messages do.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string JoinPath(std::string_view prefix, std::string_view field) {
  if (prefix.empty()) return std::string(field);
  return std::string(prefix) + "." + std::string(field);
}

core::Status InvalidValue(std::string_view path, std::string_view value, std::string_view why) {
  return core::InvalidArgumentError("Invalid value " + Quoted(value) + " for parameter '" +
                                    std::string(path) + "' supplied: " + std::string(why));
}

core::Status CheckLength(std::string_view path, std::string_view value, size_t limit) {
  if (value.size() <= limit || CodePointLength(value) <= limit) return core::Status::Ok();
  return core::InvalidArgumentError("'" + std::string(path) + "' exceeds the maximum length of " +
                                    std::to_string(limit) + " characters");
}

bool IsKeyCharacter(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':' ||
         c >= 0x80;
}

// Python's posixpath.normpath.
std::string NormalizePosixPath(std::string_view path) {
  if (path.empty()) return ".";
  int initial_slashes = 0;
  if (path.front() == '/') {
    initial_slashes = (path.substr(0, 2) == "//" && path.substr(0, 3) != "///") ? 2 : 1;
  }
  std::vector<std::string_view> parts;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(begin, end - begin);
    begin = end + 1;
    if (part.empty() || part == ".") continue;
    if (part != ".." || (initial_slashes == 0 && parts.empty()) ||
        (!parts.empty() && parts.back() == "..")) {
      parts.push_back(part);
    } else if (!parts.empty()) {
      parts.pop_back();
    }
  }
  std::string normalized(static_cast<size_t>(initial_slashes), '/');
  for (size_t index = 0; index < parts.size(); ++index) {
    if (index > 0) normalized += '/';
    normalized += parts[index];
  }
  return normalized.empty() ? "." : normalized;
}

}  // namespace

size_t CodePointLength(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

core::Status ValidateEntityKey(std::string_view key, std::string_view path) {
  for (char c : key) {
    if (!IsKeyCharacter(static_cast<unsigned char>(c))) {
      return InvalidValue(path, key,
                          "Names may only contain alphanumerics, underscores (_), dashes (-), "
                          "periods (.), spaces ( ), colon(:) and slashes (/).");
    }
  }
  std::string normalized = NormalizePosixPath(key);
  if (normalized != key || normalized == "." || normalized.starts_with("..") ||
      normalized.starts_with("/")) {
    if (key.empty()) {
      return core::InvalidArgumentError("Missing value for required parameter '" +
                                        std::string(path) + "'. A key name must be provided.");
    }
    return InvalidValue(path, key,
                        "Names may be treated as files in certain cases, and must not resolve "
                        "to other names when treated as such. This name would resolve to '" +
                            normalized + "'");
  }
  return CheckLength(path, key, kMaxEntityKeyLength);
}

core::Status ValidateMetric(const Metric& metric, std::string_view path) {
  MLFORGE_RETURN_IF_ERROR(ValidateEntityKey(metric.key, JoinPath(path, "key")));
  if (metric.timestamp < 0) {
    return InvalidValue(
        JoinPath(path, "timestamp"), std::to_string(metric.timestamp),
        "metric '" + metric.key + "'. Timestamp must be a nonnegative long (64-bit integer)");
  }
  return core::Status::Ok();
}

core::Status ValidateParam(const Param& param, std::string_view path) {
  MLFORGE_RETURN_IF_ERROR(ValidateEntityKey(param.key, JoinPath(path, "key")));
  return CheckLength(JoinPath(path, "value"), param.value, kMaxParamValueLength);
}

core::Status ValidateRunTag(const RunTag& tag, std::string_view path) {
  MLFORGE_RETURN_IF_ERROR(ValidateEntityKey(tag.key, JoinPath(path, "key")));
  return CheckLength(JoinPath(path, "value"), tag.value, kMaxTagValueLength);
}

core::Status ValidateExperimentTag(const ExperimentTag& tag) {
  MLFORGE_RETURN_IF_ERROR(ValidateEntityKey(tag.key, "key"));
  MLFORGE_RETURN_IF_ERROR(CheckLength("key", tag.key, kMaxExperimentTagKeyLength));
  return CheckLength("value", tag.value, kMaxExperimentTagValueLength);
}

core::Status ValidateExperimentName(std::string_view name) {
  if (name.empty()) {
    return core::InvalidArgumentError("Invalid experiment name: ''");
  }
  if (CodePointLength(name) > kMaxExperimentNameLength) {
    return core::InvalidArgumentError("Experiment name exceeds the maximum length of " +
                                      std::to_string(kMaxExperimentNameLength) + " characters");
  }
  return core::Status::Ok();
}

core::Status ValidateRunId(std::string_view run_id) {
  bool ok = !run_id.empty() && run_id.size() <= 256 &&
            std::isalnum(static_cast<unsigned char>(run_id.front()));
  for (size_t index = 1; ok && index < run_id.size(); ++index) {
    unsigned char c = static_cast<unsigned char>(run_id[index]);
    ok = std::isalnum(c) || c == '_' || c == '-';
  }
  if (!ok) return InvalidValue("run_id", run_id, "not a valid run id.");
  return core::Status::Ok();
}

namespace {

core::Status CheckBatchLimit(std::string_view what, size_t limit, size_t count) {
  if (count <= limit) return core::Status::Ok();
  std::string entity(what);
  return core::InvalidArgumentError("A batch logging request can contain at most " +
                                    std::to_string(limit) + " " + entity + ". Got " +
                                    std::to_string(count) + " " + entity + ". Please split up " +
                                    entity + " across multiple requests and try again.");
}

}  // namespace

core::Status ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                           const std::vector<RunTag>& tags) {
  MLFORGE_RETURN_IF_ERROR(CheckBatchLimit("metrics", kMaxMetricsPerBatch, metrics.size()));
  MLFORGE_RETURN_IF_ERROR(CheckBatchLimit("params", kMaxParamsTagsPerBatch, params.size()));
  MLFORGE_RETURN_IF_ERROR(CheckBatchLimit("tags", kMaxParamsTagsPerBatch, tags.size()));
  MLFORGE_RETURN_IF_ERROR(CheckBatchLimit("metrics, params, and tags", kMaxEntitiesPerBatch,
                                          metrics.size() + params.size() + tags.size()));
  for (size_t index = 0; index < metrics.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(
        ValidateMetric(metrics[index], "metrics[" + std::to_string(index) + "]"));
  }
  std::set<std::string_view> param_keys;
  std::vector<std::string> duplicates;
  for (size_t index = 0; index < params.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(ValidateParam(params[index], "params[" + std::to_string(index) + "]"));
    if (!param_keys.insert(params[index].key).second) duplicates.push_back(params[index].key);
  }
  for (size_t index = 0; index < tags.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(ValidateRunTag(tags[index], "tags[" + std::to_string(index) + "]"));
  }
  if (!duplicates.empty()) {
    std::string listed;
    for (const std::string& key : duplicates) {
      listed += (listed.empty() ? "'" : ", '") + key + "'";
    }
    return core::InvalidArgumentError("Duplicate parameter keys have been submitted: [" + listed +
                                      "]. Please ensure the request contains only one param "
                                      "value per param key.");
  }
  return core::Status::Ok();
}

core::Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs) {
  MLFORGE_RETURN_IF_ERROR(CheckBatchLimit("datasets", kMaxDatasetsPerBatch, inputs.size()));
  for (size_t index = 0; index < inputs.size(); ++index) {
    const Dataset& dataset = inputs[index].dataset;
    std::string path = "datasets[" + std::to_string(index) + "].dataset";
    if (dataset.name.empty() || dataset.digest.empty() || dataset.source_type.empty() ||
        dataset.source.empty()) {
      return core::InvalidArgumentError("Dataset '" + path +
                                        "' needs a name, digest, source_type and source.");
    }
    MLFORGE_RETURN_IF_ERROR(
        CheckLength(JoinPath(path, "name"), dataset.name, kMaxDatasetNameLength));
    MLFORGE_RETURN_IF_ERROR(
        CheckLength(JoinPath(path, "digest"), dataset.digest, kMaxDatasetDigestLength));
    MLFORGE_RETURN_IF_ERROR(
        CheckLength(JoinPath(path, "schema"), dataset.schema, kMaxDatasetSchemaLength));
    MLFORGE_RETURN_IF_ERROR(
        CheckLength(JoinPath(path, "source"), dataset.source, kMaxDatasetSourceLength));
    MLFORGE_RETURN_IF_ERROR(
        CheckLength(JoinPath(path, "profile"), dataset.profile, kMaxDatasetProfileLength));
    for (size_t tag_index = 0; tag_index < inputs[index].tags.size(); ++tag_index) {
      const InputTag& tag = inputs[index].tags[tag_index];
      std::string tag_path =
          "datasets[" + std::to_string(index) + "].tags[" + std::to_string(tag_index) + "]";
      if (tag.key.empty()) {
        return core::InvalidArgumentError("Missing value for required parameter '" + tag_path +
                                          ".key'.");
      }
      MLFORGE_RETURN_IF_ERROR(
          CheckLength(JoinPath(tag_path, "key"), tag.key, kMaxInputTagKeyLength));
      MLFORGE_RETURN_IF_ERROR(
          CheckLength(JoinPath(tag_path, "value"), tag.value, kMaxInputTagValueLength));
    }
  }
  return core::Status::Ok();
}

core::Status ValidateMaxResults(int64_t max_results, int64_t limit, std::string_view what) {
  if (max_results < 1 || max_results > limit) {
    return core::InvalidArgumentError(
        "Invalid value " + std::to_string(max_results) + " for parameter 'max_results' supplied: " +
        std::string(what) + " takes a max_results between 1 and " + std::to_string(limit) + ".");
  }
  return core::Status::Ok();
}

}  // namespace mlforge::tracking
