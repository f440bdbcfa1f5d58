#include "pipeline/status_table.h"

#include <algorithm>
#include <cmath>

namespace mlforge::pipeline {
namespace {

std::string FormatSeconds(double seconds) {
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof(buffer), "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buffer, sizeof(buffer), "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%dh%02dm", static_cast<int>(seconds) / 3600,
                  (static_cast<int>(seconds) % 3600) / 60);
  }
  return buffer;
}

std::string FirstLine(const std::string& text, size_t limit) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > limit) line = line.substr(0, limit - 3) + "...";
  return line;
}

std::string Note(const StepReport& step) {
  std::string note = step.reason;
  if (step.state == StepState::kDone || step.state == StepState::kCached) {
    std::string values;
    for (const auto& [name, value] : step.values) {
      values += (values.empty() ? "" : " ") + name + "=" + value;
    }
    if (step.state == StepState::kCached) {
      note = "from run " + step.producer_run_id.substr(0, 12);
    }
    if (!values.empty()) note = note.empty() ? values : note + "; " + values;
  }
  if (step.item_index >= 0 && step.state == StepState::kPending) note = "item " + step.item;
  return FirstLine(note, 70);
}

std::string Pad(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string RenderStatusTable(const std::vector<StepReport>& steps) {
  size_t name_width = 4;
  for (const StepReport& step : steps) name_width = std::max(name_width, step.name.size());
  name_width = std::min<size_t>(name_width, 40);
  std::string out = Pad("STEP", name_width) + "  " + Pad("STATE", 8) + "  " + Pad("DURATION", 8) +
                    "  " + Pad("ATTEMPT", 7) + "  NOTE\n";
  for (const StepReport& step : steps) {
    const bool started = step.state != StepState::kPending && step.state != StepState::kSkipped;
    std::string line =
        Pad(FirstLine(step.name, name_width), name_width) + "  " +
        Pad(StepStateName(step.state), 8) + "  " +
        Pad(started ? FormatSeconds(step.seconds) : "-", 8) + "  " +
        Pad(step.attempt > 0 && step.state != StepState::kCached ? std::to_string(step.attempt)
                                                                 : "-",
            7) +
        "  " + Note(step);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string RenderFinalReport(const RunReport& report) {
  std::string out = RenderStatusTable(report.steps);
  for (const StepReport& step : report.steps) {
    if (step.state != StepState::kFailed) continue;
    out += "\nstep " + step.name + " failed: " + step.reason;
    if (step.attempt > 1) out += " (after " + std::to_string(step.attempt) + " attempts)";
    out += "\n";
    if (!step.stderr_tail.empty()) {
      out += "  last lines of stderr:\n";
      size_t start = 0;
      while (start < step.stderr_tail.size()) {
        size_t end = step.stderr_tail.find('\n', start);
        if (end == std::string::npos) end = step.stderr_tail.size();
        out += "    " + step.stderr_tail.substr(start, end - start) + "\n";
        start = end + 1;
      }
    }
    out += "  logs: " + (step.dir / "stdout.log").string() + ", " +
           (step.dir / "stderr.log").string() + "\n";
    std::string stopped;
    for (const StepReport& other : report.steps) {
      if (other.state == StepState::kSkipped &&
          other.reason.find("'" + step.name + "'") != std::string::npos) {
        stopped += (stopped.empty() ? "" : ", ") + other.name;
      }
    }
    if (!stopped.empty()) out += "  not run because of it: " + stopped + "\n";
  }
  int done = 0, cached = 0, failed = 0, skipped = 0;
  for (const StepReport& step : report.steps) {
    done += step.state == StepState::kDone;
    cached += step.state == StepState::kCached;
    failed += step.state == StepState::kFailed;
    skipped += step.state == StepState::kSkipped;
  }
  char summary[512];
  std::snprintf(summary, sizeof(summary),
                "\npipeline %s in %.2fs: %d done, %d cached, %d failed, %d skipped\n"
                "run %s, folder %s\n",
                report.succeeded ? "succeeded" : "FAILED", report.seconds, done, cached, failed,
                skipped, report.run_id.c_str(), report.run_dir.c_str());
  return out + summary;
}

void ProgressPrinter::Update(const std::vector<StepReport>& steps) {
  if (interactive_) {
    std::string table = RenderStatusTable(steps);
    std::string out;
    if (drawn_lines_ > 0) out += "\x1b[" + std::to_string(drawn_lines_) + "F";  // back up
    size_t start = 0;
    int lines = 0;
    while (start < table.size()) {
      size_t end = table.find('\n', start);
      out += "\x1b[2K" + table.substr(start, end - start) + "\n";
      start = end + 1;
      ++lines;
    }
    drawn_lines_ = lines;
    std::fputs(out.c_str(), out_);
    std::fflush(out_);
    return;
  }
  for (const StepReport& step : steps) {
    std::string state = StepStateName(step.state);
    if (step.state == StepState::kRunning && step.attempt > 1) {
      state += " (attempt " + std::to_string(step.attempt) + ")";
    }
    auto it = states_.find(step.name);
    if (it != states_.end() && it->second == state) continue;
    if (it == states_.end() && step.state == StepState::kPending) {
      states_[step.name] = state;
      continue;
    }
    states_[step.name] = state;
    std::string line = step.name + ": " + state;
    if (step.state == StepState::kDone || step.state == StepState::kCached ||
        step.state == StepState::kFailed) {
      line += " in " + FormatSeconds(step.seconds);
    }
    std::string note = Note(step);
    if (!note.empty() && step.state != StepState::kRunning) line += " (" + note + ")";
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void ProgressPrinter::Finish(const RunReport& report) {
  if (interactive_ && drawn_lines_ > 0) {
    std::fprintf(out_, "\x1b[%dF\x1b[J", drawn_lines_);
    drawn_lines_ = 0;
  } else if (!interactive_) {
    std::fputs("\n", out_);
  }
  std::fputs(RenderFinalReport(report).c_str(), out_);
  std::fflush(out_);
}

}  // namespace mlforge::pipeline
