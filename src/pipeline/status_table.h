#pragma once

// The status table of a pipeline run: live while it runs, and at the end.
//
//   ProgressPrinter printer(stdout, isatty(STDOUT_FILENO));
//   options.on_progress = [&](const auto& steps) { printer.Update(steps); };
//   ... RunPipeline ...
//   printer.Finish(report);
//
// On a terminal the table is redrawn in place; otherwise each change of a
// step's state is one plain line ("train: running (attempt 2)"). Not
// thread-safe: call from one thread (RunOptions::on_progress is).

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "pipeline/runner.h"

namespace mlforge::pipeline {

// The table: STEP, STATE, DURATION, ATTEMPT, NOTE; one line per step,
// ending in a newline.
std::string RenderStatusTable(const std::vector<StepReport>& steps);

// The end of a run: the table, then for each failed step its reason, the
// last lines of its stderr and its log path, and which steps it stopped;
// then one summary line.
std::string RenderFinalReport(const RunReport& report);

class ProgressPrinter {
 public:
  // `out` is borrowed and must outlive the printer.
  ProgressPrinter(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

  void Update(const std::vector<StepReport>& steps);
  void Finish(const RunReport& report);

 private:
  std::FILE* out_;
  const bool interactive_;
  int drawn_lines_ = 0;                        // interactive: lines of the last table
  std::map<std::string, std::string> states_;  // plain: last printed state per step
};

}  // namespace mlforge::pipeline
