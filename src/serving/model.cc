#include "serving/model.h"

#include <fmt/format.h>

namespace mlforge::serving {
namespace {

int64_t WidthOf(const std::vector<int64_t>& shape) {
  int64_t width = 1;
  for (size_t dim = 1; dim < shape.size(); ++dim) width *= shape[dim];
  return width;
}

}  // namespace

int64_t ModelSignature::row_width() const { return WidthOf(input.shape); }
int64_t ModelSignature::output_width() const { return WidthOf(output.shape); }

Matrix Model::WarmupRows() const { return Matrix(1, signature().row_width()); }

core::Result<std::shared_ptr<LinearModel>> LinearModel::Create(ModelSignature signature,
                                                               std::vector<float> weights,
                                                               std::vector<float> bias) {
  const int64_t inputs = signature.row_width();
  const int64_t outputs = signature.output_width();
  if (static_cast<int64_t>(weights.size()) != inputs * outputs ||
      static_cast<int64_t>(bias.size()) != outputs) {
    return core::InvalidArgumentError(
        fmt::format("linear model: expected {}x{} weights and {} biases, got {} and {}", inputs,
                    outputs, outputs, weights.size(), bias.size()));
  }
  return std::shared_ptr<LinearModel>(
      new LinearModel(std::move(signature), std::move(weights), std::move(bias)));
}

LinearModel::LinearModel(ModelSignature signature, std::vector<float> weights,
                         std::vector<float> bias)
    : signature_(std::move(signature)), weights_(std::move(weights)), bias_(std::move(bias)) {}

core::Result<Matrix> LinearModel::Predict(const Matrix& rows) const {
  const int64_t inputs = signature_.row_width();
  const int64_t outputs = signature_.output_width();
  if (rows.cols != inputs) {
    return core::InvalidArgumentError(
        fmt::format("linear model: rows have {} values, expected {}", rows.cols, inputs));
  }
  Matrix result(rows.rows, outputs);
  for (int64_t row = 0; row < rows.rows; ++row) {
    for (int64_t out = 0; out < outputs; ++out) {
      float sum = bias_[static_cast<size_t>(out)];
      for (int64_t in = 0; in < inputs; ++in) {
        sum += rows.At(row, in) * weights_[static_cast<size_t>(in * outputs + out)];
      }
      result.At(row, out) = sum;
    }
  }
  return result;
}

int64_t ArgMax(const Matrix& scores, int64_t row) {
  int64_t best = 0;
  for (int64_t col = 1; col < scores.cols; ++col) {
    if (scores.At(row, col) > scores.At(row, best)) best = col;
  }
  return best;
}

}  // namespace mlforge::serving
