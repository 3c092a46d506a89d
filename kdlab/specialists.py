"""Ensembles of specialists (Hinton, Vinyals & Dean 2015, §5 and §6.1), introduced in notebook 06.

* §5.3 ``covariance_clusters`` — the covariance matrix (classes × classes) of the generalist's predicted class
  probabilities, and an on-line (mini-batch) K-means on its columns: classes that are predicted *together* end up
  in one specialist's special subset S^m. ``confusion_clusters`` is the label-using alternative the paper mentions.
  ``overlap`` lets a class join further clusters whose centre is nearly as close, so several specialists can cover
  one class (Table 4).
* §5.2 ``train_specialists`` — every specialist starts from the generalist's weights, sees batches that are half
  from its special subset and half from the rest, and has a softmax over its classes plus one **dustbin**; after
  training its dustbin logit is raised by the log of the factor by which its classes were oversampled. §6.1's
  alternative (``kind="soft"``): a full softmax over all classes, hard targets on its special classes and the
  generalist's soft targets on the rest.
* §5.4 eq. 5 ``combine`` — q = softmax(z) minimizing KL(p^g, q) + Σ_{m∈A_k} KL(p^m, q), where a specialist's
  dustbin is compared with the total q of the classes it does not cover; solved by gradient descent on z for all
  test cases at once. ``active_specialists`` picks A_k from the generalist's top-n classes.

How the specialists run in parallel: all M specialists are one ``kdlab.models.BatchedMLP`` (weights stacked on a
model axis, one ``baddbmm`` per layer), and every step feeds member m its *own* batch — an (M, batch, features)
tensor gathered on the device from per-specialist index pools. Output layers of different sizes (|S^m| + 1) are
padded to a common width and the padding masked to −∞, with the dustbin always in the last column. So the
"independent training" of §5.5 is one batched model on one device; the members share no parameters or gradients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from kdlab.models import MLP, BatchedMLP
from kdlab.train import predict_logits

NEG = -1e9  # logit of a padded (non-existent) output column

# ------------------------------------------------------------------------------------------- §5.3 clusters


def prediction_covariance(probs: np.ndarray | torch.Tensor) -> np.ndarray:
    """Covariance (C, C) of the predicted class probabilities over examples: cov[a, b] > 0 ⇔ a, b predicted together."""
    p = np.asarray(probs.detach().cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 2:
        raise ValueError(f"probs must be (examples ≥ 2, classes), got shape {p.shape}")
    return np.cov(p, rowvar=False)


def soft_confusion(
    probs: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, num_classes: int | None = None
) -> np.ndarray:
    """Symmetrized soft confusion matrix: row a = mean predicted distribution over examples of true class a."""
    p = np.asarray(probs.detach().cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).astype(int)
    C = num_classes or p.shape[1]
    conf = np.zeros((C, C))
    np.add.at(conf, y, p)
    conf /= np.maximum(np.bincount(y, minlength=C), 1)[:, None]
    return (conf + conf.T) / 2


@dataclass
class Clustering:
    """The result of K-means on a (C, C) similarity matrix's columns."""

    clusters: list[np.ndarray]  # class indices of each (possibly overlapping) cluster
    assignment: np.ndarray  # (C,) index of each class's nearest centre (the disjoint partition)
    centers: np.ndarray  # (K, C)
    distances: np.ndarray  # (C, K) distance of every column to every centre
    order: np.ndarray  # (C,) classes ordered by their disjoint cluster, for the heat map

    @property
    def coverage(self) -> np.ndarray:
        """(C,) how many clusters contain each class."""
        counts = np.zeros(len(self.assignment), dtype=int)
        for cl in self.clusters:
            counts[cl] += 1
        return counts


def kmeans_columns(
    matrix: np.ndarray,
    n_clusters: int,
    seed: int = 0,
    batch_size: int = 32,
    steps: int = 300,
    overlap: float = 0.0,
    normalize: bool = True,
    n_init: int = 5,
) -> Clustering:
    """On-line (mini-batch) K-means (Sculley 2010) on the columns of ``matrix``, as §5.3 does on the covariance.

    Each column (one class) is a point in R^C; with ``normalize`` columns are scaled to unit length first, so a
    class's *pattern* of co-prediction counts, not how often it is predicted at all. Centres start at k-means++
    picks; each step assigns a random mini-batch of columns to the nearest centre and moves that centre towards
    them with a per-centre rate 1/count; of ``n_init`` restarts the one with the lowest inertia is kept. A final pass assigns every class to its nearest centre (the disjoint
    ``assignment``); with ``overlap`` > 0 every cluster of ≥ 2 classes also takes the ⌈overlap · size⌉ classes
    of other clusters nearest its centre, so clusters share classes and a class may be covered several times.
    """
    X = np.asarray(matrix, dtype=np.float64).T.copy()  # (C points, C dims): row i is column i
    C = X.shape[0]
    if not 1 <= n_clusters <= C:
        raise ValueError(f"n_clusters must be in [1, {C}], got {n_clusters}")
    if overlap < 0:
        raise ValueError(f"overlap must be ≥ 0, got {overlap}")
    if normalize:
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(seed)
    best, best_inertia = None, np.inf
    for _ in range(n_init):  # restarts from new k-means++ seeds; keep the lowest within-cluster sum of squares
        centers = _online_kmeans(X, n_clusters, rng, batch_size, steps)
        dist = np.sqrt(((X[:, None, :] - centers[None]) ** 2).sum(-1))  # (C, K)
        inertia = float((dist.min(1) ** 2).sum())
        if inertia < best_inertia - 1e-12:
            best, best_inertia = (centers, dist), inertia
    centers, dist = best
    assignment = dist.argmin(1)
    clusters = []
    for k in range(n_clusters):
        members = np.flatnonzero(assignment == k)
        if not len(members):
            continue
        extra = int(math.ceil(overlap * len(members))) if len(members) > 1 else 0
        if extra:  # the non-members nearest this centre join it too
            others = np.setdiff1d(np.arange(C), members)
            members = np.concatenate([members, others[np.argsort(dist[others, k], kind="stable")[:extra]]])
        clusters.append(np.sort(members))
    order = np.argsort(assignment, kind="stable")
    return Clustering(clusters, assignment, centers, dist, order)


def _online_kmeans(X: np.ndarray, n_clusters: int, rng: np.random.Generator, batch_size: int, steps: int) -> np.ndarray:
    C = X.shape[0]
    centers = [X[rng.integers(C)]]
    for _ in range(1, n_clusters):  # k-means++ seeding
        d2 = np.min(((X[:, None, :] - np.array(centers)[None]) ** 2).sum(-1), axis=1)
        centers.append(X[rng.choice(C, p=d2 / d2.sum())] if d2.sum() > 0 else X[rng.integers(C)])
    centers = np.array(centers)
    counts = np.zeros(n_clusters)
    for _ in range(steps):
        batch = X[rng.choice(C, size=min(batch_size, C), replace=False)]
        nearest = ((batch[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
        for x, k in zip(batch, nearest):  # the on-line update: centre ← centre + (x − centre)/count
            counts[k] += 1
            centers[k] += (x - centers[k]) / counts[k]
    return centers


def covariance_clusters(
    probs: np.ndarray | torch.Tensor,
    n_clusters: int,
    seed: int = 0,
    overlap: float = 0.0,
    details: bool = False,
    **kmeans,
) -> list[np.ndarray] | Clustering:
    """§5.3: K-means on the columns of the covariance of the generalist's predictions; needs no labels.

    Returns the clusters (a list of class-index arrays), or with ``details`` the whole ``Clustering`` (partition,
    centres, ordering for the heat map).
    """
    result = kmeans_columns(prediction_covariance(probs), n_clusters, seed, overlap=overlap, **kmeans)
    return result if details else result.clusters


def confusion_clusters(
    probs: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    n_clusters: int,
    seed: int = 0,
    overlap: float = 0.0,
    details: bool = False,
    **kmeans,
) -> list[np.ndarray] | Clustering:
    """The alternative §5.3 mentions: the same K-means on the columns of the (soft, symmetrized) confusion matrix."""
    result = kmeans_columns(soft_confusion(probs, labels), n_clusters, seed, overlap=overlap, **kmeans)
    return result if details else result.clusters


def confusability(matrix: np.ndarray, cluster: np.ndarray) -> float:
    """Mean off-diagonal entry of ``matrix`` within ``cluster``: how much its classes are predicted together."""
    cl = np.asarray(cluster)
    if len(cl) < 2:
        return float("-inf")
    block = np.asarray(matrix)[np.ix_(cl, cl)]
    return float((block.sum() - np.trace(block)) / (len(cl) * (len(cl) - 1)))


def pair_agreement(a: Sequence[np.ndarray], b: Sequence[np.ndarray], num_classes: int) -> float:
    """Rand index of two partitions (lists of clusters): the fraction of class pairs both put together or apart."""

    def same(clusters):
        label = np.full(num_classes, -1)
        for k, cl in enumerate(clusters):
            label[np.asarray(cl)] = k
        return label[:, None] == label[None, :]

    sa, sb = same(a), same(b)
    iu = np.triu_indices(num_classes, 1)
    return float((sa[iu] == sb[iu]).mean())


# --------------------------------------------------------------------------------- §5.2 / §6.1 training


@dataclass(frozen=True)
class SpecialistConfig:
    """How the specialists are trained; notebook 06 mirrors these in its parameters cell."""

    kind: str = "dustbin"  # "dustbin" (§5.2: |S^m| classes + dustbin) | "soft" (§6.1: full softmax, soft targets)
    steps: int = 300
    batch_size: int = 128  # per specialist; half from its special subset, half from the rest
    special_fraction: float = 0.5
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 0.0
    temperature: float = 2.0  # soft targets of the generalist ("soft" kind)
    soft_weight: float = 1.0  # weight of the T²-scaled soft term on non-special examples ("soft" kind)
    eval_every: int = 50
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("dustbin", "soft"):
            raise ValueError(f"kind must be 'dustbin' or 'soft', got {self.kind!r}")
        if not 0 < self.special_fraction < 1:
            raise ValueError(f"special_fraction must be in (0, 1), got {self.special_fraction}")
        if self.steps < 1 or self.batch_size < 2 or self.eval_every < 1:
            raise ValueError("steps, eval_every must be ≥ 1 and batch_size ≥ 2")


@dataclass
class Specialists:
    """M trained specialists as one batched model, plus what is needed to read their outputs."""

    model: BatchedMLP
    classes: list[np.ndarray]  # S^m per specialist
    kind: str
    logit_shift: torch.Tensor  # (M, width) added to the raw logits: the dustbin / prior correction, −1e9 on padding
    data_fraction: np.ndarray  # (M,) fraction of the training set that is in S^m
    curves: list[dict]  # per evaluation: step, specialist, train/test conditional accuracy and NLL

    @property
    def num_models(self) -> int:
        return len(self.classes)

    @torch.no_grad()
    def logits(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Corrected logits (M, N, width): |S^m| classes then padding then dustbin ("dustbin"), or all C ("soft")."""
        return predict_logits(self.model, x, batch_size) + self.logit_shift[:, None, :]

    @torch.no_grad()
    def probs(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """p^m for eq. 5: (M, N, width) distributions, padding exactly 0."""
        return torch.softmax(self.logits(x, batch_size), dim=-1)


def oversampling_shift(data_fraction: float, special_fraction: float = 0.5) -> float:
    """log of the factor by which the special classes were oversampled relative to the dustbin (§5.2).

    The natural odds special : rest are f : (1 − f); training batches have s : (1 − s). Raising the dustbin logit by
    log[(s/f) · ((1 − f)/(1 − s))] restores the natural odds (Bayes' rule for a changed prior); for s = ½ it is
    log((1 − f)/f), and ≈ log(s/f), the paper's "proportion by which the specialist class is oversampled", when f ≪ 1.
    """
    f, s = data_fraction, special_fraction
    if not 0 < f < 1:
        raise ValueError(f"data_fraction must be in (0, 1), got {f}")
    return math.log(s / f) + math.log((1 - f) / (1 - s))


def _width(classes: Sequence[np.ndarray], num_classes: int, kind: str) -> int:
    return num_classes if kind == "soft" else max(len(c) for c in classes) + 1


def class_maps(classes: Sequence[np.ndarray], num_classes: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``target`` (M, C): class → output column of each specialist; ``special`` (M, C) bool: class ∈ S^m.

    Dustbin kind: column j < |S^m| is S^m[j], the last column is the dustbin, columns between are padding.
    """
    M = len(classes)
    special = torch.zeros(M, num_classes, dtype=torch.bool)
    width = _width(classes, num_classes, kind)
    target = torch.arange(num_classes).repeat(M, 1) if kind == "soft" else torch.full((M, num_classes), width - 1)
    for m, cl in enumerate(classes):
        cl = torch.as_tensor(np.asarray(cl), dtype=torch.long)
        special[m, cl] = True
        if kind == "dustbin":
            target[m, cl] = torch.arange(len(cl))
    return target, special


def init_from_generalist(generalist: MLP, classes: Sequence[np.ndarray], kind: str = "dustbin") -> BatchedMLP:
    """A stack of M specialists, each a copy of the generalist (§5.2: "initialized with the weights of the generalist").

    Dustbin kind: output column j copies the generalist's unit for class S^m[j]; the dustbin unit starts as the mean
    of the other classes' units with bias + log(#others) (≈ the log of their summed probability when they are
    similar); padding columns are zero (they are masked at −∞ anyway).
    """
    mlps = [generalist] * len(classes)
    stack = BatchedMLP.from_mlps(mlps)  # copies of every layer, output width C
    if kind == "soft":
        return stack
    C = generalist.widths[-1]
    width = _width(classes, C, kind)
    dev = stack.weights[-1].device
    W_g, b_g = generalist.layers[-1].weight.detach(), generalist.layers[-1].bias.detach()  # (C, H), (C,)
    H = W_g.shape[1]
    W = torch.zeros(len(classes), width, H, device=dev)  # BatchedMLP layout: (M, out, in)
    b = torch.zeros(len(classes), 1, width, device=dev)
    for m, cl in enumerate(classes):
        cl_t = torch.as_tensor(np.asarray(cl), dtype=torch.long, device=dev)
        rest = torch.ones(C, dtype=torch.bool, device=dev)
        rest[cl_t] = False
        W[m, : len(cl)] = W_g[cl_t]
        b[m, 0, : len(cl)] = b_g[cl_t]
        W[m, -1] = W_g[rest].mean(0)
        b[m, 0, -1] = b_g[rest].mean() + math.log(int(rest.sum()))
    stack.widths = (*stack.widths[:-1], width)
    stack.weights[-1] = torch.nn.Parameter(W)
    stack.biases[-1] = torch.nn.Parameter(b)
    return stack


def _pools(
    labels: torch.Tensor, special: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-specialist index pools of special / other examples, padded to (M, max) with their lengths."""
    is_special = special.to(labels.device)[:, labels]  # (M, N)

    def pad(mask):
        lists = [torch.nonzero(row).squeeze(1) for row in mask]
        lens = torch.tensor([len(x) for x in lists], device=labels.device)
        out = torch.zeros(len(lists), max(int(lens.max()), 1), dtype=torch.long, device=labels.device)
        for m, x in enumerate(lists):
            out[m, : len(x)] = x
        return out, lens

    sp, sp_len = pad(is_special)
    ot, ot_len = pad(~is_special)
    return sp, sp_len, ot, ot_len


def _sample(pool: torch.Tensor, lens: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    r = torch.rand(pool.shape[0], k, device=pool.device, generator=gen)
    pick = (r * lens[:, None]).long().clamp_max(pool.shape[1] - 1)
    return pool.gather(1, pick)  # (M, k) example indices, each member from its own pool


def conditional_logits(logits: torch.Tensor, classes: Sequence[np.ndarray], kind: str) -> torch.Tensor:
    """(M, N, K) logits restricted to each specialist's own classes (padding at −∞), for conditional accuracy."""
    M, N, _ = logits.shape
    K = max(len(c) for c in classes)
    out = torch.full((M, N, K), NEG, device=logits.device)
    for m, cl in enumerate(classes):
        cols = torch.arange(len(cl)) if kind == "dustbin" else torch.as_tensor(np.asarray(cl))
        out[m, :, : len(cl)] = logits[m][:, cols.to(logits.device)]
    return out


@torch.no_grad()
def specialist_scores(
    spec_logits: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[np.ndarray],
    kind: str,
    valid: torch.Tensor | None = None,
) -> dict[str, np.ndarray]:
    """Per specialist, on the examples of its own classes: conditional accuracy and NLL (softmax over S^m only).

    ``spec_logits`` (M, N, width); ``labels`` (N,) shared or (M, N) per specialist; ``valid`` (M, N) marks real
    examples when each specialist was fed its own (padded) set.
    """
    M = len(classes)
    dev = spec_logits.device
    labels = labels.to(dev)
    labels = labels.expand(M, -1) if labels.dim() == 1 else labels
    C = max(int(labels.max()) + 1, max(int(np.max(c)) for c in classes) + 1)
    cond = conditional_logits(spec_logits, classes, kind)  # (M, N, K)
    table = torch.full((M, C), -1, dtype=torch.long)
    for m, cl in enumerate(classes):
        table[m, torch.as_tensor(np.asarray(cl))] = torch.arange(len(cl))
    pos = table.to(dev).gather(1, labels)  # (M, N): column of the true class among S^m, or −1
    mask = pos >= 0 if valid is None else (pos >= 0) & valid.to(dev)
    logp = torch.log_softmax(cond, dim=-1).gather(2, pos.clamp_min(0)[..., None]).squeeze(2)
    correct = (cond.argmax(-1) == pos) & mask
    n = mask.sum(1).clamp_min(1)
    return {
        "cond_acc": (correct.sum(1) / n).cpu().numpy(),
        "cond_nll": (-(logp * mask).sum(1) / n).cpu().numpy(),
        "n": mask.sum(1).cpu().numpy(),
    }


@torch.no_grad()
def _own_class_scores(
    model: BatchedMLP,
    shift: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    special: torch.Tensor,
    classes: Sequence[np.ndarray],
    kind: str,
) -> dict[str, np.ndarray]:
    """Scores of each specialist on only the examples of its own classes: each member gets its own padded set
    (M, L, features), which costs ~M× less than running every member on every example."""
    pool, lens, _, _ = _pools(y, special.to(y.device))
    valid = torch.arange(pool.shape[1], device=y.device)[None, :] < lens.to(y.device)[:, None]
    pool = pool.to(x.device)
    was_training = model.training
    model.eval()
    logits = torch.cat([model(x[pool[:, i : i + 2048]]) for i in range(0, pool.shape[1], 2048)], dim=1)
    model.train(was_training)
    return specialist_scores(logits + shift[:, None, :], y[pool], classes, kind, valid)


def train_specialists(
    generalist: MLP,
    classes: Sequence[np.ndarray],
    x: torch.Tensor,
    y: torch.Tensor,
    config: SpecialistConfig = SpecialistConfig(),
    x_eval: torch.Tensor | None = None,
    y_eval: torch.Tensor | None = None,
    x_train_eval: torch.Tensor | None = None,
    y_train_eval: torch.Tensor | None = None,
) -> Specialists:
    """Train M specialists for the special subsets ``classes`` as one batched model on the generalist's device.

    Each step draws, for every specialist separately, ``special_fraction`` of its batch from examples of S^m and the
    rest from all other examples, then takes one SGD step on the sum of the members' mean losses (so each member
    gets exactly the gradient it would get alone). ``kind="dustbin"``: cross-entropy over S^m + dustbin; after
    training the dustbin logit is raised by ``oversampling_shift``. ``kind="soft"`` (§6.1): full softmax; hard
    targets on special examples, T²-scaled soft cross-entropy to the generalist's softmax(v/T) on the others; after
    training the special classes' logits are lowered by the same shift. Every ``eval_every`` steps the conditional
    accuracy/NLL on (x_train_eval, y_train_eval) and (x_eval, y_eval) are recorded in ``curves``.
    """
    cfg = config
    dev = generalist.layers[0].weight.device
    C = generalist.widths[-1]
    classes = [np.sort(np.asarray(c, dtype=int)) for c in classes]
    if any(len(c) < 1 or len(c) >= C for c in classes):
        raise ValueError("every special subset needs between 1 and C − 1 classes")
    M = len(classes)
    x = x.to(dev, torch.float32).flatten(1)
    y = y.to(dev)
    target, special = class_maps(classes, C, cfg.kind)
    target, special = target.to(dev), special.to(dev)
    sp, sp_len, ot, ot_len = (t.to(dev) for t in _pools(y, special))
    data_fraction = (sp_len.float() / len(y)).cpu().numpy()
    if (sp_len == 0).any():
        raise ValueError(f"specialists {torch.nonzero(sp_len == 0).flatten().tolist()} have no training examples")
    teacher = None
    if cfg.kind == "soft":
        teacher = predict_logits(generalist, x)  # (N, C) the generalist's logits, for its soft targets
    model = init_from_generalist(generalist, classes, cfg.kind).to(dev)
    width = model.widths[-1]
    pad_mask = torch.zeros(M, 1, width, device=dev)
    if cfg.kind == "dustbin":
        for m, cl in enumerate(classes):
            pad_mask[m, 0, len(cl) : width - 1] = NEG
    n_special = int(round(cfg.batch_size * cfg.special_fraction))
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0, weight_decay=cfg.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / cfg.steps)))
    gen = torch.Generator(device=dev)
    gen.manual_seed(cfg.seed)
    arange_m = torch.arange(M, device=dev)[:, None]
    shift = torch.tensor([oversampling_shift(f, cfg.special_fraction) for f in data_fraction], device=dev)
    curves: list[dict] = []

    evals = [
        (split, xe.to(dev, torch.float32).flatten(1), ye.to(dev))
        for split, (xe, ye) in (("train", (x_train_eval, y_train_eval)), ("test", (x_eval, y_eval)))
        if xe is not None
    ]

    def record(step: int, model_shift: torch.Tensor) -> None:
        for split, xe, ye in evals:
            scores = _own_class_scores(model, model_shift, xe, ye, special, classes, cfg.kind)
            for m in range(M):
                curves.append(
                    {
                        "step": step,
                        "specialist": m,
                        "split": split,
                        "cond_acc": float(scores["cond_acc"][m]),
                        "cond_nll": float(scores["cond_nll"][m]),
                    }
                )

    def corrected_shift() -> torch.Tensor:
        out = pad_mask[:, 0, :].clone()
        if cfg.kind == "dustbin":
            out[:, -1] += shift
        else:
            out -= special.float() * shift[:, None]
        return out

    record(0, corrected_shift())
    for step in tqdm(
        range(1, cfg.steps + 1), desc=f"{M} {cfg.kind} specialists", disable=not cfg.progress, leave=False
    ):
        idx = torch.cat([_sample(sp, sp_len, n_special, gen), _sample(ot, ot_len, cfg.batch_size - n_special, gen)], 1)
        out = model(x[idx]) + pad_mask  # (M, B, width), each member on its own batch
        yb = y[idx]  # (M, B)
        if cfg.kind == "dustbin":
            loss = F.cross_entropy(out.flatten(0, 1), target[arange_m, yb].flatten(), reduction="sum") / out.shape[1]
        else:
            is_sp = special[arange_m, yb]  # (M, B)
            hard = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none").view_as(yb)
            T = cfg.temperature
            soft_t = torch.softmax(teacher[idx] / T, -1)
            soft = -(soft_t * torch.log_softmax(out / T, -1)).sum(-1) * T**2
            loss = (torch.where(is_sp, hard, cfg.soft_weight * soft)).sum() / out.shape[1]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % cfg.eval_every == 0 or step == cfg.steps:
            record(step, corrected_shift())
    model.eval()
    return Specialists(model, classes, cfg.kind, corrected_shift().detach(), data_fraction, curves)


# ------------------------------------------------------------------------------------------- §5.4 eq. 5


def active_specialists(
    generalist_probs: torch.Tensor, specialist_classes: Sequence[np.ndarray], top_n: int = 1
) -> torch.Tensor:
    """A_k (§5.4, step 1–2): (M, N) bool, specialist m is active for case n iff S^m meets the generalist's top-n."""
    C = generalist_probs.shape[-1]
    top = generalist_probs.topk(top_n, dim=-1).indices  # (N, n)
    member = torch.zeros(len(specialist_classes), C, dtype=torch.bool, device=generalist_probs.device)
    for m, cl in enumerate(specialist_classes):
        member[m, torch.as_tensor(np.asarray(cl), device=generalist_probs.device)] = True
    return member[:, top].any(-1)  # (M, N)


@dataclass
class Eq5Layout:
    """Where each specialist's output columns live in the full class space (built by ``eq5_layout``)."""

    cols: torch.Tensor  # (M, width) class of each column (0 for padding and the dustbin: their p is handled apart)
    dustbin: torch.Tensor  # (M,) bool: the last column is a dustbin
    rest: torch.Tensor  # (M, C) bool: classes in m's dustbin (not in S^m)

    def to(self, device: torch.device) -> Eq5Layout:
        return Eq5Layout(self.cols.to(device), self.dustbin.to(device), self.rest.to(device))


def eq5_layout(
    specialist_classes: Sequence[np.ndarray], num_classes: int, width: int, full_softmax: bool = False
) -> Eq5Layout:
    """Dustbin specialists: column j < |S^m| is class S^m[j], the last column the dustbin (Σ of q over c ∉ S^m).
    ``full_softmax`` (§6.1 specialists, width == C): column c is class c and there is no dustbin."""
    M = len(specialist_classes)
    if full_softmax:
        if width != num_classes:
            raise ValueError(f"full-softmax specialists need width == {num_classes} columns, got {width}")
        return Eq5Layout(
            torch.arange(num_classes).repeat(M, 1),
            torch.zeros(M, dtype=torch.bool),
            torch.zeros(M, num_classes, dtype=torch.bool),
        )
    cols = torch.zeros(M, width, dtype=torch.long)
    rest = torch.ones(M, num_classes, dtype=torch.bool)
    for m, cl in enumerate(specialist_classes):
        if len(cl) >= width:
            raise ValueError(f"specialist {m} has {len(cl)} classes but only {width} columns (need one dustbin)")
        cl_t = torch.as_tensor(np.asarray(cl), dtype=torch.long)
        rest[m, cl_t] = False
        cols[m, : len(cl)] = cl_t
    return Eq5Layout(cols, torch.ones(M, dtype=torch.bool), rest)


def eq5_objective(
    z: torch.Tensor,
    generalist_probs: torch.Tensor,
    specialist_probs: torch.Tensor,
    layout: Eq5Layout,
    active: torch.Tensor,
    entropy: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 5 per case, (N,): KL(p^g, q) + Σ_{m∈A_k} KL(p^m, q^m), q = softmax(z).

    q^m is q seen through specialist m: its classes' q_c, and for the dustbin Σ_{c∉S^m} q_c (a log-sum-exp of the
    dustbin classes' log q, so it stays accurate when tiny). KL(p, r) = Σ_j p_j log p_j − p_j log r_j with
    0·log 0 = 0, so padded columns (p = 0) drop out. Only the active (m, n) pairs are computed (with top-1
    activation a case has one or a few), so the cost grows with the active pairs, not with M × N.
    """
    log_q = torch.log_softmax(z, -1)  # (N, C)
    cross = -(generalist_probs * log_q).sum(-1)  # cross-entropy terms; the entropies are added once at the end
    pm, pn = torch.nonzero(active, as_tuple=True)  # active (specialist, case) pairs
    if len(pm):
        lq = log_q[pn]  # (P, C)
        log_qm = lq.gather(1, layout.cols[pm])  # (P, width)
        if layout.dustbin.any():
            log_dust = torch.logsumexp(lq.masked_fill(~layout.rest[pm], float("-inf")), -1)  # (P,)
            is_last = torch.zeros_like(log_qm, dtype=torch.bool)
            is_last[:, -1] = layout.dustbin[pm]
            log_qm = torch.where(is_last, log_dust[:, None].expand_as(log_qm), log_qm)
        p = specialist_probs[pm, pn]  # (P, width)
        cross = cross.index_add(0, pn, -(p * log_qm).sum(-1))
    if entropy is None:
        entropy = eq5_entropy(generalist_probs, specialist_probs, active)
    return cross + entropy


def eq5_entropy(generalist_probs: torch.Tensor, specialist_probs: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """(N,) Σ of the models' Σ p log p: the part of eq. 5 that does not depend on q (KL = cross-entropy + this)."""
    neg_h = torch.xlogy(generalist_probs, generalist_probs).sum(-1)
    return neg_h + (torch.xlogy(specialist_probs, specialist_probs).sum(-1) * active).sum(0)


def combine(
    generalist_probs: torch.Tensor,
    specialist_probs: torch.Tensor,
    specialist_classes: Sequence[np.ndarray],
    active: torch.Tensor | None = None,
    steps: int = 300,
    lr: float = 0.1,
    top_n: int = 1,
    full_softmax: bool = False,
) -> torch.Tensor:
    """Eq. 5: the q = softmax(z) minimizing KL(p^g, q) + Σ_{m∈A_k} KL(p^m, q), for all N cases at once.

    ``generalist_probs`` (N, C); ``specialist_probs`` (M, N, width), m's columns laid out as in ``class_maps``
    (its classes, padding with p = 0, dustbin last), or with ``full_softmax`` all C classes (§6.1 specialists:
    S^m then only decides when m is active); ``active`` (M, N) bool, default ``active_specialists(generalist_probs,
    specialist_classes, top_n)``. z starts at log p^g and follows gradient descent with Adam's per-coordinate step
    sizes (plain gradient descent crawls along directions of small q_c, where the curvature is ~q_c) on the sum of
    the per-case objectives: the cases are independent, so one batched descent solves them all. Cases with no
    active specialist return p^g, the minimizer of KL(p^g, q) alone.
    """
    dev = generalist_probs.device
    N, C = generalist_probs.shape
    M, N2, width = specialist_probs.shape
    if N2 != N or len(specialist_classes) != M:
        raise ValueError(
            f"specialist_probs {tuple(specialist_probs.shape)} does not match generalist_probs "
            f"{tuple(generalist_probs.shape)} and {len(specialist_classes)} specialist class sets"
        )
    if active is None:
        active = active_specialists(generalist_probs, specialist_classes, top_n)
    active = active.to(dev).bool()
    layout = eq5_layout(specialist_classes, C, width, full_softmax).to(dev)
    out = generalist_probs.clone()
    idx = torch.nonzero(active.any(0)).squeeze(1)  # only cases with an active specialist need solving
    if len(idx) == 0:
        return out
    pg, ps, act = generalist_probs[idx], specialist_probs[:, idx], active[:, idx]
    z = torch.log(pg.clamp_min(1e-12)).clone().requires_grad_(True)
    zero = torch.zeros((), device=dev)  # the entropies do not depend on z: leave them out of the loop
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        eq5_objective(z, pg, ps, layout, act, entropy=zero).sum().backward()
        opt.step()
    out[idx] = torch.softmax(z.detach(), -1)
    return out


# ------------------------------------------------------------------------------------------- evaluation


def coverage_counts(specialist_classes: Sequence[np.ndarray], num_classes: int) -> np.ndarray:
    """(C,) number of specialists whose special subset contains each class."""
    counts = np.zeros(num_classes, dtype=int)
    for cl in specialist_classes:
        counts[np.asarray(cl)] += 1
    return counts


def conditional_accuracy(probs: torch.Tensor, labels: torch.Tensor, specialist_classes: Sequence[np.ndarray]) -> float:
    """Table 3's conditional accuracy: over cases whose true class some specialist covers, top-1 among the classes of
    the specialists covering it (the union of their S^m)."""
    C = probs.shape[-1]
    member = torch.zeros(len(specialist_classes), C, dtype=torch.bool)
    for m, cl in enumerate(specialist_classes):
        member[m, torch.as_tensor(np.asarray(cl))] = True
    labels = labels.cpu()
    covering = member[:, labels]  # (M, N)
    allowed = (covering[:, :, None] & member[:, None, :]).any(0)  # (N, C): union of covering specialists' classes
    keep = covering.any(0)
    if not keep.any():
        return float("nan")
    p = probs.cpu().masked_fill(~allowed, -1.0)
    return float((p.argmax(-1) == labels)[keep].float().mean())


def improvement_by_coverage(
    before: torch.Tensor,
    after: torch.Tensor,
    labels: torch.Tensor,
    specialist_classes: Sequence[np.ndarray],
    num_classes: int,
    max_bucket: int = 10,
):
    """Table 4: per number of specialists covering the correct class — test cases, Δ top-1 correct, relative change."""
    import pandas as pd

    labels = labels.cpu()
    cover = torch.as_tensor(coverage_counts(specialist_classes, num_classes))[labels].clamp_max(max_bucket)
    ok_before = before.cpu().argmax(-1) == labels
    ok_after = after.cpu().argmax(-1) == labels
    rows = []
    for k in sorted(set(cover.tolist())):
        sel = cover == k
        nb, na = int(ok_before[sel].sum()), int(ok_after[sel].sum())
        rows.append(
            {
                "n_specialists": int(k),
                "n_test_examples": int(sel.sum()),
                "n_changed_correct": na - nb,
                "relative_improvement": (na - nb) / nb if nb else float("nan"),
                "accuracy_before": nb / int(sel.sum()),
                "accuracy_after": na / int(sel.sum()),
            }
        )
    return pd.DataFrame(rows)
