#include "tracking/artifacts/http/http_artifact_store.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "net/http_client.h"
#include "tracking/rest/mlflow_json.h"

namespace mlforge::tracking {
namespace {

constexpr size_t kMaxIdleConnections = 4;

// The path of a listed entry: the folder listed, then the name the proxy
// sent (MLflow's proxy sends only the last segment).
std::string ChildPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return std::string(dir) + "/" + std::string(name);
}

}  // namespace

HttpArtifactStore::HttpArtifactStore(std::string host, int port, std::string base_path,
                                     net::HttpHeaders headers)
    : host_(std::move(host)),
      port_(port),
      base_path_(std::move(base_path)),
      headers_(std::move(headers)) {}

HttpArtifactStore::~HttpArtifactStore() = default;

std::string HttpArtifactStore::url() const {
  return "http://" + host_ + ":" + std::to_string(port_) + base_path_;
}

core::Result<std::string> HttpArtifactStore::Target(std::string_view relative_path) const {
  MLFORGE_ASSIGN_OR_RETURN(std::string path, ValidateArtifactPath(relative_path));
  while (path.ends_with('/')) path.pop_back();
  if (path.empty()) return core::InvalidArgumentError("Invalid path: the artifact root");
  return base_path_ + "/" + net::PercentEncode(path, /*keep_slash=*/true);
}

core::Result<net::HttpResponse> HttpArtifactStore::Call(std::string_view method,
                                                        const std::string& target,
                                                        std::string_view body) {
  std::unique_ptr<net::HttpClient> client;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  const std::string where =
      std::string(method) + " http://" + host_ + ":" + std::to_string(port_) + target;
  if (client == nullptr) {
    net::HttpClient::Options options;
    options.default_headers = headers_;
    core::Result<std::unique_ptr<net::HttpClient>> connected =
        net::HttpClient::Connect(host_, port_, options);
    if (!connected.ok()) {
      return connected.status().WithContext("artifact server http://" + host_ + ":" +
                                            std::to_string(port_));
    }
    client = std::move(connected).value();
  }
  net::HttpHeaders request_headers;
  if (method == "PUT") request_headers.push_back({"Content-Type", "application/octet-stream"});
  core::Result<net::HttpResponse> response = client->Send(method, target, body, request_headers);
  if (!response.ok()) return response.status().WithContext(where);  // connection dropped
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(client));
  }
  if (response->status != 200) {
    return rest::MlflowErrorStatus(response->status, response->body).WithContext(where);
  }
  return response;
}

core::Status HttpArtifactStore::Put(std::string_view relative_path, std::string_view bytes) {
  MLFORGE_ASSIGN_OR_RETURN(std::string target, Target(relative_path));
  return Call("PUT", target, bytes).status();
}

core::Status HttpArtifactStore::PutStream(std::string_view relative_path, std::istream& source) {
  std::ostringstream bytes;
  bytes << source.rdbuf();
  if (source.bad())
    return core::InternalError("reading the upload for " + std::string(relative_path));
  return Put(relative_path, std::move(bytes).str());
}

core::Result<std::string> HttpArtifactStore::Get(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(std::string target, Target(relative_path));
  MLFORGE_ASSIGN_OR_RETURN(net::HttpResponse response, Call("GET", target, {}));
  return std::move(response.body);
}

core::Result<std::unique_ptr<std::istream>> HttpArtifactStore::OpenForRead(
    std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(std::string bytes, Get(relative_path));
  return std::unique_ptr<std::istream>(std::make_unique<std::istringstream>(std::move(bytes)));
}

core::Result<std::vector<FileInfo>> HttpArtifactStore::List(std::string_view relative_dir) {
  MLFORGE_ASSIGN_OR_RETURN(std::string dir, ValidateArtifactPath(relative_dir));
  while (dir.ends_with('/')) dir.pop_back();
  std::string target = base_path_;
  if (!dir.empty()) target += "?path=" + net::PercentEncode(dir);
  MLFORGE_ASSIGN_OR_RETURN(net::HttpResponse response, Call("GET", target, {}));
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return core::InternalError("artifact list from " + url() +
                               " is not a JSON object: " + response.body.substr(0, 200));
  }
  std::vector<FileInfo> files;
  auto listed = body.find("files");
  if (listed == body.end()) return files;  // "{}": nothing there
  if (!listed->is_array()) return core::InternalError("artifact list 'files' is not a list");
  for (const nlohmann::json& entry : *listed) {
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      return core::InternalError("artifact list entry without a path: " + entry.dump());
    }
    FileInfo file;
    file.path = ChildPath(dir, entry["path"].get<std::string>());
    file.is_dir = entry.value("is_dir", false);
    if (auto size = entry.find("file_size"); size != entry.end() && size->is_number_integer()) {
      file.file_size = size->get<int64_t>();
    }
    files.push_back(std::move(file));
  }
  return files;
}

core::Status HttpArtifactStore::Delete(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(std::string target, Target(relative_path));
  return Call("DELETE", target, {}).status();
}

core::Result<bool> HttpArtifactStore::Exists(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(std::string path, ValidateArtifactPath(relative_path));
  while (path.ends_with('/')) path.pop_back();
  if (path.empty()) return true;
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
  MLFORGE_ASSIGN_OR_RETURN(std::vector<FileInfo> siblings, List(parent));
  for (const FileInfo& file : siblings) {
    if (file.path == path) return true;
  }
  return false;
}

}  // namespace mlforge::tracking
