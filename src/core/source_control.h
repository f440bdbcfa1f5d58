#pragma once

// What code produced a run: the git commit of the checkout a file or folder
// lives in, for MLflow's mlflow.source.git.commit tag.

#include <filesystem>
#include <string>

namespace mlforge::core {

// The 40-hex commit HEAD points at in the git checkout holding `path` (a
// file or a folder), or "" when it is not in one or git is not installed.
std::string GitCommit(const std::filesystem::path& path);

}  // namespace mlforge::core
