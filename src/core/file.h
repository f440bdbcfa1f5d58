#pragma once

// Reading whole files and replacing them atomically.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::core {

// Replaces `path` with `contents` so that a crash or kill at any moment
// leaves either the old file or the new one, never a mix: the bytes go to a
// temporary file in the same folder, which is fsynced, renamed over `path`,
// and the folder is fsynced. Creates missing parent folders.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

// The whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Renames `from` over `to` (both in one file system) and fsyncs the folder of
// `to`. Used to commit a folder built under a temporary name.
Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to);

// fsyncs an existing file or folder.
Status SyncPath(const std::filesystem::path& path);

}  // namespace mlforge::core
