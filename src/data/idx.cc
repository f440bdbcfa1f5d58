#include "data/idx.h"

#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "core/file.h"

namespace mlforge::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;

std::string Hex32(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08X", value);
  return buffer;
}

std::string TypeName(uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return "unknown";
  }
}

uint32_t BigEndian32(const unsigned char* bytes) {
  return (static_cast<uint32_t>(bytes[0]) << 24) | (static_cast<uint32_t>(bytes[1]) << 16) |
         (static_cast<uint32_t>(bytes[2]) << 8) | static_cast<uint32_t>(bytes[3]);
}

void AppendBigEndian32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

std::string DimsText(const std::vector<int64_t>& dims) {
  std::string text;
  for (size_t index = 0; index < dims.size(); ++index) {
    if (index > 0) text += " x ";
    text += std::to_string(dims[index]);
  }
  return text;
}

}  // namespace

core::Result<IdxArray> ReadIdx(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return core::NotFoundError("cannot open IDX file " + name);
  const auto file_size = static_cast<int64_t>(in.tellg());
  in.seekg(0);

  unsigned char magic[4] = {0, 0, 0, 0};
  if (file_size < 4 || !in.read(reinterpret_cast<char*>(magic), 4)) {
    return core::InvalidArgumentError(
        "IDX file " + name + " is truncated: expected at least 4 bytes (the magic number), found " +
        std::to_string(file_size));
  }
  const uint32_t magic_number = BigEndian32(magic);
  if (magic[0] != 0 || magic[1] != 0) {
    std::string hint = magic[0] == 0x1f && magic[1] == 0x8b
                           ? "; the file is gzip-compressed, decompress it first (gunzip)"
                           : "; an IDX file starts with two zero bytes";
    return core::InvalidArgumentError("IDX file " + name + " has a bad magic number " +
                                      Hex32(magic_number) + hint);
  }
  const uint8_t type = magic[2];
  if (type != kUnsignedByteType) {
    char type_hex[8];
    std::snprintf(type_hex, sizeof(type_hex), "0x%02X", type);
    return core::InvalidArgumentError("IDX file " + name + " has unsupported data type " +
                                      type_hex + " (" + TypeName(type) +
                                      "); only 0x08 (unsigned byte) is supported");
  }
  const int rank = magic[3];
  if (rank == 0) {
    return core::InvalidArgumentError("IDX file " + name + " declares 0 dimensions");
  }
  const int64_t header_size = 4 + 4 * static_cast<int64_t>(rank);
  if (file_size < header_size) {
    return core::InvalidArgumentError("IDX file " + name + " is truncated: expected at least " +
                                      std::to_string(header_size) + " bytes for the header of " +
                                      std::to_string(rank) + " dimensions, found " +
                                      std::to_string(file_size));
  }
  std::vector<unsigned char> header(static_cast<size_t>(4 * rank));
  if (!in.read(reinterpret_cast<char*>(header.data()),
               static_cast<std::streamsize>(header.size()))) {
    return core::InternalError("read error in IDX file " + name);
  }
  IdxArray array;
  // The payload size, computed with an overflow guard: a corrupt header can
  // declare dimensions whose product does not fit in 64 bits.
  int64_t payload = 1;
  bool overflow = false;
  for (int dim = 0; dim < rank; ++dim) {
    const int64_t extent = BigEndian32(header.data() + 4 * dim);
    array.dims.push_back(extent);
    if (extent != 0 && payload > std::numeric_limits<int64_t>::max() / 2 / extent) overflow = true;
    if (!overflow) payload *= extent;
  }
  if (overflow) {
    return core::InvalidArgumentError("IDX file " + name + " declares dimensions " +
                                      DimsText(array.dims) + " too large for any file");
  }
  const int64_t expected_size = header_size + payload;
  if (file_size < expected_size) {
    return core::InvalidArgumentError(
        "IDX file " + name + " is truncated: expected " + std::to_string(expected_size) +
        " bytes for dimensions " + DimsText(array.dims) + ", found " + std::to_string(file_size));
  }
  if (file_size > expected_size) {
    return core::InvalidArgumentError(
        "IDX file " + name + " has " + std::to_string(file_size - expected_size) +
        " trailing bytes: expected " + std::to_string(expected_size) + " bytes for dimensions " +
        DimsText(array.dims) + ", found " + std::to_string(file_size));
  }
  array.data.resize(static_cast<size_t>(payload));
  if (payload > 0 &&
      !in.read(reinterpret_cast<char*>(array.data.data()), static_cast<std::streamsize>(payload))) {
    return core::InternalError("read error in IDX file " + name);
  }
  return array;
}

core::Status WriteIdx(const std::filesystem::path& path, const IdxArray& array) {
  const std::string name = path.string();
  if (array.dims.empty() || array.dims.size() > 255) {
    return core::InvalidArgumentError("cannot write IDX file " + name +
                                      ": an IDX array has 1 to 255 dimensions, got " +
                                      std::to_string(array.dims.size()));
  }
  uint64_t count = 1;
  for (int64_t extent : array.dims) {
    if (extent < 0 || extent > std::numeric_limits<uint32_t>::max()) {
      return core::InvalidArgumentError("cannot write IDX file " + name + ": dimension " +
                                        std::to_string(extent) + " is outside 0..2^32-1");
    }
    count *= static_cast<uint64_t>(extent);
  }
  if (count != array.data.size()) {
    return core::InvalidArgumentError("cannot write IDX file " + name + ": dimensions " +
                                      DimsText(array.dims) + " hold " + std::to_string(count) +
                                      " values but data has " + std::to_string(array.data.size()));
  }
  std::string bytes;
  bytes.reserve(4 + 4 * array.dims.size() + array.data.size());
  bytes.push_back(0);
  bytes.push_back(0);
  bytes.push_back(static_cast<char>(kUnsignedByteType));
  bytes.push_back(static_cast<char>(array.dims.size()));
  for (int64_t extent : array.dims) AppendBigEndian32(bytes, static_cast<uint32_t>(extent));
  bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  return core::WriteFileAtomic(path, bytes);
}

core::Result<Dataset> ReadIdxDataset(const std::filesystem::path& images,
                                     const std::filesystem::path& labels, int64_t num_classes) {
  MLFORGE_ASSIGN_OR_RETURN(IdxArray image_array, ReadIdx(images));
  MLFORGE_ASSIGN_OR_RETURN(IdxArray label_array, ReadIdx(labels));
  if (image_array.dims.size() != 3) {
    return core::InvalidArgumentError("IDX image file " + images.string() +
                                      " must have 3 dimensions (count x rows x cols), has " +
                                      std::to_string(image_array.dims.size()) + " (" +
                                      DimsText(image_array.dims) + ")");
  }
  if (label_array.dims.size() != 1) {
    return core::InvalidArgumentError(
        "IDX label file " + labels.string() + " must have 1 dimension (count), has " +
        std::to_string(label_array.dims.size()) + " (" + DimsText(label_array.dims) + ")");
  }
  if (image_array.dims[0] != label_array.dims[0]) {
    return core::InvalidArgumentError("count mismatch: " + images.string() + " holds " +
                                      std::to_string(image_array.dims[0]) + " images but " +
                                      labels.string() + " holds " +
                                      std::to_string(label_array.dims[0]) + " labels");
  }
  Dataset dataset;
  dataset.feature_shape = {1, image_array.dims[1], image_array.dims[2]};
  dataset.labels.reserve(label_array.data.size());
  for (size_t row = 0; row < label_array.data.size(); ++row) {
    const int64_t label = label_array.data[row];
    if (num_classes > 0 && label >= num_classes) {
      return core::InvalidArgumentError("label out of range in " + labels.string() + ": label " +
                                        std::to_string(label) + " at index " + std::to_string(row) +
                                        " is not below the " + std::to_string(num_classes) +
                                        " classes");
    }
    dataset.labels.push_back(label);
  }
  dataset.features.assign(image_array.data.begin(), image_array.data.end());
  return dataset;
}

}  // namespace mlforge::data
