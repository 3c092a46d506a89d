"""kdlab: reproduce and explore Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural Network".

The package is layered; dependencies point one way (import-linter's ``[tool.importlinter]`` in pyproject.toml; the
picture is in docs/architecture.md). Every name has one import path: the module that defines it.

- ``kdlab.core``         the paper's math and the one training loop: ``losses`` (eq. 1–4), ``models``, ``train.fit``
                         with its pieces beside it (``config``, ``optim``, ``checkpoint``, ``batches``, ``evaluate``,
                         ``progress``) and its launch-free form on CUDA (``graphed``)
- ``kdlab.data``         real data, fetched and verified: MNIST, MNIST-100, the synthesized speech corpus
- ``kdlab.lessons``      one module (or package) per lesson, named by its topic word: its profiles and recipes (uses
                         core and data; no plotting, no store); ``lessons.claims`` judges each lesson's paper claims
- ``kdlab.figures``      one module per lesson (its topic word): the figures drawn from what a lesson computed
- ``kdlab.store``        the run store (``runs`` writes, ``reader`` reads, ``layout``, ``provenance``), ``kdlab run``
                         (papermill), reference results and reports (knows no models)
- ``kdlab.distributed``  torchrun: ``fit`` over DDP (``ddp``), ``kdlab train`` (``launch``, ``train``)
- top level              ``cli`` (the ``kdlab`` command), ``lab`` (``Lab``: what a lesson notebook calls to open a run,
                         save what it made and reuse a teacher), ``exercises``, and leaves every layer may use:
                         ``paper`` (the paper's figures, typed only there), ``syllabus`` (the registry of the lessons),
                         ``artifacts`` (the artifact contract), ``claim_record`` (the claims schema), ``paths``,
                         ``jsonio``
"""

__version__ = "0.1.0"
