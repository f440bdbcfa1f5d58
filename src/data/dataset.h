#pragma once

// The in-memory form every data source (IDX, CSV, fetched datasets) is
// loaded into, and that the trainer batches from. Plain C++: no LibTorch.

#include <cstdint>
#include <string>
#include <vector>

namespace mlforge::data {

// An in-memory labelled dataset: rows() examples, each a float feature vector
// of shape `feature_shape` (e.g. {1, 28, 28} for images, {n} for tabular),
// stored row-major in `features`; labels[i] is the class index (or integer
// target) of row i.
//
// A plain value type: copyable and movable, not synchronised (concurrent
// reads are fine).
struct Dataset {
  // The shape of one example, without the batch dimension.
  std::vector<int64_t> feature_shape;
  // rows() * row_size() values, raw: image pixels are 0..255 as floats, CSV
  // values as written. Nothing here normalises.
  std::vector<float> features;
  // One per row; empty when the source had no label column.
  std::vector<int64_t> labels;
  // One real-valued target per row for regression (CSV read with
  // LabelKind::kValue); empty otherwise. A dataset has labels or targets.
  std::vector<float> targets;
  // CSV column names of the features, in order; empty for images.
  std::vector<std::string> feature_names;

  // The number of examples: features.size() / row_size(), or labels.size()
  // when a row has no features at all.
  int64_t rows() const;
  // The product of feature_shape (1 for an empty shape).
  int64_t row_size() const;
  bool has_labels() const { return !labels.empty(); }
  bool has_targets() const { return !targets.empty(); }
};

}  // namespace mlforge::data
