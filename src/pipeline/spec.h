#pragma once

// A pipeline spec: the parsed, validated form of a PIPELINE.yaml.
//
//   MLFORGE_ASSIGN_OR_RETURN(Pipeline pipeline, LoadPipeline("pipeline.yaml"));
//   MLFORGE_ASSIGN_OR_RETURN(ParamValues params, ResolveParams(pipeline, {"epochs=5"}));
//
// LoadPipeline rejects a bad spec before anything runs: unknown keys, a wrong
// type (also of a param default), unknown steps or references, a cycle, a
// missing input file. Every error names "file:line: what is wrong".
//
// These structs are the contract between the loader, the runner
// (pipeline/runner.h) and the exporters (Argo); they stay stable. Templates
// (`command`, `for_each.param`, ...) are kept as written, with their
// `{{...}}` references; the runner substitutes them.
//
// Template references a step may use:
//   {{params.NAME}}              a pipeline param (list params as a JSON array)
//   {{outputs.NAME}}             this step's own output: the path the runner
//                                gives it (file, folder, or a value written
//                                as text into that path)
//   {{steps.STEP.outputs.NAME}}  an earlier step's output: path of an
//                                artifact, or the value of a value output
//                                (for a for_each step: a JSON array, one
//                                entry per item)
//   {{steps.STEP.run_id}}        the tracking run that produced STEP's outputs
//   {{item}}                     the current item, in a for_each step
//   {{pipeline.name}} {{pipeline.run_id}} {{pipeline.run_dir}}
//   {{pipeline.status}}          "Succeeded" or "Failed"; on_exit only

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::pipeline {

// Where something was written in the spec file; 1-based, 0 when unknown
// (e.g. for a --set value).
struct Location {
  int line = 0;
  int column = 0;
};

enum class ParamType { kString, kInt, kFloat, kBool, kList };

// "string", "int", "float", "bool", "list".
const char* ParamTypeName(ParamType type);

// A param's value. Scalars are kept as their canonical text ("3", "0.985",
// "true", "mnist"); a list holds its items as text (a list of scalars).
struct Value {
  ParamType type = ParamType::kString;
  std::string scalar;              // unused for kList
  std::vector<std::string> items;  // kList only
  // The text that replaces a {{...}} reference: the scalar, or for a list a
  // JSON array of strings (["mnist","fashion-mnist"]).
  std::string ToTemplateText() const;
  bool operator==(const Value&) const = default;
};

struct Param {
  std::string name;
  ParamType type = ParamType::kString;
  std::optional<Value> default_value;  // absent: the param must be --set
  std::string description;             // optional `description:`
  Location location;
};

enum class OutputType {
  kFile,    // artifact: a file the step writes at {{outputs.NAME}}
  kFolder,  // artifact: a folder the step fills at {{outputs.NAME}}
  kString,  // value outputs: read from `from` (and `key`), or from the text
  kInt,     //   the step wrote into {{outputs.NAME}}
  kFloat,
  kBool,
};

// "file", "folder", "string", "int", "float", "bool".
const char* OutputTypeName(OutputType type);
inline bool IsArtifact(OutputType type) {
  return type == OutputType::kFile || type == OutputType::kFolder;
}

struct Output {
  std::string name;
  OutputType type = OutputType::kFile;
  // Value outputs only: the name of a `file` output of the same step holding
  // JSON, and the dotted key inside it ("metrics.accuracy"); empty `key` means
  // the whole file is the value. Both empty: the step writes the value as
  // text to {{outputs.NAME}}.
  std::string from;
  std::string key;
  Location location;
};

// `retry: {limit: 2, backoff: 5s, factor: 2}` or `retry: 2`. A failed
// attempt (non-zero exit, timeout, missing output) is retried up to `limit`
// more times; before retry k (1-based) the runner waits
// backoff * factor^(k-1).
struct Retry {
  int limit = 0;  // extra attempts; 0 = no retry
  std::chrono::milliseconds backoff{0};
  double factor = 2.0;
  Location location;
};

enum class CommandKind {
  kShell,    // `run:` text, run by /bin/sh -c
  kMlforge,  // `mlforge:` arguments of an mlforge subcommand, run with this
             // same binary (/proc/self/exe) through /bin/sh -c
};

// `for_each:` either a literal YAML list (`items`) or one template naming a
// list param (`param`, e.g. "datasets" for "{{params.datasets}}").
struct ForEach {
  std::vector<std::string> items;
  std::string param;
  Location location;
};

struct Step {
  std::string name;  // [A-Za-z0-9_-]+, unique; "on_exit" for the exit step
  CommandKind kind = CommandKind::kShell;
  std::string command;  // template, as written
  // Files or folders (relative to the working folder the pipeline runs in)
  // whose content digests feed the cache key; each must exist at load time.
  std::vector<std::string> inputs;
  std::vector<Output> outputs;  // in spec order
  // Every step this one waits for: the explicit `depends:` plus those
  // inferred from {{steps.X...}} references and the `when` expression,
  // deduplicated, in spec order of the named steps.
  std::vector<std::string> depends;
  std::vector<std::string> explicit_depends;  // as written in `depends:`
  // Condition over params and earlier outputs, e.g.
  // "steps.evaluate.outputs.accuracy >= params.min_accuracy"; empty = always.
  // Grammar: pipeline/expression.h.
  std::string when;
  std::optional<ForEach> for_each;
  Retry retry;
  std::optional<std::chrono::milliseconds> timeout;  // `timeout: 30m`; none = no limit
  bool cache = true;                                 // `cache: false` always runs the step
  std::vector<std::string> env;  // names of environment variables in the cache key
  Location location;             // of the step's `- name:` entry
  Location command_location;     // of the `run:` / `mlforge:` value
  Location when_location;
};

struct Pipeline {
  std::string name;  // also the default experiment name
  std::string description;
  std::filesystem::path source;  // the spec file as given
  std::vector<Param> params;     // in spec order
  std::vector<Step> steps;       // in spec order (a valid topological order is
                                 // not implied; see TopologicalOrder)
  std::optional<Step> on_exit;   // runs after everything else, whatever happened

  const Step* FindStep(const std::string& step_name) const;
  const Param* FindParam(const std::string& param_name) const;
};

// The resolved value of every param (defaults with --set applied), in the
// order of Pipeline::params.
struct ParamValue {
  std::string name;
  Value value;
};
using ParamValues = std::vector<ParamValue>;

// Reads and validates a spec. NotFound when the file is missing,
// InvalidArgument (naming file:line) for anything wrong in it. Input files
// are checked relative to `working_dir` (default: the current folder).
core::Result<Pipeline> LoadPipeline(const std::filesystem::path& path,
                                    const std::filesystem::path& working_dir = {});
// The same from text; `source` names it in errors.
core::Result<Pipeline> ParsePipeline(const std::string& yaml_text, const std::string& source,
                                     const std::filesystem::path& working_dir = {});

// Defaults with each "name=value" override applied, type-checked against the
// param's type (an int must be an integer, a list a YAML list "[a, b]" or
// a comma-separated text). InvalidArgument for an unknown param, a bad value
// or a param without default that was not set.
core::Result<ParamValues> ResolveParams(const Pipeline& pipeline,
                                        const std::vector<std::string>& overrides);

// Step names in an order where every step comes after all it depends on
// (ties in spec order). Validation guarantees there is no cycle.
std::vector<std::string> TopologicalOrder(const Pipeline& pipeline);

// Parses "500ms", "5s", "2m", "1h", "1h30m" or a bare number of seconds.
core::Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace mlforge::pipeline
