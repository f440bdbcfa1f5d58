#include "deploy/internal/objects.h"

namespace mlforge::deploy::internal {

Object Labels(const std::string& component, const std::string& instance) {
  return Object{{"app.kubernetes.io/name", "mlforge"},
                {"app.kubernetes.io/component", component},
                {"app.kubernetes.io/instance", instance},
                {"app.kubernetes.io/managed-by", "mlforge"}};
}

Object Metadata(const std::string& name, const std::string& name_space, const Object& labels) {
  Object metadata = {{"name", name}};
  if (!name_space.empty()) metadata["namespace"] = name_space;
  metadata["labels"] = labels;
  return metadata;
}

Object Env(const std::string& name, const std::string& value) {
  return Object{{"name", name}, {"value", value}};
}

Object EnvFromSecret(const std::string& name, const std::string& secret, const std::string& key) {
  return Object{{"name", name},
                {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

Object EnvFromField(const std::string& name, const std::string& field_path) {
  return Object{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

Object Resources(const std::string& cpu, const std::string& memory) {
  return Object{{"requests", {{"cpu", cpu}, {"memory", memory}}}, {"limits", {{"memory", memory}}}};
}

Object ContainerSecurity() {
  return Object{{"runAsNonRoot", true},
                {"allowPrivilegeEscalation", false},
                {"capabilities", {{"drop", Object::array({"ALL"})}}}};
}

Object PodSecurity() {
  return Object{{"runAsUser", kImageUid}, {"runAsGroup", kImageUid}, {"fsGroup", kImageUid}};
}

Object HttpProbe(const std::string& path, const std::string& port_name, int period_seconds,
                 int failure_threshold) {
  return Object{{"httpGet", {{"path", path}, {"port", port_name}}},
                {"periodSeconds", period_seconds},
                {"failureThreshold", failure_threshold}};
}

}  // namespace mlforge::deploy::internal
