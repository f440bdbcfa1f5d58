#include "dist/parameter_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "models/torch_status.h"

namespace mlforge::dist {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAddressKey[] = "mlforge/ps/address";
constexpr uint32_t kMagic = 0x5350464d;  // "MFPS"

enum Kind : uint32_t {
  kHello = 1,    // worker -> server: step = rank, aux = floats it holds
  kPush = 2,     // worker -> server: step, version pulled, gradient payload
  kPull = 3,     // worker -> server: step, aux = 1 for a barrier
  kBye = 4,      // worker -> server
  kWeights = 5,  // server -> worker: step, version, weights payload
  kAck = 6,      // server -> worker: step, version
  kError = 7,    // server -> worker: aux = status code, message payload
};

struct Header {
  uint32_t magic = kMagic;
  uint32_t kind = 0;
  int64_t step = 0;
  int64_t version = 0;
  int64_t aux = 0;
  int64_t bytes = 0;  // payload that follows
};
static_assert(sizeof(Header) == 40);

enum class Io { kOk, kClosed, kTimedOut, kFailed };

Io SendAll(int fd, const void* data, size_t size) {
  const char* cursor = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t sent = send(fd, cursor, size, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kTimedOut;
      return errno == EPIPE || errno == ECONNRESET ? Io::kClosed : Io::kFailed;
    }
    cursor += sent;
    size -= static_cast<size_t>(sent);
  }
  return Io::kOk;
}

Io RecvAll(int fd, void* data, size_t size) {
  char* cursor = static_cast<char*>(data);
  while (size > 0) {
    ssize_t got = recv(fd, cursor, size, 0);
    if (got == 0) return Io::kClosed;
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kTimedOut;
      return errno == ECONNRESET ? Io::kClosed : Io::kFailed;
    }
    cursor += got;
    size -= static_cast<size_t>(got);
  }
  return Io::kOk;
}

Io SendMessage(int fd, uint32_t kind, int64_t step, int64_t version, int64_t aux,
               const void* payload = nullptr, int64_t bytes = 0) {
  Header header;
  header.kind = kind;
  header.step = step;
  header.version = version;
  header.aux = aux;
  header.bytes = bytes;
  Io io = SendAll(fd, &header, sizeof(header));
  if (io == Io::kOk && bytes > 0) io = SendAll(fd, payload, static_cast<size_t>(bytes));
  return io;
}

void SetTimeouts(int fd, int64_t timeout_ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_ms % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Room for a whole message of a mid-sized model in flight.
  int bytes = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

core::Status CheckParameters(const std::vector<torch::Tensor>& parameters, int64_t& total) {
  total = 0;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.scalar_type() != torch::kFloat32 || !parameter.is_contiguous()) {
      return core::InvalidArgumentError(
          "the parameter server handles contiguous float32 parameters only");
    }
    total += parameter.numel();
  }
  if (parameters.empty() || total == 0) {
    return core::InvalidArgumentError("the parameter server needs at least one parameter");
  }
  return core::Status::Ok();
}

// The parameters end to end in `flat` (float32, `total` long).
void Flatten(const std::vector<torch::Tensor>& parameters, torch::Tensor& flat) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (const torch::Tensor& parameter : parameters) {
    flat.narrow(0, offset, parameter.numel()).copy_(parameter.detach().reshape({-1}));
    offset += parameter.numel();
  }
}

std::string RankList(const std::vector<int>& ranks) {
  return fmt::format("{}", fmt::join(ranks, ", "));
}

}  // namespace

// ---------------------------------------------------------------- server

core::Result<std::unique_ptr<ParameterServer>> ParameterServer::Start(
    ProcessGroup& group, std::vector<torch::Tensor> parameters,
    const ParameterServerOptions& options, ApplyUpdate apply) {
  int64_t total = 0;
  MLFORGE_RETURN_IF_ERROR(CheckParameters(parameters, total));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::UnavailableError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  // Loopback for a local group, else every interface (the published address
  // is the one the Gloo device uses).
  const bool local = group.address().rfind("127.", 0) == 0;
  address.sin_addr.s_addr = htonl(local ? INADDR_LOOPBACK : INADDR_ANY);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, group.world_size() + 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::string reason = std::strerror(errno);
    close(fd);
    return core::UnavailableError("the parameter server could not listen: " + reason);
  }
  ParameterServerOptions resolved = options;
  if (resolved.timeout_ms <= 0) resolved.timeout_ms = group.timeout_ms();
  std::unique_ptr<ParameterServer> server(new ParameterServer(
      group.world_size(), std::move(parameters), resolved, std::move(apply), fd));
  const std::string published = fmt::format("{}:{}", group.address(), ntohs(address.sin_port));
  MLFORGE_RETURN_IF_ERROR(group.SetValue(kAddressKey, published));
  spdlog::info("parameter server on rank {} at {} for {} worker(s), {} mode", group.rank(),
               published, group.world_size(), options.mode == PsMode::kSync ? "sync" : "async");
  server->thread_ = std::thread([raw = server.get()] { raw->Run(); });
  return server;
}

ParameterServer::ParameterServer(int world_size, std::vector<torch::Tensor> parameters,
                                 const ParameterServerOptions& options, ApplyUpdate apply,
                                 int listen_fd)
    : world_size_(world_size),
      parameters_(std::move(parameters)),
      options_(options),
      apply_(std::move(apply)),
      listen_fd_(listen_fd),
      fds_(world_size, -1),
      said_bye_(world_size, false),
      clock_(world_size, options.start_step),
      ack_owed_(world_size, false),
      pull_at_(world_size, -1),
      pull_barrier_(world_size, false),
      applied_steps_(options.start_step) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK);
  for (const torch::Tensor& parameter : parameters_) total_ += parameter.numel();
  flat_weights_ = torch::empty({total_}, torch::kFloat32);
  last_heard_ = Clock::now();
}

ParameterServer::~ParameterServer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ParameterServer::Run() {
  core::Status status = AcceptWorkers();
  if (status.ok()) status = Serve();
  if (!status.ok()) {
    spdlog::error("{}", status.message());
    FailWorkers(status);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!status.ok() && error_.ok()) error_ = status;
    done_ = true;
  }
  changed_.notify_all();
}

core::Status ParameterServer::AcceptWorkers() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  int connected = 0;
  while (connected < world_size_) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return core::Status::Ok();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      std::vector<int> missing;
      for (int rank = 0; rank < world_size_; ++rank) {
        if (fds_[rank] < 0) missing.push_back(rank);
      }
      return core::DeadlineExceededError(
          fmt::format("parameter server on rank 0: rank(s) {} did not connect within {} ms",
                      RankList(missing), options_.timeout_ms));
    }
    pollfd polled[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = poll(polled, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready <= 0 || !(polled[0].revents & POLLIN)) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    SetTimeouts(fd, options_.timeout_ms);
    Header hello;
    if (RecvAll(fd, &hello, sizeof(hello)) != Io::kOk || hello.magic != kMagic ||
        hello.kind != kHello) {
      close(fd);  // not one of ours, or too slow to say who it is
      continue;
    }
    const int64_t rank = hello.step;
    if (rank < 0 || rank >= world_size_ || fds_[rank] >= 0) {
      close(fd);
      return core::InvalidArgumentError(fmt::format(
          "parameter server on rank 0: a worker said it is rank {} (of {}), twice or out of range",
          rank, world_size_));
    }
    fds_[rank] = fd;
    ++connected;
    if (hello.aux != total_) {
      return core::InvalidArgumentError(fmt::format(
          "parameter server on rank 0: rank {} has {} parameter values, the server {}; every "
          "rank must train the same model",
          rank, hello.aux, total_));
    }
  }
  last_heard_ = Clock::now();
  return core::Status::Ok();
}

core::Status ParameterServer::Serve() {
  std::vector<pollfd> polled;
  std::vector<int> rank_of;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Held after a barrier until rank 0 releases; nothing is read or applied.
      const bool was_held = held_;
      changed_.wait(lock, [&] { return !held_ || stop_; });
      if (stop_) return core::Status::Ok();
      if (was_held) last_heard_ = Clock::now();  // the hold is no worker's silence
    }
    bool all_gone = true;
    polled.clear();
    rank_of.clear();
    for (int rank = 0; rank < world_size_; ++rank) {
      if (fds_[rank] < 0) continue;
      if (!said_bye_[rank]) all_gone = false;
      polled.push_back({fds_[rank], POLLIN, 0});
      rank_of.push_back(rank);
    }
    if (all_gone) return core::Status::Ok();
    polled.push_back({wake_fd_, POLLIN, 0});
    int ready = poll(polled.data(), polled.size(), 500);
    if (ready < 0 && errno != EINTR) {
      return core::InternalError(std::string("parameter server: poll: ") + std::strerror(errno));
    }
    if (polled.back().revents & POLLIN) {
      uint64_t count = 0;
      (void)!read(wake_fd_, &count, sizeof(count));
    }
    bool heard = false;
    for (size_t index = 0; index + 1 < polled.size(); ++index) {
      if (polled[index].revents == 0) continue;
      heard = true;
      MLFORGE_RETURN_IF_ERROR(Handle(rank_of[index]));
      // A barrier answered: stop reading until rank 0 releases.
      std::lock_guard<std::mutex> lock(mutex_);
      if (held_) break;
    }
    if (heard) {
      last_heard_ = Clock::now();
    } else {
      MLFORGE_RETURN_IF_ERROR(CheckTimeout());
    }
  }
}

core::Status ParameterServer::Handle(int rank) {
  int fd = fds_[rank];
  Header header;
  Io io = RecvAll(fd, &header, sizeof(header));
  if (io == Io::kClosed && said_bye_[rank]) {
    close(fd);
    fds_[rank] = -1;
    return core::Status::Ok();
  }
  if (io == Io::kClosed) {
    close(fd);
    fds_[rank] = -1;
    return core::UnavailableError(fmt::format(
        "parameter server on rank 0: rank {} disconnected at step {} without saying goodbye; it "
        "has probably died",
        rank, clock_[rank]));
  }
  if (io != Io::kOk || header.magic != kMagic) {
    return core::UnavailableError(
        fmt::format("parameter server on rank 0: reading from rank {} at step {} failed ({})", rank,
                    clock_[rank], io == Io::kTimedOut ? "timed out mid-message" : "bad message"));
  }
  switch (header.kind) {
    case kPush: {
      if (header.step != clock_[rank] || header.bytes != total_ * 4) {
        return core::InternalError(fmt::format(
            "parameter server on rank 0: rank {} pushed step {} with {} bytes; expected step {} "
            "with {}",
            rank, header.step, header.bytes, clock_[rank], total_ * 4));
      }
      torch::Tensor gradient = torch::empty({total_}, torch::kFloat32);
      Io payload = RecvAll(fd, gradient.data_ptr<float>(), static_cast<size_t>(header.bytes));
      if (payload != Io::kOk) {
        return core::UnavailableError(fmt::format(
            "parameter server on rank 0: rank {} {} at step {} while sending its gradient; it "
            "has probably died",
            rank, payload == Io::kTimedOut ? "stalled" : "disconnected", header.step));
      }
      clock_[rank] += 1;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.max_staleness_seen = std::max(stats_.max_staleness_seen, version_ - header.version);
      }
      if (options_.mode == PsMode::kSync) {
        auto& slots = pending_[header.step];
        if (slots.empty()) slots.resize(world_size_);
        slots[rank] = std::move(gradient);
        MLFORGE_RETURN_IF_ERROR(ApplyReadySteps());
      } else {
        gradient.div_(world_size_);
        MLFORGE_RETURN_IF_ERROR(
            apply_(gradient, header.step)
                .WithContext(fmt::format("applying rank {}'s step {}", rank, header.step)));
        ++version_;
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.updates = version_;
        ack_owed_[rank] = true;
      }
      break;
    }
    case kPull:
      if (pull_at_[rank] >= 0) {
        return core::InternalError(
            fmt::format("parameter server on rank 0: rank {} pulled twice", rank));
      }
      pull_at_[rank] = header.step;
      pull_barrier_[rank] = header.aux != 0;
      break;
    case kBye:
      said_bye_[rank] = true;
      break;
    default:
      return core::InternalError(
          fmt::format("parameter server on rank 0: rank {} sent a message of unknown kind {}", rank,
                      header.kind));
  }
  return Answer();
}

core::Status ParameterServer::ApplyReadySteps() {
  while (true) {
    auto next = pending_.find(applied_steps_);
    if (next == pending_.end()) return core::Status::Ok();
    auto& slots = next->second;
    for (const torch::Tensor& slot : slots) {
      if (!slot.defined()) return core::Status::Ok();
    }
    // Rank order, so the sum is the same whatever order the pushes came in.
    torch::Tensor mean = slots[0];
    for (int rank = 1; rank < world_size_; ++rank) mean.add_(slots[rank]);
    mean.div_(world_size_);
    MLFORGE_RETURN_IF_ERROR(
        apply_(mean, applied_steps_).WithContext(fmt::format("applying step {}", applied_steps_)));
    pending_.erase(next);
    ++applied_steps_;
    ++version_;
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.updates = version_;
  }
}

int64_t ParameterServer::MinClock() const {
  int64_t least = clock_[0];
  for (int64_t clock : clock_) least = std::min(least, clock);
  return least;
}

core::Status ParameterServer::SendWeights(int rank, int64_t step) {
  if (weights_version_ != version_) {
    Flatten(parameters_, flat_weights_);
    weights_version_ = version_;
  }
  Io io = SendMessage(fds_[rank], kWeights, step, version_, 0, flat_weights_.data_ptr<float>(),
                      total_ * 4);
  if (io != Io::kOk) {
    return core::UnavailableError(fmt::format(
        "parameter server on rank 0: sending weights to rank {} at step {} failed ({}); it has "
        "probably died",
        rank, step, io == Io::kTimedOut ? "timed out" : "connection closed"));
  }
  return core::Status::Ok();
}

core::Status ParameterServer::Answer() {
  const int64_t least = MinClock();
  if (options_.mode == PsMode::kAsync) {
    for (int rank = 0; rank < world_size_; ++rank) {
      // The worker's next step is clock_[rank]; it may start it when no
      // worker has pushed fewer than clock_[rank] - max_staleness steps.
      if (!ack_owed_[rank] || clock_[rank] - least > options_.max_staleness) continue;
      if (SendMessage(fds_[rank], kAck, clock_[rank] - 1, version_, 0) != Io::kOk) {
        return core::UnavailableError(fmt::format(
            "parameter server on rank 0: acknowledging rank {}'s push failed; it has probably "
            "died",
            rank));
      }
      ack_owed_[rank] = false;
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.max_lead = std::max(stats_.max_lead, clock_[rank] - least);
    }
  }
  // Plain pulls.
  for (int rank = 0; rank < world_size_; ++rank) {
    if (pull_at_[rank] < 0 || pull_barrier_[rank]) continue;
    const int64_t step = pull_at_[rank];
    if (options_.mode == PsMode::kSync && applied_steps_ < step) continue;
    MLFORGE_RETURN_IF_ERROR(SendWeights(rank, step));
    pull_at_[rank] = -1;
  }
  // A barrier, once every rank asks for it and every step before it is in.
  int64_t barrier_step = -1;
  for (int rank = 0; rank < world_size_; ++rank) {
    if (pull_at_[rank] < 0 || !pull_barrier_[rank]) return core::Status::Ok();
    if (barrier_step >= 0 && pull_at_[rank] != barrier_step) {
      return core::InternalError(
          fmt::format("parameter server on rank 0: ranks disagree on the barrier step ({} and {})",
                      barrier_step, pull_at_[rank]));
    }
    barrier_step = pull_at_[rank];
  }
  if (least < barrier_step) return core::Status::Ok();
  if (options_.mode == PsMode::kSync && applied_steps_ < barrier_step) return core::Status::Ok();
  {
    // Held before anyone hears of the barrier, so rank 0's AwaitHold
    // returns only once nothing is applied any more.
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  changed_.notify_all();
  for (int rank = 0; rank < world_size_; ++rank) {
    MLFORGE_RETURN_IF_ERROR(SendWeights(rank, barrier_step));
    pull_at_[rank] = -1;
    pull_barrier_[rank] = false;
  }
  return core::Status::Ok();
}

core::Status ParameterServer::CheckTimeout() {
  const auto quiet =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_heard_);
  if (quiet.count() < options_.timeout_ms) return core::Status::Ok();
  bool finishing = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finishing = finishing_;
  }
  // Who the server waits for: ranks with no request pending that are behind
  // a waiting rank, or (while finishing) ranks that have not said goodbye.
  bool waiting = finishing;
  for (int rank = 0; rank < world_size_; ++rank) {
    if (pull_at_[rank] >= 0 || ack_owed_[rank]) waiting = true;
  }
  if (options_.mode == PsMode::kSync && !pending_.empty()) waiting = true;
  if (!waiting) return core::Status::Ok();
  const int64_t least = MinClock();
  std::vector<std::string> suspects;
  for (int rank = 0; rank < world_size_; ++rank) {
    if (said_bye_[rank] || pull_at_[rank] >= 0 || ack_owed_[rank]) continue;
    if (finishing || clock_[rank] == least) {
      suspects.push_back(fmt::format("rank {} (at step {})", rank, clock_[rank]));
    }
  }
  if (suspects.empty()) suspects.push_back("ranks it could not identify");
  return core::DeadlineExceededError(fmt::format(
      "parameter server on rank 0 timed out: heard from no worker for {} ms while waiting for "
      "{}; hung, cut off or far too slow (raise dist.timeout_s if only slow)",
      quiet.count(), fmt::join(suspects, ", ")));
}

void ParameterServer::FailWorkers(const core::Status& status) {
  const std::string& message = status.message();
  for (int rank = 0; rank < world_size_; ++rank) {
    if (fds_[rank] < 0) continue;
    SendMessage(fds_[rank], kError, 0, 0, static_cast<int64_t>(status.code()), message.data(),
                static_cast<int64_t>(message.size()));
    shutdown(fds_[rank], SHUT_WR);
  }
  // Read what the workers are still sending for a moment: closing a socket
  // with unread data resets the connection, and the worker would lose the
  // error before it reads it.
  const auto deadline = Clock::now() + std::chrono::milliseconds(300);
  std::vector<char> sink(1 << 16);
  while (Clock::now() < deadline) {
    std::vector<pollfd> polled;
    for (int fd : fds_) {
      if (fd >= 0) polled.push_back({fd, POLLIN, 0});
    }
    if (polled.empty() || poll(polled.data(), polled.size(), 50) <= 0) break;
    for (pollfd& entry : polled) {
      if (entry.revents == 0) continue;
      if (recv(entry.fd, sink.data(), sink.size(), MSG_DONTWAIT) <= 0) {
        for (int& fd : fds_) {
          if (fd == entry.fd) {
            close(fd);
            fd = -1;
          }
        }
      }
    }
  }
  for (int& fd : fds_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

core::Status ParameterServer::AwaitHold() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return held_ || done_ || stop_; });
  if (!error_.ok()) return error_;
  if (!held_) return core::FailedPreconditionError("the parameter server stopped before a barrier");
  return core::Status::Ok();
}

void ParameterServer::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = false;
  }
  changed_.notify_all();
}

core::Status ParameterServer::Finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finishing_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

ParameterServerStats ParameterServer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

// ---------------------------------------------------------------- client

core::Result<std::unique_ptr<ParameterClient>> ParameterClient::Connect(
    ProcessGroup& group, std::vector<torch::Tensor> parameters, PsMode mode) {
  int64_t total = 0;
  MLFORGE_RETURN_IF_ERROR(CheckParameters(parameters, total));
  MLFORGE_ASSIGN_OR_RETURN(std::string published, group.GetValue(kAddressKey));
  const size_t colon = published.rfind(':');
  if (colon == std::string::npos) {
    return core::InternalError("the parameter server published a bad address: " + published);
  }
  const std::string host = published.substr(0, colon);
  const std::string port = published.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return core::UnavailableError(fmt::format(
        "rank {}: cannot resolve the parameter server's address {}", group.rank(), published));
  }
  int fd = socket(found->ai_family, SOCK_STREAM, 0);
  int connected = fd >= 0 ? connect(fd, found->ai_addr, found->ai_addrlen) : -1;
  std::string reason = std::strerror(errno);
  freeaddrinfo(found);
  if (connected != 0) {
    if (fd >= 0) close(fd);
    return core::UnavailableError(
        fmt::format("rank {}: cannot connect to the parameter server on rank 0 at {}: {}",
                    group.rank(), published, reason));
  }
  // Twice the group's timeout (and a second), so that when the server waits
  // on a hung rank its own diagnosis arrives first.
  const int64_t timeout_ms = 2 * group.timeout_ms() + 1000;
  SetTimeouts(fd, timeout_ms);
  if (SendMessage(fd, kHello, group.rank(), 0, total) != Io::kOk) {
    close(fd);
    return core::UnavailableError(fmt::format(
        "rank {}: the parameter server at {} closed the connection", group.rank(), published));
  }
  return std::unique_ptr<ParameterClient>(
      new ParameterClient(group.rank(), fd, std::move(parameters), mode, timeout_ms));
}

ParameterClient::ParameterClient(int rank, int fd, std::vector<torch::Tensor> parameters,
                                 PsMode mode, int64_t timeout_ms)
    : rank_(rank),
      fd_(fd),
      parameters_(std::move(parameters)),
      mode_(mode),
      timeout_ms_(timeout_ms) {
  int64_t total = 0;
  for (const torch::Tensor& parameter : parameters_) total += parameter.numel();
  flat_ = torch::empty({total}, torch::kFloat32);
}

ParameterClient::~ParameterClient() {
  if (fd_ >= 0) close(fd_);
}

core::Status ParameterClient::Expect(uint32_t kind, int64_t step, const char* what) {
  Header header;
  Io io = RecvAll(fd_, &header, sizeof(header));
  if (io == Io::kOk && header.magic != kMagic) io = Io::kFailed;
  if (io != Io::kOk) {
    std::string message =
        io == Io::kTimedOut
            ? fmt::format(
                  "rank {}: no answer from the parameter server on rank 0 within {} ms "
                  "while waiting for {} at step {}; rank 0 is hung or far too slow",
                  rank_, timeout_ms_, what, step)
            : fmt::format(
                  "rank {}: the parameter server on rank 0 closed the connection while "
                  "this rank waited for {} at step {}; rank 0 has probably died",
                  rank_, what, step);
    return io == Io::kTimedOut ? core::DeadlineExceededError(message)
                               : core::UnavailableError(message);
  }
  if (header.kind == kError) {
    std::string text(static_cast<size_t>(std::max<int64_t>(header.bytes, 0)), '\0');
    if (!text.empty()) RecvAll(fd_, text.data(), text.size());
    return core::Status(static_cast<core::StatusCode>(header.aux),
                        fmt::format("rank {}: {}", rank_, text));
  }
  if (header.kind != kind) {
    return core::InternalError(
        fmt::format("rank {}: the parameter server answered with kind {} where {} was expected",
                    rank_, header.kind, what));
  }
  if (kind == kWeights) {
    version_ = header.version;  // the weights' version (an ack's is the server's)
    if (header.bytes != flat_.numel() * 4 ||
        RecvAll(fd_, flat_.data_ptr<float>(), static_cast<size_t>(header.bytes)) != Io::kOk) {
      return core::UnavailableError(fmt::format(
          "rank {}: receiving weights from the parameter server at step {} failed", rank_, step));
    }
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (torch::Tensor& parameter : parameters_) {
      parameter.detach().copy_(flat_.narrow(0, offset, parameter.numel()).view(parameter.sizes()));
      offset += parameter.numel();
    }
  }
  return core::Status::Ok();
}

core::Status ParameterClient::Fetch(int64_t step, bool barrier) {
  if (SendMessage(fd_, kPull, step, version_, barrier ? 1 : 0) != Io::kOk) {
    return core::UnavailableError(fmt::format(
        "rank {}: asking the parameter server on rank 0 for weights at step {} failed; rank 0 "
        "has probably died",
        rank_, step));
  }
  return Expect(kWeights, step, barrier ? "the barrier" : "weights");
}

core::Status ParameterClient::Pull(int64_t step) { return Fetch(step, false); }

core::Status ParameterClient::Synchronize(int64_t step) { return Fetch(step, true); }

core::Status ParameterClient::Push(int64_t step) {
  {
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (const torch::Tensor& parameter : parameters_) {
      auto part = flat_.narrow(0, offset, parameter.numel());
      const torch::Tensor& grad = parameter.grad();
      if (grad.defined()) {
        part.copy_(grad.reshape({-1}));
      } else {
        part.zero_();
      }
      offset += parameter.numel();
    }
  }
  if (SendMessage(fd_, kPush, step, version_, 0, flat_.data_ptr<float>(), flat_.numel() * 4) !=
      Io::kOk) {
    // The server may have sent its error before it closed the connection.
    core::Status answer = Expect(kAck, step, "an acknowledgement");
    if (!answer.ok()) return answer;
    return core::UnavailableError(fmt::format(
        "rank {}: pushing the gradient of step {} to the parameter server on rank 0 failed; "
        "rank 0 has probably died",
        rank_, step));
  }
  if (mode_ == PsMode::kAsync) return Expect(kAck, step, "leave to go on (max_staleness)");
  return core::Status::Ok();
}

core::Status ParameterClient::Close() {
  if (closed_) return core::Status::Ok();
  closed_ = true;
  if (SendMessage(fd_, kBye, 0, version_, 0) != Io::kOk) {
    return core::UnavailableError(
        fmt::format("rank {}: saying goodbye to the parameter server failed", rank_));
  }
  return core::Status::Ok();
}

}  // namespace mlforge::dist
