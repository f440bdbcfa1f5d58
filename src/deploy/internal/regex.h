#pragma once

// <regex> for deploy/'s checks of names, images, quantities and templates.
// GCC 12 reports false "may be used uninitialized" warnings inside
// std::function as std::regex compiles a pattern (seen with the sanitizer
// flags); they are silenced for this header only. Private to deploy/.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
