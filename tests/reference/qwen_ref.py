#!/usr/bin/python3
"""Independent numpy reference forward pass for Qwen2 / Qwen3 / Qwen3-MoE GGUF models.

Written from the model definition only (RMSNorm, NEOX-style RoPE, grouped-query
causal attention, SwiGLU / top-k routed SwiGLU experts).  All arithmetic is done
in float64; weights are dequantized to float32 (exact for F32/F16/BF16/Q8_0/Q4_0)
and widened to float64 when used.

CLI:
  /usr/bin/python3 tests/reference/qwen_ref.py MODEL.gguf --tokens 1,2,3 \
      [--positions 0,1,2] [--all] --out LOGITS.bin [--dump-dir DIR]

writes little-endian float32 logits of the last token (or of every token with
--all, row-major [n_tokens, vocab]) and prints a one-line JSON summary
{"tokens": n, "vocab": V, "argmax": [...]} on stdout.  --dump-dir writes every named
intermediate (see QwenReference.forward) to DIR/<name>.f32, little-endian float32
[n_tokens, cols], and DIR/index.json ({"name": [rows, cols], ...} in evaluation order).

Module API:
  m = QwenReference("model.gguf")
  logits = m.forward([t0, t1, ...], positions=None, dump=None)   # (n, V) float64
                                                      # dump(name, (n, cols) array)
  m.truncate(n)                                       # drop cache entries at positions >= n
  m.reset()
  m.last_routing                                      # MoE: per layer, (n, k) chosen experts

Semantics chosen where the model definition leaves room:
  * attention masking is by position: a token attends to every cached or batch entry
    whose position is <= its own (identical to index-causal for increasing positions);
  * forward() without positions continues after the highest cached position;
  * truncate(n) keeps the entries at positions < n;
  * MoE top-k: stable sort by probability (ties -> lower expert index), chosen weights
    always renormalised to sum to 1; only the chosen experts' weights are read;
  * every tensor in the file must be consumed (unexpected tensors such as a q bias on
    qwen3 raise ModelError unless allow_unused_tensors=True);
  * defaults as in the engine's loader: eps 1e-6, rope.freq_base 10000, head_count_kv = H,
    key_length = E/H, value_length = key_length; rope scaling: none, linear and YaRN
    (rope.scaling.{type,factor,original_context_length,yarn_beta_fast,yarn_beta_slow});
    partial rotary -> error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GGUFFile  # noqa: E402

SUPPORTED_ARCHS = ("qwen2", "qwen3", "qwen3moe")
DEFAULT_RMS_EPS = 1e-6
DEFAULT_ROPE_THETA = 10000.0


class ModelError(ValueError):
    """The GGUF file does not describe a model this reference can evaluate."""


# ---------------------------------------------------------------------------
# building blocks (float64)
# ---------------------------------------------------------------------------
def rmsnorm(v: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    """v / sqrt(mean(v^2) + eps) * w over the last axis."""
    v = np.asarray(v, dtype=np.float64)
    ms = np.mean(v * v, axis=-1, keepdims=True)
    return v / np.sqrt(ms + eps) * np.asarray(w, dtype=np.float64)


def silu(z: np.ndarray) -> np.ndarray:
    # z / (1 + exp(-z)); exp overflow for very negative z gives z/inf = -0, which is the limit
    with np.errstate(over="ignore"):
        return z / (1.0 + np.exp(-z))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def yarn_inv_freq(theta: float, d: int, factor: float, orig_ctx: float,
                  beta_fast: float = 32.0, beta_slow: float = 1.0):
    """YaRN (Peng et al., 2023) inverse frequencies and attention scale.

    A dimension pair i turns orig_ctx * theta^(-2i/d) / (2 pi) times over the original
    context.  Pairs turning more than beta_fast times keep their frequency, pairs turning
    fewer than beta_slow times are interpolated (frequency / factor), and a linear ramp
    over the pair index blends the two in between.  The attention logits are scaled by
    mscale^2, mscale = 0.1 ln(factor) + 1, applied to both cos and sin.
    """
    half = d // 2
    idx = np.arange(half, dtype=np.float64)
    base_freq = float(theta) ** (-(2.0 * idx) / d)
    # the (fractional) pair index at which a pair turns `turns` times
    def pair_at(turns):
        return d * np.log(orig_ctx / (turns * 2.0 * np.pi)) / (2.0 * np.log(theta))
    low = max(np.floor(pair_at(beta_fast)), 0.0)
    high = min(np.ceil(pair_at(beta_slow)), d - 1.0)
    if high == low:
        high += 0.001
    ramp = np.clip((idx - low) / (high - low), 0.0, 1.0)   # 0: keep, 1: interpolate
    inv_freq = base_freq * (1.0 - ramp) + (base_freq / factor) * ramp
    mscale = 0.1 * np.log(factor) + 1.0
    return inv_freq, mscale


def rope_neox(x: np.ndarray, positions: Sequence[int], theta: float,
              inv_freq: Optional[np.ndarray] = None, mscale: float = 1.0) -> np.ndarray:
    """Rotary embedding, NEOX / rotate_half pairing.

    x: (n, heads, D); positions: n ints.  For i < D/2 the pair (x[i], x[i+D/2]) is
    rotated by the angle p * theta^(-2i/D) (or p * inv_freq[i] when given), with cos
    and sin multiplied by mscale (YaRN).
    """
    x = np.asarray(x, dtype=np.float64)
    n, _, d = x.shape
    if d % 2:
        raise ModelError("RoPE needs an even head dimension, got %d" % d)
    half = d // 2
    if inv_freq is None:
        inv_freq = float(theta) ** (-(2.0 * np.arange(half, dtype=np.float64)) / d)
    pos = np.asarray(positions, dtype=np.float64).reshape(n)
    ang = pos[:, None] * inv_freq[None, :]          # (n, half)
    cos = (np.cos(ang) * mscale)[:, None, :]        # (n, 1, half)
    sin = (np.sin(ang) * mscale)[:, None, :]
    a = x[..., :half]
    b = x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def linear(x: np.ndarray, w: np.ndarray, bias: Optional[np.ndarray] = None,
           chunk_rows: int = 16384) -> np.ndarray:
    """x @ w.T (+ bias) in float64; w is (out, in), possibly float32, widened in chunks."""
    x = np.asarray(x, dtype=np.float64)
    out_rows = w.shape[0]
    if out_rows <= chunk_rows:
        y = x @ np.asarray(w, dtype=np.float64).T
    else:
        y = np.empty(x.shape[:-1] + (out_rows,), dtype=np.float64)
        for s in range(0, out_rows, chunk_rows):
            y[..., s:s + chunk_rows] = x @ np.asarray(w[s:s + chunk_rows], dtype=np.float64).T
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)
    return y


# ---------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------
class QwenReference:
    """Qwen2 / Qwen3 / Qwen3-MoE reference with a single-sequence KV cache."""

    def __init__(self, model, allow_unused_tensors: bool = False):
        self.gguf = model if isinstance(model, GGUFFile) else GGUFFile(model)
        g = self.gguf
        self._used: set = set()
        arch = g.get_str("general.architecture")
        if arch not in SUPPORTED_ARCHS:
            raise ModelError("unsupported general.architecture %r (supported: %s)"
                             % (arch, ", ".join(SUPPORTED_ARCHS)))
        self.arch = arch
        a = arch + "."

        def req_int(key):
            v = g.get_int(a + key)
            if v is None:
                raise ModelError("missing metadata %s%s" % (a, key))
            return v

        self.n_embd = E = req_int("embedding_length")
        self.n_layer = req_int("block_count")
        self.n_head = H = req_int("attention.head_count")
        self.n_head_kv = KV = g.get_int(a + "attention.head_count_kv", H)
        if E <= 0 or H <= 0 or KV <= 0 or self.n_layer <= 0:
            raise ModelError("non-positive embedding_length / head counts / block_count")
        if H % KV:
            raise ModelError("head_count %d is not a multiple of head_count_kv %d" % (H, KV))
        self.head_dim = D = g.get_int(a + "attention.key_length", E // H)
        self.head_dim_v = g.get_int(a + "attention.value_length", D)
        self.eps = g.get_float(a + "attention.layer_norm_rms_epsilon", DEFAULT_RMS_EPS)
        self.rope_theta = g.get_float(a + "rope.freq_base", DEFAULT_ROPE_THETA)
        if not (self.eps > 0) or not (self.rope_theta > 0):
            raise ModelError("layer_norm_rms_epsilon and rope.freq_base must be positive")
        n_rot = g.get_int(a + "rope.dimension_count", D)
        if n_rot != D:
            raise ModelError("partial rotary embeddings (rope.dimension_count=%d, head dim %d) "
                             "are not supported by the reference" % (n_rot, D))
        scaling = g.get_str(a + "rope.scaling.type", "none")
        factor = g.get_float(a + "rope.scaling.factor", 1.0)
        self.rope_inv_freq = None
        self.rope_mscale = 1.0
        if scaling == "yarn" and factor > 1.0:
            ctx = g.get_int(a + "context_length", 0)
            orig = g.get_int(a + "rope.scaling.original_context_length", 0) or ctx / factor
            self.rope_inv_freq, self.rope_mscale = yarn_inv_freq(
                self.rope_theta, D, factor, float(orig),
                g.get_float(a + "rope.scaling.yarn_beta_fast", 32.0),
                g.get_float(a + "rope.scaling.yarn_beta_slow", 1.0))
        elif scaling == "linear" and factor not in (0.0, 1.0):
            self.rope_inv_freq = (float(self.rope_theta) ** (-(2.0 * np.arange(D // 2)) / D)) / factor
        elif scaling not in ("none", "") and factor not in (0.0, 1.0):
            raise ModelError("rope scaling %r (factor %g) is not supported by the reference"
                             % (scaling, factor))
        self.n_expert = g.get_int(a + "expert_count", 0)
        self.n_expert_used = g.get_int(a + "expert_used_count", 0)

        # --- weights (float32 arrays; widened on use) ---
        self.tok_embd = self._t("token_embd.weight", (None, E))
        self.n_vocab_in = self.tok_embd.shape[0]
        if g.has_tensor("output.weight"):
            self.output = self._t("output.weight", (None, E))
        else:
            self.output = self.tok_embd  # tied embeddings
        self.n_vocab = self.output.shape[0]
        self.output_norm = self._t("output_norm.weight", (E,))

        Dv = self.head_dim_v
        self.layers: List[Dict[str, object]] = []
        for il in range(self.n_layer):
            p = "blk.%d." % il
            L: Dict[str, object] = {}
            L["attn_norm"] = self._t(p + "attn_norm.weight", (E,))
            L["wq"] = self._t(p + "attn_q.weight", (H * D, E))
            L["wk"] = self._t(p + "attn_k.weight", (KV * D, E))
            L["wv"] = self._t(p + "attn_v.weight", (KV * Dv, E))
            L["wo"] = self._t(p + "attn_output.weight", (E, H * Dv))
            if arch == "qwen2":
                L["bq"] = self._t(p + "attn_q.bias", (H * D,))
                L["bk"] = self._t(p + "attn_k.bias", (KV * D,))
                L["bv"] = self._t(p + "attn_v.bias", (KV * Dv,))
            else:
                L["q_norm"] = self._t(p + "attn_q_norm.weight", (D,))
                L["k_norm"] = self._t(p + "attn_k_norm.weight", (D,))
            L["ffn_norm"] = self._t(p + "ffn_norm.weight", (E,))
            # A qwen3moe file may keep dense FFNs in some layers (Hugging Face's
            # mlp_only_layers / decoder_sparse_step): a layer without a router is dense.
            if arch == "qwen3moe" and g.has_tensor(p + "ffn_gate_inp.weight"):
                L["moe"] = True
                self._load_moe(L, p)
            else:
                L["moe"] = False
                F = g.get_int(a + "feed_forward_length")
                if F is None:
                    raise ModelError("missing metadata %sfeed_forward_length" % a)
                L["gate"] = self._t(p + "ffn_gate.weight", (F, E))
                L["up"] = self._t(p + "ffn_up.weight", (F, E))
                L["down"] = self._t(p + "ffn_down.weight", (E, F))
            self.layers.append(L)

        unused = [n for n in g.tensors if n not in self._used]
        if unused and not allow_unused_tensors:
            raise ModelError("tensors not used by the %s reference (unexpected for this "
                             "architecture): %s" % (arch, ", ".join(unused)))
        self.unused_tensors = unused
        self.loras: List[Dict[Tuple[int, str], Tuple[np.ndarray, np.ndarray, float]]] = []
        self.reset()

    # -- LoRA adapters ------------------------------------------------------
    def add_lora(self, path: str, scale: float = 1.0) -> None:
        """Applies a LoRA adapter (a GGUF adapter file or a PEFT directory) unmerged:
        y = x W^T (+ b) + s (x A^T) B^T, s = scale * the adapter's own alpha / r."""
        pairs = read_lora(path)
        for (il, key), (A, B, s) in pairs.items():
            W = self._weight(il, key) if il < self.n_layer else None
            if W is None or A.shape[1] != W.shape[1] or B.shape[0] != W.shape[0] or A.shape[0] != B.shape[1]:
                raise ModelError("LoRA %s: layer %d %s has A %s and B %s, which do not fit the model"
                                 % (path, il, key, A.shape, B.shape))
        self.loras.append({k: (A, B, s * scale) for k, (A, B, s) in pairs.items()})

    def _weight(self, il: int, key: str) -> Optional[np.ndarray]:
        """The weight a LoRA key names: "wq".."down", or "gate_e.3" for expert 3's
        gate in a MoE layer (None when the layer has no such weight)."""
        L = self.layers[il]
        if "." in key:
            name, e = key.split(".")
            experts = L.get(name) if L.get("moe") else None
            return experts[int(e)] if experts is not None and int(e) < len(experts) else None
        return None if L.get("moe") and key in ("gate", "up", "down") else L.get(key)

    def _lin(self, il: int, key: str, x: np.ndarray, bias: Optional[np.ndarray] = None) -> np.ndarray:
        y = linear(x, self._weight(il, key), bias)
        for lora in self.loras:
            if (il, key) in lora:
                A, B, s = lora[(il, key)]
                y = y + s * (linear(x, A) @ np.asarray(B, dtype=np.float64).T)
        return y

    # -- loading helpers ----------------------------------------------------
    def _t(self, name: str, shape) -> np.ndarray:
        if not self.gguf.has_tensor(name):
            raise ModelError("missing tensor %s" % name)
        arr = self.gguf.tensor(name)
        if len(arr.shape) != len(shape) or any(
                want is not None and got != want for got, want in zip(arr.shape, shape)):
            want = tuple("*" if s is None else s for s in shape)
            raise ModelError("tensor %s has numpy shape %s (ne %s), expected %s"
                             % (name, arr.shape, list(reversed(arr.shape)), want))
        self._used.add(name)
        return arr

    def _load_moe(self, L: Dict[str, object], p: str) -> None:
        g = self.gguf
        E, NE, K = self.n_embd, self.n_expert, self.n_expert_used
        a = self.arch + "."
        if NE <= 0 or K <= 0 or K > NE:
            raise ModelError("invalid expert_count %d / expert_used_count %d" % (NE, K))
        Fe = g.get_int(a + "expert_feed_forward_length")
        if Fe is None:
            raise ModelError("missing metadata %sexpert_feed_forward_length" % a)
        L["router"] = self._t(p + "ffn_gate_inp.weight", (NE, E))
        if g.has_tensor(p + "ffn_gate_exps.weight"):
            gate = self._t(p + "ffn_gate_exps.weight", (NE, Fe, E))
            up = self._t(p + "ffn_up_exps.weight", (NE, Fe, E))
            down = self._t(p + "ffn_down_exps.weight", (NE, E, Fe))
            L["gate_e"] = [gate[k] for k in range(NE)]
            L["up_e"] = [up[k] for k in range(NE)]
            L["down_e"] = [down[k] for k in range(NE)]
            stray = [n for n in g.tensors if re.match(re.escape(p) + r"ffn_(gate|up|down)_exp\.\d+\.", n)]
            if stray:
                raise ModelError("layer %s has both stacked and per-expert tensors: %s" % (p, stray))
        else:
            L["gate_e"] = [self._t(p + "ffn_gate_exp.%d.weight" % k, (Fe, E)) for k in range(NE)]
            L["up_e"] = [self._t(p + "ffn_up_exp.%d.weight" % k, (Fe, E)) for k in range(NE)]
            L["down_e"] = [self._t(p + "ffn_down_exp.%d.weight" % k, (E, Fe)) for k in range(NE)]

    # -- KV cache -------------------------------------------------------------
    def reset(self) -> None:
        """Empty the KV cache."""
        self.cache_pos = np.zeros(0, dtype=np.int64)
        self.cache_k = [np.zeros((0, self.n_head_kv, self.head_dim)) for _ in range(self.n_layer)]
        self.cache_v = [np.zeros((0, self.n_head_kv, self.head_dim_v)) for _ in range(self.n_layer)]
        self.last_routing: List[np.ndarray] = []

    @property
    def n_cached(self) -> int:
        return int(self.cache_pos.shape[0])

    def truncate(self, n: int) -> None:
        """Drop every cache entry whose position is >= n (keep positions 0..n-1)."""
        if n < 0:
            raise ValueError("truncate: negative n")
        keep = self.cache_pos < n
        self.cache_pos = self.cache_pos[keep]
        self.cache_k = [k[keep] for k in self.cache_k]
        self.cache_v = [v[keep] for v in self.cache_v]

    # -- forward ---------------------------------------------------------------
    def forward(self, tokens: Sequence[int], positions: Optional[Sequence[int]] = None,
                dump: Optional[Callable[[str, np.ndarray], None]] = None) -> np.ndarray:
        """Evaluate tokens (appending them to the KV cache); returns (n, vocab) float64 logits.

        positions default to continuing after the highest cached position (0 for an
        empty cache).  A token attends to every cached/batch entry whose position is
        <= its own position.

        dump(name, array) receives each intermediate as an (n, cols) float64 array, under
        llama.cpp's names: inp_embd; per layer N attn_norm-N, q-N and k-N (after the
        per-head norm and RoPE), v-N, attn_out-N (after the output projection),
        ffn_inp-N (the residual after attention), ffn_norm-N, ffn_out-N, l_out-N; then
        result_norm and result_output (every row).
        """
        tokens = np.asarray(list(tokens), dtype=np.int64).reshape(-1)
        n = tokens.shape[0]
        if n == 0:
            return np.zeros((0, self.n_vocab))
        if np.any(tokens < 0) or np.any(tokens >= self.n_vocab_in):
            raise ValueError("token id out of range [0, %d)" % self.n_vocab_in)
        if positions is None:
            start = int(self.cache_pos.max()) + 1 if self.n_cached else 0
            positions = np.arange(start, start + n, dtype=np.int64)
        else:
            positions = np.asarray(list(positions), dtype=np.int64).reshape(-1)
            if positions.shape[0] != n:
                raise ValueError("got %d positions for %d tokens" % (positions.shape[0], n))
            if np.any(positions < 0):
                raise ValueError("negative position")

        H, KV, D, Dv = self.n_head, self.n_head_kv, self.head_dim, self.head_dim_v
        group = H // KV
        eps = self.eps
        all_pos = np.concatenate([self.cache_pos, positions])
        # mask[i, j]: batch token i may attend to cache/batch entry j
        mask = all_pos[None, :] <= positions[:, None]            # (n, n_total)
        self.last_routing = []

        def emit(name, a):
            if dump is not None:
                dump(name, np.asarray(a, dtype=np.float64).reshape(n, -1))

        x = np.asarray(self.tok_embd[tokens], dtype=np.float64)   # (n, E)
        emit("inp_embd", x)
        for il, L in enumerate(self.layers):
            h = rmsnorm(x, L["attn_norm"], eps)
            emit("attn_norm-%d" % il, h)
            q = self._lin(il, "wq", h, L.get("bq")).reshape(n, H, D)
            k = self._lin(il, "wk", h, L.get("bk")).reshape(n, KV, D)
            v = self._lin(il, "wv", h, L.get("bv")).reshape(n, KV, Dv)
            if "q_norm" in L:
                q = rmsnorm(q, L["q_norm"], eps)
                k = rmsnorm(k, L["k_norm"], eps)
            q = rope_neox(q, positions, self.rope_theta, self.rope_inv_freq, self.rope_mscale)
            k = rope_neox(k, positions, self.rope_theta, self.rope_inv_freq, self.rope_mscale)
            emit("q-%d" % il, q)
            emit("k-%d" % il, k)
            emit("v-%d" % il, v)
            K_all = np.concatenate([self.cache_k[il], k], axis=0)  # (n_total, KV, D)
            V_all = np.concatenate([self.cache_v[il], v], axis=0)
            self.cache_k[il] = K_all
            self.cache_v[il] = V_all

            kv_of_head = np.arange(H) // group
            Kh = K_all[:, kv_of_head, :]                             # (n_total, H, D)
            Vh = V_all[:, kv_of_head, :]
            scores = np.einsum("ihd,jhd->hij", q, Kh) / np.sqrt(D)  # (H, n, n_total)
            scores = np.where(mask[None, :, :], scores, -np.inf)
            probs = softmax(scores, axis=-1)
            attn = np.einsum("hij,jhd->ihd", probs, Vh).reshape(n, H * Dv)
            attn_out = self._lin(il, "wo", attn)
            emit("attn_out-%d" % il, attn_out)
            x = x + attn_out
            emit("ffn_inp-%d" % il, x)

            h2 = rmsnorm(x, L["ffn_norm"], eps)
            emit("ffn_norm-%d" % il, h2)
            if L["moe"]:
                ffn_out = self._moe(h2, L, il)
            else:
                ffn_out = self._lin(il, "down", silu(self._lin(il, "gate", h2)) * self._lin(il, "up", h2))
            emit("ffn_out-%d" % il, ffn_out)
            x = x + ffn_out
            emit("l_out-%d" % il, x)

        self.cache_pos = all_pos
        normed = rmsnorm(x, self.output_norm, eps)
        emit("result_norm", normed)
        logits = linear(normed, self.output)
        emit("result_output", logits)
        return logits

    def _moe(self, h2: np.ndarray, L: Dict[str, object], il: int) -> np.ndarray:
        K = self.n_expert_used
        probs = softmax(linear(h2, L["router"]), axis=-1)      # (n, n_expert)
        out = np.zeros_like(h2)
        chosen_all = np.zeros((h2.shape[0], K), dtype=np.int64)
        for i in range(h2.shape[0]):
            # highest probability first; stable sort keeps the lower index first on ties
            chosen = np.argsort(-probs[i], kind="stable")[:K]
            w = probs[i, chosen]
            w = w / np.sum(w)
            chosen_all[i] = chosen
            xi = h2[i:i + 1]
            for e, we in zip(chosen, w):
                gate = self._lin(il, "gate_e.%d" % e, xi)
                up = self._lin(il, "up_e.%d" % e, xi)
                y = self._lin(il, "down_e.%d" % e, silu(gate) * up)
                out[i] += we * y[0]
        self.last_routing.append(chosen_all)
        return out


# ---------------------------------------------------------------------------
# LoRA adapters, read independently of the engine
# ---------------------------------------------------------------------------
_GGUF_TARGETS = {"attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
                 "ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down"}
_PEFT_TARGETS = {"q_proj": "wq", "k_proj": "wk", "v_proj": "wv", "o_proj": "wo",
                 "gate_proj": "gate", "up_proj": "up", "down_proj": "down"}


def _read_safetensors(path: str) -> Dict[str, np.ndarray]:
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        if info["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ModelError("%s: tensor %s has dtype %s" % (path, name, info["dtype"]))
        out[name] = a.reshape(info["shape"])
    return out


def read_lora(path: str) -> Dict[Tuple[int, str], Tuple[np.ndarray, np.ndarray, float]]:
    """{(layer, weight key): (A (r, in), B (out, r), scale)} from a GGUF adapter
    (scale alpha/r, alpha 0 meaning 1, as llama.cpp) or a PEFT directory (alpha/r,
    alpha/sqrt(r) with use_rslora, rank_pattern / alpha_pattern by module name)."""
    pairs: Dict[Tuple[int, str], List[Optional[np.ndarray]]] = {}
    if os.path.isdir(path):
        with open(os.path.join(path, "adapter_config.json")) as f:
            cfg = json.load(f)
        tensors = _read_safetensors(os.path.join(path, "adapter_model.safetensors"))
        modules = {}
        for name, a in tensors.items():
            m = re.match(r"^base_model\.model\.(model\.layers\.(\d+)\.\w+\.(?:experts\.(\d+)\.)?(\w+))"
                         r"\.lora_([AB])\.weight$", name)
            if not m or m.group(4) not in _PEFT_TARGETS:
                raise ModelError("%s: unexpected tensor %s" % (path, name))
            target = _PEFT_TARGETS[m.group(4)]
            if m.group(3) is not None:  # Qwen3-MoE: mlp.experts.J.X_proj
                target = "%s_e.%d" % (target, int(m.group(3)))
            key = (int(m.group(2)), target)
            modules[key] = m.group(1)
            pairs.setdefault(key, [None, None])[0 if m.group(5) == "A" else 1] = a

        def pattern(name, module, default):
            for k, v in (cfg.get(name) or {}).items():
                if re.match(r"(.*\.)?(%s)$" % k, module):
                    return v
            return default

        out = {}
        for key, (A, B) in pairs.items():
            r = A.shape[0]
            alpha = pattern("alpha_pattern", modules[key], cfg.get("lora_alpha", 8))
            s = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
            out[key] = (A, B, float(s))
        return out
    g = GGUFFile(path)
    if g.get_str("general.type") != "adapter" or g.get_str("adapter.type") != "lora":
        raise ModelError("%s: not a GGUF LoRA adapter" % path)
    alpha = g.get_float("adapter.lora.alpha", 0.0) or 0.0
    for name in g.tensors:
        m = re.match(r"^blk\.(\d+)\.(\w+?)(_exps)?\.weight\.lora_([ab])$", name)
        if not m or m.group(2) not in _GGUF_TARGETS or (m.group(3) and not m.group(2).startswith("ffn_")):
            raise ModelError("%s: unexpected tensor %s" % (path, name))
        arr = g.tensor(name)
        if m.group(3):
            # llama.cpp's build_lora_mm_id: lora_a ne {in, r, X} -> numpy (X, r, in),
            # lora_b ne {r, out, X} -> (X, out, r); expert e's pair is [e].
            for e in range(arr.shape[0]):
                key = (int(m.group(1)), "%s_e.%d" % (_GGUF_TARGETS[m.group(2)], e))
                pairs.setdefault(key, [None, None])[0 if m.group(4) == "a" else 1] = arr[e]
            continue
        key = (int(m.group(1)), _GGUF_TARGETS[m.group(2)])
        # lora_a ne {in, r} -> numpy (r, in) = A; lora_b ne {r, out} -> (out, r) = B
        pairs.setdefault(key, [None, None])[0 if m.group(4) == "a" else 1] = arr
    return {key: (A, B, float(alpha / A.shape[0]) if alpha else 1.0) for key, (A, B) in pairs.items()}


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def _int_list(s: str) -> List[int]:
    s = s.strip()
    if not s:
        return []
    return [int(t) for t in s.split(",")]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="numpy reference forward pass for Qwen2/Qwen3/Qwen3-MoE GGUF models")
    ap.add_argument("model", help="GGUF model file")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--positions", help="comma-separated positions (default 0..n-1)")
    ap.add_argument("--all", action="store_true", help="write logits of every token, not just the last")
    ap.add_argument("--out", required=True, help="output file: little-endian float32 logits")
    ap.add_argument("--allow-unused-tensors", action="store_true",
                    help="do not fail on tensors the reference does not use")
    ap.add_argument("--dump-dir", help="write every named intermediate tensor to DIR/<name>.f32")
    ap.add_argument("--lora", action="append", default=[], metavar="PATH[:SCALE]",
                    help="apply a LoRA adapter (GGUF file or PEFT directory), repeatable")
    ap.add_argument("--chunk", type=int, default=0,
                    help="evaluate in batches of this many tokens through the cache (long inputs)")
    args = ap.parse_args(argv)

    tokens = _int_list(args.tokens)
    if not tokens:
        ap.error("--tokens is empty")
    positions = _int_list(args.positions) if args.positions is not None else None
    dumped: Dict[str, List[int]] = {}

    def dump(name: str, a: np.ndarray) -> None:
        a.astype("<f4").tofile(os.path.join(args.dump_dir, name + ".f32"))
        dumped[name] = [int(a.shape[0]), int(a.shape[1])]

    if args.dump_dir:
        if args.chunk > 0:
            ap.error("--dump-dir takes one forward pass: leave out --chunk")
        os.makedirs(args.dump_dir, exist_ok=True)
    try:
        model = QwenReference(args.model, allow_unused_tensors=args.allow_unused_tensors)
        for spec in args.lora:
            lpath, lscale = spec, 1.0
            head, sep, tail = spec.rpartition(":")
            if sep and head:
                try:
                    lpath, lscale = head, float(tail)
                except ValueError:
                    pass
            model.add_lora(lpath, lscale)
        if args.chunk > 0:
            parts = []
            for s0 in range(0, len(tokens), args.chunk):
                pos = positions[s0:s0 + args.chunk] if positions is not None else list(range(s0, min(len(tokens), s0 + args.chunk)))
                parts.append(model.forward(tokens[s0:s0 + args.chunk], pos))
            logits = np.concatenate(parts, axis=0)
        else:
            logits = model.forward(tokens, positions, dump if args.dump_dir else None)
    except (ValueError, OSError) as e:
        print("qwen_ref: error: %s" % e, file=sys.stderr)
        return 1
    if args.dump_dir:
        with open(os.path.join(args.dump_dir, "index.json"), "w") as f:
            json.dump(dumped, f)
    if not args.all:
        logits = logits[-1:]
    logits.astype("<f4").tofile(args.out)
    print(json.dumps({"tokens": len(tokens), "vocab": int(logits.shape[1]),
                      "argmax": [int(a) for a in np.argmax(logits, axis=1)]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
