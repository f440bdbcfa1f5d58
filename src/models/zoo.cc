#include "models/zoo.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "models/torch_status.h"

namespace mlforge::models {
namespace {

// Accumulates parameters, buffers and the lines of forward() for one
// TorchScript module. Parameters live flat on the module (conv0_weight, ...)
// so the generated code needs no submodule classes.
class ScriptBuilder {
 public:
  explicit ScriptBuilder(const std::string& class_name)
      : module_(c10::QualifiedName("__torch__.mlforge." + class_name)) {
    module_.register_attribute("training", c10::BoolType::get(), true);
  }

  // A linear layer initialised like torch.nn.Linear; returns the expression.
  std::string Linear(const std::string& input, int64_t in_features, int64_t out_features) {
    std::string name = fmt::format("fc{}", linear_count_++);
    auto weight = torch::empty({out_features, in_features});
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    AddParameter(name + "_weight", weight);
    AddParameter(name + "_bias", UniformBias(out_features, in_features));
    return fmt::format("torch.linear({}, self.{}_weight, self.{}_bias)", input, name, name);
  }

  // A square convolution initialised like torch.nn.Conv2d.
  std::string Conv(const std::string& input, int64_t in_channels, int64_t out_channels,
                   int64_t kernel, int64_t stride, bool bias) {
    std::string name = fmt::format("conv{}", conv_count_++);
    auto weight = torch::empty({out_channels, in_channels, kernel, kernel});
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    AddParameter(name + "_weight", weight);
    std::string bias_expression = "None";
    if (bias) {
      AddParameter(name + "_bias", UniformBias(out_channels, in_channels * kernel * kernel));
      bias_expression = "self." + name + "_bias";
    }
    int64_t padding = kernel / 2;
    return fmt::format("torch.conv2d({}, self.{}_weight, {}, [{}, {}], [{}, {}])", input, name,
                       bias_expression, stride, stride, padding, padding);
  }

  // Batch normalisation with running statistics, like torch.nn.BatchNorm2d.
  std::string BatchNorm(const std::string& input, int64_t channels) {
    std::string name = fmt::format("bn{}", norm_count_++);
    AddParameter(name + "_weight", torch::ones({channels}));
    AddParameter(name + "_bias", torch::zeros({channels}));
    module_.register_buffer(name + "_mean", torch::zeros({channels}));
    module_.register_buffer(name + "_var", torch::ones({channels}));
    return fmt::format(
        "torch.batch_norm({0}, self.{1}_weight, self.{1}_bias, self.{1}_mean, self.{1}_var, "
        "self.training, 0.1, 1e-05, False)",
        input, name);
  }

  // Buffers that normalise raw input inside forward().
  void Normalization(const InputSpec& input) {
    module_.register_buffer("input_mean", torch::tensor(static_cast<float>(input.input_mean)));
    module_.register_buffer("input_scale",
                            torch::tensor(static_cast<float>(1.0 / input.input_std)));
    Line("x = (x - self.input_mean) * self.input_scale");
  }

  void Line(const std::string& line) { lines_.push_back(line); }

  core::Result<torch::jit::Module> Finish() {
    std::string source = "def forward(self, x):\n";
    for (const std::string& line : lines_) source += "    " + line + "\n";
    MLFORGE_RETURN_IF_ERROR(
        CatchTorchStatus("generated TorchScript", [&] { module_.define(source); }));
    return module_;
  }

 private:
  void AddParameter(const std::string& name, const torch::Tensor& value) {
    module_.register_parameter(name, value.detach().clone().set_requires_grad(true), false);
  }

  static torch::Tensor UniformBias(int64_t size, int64_t fan_in) {
    double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    return torch::empty({size}).uniform_(-bound, bound);
  }

  torch::jit::Module module_;
  std::vector<std::string> lines_;
  int linear_count_ = 0;
  int conv_count_ = 0;
  int norm_count_ = 0;
};

std::string Float(double value) { return fmt::format("{:.6f}", value); }

int64_t Product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

core::Status CheckPositive(const std::vector<int64_t>& values, const std::string& key) {
  for (int64_t value : values) {
    if (value <= 0) {
      return core::InvalidArgumentError("model." + key + " must hold positive sizes");
    }
  }
  return core::Status::Ok();
}

core::Result<double> Dropout(const core::Config& config, double fallback) {
  MLFORGE_ASSIGN_OR_RETURN(double dropout, config.Double("dropout", fallback));
  if (dropout < 0.0 || dropout >= 1.0) {
    return core::InvalidArgumentError("model.dropout must be in [0, 1), got " +
                                      std::to_string(dropout));
  }
  return dropout;
}

// Images come as {C, H, W}; tabular rows as {n}. Convolutional models need
// the former.
core::Status RequireImage(const InputSpec& input, const std::string& kind) {
  if (input.feature_shape.size() != 3) {
    return core::InvalidArgumentError("model kind '" + kind +
                                      "' needs image input shaped [channels, height, width]");
  }
  return core::Status::Ok();
}

core::Result<torch::jit::Module> BuildMlp(const core::Config& config, const InputSpec& input) {
  MLFORGE_ASSIGN_OR_RETURN(auto layers, config.IntList("layers", std::vector<int64_t>{256, 128}));
  MLFORGE_RETURN_IF_ERROR(CheckPositive(layers, "layers"));
  MLFORGE_ASSIGN_OR_RETURN(double dropout, Dropout(config, 0.0));
  ScriptBuilder builder("Mlp");
  builder.Normalization(input);
  builder.Line("x = torch.flatten(x, 1)");
  int64_t width = Product(input.feature_shape);
  for (int64_t layer : layers) {
    builder.Line("x = torch.relu(" + builder.Linear("x", width, layer) + ")");
    if (dropout > 0) builder.Line("x = torch.dropout(x, " + Float(dropout) + ", self.training)");
    width = layer;
  }
  builder.Line("return " + builder.Linear("x", width, input.num_outputs));
  return builder.Finish();
}

core::Result<torch::jit::Module> BuildCnn(const core::Config& config, const InputSpec& input) {
  MLFORGE_RETURN_IF_ERROR(RequireImage(input, "cnn"));
  MLFORGE_ASSIGN_OR_RETURN(auto channels, config.IntList("channels", std::vector<int64_t>{16, 32}));
  MLFORGE_RETURN_IF_ERROR(CheckPositive(channels, "channels"));
  MLFORGE_ASSIGN_OR_RETURN(int64_t kernel, config.Int("kernel", 5));
  MLFORGE_ASSIGN_OR_RETURN(int64_t hidden, config.Int("hidden", 128));
  MLFORGE_ASSIGN_OR_RETURN(double dropout, Dropout(config, 0.25));
  if (kernel <= 0 || kernel % 2 == 0) {
    return core::InvalidArgumentError("model.kernel must be a positive odd number");
  }
  int64_t in_channels = input.feature_shape[0];
  int64_t height = input.feature_shape[1];
  int64_t width = input.feature_shape[2];
  ScriptBuilder builder("Cnn");
  builder.Normalization(input);
  for (int64_t out_channels : channels) {
    if (height < 2 || width < 2) {
      return core::InvalidArgumentError("model.channels has more conv blocks than the " +
                                        std::to_string(input.feature_shape[1]) +
                                        "-pixel input can be pooled for");
    }
    builder.Line("x = torch.relu(" + builder.Conv("x", in_channels, out_channels, kernel, 1, true) +
                 ")");
    builder.Line("x = torch.max_pool2d(x, [2, 2])");
    in_channels = out_channels;
    height /= 2;
    width /= 2;
  }
  builder.Line("x = torch.flatten(x, 1)");
  builder.Line("x = torch.relu(" + builder.Linear("x", in_channels * height * width, hidden) + ")");
  if (dropout > 0) builder.Line("x = torch.dropout(x, " + Float(dropout) + ", self.training)");
  builder.Line("return " + builder.Linear("x", hidden, input.num_outputs));
  return builder.Finish();
}

// A small ResNet (He et al.) for 28x28 / 32x32 images: a 3x3 stem, then one
// stage per entry of `channels` with `blocks[i]` basic blocks; every stage
// after the first halves the resolution; global average pooling; a linear head.
core::Result<torch::jit::Module> BuildResnet(const core::Config& config, const InputSpec& input) {
  MLFORGE_RETURN_IF_ERROR(RequireImage(input, "resnet"));
  MLFORGE_ASSIGN_OR_RETURN(auto channels,
                           config.IntList("channels", std::vector<int64_t>{16, 32, 64}));
  MLFORGE_ASSIGN_OR_RETURN(auto blocks,
                           config.IntList("blocks", std::vector<int64_t>(channels.size(), 1)));
  MLFORGE_RETURN_IF_ERROR(CheckPositive(channels, "channels"));
  MLFORGE_RETURN_IF_ERROR(CheckPositive(blocks, "blocks"));
  if (blocks.size() != channels.size() || channels.empty()) {
    return core::InvalidArgumentError("model.blocks needs one entry per entry of model.channels");
  }
  ScriptBuilder builder("ResNet");
  builder.Normalization(input);
  builder.Line(
      "x = torch.relu(" +
      builder.BatchNorm(builder.Conv("x", input.feature_shape[0], channels[0], 3, 1, false),
                        channels[0]) +
      ")");
  int64_t in_channels = channels[0];
  for (size_t stage = 0; stage < channels.size(); ++stage) {
    for (int64_t block = 0; block < blocks[stage]; ++block) {
      int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      int64_t out_channels = channels[stage];
      builder.Line("y = torch.relu(" +
                   builder.BatchNorm(builder.Conv("x", in_channels, out_channels, 3, stride, false),
                                     out_channels) +
                   ")");
      builder.Line("y = " +
                   builder.BatchNorm(builder.Conv("y", out_channels, out_channels, 3, 1, false),
                                     out_channels));
      if (stride != 1 || in_channels != out_channels) {
        builder.Line("x = " + builder.BatchNorm(
                                  builder.Conv("x", in_channels, out_channels, 1, stride, false),
                                  out_channels));
      }
      builder.Line("x = torch.relu(x + y)");
      in_channels = out_channels;
    }
  }
  builder.Line("x = torch.mean(x, [2, 3])");
  builder.Line("return " + builder.Linear("x", in_channels, input.num_outputs));
  return builder.Finish();
}

core::Result<torch::jit::Module> BuildLinear(const InputSpec& input) {
  ScriptBuilder builder("Linear");
  builder.Normalization(input);
  builder.Line("x = torch.flatten(x, 1)");
  builder.Line("return " + builder.Linear("x", Product(input.feature_shape), input.num_outputs));
  return builder.Finish();
}

core::Result<torch::jit::Module> LoadUserModule(const core::Config& config) {
  // Either `torchscript: file.pt` or `kind: torchscript` with `file: file.pt`.
  MLFORGE_ASSIGN_OR_RETURN(std::string file,
                           config.String(config.Has("torchscript") ? "torchscript" : "file"));
  std::filesystem::path path = file;
  if (path.is_relative() && !config.source().empty()) {
    // Relative to the config file, as users write it next to their YAML.
    std::filesystem::path beside = std::filesystem::path(config.source()).parent_path() / path;
    if (std::filesystem::exists(beside)) path = beside;
  }
  if (!std::filesystem::exists(path)) {
    return core::NotFoundError("model.file " + file +
                               " not found (give a TorchScript file saved with torch.jit.save)");
  }
  MLFORGE_ASSIGN_OR_RETURN(
      torch::jit::Module module,
      CatchTorch("loading TorchScript " + path.string(), [&] { return torch::jit::load(path); }));
  if (module.parameters().size() == 0) {
    return core::InvalidArgumentError("TorchScript module " + path.string() +
                                      " has no parameters to train");
  }
  for (const auto& parameter : module.parameters()) parameter.set_requires_grad(true);
  module.train(true);
  return module;
}

}  // namespace

std::vector<std::string> ModelKinds() {
  return {"mlp", "cnn", "resnet", "logreg", "linear", "torchscript"};
}

core::Result<BuiltModel> BuildModel(const core::Config& model_config, const InputSpec& input) {
  if (input.feature_shape.empty() || input.num_outputs <= 0 || input.input_std <= 0) {
    return core::InvalidArgumentError("the data gives no usable input shape or output count");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::string kind, model_config.String("kind", std::string()));
  if (kind.empty() && (model_config.Has("file") || model_config.Has("torchscript"))) {
    kind = "torchscript";
  }
  BuiltModel built;
  built.kind = kind;
  MLFORGE_ASSIGN_OR_RETURN(
      std::string task,
      model_config.String("task", kind == "linear" ? "regression" : "classification"));
  if (task != "classification" && task != "regression") {
    return core::InvalidArgumentError("model.task must be classification or regression");
  }
  built.task = task == "regression" ? Task::kRegression : Task::kClassification;
  core::Result<torch::jit::Module> module = core::InvalidArgumentError("unset");
  if (kind == "mlp") {
    module = BuildMlp(model_config, input);
  } else if (kind == "cnn") {
    module = BuildCnn(model_config, input);
  } else if (kind == "resnet") {
    module = BuildResnet(model_config, input);
  } else if (kind == "logreg") {
    module = BuildLinear(input);
  } else if (kind == "linear") {
    MLFORGE_ASSIGN_OR_RETURN(int64_t outputs, model_config.Int("outputs", 1));
    InputSpec regression = input;
    regression.num_outputs = outputs;
    module = BuildLinear(regression);
  } else if (kind == "torchscript") {
    module = LoadUserModule(model_config);
  } else {
    std::string known;
    for (const std::string& name : ModelKinds()) known += (known.empty() ? "" : ", ") + name;
    return core::InvalidArgumentError("unknown model.kind '" + kind + "'; known kinds: " + known);
  }
  if (!module.ok()) return module.status();
  built.module = std::move(module).value();
  return built;
}

}  // namespace mlforge::models
