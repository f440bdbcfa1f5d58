#include "tracking/rest/request_fields.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace mlforge::tracking::rest {
namespace {

RequestFields Body(const std::string& body) {
  core::Result<RequestFields> fields = RequestFields::FromJsonBody("application/json", body);
  EXPECT_TRUE(fields.ok()) << fields.status().ToString();
  return fields.ok() ? *fields : RequestFields(Json::object(), "");
}

TEST(MlflowRestRequestFieldsTest, ContentTypeMustBeJson) {
  EXPECT_TRUE(RequestFields::FromJsonBody("application/json; charset=utf-8", "{}").ok());
  core::Result<RequestFields> none = RequestFields::FromJsonBody(std::nullopt, "{}");
  EXPECT_EQ(none.status(), core::InvalidArgumentError(
                               "Bad Request. Content-Type must be one of [application/json]."));
  core::Result<RequestFields> text = RequestFields::FromJsonBody("text/plain", "{}");
  EXPECT_EQ(text.status().message(),
            "Bad Request. Content-Type must be one of [application/json]. Got 'text/plain'.");
  core::Result<RequestFields> hostile = RequestFields::FromJsonBody("<script>", "{}");
  EXPECT_EQ(hostile.status().message(),
            "Bad Request. Content-Type must be one of [application/json].");
}

TEST(MlflowRestRequestFieldsTest, BodyShapes) {
  EXPECT_FALSE(Body("").Has("name"));
  EXPECT_EQ(*Body(R"("{\"name\": \"x\"}")").RequiredString("name"), "x") << "double-encoded";
  for (const char* bad : {"{", "[1,2]", "nul", "{\"a\":1}}"}) {
    core::Result<RequestFields> fields = RequestFields::FromJsonBody("application/json", bad);
    EXPECT_EQ(fields.status().code(), core::StatusCode::kInvalidArgument) << bad;
  }
  std::string deep(100000, '[');
  EXPECT_FALSE(RequestFields::FromJsonBody("application/json", deep).ok());
}

TEST(MlflowRestRequestFieldsTest, MissingAndMistypedInMlflowsWords) {
  RequestFields fields = Body(R"({"name": 5, "empty": "", "nothing": null, "flag": true})");
  EXPECT_EQ(fields.RequiredString("absent").status().message(),
            "Missing value for required parameter 'absent'. See the API docs for more "
            "information about request parameters.");
  EXPECT_FALSE(fields.RequiredString("empty").ok());
  EXPECT_FALSE(fields.RequiredString("nothing").ok());
  EXPECT_EQ(fields.RequiredString("name").status().message(),
            "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. "
            "See the API docs for more information about request parameters.");
  EXPECT_NE(fields.OptionalInt64("flag").status().message().find("'bool'"), std::string::npos);
}

TEST(MlflowRestRequestFieldsTest, NumbersAsProtobufParseDictReadsThem) {
  RequestFields fields = Body(
      R"({"a": 12, "b": "13", "c": 14.0, "d": 1.5, "e": "NaN", "f": "-Infinity", "g": "0.25",
          "h": "x", "experiment_id": 3, "experiment_ids": [1, "2"]})");
  EXPECT_EQ(**fields.OptionalInt64("a"), 12);
  EXPECT_EQ(**fields.OptionalInt64("b"), 13);
  EXPECT_EQ(**fields.OptionalInt64("c"), 14);
  EXPECT_FALSE(fields.OptionalInt64("d").ok());
  EXPECT_TRUE(std::isnan(**fields.OptionalDouble("e")));
  EXPECT_EQ(**fields.OptionalDouble("f"), -INFINITY);
  EXPECT_EQ(**fields.OptionalDouble("g"), 0.25);
  EXPECT_FALSE(fields.OptionalDouble("h").ok());
  EXPECT_EQ(**fields.OptionalString("experiment_id"), "3");
  EXPECT_EQ(*fields.StringList("experiment_ids"), (std::vector<std::string>{"1", "2"}));
}

TEST(MlflowRestRequestFieldsTest, NestedPathsInMessages) {
  RequestFields fields = Body(R"({"metrics": [{"key": "a"}, {"value": 1}], "params": [3]})");
  core::Result<std::vector<RequestFields>> metrics = fields.ObjectList("metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ((*metrics)[1].RequiredString("key").status().message(),
            "Missing value for required parameter 'metrics[1].key'. See the API docs for more "
            "information about request parameters.");
  EXPECT_NE(fields.ObjectList("params").status().message().find("'params[0]'"), std::string::npos);
}

TEST(MlflowRestRequestFieldsTest, QueryRepeatedFieldsAndRunUuid) {
  RequestFields fields = RequestFields::FromQuery({{"experiment_ids", "1"},
                                                   {"experiment_ids", "2"},
                                                   {"run_uuid", "abc"},
                                                   {"x", "first"},
                                                   {"x", "second"}});
  EXPECT_EQ(*fields.StringList("experiment_ids"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(*fields.RunId(), "abc");
  EXPECT_EQ(**fields.OptionalString("x"), "first");
  EXPECT_EQ(RequestFields::FromQuery({}).RunId().status().message(),
            "Missing value for required parameter 'run_id'. See the API docs for more "
            "information about request parameters.");
}

}  // namespace
}  // namespace mlforge::tracking::rest
