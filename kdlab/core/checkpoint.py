"""Checkpoints of ``fit``: every epoch, atomically, with everything needed to resume as if never interrupted
(model, optimizer, schedule, the batch generator's and the dropout RNG's states, the history so far)."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import torch

from kdlab.core.config import History


def load_checkpoint(path: Path, dev: torch.device, ddp: bool) -> dict | None:
    """The checkpoint at ``path`` (None if there is none). Under DDP rank 0 reads it and sends it to every rank:
    other nodes need not see rank 0's file system."""
    if not ddp:
        return torch.load(path, map_location=dev, weights_only=False) if path.exists() else None
    main = torch.distributed.get_rank() == 0
    box = [torch.load(path, map_location="cpu", weights_only=False) if main and path.exists() else None]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def save_checkpoint(path: Path, model, optimizer, scheduler, gen, history: History, epoch: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": gen.get_state(),
            "history": asdict(history),
            "epoch": epoch,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(gen.device) if gen.device.type == "cuda" else None,
        },
        tmp,
    )
    os.replace(tmp, path)  # a crash mid-save leaves the previous checkpoint intact
