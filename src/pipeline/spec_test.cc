#include "pipeline/spec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "pipeline/template.h"

namespace mlforge::pipeline {
namespace {

core::Status ParseError(const std::string& yaml) {
  auto parsed = ParsePipeline(yaml, "p.yaml");
  return parsed.ok() ? core::Status::Ok() : parsed.status();
}

// The error names file:line and says what is wrong.
void ExpectError(const std::string& yaml, int line, const std::string& words) {
  core::Status status = ParseError(yaml);
  ASSERT_FALSE(status.ok()) << "accepted:\n" << yaml;
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("p.yaml:" + std::to_string(line) + ":"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
}

TEST(SpecTest, ParsesTheDocumentedShape) {
  const std::string yaml = R"(name: mnist
params:
  epochs: {type: int, default: 3}
  min_accuracy: {type: float, default: 0.985}
  datasets: {type: list, default: [mnist, fashion-mnist]}
  tag: plain
steps:
  - name: data
    mlforge: data get mnist --dir {{outputs.dir}}
    outputs:
      dir: {type: folder}
  - name: train
    mlforge: train x.yaml --data-dir {{steps.data.outputs.dir}} --set train.epochs={{params.epochs}}
    outputs:
      run: {type: folder}
    retry: {limit: 2, backoff: 5s}
    timeout: 30m
    env: [OMP_NUM_THREADS]
  - name: evaluate
    run: >-
      echo '{"accuracy": 0.99}' > {{outputs.metrics}}
    outputs:
      metrics: {type: file}
      accuracy: {type: float, from: metrics, key: accuracy}
  - name: register
    when: steps.evaluate.outputs.accuracy >= params.min_accuracy
    depends: [evaluate]
    mlforge: models register runs:/{{steps.train.run_id}}/model mnist --alias champion
    cache: false
  - name: per-dataset
    for_each: "{{params.datasets}}"
    run: echo {{item}}
on_exit:
  run: echo done {{pipeline.status}}
)";
  auto parsed = ParsePipeline(yaml, "p.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Pipeline& pipeline = *parsed;
  EXPECT_EQ(pipeline.name, "mnist");
  ASSERT_EQ(pipeline.params.size(), 4u);
  EXPECT_EQ(pipeline.params[0].type, ParamType::kInt);
  EXPECT_EQ(pipeline.params[0].default_value->scalar, "3");
  EXPECT_EQ(pipeline.params[0].location.line, 3);
  EXPECT_EQ(pipeline.params[2].default_value->ToTemplateText(), "[\"mnist\",\"fashion-mnist\"]");
  EXPECT_EQ(pipeline.params[3].type, ParamType::kString);
  ASSERT_EQ(pipeline.steps.size(), 5u);
  const Step& train = pipeline.steps[1];
  EXPECT_EQ(train.kind, CommandKind::kMlforge);
  EXPECT_EQ(train.depends, std::vector<std::string>({"data"}));
  EXPECT_EQ(train.retry.limit, 2);
  EXPECT_EQ(train.retry.backoff, std::chrono::seconds(5));
  EXPECT_EQ(*train.timeout, std::chrono::minutes(30));
  EXPECT_EQ(train.env, std::vector<std::string>({"OMP_NUM_THREADS"}));
  const Step& evaluate = pipeline.steps[2];
  EXPECT_EQ(evaluate.outputs[1].from, "metrics");
  EXPECT_EQ(evaluate.outputs[1].type, OutputType::kFloat);
  const Step& register_step = pipeline.steps[3];
  // Explicit, plus inferred from the command (train) and the condition (evaluate).
  EXPECT_EQ(register_step.depends, std::vector<std::string>({"train", "evaluate"}));
  EXPECT_FALSE(register_step.cache);
  EXPECT_EQ(register_step.when_location.line, 26);
  EXPECT_EQ(pipeline.steps[4].for_each->param, "datasets");
  ASSERT_TRUE(pipeline.on_exit.has_value());
  EXPECT_EQ(pipeline.on_exit->name, "on_exit");
  EXPECT_EQ(TopologicalOrder(pipeline),
            std::vector<std::string>({"data", "train", "evaluate", "register", "per-dataset"}));
}

TEST(SpecTest, RejectsBadSpecsNamingTheLine) {
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    colour: red\n", 5,
              "unknown key 'colour'");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: echo {{steps.b.outputs.x}}\n", 4,
              "unknown step 'b'");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: echo {{params.nope}}\n", 4,
              "unknown param 'nope'");
  ExpectError(
      "name: p\nsteps:\n  - name: a\n    run: x\n    outputs: {o: file}\n"
      "  - name: b\n    run: echo {{steps.a.outputs.other}}\n",
      7, "outputs: o");
  ExpectError(
      "name: p\nparams:\n  n: {type: int, default: three}\nsteps:\n  - name: a\n    run: x\n", 3,
      "is not an int");
  ExpectError("name: p\nparams:\n  n: {type: list, default: 4}\nsteps:\n  - {name: a, run: x}\n", 3,
              "expected a list");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n  - name: a\n    run: y\n", 5,
              "used twice");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    depends: [ghost]\n", 5,
              "unknown step 'ghost'");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    inputs: [no/such/file.txt]\n", 5,
              "does not exist");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: echo {{item}}\n", 4, "no 'for_each'");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: echo {{pipeline.status}}\n", 4,
              "only known in on_exit");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    when: params.x ==\n", 5, "condition");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    timeout: soon\n", 5, "timeout");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    mlforge: y\n", 5, "both");
  ExpectError("name: p\nsteps:\n  - name: a\n    run: 'echo {{params.x'\n", 4, "closing");
  ExpectError(
      "name: p\nsteps:\n  - name: a\n    run: x\n    outputs:\n      v: {type: int, from: w}\n", 6,
      "file output");
  ExpectError("name: p\nsteps:\n  - name: a\n  run: x\n", 4, "invalid YAML");
}

TEST(SpecTest, DetectsACycleAndNamesIt) {
  const std::string yaml =
      "name: p\nsteps:\n"
      "  - name: a\n    run: echo {{steps.c.outputs.o}} > {{outputs.o}}\n    outputs: {o: file}\n"
      "  - name: b\n    run: echo {{steps.a.outputs.o}} > {{outputs.o}}\n    outputs: {o: file}\n"
      "  - name: c\n    run: echo {{steps.b.outputs.o}} > {{outputs.o}}\n    outputs: {o: file}\n"
      "  - name: d\n    run: 'true'\n";
  core::Status status = ParseError(yaml);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cycle: "), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("a -> c -> b -> a"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("p.yaml:3:"), std::string::npos) << status.message();
  // Self-dependency through depends.
  ExpectError("name: p\nsteps:\n  - name: a\n    run: x\n    depends: [a]\n", 5, "itself");
}

TEST(SpecTest, ResolveParamsTypeChecksOverrides) {
  auto pipeline = ParsePipeline(
      "name: p\nparams:\n  n: {type: int, default: 1}\n  f: {type: float, default: 0.5}\n"
      "  b: {type: bool, default: false}\n  l: {type: list, default: [x]}\n  s: {type: string}\n"
      "steps:\n  - name: a\n    run: echo {{params.n}}\n",
      "p.yaml");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  auto missing = ResolveParams(*pipeline, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--set s=VALUE"), std::string::npos);

  auto values = ResolveParams(*pipeline, {"n=7", "f=2", "b=TRUE", "l=[a, b]", "s=hi"});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ((*values)[0].value.scalar, "7");
  EXPECT_EQ((*values)[1].value.scalar, "2");
  EXPECT_EQ((*values)[2].value.scalar, "true");
  EXPECT_EQ((*values)[3].value.items, std::vector<std::string>({"a", "b"}));
  auto comma = ResolveParams(*pipeline, {"l=p,q,r", "s=x"});
  ASSERT_TRUE(comma.ok());
  EXPECT_EQ((*comma)[3].value.items, std::vector<std::string>({"p", "q", "r"}));

  auto bad_int = ResolveParams(*pipeline, {"n=1.5", "s=x"});
  ASSERT_FALSE(bad_int.ok());
  EXPECT_NE(bad_int.status().message().find("p.yaml:3"), std::string::npos)
      << bad_int.status().message();
  EXPECT_NE(bad_int.status().message().find("is int"), std::string::npos);
  EXPECT_FALSE(ResolveParams(*pipeline, {"b=maybe", "s=x"}).ok());
  EXPECT_FALSE(ResolveParams(*pipeline, {"f=fast", "s=x"}).ok());
  auto unknown = ResolveParams(*pipeline, {"epochs=3", "s=x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no param 'epochs'"), std::string::npos);
  EXPECT_FALSE(ResolveParams(*pipeline, {"noequals"}).ok());
}

TEST(SpecTest, InputsResolveAgainstTheWorkingFolder) {
  auto folder = std::filesystem::temp_directory_path() / ("spec_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  ASSERT_TRUE(core::WriteFileAtomic(folder / "config.yaml", "a: 1\n").ok());
  const std::string yaml = "name: p\nsteps:\n  - name: a\n    run: x\n    inputs: [config.yaml]\n";
  EXPECT_TRUE(ParsePipeline(yaml, "p.yaml", folder).ok());
  EXPECT_FALSE(ParsePipeline(yaml, "p.yaml", folder / "elsewhere").ok());
  std::filesystem::remove_all(folder);
}

TEST(SpecTest, DurationsAndTemplates) {
  EXPECT_EQ(*ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("2.5"), std::chrono::milliseconds(2500));
  EXPECT_FALSE(ParseDuration("5 parsecs").ok());
  EXPECT_FALSE(ParseDuration("").ok());
  auto parts = ParseTemplate("a {{ params.x }} b {{steps.s.run_id}}{{item}}");
  ASSERT_TRUE(parts.ok());
  auto text = Substitute(*parts, [](const Reference& reference) -> core::Result<std::string> {
    return "<" + reference.text + ">";
  });
  EXPECT_EQ(*text, "a <params.x> b <steps.s.run_id><item>");
  EXPECT_FALSE(ParseTemplate("{{steps.s}}").ok());
  EXPECT_FALSE(ParseTemplate("{{what.ever}}").ok());
}

TEST(SpecTest, ExampleHelloPipelineIsValid) {
  auto pipeline = LoadPipeline("examples/pipeline/hello.yaml");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  EXPECT_EQ(pipeline->name, "hello");
}

}  // namespace
}  // namespace mlforge::pipeline
