#include "models/evaluate.h"

#include <torch/torch.h>

#include "models/torch_status.h"

namespace mlforge::models {
namespace {

// [rows, ...] as the model takes it: the signature's shape when its known
// dimensions multiply to the dataset's row size, else the dataset's own.
std::vector<int64_t> BatchShape(const PackageInfo& info, const data::Dataset& dataset) {
  std::vector<int64_t> shape = {dataset.rows()};
  const std::vector<int64_t>& wanted = info.signature.input_shape;
  int64_t product = 1;
  bool known = wanted.size() >= 2;
  for (size_t axis = 1; axis < wanted.size(); ++axis) {
    if (wanted[axis] < 0) known = false;
    product *= wanted[axis];
  }
  if (known && product == dataset.row_size()) {
    shape.insert(shape.end(), wanted.begin() + 1, wanted.end());
  } else if (!info.signature.input_columns.empty()) {
    shape.push_back(dataset.row_size());
  } else {
    shape.insert(shape.end(), dataset.feature_shape.begin(), dataset.feature_shape.end());
  }
  return shape;
}

}  // namespace

core::Result<EvaluationResult> EvaluatePackage(const Package& package, const data::Dataset& dataset,
                                               int64_t batch_size) {
  const bool classification = package.info.task == Task::kClassification;
  if (dataset.rows() == 0) return core::InvalidArgumentError("the dataset has no rows");
  if (classification ? !dataset.has_labels() : !(dataset.has_targets() || dataset.has_labels())) {
    return core::InvalidArgumentError("the dataset has no labels to evaluate against");
  }
  if (batch_size <= 0) return core::InvalidArgumentError("the batch size must be positive");
  EvaluationResult result;
  result.samples = dataset.rows();
  result.classification = classification;
  // The tensors view the dataset's memory, which outlives them.
  auto features = torch::from_blob(const_cast<float*>(dataset.features.data()),
                                   BatchShape(package.info, dataset), torch::kFloat32);
  torch::Tensor targets;
  if (classification) {
    targets = torch::from_blob(const_cast<int64_t*>(dataset.labels.data()), {dataset.rows()},
                               torch::kInt64);
  } else if (dataset.has_targets()) {
    targets = torch::from_blob(const_cast<float*>(dataset.targets.data()), {dataset.rows()},
                               torch::kFloat32);
  } else {
    targets = torch::from_blob(const_cast<int64_t*>(dataset.labels.data()), {dataset.rows()},
                               torch::kInt64)
                  .to(torch::kFloat32);
  }
  double loss_sum = 0;
  int64_t correct = 0;
  std::vector<int64_t> class_samples;
  std::vector<int64_t> class_correct;
  for (int64_t start = 0; start < dataset.rows(); start += batch_size) {
    const int64_t end = std::min(dataset.rows(), start + batch_size);
    MLFORGE_ASSIGN_OR_RETURN(torch::Tensor outputs,
                             RunModel(package, features.slice(0, start, end)));
    const torch::Tensor target = targets.slice(0, start, end);
    MLFORGE_RETURN_IF_ERROR(CatchTorchStatus("scoring the outputs", [&] {
      if (!classification) {
        loss_sum += torch::mse_loss(outputs.reshape({end - start}), target, torch::Reduction::Sum)
                        .item<double>();
        return;
      }
      const int64_t classes = outputs.size(1);
      if (class_samples.empty()) {
        class_samples.assign(static_cast<size_t>(classes), 0);
        class_correct.assign(static_cast<size_t>(classes), 0);
      }
      if (target.max().item<int64_t>() >= classes || target.min().item<int64_t>() < 0) {
        throw std::invalid_argument("a label is outside the model's " + std::to_string(classes) +
                                    " classes");
      }
      loss_sum += torch::nn::functional::cross_entropy(
                      outputs, target,
                      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                      .item<double>();
      const torch::Tensor hits = outputs.argmax(1).eq(target);
      correct += hits.sum().item<int64_t>();
      const auto per_class_samples = torch::bincount(target, {}, classes);
      const auto per_class_hits = torch::bincount(target.masked_select(hits), {}, classes);
      for (int64_t label = 0; label < classes; ++label) {
        class_samples[static_cast<size_t>(label)] += per_class_samples[label].item<int64_t>();
        class_correct[static_cast<size_t>(label)] += per_class_hits[label].item<int64_t>();
      }
    }));
  }
  const double rows = static_cast<double>(dataset.rows());
  result.loss = loss_sum / rows;
  if (classification) {
    result.accuracy = static_cast<double>(correct) / rows;
    for (size_t label = 0; label < class_samples.size(); ++label) {
      ClassAccuracy entry;
      entry.name = label < package.info.class_names.size() ? package.info.class_names[label]
                                                           : std::to_string(label);
      entry.samples = class_samples[label];
      entry.correct = class_correct[label];
      result.per_class.push_back(entry);
    }
  }
  return result;
}

}  // namespace mlforge::models
