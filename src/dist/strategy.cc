#include "dist/strategy.h"

#include <fmt/format.h>

namespace mlforge::dist {

core::Result<StrategyOptions> ReadStrategy(const core::Config& config) {
  StrategyOptions options;
  MLFORGE_ASSIGN_OR_RETURN(std::string strategy, config.String("dist.strategy", "ddp"));
  if (strategy == "ddp") {
    options.strategy = Strategy::kDdp;
  } else if (strategy == "ps") {
    options.strategy = Strategy::kParameterServer;
  } else {
    return core::InvalidArgumentError(fmt::format(
        "dist.strategy is '{}'; use ddp (all-reduced gradients) or ps (parameter server)",
        strategy));
  }
  MLFORGE_ASSIGN_OR_RETURN(options.sync_every, config.Int("dist.sync_every", 1));
  if (options.sync_every < 1) {
    return core::InvalidArgumentError(fmt::format(
        "dist.sync_every is {}; it must be at least 1 (pull fresh weights every k steps)",
        options.sync_every));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::string mode, config.String("dist.ps_mode", "sync"));
  if (mode == "sync") {
    options.ps_mode = PsMode::kSync;
  } else if (mode == "async") {
    options.ps_mode = PsMode::kAsync;
  } else {
    return core::InvalidArgumentError(fmt::format("dist.ps_mode is '{}'; use sync or async", mode));
  }
  MLFORGE_ASSIGN_OR_RETURN(options.max_staleness, config.Int("dist.max_staleness", 4));
  if (options.max_staleness < 0) {
    return core::InvalidArgumentError(
        fmt::format("dist.max_staleness is {}; it must be >= 0 (0 keeps async workers in lockstep)",
                    options.max_staleness));
  }
  return options;
}

std::string DescribeStrategy(const StrategyOptions& options) {
  if (options.strategy == Strategy::kDdp) return "ddp";
  if (options.ps_mode == PsMode::kSync) {
    return fmt::format("ps sync, sync_every {}", options.sync_every);
  }
  return fmt::format("ps async, sync_every {}, max_staleness {}", options.sync_every,
                     options.max_staleness);
}

}  // namespace mlforge::dist
