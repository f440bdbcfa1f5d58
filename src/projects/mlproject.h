#pragma once

// MLflow Projects: reading an `MLproject` file and turning an entry point and
// the user's `-P key=value` parameters into the shell command to run, as
// `mlflow run` does (mlflow/projects/_project_spec.py).
//
//   name: tutorial
//   python_env: python_env.yaml        # noted, not managed (see below)
//   entry_points:
//     main:
//       parameters:
//         alpha: {type: float, default: 0.5}
//         data_file: path              # shorthand for {type: path}, no default
//       command: "python3 train.py --alpha {alpha} {data_file}"
//
// Parameter types: string (the default), float, int, path, uri. A value is
// checked against its type (mlforge is stricter than MLflow here, which
// passes float values through unchecked): a float must parse as a number, an
// int as an integer, a uri must have a scheme ("s3://...", "file:/...",
// "runs:/..."), and a local path must exist and is made absolute against the
// caller's working folder, as MLflow does. Each value is shell-quoted
// (POSIX, as Python's shlex.quote) before it replaces "{name}" in the
// command; given parameters the entry point does not declare are appended
// as "--key value", in the order given. "{{" and "}}" stand for literal braces.
//
// Without an MLproject file a folder is still a project named after the
// folder, and without a matching entry point an ENTRY ending in ".py" or
// ".sh" that names a file in the project runs as "python3 FILE" or
// "bash FILE" (MLflow uses "python" and $SHELL). Environment specs
// (python_env, conda_env, docker_env) are recorded in Project::environments
// but never created: the command runs in the caller's environment.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::projects {

enum class ParameterType { kString, kFloat, kInt, kPath, kUri };

// "string", "float", "int", "path", "uri".
std::string_view ParameterTypeName(ParameterType type);
// The inverse of ParameterTypeName; "integer" and "number" are accepted too.
// InvalidArgument naming the valid types otherwise.
core::Result<ParameterType> ParseParameterType(std::string_view name);

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::kString;
  std::optional<std::string> default_value;  // absent: the user must give one
};

struct EntryPoint {
  std::string name;
  std::vector<ParameterSpec> parameters;  // in file order
  std::string command;                    // the template, with {name} fields
};

struct Project {
  std::string name;                      // `name:`, else the folder's name
  std::filesystem::path dir;             // absolute
  std::filesystem::path file;            // the MLproject file; empty when there is none
  std::vector<EntryPoint> entry_points;  // in file order
  // Environment specs found, e.g. {"conda_env", "conda.yaml"}: not managed.
  std::vector<std::pair<std::string, std::string>> environments;
};

// Parses MLproject text. `dir` is the project folder and `source` names the
// text in errors. InvalidArgument, naming the source and the key, for YAML
// that is not a map, an entry point without a command, a parameter with an
// unknown type, or a default that does not fit its type.
core::Result<Project> ParseProject(std::string_view yaml_text, const std::filesystem::path& dir,
                                   const std::string& source);

// Reads `dir`/MLproject (found case-insensitively, as MLflow does). NotFound
// when `dir` is not a folder; a folder without the file is a project with no
// entry points.
core::Result<Project> LoadProject(const std::filesystem::path& dir);

// The entry point `name`, or the script fallback described above.
// NotFound, listing the entry points there are, otherwise.
core::Result<EntryPoint> FindEntryPoint(const Project& project, const std::string& name);

// Splits "key=value" (the value may contain '='). InvalidArgument for text
// without '=' or with an empty key.
core::Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view text);

struct RenderedCommand {
  std::string command;  // ready for `bash -c`
  // Every parameter as it was used (declared ones, defaults included, then
  // the extra ones), in that order: what the run logs as params.
  std::vector<std::pair<std::string, std::string>> parameters;
};

// Checks and substitutes the parameters (see the header comment). `cwd` is
// where relative paths are resolved. InvalidArgument, naming the parameter,
// its type and the value, for a value of the wrong type, a missing required
// parameter, a path that does not exist, a parameter given twice, or a
// "{field}" in the command that names no parameter.
core::Result<RenderedCommand> RenderCommand(
    const EntryPoint& entry_point, const std::vector<std::pair<std::string, std::string>>& given,
    const std::filesystem::path& cwd);

// `value` quoted for a POSIX shell: unchanged when it only holds letters,
// digits and @%+=:,./-_, else in single quotes ('' for the empty string).
std::string ShellQuote(std::string_view value);

}  // namespace mlforge::projects
