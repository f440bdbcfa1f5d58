#pragma once

// A serving::Model over the project's model package (MLmodel + TorchScript),
// the one part of serving/ that needs LibTorch (target mlforge_serving_torch).
//
//   MLFORGE_ASSIGN_OR_RETURN(std::shared_ptr<TorchModel> model,
//                            TorchModel::Load("runs/small_cnn/model"));
//   repository.Load("mnist", 1, model);
//
// The signature comes from MLmodel: a tensor model's input keeps its shape
// ({-1, 1, 28, 28}) under the name "input"; a tabular model's columns become
// the row, in signature order. The output is "scores" for a classifier (the
// protocols add the arg-max "predictions", as `mlforge predict` prints) and
// "output" otherwise. Load() runs one warm-up row, so a package that loads but
// cannot run is refused before it serves.
//
// Thread safety: Predict() may run from several threads (the module is in
// evaluation mode and runs without gradients).

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "models/package.h"
#include "serving/model.h"
#include "serving/model_server.h"

namespace mlforge::serving {

class TorchModel : public Model {
 public:
  // NotFound when `folder` holds no package; InvalidArgument when MLmodel or
  // the weights are malformed or the warm-up call fails, naming the folder.
  static core::Result<std::shared_ptr<TorchModel>> Load(const std::filesystem::path& folder);

  const ModelSignature& signature() const override { return signature_; }
  core::Result<Matrix> Predict(const Matrix& rows) const override;
  std::string platform() const override { return "pytorch_torchscript"; }
  // The package's input example (input_example.json) when it fits the
  // signature, else one zero row.
  Matrix WarmupRows() const override;

  const models::PackageInfo& info() const { return package_.info; }

 private:
  TorchModel(models::Package package, ModelSignature signature);

  const models::Package package_;
  ModelSignature signature_;  // fixed after Load()
};

// TorchModel::Load as a ModelServer's loader.
ModelLoader TorchModelLoader();

}  // namespace mlforge::serving
