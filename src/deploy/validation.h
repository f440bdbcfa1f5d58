#pragma once

// Checks of the values that go into Kubernetes manifests, done before
// anything is rendered, so a bad flag is an error naming the flag instead of
// a manifest the API server rejects later. Each returns InvalidArgument with
// a message of the form "<what> '<value>' <is wrong how>; <what to do>".
// Pure functions; thread-safe.

#include <string>

#include "core/status.h"

namespace mlforge::deploy {

// A name for Services, Jobs, Deployments and their pods, which Kubernetes
// reads as a DNS-1035 label: 1-`max_length` characters of a-z, 0-9 and '-',
// starting with a letter and ending with a letter or digit. `what` names the
// flag in the message, e.g. "--name".
core::Status ValidateName(const std::string& what, const std::string& value,
                          size_t max_length = 63);

// A container image reference as Docker and Kubernetes read it:
// [host[:port]/]path[:tag][@sha256:digest] with a lower-case path, e.g.
// "registry.example.com:5000/team/mlforge:0.1.0".
core::Status ValidateImage(const std::string& what, const std::string& image);

// A Kubernetes resource quantity such as "500m", "2", "1.5", "4Gi", "512M".
core::Status ValidateQuantity(const std::string& what, const std::string& quantity);

// A TCP port, 1-65535.
core::Status ValidatePort(const std::string& what, int port);

// A value that must be at least `minimum` (worker and replica counts).
core::Status ValidateAtLeast(const std::string& what, int64_t value, int64_t minimum);

// A ConfigMap key: 1-253 characters of a-z, A-Z, 0-9, '-', '_' and '.'.
core::Status ValidateConfigKey(const std::string& what, const std::string& key);

// Turns free text (a config file's stem, a model name) into a fragment of a
// name no longer than `max_length`: lower case, other characters become '-',
// runs of '-' collapse, and '-' is trimmed from both ends. Empty when nothing
// usable is left.
std::string ToNameFragment(const std::string& text, size_t max_length = 63);

}  // namespace mlforge::deploy
