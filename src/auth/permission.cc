#include "auth/permission.h"

#include <string>

namespace mlforge::auth {

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead: return "READ";
    case Permission::kEdit: return "EDIT";
    case Permission::kManage: return "MANAGE";
    case Permission::kNoPermissions: break;
  }
  return "NO_PERMISSIONS";
}

core::Result<Permission> ParsePermission(std::string_view name) {
  for (Permission permission : {Permission::kRead, Permission::kEdit, Permission::kManage,
                                Permission::kNoPermissions}) {
    if (name == PermissionName(permission)) return permission;
  }
  return core::InvalidArgumentError("Invalid permission '" + std::string(name) +
                                    "'. Valid permissions are: READ, EDIT, MANAGE, NO_PERMISSIONS");
}

bool Allows(Permission permission, Action action) {
  switch (permission) {
    case Permission::kManage: return true;
    case Permission::kEdit: return action == Action::kRead || action == Action::kUpdate;
    case Permission::kRead: return action == Action::kRead;
    case Permission::kNoPermissions: break;
  }
  return false;
}

}  // namespace mlforge::auth
