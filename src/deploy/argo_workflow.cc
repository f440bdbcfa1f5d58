#include "deploy/argo_workflow.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "core/file.h"
#include "deploy/internal/objects.h"
#include "deploy/internal/regex.h"
#include "deploy/validation.h"

namespace mlforge::deploy {
namespace {

using pipeline::CommandKind;
using pipeline::Output;
using pipeline::OutputType;
using pipeline::ParamType;
using pipeline::Pipeline;
using pipeline::Step;

constexpr const char* kVolumeRoot = "/mnt/mlforge";
constexpr const char* kWorkDir = "/mnt/mlforge/work";
constexpr const char* kOutputsRoot = "/mnt/mlforge/pipelines/{{workflow.name}}";
constexpr const char* kParamFiles = "/tmp/mlforge-outputs";
constexpr size_t kMaxRawInputBytes = size_t{256} * 1024;
constexpr const char* kExitTemplate = "on-exit";
// The output parameter that carries the tracking run of a step whose run id
// another step references ({{steps.X.run_id}}).
constexpr const char* kRunIdOutput = "mlforge-run-id";

// A step name as Argo accepts it for tasks and templates: '_' becomes '-',
// lower case.
std::string ArgoName(const std::string& step_name) {
  std::string name;
  for (char character : step_name) {
    name += character == '_'
                ? '-'
                : static_cast<char>(std::tolower(static_cast<unsigned char>(character)));
  }
  return name;
}

const Step* FindStep(const Pipeline& pipeline, const std::string& name) {
  for (const Step& step : pipeline.steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

const Output* FindOutput(const Step& step, const std::string& name) {
  for (const Output& output : step.outputs) {
    if (output.name == name) return &output;
  }
  return nullptr;
}

const pipeline::Param* FindParam(const Pipeline& pipeline, const std::string& name) {
  for (const auto& param : pipeline.params) {
    if (param.name == name) return &param;
  }
  return nullptr;
}

std::string ListJson(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

std::string ValueText(const pipeline::Value& value) {
  return value.type == ParamType::kList ? ListJson(value.items) : value.scalar;
}

// Where step `step`'s output `name` lives on the shared volume.
std::string OutputPath(const Step& step, const std::string& name) {
  if (step.for_each) return fmt::format("{}/{}/{{{{pod.name}}}}/{}", kOutputsRoot, step.name, name);
  return fmt::format("{}/{}/{}", kOutputsRoot, step.name, name);
}

// The Argo expression that gives an earlier step's output as the spec
// means it at the place of use (a DAG task's arguments or `when`).
std::string TaskOutputReference(const Step& source, const Output& output) {
  const std::string task = ArgoName(source.name);
  if (!output.from.empty() && !output.key.empty()) {
    return fmt::format("{{{{=jsonpath(tasks['{}'].outputs.parameters['{}'], '$.{}')}}}}", task,
                       output.name, output.key);
  }
  return fmt::format("{{{{tasks.{}.outputs.parameters.{}}}}}", task, output.name);
}

// An input parameter of a step's template that carries an earlier step's output.
std::string InputName(const std::string& source_step, const std::string& output) {
  return fmt::format("{}--{}", ArgoName(source_step), output);
}

struct Rendered {
  std::string text;
  // Input parameters this template needs, with the value its task passes.
  std::map<std::string, std::string> inputs;
  std::set<std::string> referenced_steps;  // steps whose outputs it uses
};

// Rewrites the {{...}} references of `text` (a step's command) for Argo.
// `step` is null for the exit handler, which sees no task outputs.
core::Result<Rendered> RewriteCommand(const Pipeline& pipeline, const Step* step,
                                      const std::string& text, const std::string& what) {
  static const std::regex reference_pattern(R"(\{\{\s*([^{}]*?)\s*\}\})");
  Rendered rendered;
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), reference_pattern);
  size_t last = 0;
  for (auto match = begin; match != std::sregex_iterator(); ++match) {
    out += text.substr(last, match->position() - last);
    last = match->position() + match->length();
    const std::string ref = (*match)[1].str();
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t dot = ref.find('.', start);
      parts.push_back(ref.substr(start, dot == std::string::npos ? dot : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    auto unsupported = [&](const std::string& why) {
      return core::InvalidArgumentError(fmt::format("{}: {{{{{}}}}} {}", what, ref, why));
    };
    if (parts.size() == 2 && parts[0] == "params") {
      if (FindParam(pipeline, parts[1]) == nullptr) return unsupported("names no param");
      out += fmt::format("{{{{workflow.parameters.{}}}}}", parts[1]);
    } else if (parts.size() == 2 && parts[0] == "outputs") {
      if (step == nullptr || FindOutput(*step, parts[1]) == nullptr) {
        return unsupported("names no output of this step");
      }
      out += OutputPath(*step, parts[1]);
    } else if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs") {
      if (step == nullptr) {
        return unsupported(
            "is not available in the exit handler on Argo (it sees no task outputs)");
      }
      const Step* source = FindStep(pipeline, parts[1]);
      const Output* output = source ? FindOutput(*source, parts[3]) : nullptr;
      if (output == nullptr) return unsupported("names no output of an earlier step");
      const std::string input = InputName(source->name, output->name);
      rendered.inputs[input] = TaskOutputReference(*source, *output);
      rendered.referenced_steps.insert(source->name);
      out += fmt::format("{{{{inputs.parameters.{}}}}}", input);
    } else if (parts.size() == 3 && parts[0] == "steps" && parts[2] == "run_id") {
      if (step == nullptr) {
        return unsupported(
            "is not available in the exit handler on Argo (it sees no task outputs)");
      }
      const Step* source = FindStep(pipeline, parts[1]);
      if (source == nullptr) return unsupported("names no earlier step");
      const std::string input = InputName(source->name, kRunIdOutput);
      rendered.inputs[input] =
          fmt::format("{{{{tasks.{}.outputs.parameters.{}}}}}", ArgoName(source->name), kRunIdOutput);
      rendered.referenced_steps.insert(source->name);
      out += fmt::format("{{{{inputs.parameters.{}}}}}", input);
    } else if (ref == "item") {
      if (step == nullptr || !step->for_each)
        return unsupported("is only defined in for_each steps");
      out += "{{inputs.parameters.item}}";
    } else if (ref == "pipeline.name") {
      out += pipeline.name;
    } else if (ref == "pipeline.run_id") {
      out += "{{workflow.uid}}";
    } else if (ref == "pipeline.run_dir") {
      out += kOutputsRoot;
    } else if (ref == "pipeline.status") {
      out += "{{workflow.status}}";
    } else {
      return unsupported("is not a reference mlforge pipelines know");
    }
  }
  out += text.substr(last);
  rendered.text = out;
  return rendered;
}

// The `when` condition for Argo: references become Argo's (quoted when they
// hold strings, as govaluate wants), and/or/not become &&, ||, !, string
// literals use single quotes.
core::Result<std::string> RewriteWhen(const Pipeline& pipeline, const Step& step,
                                      std::set<std::string>& referenced_steps) {
  const std::string& text = step.when;
  std::string out;
  size_t position = 0;
  const std::string what = fmt::format("step '{}' when", step.name);
  while (position < text.size()) {
    const char character = text[position];
    if (std::isalpha(static_cast<unsigned char>(character)) || character == '_') {
      size_t end = position;
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '_' || text[end] == '.' || text[end] == '-')) {
        ++end;
      }
      const std::string word = text.substr(position, end - position);
      position = end;
      if (word == "item") {
        out += "'{{item}}'";
      } else if (word == "and") {
        out += "&&";
      } else if (word == "or") {
        out += "||";
      } else if (word == "not") {
        out += "!";
      } else if (word.rfind("params.", 0) == 0) {
        const auto* param = FindParam(pipeline, word.substr(7));
        if (param == nullptr) {
          return core::InvalidArgumentError(fmt::format("{}: {} names no param", what, word));
        }
        const std::string reference = fmt::format("{{{{workflow.parameters.{}}}}}", param->name);
        out += param->type == ParamType::kString ? "'" + reference + "'" : reference;
      } else if (word.rfind("steps.", 0) == 0 && word.size() > 7 &&
                 word.compare(word.size() - 7, 7, ".run_id") == 0) {
        return core::UnimplementedError(fmt::format(
            "{}: {}: the tracking run id of a step is not exported to Argo", what, word));
      } else if (word.rfind("steps.", 0) == 0) {
        // steps.S.outputs.N
        std::smatch parts;
        static const std::regex step_output_pattern(
            R"(steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+))");
        if (!std::regex_match(word, parts, step_output_pattern)) {
          return core::InvalidArgumentError(
              fmt::format("{}: {} is not steps.STEP.outputs.NAME", what, word));
        }
        const Step* source = FindStep(pipeline, parts[1].str());
        const Output* output = source ? FindOutput(*source, parts[2].str()) : nullptr;
        if (output == nullptr) {
          return core::InvalidArgumentError(fmt::format("{}: {} names no output", what, word));
        }
        referenced_steps.insert(source->name);
        const std::string reference = TaskOutputReference(*source, *output);
        out += output->type == OutputType::kString ? "'" + reference + "'" : reference;
      } else {
        out += word;  // true, false, numbers' exponents are not words here
      }
    } else if (text.compare(position, 2, "{{") == 0 || text.compare(position, 2, "}}") == 0) {
      position += 2;  // a reference may be written inside {{ }} too
    } else if (character == '"' || character == '\'') {
      size_t end = text.find(character, position + 1);
      if (end == std::string::npos) {
        return core::InvalidArgumentError(fmt::format("{}: unterminated string", what));
      }
      out += "'" + text.substr(position + 1, end - position - 1) + "'";
      position = end + 1;
    } else {
      out += character;
      ++position;
    }
  }
  return out;
}

std::string DurationText(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{}s", duration.count() / 1000);
  return fmt::format("{}ms", duration.count());
}

// The container script of a step: make the output folders, run the command
// in the working folder, check the declared outputs, and write the values
// of the Argo output parameters.
// `text` as one single-quoted shell word.
std::string ShellWord(const std::string& text) {
  std::string quoted = "'";
  for (char character : text) {
    quoted += character == '\'' ? std::string("'\\''") : std::string(1, character);
  }
  return quoted + "'";
}

// A tracked step (one whose run id a later step uses) runs inside a tracking
// run it opens first, as the local runner's child runs: the command sees it
// as MLFLOW_RUN_ID (so `mlforge train` logs into it), its id becomes the
// output parameter kRunIdOutput, and it ends FINISHED or FAILED with the
// command.
std::string TrackedCommand(const Pipeline& pipeline, const Step& step, const std::string& command) {
  return fmt::format(
      "MLFLOW_RUN_ID=$(mlforge runs create --experiment {0} --run-name {1} "
      "--tag mlforge.pipeline.name={0} --tag mlforge.pipeline.step={1} "
      "--tag mlforge.argo.workflow={{{{workflow.name}}}}) || exit 1\n"
      "export MLFLOW_RUN_ID\n"
      "printf '%s' \"$MLFLOW_RUN_ID\" > {2}/{3}\n"
      "(\n{4}\n)\n"
      "status=$?\n"
      "if [ $status = 0 ]; then mlforge runs end \"$MLFLOW_RUN_ID\" || exit 1; else\n"
      "  mlforge runs end \"$MLFLOW_RUN_ID\" --status FAILED; exit $status\nfi",
      ShellWord(pipeline.name), ShellWord(step.name), kParamFiles, kRunIdOutput, command);
}

std::string Script(const Step& step, const std::string& command) {
  std::string script = "# mlforge pipeline step '" + step.name + "'\n";
  std::set<std::string> folders;
  for (const Output& output : step.outputs) {
    const std::string path = OutputPath(step, output.name);
    folders.insert(path.substr(0, path.rfind('/')));
  }
  script += fmt::format("mkdir -p {} {}", kWorkDir, kParamFiles);
  for (const std::string& folder : folders) script += " \"" + folder + "\"";
  script += fmt::format(" && cd {} || exit 1\n(\n{}\n) || exit $?\n", kWorkDir, command);
  // Every output is also an Argo output parameter read from a file of a
  // fixed path: the path of a file or folder, else the value (or the JSON
  // file named by `from`).
  for (const Output& output : step.outputs) {
    const std::string path = OutputPath(step, output.name);
    if (pipeline::IsArtifact(output.type)) {
      script += fmt::format(
          "[ -e \"{0}\" ] || {{ echo \"output '{1}' ({0}) was not written\" >&2; exit 1; }}\n"
          "printf '%s' \"{0}\" > {2}/{1}\n",
          path, output.name, kParamFiles);
    } else {
      const std::string source = output.from.empty() ? path : OutputPath(step, output.from);
      script += fmt::format(
          "cp \"{0}\" {2}/{1} || {{ echo \"output '{1}' ({0}) was not written\" >&2; exit 1; }}\n",
          source, output.name, kParamFiles);
    }
  }
  return script;
}

Object OutputParameters(const Step& step, bool tracked) {
  Object parameters = Object::array();
  if (tracked) {
    parameters.push_back(
        {{"name", kRunIdOutput},
         {"valueFrom", {{"path", fmt::format("{}/{}", kParamFiles, kRunIdOutput)}}}});
  }
  for (const Output& output : step.outputs) {
    parameters.push_back(
        {{"name", output.name},
         {"valueFrom", {{"path", fmt::format("{}/{}", kParamFiles, output.name)}}}});
  }
  return parameters;
}

core::Result<Object> RawInputs(const Step& step, const ArgoOptions& options) {
  Object artifacts = Object::array();
  int index = 0;
  for (const std::string& input : step.inputs) {
    std::filesystem::path path(input);
    if (path.is_absolute()) continue;  // expected in the image or on the claim
    const std::filesystem::path local =
        options.working_dir.empty() ? path : options.working_dir / path;
    std::error_code error;
    if (!std::filesystem::is_regular_file(local, error)) continue;  // a folder: on the claim
    if (std::filesystem::file_size(local, error) > kMaxRawInputBytes) continue;
    MLFORGE_ASSIGN_OR_RETURN(std::string data, core::ReadFile(local));
    artifacts.push_back({{"name", fmt::format("input-{}", index++)},
                         {"path", fmt::format("{}/{}", kWorkDir, path.lexically_normal().string())},
                         {"raw", {{"data", data}}}});
  }
  return artifacts;
}

Object Container(const std::string& script, const ArgoOptions& options) {
  Object env = Object::array({internal::Env("MLFORGE_HOME", kVolumeRoot)});
  if (!options.tracking_uri.empty()) {
    env.push_back(internal::Env("MLFLOW_TRACKING_URI", options.tracking_uri));
  }
  // "main" is the name Argo gives a template's container when none is set.
  return Object{{"name", "main"},
                {"image", options.image},
                {"imagePullPolicy", "IfNotPresent"},
                {"command", Object::array({"/bin/sh", "-c"})},
                {"args", Object::array({script})},
                {"env", env},
                {"resources", internal::Resources(options.cpu, options.memory)},
                {"volumeMounts", Object::array({{{"name", "work"}, {"mountPath", kVolumeRoot}}})},
                {"securityContext", internal::ContainerSecurity()}};
}

// Fills `tmpl` with the step's container template and, unless it is the
// exit handler, `task` with its DAG task.
core::Status RenderStep(const Pipeline& pipeline, const Step& step, const ArgoOptions& options,
                        bool exit_handler, bool tracked, Object& tmpl, Object& task) {
  const std::string what = exit_handler ? "on_exit" : fmt::format("step '{}'", step.name);
  const std::string command =
      step.kind == CommandKind::kMlforge ? "mlforge " + step.command : step.command;
  MLFORGE_ASSIGN_OR_RETURN(Rendered rendered,
                           RewriteCommand(pipeline, exit_handler ? nullptr : &step, command, what));
  const std::string name = exit_handler ? kExitTemplate : ArgoName(step.name);
  tmpl = {{"name", name}};
  Object input_parameters = Object::array();
  Object task_arguments = Object::array();
  if (step.for_each) {
    input_parameters.push_back({{"name", "item"}});
    task_arguments.push_back({{"name", "item"}, {"value", "{{item}}"}});
  }
  for (const auto& [input, value] : rendered.inputs) {
    input_parameters.push_back({{"name", input}});
    task_arguments.push_back({{"name", input}, {"value", value}});
  }
  MLFORGE_ASSIGN_OR_RETURN(Object raw_inputs, RawInputs(step, options));
  Object inputs = Object::object();
  if (!input_parameters.empty()) inputs["parameters"] = input_parameters;
  if (!raw_inputs.empty()) inputs["artifacts"] = raw_inputs;
  if (!inputs.empty()) tmpl["inputs"] = inputs;
  if (!step.outputs.empty() || tracked) {
    tmpl["outputs"] = {{"parameters", OutputParameters(step, tracked)}};
  }
  if (step.retry.limit > 0) {
    Object retry = {{"limit", step.retry.limit}, {"retryPolicy", "Always"}};
    if (step.retry.backoff.count() > 0) {
      retry["backoff"] = {
          {"duration", DurationText(step.retry.backoff)},
          {"factor", std::max<int>(1, static_cast<int>(std::lround(step.retry.factor)))}};
    }
    tmpl["retryStrategy"] = retry;
  }
  if (step.timeout) {
    tmpl["activeDeadlineSeconds"] =
        std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(*step.timeout).count());
  }
  tmpl["container"] = Container(
      Script(step, tracked ? TrackedCommand(pipeline, step, rendered.text) : rendered.text),
      options);
  if (exit_handler) return core::Status::Ok();

  task = {{"name", name}, {"template", name}};
  std::string when;
  if (!step.when.empty()) {
    MLFORGE_ASSIGN_OR_RETURN(when, RewriteWhen(pipeline, step, rendered.referenced_steps));
  }
  // A dependency whose outputs this step (or its `when`) uses must have
  // succeeded; one it only waits for may also have been skipped.
  std::string depends;
  for (const std::string& dependency : step.depends) {
    if (!depends.empty()) depends += " && ";
    const std::string task_name = ArgoName(dependency);
    depends += rendered.referenced_steps.count(dependency) > 0
                   ? task_name + ".Succeeded"
                   : fmt::format("({0}.Succeeded || {0}.Skipped)", task_name);
  }
  if (!depends.empty()) task["depends"] = depends;
  if (!when.empty()) task["when"] = when;
  if (step.for_each) {
    if (!step.for_each->param.empty()) {
      task["withParam"] = fmt::format("{{{{workflow.parameters.{}}}}}", step.for_each->param);
    } else {
      task["withItems"] = step.for_each->items;
    }
  }
  if (!task_arguments.empty()) task["arguments"] = {{"parameters", task_arguments}};
  return core::Status::Ok();
}

core::Status Validate(const Pipeline& pipeline, const ArgoOptions& options) {
  MLFORGE_RETURN_IF_ERROR(ValidateImage("--image", options.image));
  if (!options.name_space.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--namespace", options.name_space));
  }
  if (!options.pvc.empty()) MLFORGE_RETURN_IF_ERROR(ValidateName("--pvc", options.pvc, 253));
  if (!options.service_account.empty()) {
    MLFORGE_RETURN_IF_ERROR(ValidateName("--service-account", options.service_account, 253));
  }
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--volume-size", options.volume_size));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--cpu", options.cpu));
  MLFORGE_RETURN_IF_ERROR(ValidateQuantity("--memory", options.memory));
  if (pipeline.steps.empty()) {
    return core::InvalidArgumentError("the pipeline has no steps; there is nothing to export");
  }
  std::map<std::string, std::string> names;
  for (const Step& step : pipeline.steps) {
    const std::string name = ArgoName(step.name);
    if (name == "main" || name == kExitTemplate) {
      return core::InvalidArgumentError(
          fmt::format("step '{}' is named like the workflow's own '{}' template; rename the step",
                      step.name, name));
    }
    auto [existing, inserted] = names.emplace(name, step.name);
    if (!inserted) {
      return core::InvalidArgumentError(
          fmt::format("steps '{}' and '{}' are both '{}' in Argo, which has no '_' in names; "
                      "rename one",
                      existing->second, step.name, name));
    }
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::vector<Document>> RenderArgoWorkflow(const Pipeline& pipeline,
                                                       const ArgoOptions& options) {
  MLFORGE_RETURN_IF_ERROR(Validate(pipeline, options));
  std::string prefix = ToNameFragment(pipeline.name, 50);
  if (prefix.empty() || !std::isalpha(static_cast<unsigned char>(prefix[0]))) {
    prefix = "mlforge-" + prefix;
  }
  while (!prefix.empty() && prefix.back() == '-') prefix.pop_back();
  const Object labels = internal::Labels("pipeline", prefix);

  Object parameters = Object::array();
  for (const auto& param : pipeline.params) {
    Object parameter = {{"name", param.name}};
    if (param.default_value) parameter["value"] = ValueText(*param.default_value);
    if (!param.description.empty()) parameter["description"] = param.description;
    parameters.push_back(parameter);
  }

  Object templates = Object::array();
  Object tasks = Object::array();
  Object step_templates = Object::array();
  // Steps whose tracking run another step names ({{steps.X.run_id}}).
  std::set<std::string> tracked;
  static const std::regex run_id_pattern(R"(\{\{\s*steps\.([^.{}\s]+)\.run_id\s*\}\})");
  for (const Step& step : pipeline.steps) {
    for (auto match = std::sregex_iterator(step.command.begin(), step.command.end(),
                                           run_id_pattern);
         match != std::sregex_iterator(); ++match) {
      tracked.insert((*match)[1].str());
    }
  }
  for (const Step& step : pipeline.steps) {
    Object tmpl;
    Object task;
    MLFORGE_RETURN_IF_ERROR(RenderStep(pipeline, step, options, false,
                                       tracked.count(step.name) > 0, tmpl, task));
    tasks.push_back(task);
    step_templates.push_back(tmpl);
  }
  templates.push_back({{"name", "main"}, {"dag", {{"tasks", tasks}}}});
  for (auto& tmpl : step_templates) templates.push_back(tmpl);
  if (pipeline.on_exit) {
    Object tmpl;
    Object unused_task;
    MLFORGE_RETURN_IF_ERROR(
        RenderStep(pipeline, *pipeline.on_exit, options, true, false, tmpl, unused_task));
    templates.push_back(tmpl);
  }

  Object metadata = {{"generateName", prefix + "-"}};
  if (!options.name_space.empty()) metadata["namespace"] = options.name_space;
  metadata["labels"] = labels;
  Object spec = {{"entrypoint", "main"}};
  if (!options.service_account.empty()) spec["serviceAccountName"] = options.service_account;
  if (!parameters.empty()) spec["arguments"] = {{"parameters", parameters}};
  if (pipeline.on_exit) spec["onExit"] = kExitTemplate;
  Object security = internal::PodSecurity();
  security["runAsNonRoot"] = true;
  spec["securityContext"] = security;
  if (options.pvc.empty()) {
    spec["volumeClaimTemplates"] =
        Object::array({{{"apiVersion", "v1"},
                        {"kind", "PersistentVolumeClaim"},
                        {"metadata", {{"name", "work"}}},
                        {"spec",
                         {{"accessModes", Object::array({"ReadWriteOnce"})},
                          {"resources", {{"requests", {{"storage", options.volume_size}}}}}}}}});
  } else {
    spec["volumes"] = Object::array(
        {{{"name", "work"}, {"persistentVolumeClaim", {{"claimName", options.pvc}}}}});
  }
  spec["templates"] = templates;
  Object workflow = {{"apiVersion", "argoproj.io/v1alpha1"},
                     {"kind", "Workflow"},
                     {"metadata", metadata},
                     {"spec", spec}};
  std::string comment = fmt::format(
      "Argo Workflow of mlforge pipeline '{}' ({} step(s)); submit with\n"
      "  argo submit FILE [-p PARAM=VALUE]...   or   kubectl create -f FILE\n"
      "Steps share {} on {}; step outputs are under pipelines/<workflow name>/.",
      pipeline.name, pipeline.steps.size(), kVolumeRoot,
      options.pvc.empty() ? "a volume claim created per workflow" : "the claim " + options.pvc);
  return std::vector<Document>{{comment, workflow}};
}

}  // namespace mlforge::deploy
