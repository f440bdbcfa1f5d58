#include "auth/auth_store.h"

#include <array>
#include <filesystem>
#include <utility>

#include "auth/password.h"
#include "core/hash.h"
#include "core/ids.h"
#include "tracking/sqlite/connection_pool.h"
#include "tracking/sqlite/sqlite_connection.h"

namespace mlforge::auth {
namespace {

using tracking::sql::Connection;
using tracking::sql::ConnectionPool;
using tracking::sql::Statement;
using tracking::sqlite_internal::ConnectionOptions;
using SqlitePool = tracking::sqlite_internal::ConnectionPool;

constexpr std::array<std::string_view, 1> kMigrations = {
    // 1: MLflow's basic-auth tables, plus access tokens.
    R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE experiment_permissions (
  experiment_id TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  permission TEXT NOT NULL,
  PRIMARY KEY (experiment_id, user_id)
);
CREATE TABLE registered_model_permissions (
  name TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  permission TEXT NOT NULL,
  PRIMARY KEY (name, user_id)
);
CREATE TABLE access_tokens (
  token_digest TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
)sql",
};

// The two permission tables differ only in their names; these are fixed
// strings, never user input.
struct PermissionTable {
  const char* table;
  const char* key_column;
  const char* what;  // for messages
};
constexpr PermissionTable kExperiments{"experiment_permissions", "experiment_id", "experiment"};
constexpr PermissionTable kModels{"registered_model_permissions", "name", "registered model"};

User ReadUser(const Statement& row) {
  return User{row.ColumnInt(0), row.ColumnText(1), row.ColumnInt(2) != 0};
}

core::Result<std::optional<User>> FindUser(Connection& connection, std::string_view username) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT id, username, is_admin FROM users WHERE username = ?"));
  select.Bind(1, username);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::optional<User>();
  return std::optional<User>(ReadUser(select));
}

core::Result<User> RequireUser(Connection& connection, std::string_view username) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<User> user, FindUser(connection, username));
  if (!user) return core::NotFoundError("User with username=" + std::string(username) + " not found");
  return *user;
}

core::Status CheckNewPassword(std::string_view password) {
  if (password.empty()) return core::InvalidArgumentError("Password cannot be empty");
  return core::Status::Ok();
}

std::string CredentialKey(std::string_view username, std::string_view password) {
  std::string joined(username);
  joined += '\0';
  joined += password;
  return core::Sha256Hex(joined);
}

core::Result<std::optional<Permission>> PermissionOf(Connection& connection,
                                                     const PermissionTable& table,
                                                     int64_t user_id, std::string_view key) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select, connection.Prepare(std::string("SELECT permission FROM ") + table.table +
                                           " WHERE " + table.key_column + " = ? AND user_id = ?"));
  select.Bind(1, key).Bind(2, user_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::optional<Permission>();
  MLFORGE_ASSIGN_OR_RETURN(Permission permission, ParsePermission(select.ColumnText(0)));
  return std::optional<Permission>(permission);
}

std::string NoGrant(const PermissionTable& table, std::string_view key, std::string_view username) {
  return std::string("Permission on ") + table.what + " " + std::string(key) + " for user " +
         std::string(username) + " not found";
}

// INSERT (create), UPDATE (update) or DELETE (remove) one grant.
enum class GrantChange { kCreate, kUpdate, kDelete };

core::Result<int64_t> ChangeGrant(Connection& connection, const PermissionTable& table,
                                  std::string_view key, std::string_view username,
                                  Permission permission, GrantChange change) {
  MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<Permission> existing,
                           PermissionOf(connection, table, user.id, key));
  std::string sql;
  if (change == GrantChange::kCreate) {
    if (existing) {
      return core::AlreadyExistsError(std::string("Permission on ") + table.what + " " +
                                      std::string(key) + " for user " + std::string(username) +
                                      " already exists");
    }
    sql = std::string("INSERT INTO ") + table.table + " (permission, " + table.key_column +
          ", user_id) VALUES (?, ?, ?)";
  } else {
    if (!existing) return core::NotFoundError(NoGrant(table, key, username));
    sql = change == GrantChange::kUpdate
              ? std::string("UPDATE ") + table.table + " SET permission = ? WHERE " +
                    table.key_column + " = ? AND user_id = ?"
              : std::string("DELETE FROM ") + table.table + " WHERE ? IS NOT NULL AND " +
                    table.key_column + " = ? AND user_id = ?";
  }
  MLFORGE_ASSIGN_OR_RETURN(Statement statement, connection.Prepare(sql));
  statement.Bind(1, PermissionName(permission)).Bind(2, key).Bind(3, user.id);
  MLFORGE_RETURN_IF_ERROR(statement.Run());
  return user.id;
}

}  // namespace

core::Result<std::unique_ptr<AuthStore>> AuthStore::Open(const std::string& path) {
  if (path.empty()) return core::InvalidArgumentError("Empty path for the auth database");
  if (path != SqlitePool::kInMemory) {
    std::error_code error;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      return core::UnavailableError("Cannot create the folder '" + parent.string() +
                                    "' for the auth database: " + error.message());
    }
  }
  ConnectionOptions options;
  // Users and grants change rarely and matter: commit them to disk at once.
  options.synchronous_full = true;
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<tracking::sqlite_internal::Connection> writer,
                           tracking::sqlite_internal::Connection::Open(path, options));
  auto pool = std::make_unique<SqlitePool>(path, options, 4, std::move(writer));
  MLFORGE_RETURN_IF_ERROR(pool->Write([](Connection& connection) {
    return tracking::sql::ApplyMigrations(connection, "auth_schema_version", kMigrations,
                                          "authentication");
  }));
  return std::unique_ptr<AuthStore>(new AuthStore(std::move(pool)));
}

AuthStore::AuthStore(std::unique_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
AuthStore::~AuthStore() = default;

void AuthStore::ForgetCredentials() {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  verified_.clear();
}

core::Result<User> AuthStore::CreateUser(std::string_view username, std::string_view password,
                                         bool is_admin) {
  if (username.empty()) return core::InvalidArgumentError("Username cannot be empty");
  MLFORGE_RETURN_IF_ERROR(CheckNewPassword(password));
  std::string hash = HashPassword(password);
  User user;
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(std::optional<User> existing, FindUser(connection, username));
    if (existing) {
      return core::AlreadyExistsError("User '" + std::string(username) + "' already exists");
    }
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?)"));
    insert.Bind(1, username).Bind(2, hash).Bind(3, static_cast<int64_t>(is_admin ? 1 : 0));
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    MLFORGE_ASSIGN_OR_RETURN(user, RequireUser(connection, username));
    return core::Status::Ok();
  }));
  return user;
}

core::Result<User> AuthStore::GetUser(std::string_view username) {
  User user;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(user, RequireUser(connection, username));
    return core::Status::Ok();
  }));
  return user;
}

core::Status AuthStore::UpdatePassword(std::string_view username, std::string_view password) {
  MLFORGE_RETURN_IF_ERROR(CheckNewPassword(password));
  std::string hash = HashPassword(password);
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(Statement update,
                             connection.Prepare("UPDATE users SET password_hash = ? WHERE id = ?"));
    update.Bind(1, hash).Bind(2, user.id);
    return update.Run();
  }));
  ForgetCredentials();
  return core::Status::Ok();
}

core::Status AuthStore::UpdateAdmin(std::string_view username, bool is_admin) {
  return pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(Statement update,
                             connection.Prepare("UPDATE users SET is_admin = ? WHERE id = ?"));
    update.Bind(1, static_cast<int64_t>(is_admin ? 1 : 0)).Bind(2, user.id);
    return update.Run();
  });
}

core::Status AuthStore::DeleteUser(std::string_view username) {
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(Statement remove, connection.Prepare("DELETE FROM users WHERE id = ?"));
    remove.Bind(1, user.id);
    return remove.Run();
  }));
  ForgetCredentials();
  return core::Status::Ok();
}

core::Result<User> AuthStore::Authenticate(std::string_view username, std::string_view password) {
  const std::string key = CredentialKey(username, password);
  std::optional<int64_t> remembered;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto found = verified_.find(key); found != verified_.end()) remembered = found->second;
  }
  std::optional<User> user;
  std::string hash;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT id, username, is_admin, password_hash FROM users "
                           "WHERE username = ?"));
    select.Bind(1, username);
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (found) {
      user = ReadUser(select);
      hash = select.ColumnText(3);
    }
    return core::Status::Ok();
  }));
  const core::Status wrong = core::UnauthenticatedError("Invalid username or password");
  if (!user) return wrong;
  if (remembered == user->id) return *user;
  if (!VerifyPassword(password, hash)) return wrong;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  // Bounded: a flood of distinct valid logins only costs re-verification.
  if (verified_.size() >= 4096) verified_.clear();
  verified_[key] = user->id;
  return *user;
}

core::Result<User> AuthStore::AuthenticateToken(std::string_view token) {
  std::optional<User> user;
  const std::string digest = TokenDigest(token);
  const int64_t now = static_cast<int64_t>(core::NowMillis());
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT u.id, u.username, u.is_admin FROM access_tokens t "
                           "JOIN users u ON u.id = t.user_id WHERE t.token_digest = ? "
                           "AND (t.expires_at IS NULL OR t.expires_at > ?)"));
    select.Bind(1, digest).Bind(2, now);
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (found) user = ReadUser(select);
    return core::Status::Ok();
  }));
  if (!user) return core::UnauthenticatedError("Invalid or expired access token");
  return *user;
}

core::Result<std::string> AuthStore::CreateToken(std::string_view username, std::string_view name,
                                                 std::optional<int64_t> expires_at_ms) {
  std::string token = NewAccessToken();
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO access_tokens (token_digest, user_id, name, created_at, "
                           "expires_at) VALUES (?, ?, ?, ?, ?)"));
    insert.Bind(1, TokenDigest(token)).Bind(2, user.id).Bind(3, name).Bind(4, static_cast<int64_t>(core::NowMillis()));
    if (expires_at_ms) {
      insert.Bind(5, *expires_at_ms);
    } else {
      insert.Bind(5, nullptr);
    }
    return insert.Run();
  }));
  return token;
}

// ---- permissions ----

core::Result<ExperimentPermission> AuthStore::CreateExperimentPermission(
    std::string_view experiment_id, std::string_view username, Permission permission) {
  int64_t user_id = 0;
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(user_id, ChangeGrant(connection, kExperiments, experiment_id,
                                                  username, permission, GrantChange::kCreate));
    return core::Status::Ok();
  }));
  return ExperimentPermission{std::string(experiment_id), user_id, permission};
}

core::Result<ExperimentPermission> AuthStore::GetExperimentPermission(
    std::string_view experiment_id, std::string_view username) {
  ExperimentPermission result;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<Permission> permission,
                             PermissionOf(connection, kExperiments, user.id, experiment_id));
    if (!permission) return core::NotFoundError(NoGrant(kExperiments, experiment_id, username));
    result = ExperimentPermission{std::string(experiment_id), user.id, *permission};
    return core::Status::Ok();
  }));
  return result;
}

core::Status AuthStore::UpdateExperimentPermission(std::string_view experiment_id,
                                                   std::string_view username,
                                                   Permission permission) {
  return pool_->Write([&](Connection& connection) {
    return ChangeGrant(connection, kExperiments, experiment_id, username, permission,
                       GrantChange::kUpdate)
        .status();
  });
}

core::Status AuthStore::DeleteExperimentPermission(std::string_view experiment_id,
                                                   std::string_view username) {
  return pool_->Write([&](Connection& connection) {
    return ChangeGrant(connection, kExperiments, experiment_id, username, Permission::kRead,
                       GrantChange::kDelete)
        .status();
  });
}

core::Result<RegisteredModelPermission> AuthStore::CreateRegisteredModelPermission(
    std::string_view name, std::string_view username, Permission permission) {
  int64_t user_id = 0;
  MLFORGE_RETURN_IF_ERROR(pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(user_id, ChangeGrant(connection, kModels, name, username, permission,
                                                  GrantChange::kCreate));
    return core::Status::Ok();
  }));
  return RegisteredModelPermission{std::string(name), user_id, permission};
}

core::Result<RegisteredModelPermission> AuthStore::GetRegisteredModelPermission(
    std::string_view name, std::string_view username) {
  RegisteredModelPermission result;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(User user, RequireUser(connection, username));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<Permission> permission,
                             PermissionOf(connection, kModels, user.id, name));
    if (!permission) return core::NotFoundError(NoGrant(kModels, name, username));
    result = RegisteredModelPermission{std::string(name), user.id, *permission};
    return core::Status::Ok();
  }));
  return result;
}

core::Status AuthStore::UpdateRegisteredModelPermission(std::string_view name,
                                                        std::string_view username,
                                                        Permission permission) {
  return pool_->Write([&](Connection& connection) {
    return ChangeGrant(connection, kModels, name, username, permission, GrantChange::kUpdate)
        .status();
  });
}

core::Status AuthStore::DeleteRegisteredModelPermission(std::string_view name,
                                                        std::string_view username) {
  return pool_->Write([&](Connection& connection) {
    return ChangeGrant(connection, kModels, name, username, Permission::kRead,
                       GrantChange::kDelete)
        .status();
  });
}

core::Status AuthStore::RenameRegisteredModelPermissions(std::string_view old_name,
                                                         std::string_view new_name) {
  return pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE registered_model_permissions SET name = ? WHERE name = ?"));
    update.Bind(1, new_name).Bind(2, old_name);
    return update.Run();
  });
}

core::Status AuthStore::DeleteRegisteredModelPermissions(std::string_view name) {
  return pool_->Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement remove,
        connection.Prepare("DELETE FROM registered_model_permissions WHERE name = ?"));
    remove.Bind(1, name);
    return remove.Run();
  });
}

core::Result<std::optional<Permission>> AuthStore::ExperimentPermissionOf(
    int64_t user_id, std::string_view experiment_id) {
  std::optional<Permission> result;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(result, PermissionOf(connection, kExperiments, user_id, experiment_id));
    return core::Status::Ok();
  }));
  return result;
}

core::Result<std::optional<Permission>> AuthStore::RegisteredModelPermissionOf(
    int64_t user_id, std::string_view name) {
  std::optional<Permission> result;
  MLFORGE_RETURN_IF_ERROR(pool_->Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(result, PermissionOf(connection, kModels, user_id, name));
    return core::Status::Ok();
  }));
  return result;
}

namespace {

// Every (key, permission) one user holds in `table`.
core::Result<std::vector<std::pair<std::string, Permission>>> GrantsOf(
    ConnectionPool& pool, const PermissionTable& table, int64_t user_id) {
  std::vector<std::pair<std::string, Permission>> grants;
  MLFORGE_RETURN_IF_ERROR(pool.Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare(std::string("SELECT ") + table.key_column + ", permission FROM " +
                           table.table + " WHERE user_id = ? ORDER BY " + table.key_column));
    select.Bind(1, user_id);
    while (true) {
      MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      MLFORGE_ASSIGN_OR_RETURN(Permission permission, ParsePermission(select.ColumnText(1)));
      grants.emplace_back(select.ColumnText(0), permission);
    }
    return core::Status::Ok();
  }));
  return grants;
}

}  // namespace

core::Result<std::vector<ExperimentPermission>> AuthStore::ExperimentPermissionsOf(int64_t user_id) {
  MLFORGE_ASSIGN_OR_RETURN(auto grants, GrantsOf(*pool_, kExperiments, user_id));
  std::vector<ExperimentPermission> result;
  for (auto& [key, permission] : grants) result.push_back({std::move(key), user_id, permission});
  return result;
}

core::Result<std::vector<RegisteredModelPermission>> AuthStore::RegisteredModelPermissionsOf(
    int64_t user_id) {
  MLFORGE_ASSIGN_OR_RETURN(auto grants, GrantsOf(*pool_, kModels, user_id));
  std::vector<RegisteredModelPermission> result;
  for (auto& [key, permission] : grants) result.push_back({std::move(key), user_id, permission});
  return result;
}

}  // namespace mlforge::auth
