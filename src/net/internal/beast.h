#pragma once

// The Boost.Beast and Asio headers net/ uses, in one place, with the
// conversions between Beast's string_view and std::string_view. Private to
// net/: only its .cc files include this.

// GCC 12 reports false "may be used uninitialized" warnings inside
// boost::optional as Beast's parser uses it; they are silenced for these
// headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <string_view>

namespace mlforge::net::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

inline std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

}  // namespace mlforge::net::internal
