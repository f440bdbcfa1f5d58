#pragma once

// Scoring a model package against a labelled dataset: accuracy, mean loss
// and per-class accuracy, with the forward pass in batches. Behind
// `mlforge evaluate`.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"
#include "models/package.h"

namespace mlforge::models {

struct ClassAccuracy {
  std::string name;  // the package's class name, else the class index
  int64_t samples = 0;
  int64_t correct = 0;
  double accuracy() const {
    return samples > 0 ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0;
  }
};

struct EvaluationResult {
  int64_t samples = 0;
  bool classification = true;
  // Mean cross-entropy for classifiers, mean squared error for regression.
  double loss = 0;
  // Share of rows whose arg-max class is the label; 0 for regression.
  double accuracy = 0;
  std::vector<ClassAccuracy> per_class;  // classifiers only, by class index
};

// Runs `package` over every row of `dataset` in batches of `batch_size`
// rows. The rows are reshaped to the signature's input shape when the sizes
// agree (so 28x28 images feed a model that takes 784 values). InvalidArgument
// for an empty or unlabelled dataset, rows that do not fit the model, or a
// label outside the model's outputs.
core::Result<EvaluationResult> EvaluatePackage(const Package& package, const data::Dataset& dataset,
                                               int64_t batch_size = 1000);

}  // namespace mlforge::models
