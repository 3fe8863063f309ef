"""Red team 27: the torch-free reader of the shipped weights against crafted files, and the
filling tool against a damaged shipped file (a clear error, never a traceback or a crash)."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vit_inpaint.fill.model import SHIPPED, shipped_inpainter
from vit_inpaint.storage.images import CheckpointError
from vit_inpaint.storage.plain_checkpoint import PlainCheckpointError, read_plain_checkpoint

DATA = np.arange(16, dtype=np.float32).tobytes()


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _int(n: int) -> bytes:
    return b"J" + n.to_bytes(4, "little", signed=True)


def _text(t: str) -> bytes:
    return b"X" + len(t.encode()).to_bytes(4, "little") + t.encode()


def _tensor(count: int, offset: int, size, stride, key: str = "0") -> bytes:
    """A protocol-2 pickle of {"t": _rebuild_tensor_v2(storage, offset, size, stride, False)}."""
    record = b"(" + _text("storage") + _global("torch", "FloatStorage") + _text(key)
    record += _text("cpu") + _int(count) + b"tQ"
    size = b"(" + b"".join(_int(n) for n in size) + b"t"
    stride = b"(" + b"".join(_int(n) for n in stride) + b"t"
    call = _global("torch._utils", "_rebuild_tensor_v2") + b"(" + record + _int(offset)
    return b"\x80\x02}" + _text("t") + call + size + stride + b"\x89NtRs."


def _zip(path: Path, pickled: bytes, compress=zipfile.ZIP_STORED, storage: bytes = DATA) -> Path:
    with zipfile.ZipFile(path, "w", compress) as archive:
        archive.writestr("archive/data.pkl", pickled)
        archive.writestr("archive/byteorder", b"little")
        archive.writestr("archive/data/0", storage)
    return path


def test_a_plain_tensor_reads(tmp_path):
    t = read_plain_checkpoint(_zip(tmp_path / "ok.ckpt", _tensor(16, 0, [4, 4], [4, 1])))["t"]
    np.testing.assert_array_equal(t, np.arange(16, dtype=np.float32).reshape(4, 4))


@pytest.mark.parametrize(
    "count, offset, size, stride",
    [
        (16, 0, [4, 4], [100_000_000, 1]),  # far past the storage: a segfault before
        (16, -3, [4, 4], [4, 1]),  # read 13 bytes of memory past the storage before
        (16, 0, [4, 4], [-4, 1]),
        (16, 100, [4, 4], [4, 1]),
        (16, 1, [4, 4], [4, 1]),  # one element past the end
        (16, 0, [-4, 4], [4, 1]),
        (16, 0, [100_000, 100_000], [1, 1]),
        (2**31 - 1, 0, [4, 4], [4, 1]),  # more elements than the storage holds
        (-5, 0, [4, 4], [4, 1]),
    ],
)
def test_a_tensor_outside_its_storage_is_refused(tmp_path, count, offset, size, stride):
    path = _zip(tmp_path / "bad.ckpt", _tensor(count, offset, size, stride))
    with pytest.raises(PlainCheckpointError):
        read_plain_checkpoint(path)


def test_a_persistent_record_that_is_not_a_tuple_is_refused(tmp_path):
    path = _zip(tmp_path / "bad.ckpt", b"\x80\x02}" + _text("t") + _text("a") + b"Qs.")
    with pytest.raises(PlainCheckpointError):
        read_plain_checkpoint(path)


def test_a_compressed_storage_is_refused_before_it_is_inflated(tmp_path):
    path = _zip(tmp_path / "bomb.ckpt", _tensor(16, 0, [4, 4], [4, 1]), zipfile.ZIP_DEFLATED)
    with pytest.raises(PlainCheckpointError, match="compressed"):
        read_plain_checkpoint(path)


def test_code_in_the_pickle_never_runs(tmp_path):
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = _zip(tmp_path / "evil.ckpt", pickle.dumps({"t": Evil()}, protocol=2))
    with pytest.raises(PlainCheckpointError):
        read_plain_checkpoint(path)
    assert not marker.exists()


def _damaged(tmp_path: Path, name: str) -> Path:
    torch = pytest.importorskip("torch")
    checkpoint = torch.load(SHIPPED, weights_only=True)
    head = next(key for key in checkpoint["state_dict"] if key.endswith("head.weight"))
    if name == "nan":
        checkpoint["state_dict"][head][0, 0] = float("nan")
    elif name == "shape":
        checkpoint["state_dict"][head] = checkpoint["state_dict"][head][:, :3].clone()
    elif name == "missing":
        del checkpoint["state_dict"][head]
    elif name == "no state_dict":
        del checkpoint["state_dict"]
    elif name == "bad settings":
        checkpoint["hyper_parameters"]["model"]["bogus"] = 1
    elif name == "bfloat16":
        checkpoint["state_dict"] = {k: v.bfloat16() for k, v in checkpoint["state_dict"].items()}
    path = tmp_path / "inpainter.ckpt"
    if name == "truncated":
        path.write_bytes(SHIPPED.read_bytes()[: SHIPPED.stat().st_size // 2])
    else:
        torch.save(checkpoint, path)
    return path


DAMAGES = ["nan", "shape", "missing", "no state_dict", "bad settings", "bfloat16", "truncated"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_shipped_file_is_a_checkpoint_error(tmp_path, damage):
    with pytest.raises(CheckpointError, match="shipped inpainter is damaged"):
        shipped_inpainter(_damaged(tmp_path, damage))
