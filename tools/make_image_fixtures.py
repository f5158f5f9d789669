#!/usr/bin/python3
"""Golden data for tests/image, made with Pillow 9.4 (Debian's python3-pil).

Run from the repository root with Debian's interpreter:

    /usr/bin/python3 tools/make_image_fixtures.py [--busi DIR]

Writes tests/fixtures/image/:
  decode/<case>.<png|jpg|bmp>   small source images of every format variant
  decode/<case>.ppm             what transformers' load_image gives for it:
                                ImageOps.exif_transpose(Image.open(f)).convert("RGB")
  resize/<w>x<h>.png            Pillow's resize((224, 224), BILINEAR) of the synthetic
                                pattern of that size (the pattern itself is regenerated
                                by the C++ test from the same integer formula); every
                                size also has a SHA-256 and sampled pixels in manifest.json
  preprocess/...                ViTImageProcessor pixel values (float32), see make_preprocess
  busi_expected.json            digests of BUSI's original-size images, decoded and resized
                                (the images themselves are data and are never committed)
  manifest.json                 the list of cases and what each one checks
"""

import argparse
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "image"
RESIZE_SIZES = [
    (7, 5), (1, 1), (1, 300), (300, 1), (13, 224), (224, 13), (100, 100), (150, 223),
    (223, 224), (224, 224), (225, 225), (224, 300), (256, 256), (300, 200), (333, 517),
    (448, 448), (449, 447), (500, 375), (640, 480), (672, 673), (800, 600), (1000, 700),
    (1048, 190), (190, 1048),
]
# Sizes whose whole expected output is committed as a PNG; the others are checked
# through a SHA-256 digest plus sampled pixels (keeps the fixtures well under 1 MB).
FULL_SIZES = {(7, 5), (1, 1), (1, 300), (300, 1), (13, 224), (224, 13), (100, 100),
              (225, 225), (333, 517), (1000, 700), (1048, 190)}


# --------------------------------------------------------------------------- patterns

def pattern(width, height, seed=0):
    """Deterministic RGB test pattern from 32-bit integer arithmetic only, so the
    C++ test (tests/image/image_test_util.h, make_pattern) rebuilds it bit for bit:
    gradients, an 8-pixel checkerboard and hashed noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.uint32)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    for c in range(3):
        h = (x * np.uint32(73856093)) ^ (y * np.uint32(19349663)) ^ np.uint32(
            (c * 83492791 + seed * 2654435761) & 0xFFFFFFFF)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0x5BD1E995)
        h ^= h >> np.uint32(15)
        noise = (h & np.uint32(7)).astype(np.int64)
        xi = x.astype(np.int64)
        yi = y.astype(np.int64)
        if c == 0:
            base = xi * 191 // max(width - 1, 1)
        elif c == 1:
            base = yi * 191 // max(height - 1, 1)
        else:
            base = ((xi // 8 + yi // 8) % 2) * 191
        out[:, :, c] = (base + noise).astype(np.uint8)
    return out


# --------------------------------------------------------------------------- PNG writer

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_rows(samples, bit_depth):
    """samples: (h, w * channels) integer array -> list of packed row bytes."""
    rows = []
    for row in samples:
        if bit_depth == 16:
            rows.append(row.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(row.astype(np.uint8).tobytes())
        else:
            per_byte = 8 // bit_depth
            padded = np.zeros(-(-len(row) // per_byte) * per_byte, dtype=np.uint8)
            padded[: len(row)] = row
            packed = np.zeros(len(padded) // per_byte, dtype=np.uint8)
            for i in range(per_byte):
                packed |= (padded[i::per_byte] << (8 - bit_depth * (i + 1))).astype(np.uint8)
            rows.append(packed.tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def write_png(path, samples, color_type, bit_depth, interlace=False, palette=None,
              trns=None, extra_chunks=()):
    """samples: (h, w, channels) array of raw sample values. Filter type varies per
    row (0..4 cycled through 'None' and 'Sub'-style raw filter 0 only, to keep this
    simple: libpng's filter code is not what is under test)."""
    height, width, channels = samples.shape
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, int(interlace))
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in pack_rows(sub.reshape(sub.shape[0], -1), bit_depth):
            raw += b"\x00" + row
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    for kind, payload in extra_chunks:
        data += png_chunk(kind, payload)
    if palette is not None:
        data += png_chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).ravel()))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    Path(path).write_bytes(data)


def noise(shape, high, seed):
    return np.random.default_rng(seed).integers(0, high, size=shape)


def png_cases(d):
    w, h = 37, 23
    rng_palette = noise((256, 3), 256, 7)
    cases = {}
    for depth in (1, 2, 4, 8):
        cases[f"png_gray{depth}"] = (noise((h, w, 1), 1 << depth, depth), 0, depth, {})
    grey16 = noise((h, w, 1), 65536, 16)
    grey16[:, :8] = noise((h, 8, 1), 400, 17)  # low values show clipping vs scaling
    cases["png_gray16"] = (grey16, 0, 16, {})
    cases["png_gray16_low"] = (noise((h, w, 1), 300, 18), 0, 16, {})
    cases["png_gray8_trns"] = (noise((h, w, 1), 256, 19), 0, 8, {"trns": b"\x00\x10"})
    cases["png_gray_alpha8"] = (noise((h, w, 2), 256, 20), 4, 8, {})
    cases["png_gray_alpha16"] = (noise((h, w, 2), 65536, 21), 4, 16, {})
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        cases[f"png_palette{depth}"] = (noise((h, w, 1), n, 30 + depth), 3, depth,
                                        {"palette": rng_palette[:n]})
    cases["png_palette8_trns"] = (noise((h, w, 1), 256, 40), 3, 8,
                                  {"palette": rng_palette, "trns": bytes(range(0, 256, 3))})
    # Indices past a 10-entry PLTE: Pillow reads its default grey ramp there.
    cases["png_palette8_short"] = (noise((h, w, 1), 40, 41), 3, 8,
                                   {"palette": rng_palette[:10]})
    cases["png_rgb8"] = (pattern(w, h, 1), 2, 8, {})
    cases["png_rgb8_trns"] = (pattern(w, h, 2), 2, 8, {"trns": b"\x00\x01\x00\x02\x00\x03"})
    cases["png_rgb16"] = (noise((h, w, 3), 65536, 42), 2, 16, {})
    cases["png_rgba8"] = (noise((h, w, 4), 256, 43), 6, 8, {})
    cases["png_rgba16"] = (noise((h, w, 4), 65536, 44), 6, 16, {})
    cases["png_rgb8_interlaced"] = (pattern(w, h, 3), 2, 8, {"interlace": True})
    cases["png_gray2_interlaced"] = (noise((h, w, 1), 4, 45), 0, 2, {"interlace": True})
    cases["png_gray16_interlaced"] = (noise((h, w, 1), 1024, 46), 0, 16, {"interlace": True})
    cases["png_palette4_interlaced"] = (noise((h, w, 1), 16, 47), 3, 4,
                                        {"interlace": True, "palette": rng_palette[:16]})
    names = []
    for name, (samples, color_type, depth, options) in cases.items():
        write_png(d / f"{name}.png", np.asarray(samples), color_type, depth, **options)
        names.append(f"{name}.png")
    return names


# --------------------------------------------------------------------------- JPEG

def exif_bytes(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def jpeg_cases(d):
    src = Image.fromarray(pattern(37, 23, 5))
    smooth = Image.fromarray(pattern(64, 48, 6)).resize((41, 29), Image.BILINEAR)
    specs = {
        "jpeg_420": (src, dict(quality=90)),
        "jpeg_444": (src, dict(quality=95, subsampling=0)),
        "jpeg_422": (smooth, dict(quality=80, subsampling=1)),
        "jpeg_progressive": (smooth, dict(quality=85, progressive=True)),
        "jpeg_restart": (src, dict(quality=70, restart_marker_blocks=2)),
        "jpeg_gray": (src.convert("L"), dict(quality=90)),
        "jpeg_cmyk": (smooth.convert("CMYK"), dict(quality=90)),
    }
    names = []
    for name, (image, options) in specs.items():
        image.save(d / f"{name}.jpg", "JPEG", **options)
        names.append(f"{name}.jpg")
    for orientation in range(1, 9):
        name = f"jpeg_exif_orientation{orientation}.jpg"
        src.save(d / name, "JPEG", quality=90, exif=exif_bytes(orientation))
        names.append(name)
    return names


def png_orientation_cases(d):
    src = Image.fromarray(pattern(13, 7, 8))
    names = []
    src.save(d / "png_exif_orientation6.png", exif=exif_bytes(6))
    names.append("png_exif_orientation6.png")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp",
                  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description '
                  'tiff:Orientation="8"/></x:xmpmeta>')
    src.save(d / "png_xmp_orientation8.png", pnginfo=info)
    names.append("png_xmp_orientation8.png")
    raw = exif_bytes(3)
    hex_text = "\nexif\n" + f"{len(raw):8d}\n" + raw.hex() + "\n"
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", hex_text, zip=True)
    src.save(d / "png_raw_profile_orientation3.png", pnginfo=info)
    names.append("png_raw_profile_orientation3.png")
    return names


# --------------------------------------------------------------------------- BMP

def bmp_bytes(width, height, bits, pixel_rows, palette=None, compression=0, header_size=40,
              masks=None, top_down=False):
    """A BMP file from already-packed pixel rows (file order)."""
    pixels = b"".join(pixel_rows)
    pal = b""
    if palette is not None:
        entry = 3 if header_size == 12 else 4
        pal = b"".join(bytes([b, g, r] + [0] * (entry - 3)) for r, g, b in palette)
    if header_size == 12:
        header = struct.pack("<IHHHH", 12, width, height, 1, bits)
        extra = b""
    else:
        header = struct.pack("<IiiHHIIiiII", header_size, width, -height if top_down else height,
                             1, bits, compression, len(pixels), 2835, 2835,
                             len(palette) if palette is not None else 0, 0)
        extra = b""
        if header_size > 40:
            m = list(masks or (0, 0, 0, 0)) + [0] * 4
            header += struct.pack("<IIII", *m[:4]) + b"\x00" * (header_size - 56)
        elif masks is not None:
            extra = struct.pack("<III", *masks[:3])
    offset = 14 + len(header) + len(extra) + len(pal)
    file_header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return file_header + header + extra + pal + pixels


def bmp_rows(samples, bits):
    rows = []
    for row in samples:
        if bits >= 8:
            data = row.tobytes()
        else:
            data = pack_rows(row[None, :], bits)[0]
        rows.append(data + b"\x00" * (-len(data) % 4))
    return rows


def rle8(indices):
    """Encoded runs, an absolute run and end-of-line codes, rows bottom-up."""
    out = b""
    for row in indices[::-1]:
        x = 0
        while x < len(row):
            if x + 5 <= len(row) and len(row) - x > 8 and x % 3 == 0:
                chunk = bytes(row[x:x + 5])
                out += b"\x00\x05" + chunk + b"\x00"  # absolute run, padded to 16 bits
                x += 5
            else:
                run = 1
                while x + run < len(row) and row[x + run] == row[x] and run < 255:
                    run += 1
                out += bytes([run, row[x]])
                x += run
        out += b"\x00\x00"
    return [out + b"\x00\x01"]


def rle4(indices):
    out = b""
    for row in indices[::-1]:
        x = 0
        while x < len(row):
            n = min(6, len(row) - x)
            if n == 6 and x % 2 == 0:
                packed = bytes((row[x + i] << 4) | row[x + i + 1] for i in range(0, 6, 2))
                out += b"\x00\x06" + packed + b"\x00"
            else:
                n = min(3, len(row) - x)
                out += bytes([n, (row[x] << 4) | row[x]])
            x += n
        out += b"\x00\x00"
    return [out + b"\x00\x01"]


def bmp_cases(d):
    w, h = 29, 17
    rgb = pattern(w, h, 9)
    palette = [tuple(int(v) for v in p) for p in noise((256, 3), 256, 50)]
    files = {}
    Image.fromarray(rgb).save(d / "bmp_rgb24.bmp")
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=200).save(d / "bmp_p8.bmp")
    Image.fromarray(rgb).convert("L").save(d / "bmp_l8.bmp")
    Image.fromarray(rgb).convert("1").save(d / "bmp_1bit.bmp")
    idx4 = noise((h, w), 16, 51).astype(np.uint8)
    idx8 = noise((h, w), 256, 52).astype(np.uint8)
    bgrx = np.concatenate([rgb[:, :, ::-1], noise((h, w, 1), 256, 53).astype(np.uint8)], axis=2)
    v555 = noise((h, w), 1 << 15, 54).astype("<u2")
    v565 = noise((h, w), 1 << 16, 55).astype("<u2")
    flip = lambda a: a[::-1]  # noqa: E731 -- bottom-up file order
    files["bmp_p4.bmp"] = bmp_bytes(w, h, 4, bmp_rows(flip(idx4), 4), palette[:16])
    files["bmp_p8_top_down.bmp"] = bmp_bytes(w, h, 8, bmp_rows(idx8, 8), palette, top_down=True)
    files["bmp_p8_short_palette.bmp"] = bmp_bytes(w, h, 8, bmp_rows(flip(idx8 % 40), 8),
                                                  palette[:24])
    files["bmp_p8_16_grey_entries.bmp"] = bmp_bytes(
        w, h, 8, bmp_rows(flip(idx4), 8), [(i * 17,) * 3 for i in range(16)])
    files["bmp_os2_p8.bmp"] = bmp_bytes(w, h, 8, bmp_rows(flip(idx8), 8), palette,
                                        header_size=12)
    files["bmp_rgb16_555.bmp"] = bmp_bytes(w, h, 16, bmp_rows(flip(v555), 16))
    files["bmp_rgb16_565.bmp"] = bmp_bytes(w, h, 16, bmp_rows(flip(v565), 16), compression=3,
                                           masks=(0xF800, 0x7E0, 0x1F))
    files["bmp_bgrx32.bmp"] = bmp_bytes(w, h, 32, bmp_rows(flip(bgrx), 32))
    files["bmp_bgra32_v5.bmp"] = bmp_bytes(w, h, 32, bmp_rows(flip(bgrx), 32), compression=3,
                                           header_size=124,
                                           masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000))
    files["bmp_rle8.bmp"] = bmp_bytes(w, h, 8, rle8((idx8 // 32).tolist()), palette,
                                      compression=1)
    files["bmp_rle4.bmp"] = bmp_bytes(w, h, 4, rle4((idx4 // 4).tolist()), palette[:16],
                                      compression=2)
    for name, data in files.items():
        (d / name).write_bytes(data)
    return ["bmp_rgb24.bmp", "bmp_p8.bmp", "bmp_l8.bmp", "bmp_1bit.bmp"] + list(files)


# --------------------------------------------------------------------------- oracles

def load_image_like_transformers(path):
    """transformers.image_utils.load_image for a local file."""
    image = Image.open(path)
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def edge_cases(d):
    """Files at the edges of what Pillow accepts: some decode, some are errors."""
    src = pattern(13, 7, 8)
    raw = b"".join(b"\x00" + row.tobytes() for row in src)
    head = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 13, 7, 8, 2, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(raw))
    exif = png_chunk(b"eXIf", exif_bytes(6)[6:])
    files = {
        "edge_png_exif_after_idat.png": head + idat + exif + png_chunk(b"IEND", b""),
        "edge_png_no_iend.png": head + idat + exif,
        "edge_png_trailing_bytes.png": head + idat + png_chunk(b"IEND", b"") + b"trailing",
        "edge_png_truncated_idat.png": head + idat[: len(idat) // 2],
    }
    jpeg = (d / "jpeg_420.jpg").read_bytes()
    files["edge_jpeg_no_eoi.jpg"] = jpeg[:-2]
    files["edge_jpeg_cut_in_scan.jpg"] = jpeg[: len(jpeg) * 3 // 4]
    buf = io.BytesIO()
    Image.fromarray(pattern(37, 23, 5)).save(buf, "JPEG", exif=exif_bytes(9))
    files["edge_jpeg_orientation9.jpg"] = buf.getvalue()
    for name, data in files.items():
        (d / name).write_bytes(data)
    write_png(d / "edge_png_gray16_trns.png", noise((5, 7, 1), 65536, 60), 0, 16,
              trns=b"\x01\x00")
    write_png(d / "edge_png_gray1_trns.png", noise((5, 7, 1), 2, 61), 0, 1, trns=b"\x00\x01")
    write_png(d / "edge_png_gamma.png", pattern(9, 4, 1), 2, 8,
              extra_chunks=[(b"gAMA", struct.pack(">I", 100000))])
    return list(files) + ["edge_png_gray16_trns.png", "edge_png_gray1_trns.png",
                          "edge_png_gamma.png"]


def make_decode(manifest):
    d = OUT / "decode"
    d.mkdir(parents=True, exist_ok=True)
    names = png_cases(d) + png_orientation_cases(d) + jpeg_cases(d) + bmp_cases(d)
    names += edge_cases(d)
    for name in names:
        try:
            expected = load_image_like_transformers(d / name)
        except OSError as error:  # Pillow refuses it: so must we, with an ImageError
            assert "truncated" in str(error), error
            manifest["decode"].append({"source": name, "error": "truncated"})
            continue
        expected.save(d / (Path(name).stem + ".ppm"))
        manifest["decode"].append({"source": name, "expected": Path(name).stem + ".ppm",
                                   "mode": Image.open(d / name).mode})


def make_resize(manifest):
    d = OUT / "resize"
    d.mkdir(parents=True, exist_ok=True)
    for width, height in RESIZE_SIZES:
        src = Image.fromarray(pattern(width, height))
        out = src.resize((224, 224), Image.BILINEAR, reducing_gap=None)
        entry = {"width": width, "height": height, "seed": 0, "result": digest_entry(out)}
        if (width, height) in FULL_SIZES:
            entry["expected"] = f"{width}x{height}.png"
            out.save(d / entry["expected"], optimize=True)
        manifest["resize"].append(entry)


def vit_pixel_values(image, size, mean, std, rescale_factor=1 / 255):
    """ViTImageProcessor.preprocess as transformers computes it (HWC -> CHW):
    PIL resize, float64 rescale cast to float32, float32 normalise."""
    if image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.BILINEAR, reducing_gap=None)
    array = np.asarray(image)
    rescaled = (array.astype(np.float64) * rescale_factor).astype(np.float32)
    normalised = (rescaled - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1).astype(np.float32))


def make_preprocess(manifest):
    d = OUT / "preprocess"
    d.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pattern(300, 200, 3))
    configs = {
        "imagenet_48x32": {"size": {"height": 32, "width": 48}, "resample": 2,
                           "image_mean": [0.485, 0.456, 0.406],
                           "image_std": [0.229, 0.224, 0.225]},
        "vit_default_224": {"size": 224},
    }
    for name, config in configs.items():
        (d / f"{name}.json").write_text(json.dumps(config, indent=2) + "\n")
        size = config["size"]
        size = (size, size) if isinstance(size, int) else (size["height"], size["width"])
        values = vit_pixel_values(image, size, config.get("image_mean", [0.5] * 3),
                                  config.get("image_std", [0.5] * 3))
        flat = values.ravel()
        entry = {"config": f"{name}.json", "source_width": 300, "source_height": 200,
                 "source_seed": 3, "count": int(flat.size)}
        if flat.size <= 10000:
            (d / f"{name}.f32").write_bytes(flat.astype("<f4").tobytes())
            entry["values"] = f"{name}.f32"
        else:  # every 101st value is enough to pin the arithmetic down
            entry["sampled_every"] = 101
            entry["sampled_values"] = f"{name}.sampled.f32"
            (d / entry["sampled_values"]).write_bytes(flat[::101].astype("<f4").tobytes())
        manifest["preprocess"].append(entry)


def digest_entry(image):
    data = np.asarray(image, dtype=np.uint8)
    h, w, _ = data.shape
    points = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, h // 2), (w // 3, h // 5),
              (2 * w // 3, 3 * h // 4), (w // 7, 6 * h // 7)]
    return {"width": w, "height": h, "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
            "sum": int(data.astype(np.int64).sum()),
            "samples": [[x, y] + [int(v) for v in data[y, x]] for x, y in points]}


def make_busi(busi_dir):
    entries = {}
    for path in sorted(Path(busi_dir).glob("*/*.png")):
        image = load_image_like_transformers(path)
        resized = image.resize((224, 224), Image.BILINEAR, reducing_gap=None)
        key = f"{path.parent.name}/{path.name}"
        entries[key] = {"decoded": digest_entry(image), "resized_224": digest_entry(resized)}
    return entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busi", default=str(ROOT.parent / "shared" / "data" /
                                              "busi-original-sample"))
    args = parser.parse_args()
    manifest = {"pillow": PIL.__version__, "decode": [], "resize": [], "preprocess": []}
    make_decode(manifest)
    make_resize(manifest)
    make_preprocess(manifest)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if Path(args.busi).is_dir():
        busi = {"pillow": PIL.__version__, "images": make_busi(args.busi)}
        (OUT / "busi_expected.json").write_text(json.dumps(busi, indent=1) + "\n")


if __name__ == "__main__":
    main()
