#include "dist/elastic_agent.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "dist/launcher.h"

namespace mlforge::dist {
namespace {

TEST(ElasticAgentTest, ParsesNodeRanges) {
  EXPECT_EQ(*ParseNodeRange("2"), std::make_pair(2, 2));
  EXPECT_EQ(*ParseNodeRange("1:3"), std::make_pair(1, 3));
  for (const char* bad : {"", "0", "3:1", "a", "1:", ":2", "1:2:3", "2x"}) {
    EXPECT_FALSE(ParseNodeRange(bad).ok()) << bad;
  }
}

TEST(ElasticAgentTest, ParsesEndpoints) {
  EXPECT_EQ(*ParseEndpoint("127.0.0.1:29400"), std::make_pair(std::string("127.0.0.1"), 29400));
  EXPECT_EQ(*ParseEndpoint("[::1]:5"), std::make_pair(std::string("::1"), 5));
  EXPECT_EQ(*ParseEndpoint("node-0.svc:1234"), std::make_pair(std::string("node-0.svc"), 1234));
  for (const char* bad : {"", "host", ":80", "h:0", "h:x", "h:70000"}) {
    EXPECT_FALSE(ParseEndpoint(bad).ok()) << bad;
  }
}

ElasticOptions Options(int port, const std::string& script, int min_nodes, int max_nodes) {
  ElasticOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.min_nodes = min_nodes;
  options.max_nodes = max_nodes;
  options.endpoint_port = port;
  options.rdzv_id = "test";
  options.last_call_ms = 200;
  options.join_timeout_ms = 30'000;
  options.stop_grace_ms = 1000;
  return options;
}

// Runs one agent per entry of `names` on threads, as if on as many hosts.
std::vector<core::Result<ElasticOutcome>> RunAgents(ElasticOptions options,
                                                    const std::vector<std::string>& names) {
  std::vector<core::Result<ElasticOutcome>> outcomes(names.size(),
                                                     core::InternalError("did not run"));
  std::vector<std::thread> threads;
  for (size_t index = 0; index < names.size(); ++index) {
    threads.emplace_back([&, index] {
      ElasticOptions mine = options;
      mine.node_name = names[index];
      outcomes[index] = RunElasticAgent(mine);
    });
  }
  for (std::thread& thread : threads) thread.join();
  return outcomes;
}

TEST(ElasticAgentTest, TwoAgentsStartOneGroupWithDistinctRanks) {
  const auto folder = std::filesystem::temp_directory_path() / "mlforge_elastic_ranks";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const int port = *PickFreePort("127.0.0.1");
  // Each worker checks the world size and leaves a file named by its rank.
  const std::string script = "[ \"$MLFORGE_DIST_WORLD_SIZE\" = 2 ] && touch " + folder.string() +
                             "/rank_$MLFORGE_DIST_RANK";
  auto outcomes = RunAgents(Options(port, script, 2, 2), {"a", "b"});
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.status().message();
    EXPECT_EQ(outcome->exit_code, 0) << outcome->message;
    EXPECT_EQ(outcome->rounds, 1);
    EXPECT_EQ(outcome->restarts, 0);
    EXPECT_EQ(outcome->world_size, 2);
  }
  EXPECT_TRUE(std::filesystem::exists(folder / "rank_0"));
  EXPECT_TRUE(std::filesystem::exists(folder / "rank_1"));
}

TEST(ElasticAgentTest, AFailedWorkerRestartsTheGroupWithinMaxRestarts) {
  const int port = *PickFreePort("127.0.0.1");
  // Rank 1 fails in round 0 only.
  const std::string script =
      "[ \"$MLFORGE_DIST_RESTART_COUNT\" = 0 ] && [ \"$MLFORGE_DIST_RANK\" = 1 ] && exit 3; exit 0";
  ElasticOptions options = Options(port, script, 2, 2);
  options.max_restarts = 1;
  auto outcomes = RunAgents(options, {"a", "b"});
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.status().message();
    EXPECT_EQ(outcome->exit_code, 0) << outcome->message;
    EXPECT_EQ(outcome->rounds, 2);
    EXPECT_EQ(outcome->restarts, 1);
  }
}

TEST(ElasticAgentTest, AFailureBeyondMaxRestartsEndsTheJobOnEveryNode) {
  const int port = *PickFreePort("127.0.0.1");
  const std::string script = "[ \"$MLFORGE_DIST_RANK\" = 1 ] && exit 3; exec sleep 30";
  auto outcomes = RunAgents(Options(port, script, 2, 2), {"a", "b"});
  int with_code_3 = 0;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.status().message();
    EXPECT_NE(outcome->exit_code, 0);
    EXPECT_NE(outcome->message.find("exited with code 3"), std::string::npos) << outcome->message;
    if (outcome->exit_code == 3) ++with_code_3;
  }
  EXPECT_EQ(with_code_3, 1);  // the node whose worker failed
}

TEST(ElasticAgentTest, NodesWithDifferentWorkerCountsShareOneWorldSize) {
  const auto folder = std::filesystem::temp_directory_path() / "mlforge_elastic_counts";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const int port = *PickFreePort("127.0.0.1");
  const std::string script = "[ \"$MLFORGE_DIST_WORLD_SIZE\" = 3 ] && touch " + folder.string() +
                             "/rank_$MLFORGE_DIST_RANK";
  ElasticOptions two = Options(port, script, 2, 2);
  two.nproc_per_node = 2;
  two.node_name = "two";
  ElasticOptions one = Options(port, script, 2, 2);
  one.node_name = "one";
  core::Result<ElasticOutcome> first = core::InternalError("did not run");
  std::thread thread([&] { first = RunElasticAgent(two); });
  core::Result<ElasticOutcome> second = RunElasticAgent(one);
  thread.join();
  for (const auto* outcome : {&first, &second}) {
    ASSERT_TRUE(outcome->ok()) << outcome->status().message();
    EXPECT_EQ((*outcome)->exit_code, 0) << (*outcome)->message;
    EXPECT_EQ((*outcome)->world_size, 3);
  }
  for (const char* rank : {"rank_0", "rank_1", "rank_2"}) {
    EXPECT_TRUE(std::filesystem::exists(folder / rank)) << rank;
  }
}

TEST(ElasticAgentTest, ALateNodeIsAdmittedAtTheNextRoundWithoutCountingARestart) {
  const auto folder = std::filesystem::temp_directory_path() / "mlforge_elastic_late";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const int port = *PickFreePort("127.0.0.1");
  // Each worker says it started; alone it would then run for half a
  // minute, with two nodes it is done.
  const std::string script = "touch " + folder.string() +
                             "/started_$MLFORGE_DIST_RESTART_COUNT; [ \"$MLFORGE_DIST_WORLD_SIZE\" "
                             "= 2 ] && exit 0; exec sleep 30";
  ElasticOptions options = Options(port, script, 1, 2);  // max_restarts 0
  options.node_name = "early";
  core::Result<ElasticOutcome> early = core::InternalError("did not run");
  std::thread thread([&] { early = RunElasticAgent(options); });
  // Once round 0's worker runs, round 0 is closed: the late node waits.
  for (int wait = 0; wait < 1500 && !std::filesystem::exists(folder / "started_0"); ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ElasticOptions late = options;
  late.node_name = "late";
  core::Result<ElasticOutcome> second = RunElasticAgent(late);
  thread.join();
  ASSERT_TRUE(early.ok()) << early.status().message();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(early->exit_code, 0) << early->message;
  EXPECT_EQ(second->exit_code, 0) << second->message;
  EXPECT_EQ(early->rounds, 2);
  EXPECT_EQ(second->rounds, 1);
  EXPECT_EQ(early->restarts, 0);
  EXPECT_EQ(second->world_size, 2);
}

TEST(ElasticAgentTest, TooFewNodesFailsNamingWhatIsMissing) {
  const int port = *PickFreePort("127.0.0.1");
  ElasticOptions options = Options(port, "exit 0", 2, 3);
  options.join_timeout_ms = 300;
  auto outcomes = RunAgents(options, {"lonely"});
  ASSERT_FALSE(outcomes[0].ok());
  EXPECT_EQ(outcomes[0].status().code(), core::StatusCode::kDeadlineExceeded);
  const std::string& message = outcomes[0].status().message();
  EXPECT_NE(message.find("1 of at least 2 node(s) joined"), std::string::npos) << message;
  EXPECT_NE(message.find("(lonely)"), std::string::npos) << message;
  EXPECT_NE(message.find("1 more needed"), std::string::npos) << message;
}

}  // namespace
}  // namespace mlforge::dist
