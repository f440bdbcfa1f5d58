#pragma once

// `mlforge evaluate`: a model (package folder, runs:/ or models:/ URI) scored
// on a dataset split, with the result written as JSON and, inside a tracked
// run (MLFLOW_RUN_ID), logged to it.
//
// The dataset is a fetched one by name ("mnist", "fashion-mnist": the
// folder of that name in `data_dir`) or a folder: one with a manifest.json
// (as `mlforge data get` writes) or just the IDX files
// (train-images-idx3-ubyte / t10k-images-idx3-ubyte and their labels; split
// "test" reads the t10k files). Its digest is the manifest's, or for a bare
// folder core::Sha256Tree over it.
//
// With `run_id` set the metrics <split>_accuracy and <split>_loss
// ("test_accuracy", "test_loss") go to that run at step 0, and the dataset
// split is logged as its input with context "evaluation" (MLflow's
// log-inputs) under the name "<dataset>-<split>" ("mnist-test"): a store
// keeps one input per dataset and run, so the name tells it apart from the
// training input, while the digest (shortened to 16 characters, as mlforge
// train logs it) names the same data.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "models/evaluate.h"

namespace mlforge::train {

struct EvaluateOptions {
  std::string model_uri;
  std::string data;            // a dataset name or a folder
  std::string split = "test";  // "test" or "train"
  std::filesystem::path data_dir;
  // Where runs:/ and models:/ URIs resolve and runs are logged to (a resolved
  // URI: the caller applies --tracking-uri / MLFLOW_TRACKING_URI / default).
  std::string tracking_uri;
  std::string registry_uri;  // empty: the tracking URI
  std::filesystem::path model_cache;
  std::string default_artifact_root;
  std::string run_id;  // log into this run when not empty
  int64_t batch_size = 1000;
  // Write the JSON report here atomically when not empty.
  std::filesystem::path output;
};

struct EvaluateReport {
  models::EvaluationResult result;
  std::string model_uri;
  std::filesystem::path model_folder;
  std::string dataset_name;
  std::string dataset_digest;  // full
  std::string dataset_source;
  std::string split;
  std::string run_id;  // the run logged to, or empty

  // {"accuracy", "loss", "samples", "model_uri", "dataset", "dataset_digest",
  //  "dataset_source", "split", "per_class": [{"class", "samples",
  //  "accuracy"}], "run_id"}
  nlohmann::json ToJson() const;
};

// Errors name what is wrong: the model URI (FetchModel's errors), the
// dataset (NotFound with the `mlforge data get` to run), the fit of data
// and model (InvalidArgument), the output file, or the tracking store.
core::Result<EvaluateReport> EvaluateModel(const EvaluateOptions& options);

}  // namespace mlforge::train
