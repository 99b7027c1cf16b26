#!/usr/bin/python3
"""Self-checks for the numpy GGUF reader and Qwen reference forward pass.

Run:  /usr/bin/python3 tests/reference/test_reference.py [-v]
(no dependencies beyond numpy; plain unittest)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)

import gguf_reader as gr  # noqa: E402
from gguf_reader import GGUFFile, GGUFError, UnsupportedTensorType  # noqa: E402
from gguf_writer import GGUFWriter  # noqa: E402
from qwen_ref import ModelError, QwenReference, rope_neox  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RANDOM_MODEL_TOOL = os.path.join(REPO, "build", "tests", "engine", "write_random_model")


# ---------------------------------------------------------------------------
# tiny model builder
# ---------------------------------------------------------------------------
def make_weights(arch, E=32, H=4, KV=2, D=16, F=64, n_layer=2, V=64, n_expert=4,
                 n_used=2, Fe=32, tied=True, seed=0):
    """Random weights as numpy arrays keyed by GGUF tensor name (numpy shape = ne reversed)."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    w = {"token_embd.weight": r(V, E, scale=1.0), "output_norm.weight": norm(E)}
    if not tied:
        w["output.weight"] = r(V, E)
    for il in range(n_layer):
        p = "blk.%d." % il
        w[p + "attn_norm.weight"] = norm(E)
        w[p + "attn_q.weight"] = r(H * D, E)
        w[p + "attn_k.weight"] = r(KV * D, E)
        w[p + "attn_v.weight"] = r(KV * D, E)
        w[p + "attn_output.weight"] = r(E, H * D)
        if arch == "qwen2":
            w[p + "attn_q.bias"] = r(H * D, scale=0.1)
            w[p + "attn_k.bias"] = r(KV * D, scale=0.1)
            w[p + "attn_v.bias"] = r(KV * D, scale=0.1)
        else:
            w[p + "attn_q_norm.weight"] = norm(D)
            w[p + "attn_k_norm.weight"] = norm(D)
        w[p + "ffn_norm.weight"] = norm(E)
        if arch == "qwen3moe":
            w[p + "ffn_gate_inp.weight"] = r(n_expert, E, scale=1.0)
            w[p + "ffn_gate_exps.weight"] = r(n_expert, Fe, E)
            w[p + "ffn_up_exps.weight"] = r(n_expert, Fe, E)
            w[p + "ffn_down_exps.weight"] = r(n_expert, E, Fe)
        else:
            w[p + "ffn_gate.weight"] = r(F, E)
            w[p + "ffn_up.weight"] = r(F, E)
            w[p + "ffn_down.weight"] = r(E, F)
    hp = dict(arch=arch, E=E, H=H, KV=KV, D=D, F=F, n_layer=n_layer, V=V,
              n_expert=n_expert, n_used=n_used, Fe=Fe)
    return hp, w


def write_model(path, hp, w, ttype=gr.GGML_F32, per_expert=False, theta=10000.0, eps=1e-6,
                int_type=gr.T_UINT32, float_type=gr.T_FLOAT32):
    a = hp["arch"] + "."
    wr = GGUFWriter()
    wr.add_string("general.architecture", hp["arch"])
    wr.add(a + "embedding_length", int_type, hp["E"])
    wr.add(a + "block_count", int_type, hp["n_layer"])
    wr.add(a + "attention.head_count", int_type, hp["H"])
    wr.add(a + "attention.head_count_kv", int_type, hp["KV"])
    wr.add(a + "attention.key_length", int_type, hp["D"])
    wr.add(a + "attention.value_length", int_type, hp["D"])
    wr.add(a + "attention.layer_norm_rms_epsilon", float_type, eps)
    wr.add(a + "rope.freq_base", float_type, theta)
    if hp["arch"] == "qwen3moe":
        wr.add(a + "expert_count", int_type, hp["n_expert"])
        wr.add(a + "expert_used_count", int_type, hp["n_used"])
        wr.add(a + "expert_feed_forward_length", int_type, hp["Fe"])
    else:
        wr.add(a + "feed_forward_length", int_type, hp["F"])
    for name, arr in w.items():
        # 1-D norms / biases stay F32 (as converters do); matrices use ttype
        t = ttype if arr.ndim >= 2 else gr.GGML_F32
        if per_expert and arr.ndim == 3 and "_exps." in name:
            base = name.replace("_exps.weight", "_exp")
            for k in range(arr.shape[0]):
                wr.add_tensor("%s.%d.weight" % (base, k), arr[k], t)
        else:
            wr.add_tensor(name, arr, t)
    wr.write(path)
    return path


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="qwen_ref_test_")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def model(self, arch, name=None, ttype=gr.GGML_F32, per_expert=False, w=None, hp=None, **kw):
        if w is None:
            hp, w = make_weights(arch, **kw)
        p = self.path(name or ("%s_%d_%d.gguf" % (arch, ttype, per_expert)))
        write_model(p, hp, w, ttype=ttype, per_expert=per_expert)
        return p


# ---------------------------------------------------------------------------
# (a) GGUF reader
# ---------------------------------------------------------------------------
class TestGGUFReader(TempDirCase):
    METADATA = [
        ("t.u8", gr.T_UINT8, 200),
        ("t.i8", gr.T_INT8, -5),
        ("t.u16", gr.T_UINT16, 60000),
        ("t.i16", gr.T_INT16, -30000),
        ("t.u32", gr.T_UINT32, 4000000000),
        ("t.i32", gr.T_INT32, -2000000000),
        ("t.f32", gr.T_FLOAT32, 1.5),
        ("t.bool_t", gr.T_BOOL, True),
        ("t.bool_f", gr.T_BOOL, False),
        ("t.str", gr.T_STRING, "h\u00e9llo \u4e16\u754c"),
        ("t.empty_str", gr.T_STRING, ""),
        ("t.u64", gr.T_UINT64, 2 ** 63 + 5),
        ("t.i64", gr.T_INT64, -(2 ** 62) - 3),
        ("t.f64", gr.T_FLOAT64, 0.1),
        ("t.arr_i32", (gr.T_ARRAY, gr.T_INT32), [1, -2, 3]),
        ("t.arr_u8", (gr.T_ARRAY, gr.T_UINT8), [0, 255]),
        ("t.arr_f32", (gr.T_ARRAY, gr.T_FLOAT32), [0.25, -4.0]),
        ("t.arr_f64", (gr.T_ARRAY, gr.T_FLOAT64), [0.1, 1e300]),
        ("t.arr_bool", (gr.T_ARRAY, gr.T_BOOL), [True, False, True]),
        ("t.arr_str", (gr.T_ARRAY, gr.T_STRING), ["a", "", "\u0120the"]),
        ("t.arr_empty", (gr.T_ARRAY, gr.T_INT64), []),
        ("t.arr_nested", (gr.T_ARRAY, (gr.T_ARRAY, gr.T_UINT16)), [[1, 2], [], [3]]),
    ]

    def write_test_file(self, path, alignment=32):
        wr = GGUFWriter(alignment=alignment)
        for key, t, v in self.METADATA:
            wr.add(key, t, v)
        # F32, ne {3, 2}: numpy shape (2, 3)
        wr.add_tensor("f32", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), gr.GGML_F32)
        # F16: values exactly representable
        wr.add_tensor("f16", np.array([1.0, -2.0, 0.5, 65504.0, 2.0 ** -24], dtype=np.float32),
                      gr.GGML_F16)
        # BF16 written by hand: 0x3F80 = 1.0, 0xC060 = -3.5, 0x4049 = 3.140625
        wr.add_raw_tensor("bf16", (3,), gr.GGML_BF16,
                          np.array([0x3F80, 0xC060, 0x4049], dtype="<u2").tobytes())
        # Q8_0 by hand: block 0 d=0.5, q=-16..15; block 1 d=-1.0 (0xBC00), q=3
        b0 = np.array([0.5], dtype="<f2").tobytes() + np.arange(-16, 16, dtype=np.int8).tobytes()
        b1 = np.array([0xBC00], dtype="<u2").tobytes() + np.full(32, 3, dtype=np.int8).tobytes()
        wr.add_raw_tensor("q8_0", (64,), gr.GGML_Q8_0, b0 + b1)
        # Q4_0 by hand, ne {32, 2}: row 0 d=0.25, byte j = (j) | (15-j)<<4 ; row 1 d=2, byte 0x8F
        r0 = np.array([0.25], dtype="<f2").tobytes() + bytes(j | ((15 - j) << 4) for j in range(16))
        r1 = np.array([2.0], dtype="<f2").tobytes() + bytes([0x8F] * 16)
        wr.add_raw_tensor("q4_0", (32, 2), gr.GGML_Q4_0, r0 + r1)
        # a type the reader does not dequantize (Q4_1 = 3, 20 bytes per block of 32)
        wr.add_raw_tensor("q4_1", (32,), 3, bytes(20))
        # 3-D tensor ne {2, 3, 4}
        wr.add_tensor("f32_3d", np.arange(24, dtype=np.float32).reshape(4, 3, 2), gr.GGML_F32)
        wr.write(path)

    def check_file(self, g):
        self.assertEqual(g.version, 3)
        for key, t, v in self.METADATA:
            got = g.metadata[key]
            if t in (gr.T_FLOAT32,):
                self.assertAlmostEqual(got, v, places=6, msg=key)
            else:
                self.assertEqual(got, v, key)
                self.assertEqual(type(got) is bool, t == gr.T_BOOL, key)
        self.assertEqual(g.get_int("t.u8"), 200)
        self.assertEqual(g.get_int("t.i64"), -(2 ** 62) - 3)
        self.assertEqual(g.get_float("t.f32"), 1.5)
        self.assertEqual(g.get_float("t.u16"), 60000.0)
        self.assertEqual(g.get_int("missing", 7), 7)
        with self.assertRaises(GGUFError):
            g.get_int("t.f32")
        with self.assertRaises(GGUFError):
            g.get_int("t.bool_t")

        np.testing.assert_array_equal(g.tensor("f32"), [[1, 2, 3], [4, 5, 6]])
        self.assertEqual(g.tensor_info("f32").ne, (3, 2))
        np.testing.assert_array_equal(g.tensor("f16"), [1.0, -2.0, 0.5, 65504.0, 2.0 ** -24])
        np.testing.assert_array_equal(g.tensor("bf16"), [1.0, -3.5, 3.140625])
        q8 = g.tensor("q8_0")
        self.assertEqual(q8.dtype, np.float32)
        np.testing.assert_array_equal(q8[:32], [0.5 * q for q in range(-16, 16)])
        np.testing.assert_array_equal(q8[32:], [-3.0] * 32)
        q4 = g.tensor("q4_0")
        self.assertEqual(q4.shape, (2, 32))
        exp_row0 = [(j - 8) * 0.25 for j in range(16)] + [(15 - j - 8) * 0.25 for j in range(16)]
        np.testing.assert_array_equal(q4[0], exp_row0)
        # 0x8F: low nibble 15 -> +7*2 = 14 ; high nibble 8 -> 0
        np.testing.assert_array_equal(q4[1], [14.0] * 16 + [0.0] * 16)
        t3 = g.tensor("f32_3d")
        self.assertEqual(t3.shape, (4, 3, 2))
        self.assertEqual(g.tensor_info("f32_3d").ne, (2, 3, 4))
        np.testing.assert_array_equal(t3, np.arange(24).reshape(4, 3, 2))
        with self.assertRaises(UnsupportedTensorType) as cm:
            g.tensor("q4_1")
        self.assertIn("Q4_1", str(cm.exception))
        with self.assertRaises(GGUFError):
            g.tensor("no_such_tensor")

    def test_all_types_default_alignment(self):
        p = self.path("a.gguf")
        self.write_test_file(p)
        g = GGUFFile(p)
        self.assertEqual(g.alignment, 32)
        self.assertEqual(g.data_offset % 32, 0)
        self.check_file(g)

    def test_all_types_custom_alignment(self):
        p = self.path("b.gguf")
        self.write_test_file(p, alignment=256)
        g = GGUFFile(p)
        self.assertEqual(g.alignment, 256)
        self.assertEqual(g.data_offset % 256, 0)
        self.check_file(g)

    def test_quantizer_roundtrip(self):
        # writer's own quantizers decode to within half a step
        rng = np.random.default_rng(1)
        x = rng.standard_normal((3, 64)).astype(np.float32)
        wr = GGUFWriter()
        wr.add_tensor("q8", x, gr.GGML_Q8_0)
        wr.add_tensor("q4", x, gr.GGML_Q4_0)
        wr.add_tensor("bf", x, gr.GGML_BF16)
        p = self.path("q.gguf")
        wr.write(p)
        g = GGUFFile(p)
        step8 = np.abs(x).reshape(-1, 32).max(1) / 127
        err8 = np.abs(g.tensor("q8") - x).reshape(-1, 32).max(1)
        self.assertTrue(np.all(err8 <= step8 * 0.51 + 1e-6))
        step4 = np.abs(x).reshape(-1, 32).max(1) / 7
        err4 = np.abs(g.tensor("q4") - x).reshape(-1, 32).max(1)
        self.assertTrue(np.all(err4 <= step4 * 0.51 + 1e-3))
        np.testing.assert_allclose(g.tensor("bf"), x, rtol=2 ** -8)

    def test_malformed(self):
        p = self.path("good.gguf")
        self.write_test_file(p)
        with open(p, "rb") as f:
            data = f.read()
        bad = self.path("bad.gguf")
        for blob in (b"GGUX" + data[4:],                       # magic
                     data[:4] + b"\x01\0\0\0" + data[8:],         # version 1
                     data[:4] + b"\x04\0\0\0" + data[8:],         # version 4
                     data[:100],                                  # truncated metadata
                     data[:len(data) - 40],                       # truncated tensor data
                     b""):
            with open(bad, "wb") as f:
                f.write(blob)
            with self.assertRaises(GGUFError):
                GGUFFile(bad)

    def test_version2(self):
        p = self.path("v2.gguf")
        wr = GGUFWriter(version=2)
        wr.add_u32("x", 1)
        wr.add_tensor("t", np.ones(4, np.float32))
        wr.write(p)
        g = GGUFFile(p)
        self.assertEqual(g.version, 2)
        np.testing.assert_array_equal(g.tensor("t"), np.ones(4))


# ---------------------------------------------------------------------------
# (b) RoPE
# ---------------------------------------------------------------------------
class TestRope(unittest.TestCase):
    def test_relative_position(self):
        rng = np.random.default_rng(2)
        D = 16
        for theta in (10000.0, 1e6, 7.5):
            q = rng.standard_normal((1, 1, D))
            k = rng.standard_normal((1, 1, D))
            for p, pp in ((0, 0), (5, 2), (3, 9), (100, 1), (4096, 4000)):
                base = np.sum(rope_neox(q, [p], theta) * rope_neox(k, [pp], theta))
                for s in (1, 7, 123, 10000):
                    shifted = np.sum(rope_neox(q, [p + s], theta) * rope_neox(k, [pp + s], theta))
                    self.assertAlmostEqual(base, shifted, delta=1e-9 * (1 + abs(base)))
            # sanity: it does depend on the offset
            a = np.sum(rope_neox(q, [3], theta) * rope_neox(k, [0], theta))
            b = np.sum(rope_neox(q, [4], theta) * rope_neox(k, [0], theta))
            self.assertNotAlmostEqual(a, b, places=6)

    def test_matches_complex_rotation(self):
        # independent formulation: z_i = x[i] + 1j*x[i+D/2], multiplied by exp(1j*p*theta^(-2i/D))
        rng = np.random.default_rng(3)
        D, theta = 8, 10000.0
        x = rng.standard_normal((3, 2, D))
        pos = [0, 1, 17]
        got = rope_neox(x, pos, theta)
        for n, p in enumerate(pos):
            for h in range(2):
                z = x[n, h, :D // 2] + 1j * x[n, h, D // 2:]
                rot = z * np.exp(1j * p * theta ** (-np.arange(0, D, 2) / D))
                np.testing.assert_allclose(got[n, h, :D // 2], rot.real, atol=1e-12)
                np.testing.assert_allclose(got[n, h, D // 2:], rot.imag, atol=1e-12)
        np.testing.assert_array_equal(got[0], x[0])  # position 0 is the identity

    def test_hand_values(self):
        # D=2: one pair rotated by angle p (inv_freq = 1)
        x = np.array([[[1.0, 0.0]]])
        np.testing.assert_allclose(rope_neox(x, [1], 10000.0)[0, 0], [math.cos(1), math.sin(1)])
        # D=4, theta=100: pairs (0,2) at angle p and (1,3) at angle p/10
        x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
        c1, s1, c2, s2 = math.cos(2), math.sin(2), math.cos(0.2), math.sin(0.2)
        np.testing.assert_allclose(rope_neox(x, [2], 100.0)[0, 0],
                                   [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2])


# ---------------------------------------------------------------------------
# (c) KV cache semantics and general forward checks
# ---------------------------------------------------------------------------
class TestForward(TempDirCase):
    ARCHS = ("qwen2", "qwen3", "qwen3moe")
    TOKENS = [3, 17, 42, 5, 63, 0, 8, 29, 11, 50]

    def assertClose(self, a, b, rtol=1e-10):
        a, b = np.asarray(a), np.asarray(b)
        self.assertEqual(a.shape, b.shape)
        self.assertTrue(np.all(np.isfinite(a)))
        scale = np.max(np.abs(b))
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)

    def test_cache_split_and_truncate(self):
        for arch in self.ARCHS:
            with self.subTest(arch=arch):
                m = QwenReference(self.model(arch))
                full = m.forward(self.TOKENS)
                self.assertEqual(full.shape, (10, 64))
                self.assertEqual(m.n_cached, 10)

                m.reset()
                a = m.forward(self.TOKENS[:5])
                b = m.forward(self.TOKENS[5:])          # positions continue at 5
                self.assertClose(a, full[:5])
                self.assertClose(b, full[5:])

                m.truncate(5)
                self.assertEqual(m.n_cached, 5)
                c = m.forward(self.TOKENS[5:])
                self.assertClose(c, full[5:])

                # explicit positions, token by token, truncating deeper
                m.truncate(2)
                rows = [m.forward([t], [p])[0] for p, t in enumerate(self.TOKENS[2:], start=2)]
                self.assertClose(np.stack(rows), full[2:])

                # different continuation after truncate differs, then restoring matches again
                m.truncate(5)
                d = m.forward([1, 2, 3, 4, 6])
                self.assertFalse(np.allclose(d, full[5:]))
                m.truncate(5)
                self.assertClose(m.forward(self.TOKENS[5:]), full[5:])

    def test_position_offset_invariance(self):
        # the whole sequence shifted by a constant offset gives the same logits (RoPE is relative)
        for arch in self.ARCHS:
            with self.subTest(arch=arch):
                m = QwenReference(self.model(arch))
                base = m.forward(self.TOKENS)
                m.reset()
                shifted = m.forward(self.TOKENS, [p + 1000 for p in range(10)])
                self.assertClose(shifted, base, rtol=1e-8)

    def test_causal(self):
        # changing a later token does not change earlier logits
        m = QwenReference(self.model("qwen3"))
        a = m.forward(self.TOKENS)
        m.reset()
        b = m.forward(self.TOKENS[:6] + [1, 1, 1, 1])
        self.assertClose(b[:6], a[:6])
        self.assertFalse(np.allclose(b[6:], a[6:]))

    def test_gqa_equals_duplicated_kv_heads(self):
        # H=4, KV=2 must equal H=4, KV=4 where each KV head is duplicated for its query group
        for arch in self.ARCHS:
            with self.subTest(arch=arch):
                hp, w = make_weights(arch, H=4, KV=2, D=8, seed=5)
                D, H, KV = 8, 4, 2
                hp4, w4 = dict(hp, KV=4), dict(w)
                src = [h // (H // KV) for h in range(H)]
                for il in range(hp["n_layer"]):
                    for nm in ("attn_k.weight", "attn_v.weight", "attn_k.bias", "attn_v.bias"):
                        key = "blk.%d.%s" % (il, nm)
                        if key in w:
                            w4[key] = np.concatenate([w[key][g * D:(g + 1) * D] for g in src], axis=0)
                m2 = QwenReference(self.model(arch, name="gqa2.gguf", hp=hp, w=w))
                m4 = QwenReference(self.model(arch, name="gqa4.gguf", hp=hp4, w=w4))
                self.assertClose(m2.forward(self.TOKENS), m4.forward(self.TOKENS))

    def test_single_token_closed_form(self):
        # one token: attention weight is 1 on itself, so the layer output does not depend on q/k
        hp, w = make_weights("qwen2", n_layer=1, E=32, H=4, KV=2, D=8, F=40, V=64, seed=9)
        m = QwenReference(self.model("qwen2", hp=hp, w=w))
        eps, t = 1e-6, 17
        f64 = lambda k: w[k].astype(np.float64)  # noqa: E731

        def rms(v, g):
            return v / np.sqrt(np.mean(v * v) + eps) * g

        x = f64("token_embd.weight")[t]
        h = rms(x, f64("blk.0.attn_norm.weight"))
        v = f64("blk.0.attn_v.weight") @ h + f64("blk.0.attn_v.bias")     # (KV*D,)
        heads = np.concatenate([v[(hh // 2) * 8:(hh // 2 + 1) * 8] for hh in range(4)])
        x = x + f64("blk.0.attn_output.weight") @ heads
        h2 = rms(x, f64("blk.0.ffn_norm.weight"))
        g = f64("blk.0.ffn_gate.weight") @ h2
        u = f64("blk.0.ffn_up.weight") @ h2
        x = x + f64("blk.0.ffn_down.weight") @ (g / (1 + np.exp(-g)) * u)
        logits = f64("token_embd.weight") @ rms(x, f64("output_norm.weight"))
        self.assertClose(m.forward([t], [37])[0], logits)

    def test_tied_vs_explicit_output(self):
        hp, w = make_weights("qwen3", seed=4)
        w2 = dict(w)
        w2["output.weight"] = w["token_embd.weight"].copy()
        a = QwenReference(self.model("qwen3", name="tied.gguf", hp=hp, w=w)).forward(self.TOKENS)
        b = QwenReference(self.model("qwen3", name="untied.gguf", hp=hp, w=w2)).forward(self.TOKENS)
        self.assertClose(a, b, rtol=0)
        hp, w = make_weights("qwen3", seed=4, tied=False)
        m = QwenReference(self.model("qwen3", name="untied2.gguf", hp=hp, w=w))
        self.assertFalse(np.allclose(m.forward(self.TOKENS), a))

    def test_quantized_equals_dequantized_f32(self):
        # a Q8_0 / Q4_0 / F16 / BF16 model equals the F32 model of its dequantized weights
        for arch in self.ARCHS:
            for ttype in (gr.GGML_Q8_0, gr.GGML_Q4_0, gr.GGML_F16, gr.GGML_BF16):
                with self.subTest(arch=arch, ttype=ttype):
                    hp, w = make_weights(arch, seed=6)
                    pq = self.model(arch, name="q.gguf", hp=hp, w=w, ttype=ttype)
                    g = GGUFFile(pq)
                    wd = {n: g.tensor(n) for n in g.tensors}
                    pf = self.model(arch, name="f.gguf", hp=hp, w=wd)
                    a = QwenReference(pq).forward(self.TOKENS)
                    b = QwenReference(pf).forward(self.TOKENS)
                    self.assertClose(a, b, rtol=1e-12)
                    full = QwenReference(self.model(arch, name="o.gguf", hp=hp, w=w)).forward(self.TOKENS)
                    self.assertFalse(np.array_equal(a, full))  # quantization did something

    def test_metadata_integer_and_float_types(self):
        hp, w = make_weights("qwen3", seed=7)
        ref = None
        for it, ft in ((gr.T_UINT32, gr.T_FLOAT32), (gr.T_INT32, gr.T_FLOAT64),
                       (gr.T_UINT64, gr.T_FLOAT64), (gr.T_UINT16, gr.T_FLOAT32),
                       (gr.T_INT64, gr.T_FLOAT32)):
            p = self.path("meta.gguf")
            # the same value in f32 and f64 (f32-representable)
            write_model(p, hp, w, int_type=it, float_type=ft, eps=float(np.float32(1e-6)))
            out = QwenReference(p).forward(self.TOKENS)
            if ref is None:
                ref = out
            self.assertClose(out, ref, rtol=0)

    def test_model_errors(self):
        hp, w = make_weights("qwen3", seed=8)
        w2 = dict(w)
        del w2["blk.1.attn_k_norm.weight"]
        with self.assertRaises(ModelError):
            QwenReference(self.model("qwen3", name="e1.gguf", hp=hp, w=w2))
        w3 = dict(w)
        w3["blk.0.attn_q.bias"] = np.zeros(hp["H"] * hp["D"], np.float32)  # not used by qwen3
        with self.assertRaises(ModelError):
            QwenReference(self.model("qwen3", name="e2.gguf", hp=hp, w=w3))
        w4 = dict(w)
        w4["blk.0.attn_q.weight"] = w["blk.0.attn_q.weight"][:, :16]  # wrong shape
        with self.assertRaises(ModelError):
            QwenReference(self.model("qwen3", name="e3.gguf", hp=hp, w=w4))
        m = QwenReference(self.model("qwen3", name="ok.gguf", hp=hp, w=w))
        with self.assertRaises(ValueError):
            m.forward([64])
        with self.assertRaises(ValueError):
            m.forward([1, 2], [0])

    def test_speed(self):
        # hidden 64, 2 layers, vocab 512, 64 tokens must run in well under a few seconds
        for arch in self.ARCHS:
            with self.subTest(arch=arch):
                p = self.model(arch, name="speed.gguf", E=64, H=4, KV=2, D=16, F=128, V=512,
                               n_expert=8, Fe=32, seed=10)
                t0 = time.perf_counter()
                m = QwenReference(p)
                out = m.forward(list(range(0, 512, 8)))
                dt = time.perf_counter() - t0
                self.assertEqual(out.shape, (64, 512))
                self.assertLess(dt, 3.0)

    def test_dumped_intermediates_chain(self):
        # the named intermediates are the steps of the forward pass: each residual is the
        # previous one plus the block's output, v is the projection of attn_norm, and the
        # last ones are the returned logits
        for arch in self.ARCHS:
            with self.subTest(arch=arch):
                m = QwenReference(self.model(arch))
                got = {}
                logits = m.forward(self.TOKENS, dump=lambda name, a: got.setdefault(name, a.copy()))
                n = len(self.TOKENS)
                names = ["inp_embd"]
                for il in range(m.n_layer):
                    names += ["%s-%d" % (t, il) for t in ("attn_norm", "q", "k", "v", "attn_out",
                                                          "ffn_inp", "ffn_norm", "ffn_out", "l_out")]
                names += ["result_norm", "result_output"]
                self.assertEqual(list(got), names)
                for a in got.values():
                    self.assertEqual(a.shape[0], n)
                prev = got["inp_embd"]
                for il in range(m.n_layer):
                    self.assertClose(got["ffn_inp-%d" % il], prev + got["attn_out-%d" % il], rtol=1e-12)
                    self.assertClose(got["l_out-%d" % il], got["ffn_inp-%d" % il] + got["ffn_out-%d" % il],
                                     rtol=1e-12)
                    prev = got["l_out-%d" % il]
                    L = m.layers[il]
                    v = got["attn_norm-%d" % il] @ L["wv"].astype(np.float64).T
                    if "bv" in L:
                        v = v + L["bv"]
                    self.assertClose(got["v-%d" % il], v, rtol=1e-12)
                np.testing.assert_array_equal(got["result_output"], logits)

    def test_cli_dump_dir(self):
        p = self.model("qwen3", name="dump.gguf")
        d = self.path("dump")
        subprocess.run([sys.executable, os.path.join(HERE, "qwen_ref.py"), p, "--tokens", "3,17,42",
                        "--out", self.path("l.bin"), "--dump-dir", d], check=True, capture_output=True)
        with open(os.path.join(d, "index.json")) as f:
            index = json.load(f)
        self.assertEqual(list(index)[:3], ["inp_embd", "attn_norm-0", "q-0"])
        ref = QwenReference(p)
        want = {}
        ref.forward([3, 17, 42], dump=lambda name, a: want.setdefault(name, a))
        for name, (rows, cols) in index.items():
            a = np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4").reshape(rows, cols)
            np.testing.assert_allclose(a, want[name], rtol=1e-6, atol=1e-6 * np.abs(want[name]).max())
        res = subprocess.run([sys.executable, os.path.join(HERE, "qwen_ref.py"), p, "--tokens", "3,17,42",
                              "--out", self.path("l.bin"), "--dump-dir", d, "--chunk", "2"],
                             capture_output=True, text=True)
        self.assertNotEqual(res.returncode, 0)

    def test_cli(self):
        p = self.model("qwen3moe", name="cli.gguf")
        out = self.path("logits.bin")
        cmd = [sys.executable, os.path.join(HERE, "qwen_ref.py"), p, "--tokens", "3,17,42,5",
               "--out", out]
        res = subprocess.run(cmd + ["--all"], check=True, capture_output=True, text=True)
        summary = json.loads(res.stdout)
        logits = np.fromfile(out, dtype="<f4").reshape(4, 64)
        self.assertEqual(summary["tokens"], 4)
        self.assertEqual(summary["vocab"], 64)
        self.assertEqual(summary["argmax"], [int(i) for i in np.argmax(logits, axis=1)])
        ref = QwenReference(p).forward([3, 17, 42, 5])
        np.testing.assert_allclose(logits, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
        res = subprocess.run(cmd + ["--positions", "10,11,12,13"], check=True,
                             capture_output=True, text=True)
        last = np.fromfile(out, dtype="<f4")
        self.assertEqual(last.shape, (64,))
        self.assertEqual(json.loads(res.stdout)["argmax"], [int(np.argmax(last))])
        np.testing.assert_allclose(last, ref[-1], rtol=0, atol=1e-5 * np.abs(ref).max())
        res = subprocess.run(cmd[:3] + ["--tokens", "999", "--out", out], capture_output=True,
                             text=True)
        self.assertNotEqual(res.returncode, 0)


# ---------------------------------------------------------------------------
# (d) MoE routing
# ---------------------------------------------------------------------------
class TestMoE(TempDirCase):
    def test_unchosen_experts_are_not_touched(self):
        hp, w = make_weights("qwen3moe", n_expert=4, n_used=2, seed=11)
        for per_expert in (False, True):
            for tokens in ([7], [7, 30, 2]):
                with self.subTest(per_expert=per_expert, tokens=tokens):
                    m = QwenReference(self.model("qwen3moe", name="moe.gguf", hp=hp, w=w,
                                                 per_expert=per_expert))
                    ref = m.forward(tokens)
                    routing = m.last_routing
                    self.assertEqual(len(routing), hp["n_layer"])
                    wn = dict(w)
                    n_nan = 0
                    for il, chosen in enumerate(routing):
                        unused = sorted(set(range(4)) - set(chosen.reshape(-1).tolist()))
                        for nm in ("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"):
                            key = "blk.%d.%s.weight" % (il, nm)
                            arr = wn[key].copy()
                            arr[unused] = np.nan
                            wn[key] = arr
                        n_nan += len(unused)
                    self.assertGreater(n_nan, 0)
                    mn = QwenReference(self.model("qwen3moe", name="moe_nan.gguf", hp=hp, w=wn,
                                                  per_expert=per_expert))
                    out = mn.forward(tokens)
                    self.assertTrue(np.all(np.isfinite(out)))
                    np.testing.assert_array_equal(out, ref)

                    # control: poisoning a chosen expert does change the output
                    wc = dict(w)
                    arr = wc["blk.0.ffn_down_exps.weight"].copy()
                    arr[routing[0][0, 0]] = np.nan
                    wc["blk.0.ffn_down_exps.weight"] = arr
                    mc = QwenReference(self.model("qwen3moe", name="moe_c.gguf", hp=hp, w=wc,
                                                  per_expert=per_expert))
                    self.assertTrue(np.any(np.isnan(mc.forward(tokens))))

    def test_stacked_equals_per_expert(self):
        hp, w = make_weights("qwen3moe", n_expert=4, n_used=2, seed=12)
        toks = [1, 5, 9, 33, 60]
        a = QwenReference(self.model("qwen3moe", name="s.gguf", hp=hp, w=w)).forward(toks)
        b = QwenReference(self.model("qwen3moe", name="p.gguf", hp=hp, w=w,
                                     per_expert=True)).forward(toks)
        np.testing.assert_array_equal(a, b)

    def test_routing_closed_form(self):
        # one token, one layer, attention output zeroed: check the MoE block by hand
        hp, w = make_weights("qwen3moe", n_layer=1, n_expert=4, n_used=2, seed=13)
        w["blk.0.attn_output.weight"][:] = 0
        m = QwenReference(self.model("qwen3moe", name="r.gguf", hp=hp, w=w))
        t, eps = 21, 1e-6
        f64 = lambda k: w[k].astype(np.float64)  # noqa: E731

        def rms(v, g):
            return v / np.sqrt(np.mean(v * v) + eps) * g

        x = f64("token_embd.weight")[t]
        h2 = rms(x, f64("blk.0.ffn_norm.weight"))
        logit = f64("blk.0.ffn_gate_inp.weight") @ h2
        p = np.exp(logit - logit.max())
        p /= p.sum()
        top = sorted(range(4), key=lambda e: (-p[e], e))[:2]
        wts = np.array([p[e] for e in top]) / sum(p[e] for e in top)
        out = np.zeros_like(x)
        for e, we in zip(top, wts):
            g = f64("blk.0.ffn_gate_exps.weight")[e] @ h2
            u = f64("blk.0.ffn_up_exps.weight")[e] @ h2
            out += we * (f64("blk.0.ffn_down_exps.weight")[e] @ (g / (1 + np.exp(-g)) * u))
        x = x + out
        logits = f64("token_embd.weight") @ rms(x, f64("output_norm.weight"))
        got = m.forward([t])[0]
        self.assertEqual(sorted(m.last_routing[0][0].tolist()), sorted(top))
        np.testing.assert_allclose(got, logits, rtol=0, atol=1e-10 * np.abs(logits).max())

    def test_tie_break_lower_index(self):
        # identical router rows for experts 1 and 3 (and 0, 2 far below): choose 1 and 3;
        # identical rows for all four: choose 0 and 1
        hp, w = make_weights("qwen3moe", n_layer=1, n_expert=4, n_used=2, seed=14)
        r = w["blk.0.ffn_gate_inp.weight"]
        r[3] = r[1]
        r[0] = -r[1] * 100
        r[2] = -r[1] * 100
        m = QwenReference(self.model("qwen3moe", name="t1.gguf", hp=hp, w=w))
        m.forward([4])
        self.assertEqual(m.last_routing[0][0].tolist(), [1, 3])
        r[:] = r[1]
        m = QwenReference(self.model("qwen3moe", name="t2.gguf", hp=hp, w=w))
        m.forward([4])
        self.assertEqual(m.last_routing[0][0].tolist(), [0, 1])


# ---------------------------------------------------------------------------
# files written by the project's C++ writer (skipped when the tool is not built)
# ---------------------------------------------------------------------------
class TestCppRandomModels(TempDirCase):
    def test_random_models(self):
        if not os.access(RANDOM_MODEL_TOOL, os.X_OK):
            self.skipTest("write_random_model not built")
        for arch in ("qwen2", "qwen3", "qwen3moe"):
            for ttype in ("f32", "q8_0"):
                with self.subTest(arch=arch, type=ttype):
                    p = self.path("%s_%s.gguf" % (arch, ttype))
                    for attempt in range(5):  # the tool may be briefly missing during a rebuild
                        res = subprocess.run([RANDOM_MODEL_TOOL, p, "--arch", arch, "--type", ttype],
                                             capture_output=True, text=True)
                        if res.returncode == 0:
                            break
                        time.sleep(2)
                    if res.returncode != 0:
                        self.skipTest("write_random_model failed: %s" % res.stderr.strip())
                    m = QwenReference(p)
                    self.assertEqual(m.arch, arch)
                    toks = list(range(1, 400, 37))
                    full = m.forward(toks)
                    self.assertTrue(np.all(np.isfinite(full)))
                    m.truncate(4)
                    part = m.forward(toks[4:])
                    np.testing.assert_allclose(part, full[4:], rtol=0,
                                               atol=1e-10 * np.abs(full).max())


if __name__ == "__main__":
    unittest.main(verbosity=2)
