#include "cli/commands.h"

namespace mlforge::cli {

void AddLineageCommand(CLI::App&) {}

}  // namespace mlforge::cli
