// The RegistryStore conformance suite: MLflow's model registry semantics
// (mlflow/store/model_registry/sqlalchemy_store.py), written against the
// RegistryStore interface only and run once per backend
// (INSTANTIATE_TEST_SUITE_P at the bottom): SQLite, and the REST client
// store through a real server.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "registry/registry_store.h"
#include "registry/testing/registry_conformance.h"
#include "registry/testing/served_rest_registry.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

using testing::RegistryBackend;
using tracking::testing::ScopedTempDir;

#define ASSERT_OK(expr)                                                          \
  do {                                                                           \
    auto&& registry_status_ = (expr);                                            \
    ASSERT_TRUE(registry_status_.ok()) << StatusOf(registry_status_).ToString(); \
  } while (0)

#define EXPECT_CODE(expr, expected_code)                                          \
  do {                                                                            \
    auto&& registry_status_ = (expr);                                             \
    EXPECT_EQ(StatusOf(registry_status_).code(), core::StatusCode::expected_code) \
        << StatusOf(registry_status_).ToString();                                 \
  } while (0)

core::Status StatusOf(const core::Status& status) { return status; }
template <typename T>
core::Status StatusOf(const core::Result<T>& result) {
  return result.status();
}

// The value of a Result, failing the test (and returning T{}) on error.
template <typename T>
T Value(core::Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return T{};
  return std::move(result).value();
}

std::vector<int64_t> Versions(const std::vector<ModelVersion>& versions) {
  std::vector<int64_t> numbers;
  for (const ModelVersion& version : versions) numbers.push_back(version.version);
  return numbers;
}

std::vector<std::string> Names(const std::vector<RegisteredModel>& models) {
  std::vector<std::string> names;
  for (const RegisteredModel& model : models) names.push_back(model.name);
  return names;
}

class RegistryConformanceTest : public ::testing::TestWithParam<RegistryBackend> {
 protected:
  void SetUp() override {
    auto opened = GetParam().open(folder_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  // A model with `versions` versions from runs "run<N>".
  void MakeModel(const std::string& name, int versions,
                 const std::vector<RegisteredModelTag>& tags = {}) {
    ASSERT_OK(store_->CreateRegisteredModel(name, tags, ""));
    for (int index = 1; index <= versions; ++index) {
      ASSERT_OK(store_->CreateModelVersion(name,
                                           "s3://bucket/" + name + "/" + std::to_string(index),
                                           "run" + std::to_string(index), {}, "", "", ""));
    }
  }

  ScopedTempDir folder_{"mlforge-registry-test"};
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryConformanceTest, CreateAndGetRegisteredModel) {
  RegisteredModel created = Value(store_->CreateRegisteredModel(
      "mnist", {{"team", "a"}, {"owner", "x"}, {"team", "b"}}, "digits"));
  EXPECT_EQ(created.name, "mnist");
  EXPECT_EQ(created.description, "digits");
  EXPECT_GT(created.creation_timestamp, 0);
  EXPECT_EQ(created.creation_timestamp, created.last_updated_timestamp);
  // Sorted by key; the last value of a repeated key wins.
  EXPECT_EQ(created.tags, (std::vector<RegisteredModelTag>{{"owner", "x"}, {"team", "b"}}));
  EXPECT_TRUE(created.latest_versions.empty());
  EXPECT_EQ(Value(store_->GetRegisteredModel("mnist")), created);

  EXPECT_CODE(store_->CreateRegisteredModel("mnist", {}, ""), kAlreadyExists);
  EXPECT_CODE(store_->CreateRegisteredModel("", {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->CreateRegisteredModel("bad", {{"../x", "v"}}, ""), kInvalidArgument);
  EXPECT_CODE(store_->GetRegisteredModel("missing"), kNotFound);
  EXPECT_CODE(store_->GetRegisteredModel(""), kInvalidArgument);
}

TEST_P(RegistryConformanceTest, VersionsAreNumberedPerModelAndNeverReused) {
  MakeModel("a", 3);
  MakeModel("b", 1);
  ModelVersion third = Value(store_->GetModelVersion("a", 3));
  EXPECT_EQ(third.name, "a");
  EXPECT_EQ(third.status, ModelVersionStatus::kReady);
  EXPECT_EQ(third.current_stage, kStageNone);
  EXPECT_EQ(third.source, "s3://bucket/a/3");
  EXPECT_EQ(third.run_id, "run3");
  EXPECT_EQ(Value(store_->GetModelVersion("b", 1)).source, "s3://bucket/b/1");

  ASSERT_OK(store_->DeleteModelVersion("a", 3));
  EXPECT_CODE(store_->GetModelVersion("a", 3), kNotFound);
  EXPECT_CODE(store_->DeleteModelVersion("a", 3), kNotFound);
  ModelVersion next = Value(store_->CreateModelVersion("a", "s3://x", "", {{"k", "v"}, {"k", "w"}},
                                                       "http://link", "fourth", ""));
  EXPECT_EQ(next.version, 4);
  EXPECT_EQ(next.tags, (std::vector<ModelVersionTag>{{"k", "w"}}));
  EXPECT_EQ(next.run_link, "http://link");
  EXPECT_EQ(next.description, "fourth");
  // Creating a version bumps the model's last_updated_timestamp.
  EXPECT_GE(Value(store_->GetRegisteredModel("a")).last_updated_timestamp, next.creation_timestamp);

  EXPECT_CODE(store_->CreateModelVersion("missing", "s3://x", "", {}, "", "", ""), kNotFound);
  EXPECT_CODE(store_->GetModelVersion("a", 99), kNotFound);
  EXPECT_CODE(store_->GetModelVersion("missing", 1), kNotFound);
  EXPECT_EQ(Value(store_->GetModelVersionDownloadUri("a", 4)), "s3://x");
  EXPECT_CODE(store_->GetModelVersionDownloadUri("a", 3), kNotFound);
}

TEST_P(RegistryConformanceTest, ConcurrentCreatesNeverCollide) {
  ASSERT_OK(store_->CreateRegisteredModel("busy", {}, ""));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&] {
      for (int index = 0; index < kPerThread; ++index) {
        if (!store_->CreateModelVersion("busy", "s3://x", "", {}, "", "", "").ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  ModelVersionPage page =
      Value(store_->SearchModelVersions("name = 'busy'", 1000, {"version_number ASC"}, ""));
  std::vector<int64_t> expected;
  for (int64_t number = 1; number <= kThreads * kPerThread; ++number) expected.push_back(number);
  EXPECT_EQ(Versions(page.model_versions), expected);
}

TEST_P(RegistryConformanceTest, AliasesMoveAndDieWithTheirVersion) {
  MakeModel("m", 3);
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "champion", 1));
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "challenger", 2));
  EXPECT_EQ(Value(store_->GetModelVersion("m", 1)).aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(Value(store_->GetModelVersionByAlias("m", "champion")).version, 1);

  // Setting again moves the alias.
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "champion", 2));
  EXPECT_TRUE(Value(store_->GetModelVersion("m", 1)).aliases.empty());
  EXPECT_EQ(Value(store_->GetModelVersion("m", 2)).aliases,
            (std::vector<std::string>{"challenger", "champion"}));
  EXPECT_EQ(Value(store_->GetRegisteredModel("m")).aliases,
            (std::vector<RegisteredModelAlias>{{"challenger", 2}, {"champion", 2}}));

  // Deleting the version deletes its aliases.
  ASSERT_OK(store_->DeleteModelVersion("m", 2));
  EXPECT_TRUE(Value(store_->GetRegisteredModel("m")).aliases.empty());
  EXPECT_CODE(store_->GetModelVersionByAlias("m", "champion"), kInvalidArgument);

  ASSERT_OK(store_->SetRegisteredModelAlias("m", "prod", 3));
  ASSERT_OK(store_->DeleteRegisteredModelAlias("m", "prod"));
  ASSERT_OK(store_->DeleteRegisteredModelAlias("m", "prod"));  // absent: fine
  EXPECT_CODE(store_->GetModelVersionByAlias("m", "prod"), kInvalidArgument);

  EXPECT_CODE(store_->SetRegisteredModelAlias("m", "x", 2), kNotFound);   // deleted
  EXPECT_CODE(store_->SetRegisteredModelAlias("m", "x", 42), kNotFound);  // never existed
  EXPECT_CODE(store_->SetRegisteredModelAlias("nope", "x", 1), kNotFound);
  EXPECT_CODE(store_->DeleteRegisteredModelAlias("nope", "x"), kNotFound);
  for (const char* bad : {"latest", "LATEST", "v1", "V12", "", "has space", "a/b"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(store_->SetRegisteredModelAlias("m", bad, 1), kInvalidArgument);
  }
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "v1x", 1));
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "blue-green_2", 1));
}

TEST_P(RegistryConformanceTest, RenameKeepsVersionsTagsAndAliases) {
  MakeModel("old", 2, {{"team", "a"}});
  ASSERT_OK(store_->SetRegisteredModelAlias("old", "champion", 2));
  ASSERT_OK(store_->SetModelVersionTag("old", 1, {"k", "v"}));
  RegisteredModel renamed = Value(store_->RenameRegisteredModel("old", "new"));
  EXPECT_EQ(renamed.name, "new");
  EXPECT_EQ(renamed.tags, (std::vector<RegisteredModelTag>{{"team", "a"}}));
  EXPECT_EQ(renamed.aliases, (std::vector<RegisteredModelAlias>{{"champion", 2}}));
  EXPECT_CODE(store_->GetRegisteredModel("old"), kNotFound);
  EXPECT_EQ(Value(store_->GetModelVersion("new", 1)).tags,
            (std::vector<ModelVersionTag>{{"k", "v"}}));
  EXPECT_EQ(Value(store_->GetModelVersion("new", 1)).name, "new");
  EXPECT_EQ(Value(store_->GetModelVersionByAlias("new", "champion")).version, 2);
  EXPECT_EQ(Value(store_->CreateModelVersion("new", "s3://y", "", {}, "", "", "")).version, 3);

  MakeModel("other", 0);
  EXPECT_CODE(store_->RenameRegisteredModel("new", "other"), kAlreadyExists);
  EXPECT_CODE(store_->RenameRegisteredModel("new", ""), kInvalidArgument);
  EXPECT_CODE(store_->RenameRegisteredModel("missing", "x"), kNotFound);
}

TEST_P(RegistryConformanceTest, StagesAndArchiveExistingVersions) {
  MakeModel("m", 3);
  ModelVersion staged = Value(store_->TransitionModelVersionStage("m", 1, "staging", false));
  EXPECT_EQ(staged.current_stage, kStageStaging);
  ASSERT_OK(store_->TransitionModelVersionStage("m", 2, "Production", false));
  ASSERT_OK(store_->TransitionModelVersionStage("m", 1, "PRODUCTION", false));
  // Without archiving, two versions may share a stage.
  EXPECT_EQ(Value(store_->GetModelVersion("m", 1)).current_stage, kStageProduction);
  EXPECT_EQ(Value(store_->GetModelVersion("m", 2)).current_stage, kStageProduction);

  ModelVersion promoted = Value(store_->TransitionModelVersionStage("m", 3, "Production", true));
  EXPECT_EQ(promoted.current_stage, kStageProduction);
  EXPECT_EQ(Value(store_->GetModelVersion("m", 1)).current_stage, kStageArchived);
  EXPECT_EQ(Value(store_->GetModelVersion("m", 2)).current_stage, kStageArchived);

  EXPECT_CODE(store_->TransitionModelVersionStage("m", 1, "Archived", true), kInvalidArgument);
  EXPECT_CODE(store_->TransitionModelVersionStage("m", 1, "Deleted_Internal", false),
              kInvalidArgument);
  EXPECT_CODE(store_->TransitionModelVersionStage("m", 1, "Shipping", false), kInvalidArgument);
  EXPECT_CODE(store_->TransitionModelVersionStage("m", 9, "Staging", false), kNotFound);
}

TEST_P(RegistryConformanceTest, LatestVersionsPerStage) {
  MakeModel("m", 5);
  ASSERT_OK(store_->TransitionModelVersionStage("m", 1, "Production", false));
  ASSERT_OK(store_->TransitionModelVersionStage("m", 2, "Production", false));
  ASSERT_OK(store_->TransitionModelVersionStage("m", 3, "Staging", false));
  ASSERT_OK(store_->TransitionModelVersionStage("m", 4, "Archived", false));
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "champion", 2));
  // Stage None: only version 5.
  std::vector<ModelVersion> all = Value(store_->GetLatestVersions("m", {}));
  EXPECT_EQ(Versions(all),
            (std::vector<int64_t>{5, 3, 2, 4}));  // None, Staging, Production, Archived
  std::vector<ModelVersion> production = Value(store_->GetLatestVersions("m", {"production"}));
  ASSERT_EQ(production.size(), 1u);
  EXPECT_EQ(production[0].version, 2);
  EXPECT_EQ(production[0].aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(Versions(Value(store_->GetLatestVersions("m", {"Staging", "None"}))),
            (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(Versions(Value(store_->GetRegisteredModel("m")).latest_versions),
            (std::vector<int64_t>{5, 3, 2, 4}));
  // A deleted version is not latest; the stage falls back to the next.
  ASSERT_OK(store_->DeleteModelVersion("m", 2));
  EXPECT_EQ(Versions(Value(store_->GetLatestVersions("m", {"Production"}))),
            (std::vector<int64_t>{1}));
  EXPECT_CODE(store_->GetLatestVersions("m", {"Bogus"}), kInvalidArgument);
  EXPECT_CODE(store_->GetLatestVersions("missing", {}), kNotFound);
}

TEST_P(RegistryConformanceTest, TagsAndDescriptions) {
  MakeModel("m", 1);
  ASSERT_OK(store_->SetRegisteredModelTag("m", {"k", "1"}));
  ASSERT_OK(store_->SetRegisteredModelTag("m", {"k", "2"}));
  EXPECT_EQ(Value(store_->GetRegisteredModel("m")).tags,
            (std::vector<RegisteredModelTag>{{"k", "2"}}));
  ASSERT_OK(store_->DeleteRegisteredModelTag("m", "k"));
  ASSERT_OK(store_->DeleteRegisteredModelTag("m", "k"));  // absent: fine
  EXPECT_TRUE(Value(store_->GetRegisteredModel("m")).tags.empty());
  EXPECT_CODE(store_->SetRegisteredModelTag("missing", {"k", "v"}), kNotFound);
  EXPECT_CODE(store_->DeleteRegisteredModelTag("missing", "k"), kNotFound);
  EXPECT_CODE(store_->SetRegisteredModelTag("m", {"", "v"}), kInvalidArgument);
  EXPECT_CODE(store_->SetRegisteredModelTag("m", {"k", std::string(5001, 'x')}), kInvalidArgument);

  ASSERT_OK(store_->SetModelVersionTag("m", 1, {"a", "1"}));
  ASSERT_OK(store_->SetModelVersionTag("m", 1, {"a", "2"}));
  EXPECT_EQ(Value(store_->GetModelVersion("m", 1)).tags,
            (std::vector<ModelVersionTag>{{"a", "2"}}));
  ASSERT_OK(store_->DeleteModelVersionTag("m", 1, "a"));
  ASSERT_OK(store_->DeleteModelVersionTag("m", 1, "a"));
  EXPECT_TRUE(Value(store_->GetModelVersion("m", 1)).tags.empty());
  EXPECT_CODE(store_->SetModelVersionTag("m", 7, {"a", "1"}), kNotFound);
  EXPECT_CODE(store_->DeleteModelVersionTag("m", 7, "a"), kNotFound);

  RegisteredModel described = Value(store_->UpdateRegisteredModel("m", "new words"));
  EXPECT_EQ(described.description, "new words");
  EXPECT_EQ(Value(store_->UpdateRegisteredModel("m", "")).description, "");
  EXPECT_CODE(store_->UpdateRegisteredModel("missing", "x"), kNotFound);
  EXPECT_EQ(Value(store_->UpdateModelVersion("m", 1, "v1 words")).description, "v1 words");
  EXPECT_CODE(store_->UpdateModelVersion("m", 2, "x"), kNotFound);
}

TEST_P(RegistryConformanceTest, DeleteRegisteredModelDeletesEverything) {
  MakeModel("m", 2, {{"t", "v"}});
  ASSERT_OK(store_->SetRegisteredModelAlias("m", "champion", 1));
  ASSERT_OK(store_->DeleteRegisteredModel("m"));
  EXPECT_CODE(store_->GetRegisteredModel("m"), kNotFound);
  EXPECT_CODE(store_->GetModelVersion("m", 1), kNotFound);
  EXPECT_CODE(store_->DeleteRegisteredModel("m"), kNotFound);
  EXPECT_TRUE(Value(store_->SearchModelVersions("name = 'm'", 100, {}, "")).model_versions.empty());
  // A new model under the old name starts again at version 1, with nothing
  // of the old one.
  RegisteredModel again = Value(store_->CreateRegisteredModel("m", {}, ""));
  EXPECT_TRUE(again.tags.empty());
  EXPECT_TRUE(again.aliases.empty());
  EXPECT_EQ(Value(store_->CreateModelVersion("m", "s3://z", "", {}, "", "", "")).version, 1);
}

TEST_P(RegistryConformanceTest, SearchRegisteredModels) {
  // Timestamps are in milliseconds: a pause between writes orders them.
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(3)); };
  MakeModel("mnist-small", 1, {{"team", "a"}});
  pause();
  MakeModel("mnist-large", 0, {{"team", "b"}});
  pause();
  MakeModel("MNIST-upper", 0, {{"team", "a"}});
  pause();
  MakeModel("fashion", 2, {{"team", "a"}, {"tier", "gold"}});
  MakeModel("a-prompt", 0, {{std::string(kIsPromptTag), "true"}});

  auto names = [&](const std::string& filter, const std::vector<std::string>& order_by = {}) {
    return Names(
        Value(store_->SearchRegisteredModels(filter, 100, order_by, "")).registered_models);
  };
  // Default order: name ASC; prompts are hidden.
  EXPECT_EQ(names(""),
            (std::vector<std::string>{"MNIST-upper", "fashion", "mnist-large", "mnist-small"}));
  EXPECT_EQ(names("name LIKE 'mnist%'"), (std::vector<std::string>{"mnist-large", "mnist-small"}));
  EXPECT_EQ(names("name ILIKE 'mnist%'"),
            (std::vector<std::string>{"MNIST-upper", "mnist-large", "mnist-small"}));
  EXPECT_EQ(names("name = 'fashion'"), (std::vector<std::string>{"fashion"}));
  EXPECT_EQ(names("name != 'fashion' and name like '%small'"),
            (std::vector<std::string>{"mnist-small"}));
  EXPECT_EQ(names("tags.team = 'a'"),
            (std::vector<std::string>{"MNIST-upper", "fashion", "mnist-small"}));
  EXPECT_EQ(names("tags.team = 'a' AND tags.`tier` = 'gold'"),
            (std::vector<std::string>{"fashion"}));
  EXPECT_EQ(names("tags.team != 'a'"), (std::vector<std::string>{"mnist-large"}));
  EXPECT_EQ(names("tag.tier LIKE 'g%'"), (std::vector<std::string>{"fashion"}));
  EXPECT_EQ(names("tags.`mlflow.prompt.is_prompt` = 'true'"),
            (std::vector<std::string>{"a-prompt"}));
  EXPECT_EQ(names("", {"name DESC"}),
            (std::vector<std::string>{"mnist-small", "mnist-large", "fashion", "MNIST-upper"}));
  // fashion was written last (its versions bump last_updated_timestamp).
  EXPECT_EQ(names("", {"last_updated_timestamp DESC"}).front(), "fashion");
  EXPECT_EQ(names("", {"creation_timestamp ASC"}).front(), "mnist-small");

  // Pagination: two at a time, then the rest, in the same order.
  RegisteredModelPage first = Value(store_->SearchRegisteredModels("", 2, {}, ""));
  EXPECT_EQ(Names(first.registered_models), (std::vector<std::string>{"MNIST-upper", "fashion"}));
  ASSERT_FALSE(first.next_page_token.empty());
  RegisteredModelPage second =
      Value(store_->SearchRegisteredModels("", 2, {}, first.next_page_token));
  EXPECT_EQ(Names(second.registered_models),
            (std::vector<std::string>{"mnist-large", "mnist-small"}));
  EXPECT_TRUE(second.next_page_token.empty());
  RegisteredModelPage exact = Value(store_->SearchRegisteredModels("", 4, {}, ""));
  EXPECT_TRUE(exact.next_page_token.empty());

  // The search result carries the whole entity.
  RegisteredModel fashion =
      Value(store_->SearchRegisteredModels("name = 'fashion'", 10, {}, "")).registered_models.at(0);
  EXPECT_EQ(fashion, Value(store_->GetRegisteredModel("fashion")));

  EXPECT_CODE(store_->SearchRegisteredModels("run_id = 'x'", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("name > 'a'", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("name = 'a' OR name = 'b'", 10, {}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("", 10, {"version_number"}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("", 10, {"name", "name DESC"}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("", 0, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("", 1001, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchRegisteredModels("", 10, {}, "not-a-token"), kInvalidArgument);
}

TEST_P(RegistryConformanceTest, SearchModelVersions) {
  MakeModel("mnist", 3);
  MakeModel("fashion", 2);
  ASSERT_OK(store_->SetModelVersionTag("mnist", 2, {"validated", "yes"}));
  ASSERT_OK(store_->SetModelVersionTag("fashion", 1, {"validated", "no"}));
  ASSERT_OK(store_->DeleteModelVersion("mnist", 3));

  auto keys = [&](const std::string& filter, const std::vector<std::string>& order_by) {
    std::vector<std::string> out;
    for (const ModelVersion& version :
         Value(store_->SearchModelVersions(filter, 1000, order_by, "")).model_versions) {
      out.push_back(version.name + "/" + std::to_string(version.version));
    }
    return out;
  };
  const std::vector<std::string> by_name = {"name ASC", "version_number ASC"};
  EXPECT_EQ(keys("", by_name),
            (std::vector<std::string>{"fashion/1", "fashion/2", "mnist/1", "mnist/2"}));
  EXPECT_EQ(keys("name = 'mnist'", by_name), (std::vector<std::string>{"mnist/1", "mnist/2"}));
  EXPECT_EQ(keys("name LIKE 'mn%'", by_name), (std::vector<std::string>{"mnist/1", "mnist/2"}));
  EXPECT_EQ(keys("run_id = 'run1'", by_name), (std::vector<std::string>{"fashion/1", "mnist/1"}));
  EXPECT_EQ(keys("run_id IN ('run2', 'run3')", by_name),
            (std::vector<std::string>{"fashion/2", "mnist/2"}));
  EXPECT_EQ(keys("version_number > 1", by_name),
            (std::vector<std::string>{"fashion/2", "mnist/2"}));
  EXPECT_EQ(keys("version_number = 2 AND name = 'mnist'", by_name),
            (std::vector<std::string>{"mnist/2"}));
  EXPECT_EQ(keys("tags.validated = 'yes'", by_name), (std::vector<std::string>{"mnist/2"}));
  EXPECT_EQ(keys("tags.validated != 'yes'", by_name), (std::vector<std::string>{"fashion/1"}));
  EXPECT_EQ(keys("source_path = 's3://bucket/fashion/2'", by_name),
            (std::vector<std::string>{"fashion/2"}));
  EXPECT_EQ(keys("attribute.name = 'fashion'", {"version_number DESC"}),
            (std::vector<std::string>{"fashion/2", "fashion/1"}));
  // Default order: last_updated_timestamp DESC, then name ASC, version DESC.
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  ASSERT_OK(store_->UpdateModelVersion("fashion", 1, "touched"));
  EXPECT_EQ(keys("", {}).front(), "fashion/1");

  ModelVersionPage first = Value(store_->SearchModelVersions("", 3, by_name, ""));
  EXPECT_EQ(first.model_versions.size(), 3u);
  ModelVersionPage rest = Value(store_->SearchModelVersions("", 3, by_name, first.next_page_token));
  ASSERT_EQ(rest.model_versions.size(), 1u);
  EXPECT_EQ(rest.model_versions[0].name, "mnist");
  EXPECT_EQ(rest.model_versions[0].version, 2);
  EXPECT_TRUE(rest.next_page_token.empty());

  EXPECT_CODE(store_->SearchModelVersions("name IN ('a')", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchModelVersions("version_number LIKE '1'", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchModelVersions("params.x = '1'", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchModelVersions("name = ", 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchModelVersions("", 10, {"stage"}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchModelVersions("", 200001, {}, ""), kInvalidArgument);
}

TEST_P(RegistryConformanceTest, DataSurvivesReopen) {
  MakeModel("kept", 2, {{"t", "v"}});
  ASSERT_OK(store_->SetRegisteredModelAlias("kept", "champion", 2));
  RegisteredModel before = Value(store_->GetRegisteredModel("kept"));
  store_.reset();
  auto reopened = GetParam().open(folder_.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Value((*reopened)->GetRegisteredModel("kept")), before);
  EXPECT_EQ(Value((*reopened)->CreateModelVersion("kept", "s3://x", "", {}, "", "", "")).version,
            3);
}

INSTANTIATE_TEST_SUITE_P(Registry, RegistryConformanceTest,
                         ::testing::ValuesIn(testing::RegistryBackends()),
                         [](const ::testing::TestParamInfo<RegistryBackend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace mlforge::registry
