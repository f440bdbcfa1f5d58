#include "tracking/sqlite/connection_pool.h"

#include <utility>

namespace mlforge::tracking::sqlite_internal {

ConnectionPool::ConnectionPool(std::string path, ConnectionOptions options, int max_idle_readers,
                               std::unique_ptr<Connection> writer)
    : path_(std::move(path)),
      options_(options),
      max_idle_readers_(max_idle_readers),
      in_memory_(path_ == kInMemory),
      writer_(std::move(writer)) {}

ConnectionPool::~ConnectionPool() = default;

core::Status ConnectionPool::Write(const std::function<core::Status(sql::Connection&)>& body) {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  MLFORGE_ASSIGN_OR_RETURN(auto transaction,
                           Transaction::Begin(*writer_, Transaction::Kind::kWrite));
  MLFORGE_RETURN_IF_ERROR(body(*writer_));
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
