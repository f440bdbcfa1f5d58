#include "core/config.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "core/file.h"

namespace mlforge::core {
namespace {

std::vector<std::string> SplitKey(std::string_view dotted_key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= dotted_key.size()) {
    size_t dot = dotted_key.find('.', start);
    if (dot == std::string_view::npos) dot = dotted_key.size();
    parts.emplace_back(dotted_key.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

void FlattenInto(const YAML::Node& node, const std::string& prefix,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      std::string key = entry.first.as<std::string>();
      FlattenInto(entry.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsScalar()) {
    out.emplace_back(prefix, node.as<std::string>());
  } else if (node.IsSequence()) {
    YAML::Emitter emitter;
    emitter << YAML::Flow << node;
    out.emplace_back(prefix, emitter.c_str());
  } else if (node.IsNull()) {
    out.emplace_back(prefix, "");
  }
}

}  // namespace

Config::Config() : root_(YAML::NodeType::Map) {}

Config::Config(const YAML::Node& root, std::string source, std::string prefix)
    : root_(root), source_(std::move(source)), prefix_(std::move(prefix)) {}

Result<Config> Config::Load(const std::filesystem::path& path,
                            const std::vector<std::string>& overrides) {
  auto text = ReadFile(path);
  if (!text.ok()) return NotFoundError("config file " + path.string() + " not found");
  return Parse(*text, path.string(), overrides);
}

Result<Config> Config::Parse(std::string_view yaml_text, std::string source,
                             const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return InvalidArgumentError(source + ": invalid YAML at line " +
                                std::to_string(error.mark.line + 1) + ": " + error.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    return InvalidArgumentError(source + ": the top level must be a mapping of keys");
  }
  Config config(root, std::move(source));
  for (const std::string& assignment : overrides) {
    MLFORGE_RETURN_IF_ERROR(config.ApplyOverride(assignment));
  }
  return config;
}

Status Config::ApplyOverride(std::string_view assignment) {
  size_t equals = assignment.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return InvalidArgumentError("override '" + std::string(assignment) +
                                "' must look like key.path=value");
  }
  return Set(assignment.substr(0, equals), assignment.substr(equals + 1));
}

Status Config::Set(std::string_view dotted_key, std::string_view yaml_value) {
  YAML::Node value;
  try {
    value = YAML::Load(std::string(yaml_value));
  } catch (const YAML::Exception& error) {
    return InvalidArgumentError("value for '" + std::string(dotted_key) +
                                "' is not valid YAML: " + error.msg);
  }
  std::vector<std::string> parts = SplitKey(dotted_key);
  for (const std::string& part : parts) {
    if (part.empty()) {
      return InvalidArgumentError("key '" + std::string(dotted_key) + "' has an empty part");
    }
  }
  // yaml-cpp nodes are handles, and Node::operator= rewrites the node a
  // handle refers to; reset() is the way to move a handle along the path.
  YAML::Node current;
  current.reset(root_);
  for (size_t index = 0; index + 1 < parts.size(); ++index) {
    YAML::Node existing = std::as_const(current)[parts[index]];
    // A missing key yields an invalid node whose type must not be asked.
    const bool defined = existing.IsDefined();
    if (defined && !existing.IsNull() && !existing.IsMap()) {
      return InvalidArgumentError("cannot set '" + std::string(dotted_key) + "': '" + parts[index] +
                                  "' is not a mapping");
    }
    if (!defined || !existing.IsMap()) {
      current[parts[index]] = YAML::Node(YAML::NodeType::Map);
    }
    YAML::Node child = std::as_const(current)[parts[index]];
    current.reset(child);
  }
  current[parts.back()] = value;
  return Status::Ok();
}

std::optional<YAML::Node> Config::Find(std::string_view dotted_key) const {
  YAML::Node current;
  current.reset(root_);
  for (const std::string& part : SplitKey(dotted_key)) {
    if (!current.IsMap()) return std::nullopt;
    YAML::Node child = std::as_const(current)[part];
    if (!child.IsDefined()) return std::nullopt;
    current.reset(child);
  }
  if (current.IsNull()) return std::nullopt;
  return current;
}

bool Config::Has(std::string_view dotted_key) const { return Find(dotted_key).has_value(); }

Status Config::TypeError(std::string_view key, const char* wanted) const {
  return InvalidArgumentError((source_.empty() ? std::string() : source_ + ": ") + "key '" +
                              prefix_ + std::string(key) + "' must be " + wanted);
}

template <typename T>
static Result<T> Missing(const std::string& source, const std::string& prefix, std::string_view key,
                         const std::optional<T>& fallback) {
  if (fallback) return *fallback;
  return InvalidArgumentError((source.empty() ? std::string() : source + ": ") +
                              "missing required key '" + prefix + std::string(key) + "'");
}

Result<std::string> Config::String(std::string_view key,
                                   const std::optional<std::string>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  if (!node->IsScalar()) return TypeError(key, "a string");
  return node->as<std::string>();
}

Result<double> Config::Double(std::string_view key, const std::optional<double>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  try {
    if (node->IsScalar()) return node->as<double>();
  } catch (const YAML::Exception&) {
  }
  return TypeError(key, "a number");
}

Result<int64_t> Config::Int(std::string_view key, const std::optional<int64_t>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  try {
    if (node->IsScalar()) return node->as<int64_t>();
  } catch (const YAML::Exception&) {
  }
  return TypeError(key, "an integer");
}

Result<bool> Config::Bool(std::string_view key, const std::optional<bool>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  try {
    if (node->IsScalar()) return node->as<bool>();
  } catch (const YAML::Exception&) {
  }
  return TypeError(key, "true or false");
}

Result<std::vector<int64_t>> Config::IntList(
    std::string_view key, const std::optional<std::vector<int64_t>>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  if (!node->IsSequence()) return TypeError(key, "a list of integers");
  std::vector<int64_t> values;
  try {
    for (const auto& item : *node) values.push_back(item.as<int64_t>());
  } catch (const YAML::Exception&) {
    return TypeError(key, "a list of integers");
  }
  return values;
}

Result<std::vector<double>> Config::DoubleList(
    std::string_view key, const std::optional<std::vector<double>>& fallback) const {
  auto node = Find(key);
  if (!node) return Missing(source_, prefix_, key, fallback);
  if (!node->IsSequence()) return TypeError(key, "a list of numbers");
  std::vector<double> values;
  try {
    for (const auto& item : *node) values.push_back(item.as<double>());
  } catch (const YAML::Exception&) {
    return TypeError(key, "a list of numbers");
  }
  return values;
}

Config Config::Sub(std::string_view key) const {
  auto node = Find(key);
  std::string prefix = prefix_ + std::string(key) + ".";
  if (!node || !node->IsMap()) return Config(YAML::Node(YAML::NodeType::Map), source_, prefix);
  return Config(*node, source_, prefix);
}

std::vector<std::pair<std::string, std::string>> Config::Flatten() const {
  std::vector<std::pair<std::string, std::string>> out;
  FlattenInto(root_, "", out);
  return out;
}

std::string Config::ToYaml() const {
  YAML::Emitter emitter;
  emitter << root_;
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace mlforge::core
