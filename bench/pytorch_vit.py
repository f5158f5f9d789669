#!/usr/bin/python3
"""PyTorch side of bench/speed_vs_pytorch.sh.

  make-model DIR [--size base]   write a random-weight ViT model directory (F32)
  time DIR --batch B --threads T [--iterations N] [--warmup W]
                                 time PyTorch eager on that model; prints one line
                                 "batch=B threads=T median_ms=M min_ms=M"

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
    args = parser.parse_args()
    make_model(args) if args.command == "make-model" else time_model(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
