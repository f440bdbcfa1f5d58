#include "data/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file.h"
#include "data/testing/temp_dir.h"

namespace mlforge::data {
namespace {

using ::testing::HasSubstr;

TEST(CsvTest, HeaderAndLabelColumnByName) {
  auto dataset = ParseCsv(
      "sepal_length, sepal_width ,species,petal\r\n"
      "5.1,3.5,0,1.4\r\n"
      "\r\n"
      "+4.9,-3.0,2,1e-1\r\n",
      "species", "iris.csv");
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->rows(), 2);
  EXPECT_EQ(dataset->feature_shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(dataset->feature_names,
            (std::vector<std::string>{"sepal_length", "sepal_width", "petal"}));
  EXPECT_EQ(dataset->features, (std::vector<float>{5.1f, 3.5f, 1.4f, 4.9f, -3.0f, 0.1f}));
  EXPECT_EQ(dataset->labels, (std::vector<int64_t>{0, 2}));
}

TEST(CsvTest, NoLabelColumnMakesEveryColumnAFeature) {
  auto dataset = ParseCsv("a,b\n1,2\n3,4", "", "plain.csv");
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->rows(), 2);
  EXPECT_TRUE(dataset->labels.empty());
  EXPECT_EQ(dataset->features, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvTest, QuotedHeaderNames) {
  auto dataset = ParseCsv("\"width, cm\",\"say \"\"hi\"\"\",y\n1,2,1\n", "y", "q.csv");
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->feature_names, (std::vector<std::string>{"width, cm", "say \"hi\""}));
}

TEST(CsvTest, WrongFieldCountNamesTheLine) {
  auto dataset = ParseCsv("a,b,y\n1,2,0\n\n3,4\n", "y", "data.csv");
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(dataset.status().message(), HasSubstr("data.csv:4"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("expected 3 fields"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("found 2"));
}

TEST(CsvTest, NonNumericNamesLineAndColumn) {
  auto dataset = ParseCsv("a,b,y\n1,2,0\n1,oops,1\n", "y", "data.csv");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(dataset.status().message(), HasSubstr("data.csv:3"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("column 2 (\"b\")"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("\"oops\" is not a number"));

  auto bad_label = ParseCsv("a,y\n1,cat\n", "y", "data.csv");
  ASSERT_FALSE(bad_label.ok());
  EXPECT_THAT(bad_label.status().message(), HasSubstr("data.csv:2"));
  EXPECT_THAT(bad_label.status().message(), HasSubstr("column 2 (\"y\")"));

  auto not_finite = ParseCsv("a\nnan\n", "", "data.csv");
  ASSERT_FALSE(not_finite.ok());
  EXPECT_THAT(not_finite.status().message(), HasSubstr("finite"));

  auto empty = ParseCsv("a,b\n1,\n", "", "data.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("column 2 (\"b\") is empty"));
}

TEST(CsvTest, MissingLabelColumnListsTheColumns) {
  auto dataset = ParseCsv("a,b\n1,2\n", "label", "data.csv");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(dataset.status().message(), HasSubstr("data.csv"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("label column \"label\""));
  EXPECT_THAT(dataset.status().message(), HasSubstr("a, b"));
}

TEST(CsvTest, EmptyInputAndOnlyLabelColumnAreErrors) {
  EXPECT_THAT(ParseCsv("\n\n", "", "empty.csv").status().message(), HasSubstr("no header"));
  EXPECT_THAT(ParseCsv("y\n1\n", "y", "y.csv").status().message(), HasSubstr("no feature column"));
  EXPECT_THAT(ParseCsv("a,a\n1,2\n", "", "dup.csv").status().message(), HasSubstr("duplicate"));
}

TEST(CsvTest, ReadCsvNamesTheFile) {
  testing::ScopedTempDir dir;
  const auto path = dir.path() / "table.csv";
  ASSERT_TRUE(core::WriteFileAtomic(path, "x,y\n1.5,1\nbad,0\n").ok());
  auto dataset = ReadCsv(path, "y");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(dataset.status().message(), HasSubstr(path.string() + ":3"));
  EXPECT_EQ(ReadCsv(dir.path() / "missing.csv", "y").status().code(), core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlforge::data

namespace mlforge::data {
namespace {

TEST(CsvTest, ValueLabelsBecomeRegressionTargets) {
  auto dataset = ParseCsv("x,price\n1,2.5\n2,-0.25\n", "price", "prices.csv", LabelKind::kValue);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->targets, (std::vector<float>{2.5f, -0.25f}));
  EXPECT_TRUE(dataset->labels.empty());
  EXPECT_EQ(dataset->rows(), 2);
  EXPECT_EQ(dataset->features, (std::vector<float>{1.0f, 2.0f}));
  // The same file read for classification rejects the fractional label.
  EXPECT_FALSE(ParseCsv("x,price\n1,2.5\n", "price", "prices.csv").ok());
  auto bad = ParseCsv("x,price\n1,cheap\n", "price", "prices.csv", LabelKind::kValue);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("prices.csv:2"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::data
