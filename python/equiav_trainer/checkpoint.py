"""A run's checkpoints in the workbench's format (engine/checkpoint/store.ts): `<run>/checkpoints/step-<N>/`
holding weights.safetensors (engine orientation), optimizer.safetensors (`step`, `m.<name>`, `v.<name>`)
and state.json (format 1: step, savedAt, each file's size and SHA-256, the trainer's state). Written whole
into `step-<N>.tmp-<pid>` and renamed into place, so a `step-<N>` directory is always complete."""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil

from . import safetensors_io

WEIGHTS = "weights.safetensors"
OPTIMIZER = "optimizer.safetensors"
STATE = "state.json"
FORMAT = 1
_COMPLETE = re.compile(r"^step-(\d+)$")
_INCOMPLETE = re.compile(r"^step-\d+\.(?:tmp|old|del)-(\d+)$")


def now_iso() -> str:
    """An ISO time like JavaScript's toISOString (UTC, milliseconds, Z)."""
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durable(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def list_checkpoints(run_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints as (step, dir), oldest first."""
    root = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        m = _COMPLETE.match(name)
        d = os.path.join(root, name)
        if m and os.path.isfile(os.path.join(d, STATE)):
            found.append((int(m.group(1)), d))
    return sorted(found)


def clean_incomplete(run_dir: str) -> None:
    root = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(root):
        return
    for name in os.listdir(root):
        m = _INCOMPLETE.match(name)
        if m and (int(m.group(1)) == os.getpid() or not _alive(int(m.group(1)))):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def save(run_dir: str, step: int, weights: dict, optimizer: dict, state: dict, keep: int = 0) -> str:
    root = os.path.join(run_dir, "checkpoints")
    os.makedirs(root, exist_ok=True)
    clean_incomplete(run_dir)
    final = os.path.join(root, f"step-{step}")
    temp = f"{final}.tmp-{os.getpid()}"
    old = f"{final}.old-{os.getpid()}"
    os.mkdir(temp)
    try:
        files = {}
        for name, tensors in ((WEIGHTS, weights), (OPTIMIZER, optimizer)):
            data = safetensors_io.serialize(tensors)
            _write_durable(os.path.join(temp, name), data)
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        manifest = {"format": FORMAT, "step": step, "savedAt": now_iso(), "files": files, "state": state}
        _write_durable(os.path.join(temp, STATE), (json.dumps(manifest, indent=2) + "\n").encode("utf8"))
        _fsync_dir(temp)
        if os.path.exists(final):
            os.rename(final, old)
        os.rename(temp, final)
        _fsync_dir(root)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if keep > 0:
        prune(run_dir, keep)
    return final


def prune(run_dir: str, keep: int) -> None:
    all_ = list_checkpoints(run_dir)
    for _, d in all_[: max(0, len(all_) - keep)]:
        doomed = f"{d}.del-{os.getpid()}"
        os.rename(d, doomed)
        shutil.rmtree(doomed, ignore_errors=True)


def load(directory: str) -> dict:
    """{'step', 'state', 'weights', 'optimizer'} of one checkpoint, each file checked against state.json."""
    state_path = os.path.join(directory, STATE)
    with open(state_path, encoding="utf8") as f:
        try:
            manifest = json.load(f)
        except ValueError as err:
            raise ValueError(f"{state_path}: not valid JSON ({err})") from err
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("step"), int):
        raise ValueError(f"{state_path}: not a format-{FORMAT} checkpoint manifest")
    out = {"step": manifest["step"], "state": manifest.get("state", {}), "dir": directory}
    for key, name in (("weights", WEIGHTS), ("optimizer", OPTIMIZER)):
        path = os.path.join(directory, name)
        record = manifest["files"][name]
        if not os.path.isfile(path):
            raise ValueError(f"{path}: checkpoint file is missing")
        with open(path, "rb") as f:
            data = f.read()
        if len(data) != record["bytes"]:
            raise ValueError(f"{path}: {len(data)} bytes, but state.json records {record['bytes']} (truncated or corrupt)")
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ValueError(f"{path}: SHA-256 does not match state.json (corrupt)")
        out[key] = safetensors_io.parse(data, path)
    return out


def load_latest(run_dir: str) -> dict | None:
    all_ = list_checkpoints(run_dir)
    return load(all_[-1][1]) if all_ else None
