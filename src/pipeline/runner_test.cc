// The runner on real shell processes, a real cache folder and a real SQLite
// tracking store.

#include "pipeline/runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "core/file.h"
#include "pipeline/spec.h"
#include "tracking/store_factory.h"

namespace mlforge::pipeline {
namespace {
namespace fs = std::filesystem;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pipeline_runner_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Cached files are read-only; the folders stay writable, so this works.
    std::error_code error;
    fs::remove_all(dir_, error);
  }

  std::string Uri() const { return "sqlite:///" + (dir_ / "mlruns.db").string(); }

  RunOptions Options(const Pipeline& pipeline, const std::vector<std::string>& overrides) {
    RunOptions options;
    auto params = ResolveParams(pipeline, overrides);
    EXPECT_TRUE(params.ok()) << params.status().ToString();
    if (params.ok()) options.params = *params;
    options.cache_dir = dir_ / "cache";
    options.runs_root = dir_ / "runs";
    options.working_dir = dir_;
    options.tracking_uri = Uri();
    options.artifact_root = (dir_ / "artifacts").string();
    options.kill_grace = std::chrono::milliseconds(200);
    return options;
  }

  Pipeline Load(const std::string& yaml) {
    EXPECT_TRUE(core::WriteFileAtomic(dir_ / "p.yaml", yaml).ok());
    auto pipeline = LoadPipeline(dir_ / "p.yaml", dir_);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    return pipeline.ok() ? *pipeline : Pipeline{};
  }

  RunReport Run(const std::string& yaml, const std::vector<std::string>& overrides = {},
                const std::function<void(RunOptions&)>& adjust = nullptr) {
    Pipeline pipeline = Load(yaml);
    RunOptions options = Options(pipeline, overrides);
    if (adjust) adjust(options);
    auto report = RunPipeline(pipeline, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : RunReport{};
  }

  static const StepReport& Step(const RunReport& report, const std::string& name) {
    for (const StepReport& step : report.steps) {
      if (step.name == name) return step;
    }
    static StepReport missing;
    ADD_FAILURE() << "no step " << name;
    return missing;
  }

  std::string Read(const fs::path& path) {
    auto text = core::ReadFile(path);
    return text.ok() ? *text : "<missing " + path.string() + ">";
  }

  // How many lines `counter` holds: each execution of a counting step adds one.
  int Count(const std::string& counter) {
    auto text = core::ReadFile(dir_ / counter);
    if (!text.ok()) return 0;
    return static_cast<int>(std::count(text->begin(), text->end(), '\n'));
  }

  fs::path dir_;
};

// Three counting steps: a and b independent, c joins both.
const char* kDiamond = R"(name: diamond
params:
  x: {type: int, default: 1}
  y: {type: string, default: why}
steps:
  - name: a
    run: echo run >> count_a && echo "a={{params.x}}" > {{outputs.out}}
    outputs: {out: {type: file}}
  - name: b
    run: echo run >> count_b && echo "b={{params.y}}" > {{outputs.out}}
    outputs: {out: {type: file}}
  - name: c
    run: echo run >> count_c && cat {{steps.a.outputs.out}} {{steps.b.outputs.out}} > {{outputs.out}}
    outputs: {out: {type: file}}
)";

TEST_F(RunnerTest, RunsTheDagInOrderAndPassesArtifacts) {
  RunReport report = Run(kDiamond);
  ASSERT_TRUE(report.succeeded);
  ASSERT_EQ(report.steps.size(), 3u);
  EXPECT_EQ(report.steps[2].name, "c");
  for (const StepReport& step : report.steps) EXPECT_EQ(step.state, StepState::kDone) << step.name;
  EXPECT_EQ(Read(Step(report, "c").dir / "outputs" / "out"), "a=1\nb=why\n");
  EXPECT_TRUE(fs::exists(Step(report, "c").dir / "stdout.log"));
  EXPECT_TRUE(fs::exists(report.run_dir / "pipeline.json"));
}

TEST_F(RunnerTest, IndependentStepsRunInParallelUpToTheLimit) {
  // Each of a and b waits (up to 20 s) until the other has started, so the
  // pipeline only succeeds when both run at once.
  const char* together = R"(name: together
steps:
  - name: a
    run: touch started_a; i=0; while [ ! -e started_b ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; [ -e started_b ]
  - name: b
    run: touch started_b; i=0; while [ ! -e started_a ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; [ -e started_a ]
)";
  RunReport parallel = Run(together, {}, [](RunOptions& options) { options.parallel = 2; });
  EXPECT_TRUE(parallel.succeeded);

  // With --parallel 1, no two steps ever overlap: each takes a lock folder.
  const char* exclusive = R"(name: exclusive
steps:
  - {name: a, run: "mkdir busy && sleep 0.2 && rmdir busy", cache: false}
  - {name: b, run: "mkdir busy && sleep 0.2 && rmdir busy", cache: false}
  - {name: c, run: "mkdir busy && sleep 0.2 && rmdir busy", cache: false}
)";
  RunReport serial = Run(exclusive, {}, [](RunOptions& options) { options.parallel = 1; });
  EXPECT_TRUE(serial.succeeded);
  RunReport overlapping = Run(exclusive, {}, [](RunOptions& options) { options.parallel = 3; });
  // The three now start together, so at least one finds the lock taken.
  EXPECT_FALSE(overlapping.succeeded);
}

TEST_F(RunnerTest, RetriesUntilSuccess) {
  RunReport report = Run(R"(name: flaky
steps:
  - name: flaky
    run: echo try >> tries; [ $(wc -l < tries) -ge 3 ] || { echo "not yet" >&2; exit 7; }
    retry: {limit: 3, backoff: 10ms}
)");
  ASSERT_TRUE(report.succeeded);
  EXPECT_EQ(Step(report, "flaky").attempt, 3);
  EXPECT_EQ(Count("tries"), 3);
  EXPECT_TRUE(fs::exists(Step(report, "flaky").dir / "stderr.1.log"));
}

TEST_F(RunnerTest, AFailedStepStopsItsDependentsAndReportsWhy) {
  RunReport report = Run(R"(name: broken
steps:
  - name: bad
    run: echo "first line" >&2; echo "the real reason" >&2; exit 3
    retry: {limit: 1, backoff: 0s}
    outputs: {o: {type: file}}
  - name: after
    run: cat {{steps.bad.outputs.o}} && echo ran >> count_after
  - name: later
    run: echo ran >> count_later
    depends: [after]
  - name: independent
    run: echo ran >> count_independent
on_exit:
  run: echo "{{pipeline.status}}" > exit_status
)");
  EXPECT_FALSE(report.succeeded);
  const StepReport& bad = Step(report, "bad");
  EXPECT_EQ(bad.state, StepState::kFailed);
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(bad.attempt, 2);
  EXPECT_NE(bad.reason.find("exit code 3"), std::string::npos);
  EXPECT_NE(bad.stderr_tail.find("the real reason"), std::string::npos);
  EXPECT_EQ(Step(report, "after").state, StepState::kSkipped);
  EXPECT_NE(Step(report, "after").reason.find("'bad' failed"), std::string::npos);
  EXPECT_EQ(Step(report, "later").state, StepState::kSkipped);
  EXPECT_EQ(Count("count_after"), 0);
  EXPECT_EQ(Count("count_later"), 0);
  EXPECT_EQ(Step(report, "independent").state, StepState::kDone);
  EXPECT_EQ(Count("count_independent"), 1);
  // on_exit ran after the failure and saw it.
  EXPECT_EQ(Step(report, "on_exit").state, StepState::kDone);
  EXPECT_EQ(Read(dir_ / "exit_status"), "Failed\n");
}

TEST_F(RunnerTest, TimeoutKillsTheWholeProcessGroup) {
  RunReport report = Run(R"(name: slow
steps:
  - name: slow
    run: sleep 30 & echo $! > child_pid; echo partial > {{outputs.o}}; wait
    timeout: 300ms
    outputs: {o: {type: file}}
)");
  EXPECT_FALSE(report.succeeded);
  const StepReport& slow = Step(report, "slow");
  EXPECT_EQ(slow.state, StepState::kFailed);
  EXPECT_NE(slow.reason.find("timed out after 300ms"), std::string::npos) << slow.reason;
  // The background child of the shell is gone too.
  pid_t child = std::stoi(Read(dir_ / "child_pid"));
  bool gone = false;
  for (int tries = 0; tries < 200 && !gone; ++tries) {
    gone = ::kill(child, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "pid " << child << " survived the timeout";
  // A killed step leaves nothing in the cache: only lock files.
  for (const auto& entry : fs::directory_iterator(dir_ / "cache")) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.ends_with(".lock") || name == "digests.json") << name;
  }
}

TEST_F(RunnerTest, WhenConditionsSkipOrRun) {
  const char* yaml = R"(name: gate
params:
  min: {type: float, default: 0.5}
steps:
  - name: score
    run: >-
      echo '{"metrics": {"accuracy": 0.75}}' > {{outputs.m}}
    outputs:
      m: {type: file}
      accuracy: {type: float, from: m, key: metrics.accuracy}
  - name: promote
    when: steps.score.outputs.accuracy >= params.min
    run: echo promoted > {{outputs.o}}
    outputs: {o: {type: file}}
  - name: announce
    run: cat {{steps.promote.outputs.o}}
  - name: tidy
    depends: [promote]
    run: echo tidy >> count_tidy
)";
  RunReport pass = Run(yaml, {"min=0.7"});
  ASSERT_TRUE(pass.succeeded);
  EXPECT_EQ(Step(pass, "score").values,
            (std::vector<std::pair<std::string, std::string>>{{"accuracy", "0.75"}}));
  EXPECT_EQ(Step(pass, "promote").state, StepState::kDone);
  EXPECT_EQ(Step(pass, "announce").state, StepState::kDone);

  RunReport gated = Run(yaml, {"min=0.8"});
  EXPECT_TRUE(gated.succeeded);  // skipping is not failing
  EXPECT_EQ(Step(gated, "score").state, StepState::kCached);
  EXPECT_EQ(Step(gated, "promote").state, StepState::kSkipped);
  EXPECT_NE(Step(gated, "promote").reason.find("when is false"), std::string::npos);
  // It references the skipped step's output, so it is skipped too...
  EXPECT_EQ(Step(gated, "announce").state, StepState::kSkipped);
  // ...while a step that only waits for it still runs.
  EXPECT_EQ(Step(gated, "tidy").state, StepState::kDone);
}

TEST_F(RunnerTest, ForEachFansOutAndJoins) {
  RunReport report = Run(R"(name: fan
params:
  names: {type: list, default: [ada, grace, linus]}
steps:
  - name: card
    for_each: "{{params.names}}"
    run: echo "hi {{item}}" > {{outputs.o}}
    outputs:
      o: {type: file}
  - name: join
    run: echo '{{steps.card.outputs.o}}' > {{outputs.list}}; for i in 0 1 2; do cat "{{pipeline.run_dir}}/steps/card/$i/outputs/o"; done > {{outputs.all}}
    outputs:
      list: {type: file}
      all: {type: file}
)");
  ASSERT_TRUE(report.succeeded);
  ASSERT_EQ(report.steps.size(), 4u);
  EXPECT_EQ(report.steps[0].name, "card[0]");
  EXPECT_EQ(report.steps[2].item, "linus");
  EXPECT_EQ(Read(Step(report, "join").dir / "outputs" / "all"), "hi ada\nhi grace\nhi linus\n");
  // The reference to a fanned-out output is the JSON list of its paths.
  std::string list = Read(Step(report, "join").dir / "outputs" / "list");
  EXPECT_EQ(list.front(), '[');
  EXPECT_NE(list.find("card/2/outputs/o"), std::string::npos) << list;
}

TEST_F(RunnerTest, RerunIsAllCacheHitsAndChangingAParamRerunsOnlyItsBranch) {
  RunReport first = Run(kDiamond);
  ASSERT_TRUE(first.succeeded);
  EXPECT_EQ(Count("count_a") + Count("count_b") + Count("count_c"), 3);

  RunReport second = Run(kDiamond);
  ASSERT_TRUE(second.succeeded);
  for (const StepReport& step : second.steps) {
    EXPECT_EQ(step.state, StepState::kCached) << step.name;
  }
  EXPECT_EQ(Count("count_a") + Count("count_b") + Count("count_c"), 3);  // nothing re-ran
  // Outputs were restored into the new run folder, and run ids point at the producer.
  EXPECT_EQ(Read(Step(second, "c").dir / "outputs" / "out"), "a=1\nb=why\n");
  EXPECT_EQ(Step(second, "a").producer_run_id, Step(first, "a").run_id);
  EXPECT_NE(Step(second, "a").run_id, Step(first, "a").run_id);

  RunReport changed = Run(kDiamond, {"x=2"});
  ASSERT_TRUE(changed.succeeded);
  EXPECT_EQ(Step(changed, "a").state, StepState::kDone);
  EXPECT_EQ(Step(changed, "b").state, StepState::kCached);
  EXPECT_EQ(Step(changed, "c").state, StepState::kDone);
  EXPECT_EQ(Count("count_a"), 2);
  EXPECT_EQ(Count("count_b"), 1);
  EXPECT_EQ(Count("count_c"), 2);
  EXPECT_EQ(Read(Step(changed, "c").dir / "outputs" / "out"), "a=2\nb=why\n");

  // --no-cache runs everything again.
  RunReport forced = Run(kDiamond, {}, [](RunOptions& options) { options.use_cache = false; });
  ASSERT_TRUE(forced.succeeded);
  EXPECT_EQ(Count("count_a") + Count("count_b") + Count("count_c"), 8);
}

TEST_F(RunnerTest, InputsAndEnvFeedTheCacheKey) {
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "config.txt", "one\n").ok());
  const char* yaml = R"(name: keyed
steps:
  - name: use
    run: echo run >> count_use; cat config.txt > {{outputs.o}}
    inputs: [config.txt]
    env: [PIPELINE_TEST_KNOB]
    outputs: {o: {type: file}}
  - name: uncached
    run: echo run >> count_uncached
    cache: false
)";
  ::unsetenv("PIPELINE_TEST_KNOB");
  EXPECT_TRUE(Run(yaml).succeeded);
  EXPECT_TRUE(Run(yaml).succeeded);
  EXPECT_EQ(Count("count_use"), 1);
  EXPECT_EQ(Count("count_uncached"), 2);
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "config.txt", "two\n").ok());
  RunReport edited = Run(yaml);
  EXPECT_EQ(Count("count_use"), 2);
  EXPECT_EQ(Read(Step(edited, "use").dir / "outputs" / "o"), "two\n");
  ::setenv("PIPELINE_TEST_KNOB", "on", 1);
  Run(yaml);
  EXPECT_EQ(Count("count_use"), 3);
  ::unsetenv("PIPELINE_TEST_KNOB");
}

TEST_F(RunnerTest, ConcurrentRunsOfOneKeyComputeOnce) {
  const char* yaml = R"(name: shared
steps:
  - name: slow
    run: echo run >> count_slow; sleep 0.5; mkdir -p {{outputs.d}}/sub && echo data > {{outputs.d}}/sub/file
    outputs: {d: {type: folder}}
)";
  Pipeline pipeline = Load(yaml);
  RunOptions first = Options(pipeline, {});
  RunOptions second = Options(pipeline, {});
  first.run_dir = dir_ / "run1";
  second.run_dir = dir_ / "run2";
  core::Result<RunReport> one = core::InternalError("not run");
  core::Result<RunReport> two = core::InternalError("not run");
  std::thread thread_one([&] { one = RunPipeline(pipeline, first); });
  std::thread thread_two([&] { two = RunPipeline(pipeline, second); });
  thread_one.join();
  thread_two.join();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_TRUE(one->succeeded && two->succeeded);
  EXPECT_EQ(Count("count_slow"), 1);
  std::vector<StepState> states = {one->steps[0].state, two->steps[0].state};
  std::sort(states.begin(), states.end());
  EXPECT_EQ(states, (std::vector<StepState>{StepState::kCached, StepState::kDone}));
  EXPECT_EQ(Read(dir_ / "run1/steps/slow/outputs/d/sub/file"), "data\n");
  EXPECT_EQ(Read(dir_ / "run2/steps/slow/outputs/d/sub/file"), "data\n");
}

TEST_F(RunnerTest, AMissingDeclaredOutputFailsTheStep) {
  RunReport report = Run(R"(name: liar
steps:
  - name: liar
    run: echo nothing
    outputs: {o: {type: file}, n: {type: int}}
)");
  EXPECT_FALSE(report.succeeded);
  EXPECT_NE(Step(report, "liar").reason.find("'o' was not written"), std::string::npos)
      << Step(report, "liar").reason;
}

TEST_F(RunnerTest, RecordsTheRunAndChildRunsInTheTrackingStore) {
  const char* yaml = R"(name: tracked
params:
  n: {type: int, default: 4}
steps:
  - name: first
    run: echo "$MLFLOW_RUN_ID" > {{outputs.id}}; echo "$MLFLOW_TRACKING_URI" > {{outputs.uri}}; echo {{params.n}} > {{outputs.n}}
    outputs:
      id: {type: file}
      uri: {type: file}
      n: {type: int}
  - name: second
    run: echo "{{steps.first.run_id}}" > {{outputs.parent}}
    outputs: {parent: {type: file}}
)";
  RunReport report = Run(yaml);
  ASSERT_TRUE(report.succeeded);
  auto store = tracking::OpenStore(Uri(), (dir_ / "artifacts").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto parent = (*store)->GetRun(report.run_id);
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(parent->info.status, tracking::RunStatus::kFinished);
  auto experiment = (*store)->GetExperimentByName("tracked");
  ASSERT_TRUE(experiment.ok());
  EXPECT_EQ(parent->info.experiment_id, experiment->experiment_id);
  EXPECT_NE(
      std::find(parent->data.params.begin(), parent->data.params.end(), tracking::Param{"n", "4"}),
      parent->data.params.end());

  const StepReport& first = Step(report, "first");
  // The step's process got its own child run id and the store's URI.
  EXPECT_EQ(Read(first.dir / "outputs" / "id"), first.run_id + "\n");
  EXPECT_EQ(Read(first.dir / "outputs" / "uri"), Uri() + "\n");
  EXPECT_EQ(Read(Step(report, "second").dir / "outputs" / "parent"), first.run_id + "\n");
  auto child = (*store)->GetRun(first.run_id);
  ASSERT_TRUE(child.ok());
  auto tag = [&](const tracking::Run& run, const std::string& key) -> std::string {
    for (const auto& entry : run.data.tags) {
      if (entry.key == key) return entry.value;
    }
    return "<none>";
  };
  EXPECT_EQ(tag(*child, "mlflow.parentRunId"), report.run_id);
  EXPECT_EQ(tag(*child, "mlflow.runName"), "first");
  EXPECT_EQ(tag(*child, "mlforge.pipeline.cache"), "miss");
  EXPECT_EQ(tag(*child, "mlforge.pipeline.output.n"), "value:4");
  EXPECT_EQ(tag(*child, "mlforge.pipeline.output.id").rfind("sha256:", 0), 0u);
  EXPECT_EQ(child->info.status, tracking::RunStatus::kFinished);
  ASSERT_EQ(child->data.metrics.size(), 1u);
  EXPECT_EQ(child->data.metrics[0].key, "n");
  EXPECT_EQ(child->data.metrics[0].value, 4.0);

  // A rerun: the child of a cache hit names the run that produced it.
  RunReport again = Run(yaml);
  const StepReport& hit = Step(again, "first");
  ASSERT_EQ(hit.state, StepState::kCached);
  auto hit_run = (*store)->GetRun(hit.run_id);
  ASSERT_TRUE(hit_run.ok());
  EXPECT_EQ(tag(*hit_run, "mlforge.pipeline.cache"), "hit");
  EXPECT_EQ(tag(*hit_run, "mlforge.pipeline.cached_from_run"), first.run_id);
  EXPECT_EQ(tag(*hit_run, "mlflow.parentRunId"), again.run_id);

  // A failed pipeline: the failed step's child run and the pipeline run are FAILED.
  RunReport failed = Run("name: tracked\nsteps:\n  - {name: oops, run: 'exit 2'}\n");
  auto failed_run = (*store)->GetRun(failed.run_id);
  ASSERT_TRUE(failed_run.ok());
  EXPECT_EQ(failed_run->info.status, tracking::RunStatus::kFailed);
  auto failed_child = (*store)->GetRun(Step(failed, "oops").run_id);
  ASSERT_TRUE(failed_child.ok());
  EXPECT_EQ(failed_child->info.status, tracking::RunStatus::kFailed);
  EXPECT_EQ(tag(*failed_child, "mlforge.pipeline.exit_code"), "2");
}

TEST_F(RunnerTest, StopRequestKillsRunningStepsAndStillRunsOnExit) {
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    for (int tries = 0; tries < 500 && !fs::exists(dir_ / "started"); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop.store(true);
  });
  RunReport report = Run(R"(name: stopped
steps:
  - {name: long, run: "touch started; sleep 30"}
  - {name: after, run: "true", depends: [long]}
on_exit:
  run: echo "{{pipeline.status}}" > exit_status
)",
                         {}, [&](RunOptions& options) { options.stop_requested = &stop; });
  stopper.join();
  EXPECT_FALSE(report.succeeded);
  EXPECT_EQ(Step(report, "long").state, StepState::kFailed);
  EXPECT_EQ(Step(report, "after").state, StepState::kSkipped);
  EXPECT_EQ(Read(dir_ / "exit_status"), "Failed\n");
}

}  // namespace
}  // namespace mlforge::pipeline
