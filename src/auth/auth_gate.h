#pragma once

// The tracking server's door when authentication is on: every request
// (except the health probes) must carry HTTP basic credentials or a bearer
// token (`Authorization: Bearer mlf_...`, MLflow's MLFLOW_TRACKING_TOKEN),
// else 401 UNAUTHENTICATED with `WWW-Authenticate: Basic realm="mlflow"`.
// Admins may do anything. Everyone else is checked, per endpoint, against
// their permission on the experiment (found from experiment_id,
// experiment_name, run_id, a logged model or an artifact path) or the
// registered model (name) the request touches, falling back to the
// server's default permission; a refusal is 403 PERMISSION_DENIED. This
// follows MLflow's basic-auth app:
//
//   read (get, search, history, download)       READ
//   change (log, tag, update, new run/version)  EDIT
//   delete, restore, grant permissions          MANAGE
//   users/get, users/update-password            the user themself
//   users/create, update-admin, users/delete    admins only
//
// After a successful experiments/create or registered-models/create the
// creator is granted MANAGE on the new resource; a model's grants follow its
// rename and go with its deletion; experiments, registered models and model
// versions a user may not read are left out of search results.
//
//   AuthGate gate(auth_store, tracking_store, {.default_permission = Permission::kRead});
//   router.SetInterceptor([&gate](net::HttpRequest& r, const net::Handler& next) {
//     return gate.Intercept(r, next);
//   });
//
// Thread-safe; borrows both stores, which must outlive it.

#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_store.h"
#include "auth/permission.h"
#include "net/http.h"
#include "tracking/store.h"

namespace mlforge::auth {

// The header through which the gate tells the routes behind it who is
// asking; whatever a client sends under this name is dropped first.
inline constexpr std::string_view kAuthenticatedUserHeader = "X-Mlforge-Authenticated-User";

class AuthGate {
 public:
  struct Options {
    // Applies where no permission is recorded for the user (MLflow's
    // default_permission).
    Permission default_permission = Permission::kRead;
  };

  AuthGate(AuthStore& users, tracking::Store& tracking, Options options);

  net::HttpResponse Intercept(net::HttpRequest& request, const net::Handler& next) const;

  // The user the request's credentials name, or Unauthenticated.
  core::Result<User> Authenticate(const net::HttpRequest& request) const;

  // What one endpoint needs (defined with the table of them in the .cc).
  struct Rule;

 private:
  core::Result<bool> Allowed(const User& user, const Rule& rule,
                             const net::HttpRequest& request) const;
  core::Result<Permission> OnExperiment(const User& user, const std::string& experiment_id) const;
  core::Result<Permission> OnModel(const User& user, const std::string& name) const;
  void AfterSuccess(const User& user, const Rule& rule, const net::HttpRequest& request,
                    net::HttpResponse& response) const;

  AuthStore& users_;
  tracking::Store& tracking_;
  const Options options_;
};

}  // namespace mlforge::auth
