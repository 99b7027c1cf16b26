#!/usr/bin/python3
"""Writes a model trained by train.py as a GGUF file laid out as real Qwen3 files
are (llama.cpp's converter): architecture `qwen3`, the `qwen3.*` hyperparameter
keys, tensors token_embd (tied: no output.weight), blk.N.attn_{norm,q,k,v,output},
attn_{q,k}_norm, ffn_{norm,gate,up,down}, output_norm, and the tokenizer as
tokenizer.ggml.* metadata (model gpt2, pre qwen2, tokens, token_type, merges,
bos/eos/padding = <|endoftext|>).

  export_gguf.py --model out/run/model.pt --tokenizer out/tokenizer.json --out m-f32.gguf [--type f16]

Matrices are written as --type (f32 or f16); norms stay f32. `astfill quantize
IN OUT --type q8_0` makes the 8-bit file from the result.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
from gguf_reader import GGML_F16, GGML_F32, T_ARRAY, T_BOOL, T_INT32, T_STRING  # noqa: E402
from gguf_writer import GGUFWriter  # noqa: E402
from qwen_tokenizer import Tokenizer  # noqa: E402

# Hugging Face Qwen3 parameter name (per layer) -> GGUF tensor name
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
FILE_TYPE = {"f32": 0, "f16": 1}


def gguf_tensors(state: dict, n_layers: int):
    """(gguf name, numpy array in PyTorch [out, in] order) in llama.cpp's order."""
    yield "token_embd.weight", state["embed_tokens.weight"]
    for i in range(n_layers):
        for hf, gg in LAYER_NAMES.items():
            yield "blk.%d.%s" % (i, gg), state["layers.%d.%s" % (i, hf)]
    yield "output_norm.weight", state["norm.weight"]


def export(model_path: str, tokenizer_path: str, out: str, wtype: str = "f32",
           name: str = "astfill-demo", context_length: int = 0) -> None:
    ck = torch.load(model_path, map_location="cpu")
    cfg = ck["config"]
    state = {k: v.detach().float().numpy() for k, v in ck["model"].items()}
    tok = Tokenizer(tokenizer_path)
    if tok.n_vocab != cfg["vocab_size"]:
        raise SystemExit("tokenizer has %d tokens, the model %d" % (tok.n_vocab, cfg["vocab_size"]))

    w = GGUFWriter()
    a = "qwen3."
    w.add_string("general.architecture", "qwen3")
    w.add_string("general.name", name)
    langs = ck.get("languages") or []
    data = ("code in %s" % ", ".join(langs)) if len(langs) > 1 else "the Python standard library"
    w.add_string("general.description",
                 "astfill demo model: Qwen3 architecture, %d layers x %d, trained with tools/train on "
                 "%s with fill-in-the-middle" % (cfg["layers"], cfg["hidden"], data))
    w.add_u32("general.file_type", FILE_TYPE[wtype])
    w.add_u32(a + "context_length", context_length or cfg["context"])
    w.add_u32(a + "embedding_length", cfg["hidden"])
    w.add_u32(a + "block_count", cfg["layers"])
    w.add_u32(a + "feed_forward_length", cfg["ffn"])
    w.add_u32(a + "attention.head_count", cfg["heads"])
    w.add_u32(a + "attention.head_count_kv", cfg["kv_heads"])
    w.add_u32(a + "attention.key_length", cfg["head_dim"])
    w.add_u32(a + "attention.value_length", cfg["head_dim"])
    w.add_f32(a + "attention.layer_norm_rms_epsilon", cfg["eps"])
    w.add_f32(a + "rope.freq_base", cfg["rope_theta"])
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "qwen2")
    w.add("tokenizer.ggml.tokens", (T_ARRAY, T_STRING), tok.id_to_text)
    w.add("tokenizer.ggml.token_type", (T_ARRAY, T_INT32), [tok.token_type(i) for i in range(tok.n_vocab)])
    w.add("tokenizer.ggml.merges", (T_ARRAY, T_STRING), tok.merges)
    w.add_u32("tokenizer.ggml.bos_token_id", tok.eot)
    w.add_u32("tokenizer.ggml.eos_token_id", tok.eot)
    w.add_u32("tokenizer.ggml.padding_token_id", tok.eot)
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, False)

    for gname, arr in gguf_tensors(state, cfg["layers"]):
        t = GGML_F16 if (wtype == "f16" and arr.ndim == 2) else GGML_F32
        w.add_tensor(gname, arr, t)
    used = {"embed_tokens.weight", "norm.weight"} | {
        "layers.%d.%s" % (i, hf) for i in range(cfg["layers"]) for hf in LAYER_NAMES}
    if used != set(state):
        raise SystemExit("parameters not exported: %s" % sorted(set(state) - used))
    w.write(out)
    print("wrote %s: %d tensors, %s, %.1f MiB" % (out, len(w.tensors), wtype, os.path.getsize(out) / 1048576))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model.pt (or ckpt.pt) from train.py")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", choices=sorted(FILE_TYPE), default="f32")
    ap.add_argument("--name", default="astfill-demo")
    ap.add_argument("--context-length", type=int, default=0,
                    help="qwen3.context_length to write (default: the trained sequence length)")
    args = ap.parse_args()
    export(args.model, args.tokenizer, args.out, args.type, args.name, args.context_length)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
