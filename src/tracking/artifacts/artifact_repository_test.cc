#include "tracking/artifacts/artifact_repository.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/file.h"
#include "net/http_server.h"
#include "net/router.h"
#include "tracking/artifacts/artifact_handler.h"
#include "tracking/artifacts/http/http_artifact_store.h"
#include "tracking/artifacts/local/local_artifact_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> Snapshot(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), folder).generic_string()] = *core::ReadFile(entry.path());
  }
  return files;
}

// A model-package-like folder: files at two levels, one binary.
void MakePackage(const fs::path& dir) {
  ASSERT_TRUE(core::WriteFileAtomic(dir / "MLmodel", "flavors:\n  torchscript: {}\n").ok());
  ASSERT_TRUE(core::WriteFileAtomic(dir / "model.pt", std::string("\0\1\2binary\xff", 10)).ok());
  ASSERT_TRUE(core::WriteFileAtomic(dir / "extra" / "notes with space.txt", "hello").ok());
}

// A real artifact proxy over a real local store, on loopback.
class ArtifactRepositoryOverProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = LocalArtifactStore::Open(temp_.path() / "server-root");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    server_store_ = std::move(store).value();
    handler_ = std::make_unique<ArtifactProxyHandler>(*server_store_);
    net::Router router;
    handler_->Register(router);
    net::HttpServer::Options options;
    options.max_body_bytes = size_t{16} << 20;
    auto server = net::HttpServer::Start(options, std::move(router));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    tracking_uri_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  testing::ScopedTempDir temp_;
  std::unique_ptr<LocalArtifactStore> server_store_;
  std::unique_ptr<ArtifactProxyHandler> handler_;
  std::unique_ptr<net::HttpServer> server_;
  std::string tracking_uri_;
};

TEST_F(ArtifactRepositoryOverProxyTest, UploadsAndDownloadsAFolderThroughTheTrackingServer) {
  MakePackage(temp_.path() / "package");
  auto repository = ArtifactRepository::Open("mlflow-artifacts:/1/run-a/artifacts", tracking_uri_);
  ASSERT_TRUE(repository.ok()) << repository.status().ToString();
  ASSERT_TRUE((*repository)->LogFolder(temp_.path() / "package", "model").ok());

  // The files landed in the server's store under the run's place.
  EXPECT_EQ(Snapshot(server_store_->root() / "1/run-a/artifacts/model"),
            Snapshot(temp_.path() / "package"));

  auto listed = (*repository)->List("model");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].path, "model/MLmodel");
  EXPECT_TRUE((*listed)[1].is_dir);
  EXPECT_EQ((*listed)[2].path, "model/model.pt");
  EXPECT_EQ((*listed)[2].file_size, 10);

  ASSERT_TRUE((*repository)->DownloadFolder("model", temp_.path() / "copy").ok());
  EXPECT_EQ(Snapshot(temp_.path() / "copy"), Snapshot(temp_.path() / "package"));
  // No staging folder is left beside it.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(temp_.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 3);  // server-root, package, copy
}

TEST_F(ArtifactRepositoryOverProxyTest, HostInTheArtifactUriNamesTheServer) {
  MakePackage(temp_.path() / "package");
  const std::string uri =
      "mlflow-artifacts://127.0.0.1:" + std::to_string(server_->port()) + "/2/run-b/artifacts";
  auto repository = ArtifactRepository::Open(uri, "sqlite:///unused.db");
  ASSERT_TRUE(repository.ok()) << repository.status().ToString();
  ASSERT_TRUE((*repository)->LogFile(temp_.path() / "package" / "MLmodel", "").ok());
  EXPECT_EQ(*core::ReadFile(server_store_->root() / "2/run-b/artifacts/MLmodel"),
            "flavors:\n  torchscript: {}\n");
  auto read = (*repository)->Read("MLmodel");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "flavors:\n  torchscript: {}\n");
}

TEST_F(ArtifactRepositoryOverProxyTest, MissingThingsAreNotFoundAndLeaveNothing) {
  auto repository = ArtifactRepository::Open("mlflow-artifacts:/1/none/artifacts", tracking_uri_);
  ASSERT_TRUE(repository.ok());
  EXPECT_EQ((*repository)->Read("model/MLmodel").status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ((*repository)->DownloadFolder("model", temp_.path() / "copy").code(),
            core::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(temp_.path() / "copy"));
}

TEST_F(ArtifactRepositoryOverProxyTest, UnsafePathsAreRefusedBeforeSending) {
  HttpArtifactStore store("127.0.0.1", server_->port(), std::string(HttpArtifactStore::kProxyPath));
  EXPECT_EQ(store.Put("../outside.txt", "x").code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Put("/etc/passwd", "x").code(), core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(temp_.path() / "outside.txt"));
  ASSERT_TRUE(store.Put("a/b.txt", "b").ok());
  EXPECT_TRUE(*store.Exists("a/b.txt"));
  EXPECT_TRUE(*store.Exists("a"));
  EXPECT_FALSE(*store.Exists("a/c.txt"));
  ASSERT_TRUE(store.Delete("a").ok());
  EXPECT_FALSE(*store.Exists("a/b.txt"));
}

TEST(ArtifactRepositoryTest, ServerDownIsUnavailable) {
  // Port 9 (discard) is closed on loopback here.
  auto repository = ArtifactRepository::Open("mlflow-artifacts:/1/x", "http://127.0.0.1:9");
  ASSERT_TRUE(repository.ok());
  EXPECT_EQ((*repository)->Read("f").status().code(), core::StatusCode::kUnavailable);
}

TEST(ArtifactRepositoryTest, LocalFolderUris) {
  testing::ScopedTempDir temp;
  MakePackage(temp.path() / "package");
  const std::string uri = "file://" + (temp.path() / "mlruns/1/abc/artifacts").string();
  auto repository = ArtifactRepository::Open(uri, "");
  ASSERT_TRUE(repository.ok()) << repository.status().ToString();
  ASSERT_TRUE((*repository)->LogFolder(temp.path() / "package", "model").ok());
  EXPECT_EQ(Snapshot(temp.path() / "mlruns/1/abc/artifacts/model"),
            Snapshot(temp.path() / "package"));
  // The same folder as a bare path.
  auto bare = ArtifactRepository::Open((temp.path() / "mlruns/1/abc/artifacts").string(), "");
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE((*bare)->DownloadFolder("model", temp.path() / "copy").ok());
  EXPECT_EQ(Snapshot(temp.path() / "copy"), Snapshot(temp.path() / "package"));
  EXPECT_EQ((*bare)->DownloadFolder("model", temp.path() / "copy").code(),
            core::StatusCode::kAlreadyExists);
}

TEST(ArtifactRepositoryTest, UnsupportedAndUnreachableUris) {
  EXPECT_EQ(ArtifactRepository::Open("s3://bucket/1/abc", "").status().code(),
            core::StatusCode::kUnimplemented);
  EXPECT_EQ(ArtifactRepository::Open("mlflow-artifacts:/1/abc", "sqlite:///x.db").status().code(),
            core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ArtifactRepository::Open("mlflow-artifacts:/../x", "http://127.0.0.1:5000").status().code(),
      core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlforge::tracking
