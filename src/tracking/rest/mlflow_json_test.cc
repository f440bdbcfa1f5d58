#include "tracking/rest/mlflow_json.h"

#include <gtest/gtest.h>

#include <limits>

namespace mlforge::tracking::rest {
namespace {

TEST(MlflowRestJsonTest, ExperimentHasSnakeCaseFieldsAndNumericTimes) {
  Experiment experiment{"7",           "exp",         "mlflow-artifacts:/7", "active",
                        1700000000000, 1700000000001, {{"team", "ml"}}};
  Json json = ExperimentToJson(experiment);
  EXPECT_EQ(json, Json::parse(R"({"experiment_id": "7", "name": "exp",
      "artifact_location": "mlflow-artifacts:/7", "lifecycle_stage": "active",
      "creation_time": 1700000000000, "last_update_time": 1700000000001,
      "tags": [{"key": "team", "value": "ml"}]})"));
  EXPECT_TRUE(json["creation_time"].is_number_integer());

  experiment.tags.clear();
  EXPECT_FALSE(ExperimentToJson(experiment).contains("tags"))
      << "empty repeated fields are omitted";
}

TEST(MlflowRestJsonTest, RunInfoCarriesRunIdTwiceAndEndTimeOnlyWhenSet) {
  RunInfo info;
  info.run_id = "abc";
  info.run_uuid = "abc";
  info.experiment_id = "1";
  info.run_name = "first";
  info.user_id = "alice";
  info.status = RunStatus::kFinished;
  info.start_time = 5;
  info.artifact_uri = "mlflow-artifacts:/1/abc/artifacts";
  info.lifecycle_stage = "active";
  Json json = RunInfoToJson(info);
  EXPECT_EQ(json["run_id"], "abc");
  EXPECT_EQ(json["run_uuid"], "abc");
  EXPECT_EQ(json["status"], "FINISHED");
  EXPECT_EQ(json["start_time"], 5);
  EXPECT_FALSE(json.contains("end_time"));
  info.end_time = 9;
  EXPECT_EQ(RunInfoToJson(info)["end_time"], 9);
}

TEST(MlflowRestJsonTest, NonFiniteMetricValuesAreStringsAsProtobufJsonWritesThem) {
  EXPECT_EQ(DoubleToJson(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(DoubleToJson(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(DoubleToJson(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(DoubleToJson(0.5), 0.5);
  Json metric = MetricToJson({"loss", std::numeric_limits<double>::quiet_NaN(), 10, 2});
  EXPECT_EQ(DumpJson(metric), R"({"key":"loss","step":2,"timestamp":10,"value":"NaN"})");
}

TEST(MlflowRestJsonTest, RunAlwaysHasDataAndInputs) {
  tracking::Run run;
  run.info.run_id = "r";
  Json json = RunToJson(run);
  EXPECT_EQ(json["data"], Json::object());
  EXPECT_EQ(json["inputs"], Json::object());

  run.data.params.push_back({"lr", "0.01"});
  run.data.tags.push_back({"mlflow.runName", "first"});
  run.data.metrics.push_back({"acc", 0.9, 1, 0});
  DatasetInput input;
  input.tags.push_back({"mlflow.data.context", "training"});
  input.dataset = {"mnist", "d1", "local", "{\"uri\":\"/data\"}", "", ""};
  run.inputs.dataset_inputs.push_back(input);
  json = RunToJson(run);
  EXPECT_EQ(json["data"]["params"][0], Json::parse(R"({"key":"lr","value":"0.01"})"));
  EXPECT_EQ(json["data"]["tags"][0]["value"], "first");
  EXPECT_EQ(json["data"]["metrics"][0]["value"], 0.9);
  const Json& dataset_input = json["inputs"]["dataset_inputs"][0];
  EXPECT_EQ(dataset_input["tags"][0]["key"], "mlflow.data.context");
  EXPECT_EQ(dataset_input["dataset"]["name"], "mnist");
  EXPECT_FALSE(dataset_input["dataset"].contains("schema")) << "unset optional fields are omitted";
}

TEST(MlflowRestJsonTest, StatusCodesMapToMlflowCodesAndStatuses) {
  struct Case {
    core::Status status;
    const char* code;
    int http;
  };
  const Case cases[] = {
      {core::InvalidArgumentError("x"), "INVALID_PARAMETER_VALUE", 400},
      {core::NotFoundError("x"), "RESOURCE_DOES_NOT_EXIST", 404},
      {core::AlreadyExistsError("x"), "RESOURCE_ALREADY_EXISTS", 400},
      {core::PermissionDeniedError("x"), "PERMISSION_DENIED", 403},
      {core::UnauthenticatedError("x"), "UNAUTHENTICATED", 401},
      {core::UnavailableError("x"), "TEMPORARILY_UNAVAILABLE", 503},
      {core::ResourceExhaustedError("x"), "REQUEST_LIMIT_EXCEEDED", 429},
      {core::FailedPreconditionError("x"), "INVALID_STATE", 500},
      {core::UnimplementedError("x"), "NOT_IMPLEMENTED", 501},
      {core::DeadlineExceededError("x"), "DEADLINE_EXCEEDED", 504},
      {core::InternalError("x"), "INTERNAL_ERROR", 500},
  };
  for (const Case& test_case : cases) {
    net::HttpResponse response = MlflowErrorResponse(test_case.status);
    EXPECT_EQ(response.status, test_case.http) << test_case.code;
    EXPECT_EQ(response.content_type, "application/json");
    Json body = Json::parse(response.body);
    EXPECT_EQ(body.size(), 2u);
    EXPECT_EQ(body["error_code"], test_case.code);
    EXPECT_EQ(body["message"], "x");
  }
  net::HttpResponse not_found = MlflowErrorResponse(MlflowErrorCode::kEndpointNotFound, "nope");
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(Json::parse(not_found.body)["error_code"], "ENDPOINT_NOT_FOUND");
}

TEST(MlflowRestJsonTest, ResponsesNeverThrowOnBadUtf8) {
  net::HttpResponse response =
      MlflowErrorResponse(core::NotFoundError("Run with id=\xff\xfe not found"));
  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(Json::accept(response.body));
  EXPECT_EQ(MlflowJsonResponse(Json::object()).body, "{}");
}

}  // namespace
}  // namespace mlforge::tracking::rest
