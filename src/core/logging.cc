#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace mlforge::core {

void SetupLogging(int verbosity, const std::string& prefix) {
  auto logger = spdlog::get("mlforge");
  if (!logger) logger = spdlog::stderr_color_mt("mlforge");
  spdlog::set_default_logger(logger);
  std::string pattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ ";
  if (!prefix.empty()) pattern += prefix + " ";
  spdlog::set_pattern(pattern + "%v");
  spdlog::set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
}

}  // namespace mlforge::core
