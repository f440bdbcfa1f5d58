#pragma once

// How a group of training processes combines its work: the `dist.*` keys of
// a training config, read and checked in one place (no LibTorch, so the
// launcher can reject a bad config before it starts any worker).
//
//   dist:
//     strategy: ps          # ddp (default) | ps
//     sync_every: 4         # ps: pull fresh weights every k steps (default 1)
//     ps_mode: async        # ps: sync (default) | async
//     max_staleness: 2      # ps async: steps a worker may run ahead of the slowest (default 4)
//
// See dist/parameter_server.h for what the ps keys mean.

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace mlforge::dist {

enum class Strategy { kDdp, kParameterServer };
enum class PsMode { kSync, kAsync };

struct StrategyOptions {
  Strategy strategy = Strategy::kDdp;
  int64_t sync_every = 1;
  PsMode ps_mode = PsMode::kSync;
  int64_t max_staleness = 4;
};

// Reads the keys above from the whole training config. InvalidArgument,
// naming the key, for an unknown strategy or mode, sync_every < 1 or
// max_staleness < 0.
core::Result<StrategyOptions> ReadStrategy(const core::Config& config);

// "ddp", "ps sync, sync_every 1" and the like, for logs and tags.
std::string DescribeStrategy(const StrategyOptions& options);

}  // namespace mlforge::dist
