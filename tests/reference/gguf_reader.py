"""Minimal, self-contained GGUF (v2/v3) reader used by the numpy reference model.

Written from the GGUF format description only; depends on numpy and the standard
library.  The file is memory-mapped; metadata is parsed eagerly, tensor data is
dequantized on request into float32 numpy arrays whose shape is ``ne`` reversed
(a 2-D weight with ne = {in, out} becomes an array of shape (out, in), so the
layer computes ``y = x @ W.T``).

Supported tensor types: F32, F16, BF16, Q8_0, Q4_0.  Anything else raises
``UnsupportedTensorType``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4

# --- metadata value types -------------------------------------------------
T_UINT8 = 0
T_INT8 = 1
T_UINT16 = 2
T_INT16 = 3
T_UINT32 = 4
T_INT32 = 5
T_FLOAT32 = 6
T_BOOL = 7
T_STRING = 8
T_ARRAY = 9
T_UINT64 = 10
T_INT64 = 11
T_FLOAT64 = 12

# fixed-size scalar types: type -> (struct format, size)
_SCALAR_FORMATS = {
    T_UINT8: ("<B", 1),
    T_INT8: ("<b", 1),
    T_UINT16: ("<H", 2),
    T_INT16: ("<h", 2),
    T_UINT32: ("<I", 4),
    T_INT32: ("<i", 4),
    T_FLOAT32: ("<f", 4),
    T_BOOL: ("<B", 1),
    T_UINT64: ("<Q", 8),
    T_INT64: ("<q", 8),
    T_FLOAT64: ("<d", 8),
}
# numpy dtypes for fast parsing of scalar arrays
_SCALAR_NP = {
    T_UINT8: "<u1",
    T_INT8: "<i1",
    T_UINT16: "<u2",
    T_INT16: "<i2",
    T_UINT32: "<u4",
    T_INT32: "<i4",
    T_FLOAT32: "<f4",
    T_BOOL: "<u1",
    T_UINT64: "<u8",
    T_INT64: "<i8",
    T_FLOAT64: "<f8",
}
INTEGER_TYPES = {T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_UINT64, T_INT64}
FLOAT_TYPES = {T_FLOAT32, T_FLOAT64}

VALUE_TYPE_NAMES = {
    T_UINT8: "u8", T_INT8: "i8", T_UINT16: "u16", T_INT16: "i16", T_UINT32: "u32",
    T_INT32: "i32", T_FLOAT32: "f32", T_BOOL: "bool", T_STRING: "string",
    T_ARRAY: "array", T_UINT64: "u64", T_INT64: "i64", T_FLOAT64: "f64",
}

# --- tensor (ggml) types ----------------------------------------------------
GGML_F32 = 0
GGML_F16 = 1
GGML_Q4_0 = 2
GGML_Q8_0 = 8
GGML_BF16 = 30

# Names of the ggml type ids, for error messages only.
GGML_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0",
    9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K",
    15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
    20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16",
    26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
}

# type -> (values per block, bytes per block)
_BLOCK_LAYOUT = {
    GGML_F32: (1, 4),
    GGML_F16: (1, 2),
    GGML_BF16: (1, 2),
    GGML_Q8_0: (32, 34),
    GGML_Q4_0: (32, 18),
}


class GGUFError(ValueError):
    """Malformed or unreadable GGUF file."""


class UnsupportedTensorType(GGUFError):
    """The tensor uses a ggml type this reader cannot dequantize."""


def ggml_type_name(t: int) -> str:
    return GGML_TYPE_NAMES.get(t, "unknown type %d" % t)


@dataclass
class TensorInfo:
    name: str
    ne: Tuple[int, ...]  # ne[0] is the contiguous (row) dimension
    ggml_type: int
    offset: int  # relative to the data section

    @property
    def shape(self) -> Tuple[int, ...]:
        """numpy shape: ne reversed."""
        return tuple(reversed(self.ne))

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.ne:
            n *= d
        return n

    @property
    def type_name(self) -> str:
        return ggml_type_name(self.ggml_type)

    def n_bytes(self) -> int:
        if self.ggml_type not in _BLOCK_LAYOUT:
            raise UnsupportedTensorType(
                "tensor %r has unsupported ggml type %s (supported: F32, F16, BF16, Q8_0, Q4_0)"
                % (self.name, self.type_name))
        block, size = _BLOCK_LAYOUT[self.ggml_type]
        if self.ne and self.ne[0] % block != 0:
            raise GGUFError("tensor %r: ne[0]=%d is not a multiple of the %s block size %d"
                            % (self.name, self.ne[0], self.type_name, block))
        return self.n_elements // block * size


class _Cursor:
    """Bounds-checked little-endian reader over a bytes-like buffer."""

    def __init__(self, buf, path: str):
        self.buf = buf
        self.pos = 0
        self.path = path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFError("%s: unexpected end of file at offset %d (need %d bytes)"
                            % (self.path, self.pos, n))
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def scalar(self, vtype: int):
        fmt, size = _SCALAR_FORMATS[vtype]
        return struct.unpack(fmt, self.take(size))[0]

    def u32(self) -> int:
        return self.scalar(T_UINT32)

    def u64(self) -> int:
        return self.scalar(T_UINT64)

    def i64(self) -> int:
        return self.scalar(T_INT64)

    def string(self) -> str:
        n = self.u64()
        raw = bytes(self.take(n))
        # surrogateescape keeps arbitrary (e.g. byte-level tokenizer) bytes lossless
        return raw.decode("utf-8", errors="surrogateescape")


class GGUFFile:
    """A parsed GGUF file.

    Attributes:
      version      GGUF version (2 or 3)
      metadata     dict key -> Python value (int/float/bool/str/list)
      value_types  dict key -> metadata value type id (arrays: (T_ARRAY, elem type))
      tensors      dict name -> TensorInfo, in file order
      alignment    data alignment
      data_offset  absolute file offset of the data section
    """

    def __init__(self, path: str):
        self.path = str(path)
        try:
            self._map = np.memmap(self.path, dtype=np.uint8, mode="r")
        except ValueError:
            # numpy cannot memory-map an empty file
            self._map = np.zeros(0, dtype=np.uint8)
        buf = memoryview(self._map)
        cur = _Cursor(buf, self.path)

        magic = bytes(cur.take(4)) if len(buf) >= 4 else bytes(buf)
        if magic != GGUF_MAGIC:
            raise GGUFError("%s: not a GGUF file (magic %r)" % (self.path, magic))
        self.version = cur.u32()
        if self.version not in (2, 3):
            raise GGUFError("%s: unsupported GGUF version %d (supported: 2, 3)"
                            % (self.path, self.version))
        n_tensors = cur.i64()
        n_kv = cur.i64()
        if n_tensors < 0 or n_kv < 0:
            raise GGUFError("%s: negative tensor/kv count" % self.path)

        self.metadata: Dict[str, Any] = {}
        self.value_types: Dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            vtype = cur.u32()
            if key in self.metadata:
                raise GGUFError("%s: duplicate metadata key %r" % (self.path, key))
            value, full_type = self._read_value(cur, vtype, key)
            self.metadata[key] = value
            self.value_types[key] = full_type

        self.tensors: Dict[str, TensorInfo] = {}
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.u32()
            if n_dims < 1 or n_dims > MAX_DIMS:
                raise GGUFError("%s: tensor %r has %d dimensions (1..%d allowed)"
                                % (self.path, name, n_dims, MAX_DIMS))
            ne = tuple(cur.i64() for _ in range(n_dims))
            if any(d < 0 for d in ne):
                raise GGUFError("%s: tensor %r has a negative dimension %r" % (self.path, name, ne))
            ttype = cur.u32()
            offset = cur.u64()
            if name in self.tensors:
                raise GGUFError("%s: duplicate tensor %r" % (self.path, name))
            self.tensors[name] = TensorInfo(name, ne, ttype, offset)

        align = self.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if isinstance(align, bool) or not isinstance(align, int) or align <= 0:
            raise GGUFError("%s: invalid general.alignment %r" % (self.path, align))
        self.alignment = align
        self.data_offset = (cur.pos + align - 1) // align * align
        if self.data_offset > len(buf):
            raise GGUFError("%s: data section starts past the end of the file" % self.path)

        # Validate extents of the tensors we can size (unsupported types are
        # only rejected when actually loaded).
        for info in self.tensors.values():
            if info.ggml_type not in _BLOCK_LAYOUT:
                continue
            start = self.data_offset + info.offset
            end = start + info.n_bytes()
            if end > len(buf):
                raise GGUFError("%s: tensor %r data [%d, %d) extends past end of file (%d bytes)"
                                % (self.path, info.name, start, end, len(buf)))

    # -- metadata ---------------------------------------------------------
    def _read_value(self, cur: _Cursor, vtype: int, key: str):
        if vtype in _SCALAR_FORMATS:
            v = cur.scalar(vtype)
            if vtype == T_BOOL:
                if v not in (0, 1):
                    raise GGUFError("%s: key %r: invalid bool byte %d" % (self.path, key, v))
                v = bool(v)
            return v, vtype
        if vtype == T_STRING:
            return cur.string(), vtype
        if vtype == T_ARRAY:
            etype = cur.u32()
            count = cur.u64()
            if etype in _SCALAR_NP:
                dt = np.dtype(_SCALAR_NP[etype])
                raw = cur.take(count * dt.itemsize)
                arr = np.frombuffer(raw, dtype=dt, count=count)
                if etype == T_BOOL:
                    if np.any(arr > 1):
                        raise GGUFError("%s: key %r: invalid bool byte in array" % (self.path, key))
                    values = [bool(x) for x in arr]
                else:
                    values = arr.tolist()
                return values, (T_ARRAY, etype)
            if etype == T_STRING:
                return [cur.string() for _ in range(count)], (T_ARRAY, etype)
            if etype == T_ARRAY:
                # nested arrays: each element is itself (u32 elem type, u64 count, elements)
                values = [self._read_value(cur, T_ARRAY, key)[0] for _ in range(count)]
                return values, (T_ARRAY, etype)
            raise GGUFError("%s: key %r: unknown array element type %d" % (self.path, key, etype))
        raise GGUFError("%s: key %r: unknown metadata value type %d" % (self.path, key, vtype))

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def get_int(self, key: str, default: Optional[int] = None) -> Optional[int]:
        """Integer metadata stored with any integer type."""
        if key not in self.metadata:
            return default
        t = self.value_types[key]
        if t not in INTEGER_TYPES:
            raise GGUFError("%s: key %r should be an integer, has type %s"
                            % (self.path, key, VALUE_TYPE_NAMES.get(t, t)))
        return int(self.metadata[key])

    def get_float(self, key: str, default: Optional[float] = None) -> Optional[float]:
        """Float metadata stored as f32 or f64 (integers are accepted too)."""
        if key not in self.metadata:
            return default
        t = self.value_types[key]
        if t not in FLOAT_TYPES and t not in INTEGER_TYPES:
            raise GGUFError("%s: key %r should be a number, has type %s"
                            % (self.path, key, VALUE_TYPE_NAMES.get(t, t)))
        return float(self.metadata[key])

    def get_str(self, key: str, default: Optional[str] = None) -> Optional[str]:
        if key not in self.metadata:
            return default
        if self.value_types[key] != T_STRING:
            raise GGUFError("%s: key %r should be a string" % (self.path, key))
        return self.metadata[key]

    # -- tensors ----------------------------------------------------------
    def has_tensor(self, name: str) -> bool:
        return name in self.tensors

    def tensor_info(self, name: str) -> TensorInfo:
        try:
            return self.tensors[name]
        except KeyError:
            raise GGUFError("%s: missing tensor %r" % (self.path, name)) from None

    def raw_bytes(self, name: str) -> np.ndarray:
        info = self.tensor_info(name)
        start = self.data_offset + info.offset
        return self._map[start:start + info.n_bytes()]

    def tensor(self, name: str) -> np.ndarray:
        """Dequantized float32 array of shape ne reversed (a fresh, writable copy)."""
        info = self.tensor_info(name)
        raw = self.raw_bytes(name)  # raises UnsupportedTensorType if needed
        flat = dequantize(raw, info.ggml_type, info.n_elements, info.name)
        return flat.reshape(info.shape)


def dequantize(raw: np.ndarray, ggml_type: int, n: int, name: str = "?") -> np.ndarray:
    """Decode n values of the given ggml type from a uint8 buffer into float32."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    if ggml_type == GGML_F32:
        return np.frombuffer(raw.tobytes(), dtype="<f4", count=n).astype(np.float32)
    if ggml_type == GGML_F16:
        return np.frombuffer(raw.tobytes(), dtype="<f2", count=n).astype(np.float32)
    if ggml_type == GGML_BF16:
        hi = np.frombuffer(raw.tobytes(), dtype="<u2", count=n).astype(np.uint32)
        return (hi << np.uint32(16)).view(np.float32).copy()
    if ggml_type == GGML_Q8_0:
        nb = n // 32
        blocks = np.frombuffer(raw.tobytes(), dtype=np.dtype([("d", "<f2"), ("q", "i1", (32,))]),
                               count=nb)
        d = blocks["d"].astype(np.float32)[:, None]
        return (blocks["q"].astype(np.float32) * d).reshape(-1)
    if ggml_type == GGML_Q4_0:
        nb = n // 32
        blocks = np.frombuffer(raw.tobytes(), dtype=np.dtype([("d", "<f2"), ("q", "u1", (16,))]),
                               count=nb)
        d = blocks["d"].astype(np.float32)[:, None]
        q = blocks["q"]
        lo = (q & 0x0F).astype(np.int8) - 8  # values 0..15 of the block
        hi = (q >> 4).astype(np.int8) - 8    # values 16..31
        vals = np.concatenate([lo, hi], axis=1).astype(np.float32)
        return (vals * d).reshape(-1)
    raise UnsupportedTensorType("tensor %r has unsupported ggml type %s (supported: F32, F16, "
                                "BF16, Q8_0, Q4_0)" % (name, ggml_type_name(ggml_type)))


def main(argv: Optional[List[str]] = None) -> int:
    """Debug helper: list metadata and tensors of a GGUF file."""
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    args = ap.parse_args(argv)
    g = GGUFFile(args.path)
    print("GGUF v%d, %d kv, %d tensors, alignment %d, data at %d"
          % (g.version, len(g.metadata), len(g.tensors), g.alignment, g.data_offset))
    for k, v in g.metadata.items():
        if isinstance(v, list) and len(v) > 8:
            v = "[%d items: %s ...]" % (len(v), ", ".join(repr(x) for x in v[:4]))
        print("  %s = %r" % (k, v))
    for t in g.tensors.values():
        print("  %-40s %-5s ne=%s offset=%d" % (t.name, t.type_name, list(t.ne), t.offset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
