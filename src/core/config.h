#pragma once

// YAML configuration with dotted-key access and `--set a.b=c` overrides.
//
//   MLFORGE_ASSIGN_OR_RETURN(Config config, Config::Load("train.yaml", {"optimizer.lr=0.1"}));
//   MLFORGE_ASSIGN_OR_RETURN(double lr, config.Double("optimizer.lr", 0.01));
//
// Every getter names the key and the source file in its error, so a user can
// find the line to fix. Not thread-safe for writes; concurrent reads are fine.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::core {

class Config {
 public:
  Config();

  // Reads `path` and applies each override "dotted.key=value" in order, the
  // value parsed as YAML (so "[64,32]" is a list and "0.1" a number).
  // NotFound when the file is missing; InvalidArgument on bad YAML or a
  // malformed override.
  static Result<Config> Load(const std::filesystem::path& path,
                             const std::vector<std::string>& overrides = {});
  // The same from text; `source` names it in error messages.
  static Result<Config> Parse(std::string_view yaml_text, std::string source,
                              const std::vector<std::string>& overrides = {});

  // Sets one key ("a.b.c") to a YAML value, creating maps on the way.
  Status Set(std::string_view dotted_key, std::string_view yaml_value);
  // Applies an override of the form "a.b=c".
  Status ApplyOverride(std::string_view assignment);

  bool Has(std::string_view dotted_key) const;

  // Typed getters. A missing key gives `fallback` when one is given and
  // InvalidArgument ("missing required key") otherwise; a value of the wrong
  // type is always InvalidArgument.
  Result<std::string> String(std::string_view key,
                             const std::optional<std::string>& fallback = std::nullopt) const;
  Result<double> Double(std::string_view key,
                        const std::optional<double>& fallback = std::nullopt) const;
  Result<int64_t> Int(std::string_view key,
                      const std::optional<int64_t>& fallback = std::nullopt) const;
  Result<bool> Bool(std::string_view key, const std::optional<bool>& fallback = std::nullopt) const;
  Result<std::vector<int64_t>> IntList(
      std::string_view key,
      const std::optional<std::vector<int64_t>>& fallback = std::nullopt) const;
  Result<std::vector<double>> DoubleList(
      std::string_view key,
      const std::optional<std::vector<double>>& fallback = std::nullopt) const;

  // The subtree at `key` as a Config of its own (an empty one when missing).
  Config Sub(std::string_view key) const;

  // Every scalar leaf as ("a.b", "value"), lists rendered in flow style;
  // used to log a resolved config as run parameters.
  std::vector<std::pair<std::string, std::string>> Flatten() const;

  std::string ToYaml() const;
  const std::string& source() const { return source_; }
  const YAML::Node& node() const { return root_; }

 private:
  Config(const YAML::Node& root, std::string source, std::string prefix = "");
  std::optional<YAML::Node> Find(std::string_view dotted_key) const;
  Status TypeError(std::string_view key, const char* wanted) const;

  YAML::Node root_;
  std::string source_;
  // The dotted path of this subtree inside the file ("optimizer."), so errors
  // from a Sub() name the key as the user wrote it.
  std::string prefix_;
};

}  // namespace mlforge::core
