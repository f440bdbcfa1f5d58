#include "projects/mlproject.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/testing/temp_dir.h"

namespace mlforge::projects {
namespace {

constexpr char kProject[] = R"(
name: demo
conda_env: conda.yaml
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      epochs: {type: int, default: 3}
      data_file: path
      label: {type: string, default: "my label"}
    command: "python3 train.py --alpha {alpha} --epochs {epochs} {data_file} --label {label}"
  fetch:
    parameters:
      source: uri
    command: "echo {{literal}} {source}"
)";

TEST(MlprojectTest, ParsesEntryPointsTypesAndDefaults) {
  auto project = ParseProject(kProject, "/tmp/some-project", "MLproject");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  EXPECT_EQ(project->name, "demo");
  ASSERT_EQ(project->environments.size(), 1u);
  EXPECT_EQ(project->environments[0].first, "conda_env");
  EXPECT_EQ(project->environments[0].second, "conda.yaml");
  ASSERT_EQ(project->entry_points.size(), 2u);
  const EntryPoint& main = project->entry_points[0];
  EXPECT_EQ(main.name, "main");
  ASSERT_EQ(main.parameters.size(), 4u);
  EXPECT_EQ(main.parameters[0].name, "alpha");
  EXPECT_EQ(main.parameters[0].type, ParameterType::kFloat);
  EXPECT_EQ(main.parameters[0].default_value, "0.5");
  EXPECT_EQ(main.parameters[1].type, ParameterType::kInt);
  EXPECT_EQ(main.parameters[2].type, ParameterType::kPath);
  EXPECT_FALSE(main.parameters[2].default_value.has_value());
  EXPECT_EQ(main.parameters[3].type, ParameterType::kString);
  EXPECT_EQ(project->entry_points[1].parameters[0].type, ParameterType::kUri);
}

TEST(MlprojectTest, RejectsBadFilesNamingTheProblem) {
  auto no_command = ParseProject("entry_points: {main: {parameters: {a: string}}}", "/p", "F");
  ASSERT_FALSE(no_command.ok());
  EXPECT_NE(no_command.status().message().find("entry point 'main': needs a 'command'"),
            std::string::npos)
      << no_command.status().message();
  auto bad_type =
      ParseProject("entry_points: {main: {parameters: {a: {type: list}}, command: x}}", "/p", "F");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("unknown parameter type 'list'"), std::string::npos);
  auto bad_default = ParseProject(
      "entry_points: {main: {parameters: {n: {type: int, default: 2.5}}, command: x}}", "/p", "F");
  ASSERT_FALSE(bad_default.ok());
  EXPECT_NE(bad_default.status().message().find("'2.5' is not an integer"), std::string::npos)
      << bad_default.status().message();
  EXPECT_FALSE(ParseProject("[1, 2]", "/p", "F").ok());
  EXPECT_FALSE(ParseProject("entry_points: {main: {command: [", "/p", "F").ok());
}

TEST(MlprojectTest, RendersCommandWithQuotingDefaultsAndExtras) {
  core::testing::ScopedTempDir dir;
  std::ofstream(dir.path() / "data.csv") << "x\n1\n";
  auto project = ParseProject(kProject, dir.path(), "MLproject");
  ASSERT_TRUE(project.ok());
  auto rendered =
      RenderCommand(project->entry_points[0],
                    {{"data_file", "data.csv"}, {"alpha", "0.25"}, {"extra", "a b"}}, dir.path());
  ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
  const std::string data_path = (dir.path() / "data.csv").string();
  EXPECT_EQ(rendered->command, "python3 train.py --alpha 0.25 --epochs 3 " + data_path +
                                   " --label 'my label' --extra 'a b'");
  ASSERT_EQ(rendered->parameters.size(), 5u);
  EXPECT_EQ(rendered->parameters[0], (std::pair<std::string, std::string>{"alpha", "0.25"}));
  EXPECT_EQ(rendered->parameters[1], (std::pair<std::string, std::string>{"epochs", "3"}));
  EXPECT_EQ(rendered->parameters[2].second, data_path);
  EXPECT_EQ(rendered->parameters[4], (std::pair<std::string, std::string>{"extra", "a b"}));

  auto braces = RenderCommand(project->entry_points[1], {{"source", "s3://bucket/key"}}, "/");
  ASSERT_TRUE(braces.ok()) << braces.status().ToString();
  EXPECT_EQ(braces->command, "echo {literal} s3://bucket/key");
}

TEST(MlprojectTest, TypeErrorsAndMissingParametersAreClear) {
  core::testing::ScopedTempDir dir;
  auto project = ParseProject(kProject, dir.path(), "MLproject");
  ASSERT_TRUE(project.ok());
  const EntryPoint& main = project->entry_points[0];
  auto missing = RenderCommand(main, {}, dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("needs a value for: data_file"), std::string::npos);

  std::ofstream(dir.path() / "d") << "";
  auto not_float = RenderCommand(main, {{"data_file", "d"}, {"alpha", "fast"}}, dir.path());
  ASSERT_FALSE(not_float.ok());
  EXPECT_EQ(not_float.status().message(),
            "parameter 'alpha' is of type float: 'fast' is not a number (e.g. 0.5)");
  auto not_int = RenderCommand(main, {{"data_file", "d"}, {"epochs", "3.5"}}, dir.path());
  ASSERT_FALSE(not_int.ok());
  EXPECT_NE(not_int.status().message().find("'3.5' is not an integer"), std::string::npos);
  auto no_file = RenderCommand(main, {{"data_file", "absent.csv"}}, dir.path());
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.status().message().find("absent.csv does not exist"), std::string::npos);
  auto not_uri = RenderCommand(project->entry_points[1], {{"source", "plain"}}, dir.path());
  ASSERT_FALSE(not_uri.ok());
  EXPECT_NE(not_uri.status().message().find("is not a URI"), std::string::npos);
  auto twice = RenderCommand(main, {{"data_file", "d"}, {"data_file", "d"}}, dir.path());
  EXPECT_FALSE(twice.ok());
  EntryPoint unknown_field{"x", {}, "echo {nope}"};
  auto unknown = RenderCommand(unknown_field, {}, dir.path());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("{nope}"), std::string::npos);
}

TEST(MlprojectTest, ShellQuoteMatchesPosixRules) {
  EXPECT_EQ(ShellQuote("plain-value_1.5/x:y@z%+=,"), "plain-value_1.5/x:y@z%+=,");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\"'\"'s'");
  EXPECT_EQ(ShellQuote("$(rm -rf /)"), "'$(rm -rf /)'");
}

TEST(MlprojectTest, LoadsFileCaseInsensitivelyAndFallsBackToScripts) {
  core::testing::ScopedTempDir dir;
  std::ofstream(dir.path() / "mlProject") << "entry_points: {main: {command: 'echo hi'}}\n";
  std::ofstream(dir.path() / "job.sh") << "echo job\n";
  auto project = LoadProject(dir.path());
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  EXPECT_EQ(project->name, dir.path().filename().string());
  EXPECT_EQ(project->file.filename(), "mlProject");
  auto main = FindEntryPoint(*project, "main");
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->command, "echo hi");
  auto script = FindEntryPoint(*project, "job.sh");
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->command, "bash job.sh");
  auto missing = FindEntryPoint(*project, "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("entry points: main"), std::string::npos);
  EXPECT_FALSE(LoadProject(dir.path() / "absent").ok());
}

TEST(MlprojectTest, ParsesAssignments) {
  auto assignment = ParseAssignment("expr=a=b");
  ASSERT_TRUE(assignment.ok());
  EXPECT_EQ(assignment->first, "expr");
  EXPECT_EQ(assignment->second, "a=b");
  EXPECT_FALSE(ParseAssignment("novalue").ok());
  EXPECT_FALSE(ParseAssignment("=x").ok());
}

}  // namespace
}  // namespace mlforge::projects
