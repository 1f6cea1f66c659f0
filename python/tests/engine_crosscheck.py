"""Called by tests/integration/python-trainer.test.ts with a checkpoint and a batch the engine made:
prints, as JSON, the trainer's losses on that batch with that checkpoint, and how far the trainer's own
augmentation draws and views for the same (seed, step) are from the engine's."""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from equiav_trainer import checkpoint, safetensors_io  # noqa: E402
from equiav_trainer.data import KEYS, clip_views, draw_clip  # noqa: E402
from equiav_trainer.losses import equiav_loss  # noqa: E402
from equiav_trainer.model import EquiAV, ModelConfig, from_engine_layout  # noqa: E402
from equiav_trainer.rng import derived_rng  # noqa: E402


def main(checkpoint_dir: str, batch_path: str) -> None:
    ckpt = checkpoint.load(checkpoint_dir)
    run = ckpt["state"]["config"]
    c = ModelConfig.from_json(run["model"])
    model = EquiAV(c)
    model.load_state_dict(from_engine_layout(model, ckpt["weights"], checkpoint_dir))
    batch = safetensors_io.read(batch_path)
    with torch.no_grad():
        out = model(**{k: batch[k] for k in KEYS}, objective=run["objective"])
        loss = equiav_loss(out, run["lossWeights"], run["tau"])

    # our own draws and views for the same step, from the same raw clips
    n = batch["a"].shape[0]
    rng = derived_rng(run["seed"], "step", int(batch["step"].item()))
    frames = batch["frames.0"].shape[0]
    ours = []
    for i in range(n):
        d = draw_clip(rng, c, frames)
        raw = batch[f"frames.{i}"].numpy()
        ours.append(clip_views(d, batch[f"fbank.{i}"].numpy(), raw[d["frame"]], raw[d["aug_frame"]], c,
                               run["model"]["inputNorm"]["frame"], run.get("timeRoll", True)))
    diffs = {k: float(np.abs(np.stack([o[k] for o in ours]) - batch[k].numpy()).max()) for k in KEYS}
    print(json.dumps({"losses": {k: float(v) for k, v in loss.items()}, "view_max_abs_diff": diffs}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
