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

The ideas live in five modules — ``clustering`` (§5.3), ``layout`` (§5.2: output layout, copy of the generalist,
half/half pools, dustbin correction), ``training`` (§5.2, §6.1: the training loop), ``eq5`` (§5.4, with
``combine_plain``, eq. 5 for one case exactly as the paper states it, beside the batched ``combine``) and
``evaluation`` (Tables 3, 4, and a specialist on its own classes); their public names are this package's face
(``__all__``), so a notebook reads ``sp.combine``; the private helpers stay in their modules.

How the specialists run in parallel: all M specialists are one ``kdlab.core.models.BatchedMLP`` (weights stacked on a
model axis, one ``baddbmm`` per layer), and every step feeds member m its *own* batch — an (M, batch, features)
tensor gathered on the device from per-specialist index pools. Output layers of different sizes (|S^m| + 1) are
padded to a common width and the padding masked to −∞, with the dustbin always in the last column. So the
"independent training" of §5.5 is one batched model on one device; the members share no parameters or gradients.
"""

from kdlab.lessons.specialists.clustering import (
    Clustering,
    confusability,
    confusion_clusters,
    covariance_clusters,
    errors_inside,
    kmeans_columns,
    pair_agreement,
    partition_of,
    prediction_covariance,
    rank_by_confusability,
    soft_confusion,
)
from kdlab.lessons.specialists.eq5 import (
    Eq5Layout,
    active_specialists,
    combine,
    combine_plain,
    eq5_entropy,
    eq5_layout,
    eq5_objective,
)
from kdlab.lessons.specialists.evaluation import (
    conditional_accuracy,
    conditional_logits,
    coverage_counts,
    improvement_by_coverage,
    per_specialist_table,
    specialist_scores,
)
from kdlab.lessons.specialists.layout import NEG, class_maps, init_from_generalist, oversampling_shift
from kdlab.lessons.specialists.training import SpecialistConfig, Specialists, train_specialists

__all__ = [
    "Clustering",
    "Eq5Layout",
    "NEG",
    "SpecialistConfig",
    "Specialists",
    "active_specialists",
    "class_maps",
    "combine",
    "combine_plain",
    "conditional_accuracy",
    "conditional_logits",
    "confusability",
    "confusion_clusters",
    "covariance_clusters",
    "coverage_counts",
    "eq5_entropy",
    "eq5_layout",
    "eq5_objective",
    "errors_inside",
    "improvement_by_coverage",
    "init_from_generalist",
    "kmeans_columns",
    "oversampling_shift",
    "pair_agreement",
    "partition_of",
    "per_specialist_table",
    "prediction_covariance",
    "rank_by_confusability",
    "soft_confusion",
    "specialist_scores",
    "train_specialists",
]
