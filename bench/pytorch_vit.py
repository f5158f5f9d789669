#!/usr/bin/python3
"""PyTorch side of bench/speed_vs_pytorch.sh.

  make-model DIR [--size base]   write a random-weight ViT model directory (F32)
  time DIR --batch B --threads T [--iterations N] [--warmup W]
                                 time PyTorch eager on that model; prints one line
                                 "batch=B threads=T median_ms=M min_ms=M"
  predict DIR IMAGE... --threads T
                                 what `bcd predict --batch-size 1` does, one image at a
                                 time: Pillow decode (EXIF transpose, RGB), BILINEAR resize,
                                 rescale and normalise, forward, softmax; prints the scores
                                 as JSON on stdout and "wall_ms=... per_image_ms=..." on stderr

The forward pass is the plain-PyTorch restatement of transformers'
ViTForImageClassification in tools/make_vit_fixtures.py (the same operations
transformers runs, without its Python module overhead), under
torch.inference_mode().
"""

import argparse
import importlib.util
import json
import os
import struct
import sys
import time

import numpy as np
import torch

SIZES = {
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072),
    "small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                  intermediate_size=1536),
    "tiny": dict(hidden_size=192, num_hidden_layers=12, num_attention_heads=3,
                 intermediate_size=768),
}


def fixtures_module():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tools", "make_vit_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_vit_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_model(args):
    fx = fixtures_module()
    cfg = fx.make_config(dict(SIZES[args.size], image_size=224, patch_size=16))
    weights = fx.random_weights(cfg, torch.Generator().manual_seed(0), True, False)
    os.makedirs(args.dir, exist_ok=True)
    fx.write_safetensors(os.path.join(args.dir, "model.safetensors"),
                         {k: ("F32", v) for k, v in weights.items()}, {"format": "pt"})
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        f.write(fx.config_json(cfg, "classifier"))
    with open(os.path.join(args.dir, "preprocessor_config.json"), "w") as f:
        f.write(fx.preprocessor_json(cfg["image_size"]))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=np.float32).reshape(entry["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def time_model(args):
    fx = fixtures_module()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, "config.json")) as f:
        raw_cfg = json.load(f)
    cfg = fx.make_config({k: raw_cfg[k] for k in (
        "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "image_size", "patch_size", "layer_norm_eps", "qkv_bias")})
    weights = read_safetensors(os.path.join(args.dir, "model.safetensors"))
    torch.manual_seed(0)
    size = cfg["image_size"]
    pixels = torch.rand(args.batch, 3, size, size) * 2 - 1
    times_ms = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            fx.vit_logits(weights, cfg, pixels)
        for _ in range(args.iterations):
            start = time.perf_counter()
            fx.vit_logits(weights, cfg, pixels)
            times_ms.append((time.perf_counter() - start) * 1000)
    times_ms.sort()
    print(f"batch={args.batch} threads={args.threads} "
          f"median_ms={times_ms[len(times_ms) // 2]:.1f} min_ms={times_ms[0]:.1f}")


def load_model(model_dir):
    fx = fixtures_module()
    with open(os.path.join(model_dir, "config.json")) as f:
        raw_cfg = json.load(f)
    cfg = fx.make_config({k: raw_cfg[k] for k in (
        "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "image_size", "patch_size", "layer_norm_eps", "qkv_bias")})
    labels = [raw_cfg["id2label"][str(i)] for i in range(len(raw_cfg["id2label"]))]
    return fx, cfg, labels, read_safetensors(os.path.join(model_dir, "model.safetensors"))


def pixel_values(path, size):
    """ViTImageProcessor on transformers' load_image result (mean = std = 0.5)."""
    from PIL import Image, ImageOps
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    array = np.asarray(image.resize((size, size), Image.BILINEAR))
    scaled = (array.astype(np.float64) * (1 / 255)).astype(np.float32)
    normalised = (scaled - np.float32(0.5)) / np.float32(0.5)
    return torch.from_numpy(normalised.transpose(2, 0, 1).copy()).unsqueeze(0)


def predict(args):
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    fx, cfg, labels, weights = load_model(args.dir)
    loaded = time.perf_counter()
    results = []
    with torch.inference_mode():
        for path in args.images:
            logits = fx.vit_logits(weights, cfg, pixel_values(path, cfg["image_size"]))
            probs = torch.softmax(logits[0].double(), dim=0)
            order = sorted(range(len(labels)), key=lambda i: (-probs[i].item(), i))
            results.append({"path": path, "scores": [
                {"label": labels[i], "score": probs[i].item()} for i in order]})
    end = time.perf_counter()
    json.dump(results, sys.stdout)
    print(f"wall_ms={(end - start) * 1000:.1f} "
          f"per_image_ms={(end - loaded) * 1000 / len(args.images):.1f}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-model")
    make.add_argument("dir")
    make.add_argument("--size", choices=sorted(SIZES), default="base")
    timing = sub.add_parser("time")
    timing.add_argument("dir")
    timing.add_argument("--batch", type=int, default=1)
    timing.add_argument("--threads", type=int, default=1)
    timing.add_argument("--iterations", type=int, default=10)
    timing.add_argument("--warmup", type=int, default=2)
    pred = sub.add_parser("predict")
    pred.add_argument("dir")
    pred.add_argument("images", nargs="+")
    pred.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    {"make-model": make_model, "time": time_model, "predict": predict}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
