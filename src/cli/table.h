#pragma once

// Plain-text output shared by the listing commands (runs, models).

#include <cstdint>
#include <string>
#include <vector>

namespace mlforge::cli {

// Prints rows to stdout as columns padded to the widest cell, two spaces
// apart; the first row is the header. Rows may have different lengths.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Milliseconds since the epoch as local "YYYY-MM-DD HH:MM:SS"; "-" for 0 or
// less (not set).
std::string FormatTime(int64_t millis);

}  // namespace mlforge::cli
