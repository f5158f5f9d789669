#pragma once
// The safetensors format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the
// raw little-endian tensor bytes. Torch-free on purpose.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bcd {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

/// Bytes per element of `dtype`.
std::size_t dtype_size(DType dtype);
/// "F32", "F16", ...
const char* dtype_name(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;  // from the start of the data section
  std::size_t n_bytes = 0;
};

/// A safetensors file read fully into memory and validated: header length
/// within the file (and under 100 MB), JSON well-formed, no name twice, every
/// dtype known, n_bytes == prod(shape) * size, and the tensors tiling the data
/// section exactly (no overlap, no gap, nothing left over, as the reference
/// reader requires). Any violation is a ModelError naming the file and the tensor.
class SafetensorsFile {
 public:
  /// Maps the file read-only (a ViT-B checkpoint is 343 MB: no copy into memory of our
  /// own, and the pages come from the page cache as the weights are copied out).
  static SafetensorsFile open(const std::string& path);
  static SafetensorsFile from_bytes(std::vector<std::uint8_t> bytes, const std::string& name);

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// nullptr when absent.
  const TensorInfo* find(const std::string& name) const;
  /// Pointer to the first byte of the tensor's data.
  const std::uint8_t* data(const TensorInfo& info) const;
  /// The tensor converted to float32 (from F32, F16 or BF16); other dtypes
  /// are a ModelError naming the tensor.
  std::vector<float> to_float32(const TensorInfo& info) const;

 private:
  /// The file's bytes: owned in memory, or a read-only mapping.
  struct Bytes;
  static SafetensorsFile parse(std::shared_ptr<const Bytes> bytes, const std::string& name);

  std::string path_;
  std::shared_ptr<const Bytes> bytes_;
  std::size_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// One tensor to write; `data` holds prod(shape) * dtype_size(dtype) bytes.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
};

/// Writes a safetensors file atomically (temporary file, then rename), tensors
/// ordered as the reference writer orders them (larger dtypes first, then by
/// name), header padded to 8 bytes with spaces. Throws OutputError.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace bcd
