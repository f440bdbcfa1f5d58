#include "tracking/postgres/postgres_uri.h"

namespace mlforge::tracking::postgres {

namespace {

// The part after "://" when the scheme is one of ours; npos otherwise.
size_t RestStart(std::string_view uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string_view::npos;
  std::string_view scheme = uri.substr(0, scheme_end);
  if (scheme == "postgresql" || scheme == "postgres" || scheme.starts_with("postgresql+") ||
      scheme.starts_with("postgres+")) {
    return scheme_end + 3;
  }
  return std::string_view::npos;
}

}  // namespace

bool IsPostgresUri(std::string_view uri) { return RestStart(uri) != std::string_view::npos; }

core::Result<std::string> ToLibpqUri(std::string_view uri) {
  size_t rest = RestStart(uri);
  if (rest == std::string_view::npos) {
    return core::InvalidArgumentError("Not a PostgreSQL URI: '" + RedactPassword(uri) +
                                      "'; write postgresql://user:password@host:port/database");
  }
  if (rest == uri.size()) {
    return core::InvalidArgumentError(
        "The PostgreSQL URI names no server or database; write "
        "postgresql://user:password@host:port/database");
  }
  return "postgresql://" + std::string(uri.substr(rest));
}

std::string RedactPassword(std::string_view uri) {
  std::string text(uri);
  size_t rest = text.find("://");
  if (rest != std::string::npos) {
    rest += 3;
    // The authority ends at the first '/', '?' or '#'; the user info at its
    // last '@' (a password may itself hold '@' only percent-encoded, but be
    // generous).
    size_t authority_end = text.find_first_of("/?#", rest);
    if (authority_end == std::string::npos) authority_end = text.size();
    size_t at = text.rfind('@', authority_end);
    if (at != std::string::npos && at >= rest) {
      size_t colon = text.find(':', rest);
      if (colon != std::string::npos && colon < at) {
        text.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  // A password given as a query parameter (or a key=value conninfo string).
  for (size_t found = text.find("password="); found != std::string::npos;
       found = text.find("password=", found + 1)) {
    size_t value = found + 9;
    size_t end = text.find_first_of("& ", value);
    if (end == std::string::npos) end = text.size();
    text.replace(value, end - value, "***");
  }
  return text;
}

}  // namespace mlforge::tracking::postgres
