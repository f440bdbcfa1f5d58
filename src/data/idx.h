#pragma once

// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a 4-byte magic number (two zero bytes, a type byte, a dimension count),
// one big-endian uint32 per dimension, then the values in row-major order.
// Only the unsigned-byte type (0x08) is supported, which is what the image and
// label files of both datasets use.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"

namespace mlforge::data {

// An unsigned-byte IDX array: `data` holds product(dims) values, row-major.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;

  bool operator==(const IdxArray& other) const = default;
};

// Reads a whole IDX file. Errors name the file and what is wrong:
// NotFound when it cannot be opened; InvalidArgument for a bad magic number
// (with a hint when the file is gzip-compressed), a type other than 0x08, no
// dimensions, or a size that does not match the header ("truncated: expected
// X bytes, found Y", or trailing bytes).
core::Result<IdxArray> ReadIdx(const std::filesystem::path& path);

// Writes `array` as an IDX file, atomically (core::WriteFileAtomic): a crash
// leaves the old file or the new one. InvalidArgument when dims is empty, has
// more than 255 entries, a dimension outside 0..2^32-1, or does not multiply
// to data.size().
core::Status WriteIdx(const std::filesystem::path& path, const IdxArray& array);

// Reads images (idx3: N x rows x cols) and labels (idx1: N) into a Dataset
// with feature_shape {1, rows, cols} and raw pixel values 0..255 as floats.
// InvalidArgument, naming the files, when either has the wrong rank, the
// counts differ, or (when num_classes > 0) a label is >= num_classes.
core::Result<Dataset> ReadIdxDataset(const std::filesystem::path& images,
                                     const std::filesystem::path& labels, int64_t num_classes = 0);

}  // namespace mlforge::data
