#include "projects/mlproject.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "core/file.h"

namespace mlforge::projects {
namespace {

bool IsSafeShellChar(char character) {
  const auto byte = static_cast<unsigned char>(character);
  return std::isalnum(byte) != 0 ||
         std::string_view("@%+=:,./-_").find(character) != std::string_view::npos;
}

bool ParsesAsInt(const std::string& text) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && end == text.c_str() + text.size();
}

bool ParsesAsFloat(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) != 0) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// "scheme:" at the front, as RFC 3986 spells a scheme (two letters at least,
// so a Windows drive letter is not a scheme).
bool HasUriScheme(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon < 2) return false;
  if (std::isalpha(static_cast<unsigned char>(text[0])) == 0) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
  });
}

// Checks `value` against `spec`'s type and returns the value to use (a path
// made absolute against `base`).
core::Result<std::string> CheckValue(const ParameterSpec& spec, const std::string& value,
                                     const std::filesystem::path& base, const std::string& where) {
  auto wrong = [&](const std::string& wanted) {
    return core::InvalidArgumentError(where + "parameter '" + spec.name + "' is of type " +
                                      std::string(ParameterTypeName(spec.type)) + ": '" + value +
                                      "' is not " + wanted);
  };
  switch (spec.type) {
    case ParameterType::kString:
      return value;
    case ParameterType::kFloat:
      if (!ParsesAsFloat(value)) return wrong("a number (e.g. 0.5)");
      return value;
    case ParameterType::kInt:
      if (!ParsesAsInt(value)) return wrong("an integer (e.g. 10)");
      return value;
    case ParameterType::kUri:
      if (!HasUriScheme(value)) return wrong("a URI with a scheme (e.g. file:///data, s3://b/k)");
      return value;
    case ParameterType::kPath: {
      std::string local = value;
      if (local.rfind("file://", 0) == 0) {
        local = local.substr(7);
      } else if (HasUriScheme(local)) {
        return wrong("a local path (mlforge does not download remote paths)");
      }
      if (local.empty()) return wrong("a path");
      std::filesystem::path path = local;
      if (path.is_relative()) path = base / path;
      std::error_code error;
      if (!std::filesystem::exists(path, error)) {
        return core::InvalidArgumentError(where + "parameter '" + spec.name +
                                          "' (type path): " + path.string() + " does not exist");
      }
      return std::filesystem::weakly_canonical(path, error).string();
    }
  }
  return value;
}

core::Result<ParameterSpec> ParseParameter(const std::string& name, const YAML::Node& node,
                                           const std::string& where) {
  ParameterSpec spec;
  spec.name = name;
  if (node.IsScalar()) {
    MLFORGE_ASSIGN_OR_RETURN(spec.type, ParseParameterType(node.Scalar()));
    return spec;
  }
  if (node.IsNull()) return spec;
  if (!node.IsMap()) {
    return core::InvalidArgumentError(where + "parameter '" + name +
                                      "' must be a type name or a map {type, default}");
  }
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (key == "type") {
      auto type = ParseParameterType(entry.second.IsScalar() ? entry.second.Scalar() : "");
      if (!type.ok()) {
        return core::InvalidArgumentError(where + "parameter '" + name +
                                          "': " + type.status().message());
      }
      spec.type = *type;
    } else if (key == "default") {
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsScalar()) {
        return core::InvalidArgumentError(where + "parameter '" + name +
                                          "': default must be a single value");
      }
      spec.default_value = entry.second.Scalar();
    } else if (key != "description") {
      return core::InvalidArgumentError(where + "parameter '" + name + "': unknown key '" + key +
                                        "' (expected type, default)");
    }
  }
  if (spec.default_value &&
      (spec.type == ParameterType::kFloat || spec.type == ParameterType::kInt ||
       spec.type == ParameterType::kUri)) {
    MLFORGE_RETURN_IF_ERROR(
        CheckValue(spec, *spec.default_value, {}, where + "default of ").status());
  }
  return spec;
}

}  // namespace

std::string_view ParameterTypeName(ParameterType type) {
  switch (type) {
    case ParameterType::kString:
      return "string";
    case ParameterType::kFloat:
      return "float";
    case ParameterType::kInt:
      return "int";
    case ParameterType::kPath:
      return "path";
    case ParameterType::kUri:
      return "uri";
  }
  return "string";
}

core::Result<ParameterType> ParseParameterType(std::string_view name) {
  if (name == "string" || name == "str") return ParameterType::kString;
  if (name == "float" || name == "number" || name == "double") return ParameterType::kFloat;
  if (name == "int" || name == "integer") return ParameterType::kInt;
  if (name == "path") return ParameterType::kPath;
  if (name == "uri") return ParameterType::kUri;
  return core::InvalidArgumentError("unknown parameter type '" + std::string(name) +
                                    "' (use string, float, int, path or uri)");
}

core::Result<Project> ParseProject(std::string_view yaml_text, const std::filesystem::path& dir,
                                   const std::string& source) {
  Project project;
  project.dir = std::filesystem::absolute(dir).lexically_normal();
  if (project.dir.has_filename()) {
    project.name = project.dir.filename().string();
  } else {
    project.name = project.dir.parent_path().filename().string();
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return core::InvalidArgumentError(source + ": not valid YAML: " + error.what());
  }
  if (root.IsNull()) return project;
  if (!root.IsMap()) return core::InvalidArgumentError(source + ": must be a YAML map");
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      if (key == "name") {
        if (!value.IsScalar()) return core::InvalidArgumentError(source + ": 'name' must be text");
        project.name = value.Scalar();
      } else if (key == "python_env" || key == "conda_env" || key == "docker_env") {
        std::string description;
        if (value.IsScalar()) {
          description = value.Scalar();
        } else if (value.IsMap() && value["image"]) {
          description = value["image"].as<std::string>();
        } else {
          YAML::Emitter emitter;
          emitter << YAML::Flow << value;
          description = emitter.c_str();
        }
        project.environments.emplace_back(key, description);
      } else if (key == "entry_points") {
        if (!value.IsMap()) {
          return core::InvalidArgumentError(source + ": 'entry_points' must be a map of names");
        }
        for (const auto& point_node : value) {
          EntryPoint point;
          point.name = point_node.first.as<std::string>();
          const std::string where = source + ": entry point '" + point.name + "': ";
          const YAML::Node& body = point_node.second;
          if (!body.IsMap() || !body["command"] || !body["command"].IsScalar()) {
            return core::InvalidArgumentError(where + "needs a 'command'");
          }
          point.command = body["command"].Scalar();
          if (const YAML::Node parameters = body["parameters"];
              parameters && !parameters.IsNull()) {
            if (!parameters.IsMap()) {
              return core::InvalidArgumentError(where + "'parameters' must be a map");
            }
            for (const auto& parameter : parameters) {
              MLFORGE_ASSIGN_OR_RETURN(
                  ParameterSpec spec,
                  ParseParameter(parameter.first.as<std::string>(), parameter.second, where));
              point.parameters.push_back(std::move(spec));
            }
          }
          project.entry_points.push_back(std::move(point));
        }
      }
      // Other top-level keys are left alone, as MLflow ignores them.
    }
  } catch (const YAML::Exception& error) {
    return core::InvalidArgumentError(source + ": " + error.what());
  }
  return project;
}

core::Result<Project> LoadProject(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return core::NotFoundError("project folder " + dir.string() + " does not exist");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "mlproject" && entry.is_regular_file()) {
      MLFORGE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(entry.path()));
      MLFORGE_ASSIGN_OR_RETURN(Project project, ParseProject(text, dir, entry.path().string()));
      project.file = std::filesystem::absolute(entry.path());
      return project;
    }
  }
  return ParseProject("", dir, (dir / "MLproject").string());
}

core::Result<EntryPoint> FindEntryPoint(const Project& project, const std::string& name) {
  for (const EntryPoint& point : project.entry_points) {
    if (point.name == name) return point;
  }
  const std::filesystem::path script = project.dir / name;
  std::error_code error;
  const bool is_script = std::filesystem::is_regular_file(script, error);
  const std::string extension = script.extension().string();
  if (is_script && (extension == ".py" || extension == ".sh")) {
    EntryPoint point;
    point.name = name;
    point.command = (extension == ".py" ? "python3 " : "bash ") + ShellQuote(name);
    return point;
  }
  std::string known;
  for (const EntryPoint& point : project.entry_points) {
    known += (known.empty() ? "" : ", ") + point.name;
  }
  return core::NotFoundError(
      "project " + project.dir.string() + " has no entry point '" + name + "' (" +
      (known.empty() ? std::string("it has no MLproject entry points") : "entry points: " + known) +
      "), and " + name + " is not a .py or .sh file in it");
}

core::Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view text) {
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return core::InvalidArgumentError("parameter '" + std::string(text) +
                                      "' must be key=value, e.g. -P alpha=0.5");
  }
  return std::make_pair(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
}

core::Result<RenderedCommand> RenderCommand(
    const EntryPoint& entry_point, const std::vector<std::pair<std::string, std::string>>& given,
    const std::filesystem::path& cwd) {
  std::map<std::string, std::string> given_values;
  for (const auto& [key, value] : given) {
    if (!given_values.emplace(key, value).second) {
      return core::InvalidArgumentError("parameter '" + key + "' is given twice");
    }
  }
  RenderedCommand rendered;
  std::map<std::string, std::string> quoted;  // declared name -> quoted value
  std::vector<std::string> missing;
  std::set<std::string> declared;
  for (const ParameterSpec& spec : entry_point.parameters) {
    declared.insert(spec.name);
    auto found = given_values.find(spec.name);
    std::string value;
    if (found != given_values.end()) {
      value = found->second;
    } else if (spec.default_value) {
      value = *spec.default_value;
    } else {
      missing.push_back(spec.name);
      continue;
    }
    MLFORGE_ASSIGN_OR_RETURN(value, CheckValue(spec, value, cwd, ""));
    quoted[spec.name] = ShellQuote(value);
    rendered.parameters.emplace_back(spec.name, value);
  }
  if (!missing.empty()) {
    std::string names;
    for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
    return core::InvalidArgumentError("entry point '" + entry_point.name + "' needs a value for: " +
                                      names + " (give -P " + missing.front() + "=VALUE)");
  }
  const std::string& text = entry_point.command;
  std::string command;
  for (size_t index = 0; index < text.size(); ++index) {
    const char character = text[index];
    if (character == '{' && index + 1 < text.size() && text[index + 1] == '{') {
      command += '{';
      ++index;
    } else if (character == '}' && index + 1 < text.size() && text[index + 1] == '}') {
      command += '}';
      ++index;
    } else if (character == '{') {
      const size_t close = text.find('}', index);
      if (close == std::string::npos) {
        return core::InvalidArgumentError("entry point '" + entry_point.name +
                                          "': unclosed '{' in command: " + text);
      }
      const std::string field = text.substr(index + 1, close - index - 1);
      auto value = quoted.find(field);
      if (value == quoted.end()) {
        return core::InvalidArgumentError("entry point '" + entry_point.name + "': command uses {" +
                                          field + "}, which is not a declared parameter");
      }
      command += value->second;
      index = close;
    } else {
      command += character;
    }
  }
  for (const auto& [key, value] : given) {
    if (declared.count(key) != 0) continue;
    command += " --" + key + " " + ShellQuote(value);
    rendered.parameters.emplace_back(key, value);
  }
  rendered.command = std::move(command);
  return rendered;
}

std::string ShellQuote(std::string_view value) {
  if (value.empty()) return "''";
  if (std::all_of(value.begin(), value.end(), IsSafeShellChar)) return std::string(value);
  std::string quoted = "'";
  for (char character : value) {
    if (character == '\'') {
      quoted += "'\"'\"'";
    } else {
      quoted += character;
    }
  }
  quoted += "'";
  return quoted;
}

}  // namespace mlforge::projects
