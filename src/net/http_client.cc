#include "net/http_client.h"

#include <array>
#include <utility>

#include "net/internal/beast.h"

namespace mlforge::net {
namespace {

using internal::View;
namespace asio = internal::asio;
namespace beast = internal::beast;
namespace http = internal::http;
using tcp = internal::tcp;
using Clock = std::chrono::steady_clock;

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

bool MethodSendsLength(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(std::string host, int port, Options options)
      : host_(std::move(host)), port_(port), options_(std::move(options)) {}

  core::Status Resolve() {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    endpoints_ = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec || endpoints_.empty()) {
      return core::UnavailableError("cannot resolve host \"" + host_ + "\": " + ec.message());
    }
    return core::Status::Ok();
  }

  // Opens a new connection, dropping any old one.
  core::Status Open(Clock::time_point deadline) {
    Drop();
    stream_.emplace(ioc_);
    beast::error_code result = asio::error::would_block;
    stream_->expires_at(deadline);
    stream_->async_connect(endpoints_,
                           [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
    RunUntilDone();
    if (result) {
      Drop();
      if (result == beast::error::timeout) {
        return core::DeadlineExceededError("connecting to " + where() + " timed out");
      }
      return core::UnavailableError("cannot connect to " + where() + ": " + result.message() +
                                    (result == asio::error::connection_refused
                                         ? " (is the server running on that port?)"
                                         : ""));
    }
    beast::error_code ignored;
    stream_->socket().set_option(tcp::no_delay(true), ignored);
    ++connections_opened_;
    return core::Status::Ok();
  }

  void Drop() {
    if (!stream_) return;
    beast::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_->close();
    stream_.reset();
    buffer_.clear();
  }

  // One request and response on the open connection. `got_some` reports
  // whether any byte of a response arrived (then the request must not be
  // sent again).
  core::Result<HttpResponse> Exchange(std::string_view method, std::string_view target,
                                      std::string_view body, const HttpHeaders& headers,
                                      Clock::time_point deadline, bool* got_some) {
    head_.clear();
    head_.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    head_.append("Host: ").append(host_).append(":").append(std::to_string(port_)).append("\r\n");
    for (const HttpHeaders* list : {&options_.default_headers, &headers}) {
      for (const auto& [name, value] : *list) {
        if (EqualsIgnoreCase(name, "Host") || EqualsIgnoreCase(name, "Content-Length")) continue;
        head_.append(name).append(": ").append(value).append("\r\n");
      }
    }
    if (!body.empty() || MethodSendsLength(method)) {
      head_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    head_.append("\r\n");

    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_body_bytes);
    parser.header_limit(1 << 20);
    if (method == "HEAD") parser.skip(true);

    beast::error_code write_error = asio::error::would_block;
    beast::error_code read_error = asio::error::would_block;
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_),
                                                 asio::buffer(body.data(), body.size())};
    stream_->expires_at(deadline);
    asio::async_write(*stream_, buffers, [&](beast::error_code ec, size_t) {
      write_error = ec;
      if (ec == beast::error::timeout) {
        read_error = ec;
        return;
      }
      // Read even after a failed write: a server that refuses a request
      // early (413) answers before closing, and that answer is the result.
      stream_->expires_at(deadline);
      // The header first, then the body: Beast 1.74 loses the body_limit
      // error of a response whose header and body arrive in one read, so
      // the declared length is checked here.
      http::async_read_header(*stream_, buffer_, parser, [&](beast::error_code header_ec, size_t) {
        if (!header_ec && parser.content_length() &&
            *parser.content_length() > options_.max_response_body_bytes) {
          header_ec = http::error::body_limit;
        }
        if (header_ec || parser.is_done()) {
          read_error = header_ec;
          return;
        }
        http::async_read(*stream_, buffer_, parser,
                         [&](beast::error_code read_ec, size_t) { read_error = read_ec; });
      });
    });
    RunUntilDone();
    *got_some = parser.got_some();

    if (read_error) {
      Drop();
      std::string what = std::string(method) + " " + std::string(target) + " to " + where();
      if (read_error == beast::error::timeout) {
        return core::DeadlineExceededError(what + ": no complete response within the timeout");
      }
      if (read_error == http::error::body_limit) {
        return core::ResourceExhaustedError(
            what + ": the response body exceeds max_response_body_bytes (" +
            std::to_string(options_.max_response_body_bytes) + ")");
      }
      if (IsHttpParseError(read_error)) {
        return core::InternalError(what + ": malformed response: " + read_error.message());
      }
      const beast::error_code& cause = write_error ? write_error : read_error;
      return core::UnavailableError(what + ": connection failed: " + cause.message());
    }

    http::response<http::string_body> message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.headers.reserve(8);
    for (const auto& field : message) {
      response.headers.emplace_back(View(field.name_string()), View(field.value()));
    }
    if (auto content_type = response.Header("Content-Type")) {
      response.content_type = std::move(*content_type);
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) Drop();
    return response;
  }

  core::Result<HttpResponse> Send(std::string_view method, std::string_view target,
                                  std::string_view body, const HttpHeaders& headers,
                                  std::chrono::milliseconds timeout) {
    Clock::time_point deadline = Clock::now() + timeout;
    bool reused = stream_.has_value();
    if (!reused) MLFORGE_RETURN_IF_ERROR(Open(deadline));
    bool got_some = false;
    core::Result<HttpResponse> result =
        Exchange(method, target, body, headers, deadline, &got_some);
    if (!result.ok() && reused && !got_some &&
        result.status().code() == core::StatusCode::kUnavailable) {
      // The server closed the idle connection before it saw this request.
      MLFORGE_RETURN_IF_ERROR(Open(deadline));
      result = Exchange(method, target, body, headers, deadline, &got_some);
    }
    return result;
  }

  std::string where() const { return host_ + ":" + std::to_string(port_); }

  const std::string host_;
  const int port_;
  const Options options_;
  int connections_opened_ = 0;

 private:
  // Runs the queued operations to completion; the stream's deadline bounds them.
  void RunUntilDone() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  tcp::resolver::results_type endpoints_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string head_;
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

core::Result<std::unique_ptr<HttpClient>> HttpClient::Connect(std::string host, int port,
                                                              Options options) {
  if (port <= 0 || port > 65535) {
    return core::InvalidArgumentError("port " + std::to_string(port) + " is outside 1..65535");
  }
  auto impl = std::make_unique<Impl>(std::move(host), port, std::move(options));
  MLFORGE_RETURN_IF_ERROR(impl->Resolve());
  MLFORGE_RETURN_IF_ERROR(impl->Open(Clock::now() + impl->options_.connect_timeout));
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

core::Result<std::unique_ptr<HttpClient>> HttpClient::Connect(std::string host, int port) {
  return Connect(std::move(host), port, Options());
}

core::Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                            std::string_view body, const HttpHeaders& headers,
                                            std::optional<std::chrono::milliseconds> timeout) {
  return impl_->Send(method, target, body, headers, timeout.value_or(impl_->options_.timeout));
}

core::Result<HttpResponse> HttpClient::Post(std::string_view target, std::string_view body,
                                            std::string_view content_type) {
  return Send("POST", target, body, {{"Content-Type", std::string(content_type)}});
}

const std::string& HttpClient::host() const { return impl_->host_; }
int HttpClient::port() const { return impl_->port_; }
int HttpClient::connections_opened() const { return impl_->connections_opened_; }

}  // namespace mlforge::net
