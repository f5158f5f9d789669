#!/usr/bin/python3
"""Writes the ViT test fixtures under tests/fixtures/model/.

The reference is Hugging Face transformers' ViTForImageClassification forward
pass, restated here in plain PyTorch (transformers itself is not installed):
pre-norm blocks, exact erf GELU, LayerNorm eps from the config, the CLS token
through the final LayerNorm into the classifier. Weights are random but
seeded, so the script writes the same files every time.

Each model folder is a Hugging Face model directory (config.json,
preprocessor_config.json, model.safetensors) plus reference.safetensors:
  pixels_u8  [B, C, H, W] U8: inputs; pixel = (u8 / 255 - 0.5) / 0.5 in float32
  logits     [B, L] F32: expected output (features [B, D] for the backbone)
busi_logits.json holds logits of real BUSI images (read from
/work/shared/data/busi, never copied) through ViTImageProcessor's steps.

Usage: /usr/bin/python3 tools/make_vit_fixtures.py [--data DIR] [--out DIR]
"""

import argparse
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

LABELS = ["benign", "malignant", "normal"]

# name -> (config overrides, stored dtype, batch size, kind)
MODELS = {
    "vit_h64_i32": (dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=128, image_size=32, patch_size=8), "F32", 3, "classifier"),
    "vit_h48_i224": (dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
                          intermediate_size=96, image_size=224, patch_size=16,
                          layer_norm_eps=1e-6), "F32", 2, "classifier"),
    "vit_h64_i32_f16": (dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=128, image_size=32, patch_size=8), "F16", 3,
                        "classifier"),
    "vit_h32_i48_bf16": (dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=64, image_size=48, patch_size=12, qkv_bias=False,
                              layer_norm_eps=1e-6, labels=["negative", "positive"]), "BF16", 3,
                         "classifier"),
    "vitmodel_h32_i32_backbone": (dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                       intermediate_size=64, image_size=32, patch_size=8,
                                       labels=[]), "F32", 2, "backbone"),
}
BUSI_MODEL = "vit_h48_i224"
BUSI_IMAGES = ["benign/benign (1).png", "benign/benign (2).png", "malignant/malignant (1).png",
               "normal/normal (1).png"]

DTYPE_CODES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
               "U8": (torch.uint8, 1)}


def make_config(overrides):
    cfg = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
               intermediate_size=3072, image_size=224, patch_size=16, num_channels=3,
               layer_norm_eps=1e-12, qkv_bias=True, labels=LABELS)
    cfg.update(overrides)
    return cfg


def config_json(cfg, kind):
    """config.json as transformers writes it (sorted keys, indent 2)."""
    out = {
        "architectures": ["ViTForImageClassification" if kind == "classifier" else "ViTModel"],
        "attention_probs_dropout_prob": 0.0,
        "encoder_stride": cfg["patch_size"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": cfg["hidden_size"],
        "image_size": cfg["image_size"],
        "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"],
        "layer_norm_eps": cfg["layer_norm_eps"],
        "model_type": "vit",
        "num_attention_heads": cfg["num_attention_heads"],
        "num_channels": cfg["num_channels"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "patch_size": cfg["patch_size"],
        "qkv_bias": cfg["qkv_bias"],
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
    }
    if cfg["labels"]:
        out["id2label"] = {str(i): name for i, name in enumerate(cfg["labels"])}
        out["label2id"] = {name: i for i, name in enumerate(cfg["labels"])}
    return json.dumps(out, indent=2, sort_keys=True) + "\n"


def preprocessor_json(size):
    out = {
        "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "ViTImageProcessor",
        "image_std": [0.5, 0.5, 0.5], "resample": 2, "rescale_factor": 1 / 255,
        "size": {"height": size, "width": size},
    }
    return json.dumps(out, indent=2, sort_keys=True) + "\n"


def random_weights(cfg, gen, with_classifier, with_pooler):
    """HF-named random weights, scaled so that every block changes the output visibly."""
    d, f, c, p = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_channels"], cfg["patch_size"]
    n_tokens = (cfg["image_size"] // p) ** 2 + 1

    def normal(*shape, std=1.0):
        return torch.randn(*shape, generator=gen) * std

    w = {
        "vit.embeddings.cls_token": normal(1, 1, d, std=0.5),
        "vit.embeddings.position_embeddings": normal(1, n_tokens, d, std=0.5),
        "vit.embeddings.patch_embeddings.projection.weight": normal(d, c, p, p,
                                                                    std=1 / math.sqrt(c * p * p)),
        "vit.embeddings.patch_embeddings.projection.bias": normal(d, std=0.1),
        "vit.layernorm.weight": 1 + normal(d, std=0.1),
        "vit.layernorm.bias": normal(d, std=0.1),
    }
    linears = {"attention.attention.query": (d, d), "attention.attention.key": (d, d),
               "attention.attention.value": (d, d), "attention.output.dense": (d, d),
               "intermediate.dense": (f, d), "output.dense": (d, f)}
    for i in range(cfg["num_hidden_layers"]):
        prefix = f"vit.encoder.layer.{i}."
        for name, (n_out, n_in) in linears.items():
            w[prefix + name + ".weight"] = normal(n_out, n_in, std=1 / math.sqrt(n_in))
            if cfg["qkv_bias"] or not name.startswith("attention.attention."):
                w[prefix + name + ".bias"] = normal(n_out, std=0.1)
        for norm in ("layernorm_before", "layernorm_after"):
            w[prefix + norm + ".weight"] = 1 + normal(d, std=0.1)
            w[prefix + norm + ".bias"] = normal(d, std=0.1)
    if with_classifier:
        w["classifier.weight"] = normal(len(cfg["labels"]), d, std=1 / math.sqrt(d))
        w["classifier.bias"] = normal(len(cfg["labels"]), std=0.1)
    if with_pooler:
        w["vit.pooler.dense.weight"] = normal(d, d, std=1 / math.sqrt(d))
        w["vit.pooler.dense.bias"] = normal(d, std=0.1)
    return w


def vit_features(w, cfg, pixels):
    """ViTModel's last_hidden_state[:, 0] (CLS after the final LayerNorm), float32."""
    d, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    head_size = d // heads
    x = F.conv2d(pixels, w["vit.embeddings.patch_embeddings.projection.weight"],
                 w["vit.embeddings.patch_embeddings.projection.bias"], stride=cfg["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    b = x.shape[0]
    x = torch.cat([w["vit.embeddings.cls_token"].expand(b, -1, -1), x], dim=1)
    x = x + w["vit.embeddings.position_embeddings"]
    n = x.shape[1]

    def heads_first(t):
        return t.view(b, n, heads, head_size).permute(0, 2, 1, 3)

    for i in range(cfg["num_hidden_layers"]):
        p = f"vit.encoder.layer.{i}."
        h = F.layer_norm(x, (d,), w[p + "layernorm_before.weight"], w[p + "layernorm_before.bias"],
                         eps)
        q, k, v = (heads_first(F.linear(h, w[p + f"attention.attention.{m}.weight"],
                                        w.get(p + f"attention.attention.{m}.bias")))
                   for m in ("query", "key", "value"))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_size)
        context = torch.matmul(scores.softmax(dim=-1), v).permute(0, 2, 1, 3).reshape(b, n, d)
        x = F.linear(context, w[p + "attention.output.dense.weight"],
                     w[p + "attention.output.dense.bias"]) + x
        h = F.layer_norm(x, (d,), w[p + "layernorm_after.weight"], w[p + "layernorm_after.bias"],
                         eps)
        h = F.gelu(F.linear(h, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
        x = F.linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"]) + x
    x = F.layer_norm(x, (d,), w["vit.layernorm.weight"], w["vit.layernorm.bias"], eps)
    return x[:, 0]


def vit_logits(w, cfg, pixels):
    return F.linear(vit_features(w, cfg, pixels), w["classifier.weight"], w["classifier.bias"])


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 LE header length, JSON header padded to 8, raw LE data."""
    names = sorted(tensors, key=lambda n: (-DTYPE_CODES[tensors[n][0]][1], n))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in names:
        dtype, tensor = tensors[name]
        torch_dtype, _ = DTYPE_CODES[dtype]
        t = tensor.to(torch_dtype).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if torch_dtype == torch.bfloat16 \
            else t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def pixels_from_u8(u8):
    """ViTImageProcessor's rescale (float64 product, cast to float32) and normalise."""
    x = torch.from_numpy((u8.numpy().astype(np.float64) * (1 / 255)).astype(np.float32))
    return (x - 0.5) / 0.5


def round_trip(w, dtype):
    """The weights as the model will see them after storing them in `dtype`."""
    torch_dtype = DTYPE_CODES[dtype][0]
    return {k: v.to(torch_dtype).to(torch.float32) for k, v in w.items()}


def write_model(out_dir, name, spec, seed):
    overrides, dtype, batch, kind = spec
    cfg = make_config(overrides)
    gen = torch.Generator().manual_seed(seed)
    backbone = kind == "backbone"
    w = round_trip(random_weights(cfg, gen, not backbone, backbone), dtype)
    size = cfg["image_size"]
    u8 = torch.randint(0, 256, (batch, cfg["num_channels"], size, size), generator=gen,
                       dtype=torch.uint8)
    with torch.no_grad():
        pixels = pixels_from_u8(u8)
        expected = vit_features(w, cfg, pixels) if backbone else vit_logits(w, cfg, pixels)

    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    # transformers saves a bare ViTModel without the "vit." prefix.
    stored = {(k[len("vit."):] if backbone else k): (dtype, v) for k, v in w.items()}
    write_safetensors(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(config_json(cfg, kind))
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        f.write(preprocessor_json(size))
    write_safetensors(os.path.join(folder, "reference.safetensors"),
                      {"pixels_u8": ("U8", u8), "logits": ("F32", expected)})
    return cfg, w


def busi_pixels(path, size):
    """ViTImageProcessor on one file: RGB, Pillow bilinear resize, rescale, normalise."""
    with Image.open(path) as im:
        rgb = im.convert("RGB").resize((size, size), resample=Image.BILINEAR)
    u8 = torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1)
    return pixels_from_u8(u8)


def write_busi_logits(out_dir, data_dir, cfg, w):
    entries = []
    for rel in BUSI_IMAGES:
        pixels = busi_pixels(os.path.join(data_dir, "busi", rel), cfg["image_size"])
        with torch.no_grad():
            logits = vit_logits(w, cfg, pixels.unsqueeze(0))[0]
        entries.append({"image": "busi/" + rel, "logits": [float(v) for v in logits]})
    out = {"model": BUSI_MODEL, "tolerance": 1e-4, "images": entries}
    with open(os.path.join(out_dir, "busi_logits.json"), "w") as f:
        f.write(json.dumps(out, indent=2) + "\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(root, "..", "shared", "data"))
    parser.add_argument("--out", default=os.path.join(root, "tests", "fixtures", "model"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = {}
    for seed, (name, spec) in enumerate(MODELS.items()):
        models[name] = write_model(args.out, name, spec, seed=1000 + seed)
    if os.path.isdir(os.path.join(args.data, "busi")):
        write_busi_logits(args.out, args.data, *models[BUSI_MODEL])
    else:
        print(f"warning: {args.data}/busi not found; busi_logits.json not written")


if __name__ == "__main__":
    main()
