#include "models/torch_status.h"

namespace mlforge::models {

std::string FirstLine(const std::string& message) {
  size_t newline = message.find('\n');
  return newline == std::string::npos ? message : message.substr(0, newline);
}

}  // namespace mlforge::models
