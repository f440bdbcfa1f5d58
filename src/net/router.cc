#include "net/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace mlforge::net {

struct Router::Route {
  std::string method;
  std::string pattern;
  // The names of the pattern's `{name}` segments, in order.
  std::vector<std::string> param_names;
  Handler handler;
};

struct Router::Node {
  // Children by literal segment text; fan-out is small, so a vector scan.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  // The child for a `{name}` segment, if any pattern has one here.
  std::unique_ptr<Node> param;
  // Routes whose pattern ends at this node.
  std::vector<Route> routes;
  // Routes whose pattern is this node's path followed by "/*".
  std::vector<Route> prefix_routes;
};

namespace {

[[noreturn]] void BadRoute(std::string_view method, std::string_view pattern,
                           std::string_view problem) {
  // Straight to stderr: the process is about to end, whatever the logger.
  std::fprintf(stderr, "router: route %.*s %.*s is invalid: %.*s\n",
               static_cast<int>(method.size()), method.data(), static_cast<int>(pattern.size()),
               pattern.data(), static_cast<int>(problem.size()), problem.data());
  std::abort();
}

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}. Views into `path`.
void SplitPath(std::string_view path, std::vector<std::string_view>* segments) {
  segments->clear();
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    segments->push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

// A segment compared to a literal: decoded first only when it has escapes.
bool SegmentEquals(std::string_view segment, std::string_view literal) {
  if (segment.find('%') == std::string_view::npos) return segment == literal;
  core::Result<std::string> decoded = PercentDecode(segment, /*plus_as_space=*/false);
  return decoded.ok() && *decoded == literal;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Router& Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty()) BadRoute(method, pattern, "the method is empty");
  if (pattern.empty() || pattern.front() != '/') BadRoute(method, pattern, "it must start with /");
  if (!handler) BadRoute(method, pattern, "the handler is empty");
  std::vector<std::string_view> segments;
  SplitPath(pattern, &segments);
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  Node* node = root_.get();
  bool prefix = false;
  for (size_t index = 0; index < segments.size(); ++index) {
    std::string_view segment = segments[index];
    if (segment == "*") {
      if (index + 1 != segments.size()) BadRoute(method, pattern, "'*' must be the last segment");
      prefix = true;
      break;
    }
    if (!segment.empty() && segment.front() == '{') {
      if (segment.size() < 3 || segment.back() != '}') {
        BadRoute(method, pattern, "a parameter segment must be {name}");
      }
      std::string name(segment.substr(1, segment.size() - 2));
      if (name.find_first_of("{}/") != std::string::npos) {
        BadRoute(method, pattern, "a parameter segment must be {name}");
      }
      if (std::find(route.param_names.begin(), route.param_names.end(), name) !=
          route.param_names.end()) {
        BadRoute(method, pattern, "parameter {" + name + "} appears twice");
      }
      route.param_names.push_back(std::move(name));
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    if (segment.find_first_of("{}*") != std::string_view::npos) {
      BadRoute(method, pattern, "'{', '}' and '*' may only form whole segments");
    }
    auto child = std::find_if(node->literals.begin(), node->literals.end(),
                              [&](const auto& entry) { return entry.first == segment; });
    if (child == node->literals.end()) {
      node->literals.emplace_back(std::string(segment), std::make_unique<Node>());
      child = std::prev(node->literals.end());
    }
    node = child->second.get();
  }
  std::vector<Route>& routes = prefix ? node->prefix_routes : node->routes;
  for (const Route& existing : routes) {
    if (existing.method == route.method) {
      BadRoute(method, pattern, "it duplicates route " + existing.method + " " + existing.pattern);
    }
  }
  routes.push_back(std::move(route));
  return *this;
}

Router& Router::Get(std::string_view pattern, Handler handler) {
  return Add("GET", pattern, std::move(handler));
}
Router& Router::Post(std::string_view pattern, Handler handler) {
  return Add("POST", pattern, std::move(handler));
}
Router& Router::Put(std::string_view pattern, Handler handler) {
  return Add("PUT", pattern, std::move(handler));
}
Router& Router::Patch(std::string_view pattern, Handler handler) {
  return Add("PATCH", pattern, std::move(handler));
}
Router& Router::Delete(std::string_view pattern, Handler handler) {
  return Add("DELETE", pattern, std::move(handler));
}

Router& Router::SetFallback(Handler handler) {
  fallback_ = std::move(handler);
  return *this;
}

Router& Router::SetInterceptor(Interceptor interceptor) {
  interceptor_ = std::move(interceptor);
  return *this;
}

namespace {

// The state of one match: the request's segments, the raw values captured so
// far, the methods seen on matching paths (for Allow), and the winner.
struct MatchState {
  std::string_view method;
  std::string_view raw_path;
  std::vector<std::string_view> segments;
  std::vector<std::string_view> captures;
  std::vector<std::string_view> allowed;
  bool path_matched = false;
  const void* route = nullptr;  // the Router::Route found
  bool has_rest = false;        // whether the route is a prefix route
  std::string_view rest;        // its raw remainder
  std::vector<std::string_view> route_captures;
};

template <typename RouteT>
const RouteT* PickRoute(const std::vector<RouteT>& routes, MatchState* state) {
  if (routes.empty()) return nullptr;
  state->path_matched = true;
  const RouteT* get_route = nullptr;
  for (const RouteT& route : routes) {
    if (route.method == state->method) return &route;
    if (route.method == "GET") get_route = &route;
  }
  if (state->method == "HEAD" && get_route != nullptr) return get_route;
  for (const RouteT& route : routes) {
    if (std::find(state->allowed.begin(), state->allowed.end(), route.method) ==
        state->allowed.end()) {
      state->allowed.push_back(route.method);
    }
    if (route.method == "GET" &&
        std::find(state->allowed.begin(), state->allowed.end(), "HEAD") == state->allowed.end()) {
      state->allowed.push_back("HEAD");
    }
  }
  return nullptr;
}

// Depth-first, most specific first: literal child, then `{name}` child, then
// a prefix route at this node. Returns true once a route for the method is
// found; otherwise records the methods of matching paths and backtracks.
template <typename NodeT>
bool Walk(const NodeT& node, size_t index, MatchState* state) {
  if (index == state->segments.size()) {
    if (const auto* route = PickRoute(node.routes, state)) {
      state->route = route;
      state->route_captures = state->captures;
      return true;
    }
    return false;
  }
  std::string_view segment = state->segments[index];
  for (const auto& [literal, child] : node.literals) {
    if (SegmentEquals(segment, literal) && Walk(*child, index + 1, state)) return true;
  }
  if (node.param && !segment.empty()) {
    state->captures.push_back(segment);
    if (Walk(*node.param, index + 1, state)) return true;
    state->captures.pop_back();
  }
  if (const auto* route = PickRoute(node.prefix_routes, state)) {
    state->route = route;
    state->route_captures = state->captures;
    state->has_rest = true;
    state->rest =
        state->raw_path.substr(static_cast<size_t>(segment.data() - state->raw_path.data()));
    return true;
  }
  return false;
}

}  // namespace

HttpResponse Router::Dispatch(HttpRequest& request) const {
  thread_local MatchState state;
  state.method = request.method;
  if (!request.target.empty() && request.target.front() == '/') {
    std::string_view target = request.target;
    state.raw_path = target.substr(0, target.find('?'));
  } else {
    state.raw_path = request.path;
  }
  SplitPath(state.raw_path, &state.segments);
  state.captures.clear();
  state.allowed.clear();
  state.route_captures.clear();
  state.path_matched = false;
  state.route = nullptr;
  state.has_rest = false;
  state.rest = {};

  if (!Walk(*root_, 0, &state)) {
    if (!state.path_matched) {
      if (fallback_) return interceptor_ ? interceptor_(request, fallback_) : fallback_(request);
      return HttpResponse::Text(404, "No route for " + request.method + " " + request.path + "\n");
    }
    std::string allow;
    for (std::string_view method : state.allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    HttpResponse response =
        HttpResponse::Text(405, "Method " + request.method + " is not allowed for " + request.path +
                                    "; allowed: " + allow + "\n");
    response.SetHeader("Allow", std::move(allow));
    return response;
  }

  const Route& route = *static_cast<const Route*>(state.route);
  request.route = route.pattern;
  request.path_params.clear();
  request.path_params.reserve(route.param_names.size() + 1);
  for (size_t index = 0; index < route.param_names.size(); ++index) {
    core::Result<std::string> value =
        PercentDecode(state.route_captures[index], /*plus_as_space=*/false);
    if (!value.ok()) return HttpResponse::Text(400, value.status().message() + "\n");
    request.path_params.emplace_back(route.param_names[index], std::move(value).value());
  }
  if (state.has_rest) {
    core::Result<std::string> rest = PercentDecode(state.rest, /*plus_as_space=*/false);
    if (!rest.ok()) return HttpResponse::Text(400, rest.status().message() + "\n");
    request.path_params.emplace_back("*", std::move(rest).value());
  }
  return interceptor_ ? interceptor_(request, route.handler) : route.handler(request);
}

Handler Router::AsHandler() const {
  return [this](const HttpRequest& request) {
    HttpRequest copy = request;
    return Dispatch(copy);
  };
}

}  // namespace mlforge::net
