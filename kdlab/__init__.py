"""kdlab: reproduce and explore Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural Network".

The package is layered; dependencies point one way (checked by import-linter, ``[tool.importlinter]`` in
pyproject.toml):

- ``kdlab.core``     the paper's math and the one training loop: ``losses`` (eq. 1–4), ``models``, ``train.fit``
                     with its pieces beside it (``config``, ``optim``, ``checkpoint``, ``batches``, ``evaluate``,
                     ``progress``) and its launch-free form on CUDA (``graphed``)
- ``kdlab.data``     real data, fetched and verified: MNIST, MNIST-100, the synthesized speech corpus
                     (``speech``, with its ``speech_text`` and ``speech_synth``)
- ``kdlab.lessons``  one module per notebook: its profiles and recipes (uses core and data; no plotting, no store);
                     ``lessons.claims`` judges each notebook's paper claims, one module per notebook
- ``kdlab.store``    the run store (``runs`` writes, ``reader`` reads, ``layout``, ``provenance``), ``kdlab run``
                     (papermill), reference results and reports (knows no models)
- ``kdlab.dist``     torchrun: ``fit`` over DDP (``ddp``), ``kdlab train`` (``launch``, ``train``)
- top level          ``cli`` (the ``kdlab`` command), ``notebook`` (``Lab``: what a lesson notebook calls to open a
                     run, save what it made and reuse a teacher), ``figures`` (one module per notebook),
                     ``exercises``, and leaves every layer may use: ``claims`` (the claims schema) and ``paths`` /
                     ``jsonio``.

Modules that moved keep their old names (``kdlab.train``, ``kdlab.runs``, ``kdlab.mnist_experiments`` …): the
import of an old name returns the new module itself (``_MovedModules``), so code and notebooks written against it
keep working, monkeypatching included.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

MOVED = {  # old name -> where it lives now
    "kdlab.losses": "kdlab.core.losses",
    "kdlab.models": "kdlab.core.models",
    "kdlab.train": "kdlab.core.train",
    "kdlab.temperature": "kdlab.lessons.temperature",
    "kdlab.logit_matching": "kdlab.lessons.logit_matching",
    "kdlab.mnist_experiments": "kdlab.lessons.mnist",
    "kdlab.bias": "kdlab.lessons.bias",
    "kdlab.speech_experiment": "kdlab.lessons.speech",
    "kdlab.decode": "kdlab.lessons.decode",
    "kdlab.specialists": "kdlab.lessons.specialists",
    "kdlab.specialist_experiments": "kdlab.lessons.specialist_experiments",
    "kdlab.lesson_claims": "kdlab.lessons.claims",
    "kdlab.runs": "kdlab.store.runs",
    "kdlab.notebook_runs": "kdlab.store.notebook_runs",
    "kdlab.reference": "kdlab.store.reference",
    "kdlab.report": "kdlab.store.report",
    "kdlab.distributed": "kdlab.dist.ddp",
    "kdlab.dist_train": "kdlab.dist.train",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module name to the moved module object (one object under two names)."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:  # already executed under its new name
        pass

    def get_code(self, fullname: str):  # `python -m <old name>` (runpy) runs the moved module's code as __main__
        target = MOVED[fullname]
        return importlib.util.find_spec(target).loader.get_code(target)

    def is_package(self, fullname: str) -> bool:
        return False


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules())  # first: an old name means the moved module, whatever else is on the path
