// Decoding parity with transformers' load_image (Pillow 9.4) for every format
// variant in tests/fixtures/image/decode, and clean errors for bad input.

#include "image/image.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "image_test_util.h"

namespace bcd {
namespace {

namespace fs = std::filesystem;

std::string decode_dir() { return test::fixture_dir() + "/decode/"; }

std::vector<std::uint8_t> fixture_bytes(const std::string& name) {
  return read_file_bytes(decode_dir() + name);
}

/// The message of the ImageError that decoding `bytes` throws ("" if none).
std::string decode_error(const std::vector<std::uint8_t>& bytes, const std::string& name,
                         const DecodeLimits& limits = {}) {
  try {
    decode_image(bytes.data(), bytes.size(), name, limits);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

std::string write_temp(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const std::string path = testing::TempDir() + "/bcd_image_test_" + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(Image, DecodesEveryVariantLikePillow) {
  const nlohmann::json manifest = test::read_json(test::fixture_dir() + "/manifest.json");
  ASSERT_GE(manifest["decode"].size(), 50u);
  for (const auto& entry : manifest["decode"]) {
    const std::string source = entry["source"];
    SCOPED_TRACE(source);
    if (entry.contains("error")) {  // Pillow refuses the file; the message names the cause
      const std::string message = decode_error(fixture_bytes(source), source);
      std::printf("decode %-36s Pillow error; ours: %s\n", source.c_str(), message.c_str());
      EXPECT_NE(message.find(entry["error"].get<std::string>()), std::string::npos) << message;
      continue;
    }
    const Image expected = test::read_ppm(decode_dir() + entry["expected"].get<std::string>());
    Image actual;
    ASSERT_NO_THROW(actual = load_image(decode_dir() + source));
    const int diff = test::max_abs_diff(actual, expected);
    std::printf("decode %-36s mode %-4s %4dx%-4d max |diff| %d\n", source.c_str(),
                entry["mode"].get<std::string>().c_str(), actual.width, actual.height, diff);
    EXPECT_EQ(diff, 0) << "decoded " << actual.width << "x" << actual.height << ", expected "
                       << expected.width << "x" << expected.height;
  }
}

TEST(Image, ProbeReadsTheStoredSize) {
  const struct {
    const char* name;
    int width;
    int height;
  } cases[] = {{"png_rgb8.png", 37, 23},
               {"jpeg_420.jpg", 37, 23},
               {"jpeg_exif_orientation6.jpg", 37, 23},
               {"bmp_p8_top_down.bmp", 29, 17},
               {"bmp_os2_p8.bmp", 29, 17}};
  for (const auto& c : cases) {
    const std::vector<std::uint8_t> bytes = fixture_bytes(c.name);
    const ImageSize size = probe_image_size(bytes.data(), bytes.size(), c.name);
    EXPECT_EQ(size.width, c.width) << c.name;
    EXPECT_EQ(size.height, c.height) << c.name;
  }
}

TEST(Image, ExifOrientationSwapsSides) {
  const Image upright = load_image(decode_dir() + "jpeg_exif_orientation1.jpg");
  const Image rotated = load_image(decode_dir() + "jpeg_exif_orientation6.jpg");
  EXPECT_EQ(rotated.width, upright.height);
  EXPECT_EQ(rotated.height, upright.width);
}

TEST(Image, TruncatedFilesAreImageErrors) {
  for (const char* name : {"png_rgb8.png", "png_rgb8_interlaced.png", "jpeg_420.jpg",
                           "jpeg_progressive.jpg", "bmp_rgb24.bmp", "bmp_rle8.bmp"}) {
    const std::vector<std::uint8_t> bytes = fixture_bytes(name);
    const std::vector<std::uint8_t> half(bytes.begin(), bytes.begin() + bytes.size() / 2);
    const std::string message = decode_error(half, name);
    EXPECT_NE(message.find(name), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  }
}

TEST(Image, EveryPrefixOfAFileFailsCleanlyOrDecodes) {
  // Cuts at every few bytes must give an ImageError, never a crash or another type.
  for (const char* name : {"png_palette4_interlaced.png", "png_gray16.png", "jpeg_cmyk.jpg",
                           "jpeg_exif_orientation5.jpg", "bmp_rle4.bmp", "bmp_rgb16_565.bmp"}) {
    const std::vector<std::uint8_t> bytes = fixture_bytes(name);
    for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 16) {
      const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + n);
      EXPECT_NO_THROW(decode_error(prefix, name)) << name << " cut at " << n;
    }
  }
}

TEST(Image, TextFileNamedPngIsRejected) {
  const std::string text = "hello, I am not an image\n";
  const std::string path = write_temp("text.png", {text.begin(), text.end()});
  try {
    load_image(path);
    FAIL() << "no error for a text file";
  } catch (const ImageError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": not a PNG, JPEG or BMP image (starts with 'hell')");
  }
}

TEST(Image, EmptyAndMissingFilesAreImageErrors) {
  const std::string path = write_temp("empty.png", {});
  EXPECT_THROW(load_image(path), ImageError);
  EXPECT_NE(decode_error({}, "empty.png").find("empty.png: empty file"), std::string::npos);
  EXPECT_THROW(load_image(testing::TempDir() + "/bcd_no_such_file.png"), ImageError);
}

TEST(Image, HugeDeclaredSizeIsRejectedBeforeDecoding) {
  // A valid PNG signature and IHDR claiming 40000 x 40000, then nothing.
  std::vector<std::uint8_t> png = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0, 0,
                                   13,   'I',  'H', 'D', 'R',  0,    0,    0x9c, 0x40, 0, 0,
                                   0x9c, 0x40, 8,   2,   0,    0,    0,    0,    0,    0, 0};
  const std::string message = decode_error(png, "x.png");
  EXPECT_EQ(message,
            "x.png: 40000x40000 = 1600000000 pixels exceeds the limit of 178956970 pixels");

  DecodeLimits tight;
  tight.max_pixels = 100;
  for (const char* name : {"png_rgb8.png", "jpeg_420.jpg", "bmp_rgb24.bmp"}) {
    EXPECT_NE(decode_error(fixture_bytes(name), name, tight).find("exceeds the limit of 100"),
              std::string::npos)
        << name;
  }
}

/// The CRC-32 that closes a PNG chunk (over its type and data).
std::uint32_t png_crc(const std::uint8_t* bytes, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Image, TinyFileClaimingManyPixelsIsTruncated) {
  // 10000 x 10000 is under the pixel limit; the few bytes that follow cannot hold it.
  std::vector<std::uint8_t> png = fixture_bytes("png_rgb8.png");
  const std::uint8_t side[4] = {0, 0, 0x27, 0x10};
  std::copy(side, side + 4, png.begin() + 16);
  std::copy(side, side + 4, png.begin() + 20);
  const std::uint32_t crc = png_crc(&png[12], 17);  // "IHDR" and its 13 bytes
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  EXPECT_NE(decode_error(png, "big.png").find("big.png: truncated PNG data"), std::string::npos);

  std::vector<std::uint8_t> bmp = fixture_bytes("bmp_rgb24.bmp");
  std::copy(side, side + 4, std::make_reverse_iterator(bmp.begin() + 22));  // width, LE
  std::copy(side, side + 4, std::make_reverse_iterator(bmp.begin() + 26));  // height, LE
  EXPECT_EQ(decode_error(bmp, "big.bmp"), "big.bmp: truncated BMP data");
}

TEST(Image, CorruptPngDataIsAnImageError) {
  std::vector<std::uint8_t> bytes = fixture_bytes("png_rgb8.png");
  for (std::size_t i = 40; i < bytes.size() - 20; i += 7) bytes[i] ^= 0x5a;
  const std::string message = decode_error(bytes, "bad.png");
  EXPECT_EQ(message.rfind("bad.png: ", 0), 0u) << message;
}

TEST(Image, HasImageExtension) {
  EXPECT_TRUE(has_image_extension("a/b/scan.PNG"));
  EXPECT_TRUE(has_image_extension("scan.jpeg"));
  EXPECT_TRUE(has_image_extension("scan.Jpg"));
  EXPECT_TRUE(has_image_extension("scan.bmp"));
  EXPECT_FALSE(has_image_extension("scan.png.txt"));
  EXPECT_FALSE(has_image_extension("png"));
  EXPECT_FALSE(has_image_extension("scan.dcm"));
}

TEST(Image, EncodePngRoundTrips) {
  const Image original = test::make_pattern(31, 17, 4);
  const std::vector<std::uint8_t> png = encode_png(original);
  const Image decoded = decode_image(png.data(), png.size(), "round-trip.png");
  EXPECT_EQ(test::max_abs_diff(original, decoded), 0);
  EXPECT_THROW(encode_png(Image{}), OutputError);
}

}  // namespace
}  // namespace bcd
