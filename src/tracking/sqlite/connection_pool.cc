#include "tracking/sqlite/connection_pool.h"

#include <utility>

namespace mlforge::tracking::sqlite_internal {

ConnectionPool::ConnectionPool(std::string path, ConnectionOptions options, int max_idle_readers,
                               std::unique_ptr<Connection> writer)
    : path_(std::move(path)),
      options_(options),
      max_idle_readers_(max_idle_readers),
      in_memory_(path_ == kInMemory),
      writer_(std::move(writer)) {
  if (in_memory_) return;  // no WAL
  writer_->OnWalCommit([this](int wal_frames) { AfterCommit(wal_frames); });
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
}

ConnectionPool::~ConnectionPool() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      checkpoint_stopping_ = true;
    }
    checkpoint_wake_.notify_one();
    checkpointer_.join();
  }
  // Closing the last connection checkpoints what is left.
}

void ConnectionPool::AfterCommit(int wal_frames) {
  if (wal_frames < kCheckpointFrames) return;
  if (wal_frames >= 4 * kCheckpointFrames) {
    // The background thread is behind (or readers hold old snapshots):
    // bound the WAL here, as SQLite's own checkpoint would.
    bool complete = false;
    (void)writer_->CheckpointPassive(&complete);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(checkpoint_mutex_);
    checkpoint_due_ = true;
  }
  checkpoint_wake_.notify_one();
}

void ConnectionPool::CheckpointLoop() {
  std::unique_ptr<Connection> connection;
  std::unique_lock<std::mutex> lock(checkpoint_mutex_);
  while (true) {
    checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || checkpoint_stopping_; });
    if (checkpoint_stopping_) return;
    checkpoint_due_ = false;
    lock.unlock();
    CheckpointOnce(&connection);
    lock.lock();
  }
}

void ConnectionPool::CheckpointOnce(std::unique_ptr<Connection>* connection) {
  if (*connection == nullptr) {
    auto opened = Connection::Open(path_, options_);
    if (!opened.ok()) return;  // the writer's fallback still bounds the WAL
    *connection = std::move(opened).value();
  }
  // Most frames, while the writer keeps committing...
  bool complete = false;
  if (!(*connection)->CheckpointPassive(&complete).ok() || complete) return;
  // ...then the rest, with the writer held off for that short while.
  std::lock_guard<std::mutex> writer_lock(writer_mutex_);
  (void)(*connection)->CheckpointPassive(&complete);
}

core::Status ConnectionPool::Write(const std::function<core::Status(sql::Connection&)>& body) {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  MLFORGE_ASSIGN_OR_RETURN(auto transaction,
                           Transaction::Begin(*writer_, Transaction::Kind::kWrite));
  MLFORGE_RETURN_IF_ERROR(body(*writer_));
  return transaction->Commit();
}

core::Status ConnectionPool::WriteCheckedChildren(
    const std::function<core::Status(sql::Connection&)>& body) {
  if (in_memory_) return Write(body);
  std::lock_guard<std::mutex> lock(writer_mutex_);
  if (logging_writer_ == nullptr) {
    ConnectionOptions options = options_;
    options.foreign_keys = false;
    MLFORGE_ASSIGN_OR_RETURN(logging_writer_, Connection::Open(path_, options));
    logging_writer_->OnWalCommit([this](int wal_frames) { AfterCommit(wal_frames); });
  }
  MLFORGE_ASSIGN_OR_RETURN(auto transaction,
                           Transaction::Begin(*logging_writer_, Transaction::Kind::kWrite));
  MLFORGE_RETURN_IF_ERROR(body(*logging_writer_));
  return transaction->Commit();
}

core::Status ConnectionPool::Read(const std::function<core::Status(sql::Connection&)>& body) {
  auto run_in_snapshot = [&body](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(auto transaction,
                             Transaction::Begin(connection, Transaction::Kind::kRead));
    MLFORGE_RETURN_IF_ERROR(body(connection));
    return transaction->Commit();
  };
  if (in_memory_) {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    return run_in_snapshot(*writer_);
  }
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, TakeReader());
  core::Status status = run_in_snapshot(*reader);
  ReturnReader(std::move(reader));
  return status;
}

core::Result<std::unique_ptr<Connection>> ConnectionPool::TakeReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  // Opening happens outside the lock: it is file I/O.
  return Connection::Open(path_, options_);
}

void ConnectionPool::ReturnReader(std::unique_ptr<Connection> reader) {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  if (static_cast<int>(idle_readers_.size()) < max_idle_readers_) {
    idle_readers_.push_back(std::move(reader));
  }
  // Otherwise the connection closes here; closing an idle one is cheap.
}

}  // namespace mlforge::tracking::sqlite_internal
