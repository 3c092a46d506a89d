"""What a lesson notebook calls around its science: open its run, save what it made, reuse a saved teacher.

Why a module of its own: the lessons (``kdlab.lessons``) hold the paper's recipes and know nothing of the run
store; the store (``kdlab.store``) knows files, not models. A notebook needs both — "train the teacher, unless a
compatible run already saved one" — and this is the one place that joins them, so a notebook cell stays about the
lesson:

    lab = Lab("03_mnist_distillation", PROFILE=PROFILE, SEED=SEED, DEVICE=DEVICE)   # opens the run, records params
    lab.save(results=table, sweep=sweep_table, soft_targets=arrays)                # csv / npz / json by type
    lab.figure("fig_sweep", sweep_figure(sweep_table))                             # saved as png, then shown
    lab.close()                                                                    # lab.claims, env, COMPLETE

``teacher_for`` (notebooks 01, 02) and ``load_or_train_teacher`` (03, 04) reuse the newest complete run whose saved
teacher was trained with the same settings and seed; both find it with ``saved_runs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from kdlab.artifacts import required_fields
from kdlab.claim_record import Claims
from kdlab.core.precision import resolve_precision, set_auto_precision
from kdlab.lessons import distillation as mnist_lesson
from kdlab.lessons import temperature as temperature_lesson
from kdlab.store.reader import RunInfo, list_runs
from kdlab.store.runs import Run, start_run

# ----------------------------------------------------------------------------------------------- run bookkeeping


class Lab:
    """A notebook's run: parameters recorded when it opens, artifacts saved by type, claims and env when it closes."""

    def __init__(self, notebook: str, root: str | Path | None = None, **params: Any) -> None:
        self.notebook = notebook
        self.run: Run = start_run(notebook, params=params, root=root)
        self.claims = Claims(notebook)  # the lesson's claims module adds to it; close() saves it

    @property
    def params(self) -> dict[str, Any]:
        return self.run.params

    def device(self, device: Any, precision: str = "auto") -> None:
        """Record the device the notebook trains on and the precision its matrix products use (env.json).

        ``precision`` is the notebook's ``PRECISION`` parameter ("auto" | "fp32" | "bf16"): it becomes what
        ``TrainConfig(precision="auto")`` means for every training of this process (``set_auto_precision``), and
        env.json records what it resolved to on ``device`` ("bf16" on a CPU with bf16 matrix instructions)."""
        set_auto_precision(precision)
        self.run.device = str(device)
        self.run.precision = resolve_precision("auto", device)

    def metrics(self, **values: Any) -> None:
        """Headline numbers into metrics.json."""
        self.run.log_metrics(**values)

    def save(self, **artifacts: Any) -> list[Path]:
        """Each artifact by its type: a DataFrame → csv, a dict of arrays → npz, a matplotlib figure → png, a torch
        module → its weights (.pt), anything else JSON. Returns the files written."""
        import pandas as pd

        written = []
        for name, obj in artifacts.items():
            if isinstance(obj, pd.DataFrame):
                self._check_contract(f"{name}.csv", obj.columns)
                written.append(self.run.save_table(name, obj))
            elif isinstance(obj, torch.nn.Module):
                written.append(self.run.save_model(name, obj))
            elif hasattr(obj, "savefig"):
                written.append(self.run.save_figure(name, obj))
            elif isinstance(obj, dict) and obj and all(hasattr(v, "shape") for v in obj.values()):
                self._check_contract(f"{name}.npz", obj)
                written.append(self.run.save_arrays(name, **obj))
            else:
                self._check_contract(f"{name}.json", obj if isinstance(obj, dict) else ())
                written.append(self.run.save_json(name, obj))
        return written

    def _check_contract(self, filename: str, fields: Iterable[str]) -> None:
        """Refuse an artifact that lacks a field its dashboard page reads (``kdlab.artifacts``)."""
        lacking = [f for f in required_fields(self.notebook[:2], filename) if f not in set(fields)]
        if lacking:
            raise ValueError(f"{filename} lacks {', '.join(lacking)}: the dashboard reads them (kdlab.artifacts)")

    def figure(self, name: str, fig: Any) -> None:
        """Save a matplotlib figure as ``artifacts/<name>.png``, show it once, and close it (so the inline backend
        does not draw it a second time and a long notebook does not keep every figure in memory)."""
        self.run.save_figure(name, fig)
        try:
            from IPython.display import display
        except ImportError:  # outside IPython: saved, nothing to show
            pass
        else:
            display(fig)
        import matplotlib.pyplot as plt

        plt.close(fig)

    def close(self, claims: Any = None) -> Path:
        """Write the claims (``lab.claims`` unless given; none if empty) and env, and finish the run; returns the
        run's final folder."""
        claims = self.claims if claims is None else claims
        if len(claims):
            claims.save(self.run)
        return self.run.finish()


# ----------------------------------------------------------------------------------------------- teacher reuse


def saved_runs(
    notebooks: Iterable[str],
    *,
    profile: str,
    seed: int,
    require: tuple[str, ...] = ("teacher",),
    accept: Callable[[RunInfo], bool] = lambda info: True,
    root: str | Path | None = None,
) -> Iterable[RunInfo]:
    """Complete runs of ``notebooks`` (in that order, newest first) with this profile and seed, the artifacts in
    ``require``, and ``accept(info)`` true."""
    for nb in notebooks:
        for info in list_runs(root, nb, include_staging=False):
            if not info.ok or info.profile != profile or info.params.get("SEED", 0) != seed:
                continue
            if all(name in info.artifacts for name in require) and accept(info):
                yield info


def _same_spec(spec: Any) -> Callable[[RunInfo], bool]:
    want = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(spec).items()}

    def accept(info: RunInfo) -> bool:
        saved = info.params.get("teacher_spec") or info.metrics.get("teacher_spec")
        return isinstance(saved, dict) and all(saved.get(k) == v for k, v in want.items())

    return accept


def find_teacher(spec: Any, profile: str, seed: int, notebooks: Iterable[str] = ("01_softmax_temperature",)):
    """Newest complete run of ``notebooks`` (same profile, same teacher spec and seed) with a saved ``teacher``."""
    return next(iter(saved_runs(notebooks, profile=profile, seed=seed, accept=_same_spec(spec))), None)


def teacher_for(spec, x, y, *, profile: str, seed: int, device, reuse: bool = True, progress: bool = True):
    """The small MNIST teacher of notebooks 01 and 02: reloaded from a compatible run of notebook 01 if ``reuse``,
    else trained. Returns ``(model, source)``, ``source`` being ``"trained"`` or the run folder it came from."""
    if reuse:
        info = find_teacher(spec, profile, seed)
        if info is not None:
            state = torch.load(info.artifact("teacher"), map_location="cpu", weights_only=True)
            return temperature_lesson.mlp_from_state(state, spec).to(device), str(info.path)
    model = temperature_lesson.train_small_teacher(spec, x, y, seed=seed, device=device, progress=progress)
    return model, "trained"


def load_or_train_teacher(profile, x, y, *, seed: int = 0, root=None, device="auto", progress: bool = True):
    """The teacher of the newest complete notebook-03 run with this profile, seed and teacher spec, else train one.

    Returns (teacher in eval mode on ``device``, info) where info says where it came from (``source`` is
    ``"run store"`` with ``run_id``, or ``"trained"`` with ``wall_time_s``).
    """
    from kdlab.core.config import resolve_device

    dev = resolve_device(device)
    spec = profile.teacher_spec()
    runs = saved_runs([mnist_lesson.TEACHER_NOTEBOOK], profile=profile.name, seed=seed,
                      require=("teacher", "teacher_spec"), root=root)  # fmt: skip
    for info in runs:
        try:
            if json.loads(info.artifacts["teacher_spec"].read_text()) != spec:
                continue
            model = mnist_lesson.make_teacher(profile)
            model.load_state_dict(torch.load(info.artifacts["teacher"], map_location="cpu", weights_only=True))
        except (OSError, ValueError, RuntimeError, KeyError):
            continue  # a damaged or incompatible artifact: try the next run, else train
        model.to(dev).eval()
        return model, {"source": "run store", "run_id": info.run_id, "path": str(info.path)}
    model, seconds = mnist_lesson.train_teacher(profile, x, y, seed=seed, device=dev, progress=progress)
    return model, {"source": "trained", "wall_time_s": round(seconds, 1)}
