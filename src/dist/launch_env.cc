#include "dist/launch_env.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <optional>

extern char** environ;

namespace mlforge::dist {
namespace {

std::optional<std::string> Get(const Environment& env, const std::string& name) {
  auto found = env.find(name);
  if (found == env.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

core::Result<int64_t> ParseInt(const std::string& name, const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [pointer, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || pointer != end) {
    return core::InvalidArgumentError(
        fmt::format("environment variable {}='{}' is not an integer", name, text));
  }
  return value;
}

// The integer in `name`, `fallback` when unset.
core::Result<int> IntVar(const Environment& env, const std::string& name, int fallback) {
  auto text = Get(env, name);
  if (!text) return fallback;
  MLFORGE_ASSIGN_OR_RETURN(int64_t value, ParseInt(name, *text));
  if (value < 0 || value > 1'000'000) {
    return core::InvalidArgumentError(
        fmt::format("environment variable {}={} is out of range", name, value));
  }
  return static_cast<int>(value);
}

core::Result<int> RequiredIntVar(const Environment& env, const std::string& name,
                                 const std::string& scheme) {
  if (!Get(env, name)) {
    return core::InvalidArgumentError(fmt::format(
        "{} launch detected but {} is not set; set it to the number of processes", scheme, name));
  }
  return IntVar(env, name, 0);
}

core::Status SetMasterPort(const Environment& env, const std::string& name, LaunchEnv& out) {
  auto text = Get(env, name);
  if (!text) return core::Status::Ok();
  MLFORGE_ASSIGN_OR_RETURN(int64_t port, ParseInt(name, *text));
  if (port <= 0 || port > 65535) {
    return core::InvalidArgumentError(
        fmt::format("environment variable {}={} is not a TCP port (1-65535)", name, port));
  }
  out.master_port = static_cast<uint16_t>(port);
  return core::Status::Ok();
}

// MASTER_ADDR / MASTER_PORT, then the PET_ forms, when set. Returns whether an
// address was found.
core::Result<bool> ApplyExplicitMaster(const Environment& env, LaunchEnv& out) {
  bool found = false;
  for (const char* name : {"PET_MASTER_ADDR", "MASTER_ADDR"}) {
    if (auto addr = Get(env, name)) {
      out.master_addr = *addr;
      out.master_source = name;
      found = true;
    }
  }
  MLFORGE_RETURN_IF_ERROR(SetMasterPort(env, "PET_MASTER_PORT", out));
  MLFORGE_RETURN_IF_ERROR(SetMasterPort(env, "MASTER_PORT", out));
  return found;
}

core::Status Validate(const LaunchEnv& env) {
  const char* name = LauncherName(env.launcher);
  if (env.world_size < 1) {
    return core::InvalidArgumentError(fmt::format(
        "{} launch: the world size is {}; it must be at least 1", name, env.world_size));
  }
  if (env.rank >= env.world_size) {
    return core::InvalidArgumentError(fmt::format(
        "{} launch: rank {} is not below the world size {}", name, env.rank, env.world_size));
  }
  if (env.local_world_size < 1 || env.local_rank >= env.local_world_size ||
      env.local_world_size > env.world_size) {
    return core::InvalidArgumentError(
        fmt::format("{} launch: local rank {} of local world size {} (world {}) is inconsistent",
                    name, env.local_rank, env.local_world_size, env.world_size));
  }
  return core::Status::Ok();
}

core::Status DetectMlforge(const Environment& env, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "MLFORGE_DIST_RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.world_size,
                           RequiredIntVar(env, "MLFORGE_DIST_WORLD_SIZE", "mlforge"));
  MLFORGE_ASSIGN_OR_RETURN(out.local_rank, IntVar(env, "MLFORGE_DIST_LOCAL_RANK", out.rank));
  MLFORGE_ASSIGN_OR_RETURN(out.local_world_size,
                           IntVar(env, "MLFORGE_DIST_LOCAL_WORLD_SIZE", out.world_size));
  MLFORGE_ASSIGN_OR_RETURN(out.restart_count, IntVar(env, "MLFORGE_DIST_RESTART_COUNT", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.threads_per_worker, IntVar(env, "MLFORGE_DIST_THREADS", 0));
  if (auto addr = Get(env, "MLFORGE_DIST_MASTER_ADDR")) {
    out.master_addr = *addr;
    out.master_source = "MLFORGE_DIST_MASTER_ADDR";
  }
  return SetMasterPort(env, "MLFORGE_DIST_MASTER_PORT", out);
}

core::Status DetectTorchrun(const Environment& env, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.world_size, RequiredIntVar(env, "WORLD_SIZE", "torchrun"));
  MLFORGE_ASSIGN_OR_RETURN(out.local_rank, IntVar(env, "LOCAL_RANK", 0));
  // Kubeflow's PyTorchJob without torchrun sets no LOCAL_WORLD_SIZE: one
  // process per pod.
  MLFORGE_ASSIGN_OR_RETURN(out.local_world_size, IntVar(env, "LOCAL_WORLD_SIZE", 1));
  MLFORGE_ASSIGN_OR_RETURN(out.group_rank, IntVar(env, "GROUP_RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.restart_count, IntVar(env, "TORCHELASTIC_RESTART_COUNT", 0));
  MLFORGE_ASSIGN_OR_RETURN(bool explicit_master, ApplyExplicitMaster(env, out));
  if (!explicit_master && out.world_size > out.local_world_size) {
    return core::InvalidArgumentError(
        "torchrun launch spans several hosts but MASTER_ADDR is not set; set it to rank 0's host");
  }
  return core::Status::Ok();
}

core::Status DetectPetElastic(const Environment& env, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(int nproc, IntVar(env, "PET_NPROC_PER_NODE", 1));
  if (nproc != 1) {
    return core::InvalidArgumentError(fmt::format(
        "PET_NPROC_PER_NODE={} asks for several processes per pod; start the pod's command "
        "under torchrun, which sets RANK for each",
        nproc));
  }
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "PET_NODE_RANK", 0));
  std::string nnodes = Get(env, "PET_NNODES").value_or("");
  if (nnodes.empty()) {
    return core::InvalidArgumentError("PET_NODE_RANK is set but PET_NNODES is not");
  }
  if (auto colon = nnodes.find(':'); colon != std::string::npos) nnodes = nnodes.substr(colon + 1);
  MLFORGE_ASSIGN_OR_RETURN(int64_t world, ParseInt("PET_NNODES", nnodes));
  out.world_size = static_cast<int>(world);
  out.group_rank = out.rank;
  MLFORGE_ASSIGN_OR_RETURN(out.restart_count, IntVar(env, "TORCHELASTIC_RESTART_COUNT", 0));
  MLFORGE_ASSIGN_OR_RETURN(bool explicit_master, ApplyExplicitMaster(env, out));
  if (!explicit_master && out.world_size > 1) {
    return core::InvalidArgumentError("PyTorchJob launch without PET_MASTER_ADDR or MASTER_ADDR");
  }
  return core::Status::Ok();
}

core::Status DetectIndexedJob(const Environment& env, const std::string& hostname, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "JOB_COMPLETION_INDEX", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.world_size,
                           RequiredIntVar(env, "WORLD_SIZE", "Kubernetes Indexed Job"));
  out.group_rank = out.rank;
  MLFORGE_ASSIGN_OR_RETURN(bool explicit_master, ApplyExplicitMaster(env, out));
  if (explicit_master) return core::Status::Ok();
  auto service = Get(env, "MLFORGE_DIST_SERVICE");
  if (!service) {
    return core::InvalidArgumentError(
        "Kubernetes Indexed Job launch needs MASTER_ADDR or MLFORGE_DIST_SERVICE (the headless "
        "Service whose subdomain the pods use)");
  }
  // Pods of an Indexed Job are named <job>-<index>; rank 0's is <job>-0.
  const std::string suffix = "-" + std::to_string(out.rank);
  if (hostname.size() <= suffix.size() ||
      hostname.compare(hostname.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return core::InvalidArgumentError(fmt::format(
        "Indexed Job pod hostname '{}' does not end in '{}'; set MASTER_ADDR", hostname, suffix));
  }
  out.master_addr = hostname.substr(0, hostname.size() - suffix.size()) + "-0." + *service;
  out.master_source = "JOB_COMPLETION_INDEX+MLFORGE_DIST_SERVICE";
  return core::Status::Ok();
}

core::Status DetectOpenMpi(const Environment& env, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "OMPI_COMM_WORLD_RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.world_size, RequiredIntVar(env, "OMPI_COMM_WORLD_SIZE", "OpenMPI"));
  MLFORGE_ASSIGN_OR_RETURN(out.local_rank, IntVar(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.local_world_size,
                           IntVar(env, "OMPI_COMM_WORLD_LOCAL_SIZE", out.world_size));
  MLFORGE_ASSIGN_OR_RETURN(out.group_rank, IntVar(env, "OMPI_COMM_WORLD_NODE_RANK", 0));
  MLFORGE_ASSIGN_OR_RETURN(bool explicit_master, ApplyExplicitMaster(env, out));
  if (!explicit_master && out.local_world_size < out.world_size) {
    return core::InvalidArgumentError(
        "OpenMPI launch spans several hosts but MASTER_ADDR is not set; pass it with "
        "mpirun -x MASTER_ADDR=<rank 0's host>");
  }
  return core::Status::Ok();
}

// The leading count of SLURM_TASKS_PER_NODE, e.g. 2 of "2(x3),1".
core::Result<int> LeadingCount(const std::string& name, const std::string& text) {
  size_t end = 0;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  MLFORGE_ASSIGN_OR_RETURN(int64_t count, ParseInt(name, text.substr(0, end)));
  return static_cast<int>(count);
}

core::Status DetectSlurm(const Environment& env, LaunchEnv& out) {
  MLFORGE_ASSIGN_OR_RETURN(out.rank, IntVar(env, "SLURM_PROCID", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.world_size, RequiredIntVar(env, "SLURM_NTASKS", "Slurm"));
  MLFORGE_ASSIGN_OR_RETURN(out.local_rank, IntVar(env, "SLURM_LOCALID", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.group_rank, IntVar(env, "SLURM_NODEID", 0));
  MLFORGE_ASSIGN_OR_RETURN(out.restart_count, IntVar(env, "SLURM_RESTART_COUNT", 0));
  if (auto per_node = Get(env, "SLURM_NTASKS_PER_NODE")) {
    MLFORGE_ASSIGN_OR_RETURN(out.local_world_size,
                             LeadingCount("SLURM_NTASKS_PER_NODE", *per_node));
  } else if (auto tasks = Get(env, "SLURM_TASKS_PER_NODE")) {
    MLFORGE_ASSIGN_OR_RETURN(out.local_world_size, LeadingCount("SLURM_TASKS_PER_NODE", *tasks));
  } else {
    out.local_world_size = out.world_size;
  }
  MLFORGE_ASSIGN_OR_RETURN(bool explicit_master, ApplyExplicitMaster(env, out));
  if (explicit_master) return core::Status::Ok();
  for (const char* name : {"SLURM_JOB_NODELIST", "SLURM_NODELIST"}) {
    if (auto list = Get(env, name)) {
      auto first = FirstHost(*list);
      if (!first.ok()) return first.status().WithContext(name);
      out.master_addr = *first;
      out.master_source = name;
      return core::Status::Ok();
    }
  }
  if (out.local_world_size < out.world_size) {
    return core::InvalidArgumentError(
        "Slurm launch spans several hosts but neither SLURM_JOB_NODELIST nor MASTER_ADDR is set");
  }
  return core::Status::Ok();
}

// Splits at commas outside brackets.
core::Result<std::vector<std::string>> SplitTopLevel(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char character : text) {
    if (character == '[') ++depth;
    if (character == ']' && --depth < 0) break;
    if (character == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current += character;
    }
  }
  if (depth != 0) {
    return core::InvalidArgumentError("host list '" + text + "' has unbalanced brackets");
  }
  parts.push_back(current);
  return parts;
}

// Every value of one bracket body such as "01-03,07", zero-padded.
core::Result<std::vector<std::string>> ExpandRanges(const std::string& body) {
  std::vector<std::string> values;
  size_t start = 0;
  while (start <= body.size()) {
    size_t comma = body.find(',', start);
    std::string item = body.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t dash = item.find('-');
    std::string low = item.substr(0, dash);
    std::string high = dash == std::string::npos ? low : item.substr(dash + 1);
    auto low_value = ParseInt("host range", low);
    auto high_value = ParseInt("host range", high);
    if (low.empty() || !low_value.ok() || !high_value.ok() || *low_value < 0) {
      return core::InvalidArgumentError("host range '" + item + "' is not N or N-M");
    }
    if (*high_value < *low_value || *high_value - *low_value > 100'000) {
      return core::InvalidArgumentError("host range '" + item + "' is descending or too long");
    }
    for (int64_t value = *low_value; value <= *high_value; ++value) {
      values.push_back(fmt::format("{:0{}}", value, low.size()));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

core::Result<std::vector<std::string>> ExpandOne(const std::string& pattern) {
  size_t open = pattern.find('[');
  if (open == std::string::npos) {
    if (pattern.find(']') != std::string::npos) {
      return core::InvalidArgumentError("host name '" + pattern + "' has a stray ']'");
    }
    return std::vector<std::string>{pattern};
  }
  size_t close = pattern.find(']', open);
  if (close == std::string::npos) {
    return core::InvalidArgumentError("host name '" + pattern + "' has an unclosed '['");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> values,
                           ExpandRanges(pattern.substr(open + 1, close - open - 1)));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> tails, ExpandOne(pattern.substr(close + 1)));
  std::vector<std::string> hosts;
  const std::string head = pattern.substr(0, open);
  for (const std::string& value : values) {
    for (const std::string& tail : tails) hosts.push_back(head + value + tail);
  }
  return hosts;
}

}  // namespace

const char* LauncherName(Launcher launcher) {
  switch (launcher) {
    case Launcher::kNone:
      return "none";
    case Launcher::kMlforge:
      return "mlforge";
    case Launcher::kTorchrun:
      return "torchrun";
    case Launcher::kPetElastic:
      return "pytorchjob-elastic";
    case Launcher::kIndexedJob:
      return "indexed-job";
    case Launcher::kOpenMpi:
      return "openmpi";
    case Launcher::kSlurm:
      return "slurm";
  }
  return "unknown";
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

std::string Hostname() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
}

core::Result<LaunchEnv> DetectLaunchEnv(const Environment& env, const std::string& hostname) {
  LaunchEnv out;
  core::Status detected;
  if (Get(env, "MLFORGE_DIST_WORLD_SIZE") || Get(env, "MLFORGE_DIST_RANK")) {
    out.launcher = Launcher::kMlforge;
    detected = DetectMlforge(env, out);
  } else if (Get(env, "RANK")) {
    out.launcher = Launcher::kTorchrun;
    detected = DetectTorchrun(env, out);
  } else if (Get(env, "PET_NODE_RANK")) {
    out.launcher = Launcher::kPetElastic;
    detected = DetectPetElastic(env, out);
  } else if (Get(env, "JOB_COMPLETION_INDEX")) {
    out.launcher = Launcher::kIndexedJob;
    detected = DetectIndexedJob(env, hostname, out);
  } else if (Get(env, "OMPI_COMM_WORLD_RANK")) {
    out.launcher = Launcher::kOpenMpi;
    detected = DetectOpenMpi(env, out);
  } else if (Get(env, "SLURM_PROCID")) {
    out.launcher = Launcher::kSlurm;
    detected = DetectSlurm(env, out);
  } else {
    return out;
  }
  MLFORGE_RETURN_IF_ERROR(detected);
  MLFORGE_RETURN_IF_ERROR(Validate(out));
  return out;
}

core::Result<std::vector<std::string>> ExpandHostList(const std::string& host_list) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> patterns, SplitTopLevel(host_list));
  std::vector<std::string> hosts;
  for (const std::string& pattern : patterns) {
    if (pattern.empty()) continue;
    MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> expanded, ExpandOne(pattern));
    hosts.insert(hosts.end(), expanded.begin(), expanded.end());
  }
  if (hosts.empty()) return core::InvalidArgumentError("host list '" + host_list + "' is empty");
  return hosts;
}

core::Result<std::string> FirstHost(const std::string& host_list) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> patterns, SplitTopLevel(host_list));
  for (const std::string& pattern : patterns) {
    if (pattern.empty()) continue;
    // Only the first value of each bracket group matters.
    std::string first;
    size_t position = 0;
    while (position < pattern.size()) {
      size_t open = pattern.find('[', position);
      if (open == std::string::npos) {
        first += pattern.substr(position);
        break;
      }
      size_t close = pattern.find(']', open);
      if (close == std::string::npos) {
        return core::InvalidArgumentError("host name '" + pattern + "' has an unclosed '['");
      }
      size_t item_end = pattern.find_first_of(",]", open + 1);
      MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> values,
                               ExpandRanges(pattern.substr(open + 1, item_end - open - 1)));
      first += pattern.substr(position, open - position) + values.front();
      position = close + 1;
    }
    return first;
  }
  return core::InvalidArgumentError("host list '" + host_list + "' is empty");
}

std::string Describe(const LaunchEnv& env) {
  return fmt::format(
      "launcher: {}\nrank: {}\nworld_size: {}\nlocal_rank: {}\nlocal_world_size: {}\n"
      "group_rank: {}\nrestart_count: {}\nmaster: {}:{} (from {})\n",
      LauncherName(env.launcher), env.rank, env.world_size, env.local_rank, env.local_world_size,
      env.group_rank, env.restart_count, env.master_addr, env.master_port, env.master_source);
}

}  // namespace mlforge::dist
