#include "cli/commands.h"

namespace mlforge::cli {

void AddReproduceCommand(CLI::App&) {}

}  // namespace mlforge::cli
