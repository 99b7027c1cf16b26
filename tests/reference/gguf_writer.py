"""Tiny GGUF v3 writer for the reference self-checks (numpy + standard library only).

Supports every metadata value type (including nested arrays) and F32, F16, BF16,
Q8_0 and Q4_0 tensors, either encoded from a float array or given as raw bytes.
"""

from __future__ import annotations

import struct
from typing import Any, List, Sequence, Tuple

import numpy as np

from gguf_reader import (
    DEFAULT_ALIGNMENT, GGML_BF16, GGML_F16, GGML_F32, GGML_Q4_0, GGML_Q8_0, T_ARRAY, T_BOOL,
    T_FLOAT32, T_FLOAT64, T_INT8, T_INT16, T_INT32, T_INT64, T_STRING, T_UINT8, T_UINT16,
    T_UINT32, T_UINT64,
)

_FMT = {
    T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
    T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
    T_FLOAT64: "<d",
}


def _str(s) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def encode_value(vtype, value) -> bytes:
    """Encode a value without its type tag.  vtype is a type id, or (T_ARRAY, elem)
    where elem may itself be (T_ARRAY, ...) for nested arrays."""
    if isinstance(vtype, tuple):
        assert vtype[0] == T_ARRAY
        elem = vtype[1]
        elem_id = elem[0] if isinstance(elem, tuple) else elem
        out = struct.pack("<IQ", elem_id, len(value))
        return out + b"".join(encode_value(elem, v) for v in value)
    if vtype == T_STRING:
        return _str(value)
    return struct.pack(_FMT[vtype], value)


def quantize_q8_0(x: np.ndarray) -> bytes:
    x = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.max(np.abs(x), axis=1)
    d = (amax / 127.0).astype(np.float16)
    df = d.astype(np.float32)
    inv = np.where(df > 0, 1.0 / np.where(df > 0, df, 1), 0.0)
    q = np.clip(np.rint(x * inv[:, None]), -127, 127).astype(np.int8)
    blocks = np.zeros(x.shape[0], dtype=np.dtype([("d", "<f2"), ("q", "i1", (32,))]))
    blocks["d"] = d
    blocks["q"] = q
    return blocks.tobytes()


def quantize_q4_0(x: np.ndarray) -> bytes:
    x = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.max(np.abs(x), axis=1)
    d = (amax / 7.0).astype(np.float16)
    df = d.astype(np.float32)
    inv = np.where(df > 0, 1.0 / np.where(df > 0, df, 1), 0.0)
    q = np.clip(np.rint(x * inv[:, None]) + 8, 0, 15).astype(np.uint8)
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    blocks = np.zeros(x.shape[0], dtype=np.dtype([("d", "<f2"), ("q", "u1", (16,))]))
    blocks["d"] = d
    blocks["q"] = packed
    return blocks.tobytes()


def encode_tensor(arr: np.ndarray, ggml_type: int) -> bytes:
    arr = np.ascontiguousarray(arr)
    if ggml_type in (GGML_Q8_0, GGML_Q4_0) and (arr.ndim == 0 or arr.shape[-1] % 32):
        raise ValueError("writer: ne[0]=%s is not a multiple of 32" % (arr.shape[-1:],))
    if ggml_type == GGML_F32:
        return arr.astype("<f4").tobytes()
    if ggml_type == GGML_F16:
        return arr.astype("<f2").tobytes()
    if ggml_type == GGML_BF16:
        bits = arr.astype("<f4").view("<u4")
        # round to nearest even on the dropped 16 bits
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        return rounded.astype("<u2").tobytes()
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(arr)
    if ggml_type == GGML_Q4_0:
        return quantize_q4_0(arr)
    raise ValueError("writer: unsupported ggml type %d" % ggml_type)


class GGUFWriter:
    def __init__(self, alignment: int = DEFAULT_ALIGNMENT, version: int = 3):
        self.alignment = alignment
        self.version = version
        self.kv: List[Tuple[str, Any, Any]] = []
        self.tensors: List[Tuple[str, Tuple[int, ...], int, bytes]] = []
        if alignment != DEFAULT_ALIGNMENT:
            self.add("general.alignment", T_UINT32, alignment)

    def add(self, key: str, vtype, value) -> None:
        self.kv.append((key, vtype, value))

    def add_string(self, key: str, value: str) -> None:
        self.add(key, T_STRING, value)

    def add_u32(self, key: str, value: int) -> None:
        self.add(key, T_UINT32, value)

    def add_f32(self, key: str, value: float) -> None:
        self.add(key, T_FLOAT32, value)

    def add_raw_tensor(self, name: str, ne: Sequence[int], ggml_type: int, data: bytes) -> None:
        self.tensors.append((name, tuple(int(d) for d in ne), ggml_type, bytes(data)))

    def add_tensor(self, name: str, arr: np.ndarray, ggml_type: int = GGML_F32) -> None:
        """arr has numpy shape (ne reversed)."""
        arr = np.asarray(arr)
        ne = tuple(reversed(arr.shape))
        self.add_raw_tensor(name, ne, ggml_type, encode_tensor(arr, ggml_type))

    def to_bytes(self) -> bytes:
        a = self.alignment
        out = bytearray(b"GGUF")
        out += struct.pack("<Iqq", self.version, len(self.tensors), len(self.kv))
        for key, vtype, value in self.kv:
            type_id = vtype[0] if isinstance(vtype, tuple) else vtype
            out += _str(key) + struct.pack("<I", type_id) + encode_value(vtype, value)
        offsets = []
        off = 0
        for name, ne, ttype, data in self.tensors:
            offsets.append(off)
            off = (off + len(data) + a - 1) // a * a
        for (name, ne, ttype, data), o in zip(self.tensors, offsets):
            out += _str(name) + struct.pack("<I", len(ne))
            out += b"".join(struct.pack("<q", d) for d in ne)
            out += struct.pack("<IQ", ttype, o)
        out += b"\0" * ((-len(out)) % a)
        for (name, ne, ttype, data), o in zip(self.tensors, offsets):
            out += data
            out += b"\0" * ((-len(out)) % a)
        return bytes(out)

    def write(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.to_bytes())
