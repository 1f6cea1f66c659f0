"""The engine's seeded generator (src/main/engine/rng.ts, xoshiro128** seeded through splitmix32), bit for bit,
and the data order built on it (engine/train/data-source.ts): batch composition is a pure function of (seed, step)."""
from __future__ import annotations

import math

_M32 = 0xFFFFFFFF
_TWO_POW_26 = 67108864
_TWO_POW_53 = 9007199254740992
_TWO_POW_32 = 4294967296


def _imul(a: int, b: int) -> int:
    return (a * b) & _M32


def _splitmix32(x: int) -> int:
    t = (x + 0x9E3779B9) & _M32
    t = _imul(t ^ (t >> 16), 0x21F0AAAD)
    t = _imul(t ^ (t >> 15), 0x735A2D97)
    return (t ^ (t >> 15)) & _M32


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def _to_uint32(x: float) -> int:
    """JavaScript's ToInt32 / ToUint32 of a double, as an unsigned 32-bit integer."""
    if not math.isfinite(x):
        return 0
    return int(math.trunc(x)) % _TWO_POW_32


class Rng:
    def __init__(self, seed: int):
        if not isinstance(seed, int) or abs(seed) > 2**53 - 1:
            raise ValueError(f"Rng seed must be a safe integer, got {seed!r}")
        lo = seed % _TWO_POW_32
        hi = (seed // _TWO_POW_32) % _TWO_POW_32
        x = lo ^ _splitmix32(hi)
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & _M32
            s.append(_splitmix32(x))
        if not any(s):
            s[0] = 1
        self.s = s

    @staticmethod
    def from_state(state: list[int]) -> "Rng":
        if len(state) != 4 or any((not isinstance(w, int)) or w < 0 or w >= _TWO_POW_32 for w in state):
            raise ValueError("Rng state must be four unsigned 32-bit integers")
        if not any(state):
            raise ValueError("Rng state must not be all zero")
        rng = Rng(0)
        rng.s = list(state)
        return rng

    def get_state(self) -> list[int]:
        return list(self.s)

    def next_uint32(self) -> int:
        s = self.s
        result = _imul(_rotl(_imul(s[1], 5), 7), 9)
        t = (s[1] << 9) & _M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def uniform(self, lo: float = 0.0, hi: float = 1.0) -> float:
        u = ((self.next_uint32() >> 5) * _TWO_POW_26 + (self.next_uint32() >> 6)) / _TWO_POW_53
        return lo + (hi - lo) * u

    def randint(self, lo: int, hi: int) -> int:
        if not hi > lo:
            raise ValueError(f"randint needs hi > lo, got [{lo}, {hi})")
        return lo + math.floor(self.uniform() * (hi - lo))

    def normal(self) -> float:
        r = math.sqrt(-2 * math.log(1 - self.uniform()))
        return r * math.cos(2 * math.pi * self.uniform())

    def permutation(self, n: int) -> list[int]:
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.randint(0, i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def derived_rng(seed: int, purpose: str, k: int) -> Rng:
    """Independent generator for (seed, purpose, k), e.g. ('epoch', 3) or ('step', 120), as the engine derives it."""
    const = 0x5BD1E995 if purpose == "epoch" else 0x27D4EB2F
    return Rng(_to_uint32(float(seed) * 2654435761.0) ^ const ^ _to_uint32(float(k) * 374761393.0))


def steps_per_epoch(size: int, batch_size: int) -> int:
    return max(1, size // batch_size)  # drop_last, as the official DataLoader


def batch_indices(step: int, size: int, batch_size: int, seed: int) -> tuple[int, list[int]]:
    """(epoch, clip indices) of the global batch at `step`: the same clips the desktop engine trains on."""
    spe = steps_per_epoch(size, batch_size)
    epoch = step // spe
    perm = derived_rng(seed, "epoch", epoch).permutation(size)
    start = (step % spe) * batch_size
    return epoch, [perm[(start + i) % size] for i in range(batch_size)]
