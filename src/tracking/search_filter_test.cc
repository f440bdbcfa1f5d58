#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace mlforge::tracking {
namespace {

std::string EntityName(FilterEntity entity) {
  switch (entity) {
    case FilterEntity::kMetric:
      return "metric";
    case FilterEntity::kParam:
      return "param";
    case FilterEntity::kTag:
      return "tag";
    case FilterEntity::kAttribute:
      return "attribute";
    case FilterEntity::kDataset:
      return "dataset";
  }
  return "?";
}

std::string Render(const RunFilter& filter) {
  std::ostringstream out;
  for (size_t index = 0; index < filter.comparisons.size(); ++index) {
    const Comparison& comparison = filter.comparisons[index];
    if (index > 0) out << " ; ";
    out << EntityName(comparison.entity) << ":" << comparison.key << " "
        << ComparatorName(comparison.comparator);
    if (const auto* number = std::get_if<double>(&comparison.value)) {
      out << " " << *number;
    } else if (const auto* integer = std::get_if<int64_t>(&comparison.value)) {
      out << " " << *integer;
    } else if (const auto* text = std::get_if<std::string>(&comparison.value)) {
      out << " '" << *text << "'";
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&comparison.value)) {
      out << " (";
      for (size_t item = 0; item < list->size(); ++item) {
        out << (item > 0 ? "," : "") << "'" << (*list)[item] << "'";
      }
      out << ")";
    }
  }
  return out.str();
}

std::string Render(const OrderBy& order_by) {
  return EntityName(order_by.entity) + ":" + order_by.key + (order_by.ascending ? " ASC" : " DESC");
}

struct Case {
  std::string section;
  std::string input;
  std::string expected;
  int line = 0;
};

std::vector<Case> LoadCases() {
  std::ifstream file("src/tracking/testdata/run_filters.txt");
  EXPECT_TRUE(file.good()) << "run the test from the source root";
  std::vector<Case> cases;
  std::string section = "run";
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    size_t separator = line.rfind(" || ");
    EXPECT_NE(separator, std::string::npos) << "line " << number << " has no ' || '";
    if (separator == std::string::npos) continue;
    cases.push_back({section, line.substr(0, separator), line.substr(separator + 4), number});
  }
  return cases;
}

TEST(SearchFilterTest, CasesFromTestdata) {
  std::vector<Case> cases = LoadCases();
  ASSERT_GT(cases.size(), 100u);
  for (const Case& test_case : cases) {
    SCOPED_TRACE("run_filters.txt:" + std::to_string(test_case.line) + " [" + test_case.section +
                 "] " + test_case.input);
    core::Status status;
    std::string rendered;
    if (test_case.section == "run" || test_case.section == "experiment") {
      core::Result<RunFilter> parsed = test_case.section == "run"
                                           ? ParseRunFilter(test_case.input)
                                           : ParseExperimentFilter(test_case.input);
      status = parsed.status();
      if (parsed.ok()) rendered = Render(*parsed);
    } else if (test_case.section == "order_by" || test_case.section == "experiment_order_by") {
      core::Result<OrderBy> parsed = test_case.section == "order_by"
                                         ? ParseRunOrderBy(test_case.input)
                                         : ParseExperimentOrderBy(test_case.input);
      status = parsed.status();
      if (parsed.ok()) rendered = Render(*parsed);
    } else {
      ADD_FAILURE() << "unknown section " << test_case.section;
      continue;
    }
    if (test_case.expected.starts_with("ERROR ")) {
      std::string fragment = test_case.expected.substr(6);
      ASSERT_FALSE(status.ok()) << "expected an error, parsed as: " << rendered;
      EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
      EXPECT_NE(status.message().find(fragment), std::string::npos)
          << "message: " << status.message();
    } else {
      ASSERT_TRUE(status.ok()) << status.ToString();
      EXPECT_EQ(rendered, test_case.expected);
    }
  }
}

TEST(SearchFilterTest, EmptyFilterHasNoComparisons) {
  for (std::string_view blank : {"", " ", "\t\n  "}) {
    core::Result<RunFilter> parsed = ParseRunFilter(blank);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(parsed->comparisons.empty());
    ASSERT_TRUE(ParseExperimentFilter(blank).ok());
  }
}

TEST(SearchFilterTest, ErrorsNameThePosition) {
  core::Result<RunFilter> parsed = ParseRunFilter("metrics.acc > 0.9 OR params.lr = '1'");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("'OR'"), std::string::npos);
  EXPECT_NE(parsed.status().message().find("position 18"), std::string::npos)
      << parsed.status().message();
}

TEST(SearchFilterTest, ComparisonsRecordWhereTheyStart) {
  core::Result<RunFilter> parsed = ParseRunFilter("metrics.a > 1 and  params.b = 'x'");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->comparisons.size(), 2u);
  EXPECT_EQ(parsed->comparisons[0].position, 0u);
  EXPECT_EQ(parsed->comparisons[1].position, 19u);
}

TEST(SearchFilterTest, FuzzEntryPointSurvivesMutatedAndRandomInput) {
  std::vector<std::string> seeds;
  for (const Case& test_case : LoadCases()) seeds.push_back(test_case.input);
  ASSERT_FALSE(seeds.empty());
  std::mt19937 engine(12345);
  const std::string alphabet = "metricsparamtgsu.`\"'()<>=!,; _-%0123456789eE+ANDORINOTISNUL\\";
  std::uniform_int_distribution<size_t> pick_char(0, alphabet.size() - 1);
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input = seeds[static_cast<size_t>(round) % seeds.size()];
    int edits = 1 + static_cast<int>(engine() % 4);
    for (int edit = 0; edit < edits; ++edit) {
      size_t at = input.empty() ? 0 : engine() % (input.size() + 1);
      switch (engine() % 3) {
        case 0:
          input.insert(at, 1, alphabet[pick_char(engine)]);
          break;
        case 1:
          if (at < input.size()) input.erase(at, 1);
          break;
        default:
          input = input.substr(0, at);
          break;
      }
    }
    if (round % 7 == 0) {
      input.clear();
      size_t length = engine() % 40;
      for (size_t index = 0; index < length; ++index) input += static_cast<char>(engine() % 256);
    }
    parsed += ParseRunFilterForFuzzing(input) ? 1 : 0;
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace mlforge::tracking
