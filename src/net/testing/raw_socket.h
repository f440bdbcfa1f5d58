#pragma once

// Test-only: a plain POSIX TCP connection to 127.0.0.1, for tests that must
// send bytes no well-behaved client would (malformed requests, pipelining,
// Expect: 100-continue) and see exactly what comes back.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

namespace mlforge::net::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; connected() says whether it worked.
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) Close();
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends every byte; false when the connection failed.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // Reads until `marker` has arrived (counting from what earlier calls left
  // unread), the peer closes, or `timeout` passes. Returns everything read
  // up to and including the marker; the rest stays for the next call.
  std::string ReadUntil(std::string_view marker,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pending_.find(marker) == std::string::npos && !closed_) {
      if (!ReadSome(deadline)) break;
    }
    size_t found = pending_.find(marker);
    size_t take = found == std::string::npos ? pending_.size() : found + marker.size();
    std::string result = pending_.substr(0, take);
    pending_.erase(0, take);
    return result;
  }

  // Reads until the peer closes the connection or `timeout` passes.
  std::string ReadAll(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && ReadSome(deadline)) {
    }
    std::string result = std::move(pending_);
    pending_.clear();
    return result;
  }

  // Whether the peer closed the connection (seen by a read).
  bool closed_by_peer() const { return closed_; }

 private:
  // One read, waiting no later than `deadline`. False on timeout or error.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0) return false;
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(chunk, static_cast<size_t>(got));
    return true;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace mlforge::net::testing
