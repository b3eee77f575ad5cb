#!/usr/bin/env python3
"""The tiny-model `train` check of scripts/gpu-check.sh, without numpy or torch:

  tiny_train_check.py dataset DIR      writes three cached images in musubi's layout (latents [4, 1, 4, 6] bf16, T5
                                       [4 + k, 32] bf16: the data of cli's TrainCommandTest) and DIR/ds.toml
  tiny_train_check.py compare A B      compares two `<name>-log.jsonl` loss logs step by step; exit 0 when every loss
                                       agrees within --rtol (default 1e-3), printing the largest difference
"""
import json
import math
import struct
import sys
from pathlib import Path


def bf16_bytes(values):
    out = bytearray()
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF  # round to nearest even
        out += struct.pack("<H", bits)
    return bytes(out)


def write_safetensors(path, name, shape, values):
    data = bf16_bytes(values)
    header = {name: {"dtype": "BF16", "shape": shape, "data_offsets": [0, len(data)]},
              "__metadata__": {"architecture": "wan"}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def dataset(root):
    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for k in range(3):
        lat = [math.cos(0.3 * i * (k + 1)) for i in range(96)]
        t5 = [math.sin(1.7 * i + k) for i in range((4 + k) * 32)]
        write_safetensors(cache / f"img{k}_0048x0032_wan.safetensors", "latents_1x4x6_bfloat16", [4, 1, 4, 6], lat)
        write_safetensors(cache / f"img{k}_wan_te.safetensors", "varlen_t5_bfloat16", [4 + k, 32], t5)
    (root / "ds.toml").write_text('[general]\nresolution = [48, 32]\nbatch_size = 1\nenable_bucket = true\n\n[[datasets]]\n'
                                  f'image_directory = "{root / "images"}"\ncache_directory = "{cache}"\n')


def losses(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        rec = json.loads(line)
        if "loss" in rec:
            out[rec["step"]] = rec["loss"]
    return out


def compare(a, b, rtol):
    la, lb = losses(a), losses(b)
    if not la or sorted(la) != sorted(lb):
        print(f"loss logs differ in their steps: {sorted(la)} vs {sorted(lb)}")
        return 1
    worst = max(la, key=lambda s: abs(la[s] - lb[s]) / max(abs(la[s]), 1e-12))
    rel = abs(la[worst] - lb[worst]) / max(abs(la[worst]), 1e-12)
    print(f"{len(la)} steps; largest relative loss difference {rel:.3g} at step {worst} ({la[worst]:.8f} vs {lb[worst]:.8f}); "
          f"rtol {rtol:g}: {'PASS' if rel <= rtol else 'FAIL'}")
    return 0 if rel <= rtol else 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "dataset":
        dataset(Path(argv[1]).resolve())
        return 0
    if len(argv) >= 3 and argv[0] == "compare":
        rtol = float(argv[argv.index("--rtol") + 1]) if "--rtol" in argv else 1e-3
        return compare(argv[1], argv[2], rtol)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
