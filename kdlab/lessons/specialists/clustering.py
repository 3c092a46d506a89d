"""§5.3: which classes a specialist covers — clusters of classes the generalist predicts together.

The covariance (classes × classes) of the generalist's predicted probabilities and an on-line (mini-batch) K-means on
its columns (``covariance_clusters``); ``confusion_clusters`` is the label-using alternative the paper mentions.
``rank_by_confusability`` turns clusters into special subsets (most confusable first); ``errors_inside`` asks how
many of the generalist's errors a specialist could fix at all — those whose true and predicted class share a cluster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


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
    of other clusters nearest its centre, so clusters share classes and a class may be covered several times —
    but never all C classes: a specialist's dustbin (§5.2) stands for the classes outside its subset.
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
        extra = max(0, min(extra, C - 1 - len(members)))  # leave ≥ 1 class outside: the dustbin needs one (§5.2)
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


def rank_by_confusability(
    clusters: Sequence[np.ndarray], cov: np.ndarray, min_size: int = 2
) -> tuple[list[np.ndarray], list[float]]:
    """The special subsets S^m: clusters of at least ``min_size`` classes (a class alone has nothing to tell apart)
    and fewer than all C (a subset of every class leaves its dustbin empty: that is a generalist, §5.2), most
    confusable first (``confusability``: mean within-cluster covariance), with their confusabilities."""
    candidates = [c for c in clusters if min_size <= len(c) < len(cov)]
    scores = [confusability(cov, c) for c in candidates]
    rank = np.argsort(scores)[::-1]
    return [candidates[k] for k in rank], [scores[k] for k in rank]


def partition_of(assignment: np.ndarray) -> list[np.ndarray]:
    """The disjoint clusters of an assignment (class → cluster index), in order of cluster index."""
    assignment = np.asarray(assignment)
    return [np.flatnonzero(assignment == k) for k in np.unique(assignment)]


def errors_inside(clusters: Sequence[np.ndarray], true: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    """Fraction of the errors (true ≠ predicted) whose (true, predicted) pair lies inside one cluster: the only
    errors a specialist for that cluster can fix. NaN when there are no errors."""
    true, pred = np.asarray(true), np.asarray(pred)
    wrong = pred != true
    together = np.zeros((num_classes, num_classes), dtype=bool)
    for cl in clusters:
        together[np.ix_(cl, cl)] = True
    return float(together[true[wrong], pred[wrong]].mean()) if wrong.any() else float("nan")
