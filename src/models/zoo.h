#pragma once

// The model zoo: small, well-known architectures built from a YAML section,
// each as a TorchScript module, so the object the trainer optimises is the
// object the model package saves, and it loads unchanged with Python's
// torch.jit.load and with LibTorch in C++.
//
//   model:
//     kind: cnn            # mlp | cnn | resnet | logreg | linear | torchscript
//     channels: [16, 32]   # cnn: one 5x5 conv + ReLU + 2x2 max-pool per entry
//     hidden: 128
//     dropout: 0.25
//
//   model: {kind: mlp, layers: [256, 128], dropout: 0.0}
//   model: {kind: resnet, channels: [16, 32, 64], blocks: [1, 1, 1]}
//   model: {kind: logreg}                 # linear layer + softmax cross-entropy
//   model: {kind: linear, outputs: 1}     # regression with mean squared error
//   model: {kind: torchscript, file: my_model.pt}   # a user's scripted module
//   model: {kind: mlp, task: regression}  # any kind: classification (default) or regression
//
// Zoo models take raw features (pixel values 0..255, CSV numbers) and
// normalise them inside forward() with the mean and scale given at build
// time, so a served model needs no client-side preprocessing.

#include <torch/script.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace mlforge::models {

enum class Task { kClassification, kRegression };

// What the data tells the model builder.
struct InputSpec {
  std::vector<int64_t> feature_shape;  // per row, e.g. {1, 28, 28} or {13}
  int64_t num_outputs = 10;            // classes, or regression targets
  double input_mean = 0.0;             // subtracted from every input value
  double input_std = 1.0;              // then divided by this
};

struct BuiltModel {
  torch::jit::Module module;  // in training mode
  std::string kind;           // "cnn", "torchscript", ...
  Task task = Task::kClassification;
};

// Builds the model that `model_config` (the `model:` section) describes.
// Parameters are initialised as PyTorch initialises the matching nn layers,
// from the global LibTorch generator (seed it first for reproducible runs).
// InvalidArgument names the key when the section is wrong; a torchscript
// file that is missing or not loadable is NotFound / InvalidArgument.
core::Result<BuiltModel> BuildModel(const core::Config& model_config, const InputSpec& input);

// The model kinds BuildModel knows, for help texts and errors.
std::vector<std::string> ModelKinds();

}  // namespace mlforge::models
