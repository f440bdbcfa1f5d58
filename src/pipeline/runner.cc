// The pipeline runner.
//
// A step's cache key is the SHA-256 of these lines, each present when it
// applies:
//   mlforge-pipeline-step v1
//   kind shell|mlforge
//   command <the command with references replaced by stable text: params and
//           items by their values, own outputs by "{{outputs.NAME}}", an
//           earlier step's artifact by its content digest, its value output
//           by the value, its run id by the id>
//   item <the item>                                  (for_each steps)
//   binary <digest of the mlforge binary>            (mlforge steps)
//   output NAME TYPE FROM KEY                        (each declared output)
//   input PATH DIGEST                                (each `inputs:` entry)
//   upstream STEP[INDEX] NAME DIGEST                 (outputs of every dependency)
//   env NAME=VALUE | env NAME unset                  (each `env:` name)
// Run folders, run ids of this run and timestamps are left out, so an
// unchanged step of a new run has the same key.

#include "pipeline/runner.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/file.h"
#include "core/hash.h"
#include "pipeline/cache.h"
#include "pipeline/expression.h"
#include "pipeline/process.h"
#include "pipeline/template.h"
#include "tracking/client.h"

namespace mlforge::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string JsonArray(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump();
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char character : text) {
    if (character == '\'') {
      out += "'\\''";
    } else {
      out += character;
    }
  }
  return out + "'";
}

// MLflow tag keys allow letters, digits and "_-. /"; anything else becomes "_".
std::string TagKey(const std::string& text) {
  std::string out;
  for (char character : text) {
    bool ok = std::isalnum(static_cast<unsigned char>(character)) != 0 || character == '_' ||
              character == '-' || character == '.' || character == ' ' || character == '/';
    out += ok ? character : '_';
  }
  return out.substr(0, 250);
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// "90s", "1500ms", "30m": the shortest exact form.
std::string FormatDuration(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string Truncate(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit - 3) + "...";
}

// The last `lines` lines of a file, at most 2000 characters.
std::string Tail(const fs::path& path, int lines) {
  auto text = core::ReadFile(path);
  if (!text.ok() || text->empty()) return "";
  std::string content = *text;
  while (!content.empty() && content.back() == '\n') content.pop_back();
  size_t position = content.size();
  for (int count = 0; count < lines && position != std::string::npos && position > 0; ++count) {
    position = content.rfind('\n', position - 1);
  }
  std::string tail = position == std::string::npos ? content : content.substr(position + 1);
  if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
  return tail;
}

// An absolute form of a SQLite tracking URI, so steps running in another
// folder reach the same store.
std::string AbsoluteTrackingUri(const std::string& uri) {
  const std::string prefix = "sqlite:///";
  if (uri.rfind(prefix, 0) == 0 && uri.size() > prefix.size() && uri[prefix.size()] != '/' &&
      uri.compare(prefix.size(), 8, ":memory:") != 0) {
    std::error_code error;
    return prefix + fs::absolute(uri.substr(prefix.size()), error).string();
  }
  if (uri.find("://") == std::string::npos && !uri.empty() && uri[0] != '/') {
    std::error_code error;
    return fs::absolute(uri, error).string();
  }
  return uri;
}

// Checks a value output's text against its type; returns the canonical text.
core::Result<std::string> CheckValue(OutputType type, const std::string& raw,
                                     const std::string& what) {
  std::string text = raw;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin])) != 0) {
    ++begin;
  }
  text = text.substr(begin);
  auto bad = [&](const char* wanted) {
    return core::InvalidArgumentError(what + " must be " + wanted + ", got '" + Truncate(text, 80) +
                                      "'");
  };
  switch (type) {
    case OutputType::kInt: {
      char* end = nullptr;
      long long value = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || end != text.c_str() + text.size()) return bad("an int");
      return std::to_string(value);
    }
    case OutputType::kFloat: {
      char* end = nullptr;
      std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size()) return bad("a float");
      return text;
    }
    case OutputType::kBool:
      if (text == "true" || text == "True" || text == "1") return std::string("true");
      if (text == "false" || text == "False" || text == "0") return std::string("false");
      return bad("a bool");
    default:
      return text;
  }
}

struct Instance {
  const Step* step = nullptr;
  StepReport report;
  Clock::time_point started;
  bool blocked = false;  // failed, or skipped because something upstream failed
  // After success or a cache hit: per output, the text a reference becomes
  // (path or value) and its digest.
  std::map<std::string, std::string> output_text;
  std::map<std::string, std::string> output_digest;

  bool finished() const {
    return report.state == StepState::kCached || report.state == StepState::kDone ||
           report.state == StepState::kFailed || report.state == StepState::kSkipped;
  }
  bool produced() const {
    return report.state == StepState::kCached || report.state == StepState::kDone;
  }
};

class PipelineRun {
 public:
  PipelineRun(const Pipeline& pipeline, const RunOptions& options,
              std::unique_ptr<tracking::Client> client)
      : pipeline_(pipeline),
        options_(options),
        client_(std::move(client)),
        cache_(options.cache_dir),
        memo_(options.cache_dir / "digests.json") {}

  core::Result<RunReport> Execute();

 private:
  core::Status Prepare();
  void ExecuteInstance(Instance& instance);
  // The outcome of one instance's work; fills the instance's report.
  void RunInstance(Instance& instance);
  core::Result<std::string> Resolve(const Instance& instance, const Reference& reference,
                                    bool for_key) const;
  core::Result<std::string> KeyText(const Instance& instance, const std::string& key_command);
  core::Status CollectOutputs(Instance& instance, const fs::path& outputs_dir);
  void Update(const std::function<void()>& change);
  std::vector<StepReport> Snapshot();
  std::string CreateChildRun(const Instance& instance);
  void EndChildRun(const Instance& instance, const std::vector<tracking::RunTag>& extra_tags,
                   bool finished);
  std::string UpstreamReason(const Instance& instance, bool& blocked) const;

  const Pipeline& pipeline_;
  const RunOptions& options_;
  std::unique_ptr<tracking::Client> client_;
  StepCache cache_;
  DigestMemo memo_;
  std::map<std::string, std::string> params_;  // name -> template text
  std::string tracking_uri_;
  std::string experiment_id_;
  std::string run_id_;
  fs::path run_dir_;
  fs::path working_dir_;
  fs::path binary_;
  std::string binary_digest_;  // computed on first use; guarded by binary_mutex_
  std::mutex binary_mutex_;
  std::string pipeline_status_ = "Succeeded";
  // Steps each step references (templates and `when`): a skipped one of
  // those skips it.
  std::map<std::string, std::set<std::string>> referenced_;

  std::mutex mutex_;
  std::condition_variable changed_;
  // Instances in topological order; their reports are guarded by mutex_.
  std::vector<std::unique_ptr<Instance>> instances_;
  std::unique_ptr<Instance> exit_instance_;
  bool dirty_ = false;  // guarded by mutex_: a report changed since the last snapshot
};

const char* kSucceeded = "Succeeded";

void PipelineRun::Update(const std::function<void()>& change) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    change();
    dirty_ = true;
  }
  changed_.notify_all();
}

std::vector<StepReport> PipelineRun::Snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<StepReport> reports;
  const auto now = Clock::now();
  auto add = [&](const Instance& instance) {
    StepReport report = instance.report;
    if (report.state == StepState::kRunning) {
      report.seconds = std::chrono::duration<double>(now - instance.started).count();
    }
    reports.push_back(std::move(report));
  };
  for (const auto& instance : instances_) add(*instance);
  if (exit_instance_) add(*exit_instance_);
  dirty_ = false;
  return reports;
}

core::Status PipelineRun::Prepare() {
  std::error_code error;
  working_dir_ = options_.working_dir.empty() ? fs::current_path(error)
                                              : fs::absolute(options_.working_dir, error);
  binary_ = options_.mlforge_binary.empty() ? fs::read_symlink("/proc/self/exe", error)
                                            : fs::absolute(options_.mlforge_binary, error);
  for (const ParamValue& param : options_.params)
    params_[param.name] = param.value.ToTemplateText();
  for (const Param& param : pipeline_.params) {
    if (!params_.count(param.name)) {
      return core::InvalidArgumentError("param '" + param.name + "' has no value");
    }
  }
  for (const Step& step : pipeline_.steps) {
    std::set<std::string>& referenced = referenced_[step.name];
    auto parts = ParseTemplate(step.command);
    if (parts.ok()) {
      for (const Reference& reference : References(*parts)) {
        if (!reference.step.empty()) referenced.insert(reference.step);
      }
    }
    if (!step.when.empty()) {
      auto expression = Expression::Parse(step.when);
      if (expression.ok()) {
        for (const Reference& reference : expression->references()) {
          if (!reference.step.empty()) referenced.insert(reference.step);
        }
      }
    }
  }

  // The tracking run of the pipeline.
  tracking_uri_ = AbsoluteTrackingUri(client_->uri());
  const std::string experiment = options_.experiment.empty() ? pipeline_.name : options_.experiment;
  MLFORGE_ASSIGN_OR_RETURN(experiment_id_, client_->GetOrCreateExperiment(experiment));
  std::string spec_digest;
  if (auto digest = core::Sha256File(pipeline_.source); digest.ok()) spec_digest = *digest;
  std::vector<tracking::RunTag> tags = {
      {"mlflow.source.type", "JOB"},
      {"mlflow.source.name", pipeline_.source.string()},
      {"mlflow.user", EnvOr("USER", "unknown")},
      {"mlforge.pipeline.name", pipeline_.name},
      {"mlforge.pipeline.spec_digest", spec_digest.empty() ? "" : "sha256:" + spec_digest},
  };
  MLFORGE_ASSIGN_OR_RETURN(tracking::Run run,
                           client_->store().CreateRun(experiment_id_, EnvOr("USER", "unknown"),
                                                      NowMs(), tags, std::nullopt));
  run_id_ = run.info.run_id;
  run_dir_ = options_.run_dir.empty() ? options_.runs_root / run_id_
                                      : fs::absolute(options_.run_dir, error);
  fs::create_directories(run_dir_ / "steps", error);
  if (error) {
    return core::FailedPreconditionError("cannot create run folder " + run_dir_.string() + ": " +
                                         error.message());
  }
  std::vector<tracking::Param> params;
  for (const ParamValue& param : options_.params) {
    params.push_back({param.name, Truncate(param.value.ToTemplateText(), 6000)});
  }
  std::vector<tracking::RunTag> more_tags = {{"mlforge.pipeline.run_dir", run_dir_.string()}};
  core::Status logged = client_->store().LogBatch(run_id_, {}, params, more_tags);
  if (!logged.ok())
    spdlog::warn("pipeline run {}: cannot log params: {}", run_id_, logged.message());

  // Instances, in topological order, for_each steps expanded.
  for (const std::string& name : TopologicalOrder(pipeline_)) {
    const Step* step = pipeline_.FindStep(name);
    std::vector<std::string> items;
    bool fan_out = step->for_each.has_value();
    if (fan_out) {
      if (!step->for_each->param.empty()) {
        for (const ParamValue& param : options_.params) {
          if (param.name == step->for_each->param) items = param.value.items;
        }
      } else {
        items = step->for_each->items;
      }
    }
    auto add = [&](int index, const std::string& item) {
      auto instance = std::make_unique<Instance>();
      instance->step = step;
      instance->report.step = step->name;
      instance->report.item_index = index;
      instance->report.item = item;
      instance->report.name =
          index < 0 ? step->name : step->name + "[" + std::to_string(index) + "]";
      instance->report.dir = index < 0 ? run_dir_ / "steps" / step->name
                                       : run_dir_ / "steps" / step->name / std::to_string(index);
      instances_.push_back(std::move(instance));
    };
    if (!fan_out) {
      add(-1, "");
    } else if (items.empty()) {
      // Nothing to fan out over: one instance that is skipped at once.
      add(-1, "");
      instances_.back()->report.state = StepState::kSkipped;
      instances_.back()->report.reason = "for_each list is empty";
    } else {
      for (size_t index = 0; index < items.size(); ++index) {
        add(static_cast<int>(index), items[index]);
      }
    }
  }
  return core::Status::Ok();
}

core::Result<std::string> PipelineRun::Resolve(const Instance& instance, const Reference& reference,
                                               bool for_key) const {
  switch (reference.kind) {
    case ReferenceKind::kParam: {
      auto it = params_.find(reference.name);
      if (it == params_.end()) return core::InvalidArgumentError("unknown param " + reference.name);
      return it->second;
    }
    case ReferenceKind::kItem:
      return instance.report.item;
    case ReferenceKind::kOwnOutput:
      if (for_key) return "{{outputs." + reference.name + "}}";
      return (instance.report.dir / "outputs" / reference.name).string();
    case ReferenceKind::kPipeline:
      if (reference.name == "name") return pipeline_.name;
      if (reference.name == "status") return pipeline_status_;
      if (for_key) return "{{pipeline." + reference.name + "}}";
      if (reference.name == "run_id") return run_id_;
      return run_dir_.string();
    case ReferenceKind::kStepOutput:
    case ReferenceKind::kStepRunId: {
      std::vector<std::string> texts;
      bool fan_out = false;
      for (const auto& other : instances_) {
        if (other->step->name != reference.step) continue;
        fan_out = other->report.item_index >= 0;
        if (!other->produced()) {
          return core::FailedPreconditionError("step '" + reference.step + "' has no outputs (" +
                                               StepStateName(other->report.state) + ")");
        }
        if (reference.kind == ReferenceKind::kStepRunId) {
          texts.push_back(other->report.producer_run_id);
          continue;
        }
        const std::map<std::string, std::string>& source =
            for_key ? other->output_digest : other->output_text;
        const Step* step = other->step;
        auto output = std::find_if(step->outputs.begin(), step->outputs.end(),
                                   [&](const Output& o) { return o.name == reference.name; });
        // Values are their own stable text; artifacts are keyed by digest.
        const auto& map = (output != step->outputs.end() && !IsArtifact(output->type))
                              ? other->output_text
                              : source;
        auto it = map.find(reference.name);
        if (it == map.end()) {
          return core::InternalError("step '" + reference.step + "' lacks output " +
                                     reference.name);
        }
        texts.push_back(it->second);
      }
      if (texts.empty()) return core::InternalError("no step " + reference.step);
      return fan_out ? JsonArray(texts) : texts.front();
    }
  }
  return core::InternalError("unhandled reference");
}

core::Result<std::string> PipelineRun::KeyText(const Instance& instance,
                                               const std::string& key_command) {
  const Step& step = *instance.step;
  std::ostringstream text;
  text << "mlforge-pipeline-step v1\n";
  text << "kind " << (step.kind == CommandKind::kMlforge ? "mlforge" : "shell") << "\n";
  text << "command " << key_command << "\n";
  if (instance.report.item_index >= 0) text << "item " << instance.report.item << "\n";
  if (step.kind == CommandKind::kMlforge) {
    std::lock_guard<std::mutex> lock(binary_mutex_);
    if (binary_digest_.empty()) {
      auto digest = memo_.Digest(binary_);
      if (!digest.ok()) {
        return core::FailedPreconditionError("cannot read the mlforge binary " + binary_.string() +
                                             ": " + digest.status().message());
      }
      binary_digest_ = *digest;
    }
    text << "binary " << binary_digest_ << "\n";
  }
  for (const Output& output : step.outputs) {
    text << "output " << output.name << " " << OutputTypeName(output.type) << " " << output.from
         << " " << output.key << "\n";
  }
  for (const std::string& input : step.inputs) {
    fs::path path = input;
    if (path.is_relative()) path = working_dir_ / path;
    auto digest = memo_.Digest(path);
    if (!digest.ok()) {
      return core::FailedPreconditionError("input '" + input + "' of step '" + step.name +
                                           "': " + digest.status().message());
    }
    text << "input " << input << " " << *digest << "\n";
  }
  for (const std::string& dependency : step.depends) {
    for (const auto& other : instances_) {
      if (other->step->name != dependency) continue;
      for (const auto& [name, digest] : other->output_digest) {
        text << "upstream " << other->report.name << " " << name << " " << digest << "\n";
      }
    }
  }
  for (const std::string& name : step.env) {
    const char* value = std::getenv(name.c_str());
    if (value) {
      text << "env " << name << "=" << value << "\n";
    } else {
      text << "env " << name << " unset\n";
    }
  }
  return text.str();
}

core::Status PipelineRun::CollectOutputs(Instance& instance, const fs::path& outputs_dir) {
  const Step& step = *instance.step;
  std::error_code error;
  std::vector<std::pair<std::string, std::string>> values;
  for (const Output& output : step.outputs) {
    const fs::path path = outputs_dir / output.name;
    if (output.type == OutputType::kFile) {
      if (!fs::is_regular_file(path, error)) {
        return core::FailedPreconditionError("declared file output '" + output.name +
                                             "' was not written (" + path.string() + ")");
      }
    } else if (output.type == OutputType::kFolder) {
      if (!fs::is_directory(path, error)) {
        return core::FailedPreconditionError("declared folder output '" + output.name +
                                             "' is missing (" + path.string() + ")");
      }
    }
    if (IsArtifact(output.type)) {
      MLFORGE_ASSIGN_OR_RETURN(std::string digest, memo_.Digest(path));
      instance.output_text[output.name] = path.string();
      instance.output_digest[output.name] = digest;
    }
  }
  for (const Output& output : step.outputs) {
    if (IsArtifact(output.type)) continue;
    const std::string what = "value output '" + output.name + "'";
    std::string raw;
    if (output.from.empty()) {
      auto text = core::ReadFile(outputs_dir / output.name);
      if (!text.ok()) {
        return core::FailedPreconditionError(what + " was not written to " +
                                             (outputs_dir / output.name).string());
      }
      raw = *text;
    } else {
      auto text = core::ReadFile(outputs_dir / output.from);
      if (!text.ok()) return core::FailedPreconditionError(what + ": cannot read " + output.from);
      nlohmann::json json;
      try {
        json = nlohmann::json::parse(*text);
      } catch (const nlohmann::json::exception& parse_error) {
        return core::FailedPreconditionError(what + ": output '" + output.from +
                                             "' is not JSON: " + parse_error.what());
      }
      const nlohmann::json* node = &json;
      if (!output.key.empty()) {
        size_t start = 0;
        while (start <= output.key.size()) {
          size_t dot = output.key.find('.', start);
          std::string part =
              output.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
          if (!node->is_object() || !node->contains(part)) {
            return core::FailedPreconditionError(what + ": key '" + output.key +
                                                 "' not found in output '" + output.from + "'");
          }
          node = &(*node)[part];
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
      }
      raw = node->is_string() ? node->get<std::string>() : node->dump();
    }
    MLFORGE_ASSIGN_OR_RETURN(std::string value, CheckValue(output.type, raw, what));
    instance.output_text[output.name] = value;
    instance.output_digest[output.name] = "value:" + value;
    values.emplace_back(output.name, value);
  }
  Update([&] { instance.report.values = std::move(values); });
  return core::Status::Ok();
}

std::string PipelineRun::CreateChildRun(const Instance& instance) {
  std::vector<tracking::RunTag> tags = {
      {"mlflow.parentRunId", run_id_},
      {"mlflow.source.type", "JOB"},
      {"mlflow.source.name", pipeline_.source.string()},
      {"mlflow.user", EnvOr("USER", "unknown")},
      {"mlforge.pipeline.step", instance.step->name},
      {"mlforge.pipeline.run_id", run_id_},
  };
  if (instance.report.item_index >= 0) {
    tags.push_back({"mlforge.pipeline.item", Truncate(instance.report.item, 8000)});
  }
  auto run = client_->store().CreateRun(experiment_id_, EnvOr("USER", "unknown"), NowMs(), tags,
                                        instance.report.name);
  if (!run.ok()) {
    spdlog::warn("step {}: cannot create its tracking run: {}", instance.report.name,
                 run.status().message());
    return "";
  }
  return run->info.run_id;
}

void PipelineRun::EndChildRun(const Instance& instance,
                              const std::vector<tracking::RunTag>& extra_tags, bool finished) {
  const std::string& run_id = instance.report.run_id;
  if (run_id.empty()) return;
  std::vector<tracking::RunTag> tags = extra_tags;
  std::vector<tracking::Param> params;
  std::vector<tracking::Metric> metrics;
  tags.push_back({"mlforge.pipeline.command", Truncate(instance.report.command, 8000)});
  if (!instance.report.cache_key.empty()) {
    tags.push_back({"mlforge.pipeline.cache_key", instance.report.cache_key});
  }
  std::set<std::string> referenced_params;
  if (auto parts = ParseTemplate(instance.step->command); parts.ok()) {
    for (const Reference& reference : References(*parts)) {
      if (reference.kind == ReferenceKind::kParam) referenced_params.insert(reference.name);
    }
  }
  for (const std::string& name : referenced_params) {
    params.push_back({"pipeline." + name, Truncate(params_.at(name), 6000)});
  }
  for (const std::string& input : instance.step->inputs) {
    fs::path path = input;
    if (path.is_relative()) path = working_dir_ / path;
    if (auto digest = memo_.Digest(path); digest.ok()) {
      tags.push_back({TagKey("mlforge.pipeline.input." + input), *digest});
    }
  }
  for (const std::string& dependency : instance.step->depends) {
    for (const auto& other : instances_) {
      if (other->step->name != dependency || other->report.producer_run_id.empty()) continue;
      tags.push_back({TagKey("mlforge.pipeline.upstream." + other->report.name),
                      other->report.producer_run_id});
    }
  }
  const int64_t now = NowMs();
  for (const auto& [name, digest] : instance.output_digest) {
    tags.push_back({TagKey("mlforge.pipeline.output." + name), Truncate(digest, 8000)});
  }
  for (const auto& [name, value] : instance.report.values) {
    char* end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (!value.empty() && end == value.c_str() + value.size()) {
      metrics.push_back({name, number, now, 0});
    }
  }
  // LogBatch takes at most 100 params and tags per call.
  for (size_t start = 0; start < std::max(tags.size(), params.size()) || start == 0; start += 100) {
    std::vector<tracking::RunTag> tag_chunk(tags.begin() + std::min(start, tags.size()),
                                            tags.begin() + std::min(start + 100, tags.size()));
    std::vector<tracking::Param> param_chunk(params.begin() + std::min(start, params.size()),
                                             params.begin() + std::min(start + 100, params.size()));
    core::Status logged = client_->store().LogBatch(
        run_id, start == 0 ? metrics : std::vector<tracking::Metric>{}, param_chunk, tag_chunk);
    if (!logged.ok()) {
      spdlog::warn("step {}: cannot log to run {}: {}", instance.report.name, run_id,
                   logged.message());
    }
    if (start + 100 >= std::max(tags.size(), params.size())) break;
  }
  auto updated = client_->store().UpdateRun(
      run_id, finished ? tracking::RunStatus::kFinished : tracking::RunStatus::kFailed, now,
      std::nullopt);
  if (!updated.ok()) {
    spdlog::warn("step {}: cannot end run {}: {}", instance.report.name, run_id,
                 updated.status().message());
  }
}

void PipelineRun::ExecuteInstance(Instance& instance) {
  RunInstance(instance);
  Update([&] {
    instance.report.seconds =
        std::chrono::duration<double>(Clock::now() - instance.started).count();
    if (instance.report.state == StepState::kFailed) instance.blocked = true;
  });
}

void PipelineRun::RunInstance(Instance& instance) {
  const Step& step = *instance.step;
  auto fail = [&](const std::string& reason) {
    Update([&] {
      instance.report.state = StepState::kFailed;
      instance.report.reason = reason;
    });
  };
  auto skip = [&](const std::string& reason) {
    Update([&] {
      instance.report.state = StepState::kSkipped;
      instance.report.reason = reason;
    });
  };
  // when
  if (!step.when.empty()) {
    auto expression = Expression::Parse(step.when);
    if (!expression.ok()) return fail(expression.status().message());
    auto truth = expression->Evaluate(
        [&](const Reference& reference) { return Resolve(instance, reference, false); });
    if (!truth.ok()) return fail("when: " + truth.status().message());
    if (!*truth) return skip("when is false: " + step.when);
  }
  auto parts = ParseTemplate(step.command);
  if (!parts.ok()) return fail(parts.status().message());
  auto command = Substitute(
      *parts, [&](const Reference& reference) { return Resolve(instance, reference, false); });
  if (!command.ok()) return fail(command.status().message());
  auto key_command = Substitute(
      *parts, [&](const Reference& reference) { return Resolve(instance, reference, true); });
  if (!key_command.ok()) return fail(key_command.status().message());
  Update([&] { instance.report.command = *command; });

  const bool cacheable = step.cache && &instance != exit_instance_.get();
  std::string key;
  if (cacheable) {
    auto text = KeyText(instance, *key_command);
    if (!text.ok()) return fail(text.status().message());
    key = core::Sha256Hex(*text);
    Update([&] { instance.report.cache_key = key; });
  }
  std::error_code error;
  const fs::path outputs_dir = instance.report.dir / "outputs";
  fs::create_directories(instance.report.dir, error);

  std::unique_ptr<KeyLock> lock;
  if (cacheable) {
    auto acquired = KeyLock::Acquire(cache_.dir(), key);
    if (!acquired.ok()) return fail(acquired.status().message());
    lock = std::move(*acquired);
    if (options_.use_cache) {
      auto entry = cache_.Lookup(key);
      if (entry.ok()) {
        fs::remove_all(outputs_dir, error);
        core::Status restored = cache_.Restore(*entry, outputs_dir);
        if (restored.ok()) {
          std::vector<std::pair<std::string, std::string>> values;
          for (const CachedOutput& output : entry->outputs) {
            if (output.type == "file" || output.type == "folder") {
              instance.output_text[output.name] = (outputs_dir / output.name).string();
            } else {
              instance.output_text[output.name] = output.value;
              values.emplace_back(output.name, output.value);
              // The value's file too, as the step had written it.
              core::Status written = core::WriteFileAtomic(outputs_dir / output.name, output.value);
              (void)written;
            }
            instance.output_digest[output.name] = output.digest;
          }
          lock.reset();
          std::string run_id = CreateChildRun(instance);
          Update([&] {
            instance.report.values = std::move(values);
            instance.report.state = StepState::kCached;
            instance.report.run_id = run_id;
            instance.report.producer_run_id =
                entry->producer_run_id.empty() ? run_id : entry->producer_run_id;
            instance.report.reason = "cache hit, produced by run " + entry->producer_run_id;
          });
          EndChildRun(instance,
                      {{"mlforge.pipeline.cache", "hit"},
                       {"mlforge.pipeline.cached_from_run", entry->producer_run_id}},
                      true);
          return;
        }
        spdlog::warn("step {}: cannot restore cache entry {}: {}; running it", instance.report.name,
                     key, restored.message());
      }
    }
  }

  // Run, with retries.
  const std::string run_id = CreateChildRun(instance);
  Update([&] {
    instance.report.run_id = run_id;
    instance.report.producer_run_id = run_id;
  });
  std::vector<std::string> env = CurrentEnvironment();
  SetEnv(env, "MLFLOW_TRACKING_URI", tracking_uri_);
  SetEnv(env, "MLFLOW_EXPERIMENT_ID", experiment_id_);
  if (!run_id.empty()) SetEnv(env, "MLFLOW_RUN_ID", run_id);
  SetEnv(env, "MLFORGE_PIPELINE_RUN_ID", run_id_);
  ProcessOptions process;
  process.argv = {"/bin/sh", "-c",
                  step.kind == CommandKind::kMlforge ? ShellQuote(binary_.string()) + " " + *command
                                                     : *command};
  process.env = std::move(env);
  process.working_dir = working_dir_;
  process.stdout_path = instance.report.dir / "stdout.log";
  process.stderr_path = instance.report.dir / "stderr.log";
  process.timeout = step.timeout;
  process.kill_grace = options_.kill_grace;
  // on_exit runs even after a stop, so it does not watch the flag.
  process.stop_requested = &instance == exit_instance_.get() ? nullptr : options_.stop_requested;

  std::string failure;
  int exit_code = 0;
  std::string stderr_tail;
  bool succeeded = false;
  int attempt = 1;
  for (;; ++attempt) {
    Update([&] {
      instance.report.attempt = attempt;
      instance.report.state = StepState::kRunning;
    });
    if (attempt > 1) {
      // Keep the logs of the attempt before.
      fs::rename(process.stdout_path,
                 instance.report.dir / ("stdout." + std::to_string(attempt - 1) + ".log"), error);
      fs::rename(process.stderr_path,
                 instance.report.dir / ("stderr." + std::to_string(attempt - 1) + ".log"), error);
    }
    fs::remove_all(outputs_dir, error);
    fs::create_directories(outputs_dir, error);
    for (const Output& output : step.outputs) {
      if (output.type == OutputType::kFolder)
        fs::create_directories(outputs_dir / output.name, error);
    }
    auto outcome = RunProcess(process);
    if (!outcome.ok()) {
      failure = outcome.status().message();
      exit_code = -1;
    } else {
      exit_code = outcome->exit_code;
      if (outcome->stopped) {
        failure = "stopped (interrupted)";
      } else if (outcome->timed_out) {
        failure = "timed out after " + FormatDuration(*step.timeout);
      } else if (outcome->exit_code != 0) {
        failure = outcome->signal != 0 ? "killed by signal " + std::to_string(outcome->signal)
                                       : "exit code " + std::to_string(outcome->exit_code);
      } else {
        instance.output_text.clear();
        instance.output_digest.clear();
        Update([&] { instance.report.values.clear(); });
        core::Status collected = CollectOutputs(instance, outputs_dir);
        if (collected.ok()) {
          succeeded = true;
          break;
        }
        failure = collected.message();
      }
    }
    stderr_tail = Tail(process.stderr_path, 10);
    const bool stopping = process.stop_requested != nullptr && process.stop_requested->load();
    if (attempt > step.retry.limit || stopping) break;
    // Back off before the next attempt (interruptible by a stop).
    double wait_ms = static_cast<double>(step.retry.backoff.count());
    for (int index = 1; index < attempt; ++index) wait_ms *= step.retry.factor;
    const auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_ms));
    Update([&] { instance.report.reason = "attempt " + std::to_string(attempt) + ": " + failure; });
    while (Clock::now() < until &&
           !(options_.stop_requested != nullptr && options_.stop_requested->load())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (!succeeded) {
    lock.reset();
    Update([&] {
      instance.report.state = StepState::kFailed;
      instance.report.exit_code = exit_code;
      instance.report.reason = failure;
      instance.report.stderr_tail = stderr_tail;
    });
    EndChildRun(instance,
                {{"mlforge.pipeline.cache", cacheable ? "miss" : "off"},
                 {"mlforge.pipeline.attempts", std::to_string(attempt)},
                 {"mlforge.pipeline.exit_code", std::to_string(exit_code)},
                 {"mlforge.pipeline.error", Truncate(failure, 8000)}},
                false);
    return;
  }
  if (cacheable) {
    CacheEntry entry;
    entry.key = key;
    entry.step = instance.report.name;
    entry.producer_run_id = run_id;
    entry.created_ms = NowMs();
    for (const Output& output : step.outputs) {
      CachedOutput cached;
      cached.name = output.name;
      cached.type = OutputTypeName(output.type);
      cached.digest = instance.output_digest[output.name];
      if (!IsArtifact(output.type)) cached.value = instance.output_text[output.name];
      entry.outputs.push_back(std::move(cached));
    }
    core::Status committed = cache_.Commit(entry, outputs_dir);
    if (!committed.ok()) {
      spdlog::warn("step {}: outputs not cached: {}", instance.report.name, committed.message());
    }
  }
  lock.reset();
  Update([&] {
    instance.report.state = StepState::kDone;
    instance.report.exit_code = 0;
    instance.report.reason.clear();
  });
  EndChildRun(instance,
              {{"mlforge.pipeline.cache", cacheable ? "miss" : "off"},
               {"mlforge.pipeline.attempts", std::to_string(attempt)}},
              true);
}

// Why `instance` cannot run because of its dependencies, or "" when it can.
// Sets `blocked` when the cause is a failure. Call with mutex_ held.
std::string PipelineRun::UpstreamReason(const Instance& instance, bool& blocked) const {
  blocked = false;
  for (const std::string& dependency : instance.step->depends) {
    for (const auto& other : instances_) {
      if (other->step->name != dependency) continue;
      if (other->blocked || other->report.state == StepState::kFailed) {
        blocked = true;
        return "upstream '" + other->report.name + "' " +
               (other->report.state == StepState::kFailed ? "failed" : "did not run");
      }
    }
  }
  const auto& referenced = referenced_.at(instance.step->name);
  for (const std::string& dependency : instance.step->depends) {
    if (!referenced.count(dependency)) continue;
    for (const auto& other : instances_) {
      if (other->step->name == dependency && other->report.state == StepState::kSkipped) {
        return "upstream '" + other->report.name + "' was skipped";
      }
    }
  }
  return "";
}

core::Result<RunReport> PipelineRun::Execute() {
  const auto started = Clock::now();
  MLFORGE_RETURN_IF_ERROR(Prepare());
  const int parallel = std::max(1, options_.parallel);
  std::vector<std::thread> threads;
  int running = 0;
  auto progress = [&] {
    if (options_.on_progress) options_.on_progress(Snapshot());
  };
  progress();
  auto last_progress = Clock::now();
  while (true) {
    bool all_finished = true;
    bool changed = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const bool stopping = options_.stop_requested != nullptr && options_.stop_requested->load();
      for (const auto& owned : instances_) {
        Instance& instance = *owned;
        if (instance.finished()) continue;
        all_finished = false;
        if (instance.report.state != StepState::kPending) continue;
        bool ready = true;
        for (const std::string& dependency : instance.step->depends) {
          for (const auto& other : instances_) {
            if (other->step->name == dependency && !other->finished()) ready = false;
          }
        }
        if (!ready) continue;
        bool blocked = false;
        std::string reason = UpstreamReason(instance, blocked);
        if (reason.empty() && stopping) {
          reason = "stopped before it started";
          blocked = true;
        }
        if (!reason.empty()) {
          instance.report.state = StepState::kSkipped;
          instance.report.reason = reason;
          instance.blocked = blocked;
          changed = true;
          continue;
        }
        if (running >= parallel) continue;
        instance.report.state = StepState::kRunning;
        instance.report.attempt = 1;
        instance.started = Clock::now();
        ++running;
        changed = true;
        threads.emplace_back([this, &instance, &running] {
          ExecuteInstance(instance);
          {
            std::lock_guard<std::mutex> guard(mutex_);
            --running;
          }
          changed_.notify_all();
        });
      }
      if (changed) dirty_ = true;
      if (all_finished) break;
      if (!changed) {
        changed_.wait_for(lock, options_.progress_interval / 5, [&] { return dirty_; });
      }
    }
    const auto now = Clock::now();
    bool dirty = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dirty = dirty_;
    }
    if (dirty || now - last_progress >= options_.progress_interval) {
      progress();
      last_progress = now;
    }
  }
  for (std::thread& thread : threads) thread.join();

  bool failed = false;
  for (const auto& instance : instances_) {
    if (instance->report.state == StepState::kFailed || instance->blocked) failed = true;
  }
  pipeline_status_ = failed ? "Failed" : kSucceeded;
  if (pipeline_.on_exit) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      exit_instance_ = std::make_unique<Instance>();
      exit_instance_->step = &*pipeline_.on_exit;
      exit_instance_->report.name = pipeline_.on_exit->name;
      exit_instance_->report.step = pipeline_.on_exit->name;
      exit_instance_->report.dir = run_dir_ / "steps" / pipeline_.on_exit->name;
      exit_instance_->report.state = StepState::kRunning;
      exit_instance_->report.attempt = 1;
      exit_instance_->started = Clock::now();
    }
    progress();
    ExecuteInstance(*exit_instance_);
    if (exit_instance_->report.state == StepState::kFailed) failed = true;
  }
  progress();

  RunReport report;
  report.run_id = run_id_;
  report.experiment_id = experiment_id_;
  report.tracking_uri = tracking_uri_;
  report.run_dir = run_dir_;
  report.succeeded = !failed;
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  report.steps = Snapshot();

  core::Status saved = memo_.Save();
  if (!saved.ok()) spdlog::warn("digest memo not saved: {}", saved.message());
  nlohmann::json steps = nlohmann::json::array();
  for (const StepReport& step : report.steps) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, value] : step.values) values[name] = value;
    steps.push_back({{"name", step.name},
                     {"step", step.step},
                     {"item", step.item},
                     {"state", StepStateName(step.state)},
                     {"attempt", step.attempt},
                     {"seconds", step.seconds},
                     {"exit_code", step.exit_code},
                     {"reason", step.reason},
                     {"run_id", step.run_id},
                     {"producer_run_id", step.producer_run_id},
                     {"cache_key", step.cache_key},
                     {"command", step.command},
                     {"values", values}});
  }
  nlohmann::json summary = {{"pipeline", pipeline_.name},
                            {"spec", pipeline_.source.string()},
                            {"run_id", run_id_},
                            {"experiment_id", experiment_id_},
                            {"tracking_uri", tracking_uri_},
                            {"status", failed ? "Failed" : kSucceeded},
                            {"seconds", report.seconds},
                            {"steps", steps}};
  core::Status written = core::WriteFileAtomic(run_dir_ / "pipeline.json", summary.dump(2));
  if (!written.ok()) spdlog::warn("cannot write pipeline.json: {}", written.message());
  auto ended = client_->store().UpdateRun(
      run_id_, failed ? tracking::RunStatus::kFailed : tracking::RunStatus::kFinished, NowMs(),
      std::nullopt);
  if (!ended.ok()) spdlog::warn("cannot end pipeline run: {}", ended.status().message());
  return report;
}

}  // namespace

const char* StepStateName(StepState state) {
  switch (state) {
    case StepState::kPending:
      return "pending";
    case StepState::kRunning:
      return "running";
    case StepState::kCached:
      return "cached";
    case StepState::kDone:
      return "done";
    case StepState::kFailed:
      return "failed";
    case StepState::kSkipped:
      return "skipped";
  }
  return "?";
}

core::Result<RunReport> RunPipeline(const Pipeline& pipeline, const RunOptions& options) {
  if (options.cache_dir.empty()) return core::InvalidArgumentError("RunOptions.cache_dir is empty");
  if (options.run_dir.empty() && options.runs_root.empty()) {
    return core::InvalidArgumentError("RunOptions needs run_dir or runs_root");
  }
  MLFORGE_ASSIGN_OR_RETURN(
      auto client, tracking::Client::Open(options.tracking_uri, "", {}, options.artifact_root));
  PipelineRun run(pipeline, options, std::move(client));
  return run.Execute();
}

}  // namespace mlforge::pipeline
