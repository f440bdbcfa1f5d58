#include "train/optimizer.h"

#include <cmath>

#include "train/fused_sgd.h"

namespace mlforge::train {
namespace {

core::Status RequireNonNegative(double value, const char* key) {
  if (value < 0 || !std::isfinite(value)) {
    return core::InvalidArgumentError(std::string("optimizer.") + key +
                                      " must be a non-negative number");
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(
    const core::Config& config, const std::vector<torch::Tensor>& parameters) {
  MLFORGE_ASSIGN_OR_RETURN(std::string name, config.String("name", "sgd"));
  MLFORGE_ASSIGN_OR_RETURN(double lr, config.Double("lr", name == "sgd" ? 0.01 : 0.001));
  MLFORGE_ASSIGN_OR_RETURN(double weight_decay,
                           config.Double("weight_decay", name == "adamw" ? 0.01 : 0.0));
  if (lr <= 0 || !std::isfinite(lr)) {
    return core::InvalidArgumentError("optimizer.lr must be a positive number");
  }
  MLFORGE_RETURN_IF_ERROR(RequireNonNegative(weight_decay, "weight_decay"));
  if (name == "sgd") {
    MLFORGE_ASSIGN_OR_RETURN(double momentum, config.Double("momentum", 0.0));
    MLFORGE_ASSIGN_OR_RETURN(bool nesterov, config.Bool("nesterov", false));
    MLFORGE_RETURN_IF_ERROR(RequireNonNegative(momentum, "momentum"));
    if (nesterov && momentum <= 0) {
      return core::InvalidArgumentError("optimizer.nesterov needs optimizer.momentum > 0");
    }
    return std::unique_ptr<torch::optim::Optimizer>(new FusedSgd(
        parameters, torch::optim::SGDOptions(lr).momentum(momentum).nesterov(nesterov).weight_decay(
                        weight_decay)));
  }
  if (name == "adam" || name == "adamw") {
    MLFORGE_ASSIGN_OR_RETURN(auto betas,
                             config.DoubleList("betas", std::vector<double>{0.9, 0.999}));
    if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1) {
      return core::InvalidArgumentError("optimizer.betas must be two numbers in [0, 1)");
    }
    MLFORGE_ASSIGN_OR_RETURN(double eps, config.Double("eps", 1e-8));
    auto beta_pair = std::make_tuple(betas[0], betas[1]);
    if (name == "adam") {
      return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::Adam(
          parameters,
          torch::optim::AdamOptions(lr).betas(beta_pair).eps(eps).weight_decay(weight_decay)));
    }
    return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::AdamW(
        parameters,
        torch::optim::AdamWOptions(lr).betas(beta_pair).eps(eps).weight_decay(weight_decay)));
  }
  return core::InvalidArgumentError("unknown optimizer.name '" + name +
                                    "'; known: sgd, adam, adamw");
}

core::Result<LrSchedule> LrSchedule::Create(const core::Config& config, double base_lr,
                                            int64_t total_steps) {
  LrSchedule schedule;
  schedule.base_lr_ = base_lr;
  schedule.total_steps_ = std::max<int64_t>(total_steps, 1);
  MLFORGE_ASSIGN_OR_RETURN(std::string name, config.String("name", "constant"));
  MLFORGE_ASSIGN_OR_RETURN(schedule.warmup_steps_, config.Int("warmup_steps", 0));
  MLFORGE_ASSIGN_OR_RETURN(schedule.min_lr_, config.Double("min_lr", 0.0));
  MLFORGE_ASSIGN_OR_RETURN(schedule.gamma_, config.Double("gamma", 0.1));
  MLFORGE_ASSIGN_OR_RETURN(schedule.step_size_, config.Int("step_size", 1000));
  if (schedule.warmup_steps_ < 0 || schedule.step_size_ <= 0) {
    return core::InvalidArgumentError(
        "schedule.warmup_steps must be >= 0 and schedule.step_size > 0");
  }
  if (name == "constant") {
    schedule.kind_ = Kind::kConstant;
  } else if (name == "step") {
    schedule.kind_ = Kind::kStep;
  } else if (name == "cosine") {
    schedule.kind_ = Kind::kCosine;
  } else {
    return core::InvalidArgumentError("unknown schedule.name '" + name +
                                      "'; known: constant, step, cosine");
  }
  return schedule;
}

double LrSchedule::LearningRate(int64_t step) const {
  if (step < warmup_steps_) {
    return base_lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  }
  int64_t after_warmup = step - warmup_steps_;
  switch (kind_) {
    case Kind::kConstant:
      return base_lr_;
    case Kind::kStep:
      // Whole decay periods only: the rate changes every step_size steps.
      return base_lr_ * std::pow(gamma_, std::floor(static_cast<double>(after_warmup) /
                                                    static_cast<double>(step_size_)));
    case Kind::kCosine: {
      double span = static_cast<double>(std::max<int64_t>(total_steps_ - warmup_steps_, 1));
      double progress = std::min(1.0, static_cast<double>(after_warmup) / span);
      return min_lr_ + 0.5 * (base_lr_ - min_lr_) * (1.0 + std::cos(M_PI * progress));
    }
  }
  return base_lr_;
}

void LrSchedule::Apply(torch::optim::Optimizer& optimizer, int64_t step) const {
  double lr = LearningRate(step);
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace mlforge::train
