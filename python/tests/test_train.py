"""The trainer end to end on a small CAV-MAE export: the run folder it writes (metrics rows, checkpoints in the
engine's format), resuming without gaps or duplicates, and clear errors for bad input."""
import json
import math
import os
import wave

import numpy as np
import pytest
from PIL import Image

from equiav_trainer import checkpoint
from equiav_trainer.data import CavMaeClips
from equiav_trainer.model import ModelConfig
from equiav_trainer.train import main

TINY = ModelConfig(embedDim=32, depth=1, numHeads=2, audioLength=64, imgSize=32, projHiddenDim=64, interProjOutDim=16,
                   intraProjOutDim=16, augEmbDim=16, predictorHeads=2, predictorHeadDim=8, cenNum=4)
NORM = {"fbank": {"mean": -4.0, "std": 4.0}, "frame": {"mean": [0.4, 0.4, 0.4], "std": [0.25, 0.25, 0.25]}, "source": "test"}


def write_export(root: str, clips: int, moved_from: str = "/nowhere") -> None:
    """A CAV-MAE export as `equiav dataset export --format cavmae` writes it; the datafile's absolute paths point
    at `moved_from` (the folder it was exported to before being copied here)."""
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(root, "audio"))
    data = []
    for i in range(clips):
        vid = f"clip{i}"
        t = np.arange(16000) / 16000
        samples = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.01 * rng.standard_normal(16000)
        with wave.open(os.path.join(root, "audio", f"{vid}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((samples * 32767).astype("<i2").tobytes())
        for k in range(10):
            os.makedirs(os.path.join(root, "frames", f"frame_{k}"), exist_ok=True)
            img = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
            Image.fromarray(img).save(os.path.join(root, "frames", f"frame_{k}", f"{vid}.jpg"))
        data.append({"video_id": vid, "wav": f"{moved_from}/audio/{vid}.wav", "video_path": f"{moved_from}/frames", "labels": "a"})
    with open(os.path.join(root, "train.json"), "w") as f:
        json.dump({"data": data}, f)


def run_config(size: int, batch: int = 4, steps: int = 3, objective: str = "equiav") -> dict:
    """config.json as the workbench writes it (RunConfig, engine/train/pretrain.ts)."""
    return {
        "run": "r", "created": "2026-01-01T00:00:00.000Z", "model": {**TINY.__dict__, "inputNorm": NORM}, "preset": "tiny",
        "objective": objective, "totalSteps": steps, "stepsPerEpoch": size // batch, "batchSize": batch, "lr": 1e-3,
        "warmupSteps": 1, "weightDecay": 1e-5, "clipNorm": 0.01, "tau": 0.07,
        "lossWeights": {"inter": 1 / 3, "intraA": 1 / 3, "intraV": 1 / 3}, "timeRoll": True, "seed": 0, "checkpointEvery": 2,
        "data": {"kind": "dataset", "name": "t", "describe": "test", "size": size},
        "backend": {"name": "wasm", "tfBackend": "wasm", "reason": "test"},
    }


@pytest.fixture()
def run(tmp_path):
    data, run_dir = tmp_path / "data", tmp_path / "run"
    write_export(str(data), 6)
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(run_config(6)))
    return str(data), str(run_dir)


def rows(run_dir: str) -> list:
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_trains_writes_the_run_folder_and_resumes_without_gaps(run):
    data, run_dir = run
    assert main(["--run-dir", run_dir, "--data", data, "--workers", "0"]) == 0
    first = rows(run_dir)
    assert [r["step"] for r in first] == [1, 2, 3]
    for r in first:
        assert set(r) >= {"step", "epoch", "loss", "loss_inter", "loss_intra_a", "loss_intra_v", "lr", "grad_norm", "spread_a",
                          "spread_v", "clips_per_s", "time"}
        assert math.isfinite(r["loss"]) and r["loss_intra_a"] > 0
    assert [s for s, _ in checkpoint.list_checkpoints(run_dir)] == [2, 3]
    latest = checkpoint.load_latest(run_dir)
    assert latest["optimizer"]["step"].item() == 3 and latest["state"]["rng"] == {"seed": 0, "step": 3}
    assert latest["weights"]["blocks_a.0.attn.qkv.weight"].shape == (32, 96)  # the engine's orientation
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["backend"]["name"] == "pytorch-cpu" and config["totalSteps"] == 3

    # a crash after step 4's metrics row but before its checkpoint: resuming drops the orphan row and redoes step 4
    with open(os.path.join(run_dir, "metrics.jsonl"), "a") as f:
        f.write(json.dumps({**first[-1], "step": 4}) + "\n")
    assert main(["--run-dir", run_dir, "--data", data, "--steps", "5", "--workers", "0"]) == 0
    after = rows(run_dir)
    assert [r["step"] for r in after] == [1, 2, 3, 4, 5]
    assert after[:3] == first
    assert [s for s, _ in checkpoint.list_checkpoints(run_dir)] == [3, 4, 5]  # the newest three are kept


def test_same_steps_in_one_go_or_resumed_give_the_same_losses(tmp_path, run):
    data, run_dir = run
    main(["--run-dir", run_dir, "--data", data, "--workers", "0", "--steps", "2"])
    main(["--run-dir", run_dir, "--data", data, "--workers", "0", "--steps", "3"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps(run_config(6)))
    main(["--run-dir", str(other), "--data", data, "--workers", "0"])
    for a, b in zip(rows(run_dir), rows(str(other))):
        assert a["step"] == b["step"] and abs(a["loss"] - b["loss"]) < 1e-5


def test_bad_input_names_the_file(tmp_path, run):
    data, run_dir = run
    with pytest.raises(SystemExit, match="config.json: no run config"):
        main(["--run-dir", str(tmp_path / "none"), "--data", data])
    with pytest.raises(ValueError, match="valid.json: no datafile for the valid split"):
        CavMaeClips(data, "valid", TINY, NORM)
    broken = os.path.join(data, "audio", "clip0.wav")
    with open(broken, "wb") as f:
        f.write(b"RIFF0000")
    with pytest.raises(ValueError, match="clip0.wav: not a readable wav"):
        CavMaeClips(data, "train", TINY, NORM).fbank(0)


def test_corrupt_checkpoint_is_refused_with_its_file(run):
    data, run_dir = run
    main(["--run-dir", run_dir, "--data", data, "--workers", "0", "--steps", "2"])
    _, d = checkpoint.list_checkpoints(run_dir)[-1]
    path = os.path.join(d, "weights.safetensors")
    with open(path, "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="weights.safetensors: SHA-256 does not match"):
        checkpoint.load(d)
