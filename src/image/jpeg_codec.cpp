// JPEG through libjpeg-turbo with the settings Pillow 9.4 leaves at their
// defaults (ISLOW integer IDCT, fancy upsampling, the library's own colour
// space guess), so the pixels are the ones Pillow gets from the same library.
// Gray JPEGs are replicated into R, G and B; CMYK JPEGs are read inverted
// (Pillow's "CMYK;I") and converted with Pillow's cmyk2rgb.
//
// libjpeg reports errors through error_exit, which here longjmps back into a
// small function that owns the setjmp and holds no C++ objects with destructors.

#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>

#include "image/codecs.h"

namespace bcd::detail {
namespace {

struct JpegSession {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  jpeg_source_mgr src{};
  std::jmp_buf jump{};
  char error[JMSG_LENGTH_MAX] = {};
  const std::uint8_t* data = nullptr;
  std::size_t n_bytes = 0;
  bool created = false;
  bool hit_eof = false;
  JDIMENSION lines_at_eof = 0;  // scanlines handed out when the data ran out
};

JpegSession* session_of(j_common_ptr cinfo) {
  return reinterpret_cast<JpegSession*>(reinterpret_cast<char*>(cinfo->err) -
                                        offsetof(JpegSession, err));
}

void on_error_exit(j_common_ptr cinfo) {
  JpegSession* s = session_of(cinfo);
  (*cinfo->err->format_message)(cinfo, s->error);
  std::longjmp(s->jump, 1);
}

void on_message(j_common_ptr, int) {}
void on_output(j_common_ptr) {}
void on_init_source(j_decompress_ptr) {}
void on_term_source(j_decompress_ptr) {}

/// Past the end of the data: hand libjpeg a fake EOI (as its stdio source does)
/// and note how far decoding had got, so a short file becomes an error.
boolean on_fill_input(j_decompress_ptr cinfo) {
  static const JOCTET kEoi[2] = {0xFF, JPEG_EOI};
  JpegSession* s = session_of(reinterpret_cast<j_common_ptr>(cinfo));
  if (!s->hit_eof) {
    s->hit_eof = true;
    s->lines_at_eof = cinfo->output_scanline;
  }
  cinfo->src->next_input_byte = kEoi;
  cinfo->src->bytes_in_buffer = 2;
  return TRUE;
}

void on_skip_input(j_decompress_ptr cinfo, long n) {
  if (n <= 0) return;
  jpeg_source_mgr* src = cinfo->src;
  while (n > static_cast<long>(src->bytes_in_buffer)) {
    n -= static_cast<long>(src->bytes_in_buffer);
    on_fill_input(cinfo);
  }
  src->next_input_byte += n;
  src->bytes_in_buffer -= static_cast<std::size_t>(n);
}

bool read_header(JpegSession* s) {
  s->cinfo.err = jpeg_std_error(&s->err);
  s->err.error_exit = on_error_exit;
  s->err.emit_message = on_message;
  s->err.output_message = on_output;
  if (setjmp(s->jump)) return false;
  jpeg_create_decompress(&s->cinfo);
  s->created = true;
  s->src.next_input_byte = s->data;
  s->src.bytes_in_buffer = s->n_bytes;
  s->src.init_source = on_init_source;
  s->src.fill_input_buffer = on_fill_input;
  s->src.skip_input_data = on_skip_input;
  s->src.resync_to_restart = jpeg_resync_to_restart;
  s->src.term_source = on_term_source;
  s->cinfo.src = &s->src;
  jpeg_save_markers(&s->cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&s->cinfo, TRUE);
  return true;
}

bool read_pixels(JpegSession* s, std::uint8_t* out, std::size_t row_bytes) {
  if (setjmp(s->jump)) return false;
  jpeg_start_decompress(&s->cinfo);
  // Once the data has run out the result is an error; stop rather than decode
  // the rest of a possibly huge image from nothing.
  while (s->cinfo.output_scanline < s->cinfo.output_height && !s->hit_eof) {
    JSAMPROW row = out + std::size_t(s->cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&s->cinfo, &row, 1);
  }
  return true;
}

struct DestroyGuard {
  JpegSession* s;
  ~DestroyGuard() {
    if (s->created) jpeg_destroy_decompress(&s->cinfo);
  }
};

/// Orientation from the first APP1 segment that starts with "Exif\0" (Pillow keeps the first).
int jpeg_orientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 5 &&
        std::memcmp(m->data, "Exif\0", 5) == 0) {
      return exif_orientation(m->data, m->data_length);
    }
  }
  return 0;
}

/// Pillow's cmyk2rgb on inverted ("CMYK;I") samples: each channel is
/// (255 - K) - C * (255 - K) / 255 with Pillow's rounding division by 255.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::size_t n_pixels, std::uint8_t* rgb) {
  for (std::size_t i = 0; i < n_pixels; ++i, cmyk += 4, rgb += 3) {
    const int nk = cmyk[3];  // inverted K is already 255 - K
    for (int c = 0; c < 3; ++c) {
      const int tmp = (255 - cmyk[c]) * nk + 128;
      const int v = nk - (((tmp >> 8) + tmp) >> 8);
      rgb[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v);
    }
  }
}

void choose_output(JpegSession& s, const std::string& name) {
  if (s.cinfo.data_precision != 8) {
    fail(name, "unsupported JPEG: " + std::to_string(s.cinfo.data_precision) +
                   "-bit samples (only 8-bit is supported)");
  }
  switch (s.cinfo.num_components) {
    case 1:
      s.cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case 3:
      s.cinfo.out_color_space = JCS_RGB;
      break;
    case 4:
      s.cinfo.out_color_space = JCS_CMYK;
      break;
    default:
      fail(name, "unsupported JPEG: " + std::to_string(s.cinfo.num_components) +
                     " components (expected 1, 3 or 4)");
  }
}

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }

}  // namespace

ImageSize probe_jpeg(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  std::size_t at = 2;
  while (true) {
    while (at < n_bytes && data[at] != 0xFF) ++at;
    while (at < n_bytes && data[at] == 0xFF) ++at;
    if (at >= n_bytes) fail(name, "truncated JPEG data (no frame header)");
    const std::uint8_t marker = data[at++];
    if ((marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) continue;  // no length field
    if (marker == 0xD9 || marker == 0xDA) fail(name, "broken JPEG: no frame header before scan");
    if (at + 2 > n_bytes) fail(name, "truncated JPEG data (no frame header)");
    const std::uint32_t length = be16(data + at);
    const bool is_frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_frame) {
      if (at + 7 > n_bytes) fail(name, "truncated JPEG data (short frame header)");
      return {static_cast<int>(be16(data + at + 5)), static_cast<int>(be16(data + at + 3))};
    }
    at += length;
  }
}

Decoded decode_jpeg(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                    const DecodeLimits& limits) {
  check_size(probe_jpeg(data, n_bytes, name), limits, name);
  JpegSession s;
  s.data = data;
  s.n_bytes = n_bytes;
  DestroyGuard guard{&s};
  // Errors after the data ran out come from the fake EOI: report the real cause.
  if (!read_header(&s))
    fail(name, s.hit_eof ? "truncated JPEG data" : "broken JPEG: " + std::string(s.error));
  if (s.hit_eof) fail(name, "truncated JPEG data (header incomplete)");
  check_size({static_cast<int>(s.cinfo.image_width), static_cast<int>(s.cinfo.image_height)},
             limits, name);
  choose_output(s, name);

  const int channels = s.cinfo.num_components;
  const std::size_t n_pixels = std::size_t(s.cinfo.image_width) * s.cinfo.image_height;
  std::vector<std::uint8_t> samples(n_pixels * channels);
  if (!read_pixels(&s, samples.data(), std::size_t(s.cinfo.image_width) * channels)) {
    fail(name, s.hit_eof ? "truncated JPEG data" : "broken JPEG: " + std::string(s.error));
  }
  if (s.hit_eof && s.lines_at_eof < s.cinfo.output_height) fail(name, "truncated JPEG data");

  Decoded out;
  out.image.width = static_cast<int>(s.cinfo.output_width);
  out.image.height = static_cast<int>(s.cinfo.output_height);
  out.orientation = jpeg_orientation(s.cinfo);
  if (channels == 3) {
    out.image.rgb = std::move(samples);
  } else if (channels == 1) {
    out.image.rgb.resize(n_pixels * 3);
    for (std::size_t i = 0; i < n_pixels; ++i) {
      std::memset(&out.image.rgb[i * 3], samples[i], 3);
    }
  } else {
    out.image.rgb.resize(n_pixels * 3);
    cmyk_to_rgb(samples.data(), n_pixels, out.image.rgb.data());
  }
  return out;
}

}  // namespace bcd::detail
