#include "dist/launch_env.h"

#include <gtest/gtest.h>

namespace mlforge::dist {
namespace {

std::string First(const std::string& list) {
  auto host = FirstHost(list);
  return host.ok() ? *host : "error: " + host.status().message();
}

TEST(LaunchEnvTest, NothingSetIsOneProcess) {
  auto env = DetectLaunchEnv({{"HOME", "/root"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kNone);
  EXPECT_EQ(env->rank, 0);
  EXPECT_EQ(env->world_size, 1);
  EXPECT_FALSE(env->distributed());
}

TEST(LaunchEnvTest, MlforgeLauncher) {
  auto env = DetectLaunchEnv({{"MLFORGE_DIST_RANK", "1"},
                              {"MLFORGE_DIST_WORLD_SIZE", "2"},
                              {"MLFORGE_DIST_LOCAL_RANK", "1"},
                              {"MLFORGE_DIST_LOCAL_WORLD_SIZE", "2"},
                              {"MLFORGE_DIST_MASTER_ADDR", "127.0.0.1"},
                              {"MLFORGE_DIST_MASTER_PORT", "40123"},
                              {"MLFORGE_DIST_RESTART_COUNT", "2"},
                              {"MLFORGE_DIST_THREADS", "1"},
                              // An outer torchrun's variables lose to ours.
                              {"RANK", "7"},
                              {"WORLD_SIZE", "8"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kMlforge);
  EXPECT_EQ(env->rank, 1);
  EXPECT_EQ(env->world_size, 2);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->master_port, 40123);
  EXPECT_EQ(env->restart_count, 2);
  EXPECT_EQ(env->threads_per_worker, 1);
}

TEST(LaunchEnvTest, Torchrun) {
  auto env = DetectLaunchEnv({{"RANK", "5"},
                              {"WORLD_SIZE", "8"},
                              {"LOCAL_RANK", "1"},
                              {"LOCAL_WORLD_SIZE", "4"},
                              {"GROUP_RANK", "1"},
                              {"TORCHELASTIC_RESTART_COUNT", "3"},
                              {"MASTER_ADDR", "10.0.0.1"},
                              {"MASTER_PORT", "29400"},
                              {"SLURM_PROCID", "0"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kTorchrun);
  EXPECT_EQ(env->rank, 5);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 4);
  EXPECT_EQ(env->group_rank, 1);
  EXPECT_EQ(env->restart_count, 3);
  EXPECT_EQ(env->master_addr, "10.0.0.1");
  EXPECT_EQ(env->master_port, 29400);
  EXPECT_EQ(env->master_source, "MASTER_ADDR");
}

TEST(LaunchEnvTest, PyTorchJobWithoutTorchrunIsOneProcessPerPod) {
  // What the Kubeflow training operator gives a worker pod of a plain PyTorchJob.
  auto env = DetectLaunchEnv({{"RANK", "2"},
                              {"WORLD_SIZE", "3"},
                              {"MASTER_ADDR", "job-master-0"},
                              {"MASTER_PORT", "23456"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->rank, 2);
  EXPECT_EQ(env->local_rank, 0);
  EXPECT_EQ(env->local_world_size, 1);
  EXPECT_EQ(env->master_addr, "job-master-0");
}

TEST(LaunchEnvTest, TorchrunAcrossHostsNeedsMasterAddr) {
  auto env = DetectLaunchEnv({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("MASTER_ADDR"), std::string::npos);
}

TEST(LaunchEnvTest, PetElasticVariables) {
  auto env = DetectLaunchEnv({{"PET_NODE_RANK", "1"},
                              {"PET_NNODES", "1:3"},
                              {"PET_MASTER_ADDR", "elastic-master"},
                              {"PET_MASTER_PORT", "23456"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kPetElastic);
  EXPECT_EQ(env->rank, 1);
  EXPECT_EQ(env->world_size, 3);
  EXPECT_EQ(env->master_addr, "elastic-master");
  EXPECT_EQ(env->master_port, 23456);

  auto several = DetectLaunchEnv({{"PET_NODE_RANK", "0"},
                                  {"PET_NNODES", "2"},
                                  {"PET_NPROC_PER_NODE", "4"},
                                  {"PET_MASTER_ADDR", "m"}});
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.status().message().find("torchrun"), std::string::npos);
}

TEST(LaunchEnvTest, IndexedJobMasterIsPodZeroOfTheHeadlessService) {
  auto env = DetectLaunchEnv(
      {{"JOB_COMPLETION_INDEX", "2"}, {"WORLD_SIZE", "4"}, {"MLFORGE_DIST_SERVICE", "mnist-train"}},
      "mnist-train-2");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kIndexedJob);
  EXPECT_EQ(env->rank, 2);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_world_size, 1);
  EXPECT_EQ(env->master_addr, "mnist-train-0.mnist-train");

  auto no_size = DetectLaunchEnv({{"JOB_COMPLETION_INDEX", "0"}}, "job-0");
  ASSERT_FALSE(no_size.ok());
  EXPECT_NE(no_size.status().message().find("WORLD_SIZE"), std::string::npos);

  auto explicit_master = DetectLaunchEnv(
      {{"JOB_COMPLETION_INDEX", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "svc-0.svc"}}, "x");
  ASSERT_TRUE(explicit_master.ok());
  EXPECT_EQ(explicit_master->master_addr, "svc-0.svc");

  auto bad_host = DetectLaunchEnv(
      {{"JOB_COMPLETION_INDEX", "1"}, {"WORLD_SIZE", "2"}, {"MLFORGE_DIST_SERVICE", "s"}},
      "laptop");
  EXPECT_FALSE(bad_host.ok());
}

TEST(LaunchEnvTest, OpenMpi) {
  auto env = DetectLaunchEnv({{"OMPI_COMM_WORLD_RANK", "3"},
                              {"OMPI_COMM_WORLD_SIZE", "4"},
                              {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                              {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                              {"MASTER_ADDR", "node01"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kOpenMpi);
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "node01");
  EXPECT_EQ(env->master_port, kDefaultMasterPort);

  auto local = DetectLaunchEnv({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(local->master_addr, "127.0.0.1");

  auto spread = DetectLaunchEnv({{"OMPI_COMM_WORLD_RANK", "0"},
                                 {"OMPI_COMM_WORLD_SIZE", "4"},
                                 {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  ASSERT_FALSE(spread.ok());
  EXPECT_NE(spread.status().message().find("mpirun -x MASTER_ADDR"), std::string::npos);
}

TEST(LaunchEnvTest, SlurmTakesTheFirstNodeOfTheList) {
  auto env = DetectLaunchEnv({{"SLURM_PROCID", "5"},
                              {"SLURM_NTASKS", "8"},
                              {"SLURM_LOCALID", "1"},
                              {"SLURM_NODEID", "2"},
                              {"SLURM_TASKS_PER_NODE", "2(x4)"},
                              {"SLURM_JOB_NODELIST", "gpu[07-09,11]"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->launcher, Launcher::kSlurm);
  EXPECT_EQ(env->rank, 5);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->group_rank, 2);
  EXPECT_EQ(env->master_addr, "gpu07");
  EXPECT_EQ(env->master_source, "SLURM_JOB_NODELIST");

  auto overridden = DetectLaunchEnv({{"SLURM_PROCID", "0"},
                                     {"SLURM_NTASKS", "2"},
                                     {"SLURM_NODELIST", "a,b"},
                                     {"MASTER_ADDR", "login"},
                                     {"MASTER_PORT", "12345"}});
  ASSERT_TRUE(overridden.ok());
  EXPECT_EQ(overridden->master_addr, "login");
  EXPECT_EQ(overridden->master_port, 12345);
}

TEST(LaunchEnvTest, MalformedValuesNameTheVariable) {
  auto not_int = DetectLaunchEnv({{"RANK", "one"}, {"WORLD_SIZE", "2"}});
  ASSERT_FALSE(not_int.ok());
  EXPECT_EQ(not_int.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(not_int.status().message().find("RANK='one'"), std::string::npos);

  auto rank_too_big = DetectLaunchEnv({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "m"}});
  ASSERT_FALSE(rank_too_big.ok());
  EXPECT_NE(rank_too_big.status().message().find("rank 2"), std::string::npos);

  auto bad_port = DetectLaunchEnv({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_PORT", "70000"}});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("MASTER_PORT"), std::string::npos);

  auto no_world = DetectLaunchEnv({{"SLURM_PROCID", "0"}});
  ASSERT_FALSE(no_world.ok());
  EXPECT_NE(no_world.status().message().find("SLURM_NTASKS"), std::string::npos);
}

TEST(HostListTest, ExpandsRangesListsAndProducts) {
  auto hosts = ExpandHostList("node[01-03,07],login,r[1-2]n[8-9]");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(*hosts, (std::vector<std::string>{"node01", "node02", "node03", "node07", "login",
                                              "r1n8", "r1n9", "r2n8", "r2n9"}));
  auto padded = ExpandHostList("c[098-101]");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, (std::vector<std::string>{"c098", "c099", "c100", "c101"}));
}

TEST(HostListTest, FirstHost) {
  EXPECT_EQ(First("node[01-03,07]"), "node01");
  EXPECT_EQ(First("gpu[7,2-3]-ib"), "gpu7-ib");
  EXPECT_EQ(First("single"), "single");
  EXPECT_EQ(First("a[3-4]b[05-06],z"), "a3b05");
}

TEST(HostListTest, RejectsMalformedLists) {
  EXPECT_FALSE(ExpandHostList("node[01-03").ok());
  EXPECT_FALSE(ExpandHostList("node]1[").ok());
  EXPECT_FALSE(ExpandHostList("node[5-3]").ok());
  EXPECT_FALSE(ExpandHostList("node[a-b]").ok());
  EXPECT_FALSE(ExpandHostList("").ok());
  EXPECT_FALSE(FirstHost("node[").ok());
}

TEST(LaunchEnvTest, DescribeNamesTheLauncher) {
  LaunchEnv env;
  env.launcher = Launcher::kSlurm;
  env.world_size = 2;
  std::string text = Describe(env);
  EXPECT_NE(text.find("launcher: slurm"), std::string::npos);
  EXPECT_NE(text.find("world_size: 2"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::dist
