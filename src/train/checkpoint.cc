#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

#include "core/file.h"
#include "models/torch_status.h"

namespace mlforge::train {
namespace {

constexpr int64_t kFormatVersion = 1;

torch::Tensor Scalar(double value) { return torch::tensor(value, torch::kFloat64); }
torch::Tensor Scalar(int64_t value) { return torch::tensor(value, torch::kInt64); }

}  // namespace

core::Status SaveCheckpoint(const std::filesystem::path& path, const torch::jit::Module& module,
                            const torch::optim::Optimizer& optimizer,
                            const TrainProgress& progress) {
  MLFORGE_ASSIGN_OR_RETURN(std::string bytes, models::CatchTorch("writing checkpoint", [&] {
                             torch::serialize::OutputArchive archive;
                             archive.write("format_version", Scalar(kFormatVersion));
                             for (const auto& parameter : module.named_parameters()) {
                               archive.write("model." + parameter.name, parameter.value.detach());
                             }
                             for (const auto& buffer : module.named_buffers()) {
                               archive.write("model." + buffer.name, buffer.value, true);
                             }
                             torch::serialize::OutputArchive optimizer_archive;
                             optimizer.save(optimizer_archive);
                             archive.write("optimizer", optimizer_archive);
                             archive.write("epoch", Scalar(progress.epoch));
                             archive.write("batch_in_epoch", Scalar(progress.batch_in_epoch));
                             archive.write("global_step", Scalar(progress.global_step));
                             archive.write("samples_in_epoch", Scalar(progress.samples_in_epoch));
                             archive.write("epoch_loss_sum", Scalar(progress.epoch_loss_sum));
                             archive.write("epoch_correct", Scalar(progress.epoch_correct));
                             archive.write("epoch_seen", Scalar(progress.epoch_seen));
                             archive.write("best_val_accuracy", Scalar(progress.best_val_accuracy));
                             archive.write("rng_state",
                                           at::detail::getDefaultCPUGenerator().get_state());
                             std::ostringstream buffer;
                             archive.save_to(buffer);
                             return buffer.str();
                           }));
  return core::WriteFileAtomic(path, bytes);
}

core::Result<TrainProgress> LoadCheckpoint(const std::filesystem::path& path,
                                           torch::jit::Module& module,
                                           torch::optim::Optimizer& optimizer) {
  if (!std::filesystem::exists(path)) {
    return core::NotFoundError("no checkpoint at " + path.string());
  }
  return models::CatchTorch("reading checkpoint " + path.string(), [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    torch::Tensor version;
    archive.read("format_version", version);
    TORCH_CHECK(version.item<int64_t>() == kFormatVersion, "unsupported checkpoint version ",
                version.item<int64_t>());
    torch::NoGradGuard no_grad;
    for (const auto& parameter : module.named_parameters()) {
      torch::Tensor saved;
      archive.read("model." + parameter.name, saved);
      TORCH_CHECK(saved.sizes() == parameter.value.sizes(), "tensor ", parameter.name,
                  " has shape ", saved.sizes(), " in the checkpoint but ", parameter.value.sizes(),
                  " in the model");
      parameter.value.copy_(saved);
    }
    for (const auto& buffer : module.named_buffers()) {
      torch::Tensor saved;
      archive.read("model." + buffer.name, saved, true);
      buffer.value.copy_(saved);
    }
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    auto read_int = [&](const char* key) {
      torch::Tensor value;
      archive.read(key, value);
      return value.item<int64_t>();
    };
    auto read_double = [&](const char* key) {
      torch::Tensor value;
      archive.read(key, value);
      return value.item<double>();
    };
    TrainProgress progress;
    progress.epoch = read_int("epoch");
    progress.batch_in_epoch = read_int("batch_in_epoch");
    progress.global_step = read_int("global_step");
    torch::Tensor samples_in_epoch;
    progress.samples_in_epoch = archive.try_read("samples_in_epoch", samples_in_epoch)
                                    ? samples_in_epoch.item<int64_t>()
                                    : -1;
    progress.epoch_loss_sum = read_double("epoch_loss_sum");
    progress.epoch_correct = read_int("epoch_correct");
    progress.epoch_seen = read_int("epoch_seen");
    progress.best_val_accuracy = read_double("best_val_accuracy");
    torch::Tensor rng_state;
    archive.read("rng_state", rng_state);
    // A Generator is a handle: the copy sets the process-wide generator.
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng_state);
    return progress;
  });
}

}  // namespace mlforge::train
