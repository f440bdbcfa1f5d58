#include "pipeline/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/file.h"
#include "core/hash.h"

namespace mlforge::pipeline {
namespace fs = std::filesystem;
namespace {

int64_t MtimeNs(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 generator(device());
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(generator()));
  return buffer;
}

// Copies a file or folder tree; files get read-only permissions.
core::Status CopyReadOnly(const fs::path& from, const fs::path& to) {
  std::error_code error;
  if (fs::is_directory(from, error)) {
    fs::create_directories(to, error);
    if (error) return core::InternalError("cannot create " + to.string() + ": " + error.message());
    for (const auto& entry : fs::directory_iterator(from, error)) {
      MLFORGE_RETURN_IF_ERROR(CopyReadOnly(entry.path(), to / entry.path().filename()));
    }
    if (error) return core::InternalError("cannot list " + from.string() + ": " + error.message());
    return core::Status::Ok();
  }
  if (fs::is_symlink(from, error)) {
    fs::copy_symlink(from, to, error);
  } else {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  }
  if (error) {
    return core::InternalError("cannot copy " + from.string() +
                               " into the cache: " + error.message());
  }
  if (!fs::is_symlink(to, error)) {
    fs::permissions(to, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove, error);
    MLFORGE_RETURN_IF_ERROR(core::SyncPath(to));
  }
  return core::Status::Ok();
}

// Hard-links a tree (copying where links fail, e.g. across file systems).
core::Status LinkTree(const fs::path& from, const fs::path& to) {
  std::error_code error;
  if (fs::is_directory(from, error)) {
    fs::create_directories(to, error);
    if (error) return core::InternalError("cannot create " + to.string() + ": " + error.message());
    for (const auto& entry : fs::directory_iterator(from, error)) {
      MLFORGE_RETURN_IF_ERROR(LinkTree(entry.path(), to / entry.path().filename()));
    }
    return core::Status::Ok();
  }
  if (fs::is_symlink(from, error)) {
    fs::copy_symlink(from, to, error);
  } else {
    fs::create_hard_link(from, to, error);
    if (error) {
      error.clear();
      fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
    }
  }
  if (error) {
    return core::InternalError("cannot restore " + from.string() + " to " + to.string() + ": " +
                               error.message());
  }
  return core::Status::Ok();
}

// Makes a tree writable again so it can be removed.
void MakeRemovable(const fs::path& path) {
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(path, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_directory(error)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, error);
    }
  }
}

}  // namespace

DigestMemo::DigestMemo(fs::path memo_file) : memo_file_(std::move(memo_file)) {
  auto text = core::ReadFile(memo_file_);
  if (!text.ok()) return;
  try {
    auto json = nlohmann::json::parse(*text);
    for (auto it = json.begin(); it != json.end(); ++it) {
      if (it.value().is_string()) entries_[it.key()] = it.value().get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    entries_.clear();
  }
}

core::Result<std::string> DigestMemo::Digest(const fs::path& raw_path) {
  std::error_code error;
  fs::path path = fs::absolute(raw_path, error);
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return core::NotFoundError(raw_path.string() + " does not exist");
  }
  std::string fingerprint;
  const bool is_folder = S_ISDIR(info.st_mode);
  if (is_folder) {
    // The sorted (relative path, size, mtime) of every file below.
    std::vector<std::string> lines;
    for (auto it = fs::recursive_directory_iterator(path, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      struct stat file_info {};
      if (::stat(it->path().c_str(), &file_info) != 0 || !S_ISREG(file_info.st_mode)) continue;
      lines.push_back(fs::relative(it->path(), path).generic_string() + "\t" +
                      std::to_string(file_info.st_size) + "\t" +
                      std::to_string(MtimeNs(file_info)) + "\t" + std::to_string(file_info.st_ino));
    }
    if (error) return core::InternalError("cannot list " + path.string() + ": " + error.message());
    std::sort(lines.begin(), lines.end());
    core::Sha256 hasher;
    for (const std::string& line : lines) hasher.Update(line + "\n");
    fingerprint = "folder\t" + path.string() + "\t" + hasher.FinishHex();
  } else {
    fingerprint = "file\t" + path.string() + "\t" + std::to_string(info.st_size) + "\t" +
                  std::to_string(MtimeNs(info)) + "\t" + std::to_string(info.st_ino);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = entries_.find(fingerprint); it != entries_.end()) return it->second;
  }
  auto digest = is_folder ? core::Sha256Tree(path) : core::Sha256File(path);
  if (!digest.ok()) return digest.status();
  std::string result = "sha256:" + *digest;
  std::lock_guard<std::mutex> lock(mutex_);
  entries_[fingerprint] = result;
  dirty_ = true;
  return result;
}

core::Status DigestMemo::Save() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!dirty_) return core::Status::Ok();
  nlohmann::json json = nlohmann::json::object();
  if (auto text = core::ReadFile(memo_file_); text.ok()) {
    try {
      json = nlohmann::json::parse(*text);
      if (!json.is_object()) json = nlohmann::json::object();
    } catch (const nlohmann::json::exception&) {
      json = nlohmann::json::object();
    }
  }
  for (const auto& [fingerprint, digest] : entries_) json[fingerprint] = digest;
  // Keep the memo bounded: past 20,000 entries start over with this run's.
  if (json.size() > 20'000) {
    json = nlohmann::json::object();
    for (const auto& [fingerprint, digest] : entries_) json[fingerprint] = digest;
  }
  MLFORGE_RETURN_IF_ERROR(core::WriteFileAtomic(memo_file_, json.dump()));
  dirty_ = false;
  return core::Status::Ok();
}

core::Result<std::unique_ptr<KeyLock>> KeyLock::Acquire(const fs::path& cache_dir,
                                                        const std::string& key) {
  std::error_code error;
  fs::create_directories(cache_dir, error);
  fs::path lock_path = cache_dir / (key + ".lock");
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return core::InternalError("cannot open lock file " + lock_path.string());
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return core::InternalError("cannot lock " + lock_path.string());
    }
  }
  return std::unique_ptr<KeyLock>(new KeyLock(fd));
}

KeyLock::~KeyLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

core::Result<CacheEntry> StepCache::Lookup(const std::string& key) const {
  auto text = core::ReadFile(dir_ / key / "manifest.json");
  if (!text.ok()) return core::NotFoundError("no cache entry " + key);
  try {
    auto json = nlohmann::json::parse(*text);
    CacheEntry entry;
    entry.key = json.at("key").get<std::string>();
    entry.step = json.value("step", "");
    entry.producer_run_id = json.value("producer_run_id", "");
    entry.created_ms = json.value("created_ms", int64_t{0});
    for (const auto& output : json.at("outputs")) {
      CachedOutput cached;
      cached.name = output.at("name").get<std::string>();
      cached.type = output.at("type").get<std::string>();
      cached.digest = output.value("digest", "");
      cached.value = output.value("value", "");
      if (cached.type == "file" || cached.type == "folder") {
        std::error_code error;
        if (!fs::exists(dir_ / key / "outputs" / cached.name, error)) {
          return core::NotFoundError("cache entry " + key + " lacks output " + cached.name);
        }
      }
      entry.outputs.push_back(std::move(cached));
    }
    if (entry.key != key) return core::NotFoundError("cache entry " + key + " names another key");
    return entry;
  } catch (const nlohmann::json::exception& error) {
    return core::NotFoundError("damaged cache manifest " + key + ": " + error.what());
  }
}

core::Status StepCache::Restore(const CacheEntry& entry, const fs::path& outputs_dir) const {
  std::error_code error;
  fs::create_directories(outputs_dir, error);
  for (const CachedOutput& output : entry.outputs) {
    if (output.type != "file" && output.type != "folder") continue;
    fs::path target = outputs_dir / output.name;
    fs::remove_all(target, error);
    MLFORGE_RETURN_IF_ERROR(LinkTree(dir_ / entry.key / "outputs" / output.name, target));
  }
  return core::Status::Ok();
}

core::Status StepCache::Commit(const CacheEntry& entry, const fs::path& outputs_dir) const {
  std::error_code error;
  fs::create_directories(dir_, error);
  const fs::path staging = dir_ / (".tmp-" + entry.key + "-" + RandomSuffix());
  fs::create_directories(staging / "outputs", error);
  if (error)
    return core::InternalError("cannot create " + staging.string() + ": " + error.message());
  nlohmann::json outputs = nlohmann::json::array();
  for (const CachedOutput& output : entry.outputs) {
    if (output.type == "file" || output.type == "folder") {
      core::Status copied =
          CopyReadOnly(outputs_dir / output.name, staging / "outputs" / output.name);
      if (!copied.ok()) {
        MakeRemovable(staging);
        fs::remove_all(staging, error);
        return copied;
      }
    }
    outputs.push_back({{"name", output.name},
                       {"type", output.type},
                       {"digest", output.digest},
                       {"value", output.value}});
  }
  nlohmann::json manifest = {{"key", entry.key},
                             {"step", entry.step},
                             {"producer_run_id", entry.producer_run_id},
                             {"created_ms", entry.created_ms},
                             {"outputs", outputs}};
  MLFORGE_RETURN_IF_ERROR(core::WriteFileAtomic(staging / "manifest.json", manifest.dump(2)));
  MLFORGE_RETURN_IF_ERROR(core::SyncPath(staging / "outputs"));
  MLFORGE_RETURN_IF_ERROR(core::SyncPath(staging));
  const fs::path final_dir = dir_ / entry.key;
  if (fs::exists(final_dir, error)) {
    MakeRemovable(final_dir);
    fs::remove_all(final_dir, error);
  }
  // Stale temporaries of this key from killed processes.
  for (const auto& other : fs::directory_iterator(dir_, error)) {
    const std::string name = other.path().filename().string();
    if (name.rfind(".tmp-" + entry.key + "-", 0) == 0 && other.path() != staging) {
      MakeRemovable(other.path());
      fs::remove_all(other.path(), error);
    }
  }
  return core::RenameDurably(staging, final_dir);
}

}  // namespace mlforge::pipeline
