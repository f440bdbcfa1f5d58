#include "tracking/artifacts/artifact_handler.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tracking/rest/mlflow_json.h"

namespace mlforge::tracking {
namespace {

// The one MLflow error writer, shared with the tracking REST handler.
using rest::MlflowErrorResponse;

constexpr std::array<std::string_view, 2> kApiPrefixes = {
    "/api/2.0/mlflow-artifacts",
    "/ajax-api/2.0/mlflow-artifacts",
};

// The last "/"-separated segment of a path.
std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Python's os.path.splitext extension without its dot: leading dots belong to
// the name, so ".bashrc" has none.
std::string_view Extension(std::string_view file_name) {
  size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return {};
  size_t first_non_dot = file_name.find_first_not_of('.');
  if (first_non_dot == std::string_view::npos || dot < first_non_dot) return {};
  return file_name.substr(dot + 1);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// mlflow/utils/mime_type_utils.py get_text_extensions().
bool IsMlflowTextExtension(std::string_view extension) {
  static constexpr std::string_view kText[] = {
      "txt",  "log",   "err",  "cfg",  "conf", "cnf",     "cf",       "ini", "properties",
      "prop", "hocon", "toml", "yaml", "yml",  "xml",     "json",     "js",  "py",
      "py3",  "csv",   "tsv",  "md",   "rst",  "MLmodel", "mlproject"};
  return std::find(std::begin(kText), std::end(kText), extension) != std::end(kText);
}

// A subset of Python's built-in mimetypes table (no /etc/mime.types).
std::optional<std::string_view> PythonMimeType(std::string_view lower_extension) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html"},
      {"htm", "text/html"},
      {"css", "text/css"},
      {"c", "text/plain"},
      {"h", "text/plain"},
      {"bat", "text/plain"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"jpe", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"bmp", "image/bmp"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"ico", "image/vnd.microsoft.icon"},
      {"webp", "image/webp"},
      {"mp4", "video/mp4"},
      {"mpeg", "video/mpeg"},
      {"mpg", "video/mpeg"},
      {"mov", "video/quicktime"},
      {"avi", "video/x-msvideo"},
      {"webm", "video/webm"},
      {"mp3", "audio/mpeg"},
      {"wav", "audio/x-wav"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"tar", "application/x-tar"},
      {"wasm", "application/wasm"},
      {"sh", "application/x-sh"},
      {"ps", "application/postscript"},
      {"xls", "application/vnd.ms-excel"},
      {"doc", "application/msword"},
      {"bin", "application/octet-stream"},
      {"so", "application/octet-stream"},
      {"exe", "application/octet-stream"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (extension == lower_extension) return type;
  }
  return std::nullopt;
}

// Python's mimetypes.guess_type()[0]: expands ".tgz"-style suffixes, looks
// through an encoding suffix (".gz"), then looks up the extension.
std::optional<std::string_view> PythonGuessType(std::string_view file_name) {
  std::string name(file_name);
  std::string extension = Lower(Extension(name));
  static constexpr std::pair<std::string_view, std::string_view> kSuffixes[] = {
      {"svgz", ".svg.gz"}, {"tgz", ".tar.gz"},   {"taz", ".tar.gz"},
      {"tz", ".tar.gz"},   {"tbz2", ".tar.bz2"}, {"txz", ".tar.xz"},
  };
  for (const auto& [suffix, expansion] : kSuffixes) {
    if (extension == suffix) {
      name = name.substr(0, name.size() - suffix.size() - 1) + std::string(expansion);
      extension = Lower(Extension(name));
      break;
    }
  }
  static constexpr std::string_view kEncodings[] = {"gz", "z", "bz2", "xz", "br"};
  if (std::find(std::begin(kEncodings), std::end(kEncodings), extension) != std::end(kEncodings)) {
    name = name.substr(0, name.size() - extension.size() - 1);
    extension = Lower(Extension(name));
  }
  if (extension.empty()) return std::nullopt;
  return PythonMimeType(extension);
}

std::string ListResponseBody(const std::vector<FileInfo>& files) {
  if (files.empty()) return "{}";
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const FileInfo& file : files) {
    nlohmann::ordered_json entry;
    // MLflow's server sends names relative to the listed folder.
    entry["path"] = std::string(BaseName(file.path));
    entry["is_dir"] = file.is_dir;
    if (file.file_size) entry["file_size"] = *file.file_size;
    list.push_back(std::move(entry));
  }
  nlohmann::ordered_json body;
  body["files"] = std::move(list);
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string GuessArtifactMimeType(std::string_view file_name) {
  std::string_view name = BaseName(file_name);
  std::string_view extension = Extension(name);
  // MLflow: a name without an extension (MLmodel) is matched whole.
  if (IsMlflowTextExtension(extension.empty() ? name : extension)) return "text/plain";
  std::optional<std::string_view> type = PythonGuessType(name);
  return std::string(type.value_or("application/octet-stream"));
}

void ArtifactProxyHandler::Register(net::Router& router) {
  for (std::string_view prefix : kApiPrefixes) {
    std::string artifacts = std::string(prefix) + "/artifacts";
    router.Put(artifacts + "/*", [this](const net::HttpRequest& r) { return Upload(r); });
    router.Get(artifacts + "/*", [this](const net::HttpRequest& r) { return Download(r); });
    router.Get(artifacts, [this](const net::HttpRequest& r) { return List(r); });
    router.Delete(artifacts + "/*", [this](const net::HttpRequest& r) { return Delete(r); });
    for (std::string_view step : {"create", "complete", "abort"}) {
      router.Post(std::string(prefix) + "/mpu/" + std::string(step) + "/*",
                  [this](const net::HttpRequest& r) { return MultipartUpload(r); });
    }
  }
}

net::HttpResponse ArtifactProxyHandler::Upload(const net::HttpRequest& request) {
  core::Result<std::string> path = ValidateArtifactPath(request.PathParam("*"));
  if (!path.ok()) return MlflowErrorResponse(path.status());
  core::Status status = store_.Put(*path, request.body);
  if (!status.ok()) return MlflowErrorResponse(status);
  return net::HttpResponse::Json(200, "{}");
}

net::HttpResponse ArtifactProxyHandler::Download(const net::HttpRequest& request) {
  core::Result<std::string> path = ValidateArtifactPath(request.PathParam("*"));
  if (!path.ok()) return MlflowErrorResponse(path.status());
  core::Result<std::string> bytes = store_.Get(*path);
  if (!bytes.ok()) return MlflowErrorResponse(bytes.status());
  net::HttpResponse response;
  response.status = 200;
  std::string_view name = BaseName(*path);
  response.content_type = GuessArtifactMimeType(name);
  // As MLflow: always an attachment, never sniffed, so a stored HTML file
  // cannot run as a page of this server.
  response.SetHeader("Content-Disposition", "attachment; filename=" + std::string(name));
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.body = std::move(bytes).value();
  return response;
}

net::HttpResponse ArtifactProxyHandler::List(const net::HttpRequest& request) {
  std::optional<std::string> requested = request.Query("path");
  core::Result<std::string> path = ValidateArtifactPath(requested.value_or(""));
  if (!path.ok()) return MlflowErrorResponse(path.status());
  core::Result<std::vector<FileInfo>> files = store_.List(*path);
  if (!files.ok()) return MlflowErrorResponse(files.status());
  return net::HttpResponse::Json(200, ListResponseBody(*files));
}

net::HttpResponse ArtifactProxyHandler::Delete(const net::HttpRequest& request) {
  core::Result<std::string> path = ValidateArtifactPath(request.PathParam("*"));
  if (!path.ok()) return MlflowErrorResponse(path.status());
  core::Status status = store_.Delete(*path);
  if (!status.ok()) return MlflowErrorResponse(status);
  return net::HttpResponse::Json(200, "{}");
}

net::HttpResponse ArtifactProxyHandler::MultipartUpload(const net::HttpRequest& request) {
  core::Result<std::string> path = ValidateArtifactPath(request.PathParam("*"));
  if (!path.ok()) return MlflowErrorResponse(path.status());
  // mlflow/exceptions.py _UnsupportedMultipartUploadException.
  return MlflowErrorResponse(core::UnimplementedError(
      "Multipart upload is not supported for the current artifact repository"));
}

}  // namespace mlforge::tracking
