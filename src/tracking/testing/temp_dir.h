#pragma once

// The shared test folder helper, under this subsystem's testing namespace.

#include "core/testing/temp_dir.h"

namespace mlforge::tracking::testing {

using ScopedTempDir = core::testing::ScopedTempDir;

}  // namespace mlforge::tracking::testing
