#include "pipeline/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "core/file.h"
#include "pipeline/expression.h"
#include "pipeline/template.h"

namespace mlforge::pipeline {
namespace {

bool IsName(const std::string& text) {
  if (text.empty()) return false;
  for (char character : text) {
    bool ok = (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z') ||
              (character >= '0' && character <= '9') || character == '_' || character == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsEnvName(const std::string& text) {
  if (text.empty() || (text[0] >= '0' && text[0] <= '9')) return false;
  for (char character : text) {
    bool ok = (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z') ||
              (character >= '0' && character <= '9') || character == '_';
    if (!ok) return false;
  }
  return true;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char character : text) {
    switch (character) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(character) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", character);
          out += buffer;
        } else {
          out += character;
        }
    }
  }
  return out + "\"";
}

Location LocationOf(const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

// Builds "source:line: message" errors.
class Reporter {
 public:
  explicit Reporter(std::string source) : source_(std::move(source)) {}

  core::Status At(Location location, const std::string& message) const {
    if (location.line <= 0) return core::InvalidArgumentError(source_ + ": " + message);
    return core::InvalidArgumentError(source_ + ":" + std::to_string(location.line) + ": " +
                                      message);
  }
  core::Status At(const YAML::Node& node, const std::string& message) const {
    return At(LocationOf(node), message);
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// InvalidArgument (via `reporter`) for each key of `map` not in `allowed`.
core::Status CheckKeys(const Reporter& reporter, const YAML::Node& map, const std::string& what,
                       const std::vector<std::string>& allowed) {
  for (const auto& entry : map) {
    std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const std::string& name : allowed) list += (list.empty() ? "" : ", ") + name;
      return reporter.At(entry.first, "unknown key '" + key + "' in " + what + "; known: " + list);
    }
  }
  return core::Status::Ok();
}

core::Result<std::string> ScalarText(const Reporter& reporter, const YAML::Node& node,
                                     const std::string& what) {
  if (!node.IsScalar()) return reporter.At(node, what + " must be a single value");
  return node.Scalar();
}

core::Result<ParamType> ParseParamType(const Reporter& reporter, const YAML::Node& node) {
  MLFORGE_ASSIGN_OR_RETURN(std::string text, ScalarText(reporter, node, "'type'"));
  if (text == "string" || text == "str") return ParamType::kString;
  if (text == "int" || text == "integer") return ParamType::kInt;
  if (text == "float" || text == "number" || text == "double") return ParamType::kFloat;
  if (text == "bool" || text == "boolean") return ParamType::kBool;
  if (text == "list") return ParamType::kList;
  return reporter.At(node,
                     "unknown param type '" + text + "'; use string, int, float, bool or list");
}

// Canonical text of a scalar of `type`, or an error message.
core::Result<std::string> CanonicalScalar(ParamType type, const std::string& text) {
  switch (type) {
    case ParamType::kString:
      return text;
    case ParamType::kInt: {
      int64_t value = 0;
      const char* begin = text.data();
      if (!text.empty() && text[0] == '+') ++begin;
      auto [end, error] = std::from_chars(begin, text.data() + text.size(), value);
      if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return core::InvalidArgumentError("'" + text + "' is not an int");
      }
      return std::to_string(value);
    }
    case ParamType::kFloat: {
      char* end = nullptr;
      double value = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
        return core::InvalidArgumentError("'" + text + "' is not a float");
      }
      return text;
    }
    case ParamType::kBool: {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char character) { return std::tolower(character); });
      if (lower == "true") return std::string("true");
      if (lower == "false") return std::string("false");
      return core::InvalidArgumentError("'" + text + "' is not a bool (true or false)");
    }
    case ParamType::kList:
      break;
  }
  return core::InvalidArgumentError("a list is not a scalar");
}

// A Value of `type` from a YAML node; the message of an error lacks the location.
core::Result<Value> ValueFromNode(ParamType type, const YAML::Node& node) {
  Value value;
  value.type = type;
  if (type == ParamType::kList) {
    if (!node.IsSequence()) {
      return core::InvalidArgumentError("expected a list such as [a, b], got '" +
                                        (node.IsScalar() ? node.Scalar() : std::string("a map")) +
                                        "'");
    }
    for (const auto& item : node) {
      if (!item.IsScalar()) return core::InvalidArgumentError("list items must be single values");
      value.items.push_back(item.Scalar());
    }
    return value;
  }
  if (!node.IsScalar()) {
    return core::InvalidArgumentError(std::string("expected a ") + ParamTypeName(type) +
                                      ", got a " + (node.IsSequence() ? "list" : "map"));
  }
  MLFORGE_ASSIGN_OR_RETURN(value.scalar, CanonicalScalar(type, node.Scalar()));
  return value;
}

// The type a shorthand param `name: VALUE` gets from its value.
ParamType InferType(const YAML::Node& node) {
  if (node.IsSequence()) return ParamType::kList;
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return ParamType::kString;  // quoted
  if (CanonicalScalar(ParamType::kInt, text).ok()) return ParamType::kInt;
  if (CanonicalScalar(ParamType::kFloat, text).ok()) return ParamType::kFloat;
  if (text == "true" || text == "false") return ParamType::kBool;
  return ParamType::kString;
}

core::Result<OutputType> ParseOutputType(const Reporter& reporter, const YAML::Node& node) {
  MLFORGE_ASSIGN_OR_RETURN(std::string text, ScalarText(reporter, node, "'type'"));
  if (text == "file") return OutputType::kFile;
  if (text == "folder" || text == "directory" || text == "dir") return OutputType::kFolder;
  if (text == "string" || text == "str") return OutputType::kString;
  if (text == "int" || text == "integer") return OutputType::kInt;
  if (text == "float" || text == "number") return OutputType::kFloat;
  if (text == "bool" || text == "boolean") return OutputType::kBool;
  return reporter.At(
      node, "unknown output type '" + text + "'; use file, folder, string, int, float or bool");
}

core::Result<std::vector<std::string>> StringList(const Reporter& reporter, const YAML::Node& node,
                                                  const std::string& what) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) return reporter.At(node, what + " must be a list");
  for (const auto& item : node) {
    if (!item.IsScalar()) return reporter.At(item, what + " items must be single values");
    out.push_back(item.Scalar());
  }
  return out;
}

class Loader {
 public:
  Loader(std::string source, std::filesystem::path working_dir)
      : reporter_(std::move(source)), working_dir_(std::move(working_dir)) {}

  core::Result<Pipeline> Load(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& error) {
      return reporter_.At(Location{error.mark.line + 1, error.mark.column + 1},
                          "invalid YAML: " + error.msg);
    }
    try {
      return LoadRoot(root);
    } catch (const YAML::Exception& error) {
      return reporter_.At(Location{error.mark.line + 1, error.mark.column + 1},
                          "cannot read the spec: " + error.msg);
    }
  }

 private:
  core::Result<Pipeline> LoadRoot(const YAML::Node& root) {
    if (!root.IsMap()) {
      return reporter_.At(root, "a pipeline spec is a mapping with name, params, steps, on_exit");
    }
    MLFORGE_RETURN_IF_ERROR(CheckKeys(reporter_, root, "the pipeline",
                                      {"name", "description", "params", "steps", "on_exit"}));
    Pipeline pipeline;
    pipeline.source = reporter_.source();
    if (!root["name"]) return reporter_.At(root, "the pipeline needs a 'name'");
    MLFORGE_ASSIGN_OR_RETURN(pipeline.name, ScalarText(reporter_, root["name"], "'name'"));
    if (!IsName(pipeline.name)) {
      return reporter_.At(root["name"], "pipeline name '" + pipeline.name +
                                            "' may hold only letters, digits, '_' and '-'");
    }
    if (root["description"]) {
      MLFORGE_ASSIGN_OR_RETURN(pipeline.description,
                               ScalarText(reporter_, root["description"], "'description'"));
    }
    if (root["params"] && !root["params"].IsNull()) {
      const YAML::Node params = root["params"];
      if (!params.IsMap()) return reporter_.At(params, "'params' must be a mapping name: spec");
      for (const auto& entry : params) {
        MLFORGE_ASSIGN_OR_RETURN(Param param, LoadParam(entry.first, entry.second));
        pipeline.params.push_back(std::move(param));
      }
    }
    const YAML::Node steps = root["steps"];
    if (!steps || !steps.IsSequence() || steps.size() == 0) {
      return reporter_.At(steps ? steps : root, "'steps' must be a non-empty list of steps");
    }
    std::map<std::string, Location> seen;
    for (const auto& node : steps) {
      MLFORGE_ASSIGN_OR_RETURN(Step step, LoadStep(node, false));
      if (auto it = seen.find(step.name); it != seen.end()) {
        return reporter_.At(step.location, "step name '" + step.name +
                                               "' is used twice (first at line " +
                                               std::to_string(it->second.line) + ")");
      }
      seen[step.name] = step.location;
      pipeline.steps.push_back(std::move(step));
    }
    if (root["on_exit"] && !root["on_exit"].IsNull()) {
      MLFORGE_ASSIGN_OR_RETURN(Step exit_step, LoadStep(root["on_exit"], true));
      pipeline.on_exit = std::move(exit_step);
    }
    MLFORGE_RETURN_IF_ERROR(Validate(pipeline));
    return pipeline;
  }

  core::Result<Param> LoadParam(const YAML::Node& key, const YAML::Node& node) {
    Param param;
    param.name = key.Scalar();
    param.location = LocationOf(key);
    if (!IsName(param.name)) {
      return reporter_.At(
          key, "param name '" + param.name + "' may hold only letters, digits, '_' and '-'");
    }
    if (!node.IsMap()) {
      // Shorthand: `epochs: 3`, the type read from the value.
      if (node.IsNull()) return reporter_.At(key, "param '" + param.name + "' needs a value");
      param.type = InferType(node);
      auto value = ValueFromNode(param.type, node);
      if (!value.ok())
        return reporter_.At(node, "param '" + param.name + "': " + value.status().message());
      param.default_value = *value;
      return param;
    }
    MLFORGE_RETURN_IF_ERROR(CheckKeys(reporter_, node, "param '" + param.name + "'",
                                      {"type", "default", "description"}));
    if (node["type"]) {
      MLFORGE_ASSIGN_OR_RETURN(param.type, ParseParamType(reporter_, node["type"]));
    } else if (node["default"]) {
      param.type = InferType(node["default"]);
    } else {
      return reporter_.At(key, "param '" + param.name + "' needs a 'type' or a 'default'");
    }
    if (node["default"] && !node["default"].IsNull()) {
      auto value = ValueFromNode(param.type, node["default"]);
      if (!value.ok()) {
        return reporter_.At(node["default"], "default of param '" + param.name + "' (type " +
                                                 ParamTypeName(param.type) +
                                                 "): " + value.status().message());
      }
      param.default_value = *value;
    }
    if (node["description"]) {
      MLFORGE_ASSIGN_OR_RETURN(param.description,
                               ScalarText(reporter_, node["description"], "'description'"));
    }
    return param;
  }

  core::Result<Step> LoadStep(const YAML::Node& node, bool is_exit) {
    const std::string what = is_exit ? std::string("on_exit") : std::string("a step");
    if (!node.IsMap()) return reporter_.At(node, what + " must be a mapping (name, run, ...)");
    Step step;
    step.location = LocationOf(node);
    std::vector<std::string> allowed = {"name",  "description", "run",     "mlforge", "env",
                                        "retry", "timeout",     "depends", "inputs"};
    if (!is_exit) {
      for (const char* key : {"outputs", "when", "for_each", "cache"}) allowed.push_back(key);
    }
    MLFORGE_RETURN_IF_ERROR(CheckKeys(reporter_, node, what, allowed));
    if (is_exit) {
      step.name = node["name"] ? node["name"].Scalar() : "on_exit";
      step.cache = false;
    } else {
      if (!node["name"]) return reporter_.At(node, "a step needs a 'name'");
      MLFORGE_ASSIGN_OR_RETURN(step.name, ScalarText(reporter_, node["name"], "'name'"));
      if (!IsName(step.name)) {
        return reporter_.At(node["name"], "step name '" + step.name +
                                              "' may hold only letters, digits, '_' and '-'");
      }
      if (step.name == "on_exit") {
        return reporter_.At(node["name"], "'on_exit' is reserved for the exit step");
      }
    }
    const std::string label = is_exit ? std::string("on_exit") : "step '" + step.name + "'";
    if (node["run"] && node["mlforge"]) {
      return reporter_.At(node["mlforge"], label + " has both 'run' and 'mlforge'; keep one");
    }
    if (!node["run"] && !node["mlforge"]) {
      return reporter_.At(node, label +
                                    " needs 'run' (a shell command) or 'mlforge' (arguments "
                                    "of an mlforge subcommand)");
    }
    const YAML::Node command = node["run"] ? node["run"] : node["mlforge"];
    step.kind = node["run"] ? CommandKind::kShell : CommandKind::kMlforge;
    MLFORGE_ASSIGN_OR_RETURN(step.command, ScalarText(reporter_, command, "the command"));
    step.command_location = LocationOf(command);
    if (step.command.empty()) return reporter_.At(command, label + " has an empty command");
    if (node["inputs"]) {
      MLFORGE_ASSIGN_OR_RETURN(step.inputs, StringList(reporter_, node["inputs"], "'inputs'"));
      for (const std::string& input : step.inputs) {
        std::filesystem::path path = input;
        if (path.is_relative() && !working_dir_.empty()) path = working_dir_ / path;
        std::error_code error;
        if (!std::filesystem::exists(path, error)) {
          return reporter_.At(node["inputs"], label + ": input '" + input +
                                                  "' does not exist (paths are relative to the "
                                                  "folder the pipeline runs in)");
        }
      }
    }
    if (node["env"]) {
      MLFORGE_ASSIGN_OR_RETURN(step.env, StringList(reporter_, node["env"], "'env'"));
      for (const std::string& name : step.env) {
        if (!IsEnvName(name)) {
          return reporter_.At(node["env"],
                              label + ": '" + name + "' is not an environment variable name");
        }
      }
    }
    if (node["depends"]) {
      MLFORGE_ASSIGN_OR_RETURN(step.explicit_depends,
                               StringList(reporter_, node["depends"], "'depends'"));
      depends_locations_[step.name] = LocationOf(node["depends"]);
    }
    if (node["outputs"] && !node["outputs"].IsNull()) {
      const YAML::Node outputs = node["outputs"];
      if (!outputs.IsMap()) {
        return reporter_.At(outputs, label + ": 'outputs' must be a mapping name: {type: ...}");
      }
      for (const auto& entry : outputs) {
        Output output;
        output.name = entry.first.Scalar();
        output.location = LocationOf(entry.first);
        if (!IsName(output.name)) {
          return reporter_.At(entry.first, "output name '" + output.name +
                                               "' may hold only letters, digits, '_' and '-'");
        }
        const YAML::Node spec = entry.second;
        if (spec.IsScalar()) {
          MLFORGE_ASSIGN_OR_RETURN(output.type, ParseOutputType(reporter_, spec));
        } else if (spec.IsMap()) {
          MLFORGE_RETURN_IF_ERROR(CheckKeys(reporter_, spec, "output '" + output.name + "'",
                                            {"type", "from", "key", "description"}));
          if (!spec["type"]) {
            return reporter_.At(entry.first, "output '" + output.name +
                                                 "' needs a 'type' (file, folder, string, int, "
                                                 "float, bool)");
          }
          MLFORGE_ASSIGN_OR_RETURN(output.type, ParseOutputType(reporter_, spec["type"]));
          if (spec["from"]) {
            MLFORGE_ASSIGN_OR_RETURN(output.from, ScalarText(reporter_, spec["from"], "'from'"));
          }
          if (spec["key"]) {
            MLFORGE_ASSIGN_OR_RETURN(output.key, ScalarText(reporter_, spec["key"], "'key'"));
          }
        } else {
          return reporter_.At(entry.first, "output '" + output.name + "' must be {type: ...}");
        }
        for (const Output& other : step.outputs) {
          if (other.name == output.name) {
            return reporter_.At(entry.first, "output '" + output.name + "' is declared twice");
          }
        }
        step.outputs.push_back(std::move(output));
      }
      for (const Output& output : step.outputs) {
        if (output.from.empty()) {
          if (!output.key.empty()) {
            return reporter_.At(output.location,
                                "output '" + output.name + "': 'key' needs 'from' (a file output)");
          }
          continue;
        }
        if (IsArtifact(output.type)) {
          return reporter_.At(output.location, "output '" + output.name +
                                                   "': only value outputs (string, int, float, "
                                                   "bool) may have 'from'");
        }
        auto source = std::find_if(step.outputs.begin(), step.outputs.end(),
                                   [&](const Output& other) { return other.name == output.from; });
        if (source == step.outputs.end() || source->type != OutputType::kFile) {
          return reporter_.At(output.location, "output '" + output.name +
                                                   "': 'from: " + output.from +
                                                   "' must name a file output of this step");
        }
      }
    }
    if (node["when"]) {
      MLFORGE_ASSIGN_OR_RETURN(step.when, ScalarText(reporter_, node["when"], "'when'"));
      step.when_location = LocationOf(node["when"]);
    }
    if (node["for_each"]) {
      const YAML::Node for_each = node["for_each"];
      ForEach fan_out;
      fan_out.location = LocationOf(for_each);
      if (for_each.IsSequence()) {
        MLFORGE_ASSIGN_OR_RETURN(fan_out.items, StringList(reporter_, for_each, "'for_each'"));
        if (fan_out.items.empty()) return reporter_.At(for_each, "'for_each' list is empty");
      } else if (for_each.IsScalar()) {
        auto parts = ParseTemplate(for_each.Scalar());
        if (!parts.ok()) return reporter_.At(for_each, parts.status().message());
        auto references = References(*parts);
        if (parts->size() != 1 || references.size() != 1 ||
            references[0].kind != ReferenceKind::kParam) {
          return reporter_.At(for_each,
                              "'for_each' must be a list or \"{{params.NAME}}\" of a "
                              "list param");
        }
        fan_out.param = references[0].name;
      } else {
        return reporter_.At(for_each, "'for_each' must be a list or \"{{params.NAME}}\"");
      }
      step.for_each = std::move(fan_out);
    }
    if (node["retry"]) {
      const YAML::Node retry = node["retry"];
      step.retry.location = LocationOf(retry);
      const YAML::Node limit = retry.IsMap() ? retry["limit"] : retry;
      if (retry.IsMap()) {
        MLFORGE_RETURN_IF_ERROR(
            CheckKeys(reporter_, retry, "'retry'", {"limit", "backoff", "factor"}));
      }
      if (!limit || !limit.IsScalar() || !CanonicalScalar(ParamType::kInt, limit.Scalar()).ok() ||
          std::stoll(*CanonicalScalar(ParamType::kInt, limit.Scalar())) < 0) {
        return reporter_.At(retry, label + ": retry limit must be a whole number >= 0");
      }
      step.retry.limit = static_cast<int>(std::stoll(limit.Scalar()));
      if (retry.IsMap() && retry["backoff"]) {
        auto backoff = ParseDuration(retry["backoff"].Scalar());
        if (!backoff.ok()) return reporter_.At(retry["backoff"], backoff.status().message());
        step.retry.backoff = *backoff;
      }
      if (retry.IsMap() && retry["factor"]) {
        auto factor = CanonicalScalar(ParamType::kFloat, retry["factor"].Scalar());
        if (!factor.ok() || std::strtod(factor->c_str(), nullptr) < 1.0) {
          return reporter_.At(retry["factor"], "retry factor must be a number >= 1");
        }
        step.retry.factor = std::strtod(factor->c_str(), nullptr);
      }
    }
    if (node["timeout"]) {
      auto timeout = ParseDuration(node["timeout"].Scalar());
      if (!timeout.ok() || timeout->count() <= 0) {
        return reporter_.At(node["timeout"], label +
                                                 ": timeout must be a positive duration "
                                                 "such as 90s, 30m, 1h");
      }
      step.timeout = *timeout;
    }
    if (node["cache"]) {
      auto cache = CanonicalScalar(ParamType::kBool, node["cache"].Scalar());
      if (!cache.ok()) return reporter_.At(node["cache"], "'cache' must be true or false");
      step.cache = *cache == "true";
    }
    return step;
  }

  // Checks one reference of `step`; adds an inferred dependency.
  core::Status CheckReference(const Pipeline& pipeline, Step& step, const Reference& reference,
                              Location location, bool is_exit, bool in_condition) {
    const std::string label = is_exit ? std::string("on_exit") : "step '" + step.name + "'";
    switch (reference.kind) {
      case ReferenceKind::kParam:
        if (!pipeline.FindParam(reference.name)) {
          return reporter_.At(location,
                              label + " references unknown param '" + reference.name + "'");
        }
        return core::Status::Ok();
      case ReferenceKind::kOwnOutput: {
        auto it = std::find_if(step.outputs.begin(), step.outputs.end(),
                               [&](const Output& output) { return output.name == reference.name; });
        if (it == step.outputs.end()) {
          return reporter_.At(location, label + " references '{{outputs." + reference.name +
                                            "}}' but declares no output '" + reference.name + "'");
        }
        return core::Status::Ok();
      }
      case ReferenceKind::kItem:
        if (!step.for_each) {
          return reporter_.At(location, label + " uses {{item}} but has no 'for_each'");
        }
        return core::Status::Ok();
      case ReferenceKind::kPipeline:
        if (reference.name == "status" && !is_exit) {
          return reporter_.At(location, "{{pipeline.status}} is only known in on_exit");
        }
        if (reference.name != "status" && reference.name != "name" && reference.name != "run_id" &&
            reference.name != "run_dir") {
          return reporter_.At(location, "unknown reference 'pipeline." + reference.name +
                                            "'; use pipeline.name, run_id, run_dir or status");
        }
        return core::Status::Ok();
      case ReferenceKind::kStepOutput:
      case ReferenceKind::kStepRunId: {
        if (is_exit) {
          return reporter_.At(location,
                              "on_exit runs whatever happened, so it may reference "
                              "params and pipeline.* only, not '" +
                                  reference.text + "'");
        }
        const Step* other = pipeline.FindStep(reference.step);
        if (!other) {
          return reporter_.At(location,
                              label + " references unknown step '" + reference.step + "'");
        }
        if (other->name == step.name) {
          return reporter_.At(location, label +
                                            " references itself; use {{outputs.NAME}} for "
                                            "its own outputs");
        }
        if (reference.kind == ReferenceKind::kStepOutput) {
          auto it =
              std::find_if(other->outputs.begin(), other->outputs.end(),
                           [&](const Output& output) { return output.name == reference.name; });
          if (it == other->outputs.end()) {
            std::string names;
            for (const Output& output : other->outputs) {
              names += (names.empty() ? "" : ", ") + output.name;
            }
            return reporter_.At(location, label + " references output '" + reference.name +
                                              "' of step '" + other->name + "', which has " +
                                              (names.empty() ? "no outputs" : "outputs: " + names));
          }
          if (in_condition && IsArtifact(it->type)) {
            return reporter_.At(location, "condition of " + label + " compares artifact '" +
                                              reference.text + "'; conditions read value outputs");
          }
        }
        AddDependency(step, other->name);
        return core::Status::Ok();
      }
    }
    return core::Status::Ok();
  }

  static void AddDependency(Step& step, const std::string& name) {
    if (std::find(step.depends.begin(), step.depends.end(), name) == step.depends.end()) {
      step.depends.push_back(name);
    }
  }

  core::Status ValidateStep(const Pipeline& pipeline, Step& step, bool is_exit) {
    const std::string label = is_exit ? std::string("on_exit") : "step '" + step.name + "'";
    for (const std::string& dependency : step.explicit_depends) {
      Location location = depends_locations_[step.name];
      if (is_exit) return reporter_.At(location, "on_exit runs last; it takes no 'depends'");
      if (!pipeline.FindStep(dependency)) {
        return reporter_.At(location, label + " depends on unknown step '" + dependency + "'");
      }
      if (dependency == step.name) {
        return reporter_.At(location, label + " depends on itself");
      }
      AddDependency(step, dependency);
    }
    auto parts = ParseTemplate(step.command);
    if (!parts.ok())
      return reporter_.At(step.command_location, label + ": " + parts.status().message());
    for (const Reference& reference : References(*parts)) {
      MLFORGE_RETURN_IF_ERROR(
          CheckReference(pipeline, step, reference, step.command_location, is_exit, false));
    }
    if (!step.when.empty()) {
      auto expression = Expression::Parse(step.when);
      if (!expression.ok()) {
        return reporter_.At(step.when_location, label + ": " + expression.status().message());
      }
      for (const Reference& reference : expression->references()) {
        MLFORGE_RETURN_IF_ERROR(
            CheckReference(pipeline, step, reference, step.when_location, is_exit, true));
      }
    }
    if (step.for_each && !step.for_each->param.empty()) {
      const Param* param = pipeline.FindParam(step.for_each->param);
      if (!param) {
        return reporter_.At(step.for_each->location, label + ": for_each names unknown param '" +
                                                         step.for_each->param + "'");
      }
      if (param->type != ParamType::kList) {
        return reporter_.At(step.for_each->location,
                            label + ": for_each needs a list param, and '" + param->name + "' is " +
                                ParamTypeName(param->type));
      }
    }
    // Keep dependencies in spec order, so scheduling ties follow the file.
    std::vector<std::string> ordered;
    for (const Step& other : pipeline.steps) {
      if (std::find(step.depends.begin(), step.depends.end(), other.name) != step.depends.end()) {
        ordered.push_back(other.name);
      }
    }
    step.depends = std::move(ordered);
    return core::Status::Ok();
  }

  core::Status Validate(Pipeline& pipeline) {
    for (Step& step : pipeline.steps) {
      MLFORGE_RETURN_IF_ERROR(ValidateStep(pipeline, step, false));
    }
    if (pipeline.on_exit) MLFORGE_RETURN_IF_ERROR(ValidateStep(pipeline, *pipeline.on_exit, true));
    // Cycle check: depth-first, reporting the first cycle found as a path.
    std::map<std::string, int> color;  // 0 new, 1 on the stack, 2 done
    std::vector<std::string> stack;
    std::function<core::Status(const Step&)> visit = [&](const Step& step) -> core::Status {
      color[step.name] = 1;
      stack.push_back(step.name);
      for (const std::string& dependency : step.depends) {
        if (color[dependency] == 1) {
          auto start = std::find(stack.begin(), stack.end(), dependency);
          std::string cycle;
          for (auto it = start; it != stack.end(); ++it) cycle += *it + " -> ";
          cycle += dependency;
          const Step* first = pipeline.FindStep(dependency);
          return reporter_.At(first->location,
                              "the steps form a cycle: " + cycle + " (each needs the one before)");
        }
        if (color[dependency] == 0) MLFORGE_RETURN_IF_ERROR(visit(*pipeline.FindStep(dependency)));
      }
      stack.pop_back();
      color[step.name] = 2;
      return core::Status::Ok();
    };
    for (const Step& step : pipeline.steps) {
      if (color[step.name] == 0) MLFORGE_RETURN_IF_ERROR(visit(step));
    }
    return core::Status::Ok();
  }

  Reporter reporter_;
  std::filesystem::path working_dir_;
  std::map<std::string, Location> depends_locations_;
};

}  // namespace

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString:
      return "string";
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "bool";
    case ParamType::kList:
      return "list";
  }
  return "?";
}

const char* OutputTypeName(OutputType type) {
  switch (type) {
    case OutputType::kFile:
      return "file";
    case OutputType::kFolder:
      return "folder";
    case OutputType::kString:
      return "string";
    case OutputType::kInt:
      return "int";
    case OutputType::kFloat:
      return "float";
    case OutputType::kBool:
      return "bool";
  }
  return "?";
}

std::string Value::ToTemplateText() const {
  if (type != ParamType::kList) return scalar;
  std::string out = "[";
  for (size_t index = 0; index < items.size(); ++index) {
    if (index > 0) out += ",";
    out += JsonString(items[index]);
  }
  return out + "]";
}

const Step* Pipeline::FindStep(const std::string& step_name) const {
  for (const Step& step : steps) {
    if (step.name == step_name) return &step;
  }
  return nullptr;
}

const Param* Pipeline::FindParam(const std::string& param_name) const {
  for (const Param& param : params) {
    if (param.name == param_name) return &param;
  }
  return nullptr;
}

core::Result<Pipeline> LoadPipeline(const std::filesystem::path& path,
                                    const std::filesystem::path& working_dir) {
  auto text = core::ReadFile(path);
  if (!text.ok()) {
    return core::NotFoundError("pipeline spec " + path.string() + " not found");
  }
  return ParsePipeline(*text, path.string(), working_dir);
}

core::Result<Pipeline> ParsePipeline(const std::string& yaml_text, const std::string& source,
                                     const std::filesystem::path& working_dir) {
  return Loader(source, working_dir).Load(yaml_text);
}

core::Result<ParamValues> ResolveParams(const Pipeline& pipeline,
                                        const std::vector<std::string>& overrides) {
  std::map<std::string, Value> set;
  for (const std::string& assignment : overrides) {
    size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return core::InvalidArgumentError("--set '" + assignment + "' must look like NAME=VALUE");
    }
    std::string name = assignment.substr(0, equals);
    std::string text = assignment.substr(equals + 1);
    const Param* param = pipeline.FindParam(name);
    if (!param) {
      std::string names;
      for (const Param& known : pipeline.params) names += (names.empty() ? "" : ", ") + known.name;
      return core::InvalidArgumentError("--set " + name + ": " + pipeline.source.string() +
                                        " has no param '" + name + "'" +
                                        (names.empty() ? "" : "; params: " + names));
    }
    const std::string where = pipeline.source.string() + ":" + std::to_string(param->location.line);
    Value value;
    value.type = param->type;
    if (param->type == ParamType::kList) {
      YAML::Node node;
      bool parsed = false;
      if (!text.empty() && text[0] == '[') {
        try {
          node = YAML::Load(text);
          parsed = node.IsSequence();
        } catch (const YAML::Exception&) {
          parsed = false;
        }
        if (!parsed) {
          return core::InvalidArgumentError("--set " + assignment + ": param '" + name + "' (" +
                                            where + ") is a list; write [a, b] or a,b");
        }
        auto list = ValueFromNode(ParamType::kList, node);
        if (!list.ok()) {
          return core::InvalidArgumentError("--set " + assignment + ": " + list.status().message());
        }
        value = *list;
      } else {
        size_t start = 0;
        while (!text.empty()) {
          size_t comma = text.find(',', start);
          value.items.push_back(
              text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
    } else {
      auto scalar = CanonicalScalar(param->type, text);
      if (!scalar.ok()) {
        return core::InvalidArgumentError("--set " + assignment + ": param '" + name + "' (" +
                                          where + ") is " + ParamTypeName(param->type) + ", and " +
                                          scalar.status().message());
      }
      value.scalar = *scalar;
    }
    set[name] = std::move(value);
  }
  ParamValues values;
  for (const Param& param : pipeline.params) {
    auto it = set.find(param.name);
    if (it != set.end()) {
      values.push_back({param.name, it->second});
    } else if (param.default_value) {
      values.push_back({param.name, *param.default_value});
    } else {
      return core::InvalidArgumentError("param '" + param.name + "' (" + pipeline.source.string() +
                                        ":" + std::to_string(param.location.line) +
                                        ") has no default; give it with --set " + param.name +
                                        "=VALUE");
    }
  }
  return values;
}

std::vector<std::string> TopologicalOrder(const Pipeline& pipeline) {
  std::vector<std::string> order;
  std::set<std::string> placed;
  while (order.size() < pipeline.steps.size()) {
    bool progressed = false;
    for (const Step& step : pipeline.steps) {
      if (placed.count(step.name)) continue;
      bool ready = std::all_of(step.depends.begin(), step.depends.end(),
                               [&](const std::string& name) { return placed.count(name) > 0; });
      if (ready) {
        order.push_back(step.name);
        placed.insert(step.name);
        progressed = true;
        break;  // restart, so ties go in spec order
      }
    }
    if (!progressed) break;  // a cycle: validation rejects it earlier
  }
  return order;
}

core::Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  const std::string bad = "'" + text + "' is not a duration; write e.g. 500ms, 5s, 30m, 1h30m";
  if (text.empty()) return core::InvalidArgumentError(bad);
  if (CanonicalScalar(ParamType::kFloat, text).ok()) {
    double seconds = std::strtod(text.c_str(), nullptr);
    if (seconds < 0) return core::InvalidArgumentError(bad);
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
  }
  double total_ms = 0;
  size_t position = 0;
  while (position < text.size()) {
    size_t end = position;
    while (end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[end])) != 0 || text[end] == '.')) {
      ++end;
    }
    if (end == position) return core::InvalidArgumentError(bad);
    double number = std::strtod(text.substr(position, end - position).c_str(), nullptr);
    size_t unit_end = end;
    while (unit_end < text.size() &&
           std::isalpha(static_cast<unsigned char>(text[unit_end])) != 0) {
      ++unit_end;
    }
    std::string unit = text.substr(end, unit_end - end);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else {
      return core::InvalidArgumentError(bad);
    }
    total_ms += number * scale;
    position = unit_end;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(total_ms)));
}

}  // namespace mlforge::pipeline
