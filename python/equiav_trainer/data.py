"""Clips from the CAV-MAE layout that `equiav dataset export --format cavmae` writes (16 kHz wav + frames/frame_k/<id>.jpg
and <split>.json), and the pretraining batch built from them exactly as the engine's collateBatch
(engine/train/views.ts): the same clips per step, the same augmentation draws per clip."""
from __future__ import annotations

import json
import os
import wave

import numpy as np
import torch
import torchaudio

from . import augment
from .model import ModelConfig
from .rng import Rng, batch_indices, derived_rng

FRAMES = 10


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """16-bit PCM wav → float samples in [−1, 1] (first channel) and the sample rate."""
    try:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError(f"{8 * w.getsampwidth()}-bit samples (expected 16-bit PCM)")
            data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())[:, 0]
            return data.astype(np.float32) / 32768.0, w.getframerate()
    except (OSError, EOFError, wave.Error, ValueError) as err:
        raise ValueError(f"{path}: not a readable wav ({err})") from err


def equiav_fbank(samples: np.ndarray, sample_rate: int, num_mel_bins: int) -> torch.Tensor:
    """The official recipe: Kaldi fbank of (waveform − its mean), hanning window, 25/10 ms, 128 bins, no dither. [frames, bins]"""
    w = torch.from_numpy(samples).unsqueeze(0)
    return torchaudio.compliance.kaldi.fbank(
        w - w.mean(), htk_compat=True, sample_frequency=sample_rate, use_energy=False, window_type="hanning",
        num_mel_bins=num_mel_bins, dither=0.0, frame_shift=10)


def pad_or_cut(fbank: torch.Tensor, target: int) -> torch.Tensor:
    """Zero-pad (before normalising, as the official loader) or cut to `target` frames."""
    n = fbank.shape[0]
    return torch.nn.functional.pad(fbank, (0, 0, 0, target - n)) if n < target else fbank[:target]


def read_frame(path: str, size: int) -> np.ndarray:
    """A JPEG frame → [3, size, size] in [0, 1], resized as the workbench's cache does (triangle filter), rounded to bytes."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable image ({err})") from err
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    h, w = chw.shape[1:]
    if (h, w) != (size, size):
        chw = augment.resized_crop(chw, (0, 0, h, w), size, size)
        chw = np.round(np.clip(chw, 0, 1) * 255) / 255.0
    return chw.astype(np.float32)


class CavMaeClips:
    """The clips of one split of a CAV-MAE export, in datafile order (the workbench's catalog order)."""

    def __init__(self, data_dir: str, split: str, config: ModelConfig, input_norm: dict):
        self.dir = os.path.abspath(data_dir)
        datafile = os.path.join(self.dir, f"{split}.json")
        if not os.path.isfile(datafile):
            raise ValueError(f"{datafile}: no datafile for the {split} split (export the dataset with `equiav cluster export`)")
        try:
            with open(datafile, encoding="utf8") as f:
                self.entries = json.load(f)["data"]
        except (ValueError, KeyError) as err:
            raise ValueError(f"{datafile}: not a CAV-MAE datafile ({err})") from err
        if not self.entries:
            raise ValueError(f"{datafile}: no clips")
        self.config = config
        self.fbank_norm = input_norm["fbank"]

    def __len__(self) -> int:
        return len(self.entries)

    def _path(self, listed: str, fallback: str) -> str:
        """The datafile's absolute path when it exists here, else the same file under this export (the data moved)."""
        return listed if listed and os.path.isfile(listed) else fallback

    def fbank(self, i: int) -> np.ndarray:
        e = self.entries[i]
        path = self._path(e.get("wav", ""), os.path.join(self.dir, "audio", f"{e['video_id']}.wav"))
        samples, rate = read_wav(path)
        fb = pad_or_cut(equiav_fbank(samples, rate, self.config.numMelBins), self.config.audioLength)
        return ((fb - self.fbank_norm["mean"]) / self.fbank_norm["std"]).numpy().astype(np.float32)

    def frame(self, i: int, k: int) -> np.ndarray:
        e = self.entries[i]
        listed = os.path.join(e.get("video_path", ""), f"frame_{k}", f"{e['video_id']}.jpg")
        return read_frame(self._path(listed, os.path.join(self.dir, "frames", f"frame_{k}", f"{e['video_id']}.jpg")), self.config.imgSize)


def normalize_frame(frame: np.ndarray, norm: dict) -> np.ndarray:
    mean = np.asarray(norm["mean"], dtype=np.float32)[:, None, None]
    std = np.asarray(norm["std"], dtype=np.float32)[:, None, None]
    return ((frame - mean) / std).astype(np.float32)


def draw_clip(rng: Rng, c: ModelConfig, frames: int = FRAMES) -> dict:
    """Every random choice of one clip's views, in the engine's order (collateBatch + makeViews)."""
    T, F, S = c.audioLength, c.numMelBins, c.cenNum
    d = {"shift": rng.randint(-T, T), "frame": rng.randint(0, frames), "aug_frame": rng.randint(0, frames)}
    d["t_a"], d["a_spec"] = augment.sample_audio(rng, T, F, c.augSizeA)
    d["t_v"], d["v_spec"] = augment.sample_visual(rng, c.imgSize, c.imgSize, c.augSizeV)
    d["t_a_list"] = np.stack([augment.sample_audio(rng, T, F, c.augSizeA)[0] for _ in range(S)])
    d["t_v_list"] = np.stack([augment.sample_visual(rng, c.imgSize, c.imgSize, c.augSizeV)[0] for _ in range(S)])
    return d


def clip_views(d: dict, fbank: np.ndarray, frame: np.ndarray, aug_frame: np.ndarray, c: ModelConfig,
               frame_norm: dict, time_roll: bool) -> dict:
    """One clip's tensors from its draws: fbank [T, F] normalised; frames [3, S, S] in [0, 1]."""
    a = np.ascontiguousarray(np.repeat(np.roll(fbank, d["shift"] if time_roll else 0, axis=0)[None], 3, axis=0))
    return {
        "a": a,
        "v": normalize_frame(frame, frame_norm),
        "a_aug": augment.apply_audio(d["a_spec"], a),
        "v_aug": normalize_frame(augment.apply_visual(d["v_spec"], aug_frame, c.imgSize), frame_norm),
        "t_a": d["t_a"], "t_v": d["t_v"], "t_a_list": d["t_a_list"], "t_v_list": d["t_v_list"],
    }


KEYS = ("a", "v", "a_aug", "v_aug", "t_a", "t_v", "t_a_list", "t_v_list")


class StepBatches(torch.utils.data.Dataset):
    """Item k: this rank's share of the global batch of step `first + k` (for a DataLoader with batch_size=None)."""

    def __init__(self, clips: CavMaeClips, run: dict, first: int, last: int, rank: int, world: int):
        self.clips, self.first, self.last = clips, first, last
        self.rank, self.world = rank, world
        self.config = ModelConfig.from_json(run["model"])
        self.batch, self.seed = run["batchSize"], run["seed"]
        self.time_roll = run.get("timeRoll", True)
        self.frame_norm = run["model"]["inputNorm"]["frame"]

    def __len__(self) -> int:
        return self.last - self.first

    def __getitem__(self, k: int) -> dict:
        step = self.first + k
        epoch, indices = batch_indices(step, len(self.clips), self.batch, self.seed)
        local = self.batch // self.world
        lo, hi = self.rank * local, (self.rank + 1) * local
        rng = derived_rng(self.seed, "step", step)
        draws = [draw_clip(rng, self.config) for _ in range(hi)]  # earlier ranks' clips are drawn too, so every clip's draws match one process's
        views = []
        for j in range(lo, hi):
            i, d = indices[j], draws[j]
            views.append(clip_views(d, self.clips.fbank(i), self.clips.frame(i, d["frame"]), self.clips.frame(i, d["aug_frame"]),
                                    self.config, self.frame_norm, self.time_roll))
        out = {key: torch.from_numpy(np.stack([v[key] for v in views])) for key in KEYS}
        out["step"], out["epoch"] = step, epoch
        return out
