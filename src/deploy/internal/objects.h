#pragma once

// Building blocks shared by the renderers: metadata, labels, environment
// variables, resources and the pod security settings that match the image
// the repository's Dockerfile builds. Private to deploy/.

#include <string>

#include "deploy/yaml_writer.h"

namespace mlforge::deploy::internal {

// The user and group the Dockerfile's runtime stage creates and runs as.
constexpr int kImageUid = 10001;

// app.kubernetes.io/* labels naming the program, the part (train, serve,
// tracking-server) and this instance.
Object Labels(const std::string& component, const std::string& instance);

// metadata: name, namespace (omitted when empty) and labels.
Object Metadata(const std::string& name, const std::string& name_space, const Object& labels);

// {name, value}.
Object Env(const std::string& name, const std::string& value);
// {name, valueFrom: {secretKeyRef: {name: secret, key}}}.
Object EnvFromSecret(const std::string& name, const std::string& secret, const std::string& key);
// {name, valueFrom: {fieldRef: {fieldPath}}}.
Object EnvFromField(const std::string& name, const std::string& field_path);

// requests of cpu and memory; the memory request is also the limit, so a
// pod that grows past it is stopped rather than starving its node.
Object Resources(const std::string& cpu, const std::string& memory);

// The container's securityContext: non-root, no privilege escalation, no
// capabilities.
Object ContainerSecurity();
// The pod's securityContext: runs as the image's user, volumes writable by it.
Object PodSecurity();

// An HTTP GET probe on the container port named `port_name`.
Object HttpProbe(const std::string& path, const std::string& port_name, int period_seconds,
                 int failure_threshold);

}  // namespace mlforge::deploy::internal
