#include "model/safetensors.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "common/files.h"
#include "support/temp_path.h"

namespace bcd {
namespace {

namespace fs = std::filesystem;

/// A safetensors file from a header text and a data section of `n_data` bytes (0, 1, 2, ...).
std::vector<std::uint8_t> raw_file(const std::string& header, std::size_t n_data) {
  std::string text;
  for (int i = 0; i < 8; ++i) text.push_back(static_cast<char>(header.size() >> (8 * i)));
  text += header;
  for (std::size_t i = 0; i < n_data; ++i) text.push_back(static_cast<char>(i));
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

/// The ModelError message for parsing `bytes`, or "" when it parses.
std::string parse_error(std::vector<std::uint8_t> bytes) {
  try {
    SafetensorsFile::from_bytes(std::move(bytes), "weights.safetensors");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return (bcd::test::temp_path("bcd_safetensors_test_" + name)).string();
}

TEST(Safetensors, RoundTripKeepsEveryDtypeShapeAndByte) {
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  const std::vector<std::uint16_t> f16 = {0x3c00, 0x7c00, 0x0001};
  const std::vector<std::int64_t> i64 = {-1, 1LL << 40};
  const std::vector<std::uint8_t> u8 = {0, 255, 7};
  const std::vector<std::uint8_t> flags = {1, 0};
  const std::vector<TensorToWrite> tensors = {
      {"b.f32", DType::F32, {2, 3}, f32.data()},  {"a.f16", DType::F16, {3}, f16.data()},
      {"c.i64", DType::I64, {2}, i64.data()},     {"d.u8", DType::U8, {1, 3}, u8.data()},
      {"e.bool", DType::BOOL, {2}, flags.data()}, {"f.empty", DType::F32, {0, 4}, nullptr},
      {"g.scalar", DType::F32, {}, f32.data()}};
  const std::string path = temp_path("round_trip.safetensors");
  write_safetensors(path, tensors, {{"format", "pt"}, {"note", "x y"}});

  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.metadata().at("note"), "x y");
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (const auto& t : tensors) {
    const TensorInfo* info = file.find(t.name);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(info->dtype, t.dtype) << t.name;
    EXPECT_EQ(info->shape, t.shape) << t.name;
    if (info->n_bytes > 0) {
      EXPECT_EQ(std::memcmp(file.data(*info), t.data, info->n_bytes), 0) << t.name;
    }
  }
  EXPECT_EQ(file.to_float32(*file.find("b.f32")), f32);
  EXPECT_EQ(file.to_float32(*file.find("g.scalar")), std::vector<float>{1.5f});

  // The header is padded to 8 bytes and the larger dtypes come first.
  const auto bytes = read_file_bytes(path);
  std::uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u);
  EXPECT_EQ(file.find("c.i64")->offset, 0u);
  fs::remove(path);
}

TEST(Safetensors, HalfToFloatIsExactForAllBitPatterns) {
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<std::uint8_t> bytes =
      raw_file(R"({"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})", 0);
  const auto* begin = reinterpret_cast<const std::uint8_t*>(all.data());
  bytes.insert(bytes.end(), begin, begin + 131072);
  const auto file = SafetensorsFile::from_bytes(std::move(bytes), "all.safetensors");
  const auto values = file.to_float32(file.tensors()[0]);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const float expected = c10::detail::fp16_ieee_to_fp32_value(all[i]);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(values[i])) << "bits " << i;
    } else {
      EXPECT_EQ(values[i], expected) << "bits " << i;
      EXPECT_EQ(std::signbit(values[i]), std::signbit(expected)) << "bits " << i;
    }
  }
  EXPECT_EQ(values[0x3c00], 1.0f);
  EXPECT_EQ(values[0x0001], std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(values[0x03ff], std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(values[0x7bff], 65504.0f);
  EXPECT_EQ(values[0x7c00], INFINITY);
  EXPECT_EQ(values[0xfc00], -INFINITY);
  EXPECT_TRUE(std::isnan(values[0x7e00]));
}

TEST(Safetensors, BFloat16ToFloatIsExactForAllBitPatterns) {
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<std::uint8_t> bytes =
      raw_file(R"({"b":{"dtype":"BF16","shape":[256,256],"data_offsets":[0,131072]}})", 0);
  const auto* begin = reinterpret_cast<const std::uint8_t*>(all.data());
  bytes.insert(bytes.end(), begin, begin + 131072);
  const auto file = SafetensorsFile::from_bytes(std::move(bytes), "all.safetensors");
  const auto values = file.to_float32(file.tensors()[0]);
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    EXPECT_EQ(bits, static_cast<std::uint32_t>(i) << 16) << "bits " << i;
    const float via_c10 = c10::BFloat16(all[i], c10::BFloat16::from_bits());
    if (!std::isnan(via_c10)) {
      EXPECT_EQ(values[i], via_c10) << "bits " << i;
    }
  }
  EXPECT_EQ(values[0x3f80], 1.0f);
  EXPECT_EQ(values[0xff80], -INFINITY);
}

TEST(Safetensors, RejectsTooShortAndTruncatedFiles) {
  EXPECT_NE(parse_error({1, 2, 3}).find("truncated"), std::string::npos);

  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  auto no_header_end = raw_file(header, 16);
  no_header_end.resize(8 + header.size() / 2);
  const std::string short_header = parse_error(no_header_end);
  EXPECT_NE(short_header.find("weights.safetensors"), std::string::npos) << short_header;
  EXPECT_NE(short_header.find("past the end"), std::string::npos) << short_header;

  auto no_data_end = raw_file(header, 16);
  no_data_end.resize(no_data_end.size() - 3);
  const std::string short_data = parse_error(no_data_end);
  EXPECT_NE(short_data.find("tensor 'w'"), std::string::npos) << short_data;
  EXPECT_NE(short_data.find("truncated"), std::string::npos) << short_data;
}

TEST(Safetensors, RejectsHugeHeaderLengthAndBadJson) {
  std::vector<std::uint8_t> huge(16, 0);
  huge[4] = 1;  // 2^32 bytes
  EXPECT_NE(parse_error(huge).find("limit"), std::string::npos);
  EXPECT_NE(parse_error(raw_file("[1, 2]  ", 0)).find("does not start with '{'"),
            std::string::npos);
  const std::string bad = parse_error(raw_file(R"({"w": {"dtype": "F32",)", 0));
  EXPECT_NE(bad.find("malformed"), std::string::npos) << bad;
  EXPECT_NE(bad.find("weights.safetensors"), std::string::npos) << bad;
}

TEST(Safetensors, RejectsBadEntries) {
  struct Case {
    std::string header;
    std::size_t n_data;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2, "unsupported dtype"},
      {R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "needs 12 bytes"},
      {R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "shape"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, "end before begin"},
      {R"({"w":{"dtype":"F32","shape":[1]}})", 4, "data_offsets"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4, "past the end"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "a gap"},
      {R"({"v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, "overlaps"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
       R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, "appears twice"},
      {R"({"__metadata__":{"format":1},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1,
       "expected a string"},
  };
  for (const auto& c : cases) {
    const std::string message = parse_error(raw_file(c.header, c.n_data));
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.header << "\n  gave: " << message;
    EXPECT_NE(message.find("weights.safetensors"), std::string::npos) << message;
  }
  const std::string leftover =
      parse_error(raw_file(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 5));
  EXPECT_NE(leftover.find("cover 2 of the 5 bytes"), std::string::npos) << leftover;
}

TEST(Safetensors, EmptyFileWithOnlyMetadataIsValid) {
  const auto file = SafetensorsFile::from_bytes(raw_file(R"({"__metadata__":{"a":"b"}})", 0),
                                                "empty.safetensors");
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_EQ(file.metadata().at("a"), "b");
  EXPECT_EQ(file.find("a"), nullptr);
}

TEST(Safetensors, FloatConversionRejectsIntegerTensors) {
  const auto file = SafetensorsFile::from_bytes(
      raw_file(R"({"steps":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8), "x.st");
  try {
    file.to_float32(file.tensors()[0]);
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'steps'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("I64"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, OpenNamesAMissingFile) {
  try {
    SafetensorsFile::open("/nonexistent/model.safetensors");
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
  }
}

TEST(Safetensors, WriterRejectsRepeatedNames) {
  const float value = 1.0f;
  EXPECT_THROW(write_safetensors(temp_path("repeat.safetensors"),
                                 {{"w", DType::F32, {1}, &value}, {"w", DType::F32, {1}, &value}}),
               OutputError);
  EXPECT_FALSE(fs::exists(temp_path("repeat.safetensors")));
}

TEST(Safetensors, DtypeSizesAndNames) {
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::F64), 8u);
  EXPECT_EQ(dtype_size(DType::BOOL), 1u);
  EXPECT_STREQ(dtype_name(DType::I16), "I16");
}

}  // namespace
}  // namespace bcd
