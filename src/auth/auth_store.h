#pragma once

// The users, access tokens and permissions of a tracking server with
// authentication on: MLflow's basic-auth database (users,
// experiment_permissions, registered_model_permissions) plus access tokens,
// in its own SQLite file (WAL, versioned migrations), apart from the tracking
// store so that switching auth off and on loses nothing.
//
//   auto store = AuthStore::Open("/srv/mlforge/basic_auth.db");
//   (*store)->CreateUser("alice", "s3cret", /*is_admin=*/false);
//   core::Result<User> who = (*store)->Authenticate("alice", "s3cret");
//
// Errors are MLflow's: NotFound for an unknown user or permission,
// AlreadyExists for a second user or permission with the same key,
// InvalidArgument for an empty name or password, Unauthenticated for wrong
// credentials (the message never says whether the user exists).
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/permission.h"
#include "core/status.h"

namespace mlforge::tracking::sql {
class ConnectionPool;
}  // namespace mlforge::tracking::sql

namespace mlforge::auth {

struct User {
  int64_t id = 0;
  std::string username;
  bool is_admin = false;
};

struct ExperimentPermission {
  std::string experiment_id;
  int64_t user_id = 0;
  Permission permission = Permission::kRead;
};

struct RegisteredModelPermission {
  std::string name;
  int64_t user_id = 0;
  Permission permission = Permission::kRead;
};

class AuthStore {
 public:
  static core::Result<std::unique_ptr<AuthStore>> Open(const std::string& path);
  ~AuthStore();
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  // ---- users ----
  core::Result<User> CreateUser(std::string_view username, std::string_view password,
                                bool is_admin);
  core::Result<User> GetUser(std::string_view username);
  core::Status UpdatePassword(std::string_view username, std::string_view password);
  core::Status UpdateAdmin(std::string_view username, bool is_admin);
  // Also drops the user's tokens and permissions.
  core::Status DeleteUser(std::string_view username);

  // The user `username` when `password` is theirs, else Unauthenticated.
  // A successful check is remembered (by a digest of the pair, never the
  // password) until that user's password changes or they are deleted.
  core::Result<User> Authenticate(std::string_view username, std::string_view password);
  // The owner of a live token, else Unauthenticated.
  core::Result<User> AuthenticateToken(std::string_view token);
  // A new token for `username`, valid until `expires_at_ms` (Unix ms) or for
  // good; only its digest is stored, so it is shown to the caller once.
  core::Result<std::string> CreateToken(std::string_view username, std::string_view name,
                                        std::optional<int64_t> expires_at_ms);

  // ---- permissions ----
  core::Result<ExperimentPermission> CreateExperimentPermission(std::string_view experiment_id,
                                                                std::string_view username,
                                                                Permission permission);
  core::Result<ExperimentPermission> GetExperimentPermission(std::string_view experiment_id,
                                                             std::string_view username);
  core::Status UpdateExperimentPermission(std::string_view experiment_id,
                                          std::string_view username, Permission permission);
  core::Status DeleteExperimentPermission(std::string_view experiment_id,
                                          std::string_view username);

  core::Result<RegisteredModelPermission> CreateRegisteredModelPermission(
      std::string_view name, std::string_view username, Permission permission);
  core::Result<RegisteredModelPermission> GetRegisteredModelPermission(std::string_view name,
                                                                       std::string_view username);
  core::Status UpdateRegisteredModelPermission(std::string_view name, std::string_view username,
                                               Permission permission);
  core::Status DeleteRegisteredModelPermission(std::string_view name, std::string_view username);
  // Follow a model's rename; forget a deleted model's grants.
  core::Status RenameRegisteredModelPermissions(std::string_view old_name,
                                                std::string_view new_name);
  core::Status DeleteRegisteredModelPermissions(std::string_view name);

  // What `user_id` was granted, or nullopt where nothing is recorded.
  core::Result<std::optional<Permission>> ExperimentPermissionOf(int64_t user_id,
                                                                 std::string_view experiment_id);
  core::Result<std::optional<Permission>> RegisteredModelPermissionOf(int64_t user_id,
                                                                      std::string_view name);
  // Every grant of one user, for users/get.
  core::Result<std::vector<ExperimentPermission>> ExperimentPermissionsOf(int64_t user_id);
  core::Result<std::vector<RegisteredModelPermission>> RegisteredModelPermissionsOf(
      int64_t user_id);

 private:
  explicit AuthStore(std::unique_ptr<tracking::sql::ConnectionPool> pool);
  void ForgetCredentials();

  std::unique_ptr<tracking::sql::ConnectionPool> pool_;

  std::mutex cache_mutex_;
  // Digest of (username, password) -> user id; guarded by cache_mutex_.
  std::unordered_map<std::string, int64_t> verified_;
};

}  // namespace mlforge::auth
