#pragma once

// The content-addressed step cache of pipelines, and a memo of file digests.
//
// Layout under the cache folder ($MLFORGE_HOME/cache/pipeline):
//   <key>/manifest.json   what the step produced: value outputs, digests,
//                         the tracking run that produced it
//   <key>/outputs/NAME    each artifact output (file or folder)
//   <key>.lock            flock'ed while one process looks up or fills <key>
//   digests.json          DigestMemo's memo
//
// An entry appears only complete: it is built in a temporary folder beside
// it, fsynced, and renamed into place, so a process killed mid-way leaves
// at most a stale ".tmp-*" folder (removed by the next commit of that key),
// never a half entry. Cached files are made read-only, as restored outputs
// are hard links to them.
//
// Thread safety: StepCache is stateless apart from its folder; KeyLock
// serialises processes and threads on one key (flock on its own open file
// description). DigestMemo is thread-safe.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::pipeline {

// Memoizes content digests by (path, size, mtime), so an unchanged file or
// folder is not read again; a folder's entry is keyed by the sizes and
// mtimes of every file below it.
class DigestMemo {
 public:
  // Loads `memo_file` when it exists (a damaged one is ignored).
  explicit DigestMemo(std::filesystem::path memo_file);

  // "sha256:<hex>" of a file, or of a folder's Merkle digest
  // (core::Sha256Tree). NotFound when the path does not exist.
  core::Result<std::string> Digest(const std::filesystem::path& path);

  // Writes the memo back (atomically) when anything new was learnt; entries
  // of other processes written meanwhile are kept.
  core::Status Save();

 private:
  const std::filesystem::path memo_file_;
  std::mutex mutex_;
  std::map<std::string, std::string> entries_;  // guarded by mutex_: fingerprint -> digest
  bool dirty_ = false;                          // guarded by mutex_
};

// One artifact or value a cache entry holds.
struct CachedOutput {
  std::string name;
  std::string type;    // OutputTypeName
  std::string digest;  // "sha256:..." for artifacts, "value:<text>" for values
  std::string value;   // value outputs only
};

struct CacheEntry {
  std::string key;
  std::string step;
  std::string producer_run_id;  // the tracking run whose execution produced it
  int64_t created_ms = 0;
  std::vector<CachedOutput> outputs;
};

// Holds an exclusive flock on <cache>/<key>.lock until destroyed.
class KeyLock {
 public:
  // Blocks until the lock is held. Internal error if the lock file cannot be
  // opened.
  static core::Result<std::unique_ptr<KeyLock>> Acquire(const std::filesystem::path& cache_dir,
                                                        const std::string& key);
  ~KeyLock();
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;

 private:
  explicit KeyLock(int fd) : fd_(fd) {}
  int fd_;
};

class StepCache {
 public:
  explicit StepCache(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  // The entry for `key`, or NotFound when there is none. Call under KeyLock.
  core::Result<CacheEntry> Lookup(const std::string& key) const;

  // Places the entry's artifacts at `outputs_dir/NAME` (hard links, or copies
  // across file systems), replacing what is there.
  core::Status Restore(const CacheEntry& entry, const std::filesystem::path& outputs_dir) const;

  // Copies each artifact of `entry` from `outputs_dir/NAME` into a new entry
  // and commits it atomically. Call under KeyLock.
  core::Status Commit(const CacheEntry& entry, const std::filesystem::path& outputs_dir) const;

 private:
  const std::filesystem::path dir_;
};

}  // namespace mlforge::pipeline
