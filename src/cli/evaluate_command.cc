#include "cli/commands.h"

namespace mlforge::cli {

void AddEvaluateCommand(CLI::App&) {}

}  // namespace mlforge::cli
