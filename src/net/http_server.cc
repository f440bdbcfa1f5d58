#include "net/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/ids.h"
#include "net/internal/beast.h"

namespace mlforge::net {
namespace {

using internal::View;
namespace asio = internal::asio;
namespace beast = internal::beast;
namespace http = internal::http;
using tcp = internal::tcp;
using Clock = std::chrono::steady_clock;

// How long a closing connection keeps reading (and dropping) what the client
// still sends, so that our last response is not destroyed by a TCP reset.
constexpr auto kLingerTime = std::chrono::seconds(1);

// An idle connection keeps at most this much read buffer; a large body's
// buffer is released before it waits for the next request.
constexpr size_t kIdleBufferBytes = size_t{64} << 10;

// The "Date" header value, recomputed at most once a second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local char text[64] = {0};
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
    cached_second = now;
  }
  return text;
}

// Methods get their own label value; anything else is "OTHER", so a client
// cannot grow the label set.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

// A client's X-Request-Id is echoed when it is short visible ASCII.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection");
}

// Appends "name: value\r\n", replacing CR and LF (header injection) by spaces.
void AppendHeader(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->append(": ");
  size_t start = out->size();
  out->append(value);
  for (size_t index = start; index < out->size(); ++index) {
    if ((*out)[index] == '\r' || (*out)[index] == '\n') (*out)[index] = ' ';
  }
  out->append("\r\n");
}

bool BodyForbidden(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

class HttpServer::Impl {
 public:
  class Connection;

  Impl(Options options, std::function<HttpResponse(HttpRequest&)> dispatch)
      : options_(std::move(options)),
        dispatch_(std::move(dispatch)),
        metrics_(options_.metrics != nullptr ? options_.metrics : &own_metrics_),
        work_guard_(ioc_.get_executor()),
        acceptor_(asio::make_strand(ioc_)) {}

  // Checks the options, registers the metrics, binds, and starts the threads.
  static core::Result<std::unique_ptr<HttpServer>> Launch(std::unique_ptr<Impl> impl);

  core::Status Listen();
  void Run();
  void Stop();

  // Called by connections.
  void Register(const std::shared_ptr<Connection>& connection);
  void Unregister(Connection* connection);
  // Runs the handler; *threw says whether it threw (and was answered 500).
  HttpResponse Handle(HttpRequest& request, bool* threw);
  void Record(std::string_view method, const std::string& route, int status,
              Clock::duration elapsed);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  const Options& options() const { return options_; }

  int port() const { return port_; }
  MetricsRegistry& metrics() { return *metrics_; }

 private:
  void Accept();

  const Options options_;
  const std::function<HttpResponse(HttpRequest&)> dispatch_;
  int port_ = 0;

  MetricsRegistry own_metrics_;
  MetricsRegistry* const metrics_;
  CounterFamily* requests_total_ = nullptr;
  HistogramFamily* request_duration_ = nullptr;
  Gauge* in_flight_ = nullptr;
  Gauge* connections_open_ = nullptr;

  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;  // serialises Stop() calls
  bool stopped_ = false;   // guarded by stop_mutex_

  std::mutex connections_mutex_;
  std::condition_variable connections_drained_;
  // Guarded by connections_mutex_. Every open connection.
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;

  // Declared after everything connections touch: destroying the io_context
  // destroys pending handlers and with them the last connections.
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_guard_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_timer_;
  std::vector<std::thread> threads_;
};

// One TCP connection: read a request, handle it, write the response, repeat.
// All of its work runs on its strand, one step at a time.
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
    beast::error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    server_.connections_open_->Add(1);
  }
  ~Connection() {
    server_.connections_open_->Add(-1);
    server_.Unregister(this);
  }

  void Start() { ReadNext(); }

  // Posted by Stop(): an idle connection closes now; a busy one closes after
  // its response (ReadNext checks stopping()).
  void OnServerStopping() {
    if (state_ == State::kIdle) Close();
  }
  // Posted by Stop() after the drain deadline.
  void ForceClose() { Close(); }

  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  void ReadNext() {
    if (server_.stopping()) {
      Close();
      return;
    }
    state_ = State::kIdle;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(server_.options().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options().max_body_bytes);
    if (buffer_.size() > 0) {
      ReadHeader();  // a pipelined request is already here
      return;
    }
    if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
    stream_.expires_after(server_.options().keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(8192),
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              if (ec) {
                                self->Close();  // idle timeout, peer closed, or stopping
                                return;
                              }
                              self->buffer_.commit(bytes);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    state_ = State::kReading;
    stream_.expires_after(server_.options().read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    start_ = Clock::now();
    if (ec) {
      OnReadError(ec);
      return;
    }
    auto& message = parser_->get();
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    auto expect = message.find(http::field::expect);
    if (expect != message.end() && EqualsIgnoreCase(View(expect->value()), "100-continue") &&
        message.version() >= 11) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(server_.options().write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code write_ec, size_t) {
                          if (write_ec) {
                            self->Close();
                            return;
                          }
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(server_.options().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         self->OnReadError(ec);
                         return;
                       }
                       self->OnRequest();
                     });
  }

  // The rule: a clean end of stream, a timeout, a reset or a request cut
  // short close quietly (there is no one to answer); a request the parser
  // rejects gets 413, 431 or 400 and the connection is closed after it.
  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      std::string declared;
      if (auto length = parser_->content_length()) {
        declared = " of " + std::to_string(*length) + " bytes";
      }
      Reject(413, "The request body" + declared + " exceeds this server's limit of " +
                      std::to_string(server_.options().max_body_bytes) +
                      " bytes (max_body_bytes); send a smaller body.");
      return;
    }
    if (ec == http::error::header_limit) {
      Reject(431, "The request line and headers exceed this server's limit of " +
                      std::to_string(server_.options().max_header_bytes) + " bytes.");
      return;
    }
    bool parse_error = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                       ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (parse_error) {
      Reject(400, "Malformed HTTP request: " + ec.message() + ".");
      return;
    }
    Close();
  }

  // Answers a request that could not be read whole, then closes.
  void Reject(int status, std::string message) {
    request_ = HttpRequest();
    if (parser_->is_header_done()) {
      request_.method = std::string(View(parser_->get().method_string()));
      request_.target = std::string(View(parser_->get().target()));
      request_.path = request_.target;
    }
    request_.request_id = core::NewId();
    keep_alive_ = false;
    response_ = HttpResponse::Text(status, std::move(message) + "\n");
    Write();
  }

  void OnRequest() {
    state_ = State::kHandling;
    stream_.expires_never();
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    http_10_ = message.version() < 11;

    request_ = HttpRequest();
    request_.method = std::string(View(message.method_string()));
    request_.target = std::string(View(message.target()));
    request_.headers.reserve(16);
    for (const auto& field : message) {
      request_.headers.emplace_back(View(field.name_string()), View(field.value()));
    }
    request_.body = std::move(message.body());
    request_.remote_address = remote_;
    std::optional<std::string> client_id = request_.Header("X-Request-Id");
    request_.request_id =
        client_id && UsableRequestId(*client_id) ? std::move(*client_id) : core::NewId();

    core::Status target_status = ParseTarget(request_.target, &request_.path, &request_.query);
    if (!target_status.ok()) {
      response_ = HttpResponse::Text(400, "Bad request target: " + target_status.message() + "\n");
    } else {
      server_.in_flight_->Add(1);
      const uint64_t serial = ++request_serial_;
      bool deferred = false;
      request_.deferrer = [this, serial, &deferred] {
        deferred = true;
        return MakeResponder(serial);
      };
      bool threw = false;
      response_ = server_.Handle(request_, &threw);
      request_.deferrer = nullptr;
      if (deferred && !threw) {
        // The handler answers later, through its Responder; this connection
        // holds itself until then (or until it is closed).
        awaiting_serial_ = serial;
        hold_ = shared_from_this();
        return;
      }
      server_.in_flight_->Add(-1);
    }
    if (server_.stopping()) keep_alive_ = false;
    Write();
  }

  // A deferred request's answer, posted to this connection's strand by its
  // Responder. Stale answers (the handler threw and was answered 500, or the
  // connection closed meanwhile) are dropped.
  void OnDeferredResponse(uint64_t serial, HttpResponse response) {
    if (serial != awaiting_serial_) return;
    awaiting_serial_ = 0;
    server_.in_flight_->Add(-1);
    std::shared_ptr<Connection> keep = std::move(hold_);
    if (state_ != State::kHandling) return;  // closed while the answer was computed
    response_ = std::move(response);
    if (server_.stopping()) keep_alive_ = false;
    Write();
  }

  // The Responder for request `serial`. It holds the connection weakly: a
  // connection closed meanwhile (the server stopping) just drops the answer.
  Responder MakeResponder(uint64_t serial) {
    struct Pending {
      std::weak_ptr<Connection> connection;
      uint64_t serial;
      std::atomic<bool> sent{false};
      void Send(HttpResponse response) {
        if (sent.exchange(true)) return;
        std::shared_ptr<Connection> target = connection.lock();
        if (!target) return;
        asio::any_io_executor executor = target->executor();
        asio::post(executor, [target = std::move(target), serial = serial,
                              response = std::move(response)]() mutable {
          target->OnDeferredResponse(serial, std::move(response));
        });
      }
      ~Pending() {
        if (!sent.load()) {
          Send(HttpResponse::Text(500, "Internal server error: the request was never answered\n"));
        }
      }
    };
    auto pending = std::make_shared<Pending>();
    pending->connection = weak_from_this();
    pending->serial = serial;
    return [pending](HttpResponse response) { pending->Send(std::move(response)); };
  }

  void Write() {
    state_ = State::kWriting;
    const HttpResponse& response = response_;
    std::string_view body = response.BodyView();
    bool no_body = BodyForbidden(response.status);
    head_.clear();
    head_.append("HTTP/1.1 ");
    head_.append(std::to_string(response.status));
    head_.push_back(' ');
    head_.append(ReasonPhrase(response.status));
    head_.append("\r\n");
    AppendHeader("Server", server_.options().server_name, &head_);
    AppendHeader("Date", HttpDate(), &head_);
    if (!response.content_type.empty()) {
      AppendHeader("Content-Type", response.content_type, &head_);
    }
    for (const auto& [name, value] : response.headers) {
      if (!IsFramingHeader(name)) AppendHeader(name, value, &head_);
    }
    if (!response.Header("X-Request-Id")) {
      AppendHeader("X-Request-Id", request_.request_id, &head_);
    }
    if (!no_body) AppendHeader("Content-Length", std::to_string(body.size()), &head_);
    if (!keep_alive_) {
      head_.append("Connection: close\r\n");
    } else if (http_10_) {
      head_.append("Connection: keep-alive\r\n");
    }
    head_.append("\r\n");

    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::const_buffer()};
    if (!no_body && request_.method != "HEAD") buffers[1] = asio::buffer(body.data(), body.size());
    stream_.expires_after(server_.options().write_timeout);
    asio::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnWritten(ec);
    });
  }

  void OnWritten(beast::error_code ec) {
    Clock::duration elapsed = Clock::now() - start_;
    server_.Record(request_.method, request_.route, response_.status, elapsed);
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("http {} {} {} {} {} {}us{}", request_.request_id, remote_, request_.method,
                    request_.path, response_.status,
                    std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
                    ec ? " (write failed: " + ec.message() + ")" : "");
    }
    response_ = HttpResponse();
    request_ = HttpRequest();
    if (ec) {
      Close();
      return;
    }
    if (!keep_alive_) {
      CloseGracefully();
      return;
    }
    ReadNext();
  }

  // Half-closes, then reads and drops what the client still sends until it
  // closes too (or kLingerTime passes), so it gets to read our response.
  void CloseGracefully() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(16384),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    if (awaiting_serial_ != 0) {
      // A deferred answer that will not be written: let the connection go.
      awaiting_serial_ = 0;
      server_.in_flight_->Add(-1);
      asio::post(executor(), [keep = std::move(hold_)] {});
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kIdle;
  std::string remote_;
  // The request being served and its response; kept here until written.
  HttpRequest request_;
  HttpResponse response_;
  std::string head_;
  bool keep_alive_ = true;
  bool http_10_ = false;
  Clock::time_point start_;
  // Deferred requests (HttpRequest::Defer): every request's serial number,
  // the one whose Responder is awaited (0: none), and this connection's hold
  // on itself while it waits.
  uint64_t request_serial_ = 0;
  uint64_t awaiting_serial_ = 0;
  std::shared_ptr<Connection> hold_;
};

core::Status HttpServer::Impl::Listen() {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  beast::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(options_.port));
  } else {
    tcp::resolver resolver(ioc_);
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return core::UnavailableError("cannot listen on " + where + ": host \"" + options_.host +
                                    "\" does not resolve (" + ec.message() +
                                    "); use an IP address such as 127.0.0.1 or 0.0.0.0");
    }
    endpoint = results.begin()->endpoint();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::UnavailableError(
        "cannot listen on " + where + ": " + ec.message() +
        (ec == asio::error::address_in_use
             ? "; another process holds the port: stop it or choose another port (0 picks a "
               "free one)"
             : "; check the host is an address of this machine, or choose another port"));
  }
  port_ = acceptor_.local_endpoint().port();
  return core::Status::Ok();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (stopping() || ec == asio::error::operation_aborted) return;
      // Out of file descriptors and the like: back off instead of spinning.
      spdlog::warn("http server {}: accept failed: {}", port_, ec.message());
      accept_retry_timer_ = std::make_unique<asio::steady_timer>(acceptor_.get_executor());
      accept_retry_timer_->expires_after(std::chrono::milliseconds(50));
      accept_retry_timer_->async_wait([this](beast::error_code) {
        if (!stopping()) Accept();
      });
      return;
    }
    beast::error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec);
    auto connection = std::make_shared<Connection>(*this, std::move(socket));
    Register(connection);
    // Start on the connection's own strand.
    asio::post(connection->executor(), [connection] { connection->Start(); });
    Accept();
  });
}

void HttpServer::Impl::Run() {
  Accept();
  int thread_count = options_.worker_threads > 0
                         ? options_.worker_threads
                         : std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
  threads_.reserve(static_cast<size_t>(thread_count));
  for (int index = 0; index < thread_count; ++index) {
    threads_.emplace_back([this] {
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& error) {
          spdlog::error("http server {}: uncaught exception on an I/O thread: {}", port_,
                        error.what());
        } catch (...) {
          spdlog::error("http server {}: uncaught non-standard exception on an I/O thread", port_);
        }
      }
    });
  }
}

void HttpServer::Impl::Register(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(connections_mutex_);
  connections_.emplace(connection.get(), connection);
}

void HttpServer::Impl::Unregister(Connection* connection) {
  std::lock_guard lock(connections_mutex_);
  connections_.erase(connection);
  if (connections_.empty()) connections_drained_.notify_all();
}

HttpResponse HttpServer::Impl::Handle(HttpRequest& request, bool* threw) {
  if (options_.expose_metrics && request.path == "/metrics" &&
      (request.method == "GET" || request.method == "HEAD")) {
    request.route = "/metrics";
    HttpResponse response;
    response.content_type = MetricsRegistry::kContentType;
    response.body = metrics_->RenderPrometheus();
    return response;
  }
  try {
    return dispatch_(request);
  } catch (const std::exception& error) {
    *threw = true;
    spdlog::error("http {} {} {}: handler threw: {}", request.request_id, request.method,
                  request.path, error.what());
    return HttpResponse::Text(500, std::string("Internal server error: ") + error.what() +
                                       " (request id " + request.request_id + ")\n");
  } catch (...) {
    *threw = true;
    spdlog::error("http {} {} {}: handler threw a non-standard exception", request.request_id,
                  request.method, request.path);
    return HttpResponse::Text(500,
                              "Internal server error (request id " + request.request_id + ")\n");
  }
}

void HttpServer::Impl::Record(std::string_view method, const std::string& route, int status,
                              Clock::duration elapsed) {
  std::string_view method_label = MethodLabel(method);
  char status_text[8];
  int length = std::snprintf(status_text, sizeof(status_text), "%d", status);
  std::string_view status_label(status_text, static_cast<size_t>(std::max(length, 0)));
  requests_total_->WithLabels({method_label, route, status_label}).Increment();
  request_duration_->WithLabels({method_label, route})
      .Observe(std::chrono::duration<double>(elapsed).count());
}

void HttpServer::Impl::Stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);

  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    if (accept_retry_timer_) accept_retry_timer_->cancel();
  });

  auto for_each_connection = [this](auto action) {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(connections_mutex_);
      for (auto& [raw, weak] : connections_) {
        if (auto connection = weak.lock()) open.push_back(std::move(connection));
      }
    }
    for (auto& connection : open) {
      asio::post(connection->executor(), [connection, action] { action(*connection); });
    }
  };
  for_each_connection([](Connection& connection) { connection.OnServerStopping(); });

  {
    std::unique_lock lock(connections_mutex_);
    if (!connections_drained_.wait_for(lock, options_.drain_timeout,
                                       [this] { return connections_.empty(); })) {
      spdlog::warn(
          "http server {}: {} connection(s) still busy after the {} ms drain timeout; "
          "closing them",
          port_, connections_.size(), options_.drain_timeout.count());
    }
  }
  for_each_connection([](Connection& connection) { connection.ForceClose(); });
  {
    // Closing is quick once forced; a handler still running is waited for by
    // the join below.
    std::unique_lock lock(connections_mutex_);
    connections_drained_.wait_for(lock, std::chrono::seconds(1),
                                  [this] { return connections_.empty(); });
  }
  work_guard_.reset();
  ioc_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

core::Result<std::unique_ptr<HttpServer>> HttpServer::Impl::Launch(std::unique_ptr<Impl> impl) {
  const Options& options = impl->options_;
  if (options.port < 0 || options.port > 65535) {
    return core::InvalidArgumentError("port " + std::to_string(options.port) +
                                      " is outside 0..65535 (0 picks a free port)");
  }
  if (options.worker_threads < 0) {
    return core::InvalidArgumentError("worker_threads must be >= 0 (0 picks a default)");
  }
  if (options.max_body_bytes == 0 || options.max_header_bytes < 1024) {
    return core::InvalidArgumentError(
        "max_body_bytes must be positive and max_header_bytes at least 1024");
  }
  if (options.keep_alive_timeout.count() <= 0 || options.read_timeout.count() <= 0 ||
      options.write_timeout.count() <= 0 || options.drain_timeout.count() < 0) {
    return core::InvalidArgumentError("the server's timeouts must be positive");
  }
  MetricsRegistry& registry = *impl->metrics_;
  MLFORGE_ASSIGN_OR_RETURN(
      impl->requests_total_,
      registry.AddCounter("mlforge_http_requests_total",
                          "HTTP requests answered, by method, route pattern and status code.",
                          {"method", "route", "status"}));
  MLFORGE_ASSIGN_OR_RETURN(
      impl->request_duration_,
      registry.AddHistogram("mlforge_http_request_duration_seconds",
                            "Time from a request's headers to its response written, in seconds.",
                            {"method", "route"}, MetricsRegistry::DefaultLatencyBuckets()));
  MLFORGE_ASSIGN_OR_RETURN(
      GaugeFamily * in_flight,
      registry.AddGauge("mlforge_http_requests_in_flight", "Requests being handled now."));
  MLFORGE_ASSIGN_OR_RETURN(
      GaugeFamily * connections,
      registry.AddGauge("mlforge_http_connections_open", "Client connections open now."));
  impl->in_flight_ = &in_flight->WithLabels();
  impl->connections_open_ = &connections->WithLabels();

  MLFORGE_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  spdlog::debug("http server listening on {}:{} with {} threads", impl->options_.host, impl->port_,
                impl->threads_.size());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

core::Result<std::unique_ptr<HttpServer>> HttpServer::Start(Options options, Handler handler) {
  if (!handler) return core::InvalidArgumentError("HttpServer::Start needs a handler");
  auto dispatch = [handler = std::move(handler)](HttpRequest& request) { return handler(request); };
  return Impl::Launch(std::make_unique<Impl>(std::move(options), std::move(dispatch)));
}

core::Result<std::unique_ptr<HttpServer>> HttpServer::Start(Options options, Router router) {
  auto shared_router = std::make_shared<const Router>(std::move(router));
  auto dispatch = [shared_router](HttpRequest& request) {
    return shared_router->Dispatch(request);
  };
  return Impl::Launch(std::make_unique<Impl>(std::move(options), std::move(dispatch)));
}

int HttpServer::port() const { return impl_->port(); }

const std::string& HttpServer::host() const { return impl_->options().host; }

std::string HttpServer::address() const { return host() + ":" + std::to_string(port()); }

MetricsRegistry& HttpServer::metrics() { return impl_->metrics(); }

}  // namespace mlforge::net
