#pragma once

// A Store that forwards every call to a real one, for tests that inject
// faults into a few methods by overriding them (LevelDB's EnvWrapper).

#include <memory>

#include "tracking/store.h"

namespace mlforge::tracking::testing {

class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(std::unique_ptr<Store> target) : target_(std::move(target)) {}
  Store& target() { return *target_; }

  core::Result<std::string> CreateExperiment(std::string_view name, std::string_view location,
                                             const std::vector<ExperimentTag>& tags) override {
    return target_->CreateExperiment(name, location, tags);
  }
  core::Result<Experiment> GetExperiment(std::string_view id) override {
    return target_->GetExperiment(id);
  }
  core::Result<Experiment> GetExperimentByName(std::string_view name) override {
    return target_->GetExperimentByName(name);
  }
  core::Result<ExperimentPage> SearchExperiments(ViewType view, int max_results,
                                                 std::string_view filter,
                                                 const std::vector<std::string>& order_by,
                                                 std::string_view page_token) override {
    return target_->SearchExperiments(view, max_results, filter, order_by, page_token);
  }
  core::Status UpdateExperiment(std::string_view id, std::string_view name) override {
    return target_->UpdateExperiment(id, name);
  }
  core::Status DeleteExperiment(std::string_view id) override {
    return target_->DeleteExperiment(id);
  }
  core::Status RestoreExperiment(std::string_view id) override {
    return target_->RestoreExperiment(id);
  }
  core::Status SetExperimentTag(std::string_view id, const ExperimentTag& tag) override {
    return target_->SetExperimentTag(id, tag);
  }
  core::Status DeleteExperimentTag(std::string_view id, std::string_view key) override {
    return target_->DeleteExperimentTag(id, key);
  }
  core::Result<Run> CreateRun(std::string_view experiment_id, std::string_view user_id,
                              int64_t start_time, const std::vector<RunTag>& tags,
                              std::optional<std::string> run_name) override {
    return target_->CreateRun(experiment_id, user_id, start_time, tags, std::move(run_name));
  }
  core::Result<Run> GetRun(std::string_view id) override { return target_->GetRun(id); }
  core::Result<RunInfo> UpdateRun(std::string_view id, std::optional<RunStatus> status,
                                  std::optional<int64_t> end_time,
                                  std::optional<std::string> run_name) override {
    return target_->UpdateRun(id, status, end_time, std::move(run_name));
  }
  core::Status DeleteRun(std::string_view id) override { return target_->DeleteRun(id); }
  core::Status RestoreRun(std::string_view id) override { return target_->RestoreRun(id); }
  core::Status LogMetric(std::string_view id, const Metric& metric) override {
    return target_->LogMetric(id, metric);
  }
  core::Status LogParam(std::string_view id, const Param& param) override {
    return target_->LogParam(id, param);
  }
  core::Status SetTag(std::string_view id, const RunTag& tag) override {
    return target_->SetTag(id, tag);
  }
  core::Status DeleteTag(std::string_view id, std::string_view key) override {
    return target_->DeleteTag(id, key);
  }
  core::Status LogBatch(std::string_view id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params,
                        const std::vector<RunTag>& tags) override {
    return target_->LogBatch(id, metrics, params, tags);
  }
  core::Status LogInputs(std::string_view id, const std::vector<DatasetInput>& inputs) override {
    return target_->LogInputs(id, inputs);
  }
  core::Result<MetricPage> GetMetricHistory(std::string_view id, std::string_view key,
                                            std::optional<int> max_results,
                                            std::string_view page_token) override {
    return target_->GetMetricHistory(id, key, max_results, page_token);
  }
  core::Result<RunPage> SearchRuns(const std::vector<std::string>& experiment_ids,
                                   std::string_view filter, ViewType view, int max_results,
                                   const std::vector<std::string>& order_by,
                                   std::string_view page_token) override {
    return target_->SearchRuns(experiment_ids, filter, view, max_results, order_by, page_token);
  }
  core::Result<LoggedModel> CreateLoggedModel(std::string_view experiment_id, std::string_view name,
                                              std::string_view model_type,
                                              std::string_view source_run_id,
                                              const std::vector<LoggedModelParam>& params,
                                              const std::vector<LoggedModelTag>& tags) override {
    return target_->CreateLoggedModel(experiment_id, name, model_type, source_run_id, params, tags);
  }
  core::Result<LoggedModel> GetLoggedModel(std::string_view model_id) override {
    return target_->GetLoggedModel(model_id);
  }
  core::Result<LoggedModel> FinalizeLoggedModel(std::string_view model_id,
                                                LoggedModelStatus status) override {
    return target_->FinalizeLoggedModel(model_id, status);
  }
  core::Status DeleteLoggedModel(std::string_view model_id) override {
    return target_->DeleteLoggedModel(model_id);
  }
  core::Status SetLoggedModelTags(std::string_view model_id,
                                  const std::vector<LoggedModelTag>& tags) override {
    return target_->SetLoggedModelTags(model_id, tags);
  }
  core::Status DeleteLoggedModelTag(std::string_view model_id, std::string_view key) override {
    return target_->DeleteLoggedModelTag(model_id, key);
  }
  core::Status LogLoggedModelParams(std::string_view model_id,
                                    const std::vector<LoggedModelParam>& params) override {
    return target_->LogLoggedModelParams(model_id, params);
  }
  core::Result<LoggedModelPage> SearchLoggedModels(
      const std::vector<std::string>& experiment_ids, std::string_view filter,
      const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
      const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) override {
    return target_->SearchLoggedModels(experiment_ids, filter, datasets, max_results, order_by,
                                       page_token);
  }
  core::Status LogOutputs(std::string_view run_id,
                          const std::vector<LoggedModelOutput>& models) override {
    return target_->LogOutputs(run_id, models);
  }

 private:
  std::unique_ptr<Store> target_;
};

}  // namespace mlforge::tracking::testing
