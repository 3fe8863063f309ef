"""Reads a checkpoint that holds only tensors, numbers, strings, lists and dicts (the shipped
weights, written by fill/model.py `ship`) into numpy arrays, without importing torch.

`import torch` alone takes 1.5-3 s on the project's 2-core machine, longer than the whole fill of
a small photograph by the shipped inpainter (BENCHMARKS.md "Inpainter speed"), so the filling
tool reads the shipped file this way (fill/numpy_vit.py runs the network).

The file is torch.save's zip format: `<name>/data.pkl`, a pickle whose tensors refer to raw
storages `<name>/data/<key>` (little-endian). The unpickler here is restricted: it rebuilds
`torch._utils._rebuild_tensor_v2` tensors of the dtypes numpy has and OrderedDicts, and refuses
every other global with PlainCheckpointError; a file that holds anything else (optimizer or
callback objects of a training checkpoint, bfloat16 weights) is for torch.load to read.
"""

from __future__ import annotations

import collections
import math
import os
import pickle
import zipfile

import numpy as np

# torch's storage classes in a checkpoint, as numpy dtypes (bfloat16 has none).
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


# A LightningModule's state_dict holds its network under self.model: "model.embed.weight", ...
PREFIX = "model."


def model_state(checkpoint: dict) -> dict:
    """The network's weights (`embed.weight`, ...): the module's state_dict without "model.", of
    a checkpoint read by torch (tasks/checkpoints.py) or by read_plain_checkpoint alike."""
    return {
        key[len(PREFIX) :]: value
        for key, value in checkpoint["state_dict"].items()
        if key.startswith(PREFIX)
    }


class PlainCheckpointError(ValueError):
    """The file is not a torch zip checkpoint of plain tensors and containers."""


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, meta=None):
    """torch._utils._rebuild_tensor_v2's arguments -> a numpy array (a copy, C-ordered).
    as_strided reads memory without bounds checks: every element the view would reach must lie
    inside the storage (a crafted file could otherwise read, or crash on, memory past it)."""
    if not isinstance(storage, np.ndarray):
        raise PlainCheckpointError("holds a tensor whose storage is not a storage record")
    numbers = [offset, *size, *stride]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise PlainCheckpointError(f"holds a tensor of bad offset, size or stride {numbers}")
    if len(size) != len(stride):
        raise PlainCheckpointError("holds a tensor whose size and stride differ in length")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if 0 not in size and last >= storage.size:
        raise PlainCheckpointError("holds a tensor that reaches past its storage")
    if 0 in size:
        return np.zeros(tuple(size), dtype=storage.dtype)
    if math.prod(size) > storage.size:  # only an expanded view (stride 0) has more: none saved
        raise PlainCheckpointError(f"holds a tensor of {list(size)}, more than its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=[s * storage.itemsize for s in stride]
    )
    return np.ascontiguousarray(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, archive: zipfile.ZipFile, prefix: str, data: bytes):
        import io

        super().__init__(io.BytesIO(data))
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise PlainCheckpointError(f"holds a {module}.{name}, not only plain tensors")

    def persistent_load(self, saved_id):
        # ("storage", FloatStorage, "0", "cpu", n)
        if not (isinstance(saved_id, tuple) and len(saved_id) == 5):
            raise PlainCheckpointError("holds a persistent record that is not a storage")
        kind, dtype, key, _location, count = saved_id
        if kind != "storage":
            raise PlainCheckpointError(f"holds a {kind!r} record, not only storages")
        if dtype not in STORAGE_DTYPES.values() or not isinstance(key, str):
            raise PlainCheckpointError("holds a storage record of an unknown type")
        if not isinstance(count, int) or count < 0:
            raise PlainCheckpointError(f"holds a storage of {count!r} elements")
        # torch.save stores storages uncompressed: a compressed one could inflate without bound.
        info = self.archive.getinfo(f"{self.prefix}/data/{key}")
        if info.compress_type != zipfile.ZIP_STORED:
            raise PlainCheckpointError(f"holds a compressed storage {key!r}")
        if info.file_size < count * np.dtype(dtype).itemsize:
            raise PlainCheckpointError(f"storage {key!r} is shorter than its {count} elements")
        raw = self.archive.read(info)
        return np.frombuffer(raw, dtype=dtype, count=count)


def read_plain_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's dict, its tensors as numpy arrays; PlainCheckpointError for a file that
    is not torch's zip format, is big-endian, or holds anything but plain tensors and containers."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pickles = [name for name in names if name.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise PlainCheckpointError("is not a torch.save zip file (no single data.pkl)")
            prefix = pickles[0][: -len("/data.pkl")]
            order = f"{prefix}/byteorder"
            if order in names and archive.read(order).strip() != b"little":
                raise PlainCheckpointError("is big-endian")
            return _Unpickler(archive, prefix, archive.read(pickles[0])).load()
    except PlainCheckpointError:
        raise
    except (zipfile.BadZipFile, KeyError, EOFError, pickle.UnpicklingError, ValueError, TypeError,
            IndexError, AttributeError, MemoryError, OverflowError) as err:  # fmt: skip
        raise PlainCheckpointError(f"is not a readable torch.save zip file ({err})") from err
