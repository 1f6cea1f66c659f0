"""safetensors read and written by a few lines of our own (the `safetensors` package is not required):
an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw
little-endian bytes. Written as F32 with sorted keys and 8-byte-aligned data, like the engine
(engine/checkpoint/safetensors.ts), so equal dicts give identical bytes on both sides."""
from __future__ import annotations

import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "U8": np.dtype("u1"), "BOOL": np.dtype("u1"),
}


def parse(buf: bytes, source: str = "safetensors") -> dict[str, torch.Tensor]:
    """Every tensor as float32 (as the engine reads them)."""
    if len(buf) < 8:
        raise ValueError(f"{source}: not a safetensors file (shorter than its 8-byte header length)")
    (header_len,) = struct.unpack("<Q", buf[:8])
    if header_len > len(buf) - 8:
        raise ValueError(f"{source}: header length {header_len} exceeds file size")
    try:
        header = json.loads(buf[8:8 + header_len].decode("utf8"))
    except ValueError as err:
        raise ValueError(f"{source}: header is not valid JSON ({err})") from err
    base = 8 + header_len
    out: dict[str, torch.Tensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64))
        if dtype == "BF16":
            raw = np.frombuffer(buf, dtype="<u2", count=count, offset=base + start).astype(np.uint32) << 16
            values = raw.view(np.float32)
        elif dtype in _DTYPES:
            if end - start != count * _DTYPES[dtype].itemsize or base + end > len(buf):
                raise ValueError(f"{source}: tensor {name} has inconsistent offsets [{start}, {end}) for shape {shape}")
            values = np.frombuffer(buf, dtype=_DTYPES[dtype], count=count, offset=base + start)
        else:
            raise ValueError(f"{source}: tensor {name} has unsupported dtype {dtype}")
        out[name] = torch.from_numpy(values.astype(np.float32).reshape(shape))
    return out


def read(path: str) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        return parse(f.read(), path)


def serialize(tensors: dict[str, torch.Tensor]) -> bytes:
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        data = tensors[name].detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text.encode("utf8"))) % 8) % 8)
    head = text.encode("utf8")
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)
