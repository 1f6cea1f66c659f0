"""Learning rate per step (engine/schedule.ts, official scheduler/warmupcos.py): linear warm-up, then half a cosine."""
import math


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int,
                     warmup_start_lr: float = 2e-7, min_lr: float = 1e-6) -> float:
    if step < warmup_steps:
        return warmup_start_lr + (step / max(1, warmup_steps)) * (base_lr - warmup_start_lr)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return max(min_lr, min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))
