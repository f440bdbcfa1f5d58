#include "core/source_control.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/testing/temp_dir.h"

namespace mlforge::core {
namespace {

TEST(GitCommitTest, NamesTheCommitOfTheCheckoutHoldingAFileOrFolder) {
  testing::ScopedTempDir dir("git");
  const std::string repo = (dir.path() / "repo it's").string();  // a quote in the path
  std::filesystem::create_directories(repo + "/sub");
  std::ofstream(repo + "/sub/config.yaml") << "seed: 1\n";
  const std::string git = "git -C \"" + repo + "\" -c user.name=t -c user.email=t@example.com ";
  ASSERT_EQ(std::system((git + "init -q && " + git + "add -A && " + git +
                         "commit -q -m first > /dev/null")
                            .c_str()),
            0);
  std::string expected;
  {
    std::FILE* pipe = popen(("git -C \"" + repo + "\" rev-parse HEAD").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[64] = {};
    ASSERT_NE(std::fgets(line, sizeof line, pipe), nullptr);
    pclose(pipe);
    expected.assign(line, 40);
  }
  EXPECT_EQ(GitCommit(repo + "/sub/config.yaml"), expected);
  EXPECT_EQ(GitCommit(repo + "/sub"), expected);
  EXPECT_EQ(GitCommit(dir.path() / "no such folder" / "x.yaml"), "");
}

TEST(GitCommitTest, EmptyOutsideACheckout) {
  testing::ScopedTempDir dir("nogit");
  EXPECT_EQ(GitCommit(dir.path()), "");
}

}  // namespace
}  // namespace mlforge::core
