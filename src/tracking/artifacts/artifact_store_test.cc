#include "tracking/artifacts/artifact_store.h"

#include <gtest/gtest.h>

#include <string>

namespace mlforge::tracking {
namespace {

// Encodes every "%" once more: "%2e" -> "%252e".
std::string EncodePercent(std::string text, int times) {
  for (int round = 0; round < times; ++round) {
    std::string next;
    for (char c : text) next += c == '%' ? std::string("%25") : std::string(1, c);
    text = std::move(next);
  }
  return text;
}

struct AcceptedCase {
  std::string input;
  std::string expected;
};

// Paths MLflow's validate_path_is_safe accepts, and what it returns.
const AcceptedCase accepted_cases[] = {
    {"", ""},
    {"a.txt", "a.txt"},
    {"dir/sub/model.bin", "dir/sub/model.bin"},
    {"1/0123abcd/artifacts/model/MLmodel", "1/0123abcd/artifacts/model/MLmodel"},
    {"a%20b.txt", "a b.txt"},
    {"a%2520b.txt", "a b.txt"},
    {"./a", "./a"},
    {"a//b", "a//b"},
    {"dir/", "dir/"},
    {"..a/b..c/...", "..a/b..c/..."},
    {"100%", "100%"},
    {"%zz", "%zz"},
    {"ab:c", "ab:c"},
    {"file:relative/x", "relative/x"},
    {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt"},
    {EncodePercent("%61", 8), "a"},
};

TEST(ArtifactPathTest, AcceptsSafePathsAndReturnsThemDecoded) {
  for (const AcceptedCase& test : accepted_cases) {
    core::Result<std::string> result = ValidateArtifactPath(test.input);
    ASSERT_TRUE(result.ok()) << "'" << test.input << "': " << result.status().ToString();
    EXPECT_EQ(*result, test.expected) << "'" << test.input << "'";
  }
}

// Traversal and other unsafe paths, each rejected with MLflow's message.
const std::string rejected_paths[] = {
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "..%2Fx",
    "%252e%252e%252fx",
    EncodePercent("%2e%2e/x", 5),
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "//server/share/x",
    "C:/Windows/x",
    "c:x",
    "C:\\x",
    "a\\..\\x",
    "a%5Cb",
    std::string("a\0b", 3),
    "a%00b",
    "x\x01y",
    "x%7Fy",
    "a#b",
    "a%23b",
    "file:///etc/passwd",
    "file://host/etc/passwd",
    "file:../x",
    EncodePercent("%61", 9),  // still changing after 10 rounds
};

TEST(ArtifactPathTest, RejectsUnsafePathsWithMlflowMessage) {
  for (const std::string& input : rejected_paths) {
    core::Result<std::string> result = ValidateArtifactPath(input);
    ASSERT_FALSE(result.ok()) << "accepted '" << input << "'";
    EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument) << input;
    EXPECT_EQ(result.status().message(), "Invalid path") << input;
  }
}

TEST(ArtifactPathTest, ValidationIsIdempotent) {
  for (const AcceptedCase& test : accepted_cases) {
    core::Result<std::string> once = ValidateArtifactPath(test.input);
    ASSERT_TRUE(once.ok());
    core::Result<std::string> twice = ValidateArtifactPath(*once);
    ASSERT_TRUE(twice.ok()) << test.input;
    EXPECT_EQ(*twice, *once);
  }
}

}  // namespace
}  // namespace mlforge::tracking
