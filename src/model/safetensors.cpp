#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/errors.h"
#include "common/files.h"

namespace bcd {

namespace fs = std::filesystem;
namespace {

using nlohmann::json;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader copies it as is");

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeEntry {
  DType dtype;
  const char* name;
  std::size_t size;
};

constexpr DTypeEntry kDTypes[] = {{DType::F32, "F32", 4},   {DType::F16, "F16", 2},
                                  {DType::BF16, "BF16", 2}, {DType::F64, "F64", 8},
                                  {DType::I64, "I64", 8},   {DType::I32, "I32", 4},
                                  {DType::I16, "I16", 2},   {DType::I8, "I8", 1},
                                  {DType::U8, "U8", 1},     {DType::BOOL, "BOOL", 1}};

const DTypeEntry& entry_of(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw ModelError("unknown dtype enum value " + std::to_string(static_cast<int>(dtype)));
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return out + "]";
}

[[noreturn]] void fail(const std::string& path, const std::string& tensor,
                       const std::string& what) {
  throw ModelError(path + ": tensor '" + tensor + "': " + what);
}

/// prod(shape), or nothing on a negative dimension or an overflow.
bool element_count(const std::vector<std::int64_t>& shape, std::uint64_t* count) {
  std::uint64_t n = 1;
  for (const auto dim : shape) {
    if (dim < 0) return false;
    const auto d = static_cast<std::uint64_t>(dim);
    if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d) return false;
    n *= d;
  }
  *count = n;
  return true;
}

/// One header entry: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}.
TensorInfo parse_tensor_entry(const std::string& path, const std::string& name, const json& entry) {
  if (!entry.is_object()) fail(path, name, "expected an object, found " + entry.dump());
  TensorInfo info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail(path, name, "no string 'dtype'");
  const auto dtype_text = dtype_it->get<std::string>();
  const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                   [&](const DTypeEntry& e) { return dtype_text == e.name; });
  if (known == std::end(kDTypes)) {
    fail(path, name,
         "unsupported dtype \"" + dtype_text +
             "\" (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)");
  }
  info.dtype = known->dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) fail(path, name, "no list 'shape'");
  for (const auto& dim : *shape_it) {
    if (!dim.is_number_unsigned()) fail(path, name, "shape " + shape_it->dump() + " is invalid");
    info.shape.push_back(dim.get<std::int64_t>());
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    fail(path, name,
         "expected 'data_offsets' [begin, end], found " +
             (offsets_it == entry.end() ? std::string("nothing") : offsets_it->dump()));
  }
  const auto begin = (*offsets_it)[0].get<std::uint64_t>();
  const auto end = (*offsets_it)[1].get<std::uint64_t>();
  if (end < begin) {
    fail(path, name,
         "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
             "] end before begin");
  }
  info.offset = begin;
  info.n_bytes = end - begin;

  std::uint64_t count = 0;
  if (!element_count(info.shape, &count) ||
      count > std::numeric_limits<std::uint64_t>::max() / known->size ||
      count * known->size != info.n_bytes) {
    fail(path, name,
         "shape " + shape_string(info.shape) + " of " + dtype_text + " needs " +
             std::to_string(count * known->size) + " bytes, data_offsets give " +
             std::to_string(info.n_bytes));
  }
  return info;
}

/// The tensors must tile the data section exactly: no gap, no overlap, nothing left over.
void check_offsets(const std::string& path, std::vector<TensorInfo> tensors,
                   std::size_t data_bytes) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.n_bytes < b.n_bytes;
  });
  std::size_t expected = 0;
  for (const auto& info : tensors) {
    if (info.offset != expected) {
      fail(path, info.name,
           "data starts at byte " + std::to_string(info.offset) +
               " of the data section, expected " + std::to_string(expected) +
               (info.offset < expected ? " (overlaps the previous tensor)" : " (a gap before it)"));
    }
    if (info.n_bytes > data_bytes - expected) {
      fail(path, info.name,
           "data ends at byte " + std::to_string(info.offset + info.n_bytes) +
               ", past the end of the data section (" + std::to_string(data_bytes) +
               " bytes; file truncated?)");
    }
    expected += info.n_bytes;
  }
  if (expected != data_bytes) {
    throw ModelError(path + ": the tensors cover " + std::to_string(expected) + " of the " +
                     std::to_string(data_bytes) + " bytes of the data section");
  }
}

std::uint64_t read_header_length(const std::string& path, const std::uint8_t* bytes,
                                 std::size_t n_bytes) {
  if (n_bytes < 8) {
    throw ModelError(path + ": " + std::to_string(n_bytes) +
                     " bytes, too short for a safetensors file (truncated?)");
  }
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeaderBytes) {
    throw ModelError(path + ": header length " + std::to_string(n) +
                     " exceeds the 100000000-byte limit (not a safetensors file?)");
  }
  if (n > n_bytes - 8) {
    throw ModelError(path + ": header length " + std::to_string(n) + " is past the end of the " +
                     std::to_string(n_bytes) + "-byte file (truncated?)");
  }
  return n;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  if (!value.is_object()) {
    throw ModelError(path + ": __metadata__: expected an object of strings, found " + value.dump());
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      throw ModelError(path + ": __metadata__ '" + key + "': expected a string, found " +
                       item.dump());
    }
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

/// IEEE half to single precision, exact for every input (subnormals, infinities, NaN payloads).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: shift the mantissa up until it is normal, lowering the exponent.
    exponent = 127 - 15 + 1;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

float bfloat16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace

std::size_t dtype_size(DType dtype) { return entry_of(dtype).size; }

const char* dtype_name(DType dtype) { return entry_of(dtype).name; }

struct SafetensorsFile::Bytes {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::vector<std::uint8_t> owned;  // from_bytes
  void* mapping = nullptr;          // open(); unmapped on destruction

  Bytes() = default;
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  ~Bytes() {
    if (mapping != nullptr) ::munmap(mapping, size);
  }
};

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ModelError(path + ": expected a file, found a directory");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw ModelError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw ModelError(path + ": cannot read its size (" + reason + ")");
  }
  auto bytes = std::make_shared<Bytes>();
  bytes->size = static_cast<std::size_t>(st.st_size);
  if (bytes->size > 0) {
    void* mapping = ::mmap(nullptr, bytes->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (mapping == MAP_FAILED) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw ModelError(path + ": cannot map it into memory (" + reason + ")");
    }
    bytes->mapping = mapping;
    bytes->data = static_cast<const std::uint8_t*>(mapping);
  }
  ::close(fd);  // the mapping stays valid
  return parse(std::move(bytes), path);
}

SafetensorsFile SafetensorsFile::from_bytes(std::vector<std::uint8_t> bytes,
                                            const std::string& name) {
  auto owned = std::make_shared<Bytes>();
  owned->owned = std::move(bytes);
  owned->data = owned->owned.data();
  owned->size = owned->owned.size();
  return parse(std::move(owned), name);
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const Bytes> bytes,
                                       const std::string& name) {
  SafetensorsFile file;
  file.path_ = name;
  const std::uint64_t header_bytes = read_header_length(name, bytes->data, bytes->size);
  const char* header_text = reinterpret_cast<const char*>(bytes->data + 8);
  if (header_bytes == 0 || header_text[0] != '{') {
    throw ModelError(name + ": the header does not start with '{' (not a safetensors file?)");
  }
  json header;
  std::set<std::string> names;
  std::string repeated;
  // nlohmann keeps the last of two equal keys silently; the format forbids them.
  const auto find_repeats = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key &&
        !names.insert(parsed.get<std::string>()).second) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  try {
    header = json::parse(header_text, header_text + header_bytes, find_repeats);
  } catch (const json::parse_error& e) {
    throw ModelError(name + ": the JSON header is malformed (" + e.what() + ")");
  }
  if (!header.is_object()) throw ModelError(name + ": the JSON header is not an object");
  if (!repeated.empty()) fail(name, repeated, "appears twice in the header");

  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      file.metadata_ = parse_metadata(name, value);
    } else {
      file.tensors_.push_back(parse_tensor_entry(name, key, value));
    }
  }
  file.data_start_ = static_cast<std::size_t>(8 + header_bytes);
  check_offsets(name, file.tensors_, bytes->size - file.data_start_);
  file.bytes_ = std::move(bytes);
  return file;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  for (const auto& info : tensors_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

const std::uint8_t* SafetensorsFile::data(const TensorInfo& info) const {
  return bytes_->data + data_start_ + info.offset;
}

std::vector<float> SafetensorsFile::to_float32(const TensorInfo& info) const {
  const std::size_t n = info.n_bytes / dtype_size(info.dtype);
  std::vector<float> out(n);
  const std::uint8_t* src = data(info);
  if (info.dtype == DType::F32) {
    if (n > 0) std::memcpy(out.data(), src, info.n_bytes);
    return out;
  }
  if (info.dtype != DType::F16 && info.dtype != DType::BF16) {
    fail(path_, info.name,
         std::string("expected F32, F16 or BF16 weights, found ") + dtype_name(info.dtype));
  }
  const auto convert = info.dtype == DType::F16 ? half_to_float : bfloat16_to_float;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t raw;
    std::memcpy(&raw, src + 2 * i, sizeof raw);
    out[i] = convert(raw);
  }
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // The reference writer orders tensors by alignment (largest dtype first), then by name,
  // so that every tensor starts at a multiple of its element size.
  std::vector<const TensorToWrite*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    const auto sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const TensorToWrite& t = *order[i];
    std::uint64_t count = 0;
    if (t.name.empty() || t.name == "__metadata__" || header.contains(t.name)) {
      throw OutputError(path + ": tensor name '" + t.name + "' is empty, reserved or repeated");
    }
    if (!element_count(t.shape, &count) || (count > 0 && t.data == nullptr)) {
      throw OutputError(path + ": tensor '" + t.name + "' has shape " + shape_string(t.shape) +
                        " but no data");
    }
    const std::size_t n_bytes = static_cast<std::size_t>(count) * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + n_bytes}}};
    offset += n_bytes;
  }

  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header_text.size() + offset);
  for (int i = 0; i < 8; ++i) {
    out.push_back(
        static_cast<char>((static_cast<std::uint64_t>(header_text.size()) >> (8 * i)) & 0xffu));
  }
  out += header_text;
  for (const auto* t : order) {
    const auto* info = header[t->name]["data_offsets"].get_ptr<const json::array_t*>();
    const std::size_t n_bytes = (*info)[1].get<std::size_t>() - (*info)[0].get<std::size_t>();
    if (n_bytes > 0) out.append(static_cast<const char*>(t->data), n_bytes);
  }
  write_file_atomic(path, out);
}

}  // namespace bcd
