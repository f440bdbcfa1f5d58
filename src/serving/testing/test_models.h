#pragma once

// Small real models for the serving tests: exact linear models (so expected
// predictions can be computed by hand) and a wrapper that injects a fault.

#include <cmath>
#include <memory>
#include <string>

#include "serving/model.h"

namespace mlforge::serving::testing {

// A tabular regressor over columns x0, x1, x2: y = x0 + 2 x1 + 3 x2 + 0.5.
inline std::shared_ptr<const Model> TabularRegressor() {
  ModelSignature signature;
  signature.columns = {"x0", "x1", "x2"};
  signature.input = {"input", "FP32", {-1, 3}};
  signature.output = {"output", "FP32", {-1, 1}};
  auto model = LinearModel::Create(signature, {1, 2, 3}, {0.5F});
  return *model;
}

// A tensor classifier over a [2, 2] input (4 values) with 3 classes: the
// scores are (v0 + v1, v2 + v3, 1), so the class is 0 when the first pair
// wins, 1 when the second does, 2 when both sums are below 1.
inline std::shared_ptr<const Model> TensorClassifier() {
  ModelSignature signature;
  signature.input = {"pixels", "FP32", {-1, 2, 2}};
  signature.output = {"scores", "FP32", {-1, 3}};
  signature.classifier = true;
  // Row-major [4 x 3].
  auto model = LinearModel::Create(signature, {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0}, {0, 0, 1});
  return *model;
}

// Wraps a model and fails any call whose input holds `poison`, as a model
// would fail on input it cannot handle.
class PoisonModel : public Model {
 public:
  PoisonModel(std::shared_ptr<const Model> inner, float poison)
      : inner_(std::move(inner)), poison_(poison) {}
  const ModelSignature& signature() const override { return inner_->signature(); }
  std::string platform() const override { return inner_->platform(); }
  core::Result<Matrix> Predict(const Matrix& rows) const override {
    for (float value : rows.values) {
      if (value == poison_)
        return core::InvalidArgumentError("the model cannot score the value " +
                                          std::to_string(poison_));
    }
    return inner_->Predict(rows);
  }

 private:
  const std::shared_ptr<const Model> inner_;
  const float poison_;
};

}  // namespace mlforge::serving::testing
