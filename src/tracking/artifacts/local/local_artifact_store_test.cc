#include "tracking/artifacts/local/local_artifact_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/file.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

namespace fs = std::filesystem;

// Every byte value, twice, so binary content survives byte for byte.
std::string AllBytes() {
  std::string bytes;
  for (int round = 0; round < 2; ++round) {
    for (int value = 0; value < 256; ++value) bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

// Every regular file under `folder`, by path relative to it, with contents.
std::map<std::string, std::string> Snapshot(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), folder).generic_string()] = *core::ReadFile(entry.path());
  }
  return files;
}

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path() / "root";
    outside_ = temp_.path() / "outside";
    fs::create_directories(outside_);
    ASSERT_TRUE(core::WriteFileAtomic(outside_ / "secret.txt", "do not touch").ok());
    auto store = LocalArtifactStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  testing::ScopedTempDir temp_{"mlforge-artifacts-test"};
  fs::path root_;
  fs::path outside_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, OpenCreatesTheRootAndRefusesAFile) {
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_EQ(store_->root(), fs::canonical(root_));
  auto on_file = LocalArtifactStore::Open(outside_ / "secret.txt");
  ASSERT_FALSE(on_file.ok());
  EXPECT_EQ(on_file.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(LocalArtifactStore::Open("").ok());
}

TEST_F(LocalArtifactStoreTest, PutGetRoundTripsBinaryBytesInNestedFolders) {
  const std::string bytes = AllBytes();
  ASSERT_TRUE(store_->Put("1/run/artifacts/model/weights.bin", bytes).ok());
  ASSERT_TRUE(store_->Put("1/run/artifacts/empty.txt", "").ok());
  auto read = store_->Get("1/run/artifacts/model/weights.bin");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, bytes);
  EXPECT_EQ(*store_->Get("1/run/artifacts/empty.txt"), "");
  EXPECT_EQ(*core::ReadFile(root_ / "1/run/artifacts/model/weights.bin"), bytes);

  // Replacing a file replaces it whole.
  ASSERT_TRUE(store_->Put("1/run/artifacts/model/weights.bin", "v2").ok());
  EXPECT_EQ(*store_->Get("1/run/artifacts/model/weights.bin"), "v2");

  auto stream = store_->OpenForRead("1/run/artifacts/model/weights.bin");
  ASSERT_TRUE(stream.ok());
  std::ostringstream streamed;
  streamed << (*stream)->rdbuf();
  EXPECT_EQ(streamed.str(), "v2");
}

TEST_F(LocalArtifactStoreTest, GetOfMissingFileOrFolderIsNotFound) {
  ASSERT_TRUE(store_->Put("dir/a.txt", "a").ok());
  EXPECT_EQ(store_->Get("dir/b.txt").status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("dir").status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("").status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenForRead("nothing").status().code(), core::StatusCode::kNotFound);
}

TEST_F(LocalArtifactStoreTest, ListMatchesMlflowLocalArtifactRepository) {
  ASSERT_TRUE(store_->Put("run/b.txt", "bbb").ok());
  ASSERT_TRUE(store_->Put("run/a.txt", "aaaaa").ok());
  ASSERT_TRUE(store_->Put("run/model/MLmodel", "flavors: {}").ok());
  ASSERT_TRUE(store_->Put("run/model/data/w.bin", "xx").ok());
  fs::create_directories(root_ / "run" / "empty");

  auto listed = store_->List("run");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<FileInfo> expected = {
      {"run/a.txt", false, 5},
      {"run/b.txt", false, 3},
      {"run/empty", true, std::nullopt},
      {"run/model", true, std::nullopt},
  };
  EXPECT_EQ(*listed, expected);

  // Paths stay relative to the root however the folder is named.
  for (const char* spelling : {"run/model", "run/model/", "./run/model", "run//model"}) {
    auto model = store_->List(spelling);
    ASSERT_TRUE(model.ok()) << spelling;
    std::vector<FileInfo> model_expected = {{"run/model/MLmodel", false, 11},
                                            {"run/model/data", true, std::nullopt}};
    EXPECT_EQ(*model, model_expected) << spelling;
  }

  auto root = store_->List("");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, (std::vector<FileInfo>{{"run", true, std::nullopt}}));

  // A missing folder, an empty folder and a file all list as nothing.
  EXPECT_TRUE(store_->List("missing/folder")->empty());
  EXPECT_TRUE(store_->List("run/empty")->empty());
  EXPECT_TRUE(store_->List("run/a.txt")->empty());
}

TEST_F(LocalArtifactStoreTest, DeleteRemovesFilesAndFoldersAndIsIdempotent) {
  ASSERT_TRUE(store_->Put("run/a.txt", "a").ok());
  ASSERT_TRUE(store_->Put("run/model/MLmodel", "m").ok());
  ASSERT_TRUE(store_->Put("run/model/data/w.bin", "w").ok());

  ASSERT_TRUE(store_->Delete("run/a.txt").ok());
  EXPECT_FALSE(*store_->Exists("run/a.txt"));
  ASSERT_TRUE(store_->Delete("run/model").ok());
  EXPECT_FALSE(*store_->Exists("run/model"));
  EXPECT_TRUE(*store_->Exists("run"));
  EXPECT_TRUE(store_->Delete("run/model").ok());
  EXPECT_TRUE(store_->Delete("never/was").ok());

  for (const char* root_spelling : {"", ".", "./", "a/.."}) {
    core::Status status = store_->Delete(root_spelling);
    EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument) << "'" << root_spelling << "'";
  }
  EXPECT_TRUE(fs::is_directory(root_));
}

TEST_F(LocalArtifactStoreTest, PutRefusesFoldersAndFilesInTheWay) {
  ASSERT_TRUE(store_->Put("dir/file.txt", "x").ok());
  EXPECT_EQ(store_->Put("dir", "over a folder").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("", "at the root").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("new/", "folder name").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("new/.", "folder name").code(), core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(*store_->Exists("new"));
  EXPECT_EQ(store_->Put("dir/file.txt/below", "under a file").code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(*store_->Get("dir/file.txt"), "x");
}

TEST_F(LocalArtifactStoreTest, PutStreamStoresLargeBytesInChunks) {
  std::string big;
  big.reserve(3 << 20);
  for (size_t index = 0; index < (size_t{3} << 20) + 17; ++index) {
    big.push_back(static_cast<char>((index * 131) % 251));
  }
  std::istringstream source(big);
  ASSERT_TRUE(store_->PutStream("big/blob.bin", source).ok());
  EXPECT_EQ(*store_->Get("big/blob.bin"), big);
  auto listed = store_->List("big");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].file_size, static_cast<int64_t>(big.size()));
}

// A source that yields some bytes and then fails, as a dropped upload would.
class FailingBuffer : public std::streambuf {
 protected:
  int_type underflow() override {
    if (served_) throw std::runtime_error("connection reset");
    served_ = true;
    setg(data_, data_, data_ + sizeof(data_));
    return traits_type::to_int_type(data_[0]);
  }

 private:
  char data_[4096] = {};
  bool served_ = false;
};

TEST_F(LocalArtifactStoreTest, FailedStreamStoresNothingAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(store_->Put("dir/model.bin", "old").ok());
  FailingBuffer buffer;
  std::istream source(&buffer);
  core::Status status = store_->PutStream("dir/model.bin", source);
  EXPECT_EQ(status.code(), core::StatusCode::kInternal);
  EXPECT_EQ(*store_->Get("dir/model.bin"), "old");
  EXPECT_EQ(Snapshot(root_), (std::map<std::string, std::string>{{"dir/model.bin", "old"}}));
}

TEST_F(LocalArtifactStoreTest, NoTemporaryFilesRemainAndLeftoversAreNotListed) {
  std::istringstream source("streamed");
  ASSERT_TRUE(store_->PutStream("a/s.txt", source).ok());
  ASSERT_TRUE(store_->Put("a/p.txt", "put").ok());
  EXPECT_EQ(Snapshot(root_),
            (std::map<std::string, std::string>{{"a/p.txt", "put"}, {"a/s.txt", "streamed"}}));

  // What a write cut off by SIGKILL leaves behind is not an artifact.
  ASSERT_TRUE(core::WriteFileAtomic(root_ / "a" / "p.txt.tmp-0123456789ab", "partial").ok());
  auto listed = store_->List("a");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<FileInfo>{{"a/p.txt", false, 3}, {"a/s.txt", false, 8}}));

  EXPECT_TRUE(LocalArtifactStore::IsTemporaryFileName("x.tmp-0123456789ab"));
  EXPECT_FALSE(LocalArtifactStore::IsTemporaryFileName(".tmp-0123456789ab0"));
  EXPECT_FALSE(LocalArtifactStore::IsTemporaryFileName("x.tmp-0123456789AB"));
  EXPECT_FALSE(LocalArtifactStore::IsTemporaryFileName("x.tmp-0123"));
  EXPECT_FALSE(LocalArtifactStore::IsTemporaryFileName("notes.tmp"));
}

TEST_F(LocalArtifactStoreTest, TraversalNeverTouchesTheFileSystemOutside) {
  ASSERT_TRUE(store_->Put("inside.txt", "in").ok());
  const std::map<std::string, std::string> outside_before = Snapshot(outside_);
  const std::map<std::string, std::string> root_before = Snapshot(root_);
  for (const char* path :
       {"../outside/secret.txt", "../outside/new.txt", "%2e%2e/outside/new.txt",
        "..%2Foutside%2Fnew.txt", "a/../../outside/new.txt", "%252e%252e%252foutside/new.txt"}) {
    std::string absolute = (outside_ / "new.txt").string();
    for (const std::string& attempt : {std::string(path), absolute, "file://" + absolute}) {
      EXPECT_EQ(store_->Put(attempt, "x").code(), core::StatusCode::kInvalidArgument) << attempt;
      std::istringstream source("x");
      EXPECT_EQ(store_->PutStream(attempt, source).code(), core::StatusCode::kInvalidArgument);
      EXPECT_EQ(store_->Get(attempt).status().code(), core::StatusCode::kInvalidArgument);
      EXPECT_EQ(store_->List(attempt).status().code(), core::StatusCode::kInvalidArgument);
      EXPECT_EQ(store_->Delete(attempt).code(), core::StatusCode::kInvalidArgument);
      EXPECT_EQ(store_->Exists(attempt).status().code(), core::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_EQ(Snapshot(outside_), outside_before);
  EXPECT_EQ(Snapshot(root_), root_before);
}

TEST_F(LocalArtifactStoreTest, SymbolicLinksCannotLeadOutsideTheRoot) {
  fs::create_directory_symlink(outside_, root_ / "escape");
  fs::create_symlink(outside_ / "secret.txt", root_ / "secret-link");
  const std::map<std::string, std::string> outside_before = Snapshot(outside_);
  EXPECT_EQ(store_->Put("escape/new.txt", "x").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("escape/secret.txt").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("secret-link").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("secret-link", "x").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("escape").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Delete("escape/secret.txt").code(), core::StatusCode::kInvalidArgument);
  core::Result<std::string> get = store_->Get("escape/secret.txt");
  EXPECT_EQ(get.status().message(),
            "Invalid path: resolved path is outside the artifact directory");
  EXPECT_EQ(Snapshot(outside_), outside_before);

  // A link that stays inside the root is followed.
  ASSERT_TRUE(store_->Put("real/a.txt", "a").ok());
  fs::create_directory_symlink(root_ / "real", root_ / "alias");
  EXPECT_EQ(*store_->Get("alias/a.txt"), "a");
}

TEST_F(LocalArtifactStoreTest, ConcurrentPutsToDifferentPathsAllLand) {
  constexpr int kThreads = 8;
  constexpr int kFilesPerThread = 25;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<int> failures(kThreads, 0);
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int file = 0; file < kFilesPerThread; ++file) {
        // Shared new folders, so folder creation races too.
        std::string path = "shared/" + std::to_string(file % 5) + "/t" + std::to_string(thread) +
                           "-" + std::to_string(file) + ".bin";
        std::string bytes = path + std::string(static_cast<size_t>(file * 100), 'x');
        core::Status status;
        if (file % 2 == 0) {
          status = store_->Put(path, bytes);
        } else {
          std::istringstream source(bytes);
          status = store_->PutStream(path, source);
        }
        if (!status.ok()) ++failures[thread];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int thread = 0; thread < kThreads; ++thread) EXPECT_EQ(failures[thread], 0);
  std::map<std::string, std::string> files = Snapshot(root_);
  ASSERT_EQ(files.size(), static_cast<size_t>(kThreads * kFilesPerThread));
  for (const auto& [path, bytes] : files) {
    EXPECT_EQ(bytes.substr(0, path.size()), path);
  }
}

struct UriCase {
  std::string uri;
  std::string expected;
};

class ResolveArtifactUriTest : public LocalArtifactStoreTest {};

TEST_F(ResolveArtifactUriTest, MapsUrisToPathsInsideTheRoot) {
  const std::string root = store_->root().string();
  const UriCase cases[] = {
      {"mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts"},
      {"mlflow-artifacts:/1/abc/artifacts/", "1/abc/artifacts"},
      {"mlflow-artifacts://myhost:4242/1/abc/artifacts", "1/abc/artifacts"},
      {"mlflow-artifacts://myhost/1/abc", "1/abc"},
      {"mlflow-artifacts:///1/abc/redundant", "1/abc/redundant"},
      {"mlflow-artifacts:/", ""},
      {"mlflow-artifacts:", ""},
      {"mlflow-artifacts:/0/r%20un/artifacts", "0/r un/artifacts"},
      {"file://" + root + "/1/abc/artifacts", "1/abc/artifacts"},
      {"file://localhost" + root + "/1/a%20b", "1/a b"},
      {"file://" + root, ""},
      {root + "/2/def/artifacts", "2/def/artifacts"},
      {root + "/2/./def//artifacts/", "2/def/artifacts"},
  };
  for (const UriCase& test : cases) {
    core::Result<std::string> resolved = ResolveArtifactUri(test.uri, store_->root());
    ASSERT_TRUE(resolved.ok()) << test.uri << ": " << resolved.status().ToString();
    EXPECT_EQ(*resolved, test.expected) << test.uri;
  }

  // A relative path is taken from the working folder.
  fs::path relative = fs::relative(root_ / "3" / "x", fs::current_path());
  core::Result<std::string> from_relative = ResolveArtifactUri(relative.string(), root_);
  ASSERT_TRUE(from_relative.ok()) << from_relative.status().ToString();
  EXPECT_EQ(*from_relative, "3/x");
}

TEST_F(ResolveArtifactUriTest, RejectsUrisOutsideTheRootOrUnsupported) {
  const std::string outside = outside_.string();
  for (const std::string& uri :
       {std::string("mlflow-artifacts:/../etc"), std::string("mlflow-artifacts:/1/%2e%2e/%2e%2e/x"),
        "file://" + outside + "/x", outside + "/x", root_.string() + "/../outside/x",
        std::string("")}) {
    core::Result<std::string> resolved = ResolveArtifactUri(uri, store_->root());
    ASSERT_FALSE(resolved.ok()) << uri;
    EXPECT_EQ(resolved.status().code(), core::StatusCode::kInvalidArgument) << uri;
  }
  for (const char* uri : {"mlflow-artifacts://5000/my/path", "mlflow-artifacts://5000/"}) {
    core::Result<std::string> resolved = ResolveArtifactUri(uri, store_->root());
    ASSERT_FALSE(resolved.ok()) << uri;
    EXPECT_EQ(resolved.status().message(),
              "The mlflow-artifacts uri was supplied with a port number: 5000, but no host was "
              "defined.");
  }
  for (const char* uri : {"s3://bucket/x", "runs:/abc/model", "models:/m/1", "http://h/x"}) {
    EXPECT_EQ(ResolveArtifactUri(uri, store_->root()).status().code(),
              core::StatusCode::kUnimplemented)
        << uri;
  }
}

}  // namespace
}  // namespace mlforge::tracking
