#include "data/dataset.h"

namespace mlforge::data {

int64_t Dataset::row_size() const {
  int64_t size = 1;
  for (int64_t dim : feature_shape) size *= dim;
  return size;
}

int64_t Dataset::rows() const {
  int64_t size = row_size();
  if (size <= 0) return static_cast<int64_t>(labels.empty() ? targets.size() : labels.size());
  return static_cast<int64_t>(features.size()) / size;
}

}  // namespace mlforge::data
