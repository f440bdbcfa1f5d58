#pragma once

// Page tokens for the search and history calls. A token is opaque to
// clients; inside it is base64 of `{"offset": N}`, the form MLflow's own
// stores use, so tokens stay readable when debugging. Every Store
// implementation uses these two functions, so a token from one backend means
// the same in another.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::tracking {

// The token for the page that starts at `offset` (> 0).
std::string EncodePageToken(int64_t offset);

// The offset in `token`; 0 for an empty token. InvalidArgument for anything
// that is not a token made by EncodePageToken.
core::Result<int64_t> DecodePageToken(std::string_view token);

}  // namespace mlforge::tracking
