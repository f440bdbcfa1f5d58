#pragma once

// MLflow's basic-auth REST routes (mlflow/server/auth), under
// /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/, plus access tokens:
//
//   POST   users/create                    {username, password} -> {"user": ...}
//   GET    users/get?username=             {"user": {id, username, is_admin,
//                                            experiment_permissions, registered_model_permissions}}
//   PATCH  users/update-password           {username, password} -> {}
//   PATCH  users/update-admin              {username, is_admin} -> {}
//   DELETE users/delete                    {username} -> {}
//   POST|GET|PATCH|DELETE experiments/permissions/{create,get,update,delete}
//                                          {experiment_id, username[, permission]}
//   POST|GET|PATCH|DELETE registered-models/permissions/{create,get,update,delete}
//                                          {name, username[, permission]}
//   POST   /api/2.0/mlforge/tokens/create  {[username], [name], [expires_in_seconds]}
//                                          -> {"token": "mlf_...", "expires_at": ms?}
//
// Who may call what is the AuthGate's job, which runs in front; these routes
// only do the work. Errors in MLflow's {"error_code","message"} shape.

#include "auth/auth_store.h"
#include "net/router.h"

namespace mlforge::auth {

class AuthHandler {
 public:
  explicit AuthHandler(AuthStore& store) : store_(store) {}
  void Register(net::Router& router);

 private:
  AuthStore& store_;
};

}  // namespace mlforge::auth
