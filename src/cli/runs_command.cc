// mlforge experiments list
// mlforge runs list [--experiment NAME] [--filter F] [--order-by K]... [--max N]
// mlforge runs show RUN_ID
// mlforge runs compare RUN_ID RUN_ID...
// mlforge runs create [--experiment NAME] [--run-name N] [--tag K=V]...  (prints the run id)
// mlforge runs end RUN_ID [--status FINISHED|FAILED|KILLED]
// All take --tracking-uri (default: $MLFLOW_TRACKING_URI, else the local store).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/ids.h"
#include "tracking/client.h"

namespace mlforge::cli {
namespace {

std::unique_ptr<tracking::Client> OpenClient(const std::string& uri) {
  auto client =
      tracking::Client::Open(uri, DefaultTrackingUri(), {}, (Home() / "artifacts").string());
  if (!client.ok()) throw CLI::RuntimeError(Fail(client.status().message()));
  return std::move(client).value();
}

template <typename T>
T Check(core::Result<T> result) {
  if (!result.ok()) throw CLI::RuntimeError(Fail(result.status().message()));
  return std::move(result).value();
}

std::string Number(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

std::optional<double> LatestMetric(const tracking::Run& run, const std::string& key) {
  for (const auto& metric : run.data.metrics) {
    if (metric.key == key) return metric.value;
  }
  return std::nullopt;
}

}  // namespace

void AddRunsCommands(CLI::App& app) {
  auto uri = std::make_shared<std::string>();

  CLI::App* experiments = app.add_subcommand("experiments", "Tracked experiments");
  experiments->require_subcommand(1);
  CLI::App* experiments_list = experiments->add_subcommand("list", "List active experiments");
  experiments_list->add_option("--tracking-uri", *uri, "Tracking server or store");
  experiments_list->callback([uri] {
    auto client = OpenClient(*uri);
    std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "CREATED", "ARTIFACTS"}};
    std::string token;
    do {
      auto page = Check(
          client->store().SearchExperiments(tracking::ViewType::kActiveOnly, 1000, "", {}, token));
      for (const auto& experiment : page.experiments) {
        rows.push_back({experiment.experiment_id, experiment.name,
                        FormatTime(experiment.creation_time), experiment.artifact_location});
      }
      token = page.next_page_token;
    } while (!token.empty());
    PrintTable(rows);
  });

  CLI::App* runs = app.add_subcommand("runs", "Tracked runs");
  runs->require_subcommand(1);

  struct ListFlags {
    std::string experiment = "Default";
    std::string filter;
    std::vector<std::string> order_by;
    int max = 50;
    bool all_experiments = false;
  };
  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list = runs->add_subcommand("list", "List runs, newest first");
  list->add_option("--tracking-uri", *uri, "Tracking server or store");
  list->add_option("--experiment,-e", list_flags->experiment, "Experiment name (default: Default)");
  list->add_flag("--all", list_flags->all_experiments, "Runs of every experiment");
  list->add_option(
      "--filter,-f", list_flags->filter,
      "MLflow filter, e.g. \"metrics.val_accuracy > 0.98 and params.optimizer.name = 'sgd'\"");
  list->add_option("--order-by", list_flags->order_by, "e.g. \"metrics.val_accuracy DESC\"");
  list->add_option("--max", list_flags->max, "At most this many runs (default 50)");
  list->callback([uri, list_flags] {
    auto client = OpenClient(*uri);
    std::vector<std::string> experiment_ids;
    if (list_flags->all_experiments) {
      auto page = Check(
          client->store().SearchExperiments(tracking::ViewType::kActiveOnly, 50000, "", {}, ""));
      for (const auto& experiment : page.experiments)
        experiment_ids.push_back(experiment.experiment_id);
    } else {
      experiment_ids.push_back(
          Check(client->store().GetExperimentByName(list_flags->experiment)).experiment_id);
    }
    auto page = Check(client->store().SearchRuns(experiment_ids, list_flags->filter,
                                                 tracking::ViewType::kActiveOnly, list_flags->max,
                                                 list_flags->order_by, ""));
    std::vector<std::vector<std::string>> rows = {
        {"RUN ID", "NAME", "STATUS", "STARTED", "VAL_ACCURACY", "VAL_LOSS"}};
    for (const auto& run : page.runs) {
      auto accuracy = LatestMetric(run, "val_accuracy");
      auto loss = LatestMetric(run, "val_loss");
      rows.push_back({run.info.run_id, run.info.run_name,
                      std::string(tracking::RunStatusName(run.info.status)),
                      FormatTime(run.info.start_time), accuracy ? Number(*accuracy) : "-",
                      loss ? Number(*loss) : "-"});
    }
    PrintTable(rows);
  });

  auto run_id = std::make_shared<std::string>();
  CLI::App* show = runs->add_subcommand("show", "Show one run: info, params, metrics, tags");
  show->add_option("run_id", *run_id, "Run id")->required();
  show->add_option("--tracking-uri", *uri, "Tracking server or store");
  show->callback([uri, run_id] {
    auto client = OpenClient(*uri);
    auto run = Check(client->store().GetRun(*run_id));
    const auto& info = run.info;
    std::printf(
        "run        %s (%s)\nexperiment %s\nstatus     %s\nstarted    %s\nended      %s\n"
        "user       %s\nartifacts  %s\n",
        info.run_id.c_str(), info.run_name.c_str(), info.experiment_id.c_str(),
        std::string(tracking::RunStatusName(info.status)).c_str(),
        FormatTime(info.start_time).c_str(), FormatTime(info.end_time.value_or(0)).c_str(),
        info.user_id.c_str(), info.artifact_uri.c_str());
    auto section = [](const char* title, std::vector<std::vector<std::string>> rows) {
      if (rows.empty()) return;
      std::sort(rows.begin(), rows.end());
      std::printf("\n%s\n", title);
      for (auto& row : rows) row.insert(row.begin(), " ");
      PrintTable(rows);
    };
    std::vector<std::vector<std::string>> params, metrics, tags, inputs;
    for (const auto& param : run.data.params) params.push_back({param.key, param.value});
    for (const auto& metric : run.data.metrics) {
      metrics.push_back({metric.key, Number(metric.value), "step " + std::to_string(metric.step)});
    }
    for (const auto& tag : run.data.tags) tags.push_back({tag.key, tag.value});
    for (const auto& input : run.inputs.dataset_inputs) {
      inputs.push_back(
          {input.dataset.name, "digest " + input.dataset.digest, input.dataset.source});
    }
    section("params", params);
    section("metrics (latest)", metrics);
    section("tags", tags);
    section("inputs", inputs);
  });

  auto run_ids = std::make_shared<std::vector<std::string>>();
  CLI::App* compare = runs->add_subcommand("compare", "Params and metrics of runs side by side");
  compare->add_option("run_ids", *run_ids, "Two or more run ids")->required()->expected(2, -1);
  compare->add_option("--tracking-uri", *uri, "Tracking server or store");
  compare->callback([uri, run_ids] {
    auto client = OpenClient(*uri);
    std::vector<tracking::Run> compared;
    for (const auto& id : *run_ids) compared.push_back(Check(client->store().GetRun(id)));
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header = {"", ""};
    for (const auto& run : compared) header.push_back(run.info.run_id.substr(0, 8));
    rows.push_back(header);
    // Params that differ first (marked *), then the rest; then every metric.
    std::set<std::string> param_keys, metric_keys;
    for (const auto& run : compared) {
      for (const auto& param : run.data.params) param_keys.insert(param.key);
      for (const auto& metric : run.data.metrics) metric_keys.insert(metric.key);
    }
    auto param_value = [](const tracking::Run& run, const std::string& key) {
      for (const auto& param : run.data.params) {
        if (param.key == key) return param.value;
      }
      return std::string("-");
    };
    std::vector<std::vector<std::string>> same, different;
    for (const auto& key : param_keys) {
      std::vector<std::string> row = {"param", key};
      std::set<std::string> values;
      for (const auto& run : compared) {
        row.push_back(param_value(run, key));
        values.insert(row.back());
      }
      if (values.size() > 1) {
        row[0] = "param*";
        different.push_back(row);
      } else {
        same.push_back(row);
      }
    }
    rows.insert(rows.end(), different.begin(), different.end());
    rows.insert(rows.end(), same.begin(), same.end());
    for (const auto& key : metric_keys) {
      std::vector<std::string> row = {"metric", key};
      for (const auto& run : compared) {
        auto value = LatestMetric(run, key);
        row.push_back(value ? Number(*value) : "-");
      }
      rows.push_back(row);
    }
    PrintTable(rows);
    std::printf("(* = differs between the runs)\n");
  });

  // A run opened for a process that logs into it through MLFLOW_RUN_ID (an
  // exported pipeline step, a script); `runs end` closes it.
  struct CreateFlags {
    std::string experiment = "Default";
    std::string run_name;
    std::vector<std::string> tags;
  };
  auto create_flags = std::make_shared<CreateFlags>();
  CLI::App* create = runs->add_subcommand(
      "create", "Start a run and print its id, for MLFLOW_RUN_ID (close it with runs end)");
  create->add_option("--experiment", create_flags->experiment,
                     "Experiment name, created if missing (default: Default)");
  create->add_option("--run-name", create_flags->run_name, "Run name (default: generated)");
  create->add_option("--tag", create_flags->tags, "A tag KEY=VALUE (repeatable)");
  create->add_option("--tracking-uri", *uri, "Tracking server or store");
  create->callback([uri, create_flags] {
    std::vector<tracking::RunTag> tags = {{"mlflow.user", core::CurrentUser()}};
    for (const std::string& tag : create_flags->tags) {
      const size_t equals = tag.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw CLI::RuntimeError(Fail("--tag wants KEY=VALUE, got '" + tag + "'"));
      }
      tags.push_back({tag.substr(0, equals), tag.substr(equals + 1)});
    }
    auto client = OpenClient(*uri);
    const std::string experiment_id =
        Check(client->GetOrCreateExperiment(create_flags->experiment));
    tracking::Run run = Check(client->store().CreateRun(
        experiment_id, core::CurrentUser(), core::NowMillis(), tags,
        create_flags->run_name.empty() ? std::nullopt
                                       : std::optional<std::string>(create_flags->run_name)));
    std::printf("%s\n", run.info.run_id.c_str());
  });

  auto end_run_id = std::make_shared<std::string>();
  auto end_status = std::make_shared<std::string>("FINISHED");
  CLI::App* end = runs->add_subcommand("end", "Set a run's final status and end time");
  end->add_option("run_id", *end_run_id, "Run id")->required();
  end->add_option("--status", *end_status, "FINISHED (default), FAILED or KILLED");
  end->add_option("--tracking-uri", *uri, "Tracking server or store");
  end->callback([uri, end_run_id, end_status] {
    tracking::RunStatus status = Check(tracking::ParseRunStatus(*end_status));
    if (status != tracking::RunStatus::kFinished && status != tracking::RunStatus::kFailed &&
        status != tracking::RunStatus::kKilled) {
      throw CLI::RuntimeError(
          Fail("--status must be FINISHED, FAILED or KILLED, got " + *end_status));
    }
    auto client = OpenClient(*uri);
    Check(client->store().UpdateRun(*end_run_id, status, core::NowMillis(), std::nullopt));
  });
}

}  // namespace mlforge::cli
