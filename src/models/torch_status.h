#pragma once

// The adapter between LibTorch's exceptions and mlforge's Status: every call
// into LibTorch that can fail on user input goes through CatchTorch, so no
// c10::Error crosses a subsystem boundary.

#include <torch/script.h>

#include <exception>
#include <string>
#include <type_traits>

#include "core/status.h"

namespace mlforge::models {

// The first line of a LibTorch error message; the rest is a C++ backtrace
// that helps developers but buries the cause for users.
std::string FirstLine(const std::string& message);

// Runs `body` and returns its result; a thrown exception becomes
// InvalidArgument "<context>: <first line of the message>".
template <typename Body>
auto CatchTorch(const std::string& context, Body&& body)
    -> core::Result<std::invoke_result_t<Body>> {
  try {
    return body();
  } catch (const c10::Error& error) {
    return core::InvalidArgumentError(context + ": " + FirstLine(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    return core::InvalidArgumentError(context + ": " + FirstLine(error.what()));
  }
}

// The same for bodies that return nothing.
template <typename Body>
core::Status CatchTorchStatus(const std::string& context, Body&& body) {
  try {
    body();
    return core::Status::Ok();
  } catch (const c10::Error& error) {
    return core::InvalidArgumentError(context + ": " + FirstLine(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    return core::InvalidArgumentError(context + ": " + FirstLine(error.what()));
  }
}

}  // namespace mlforge::models
