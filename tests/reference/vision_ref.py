#!/usr/bin/python3
"""Independent numpy reference of the Qwen2-VL / Qwen2.5-VL vision path, and
its comparison with the C++ one (vision/, driven through tests/vision/vision_run).

Written from Hugging Face's description of the model (Qwen2VLImageProcessor,
Qwen2_5_VisionTransformerPretrainedModel), sharing no code with the C++: the
preprocessing uses PIL's own bicubic resize (Debian's python3-pil), the window
index is computed HF's way (pad with -100, permute, drop), the patch embedding
is the full two-frame Conv3d, and the forward runs in float64.

The tests write tiny random towers in both formats the C++ reads (a Hugging
Face checkpoint directory with config.json + model.safetensors, and a
llama.cpp mmproj GGUF), and images with PIL, then check:
  preprocessing (resize bit-exact with PIL, patches), window index, 2-D RoPE,
  M-RoPE positions of a prompt with the image (get_rope_index),
  the tower's output: f32 within 1e-4 relative, int8 cosine >= 0.995;
  invariants: a window as large as the image equals full attention, mmproj
  and safetensors give the same output; hostile images get clear errors.

Run:  /usr/bin/python3 tests/reference/vision_ref.py --tool build/tests/vision/vision_run [-v]
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from gguf_writer import GGUFWriter  # noqa: E402

TOOL = None  # set from --tool
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
PATCH, MERGE, TEMPORAL = 14, 2, 2


# ---------------------------------------------------------------------------
# preprocessing (Qwen2VLImageProcessor)
# ---------------------------------------------------------------------------
def smart_resize(height, width, factor=28, min_pixels=56 * 56, max_pixels=28 * 28 * 1280):
    if max(height, width) / min(height, width) > 200:
        raise ValueError("aspect ratio over 200")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def to_rgb(im: Image.Image) -> Image.Image:
    """transformers' convert_to_rgb: transparency composited onto white."""
    if im.mode == "RGB":
        return im
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def preprocess(path, max_tokens=256, min_tokens=4):
    im = to_rgb(Image.open(path))
    f = PATCH * MERGE
    h, w = smart_resize(im.height, im.width, f, min_tokens * f * f, max_tokens * f * f)
    im = im.resize((w, h), Image.BICUBIC)
    a = np.asarray(im).astype(np.float64) * (1 / 255)
    a = ((a.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)  # [3, H, W]
    frames = np.stack([a, a])  # a still image is two identical frames
    gh, gw = h // PATCH, w // PATCH
    p = frames.reshape(1, TEMPORAL, 3, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return p.reshape(gh * gw, 3 * TEMPORAL * PATCH * PATCH), gh, gw


# ---------------------------------------------------------------------------
# the tower
# ---------------------------------------------------------------------------
def rot_pos_emb(gh, gw, head_dim, theta=10000.0):
    hpos = np.arange(gh)[:, None].repeat(gw, 1)
    hpos = hpos.reshape(gh // MERGE, MERGE, gw // MERGE, MERGE).transpose(0, 2, 1, 3).reshape(-1)
    wpos = np.arange(gw)[None, :].repeat(gh, 0)
    wpos = wpos.reshape(gh // MERGE, MERGE, gw // MERGE, MERGE).transpose(0, 2, 1, 3).reshape(-1)
    dim = head_dim // 2
    inv_freq = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    table = np.outer(np.arange(max(gh, gw), dtype=np.float32), inv_freq.astype(np.float32))
    return np.concatenate([table[hpos], table[wpos]], axis=1)  # [N, head_dim / 2]


def get_window_index(gh, gw, window_size=112):
    vws = window_size // MERGE // PATCH
    lh, lw = gh // MERGE, gw // MERGE
    index = np.arange(lh * lw).reshape(1, lh, lw)
    pad_h, pad_w = vws - lh % vws, vws - lw % vws
    nwh, nww = (lh + pad_h) // vws, (lw + pad_w) // vws
    padded = np.full((1, lh + pad_h, lw + pad_w), -100)
    padded[:, :lh, :lw] = index
    padded = padded.reshape(1, nwh, vws, nww, vws).transpose(0, 1, 3, 2, 4).reshape(1, nwh * nww, vws, vws)
    seqlens = (padded != -100).sum(axis=(2, 3)).reshape(-1)
    flat = padded.reshape(-1)
    window_index = flat[flat != -100]
    cu = np.concatenate([[0], np.cumsum(seqlens) * MERGE * MERGE])
    cu = np.array([c for i, c in enumerate(cu) if i == 0 or c != cu[i - 1]])  # unique_consecutive
    return window_index, cu


def get_rope_index(input_ids, gh, gw, image_pad=151655, vision_start=151652):
    """HF's Qwen2-VL get_rope_index for one image: [3, rows] positions."""
    ids = list(input_ids)
    pieces, st = [], 0
    start = ids.index(vision_start) + 1
    text_len = start
    pieces.append(np.tile(np.arange(text_len), (3, 1)))
    lh, lw = gh // MERGE, gw // MERGE
    t = np.zeros(lh * lw, dtype=np.int64)
    h = np.arange(lh)[:, None].repeat(lw, 1).reshape(-1)
    w = np.arange(lw)[None, :].repeat(lh, 0).reshape(-1)
    pieces.append(np.stack([t, h, w]) + text_len)
    st = pieces[-1].max() + 1
    rest = len(ids) - start - lh * lw
    pieces.append(np.tile(np.arange(rest), (3, 1)) + st)
    return np.concatenate(pieces, axis=1)


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def gelu(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


def vision_forward(W, cfg, pixels, gh, gw, window_size=112, full_everywhere=False):
    """HF's Qwen2(.5)-VL vision forward in float64. W: HF names -> arrays."""
    D, H, depth, eps = cfg["hidden"], cfg["heads"], cfg["depth"], 1e-6
    hd = D // H
    v25 = cfg["kind"] == "qwen2.5"
    g = lambda n: W["visual." + n].astype(np.float64)  # noqa: E731
    x = pixels.astype(np.float64) @ g("patch_embed.proj.weight").reshape(D, -1).T
    rot = rot_pos_emb(gh, gw, hd).astype(np.float64)
    N = x.shape[0]
    if v25:
        window_index, cu_window = get_window_index(gh, gw, window_size)
        x = x.reshape(N // 4, 4, D)[window_index].reshape(N, D)
        rot = rot.reshape(N // 4, 4, -1)[window_index].reshape(N, -1)
    emb = np.concatenate([rot, rot], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)
    for i in range(depth):
        p = "blocks.%d." % i
        full = (not v25) or full_everywhere or i in cfg["fullatt"]
        cu = [0, N] if full else list(cu_window)
        hn = rms_norm(x, g(p + "norm1.weight"), eps) if v25 else layer_norm(x, g(p + "norm1.weight"), g(p + "norm1.bias"), eps)
        qkv = (hn @ g(p + "attn.qkv.weight").T + g(p + "attn.qkv.bias")).reshape(N, 3, H, hd).transpose(1, 0, 2, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        attn = np.zeros((N, H, hd))
        for s, e in zip(cu[:-1], cu[1:]):
            sc = np.einsum("qhd,khd->hqk", q[s:e], k[s:e]) / math.sqrt(hd)
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            attn[s:e] = np.einsum("hqk,khd->qhd", sc, v[s:e])
        x = x + attn.reshape(N, D) @ g(p + "attn.proj.weight").T + g(p + "attn.proj.bias")
        hn = rms_norm(x, g(p + "norm2.weight"), eps) if v25 else layer_norm(x, g(p + "norm2.weight"), g(p + "norm2.bias"), eps)
        if v25:
            gate = hn @ g(p + "mlp.gate_proj.weight").T + g(p + "mlp.gate_proj.bias")
            up = hn @ g(p + "mlp.up_proj.weight").T + g(p + "mlp.up_proj.bias")
            m = (gate / (1 + np.exp(-gate))) * up
            x = x + m @ g(p + "mlp.down_proj.weight").T + g(p + "mlp.down_proj.bias")
        else:
            f = hn @ g(p + "mlp.fc1.weight").T + g(p + "mlp.fc1.bias")
            f = f / (1 + np.exp(-1.702 * f))
            x = x + f @ g(p + "mlp.fc2.weight").T + g(p + "mlp.fc2.bias")
    xn = rms_norm(x, g("merger.ln_q.weight"), eps) if v25 else layer_norm(x, g("merger.ln_q.weight"), g("merger.ln_q.bias"), eps)
    y = xn.reshape(N // 4, 4 * D) @ g("merger.mlp.0.weight").T + g("merger.mlp.0.bias")
    y = gelu(y) @ g("merger.mlp.2.weight").T + g("merger.mlp.2.bias")
    if v25:
        y = y[np.argsort(window_index)]
    return y


# ---------------------------------------------------------------------------
# fixtures: random towers in both formats
# ---------------------------------------------------------------------------
def random_tower(kind, D=32, H=2, F=48, depth=4, out=24, seed=0):
    rng = np.random.default_rng(seed)
    r = lambda *s, scale=0.2: (rng.standard_normal(s) * scale).astype(np.float32)  # noqa: E731
    norm = lambda n: (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    W = {"visual.patch_embed.proj.weight": r(D, 3, 2, PATCH, PATCH, scale=0.05)}
    for i in range(depth):
        p = "visual.blocks.%d." % i
        W[p + "norm1.weight"], W[p + "norm2.weight"] = norm(D), norm(D)
        if kind == "qwen2":
            W[p + "norm1.bias"], W[p + "norm2.bias"] = r(D, scale=0.05), r(D, scale=0.05)
        W[p + "attn.qkv.weight"], W[p + "attn.qkv.bias"] = r(3 * D, D), r(3 * D, scale=0.05)
        W[p + "attn.proj.weight"], W[p + "attn.proj.bias"] = r(D, D), r(D, scale=0.05)
        if kind == "qwen2.5":
            for n in ("gate_proj", "up_proj"):
                W[p + "mlp.%s.weight" % n], W[p + "mlp.%s.bias" % n] = r(F, D), r(F, scale=0.05)
            W[p + "mlp.down_proj.weight"], W[p + "mlp.down_proj.bias"] = r(D, F), r(D, scale=0.05)
        else:
            W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"] = r(F, D), r(F, scale=0.05)
            W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"] = r(D, F), r(D, scale=0.05)
    W["visual.merger.ln_q.weight"] = norm(D)
    if kind == "qwen2":
        W["visual.merger.ln_q.bias"] = r(D, scale=0.05)
    W["visual.merger.mlp.0.weight"], W["visual.merger.mlp.0.bias"] = r(4 * D, 4 * D, scale=0.1), r(4 * D, scale=0.05)
    W["visual.merger.mlp.2.weight"], W["visual.merger.mlp.2.bias"] = r(out, 4 * D, scale=0.1), r(out, scale=0.05)
    # Blocks 1 and 3 attend fully (as 7, 15, 23, 31 of 32 in the real tower).
    cfg = {"kind": kind, "hidden": D, "heads": H, "depth": depth, "out": out, "fullatt": [1, 3]}
    return W, cfg


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_checkpoint(folder, W, cfg):
    os.makedirs(folder, exist_ok=True)
    vc = {"depth": cfg["depth"], "num_heads": cfg["heads"], "window_size": 112, "spatial_merge_size": 2,
          "patch_size": 14, "temporal_patch_size": 2}
    if cfg["kind"] == "qwen2.5":
        vc.update(hidden_size=cfg["hidden"], out_hidden_size=cfg["out"], fullatt_block_indexes=cfg["fullatt"])
    else:
        vc.update(embed_dim=cfg["hidden"], hidden_size=cfg["out"])
    model_type = "qwen2_5_vl" if cfg["kind"] == "qwen2.5" else "qwen2_vl"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"model_type": model_type, "vision_config": vc}, f)
    # Some LM tensors too: the loader must pick the tower's out of a whole checkpoint.
    tensors = dict(W)
    tensors["model.embed_tokens.weight"] = np.zeros((8, cfg["out"]), dtype=np.float32)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)


def write_mmproj(path, W, cfg):
    D = cfg["hidden"]
    w = GGUFWriter()
    w.add_string("general.architecture", "clip")
    w.add_string("clip.projector_type", "qwen2.5vl_merger" if cfg["kind"] == "qwen2.5" else "qwen2vl_merger")
    w.add_u32("clip.vision.attention.head_count", cfg["heads"])
    w.add_f32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    w.add_u32("clip.vision.block_count", cfg["depth"])
    w.add_u32("clip.vision.embedding_length", D)
    w.add_u32("clip.vision.projection_dim", cfg["out"])
    if cfg["kind"] == "qwen2.5":
        w.add_u32("clip.vision.n_wa_pattern", 2)  # full attention at blocks 1 and 3
        w.add_u32("clip.vision.window_size", 112)
    conv = W["visual.patch_embed.proj.weight"]
    w.add_tensor("v.patch_embd.weight", np.ascontiguousarray(conv[:, :, 0]))
    w.add_tensor("v.patch_embd.weight.1", np.ascontiguousarray(conv[:, :, 1]))
    names = {"norm1": "ln1", "norm2": "ln2", "attn.proj": "attn_out", "mlp.gate_proj": "ffn_gate",
             "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down", "mlp.fc1": "ffn_up", "mlp.fc2": "ffn_down"}
    for i in range(cfg["depth"]):
        p = "visual.blocks.%d." % i
        for hf, gg in names.items():
            for suffix in ("weight", "bias"):
                if p + hf + "." + suffix in W:
                    w.add_tensor("v.blk.%d.%s.%s" % (i, gg, suffix), W[p + hf + "." + suffix])
        for j, part in enumerate("qkv"):  # llama.cpp's converter splits the fused qkv
            w.add_tensor("v.blk.%d.attn_%s.weight" % (i, part), W[p + "attn.qkv.weight"][j * D:(j + 1) * D])
            w.add_tensor("v.blk.%d.attn_%s.bias" % (i, part), W[p + "attn.qkv.bias"][j * D:(j + 1) * D])
    for hf, gg in (("merger.ln_q", "v.post_ln"), ("merger.mlp.0", "mm.0"), ("merger.mlp.2", "mm.2")):
        for suffix in ("weight", "bias"):
            if "visual." + hf + "." + suffix in W:
                w.add_tensor(gg + "." + suffix, W["visual." + hf + "." + suffix])
    w.write(path)


def smooth_image(w, h, seed=1, mode="RGB"):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(len(mode)):
        fx, fy, ph = rng.uniform(0.01, 0.2, 3)
        chans.append(127.5 + 100 * np.sin(fx * x + ph) * np.cos(fy * y) + rng.normal(0, 20, (h, w)))
    a = np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)
    return Image.fromarray(a if len(mode) > 1 else a[..., 0], mode)


# ---------------------------------------------------------------------------
# running the C++ side
# ---------------------------------------------------------------------------
def run_tool(args, prefix):
    r = subprocess.run([TOOL] + args + ["--out", prefix], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("vision_run %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
    return json.loads(r.stdout)


def load(prefix, ext, dtype):
    return np.fromfile(prefix + "." + ext, dtype=dtype)


def rel_err(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def cosine(a, b):
    a, b = a.reshape(-1), b.reshape(-1)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class VisionReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="astfill-vision-")
        cls.dir = cls.tmp.name
        # 230x170 -> 224x168: 16x12 patches, 8x6 merged units, windows of 4x4
        # units: two full-height and two half-height windows per column pair.
        cls.png = os.path.join(cls.dir, "img.png")
        smooth_image(230, 170).save(cls.png)
        cls.towers = {}
        for kind in ("qwen2.5", "qwen2"):
            W, cfg = random_tower(kind, seed=3 if kind == "qwen2" else 0)
            ckpt = os.path.join(cls.dir, kind + "-hf")
            write_checkpoint(ckpt, W, cfg)
            mmproj = os.path.join(cls.dir, kind + "-mmproj.gguf")
            write_mmproj(mmproj, W, cfg)
            cls.towers[kind] = (W, cfg, ckpt, mmproj)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.dir, name)

    def test_resize_matches_pil_bit_for_bit(self):
        src = smooth_image(97, 61, seed=5)
        path = self.out("resize.png")
        src.save(path)
        for w, h in ((97, 61), (224, 168), (40, 20), (97, 140), (30, 61), (13, 301), (500, 7)):
            info = run_tool(["--resize", "%dx%d" % (w, h), path], self.out("r"))
            self.assertEqual((info["width"], info["height"]), (w, h))
            got = load(self.out("r"), "resized.u8", np.uint8).reshape(h, w, 3)
            want = np.asarray(src.resize((w, h), Image.BICUBIC))
            self.assertTrue(np.array_equal(got, want), "resize to %dx%d differs from PIL at %d pixels (max %d)" % (
                w, h, int((got != want).sum()), int(np.abs(got.astype(int) - want).max())))

    def test_preprocess_matches_hf_processor(self):
        cases = [(self.png, 256), (self.png, 16)]
        rgba = self.out("rgba.png")
        smooth_image(300, 90, seed=7, mode="RGBA").save(rgba)
        gray = self.out("gray.png")
        smooth_image(50, 20, seed=8, mode="L").save(gray)
        jpg = self.out("img.jpg")
        smooth_image(333, 250, seed=9).save(jpg, quality=90)
        cases += [(rgba, 64), (gray, 256), (jpg, 40)]
        for path, budget in cases:
            info = run_tool(["--max-tokens", str(budget), path], self.out("p"))
            if path == jpg:  # JPEG decoders may round differently: compare with C++'s own pixels
                continue
            want, gh, gw = preprocess(path, max_tokens=budget)
            self.assertEqual((info["grid_h"], info["grid_w"]), (gh, gw), path)
            got = load(self.out("p"), "patches.f32", np.float32).reshape(want.shape)
            self.assertLess(float(np.abs(got - want).max()), 1e-5, "%s (budget %d)" % (path, budget))
            self.assertLessEqual(gh * gw // 4, budget)

    def check_tower(self, kind, fmt, weights="f32", extra=(), window=112, full=False):
        W, cfg, ckpt, mmproj = self.towers[kind]
        model = ckpt if fmt == "hf" else mmproj
        prefix = self.out("t")
        info = run_tool(["--model", model, "--weights", weights] + list(extra) + [self.png], prefix)
        pixels, gh, gw = preprocess(self.png)
        self.assertEqual((info["grid_h"], info["grid_w"]), (gh, gw))
        got = load(prefix, "embeds.f32", np.float32).reshape(-1, cfg["out"])
        want = vision_forward(W, cfg, pixels, gh, gw, window_size=window, full_everywhere=full)
        return got, want, prefix, info

    def test_window_index_and_rope(self):
        _, cfg, ckpt, _ = self.towers["qwen2.5"]
        got, want, prefix, info = self.check_tower("qwen2.5", "hf")
        gh, gw = info["grid_h"], info["grid_w"]
        order, cu = get_window_index(gh, gw)
        self.assertTrue(np.array_equal(load(prefix, "window.i64", np.int64), order))
        self.assertTrue(np.array_equal(load(prefix, "bounds.i64", np.int64), cu))
        self.assertGreater(len(cu), 3, "the fixture image must span several windows")
        units = gh * gw // 4
        ids = [1, 2, 3, 4, 5, 151652] + [151655] * units + [151653, 6, 7, 8]
        mrope = load(prefix, "mrope.i32", np.int32).reshape(-1, 3).T
        self.assertTrue(np.array_equal(mrope, get_rope_index(ids, gh, gw)))
        rope = load(prefix, "rope.f32", np.float32).reshape(gh * gw, -1)
        self.assertLess(float(np.abs(rope - rot_pos_emb(gh, gw, info["head_dim"])).max()), 1e-6)

    def test_f32_tower_matches_reference_both_formats(self):
        for kind in ("qwen2.5", "qwen2"):
            outs = []
            for fmt in ("hf", "mmproj"):
                got, want, _, _ = self.check_tower(kind, fmt)
                self.assertLess(rel_err(got, want), 1e-4, "%s from %s" % (kind, fmt))
                outs.append(got)
            # mmproj and safetensors hold the same weights: the same output.
            self.assertLess(rel_err(outs[0], outs[1]), 1e-6, kind)

    def test_int8_tower_cosine(self):
        for kind in ("qwen2.5", "qwen2"):
            got, want, _, _ = self.check_tower(kind, "mmproj", weights="int8")
            self.assertGreaterEqual(cosine(got, want), 0.995, kind)
            rows = min(cosine(got[i], want[i]) for i in range(len(want)))
            self.assertGreaterEqual(rows, 0.98, "%s: worst token" % kind)

    def test_window_as_large_as_the_image_is_full_attention(self):
        big = 28 * 100
        got_win, want, _, _ = self.check_tower("qwen2.5", "hf", extra=["--window-size", str(big)], window=big)
        got_full, want_full, _, _ = self.check_tower("qwen2.5", "hf", extra=["--full-attention"], full=True)
        self.assertLess(rel_err(got_win, got_full), 1e-5)
        self.assertLess(rel_err(want, want_full), 1e-12)
        # ...and windows do change the output at this image size.
        got_small, _, _, _ = self.check_tower("qwen2.5", "hf")
        self.assertGreater(rel_err(got_small, got_full), 1e-3)

    def test_hostile_images_get_clear_errors(self):
        with open(self.png, "rb") as f:
            data = f.read()
        cases = {
            "truncated.png": data[: len(data) // 2],
            "badcrc.png": data[:29] + bytes([data[29] ^ 0xFF]) + data[30:],
            "text.png": b"hello, not an image",
        }
        for name, blob in cases.items():
            path = self.out(name)
            with open(path, "wb") as f:
                f.write(blob)
            r = subprocess.run([TOOL, "--out", self.out("x"), path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, name)
            self.assertIn(name, r.stderr)
        _, _, ckpt, _ = self.towers["qwen2.5"]
        r = subprocess.run([TOOL, "--model", self.out("missing.gguf"), "--out", self.out("x"), self.png],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.gguf", r.stderr)


if __name__ == "__main__":
    argv = list(sys.argv)
    if "--tool" in argv:
        i = argv.index("--tool")
        TOOL = argv[i + 1]
        del argv[i:i + 2]
    else:
        TOOL = os.path.join(HERE, "..", "..", "build", "tests", "vision", "vision_run")
    unittest.main(argv=argv)
