#pragma once

// MLflow's basic-auth permissions, from weakest to strongest grant:
//
//   NO_PERMISSIONS  nothing, not even reading
//   READ            read the resource
//   EDIT            read and change it (log to runs, set tags, new versions)
//   MANAGE          everything: delete it and grant permissions on it
//
// A permission belongs to one user on one experiment (its runs, artifacts
// and logged models inherit it) or one registered model (its versions and
// aliases inherit it). Where none is recorded, the server's default applies.

#include <string_view>

#include "core/status.h"

namespace mlforge::auth {

enum class Permission { kNoPermissions, kRead, kEdit, kManage };

// "READ", "EDIT", "MANAGE", "NO_PERMISSIONS".
std::string_view PermissionName(Permission permission);
// The inverse of PermissionName (exact case, as MLflow); InvalidArgument
// naming the valid values otherwise.
core::Result<Permission> ParsePermission(std::string_view name);

// What a permission allows, as MLflow's Permission fields.
enum class Action { kRead, kUpdate, kDelete, kManage };
bool Allows(Permission permission, Action action);

}  // namespace mlforge::auth
