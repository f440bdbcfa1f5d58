#include "serving/rows.h"

#include <gtest/gtest.h>

#include "serving/testing/test_models.h"

namespace mlforge::serving {
namespace {

TEST(RowsTest, SplitMatchesColumnsByName) {
  const auto signature_model = testing::TabularRegressor();
  const ModelSignature& signature = signature_model->signature();
  Json columns = {"x2", "x0", "x1"};
  auto rows = RowsFromSplit(&columns, Json::parse("[[3, 1, 2], [6, 4, 5]]"), signature);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

// The text fast path gives exactly the general path's rows, or declines.
TEST(RowsTest, FastDataframeSplitAgreesWithTheGeneralPathOrDeclines) {
  const auto tabular = testing::TabularRegressor();
  const auto tensor = testing::TensorClassifier();
  auto general = [](const std::string& body, const ModelSignature& signature) {
    Json document = Json::parse(body)["dataframe_split"];
    return RowsFromSplit(document.contains("columns") ? &document["columns"] : nullptr,
                         document["data"], signature);
  };
  for (
      const std::string body :
      {R"({"dataframe_split": {"columns": ["x2", "x0", "x1"], "data": [[3, 1, 2], [6.5, -4e-1, 0.1]]}})",
       R"( { "dataframe_split" : { "data" : [ [1,2,3] ] , "index": [0], "columns":["x0","x1","x2"] } } )",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[0.30000001192092896, 1e-45, 3.4e38]]}})"}) {
    auto fast = FastRowsFromDataframeSplit(body, tabular->signature());
    ASSERT_TRUE(fast.has_value()) << body;
    auto slow = general(body, tabular->signature());
    ASSERT_TRUE(slow.ok()) << slow.status().message();
    EXPECT_EQ(fast->rows, slow->rows);
    EXPECT_EQ(fast->values, slow->values) << body;
  }
  const std::string tensor_body =
      R"({"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4], [0, 0, 0, 1]]}})";
  auto fast = FastRowsFromDataframeSplit(tensor_body, tensor->signature());
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->values, (*general(tensor_body, tensor->signature())).values);
  // Declined: the general path decides (and words any error).
  for (
      const std::string body :
      {R"({"dataframe_split": {"columns": ["x0", "x1"], "data": [[1, 2]]}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x9"], "data": [[1, 2, 3]]}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[1, 2, true]]}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[1, 2, 03]]}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[1, 2, NaN]]}})",
       R"({"dataframe_split": {"columns": ["x\u0030", "x1", "x2"], "data": [[1, 2, 3]]}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[1, 2, 3]]}, "params": {}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": []}})",
       R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [[1, 2, 3.]]}})",
       R"({"instances": [[1, 2, 3]]})", R"({"dataframe_split": {"columns": ["x0")"}) {
    EXPECT_FALSE(FastRowsFromDataframeSplit(body, tabular->signature()).has_value()) << body;
  }
}

// The short-decimal shortcut of the fast path must round exactly as the
// general parser does, for the numbers clients send most (pixel values,
// short and long decimals, negatives) and for the long ones it hands on.
TEST(RowsTest, FastDataframeSplitNumbersRoundLikeTheGeneralPath) {
  const auto tabular = testing::TabularRegressor();
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  std::string data;
  for (int row = 0; row < 2000; ++row) {
    if (row > 0) data += ',';
    data += '[';
    for (int column = 0; column < 3; ++column) {
      if (column > 0) data += ',';
      std::string number;
      if (next() % 4 == 0) number += '-';
      number += std::to_string(next() % 1000);
      const int fraction = static_cast<int>(next() % 19);  // 0..18 fraction digits
      if (fraction > 0) {
        number += '.';
        for (int digit = 0; digit < fraction; ++digit) number += static_cast<char>('0' + next() % 10);
      }
      data += number;
    }
    data += ']';
  }
  const std::string body =
      R"({"dataframe_split": {"columns": ["x0", "x1", "x2"], "data": [)" + data + "]}}";
  auto fast = FastRowsFromDataframeSplit(body, tabular->signature());
  ASSERT_TRUE(fast.has_value());
  Json document = Json::parse(body)["dataframe_split"];
  auto slow = RowsFromSplit(&document["columns"], document["data"], tabular->signature());
  ASSERT_TRUE(slow.ok()) << slow.status().message();
  ASSERT_EQ(fast->values.size(), slow->values.size());
  for (size_t index = 0; index < fast->values.size(); ++index) {
    ASSERT_EQ(fast->values[index], slow->values[index]) << "value " << index;
  }
}

TEST(RowsTest, MissingAndExtraColumnsAreNamed) {
  const auto signature_model = testing::TabularRegressor();
  const ModelSignature& signature = signature_model->signature();
  Json missing = {"x0", "x1"};
  auto result = RowsFromSplit(&missing, Json::parse("[[1, 2]]"), signature);
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("missing column(s) [x2]"), std::string::npos)
      << result.status().message();
  Json extra = {"x0", "x1", "x2", "label"};
  result = RowsFromSplit(&extra, Json::parse("[[1, 2, 3, 4]]"), signature);
  EXPECT_NE(result.status().message().find("unknown column(s) [label]"), std::string::npos)
      << result.status().message();
  result = RowsFromJson(Json::parse(R"([{"x0": 1, "x1": 2}])"), signature);
  EXPECT_NE(result.status().message().find("row 0: missing column(s) [x2]"), std::string::npos)
      << result.status().message();
}

TEST(RowsTest, TensorRowsAreFlattenedAndCounted) {
  const auto signature_model = testing::TensorClassifier();
  const ModelSignature& signature = signature_model->signature();
  auto rows = RowsFromJson(Json::parse("[[[1, 2], [3, 4]], [5, 6, 7, 8]]"), signature);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows, 2);
  EXPECT_EQ(rows->values[7], 8);
  auto short_row = RowsFromJson(Json::parse("[[1, 2, 3]]"), signature);
  EXPECT_NE(short_row.status().message().find("row 0 has 3 values; the model expects 4"),
            std::string::npos)
      << short_row.status().message();
  auto text = RowsFromJson(Json::parse(R"([[1, "a", 3, 4]])"), signature);
  EXPECT_EQ(text.status().code(), core::StatusCode::kInvalidArgument);
}

TEST(RowsTest, ColumnarAndCsv) {
  const auto signature_model = testing::TabularRegressor();
  const ModelSignature& signature = signature_model->signature();
  auto rows =
      RowsFromColumnar(Json::parse(R"({"x1": [2, 5], "x0": [1, 4], "x2": [3, 6]})"), signature);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto csv = RowsFromCsv("x1,x2,x0\r\n2,3,1\n5,6,4\n", signature);
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  EXPECT_EQ(csv->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto bad = RowsFromCsv("x0,x1,x2\n1,two,3\n", signature);
  EXPECT_NE(bad.status().message().find("'two' is not a number"), std::string::npos);
}

TEST(RowsTest, PredictionsFollowMlforgePredict) {
  const auto classifier_model = testing::TensorClassifier();
  const ModelSignature& classifier = classifier_model->signature();
  Matrix scores(2, 3);
  scores.values = {0.1F, 0.9F, 0.2F, 3, 1, 2};
  EXPECT_EQ(Predictions(classifier, scores), Json::parse("[1, 0]"));
  const auto regressor_model = testing::TabularRegressor();
  const ModelSignature& regressor = regressor_model->signature();
  Matrix values(2, 1);
  values.values = {1.5F, 2.5F};
  EXPECT_EQ(Predictions(regressor, values), Json::parse("[1.5, 2.5]"));
}

}  // namespace
}  // namespace mlforge::serving
