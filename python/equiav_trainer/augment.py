"""Augmented views and their parameter vectors t_a (24-d) / t_v (18-d), drawn from the engine's generator in
the engine's order (engine/augment/*.ts), so a (seed, step) gives the same vectors on both engines; the
ops follow the same formulas (torchvision tensor semantics for audio, PIL-like for frames) in numpy."""
from __future__ import annotations

import math

import numpy as np

from .rng import Rng

# t_a fields
A_SPEC, A_TM0, A_TM1, A_FM0, A_FM1, A_SHIFT_ON, A_SHIFT, A_CROP = 0, 1, 2, 3, 4, 5, 6, 7
A_JITTER, A_BLUR, A_BLUR_SIGMA, A_HFLIP = 12, 21, 22, 23
# t_v fields
V_CROP, V_JITTER, V_BLUR, V_BLUR_SIGMA, V_HFLIP, V_GRAY, V_ROT_ON, V_ROT, V_VFLIP = 0, 5, 14, 15, 16, 17, 18, 19, 20

AUDIO_AUG_SIZES = (7, 12, 21, 23, 24)
VISUAL_AUG_SIZES = (16, 18, 21)
TENSOR_LUMA = (0.2989, 0.587, 0.114)
PIL_LUMA = (0.299, 0.587, 0.114)


def round_half_even(x: float) -> int:
    return round(x)  # Python's round() is the engine's roundHalfEven


def random_resized_crop_params(rng: Rng, height: int, width: int, scale, ratio) -> tuple[int, int, int, int]:
    """torchvision RandomResizedCrop.get_params → (top, left, height, width)."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
        w = round_half_even(math.sqrt(target * aspect))
        h = round_half_even(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h + 1), rng.randint(0, width - w + 1), h, w
    in_ratio = width / height
    w, h = width, height
    if in_ratio < min(ratio):
        h = round_half_even(w / min(ratio))
    elif in_ratio > max(ratio):
        w = round_half_even(h * max(ratio))
    return (height - h) // 2, (width - w) // 2, h, w


def sample_color_jitter(rng: Rng) -> dict:
    return {"order": rng.permutation(4), "b": rng.uniform(0.6, 1.4), "c": rng.uniform(0.6, 1.4),
            "s": rng.uniform(0.6, 1.4), "h": rng.uniform(-0.1, 0.1)}


def encode_color_jitter(vector: np.ndarray, offset: int, p: dict | None) -> None:
    vector[offset] = 1 if p else 0
    vector[offset + 1:offset + 5] = p["order"] if p else [0, 1, 2, 3]
    vector[offset + 5:offset + 9] = [p["b"] - 1, p["c"] - 1, p["s"] - 1, p["h"]] if p else [0, 0, 0, 0]


def _sample_mask(rng: Rng, max_width: int, length: int) -> tuple[int, int]:
    if max_width < 1:
        return 0, 0
    width = rng.uniform() * max_width
    start = math.floor(rng.uniform() * (length - width))
    return start, start + math.floor(width)


def sample_audio(rng: Rng, T: int, F: int, size: int = 24) -> tuple[np.ndarray, dict]:
    """t_a and what to apply (engine sampleAudioAugParams)."""
    if size not in AUDIO_AUG_SIZES:
        raise ValueError(f"audio augmentation size must be one of {AUDIO_AUG_SIZES}; got {size}")
    timem, freqm = round(192 * T / 1024), round(48 * F / 128)
    vec = np.zeros(size, dtype=np.float32)
    spec: dict = {"time_mask": None, "freq_mask": None, "crop": None, "jitter": None, "blur": None, "hflip": False}
    if rng.uniform() < 0.8:
        spec["time_mask"] = _sample_mask(rng, timem, T)
        spec["freq_mask"] = _sample_mask(rng, freqm, F)
        shift = rng.randint(-T, T)  # encoded, never applied (the official roll acts on the channel axis)
        vec[A_SPEC] = 1
        vec[A_TM0:A_FM1 + 1] = [*spec["time_mask"], *spec["freq_mask"]]
        vec[A_SHIFT_ON], vec[A_SHIFT] = 1, shift / T
    if size >= 12:
        aspect_scale = F / T / (128 / 1024)
        crop = random_resized_crop_params(rng, T, F, (0.08, 1), (1 / 10 * aspect_scale, 1.5 / 8 * aspect_scale))
        spec["crop"] = crop
        top, left, h, w = crop
        vec[A_CROP:A_CROP + 5] = [1, top / F, left / T, h / F, w / T]  # the official swapped normalisers
    if size >= 21:
        spec["jitter"] = sample_color_jitter(rng) if rng.uniform() < 0.8 else None
        encode_color_jitter(vec, A_JITTER, spec["jitter"])
    if size >= 23 and rng.uniform() < 0.5:
        spec["blur"] = rng.uniform(0.1, 2)
        vec[A_BLUR], vec[A_BLUR_SIGMA] = 1, spec["blur"]
    if size >= 24 and rng.uniform() < 0.5:
        spec["hflip"] = True
        vec[A_HFLIP] = 1
    return vec, spec


def sample_visual(rng: Rng, H: int, W: int, size: int = 18) -> tuple[np.ndarray, dict]:
    """t_v and what to apply (engine sampleVisualAugParams)."""
    if size not in VISUAL_AUG_SIZES:
        raise ValueError(f"visual augmentation size must be one of {VISUAL_AUG_SIZES}; got {size}")
    vec = np.zeros(size, dtype=np.float32)
    crop = random_resized_crop_params(rng, H, W, (0.08, 1), (3 / 4, 4 / 3))
    spec: dict = {"crop": crop, "jitter": None, "blur": None, "hflip": False, "gray": False, "rotation": None, "vflip": False}
    top, left, h, w = crop
    vec[V_CROP:V_CROP + 5] = [1, top / H, left / W, h / H, w / W]
    spec["jitter"] = sample_color_jitter(rng) if rng.uniform() < 0.8 else None
    encode_color_jitter(vec, V_JITTER, spec["jitter"])
    if rng.uniform() < 0.5:
        spec["blur"] = rng.uniform(0.1, 2)
        vec[V_BLUR], vec[V_BLUR_SIGMA] = 1, spec["blur"]
    if size >= 18:
        spec["hflip"] = rng.uniform() < 0.5
        spec["gray"] = rng.uniform() < 0.2
        vec[V_HFLIP], vec[V_GRAY] = float(spec["hflip"]), float(spec["gray"])
    if size >= 21:
        if rng.uniform() < 0.5:
            spec["rotation"] = rng.randint(0, 4)
            vec[V_ROT_ON], vec[V_ROT] = 1, spec["rotation"]
        spec["vflip"] = rng.uniform() < 0.5
        vec[V_VFLIP] = float(spec["vflip"])
    return vec, spec


# -- ops on [C, H, W] float arrays ------------------------------------------------------------------
def _bilinear_matrix(in_size: int, out_size: int) -> np.ndarray:
    """[out, in] triangle-filter weights (PIL precompute_coeffs; torch bilinear when upsampling)."""
    scale = in_size / out_size
    support = max(scale, 1.0)
    m = np.zeros((out_size, in_size))
    for o in range(out_size):
        center = (o + 0.5) * scale
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), in_size)
        x = np.arange(lo, hi)
        wgt = np.maximum(0.0, 1 - np.abs((x - center + 0.5) / support))
        m[o, lo:hi] = wgt / wgt.sum()
    return m


def resized_crop(img: np.ndarray, crop: tuple[int, int, int, int], out_h: int, out_w: int) -> np.ndarray:
    top, left, h, w = crop
    patch = img[:, top:top + h, left:left + w].astype(np.float64)
    return (_bilinear_matrix(h, out_h) @ patch @ _bilinear_matrix(w, out_w).T).astype(np.float32)


def _gray(img: np.ndarray, luma) -> np.ndarray:
    return luma[0] * img[0] + luma[1] * img[1] + luma[2] * img[2]


def _adjust_hue(img: np.ndarray, factor: float) -> np.ndarray:
    """torchvision _rgb2hsv → shift → _hsv2rgb; only p, q, t are clamped."""
    r, g, b = img[0].astype(np.float64), img[1].astype(np.float64), img[2].astype(np.float64)
    maxc, minc = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    eqc = maxc == minc
    cr = maxc - minc
    s = cr / np.where(eqc, 1.0, maxc)
    div = np.where(eqc, 1.0, cr)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2 + rc - bc, 4 + gc - rc))
    h = np.mod(h / 6 + 1, 1) + factor
    h = h - np.floor(h)
    i6 = np.floor(h * 6)
    f = h * 6 - i6
    sextant = (i6.astype(np.int64)) % 6
    v = maxc
    p = np.clip(maxc * (1 - s), 0, 1)
    q = np.clip(maxc * (1 - s * f), 0, 1)
    t = np.clip(maxc * (1 - s * (1 - f)), 0, 1)
    choices = np.stack([v, p, q, t])  # picked per sextant as the engine's SEXTANT tables
    pick = lambda table: np.take_along_axis(choices, np.asarray(table)[sextant][None], axis=0)[0]  # noqa: E731
    return np.stack([pick([0, 2, 1, 1, 3, 0]), pick([3, 0, 0, 2, 1, 1]), pick([1, 1, 3, 0, 0, 2])]).astype(np.float32)


def color_jitter(img: np.ndarray, p: dict, luma) -> np.ndarray:
    for op in p["order"]:
        if op == 0:
            img = np.clip(p["b"] * img, 0, 1)
        elif op == 1:
            img = np.clip(p["c"] * img + (1 - p["c"]) * _gray(img, luma).mean(dtype=np.float64), 0, 1)
        elif op == 2:
            img = np.clip(p["s"] * img + (1 - p["s"]) * _gray(img, luma)[None], 0, 1)
        else:
            img = _adjust_hue(img, p["h"])
    return img.astype(np.float32)


def _pad_indices(n: int, half: int, mode: str) -> np.ndarray:
    i = np.arange(-half, n + half)
    if mode == "edge" or n == 1:
        return np.clip(i, 0, n - 1)
    period = 2 * (n - 1)
    m = np.mod(i, period)
    return np.where(m < n, m, period - m)


def gaussian_blur(img: np.ndarray, sigma: float, size: int, mode: str) -> np.ndarray:
    half = (size - 1) // 2
    x = (np.arange(size) - half) / sigma
    k = np.exp(-0.5 * x * x)
    k /= k.sum()
    _, H, W = img.shape
    xs, ys = _pad_indices(W, half, mode), _pad_indices(H, half, mode)
    rows = sum(k[j] * img[:, :, xs[j:j + W]].astype(np.float64) for j in range(size))
    return sum(k[j] * rows[:, ys[j:j + H], :] for j in range(size)).astype(np.float32)


def apply_audio(spec: dict, x: np.ndarray) -> np.ndarray:
    """[3, T, F] (normalised, rolled, tiled) → augmented [3, T, F]."""
    out = x.copy()
    _, T, F = out.shape
    if spec["time_mask"]:
        out[:, spec["time_mask"][0]:spec["time_mask"][1], :] = 0
    if spec["freq_mask"]:
        out[:, :, spec["freq_mask"][0]:spec["freq_mask"][1]] = 0
    if spec["crop"]:
        out = resized_crop(out, spec["crop"], T, F)
    if spec["jitter"]:
        out = color_jitter(out, spec["jitter"], TENSOR_LUMA)
    if spec["blur"] is not None:
        out = gaussian_blur(out, spec["blur"], 2 * math.ceil(spec["blur"]) + 1, "reflect")
    if spec["hflip"]:
        out = out[:, :, ::-1]
    return np.ascontiguousarray(out)


def apply_visual(spec: dict, frame: np.ndarray, out_size: int) -> np.ndarray:
    """raw frame [3, H, W] in [0, 1] → augmented [3, S, S] in [0, 1]."""
    out = resized_crop(frame, spec["crop"], out_size, out_size)
    if spec["jitter"]:
        out = color_jitter(out, spec["jitter"], PIL_LUMA)
    if spec["blur"] is not None:
        out = gaussian_blur(out, spec["blur"], 2 * math.ceil(3 * spec["blur"]) + 1, "edge")
    if spec["hflip"]:
        out = out[:, :, ::-1]
    if spec["gray"]:
        out = np.repeat(_gray(out, PIL_LUMA)[None], 3, axis=0)
    if spec["rotation"] is not None:
        out = np.rot90(out, spec["rotation"], axes=(1, 2))
    if spec["vflip"]:
        out = out[:, ::-1, :]
    return np.ascontiguousarray(out, dtype=np.float32)
