"""EquiAV trainer on PyTorch (DDP under torchrun / Slurm) that reads and writes the workbench's run folders.

The model, augmentation vectors, losses, optimiser and schedule mirror the workbench engine
(src/main/engine), which itself reproduces the official EquiAV code; parameter names are the official
state-dict names.
"""
