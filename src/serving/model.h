#pragma once

// What the serving layer knows about a model: its signature and one call
// that scores a batch of rows. Protocol front ends, the batcher and the
// repository see only this interface, so they build and are tested without
// LibTorch; serving/torch/torch_model.h implements it for the model package.
//
//   std::shared_ptr<Model> model = ...;
//   Matrix rows(2, model->signature().row_width());   // two rows of zeros
//   MLFORGE_ASSIGN_OR_RETURN(Matrix scores, model->Predict(rows));
//
// Thread safety: Predict() is const and may be called from several threads
// at once (the batcher calls it from one; tests call it from many).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::serving {

// A dense row-major float matrix: `rows` rows of `cols` values.
struct Matrix {
  Matrix() = default;
  Matrix(int64_t row_count, int64_t col_count)
      : rows(row_count), cols(col_count), values(static_cast<size_t>(row_count * col_count)) {}

  float& At(int64_t row, int64_t col) { return values[static_cast<size_t>(row * cols + col)]; }
  float At(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * cols + col)]; }

  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;
};

// One named tensor of a signature. `shape` includes the batch dimension as
// -1 first ({-1, 1, 28, 28}; {-1, 3} for three columns). `datatype` uses the
// Open Inference Protocol's names ("FP32", "INT64").
struct TensorSpec {
  std::string name;
  std::string datatype = "FP32";
  std::vector<int64_t> shape;
};

struct ModelSignature {
  // A tabular model's input columns, in the order they form a row; each is
  // one scalar per row. Empty for a tensor model.
  std::vector<std::string> columns;
  // The input as one tensor. For a tabular model {"input", FP32, {-1, n}}.
  TensorSpec input;
  // The raw output (scores, regression values), e.g. {"scores", FP32, {-1, 10}}.
  TensorSpec output;
  // Whether the model is a classifier: then the protocols also answer the
  // arg-max class per row (as `mlforge predict` does), named "predictions".
  bool classifier = false;

  // Values per input row: the product of input.shape after the batch
  // dimension (1 when there is none).
  int64_t row_width() const;
  // Values per output row, likewise from output.shape.
  int64_t output_width() const;
};

class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelSignature& signature() const = 0;

  // Scores `rows` (rows.cols == signature().row_width(), rows.rows >= 1) and
  // returns one output row per input row (cols == output_width()).
  // InvalidArgument for input the model rejects; Internal for a failure of
  // the runtime underneath.
  virtual core::Result<Matrix> Predict(const Matrix& rows) const = 0;

  // A short platform name for metadata ("pytorch_torchscript", "linear").
  virtual std::string platform() const = 0;

  // The rows a freshly loaded version must score before it serves (hot
  // reload's warm-up request): the model's input example where it has one;
  // by default one row of zeros of the signature's width.
  virtual Matrix WarmupRows() const;
};

// A real linear model y = x W + b, optionally a classifier (arg-max of y).
// Small and exact, so the serving tests check predictions to the last bit;
// also useful to smoke-test a deployment.
class LinearModel : public Model {
 public:
  // `weights` is [row_width x outputs] row-major; `bias` has `outputs`
  // values. InvalidArgument when the sizes disagree with `signature`.
  static core::Result<std::shared_ptr<LinearModel>> Create(ModelSignature signature,
                                                           std::vector<float> weights,
                                                           std::vector<float> bias);

  const ModelSignature& signature() const override { return signature_; }
  core::Result<Matrix> Predict(const Matrix& rows) const override;
  std::string platform() const override { return "linear"; }

 private:
  LinearModel(ModelSignature signature, std::vector<float> weights, std::vector<float> bias);

  const ModelSignature signature_;
  const std::vector<float> weights_;
  const std::vector<float> bias_;
};

// The arg-max column of `row` in `scores` (the first on ties).
int64_t ArgMax(const Matrix& scores, int64_t row);

}  // namespace mlforge::serving
