"""The paper's figures and statements — Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural
Network", arXiv 1503.02531 — each with its section. This is the only place they are typed: the lessons, their claims,
the figures, the report and the dashboard import them from here (``tests/test_paper.py`` fails on a retyped one).

Units are the paper's: test errors out of 10,000 MNIST test images, percent for rates and accuracies, logit units
for bias shifts. A leaf: it imports nothing of kdlab (and nothing beyond the standard library).
"""

from __future__ import annotations

ARXIV = "1503.02531"

# §1: "one version of a 2 may be given a probability of 10^-6 of being a 3 and 10^-9 of being a 7"
LOOK_ALIKE_2 = {"label": 2, "p3": 1e-6, "p7": 1e-9}

# §3, MNIST: test errors of 10,000; the teacher 784-1200-1200-10 (dropout, jittered inputs), the small net
# 784-800-800-10 on hard labels, and the same small net on the teacher's soft targets at T = 20
MNIST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}
MNIST_T = 20.0
# §3, the temperature sweep: "when the distilled net had 300 or more units in each of its two hidden layers, all
# temperatures above 8 gave fairly similar results. But when this was radically reduced to 30 units per layer,
# temperatures in the range 2.5 to 4 worked significantly better than higher or lower temperatures."
WIDE = 300
HIGH_T = 8.0
NARROW = 30
NARROW_BAND = (2.5, 4.0)

# §3, missing classes: a transfer set without any 3 (1,010 threes in the test set), and one with only 7s and 8s
OMIT3 = {"errors": 206, "errors_on_3": 133, "shift": 3.5, "errors_after": 109, "errors_on_3_after": 14, "n_3s": 1010}
ONLY78 = {"error_rate": 47.3, "shift": -7.6, "error_rate_after": 13.2}  # percent; biases of 7 and 8 lowered by 7.6

# §4, Table 1 (Android voice search): test frame accuracy and word error rate, percent; the distilled model used
# "temperatures of [1, 2, 5, 10]" and "a relative weight of 0.5 on the cross-entropy for the hard targets"
TABLE1 = {
    "system": ["Baseline", "10xEnsemble", "Distilled Single model"],
    "test frame accuracy (%)": [58.9, 61.1, 60.8],
    "WER (%)": [10.9, 10.7, 10.7],
}
TABLE1_TEMPERATURES = (1.0, 2.0, 5.0, 10.0)
KEPT_MORE_THAN = 80.0  # §4: "more than 80% of the improvement in frame classification accuracy" (percent)
TABLE1_HARD_WEIGHT = 0.5

# §5: "JFT is an internal Google dataset that has 100 million labeled images with 15,000 labels"; §5.1: its
# baseline "had been trained for about six months using asynchronous stochastic gradient descent"
JFT = {"images": 100_000_000, "classes": 15_000, "generalist_months": 6}

# §5, Table 3 (JFT, 61 specialist models): percent
TABLE3 = {
    "system": ["Baseline", "Baseline + 61 specialist models"],
    "test accuracy (%)": [25.0, 26.1],
    "conditional test accuracy (%)": [43.1, 45.9],
}
N_SPECIALISTS = 61
TABLE3_RELATIVE = 4.4  # "a 4.4% relative improvement in test accuracy overall"

# §5, Table 4 (JFT): by the number of specialists covering the correct class
TABLE4 = {
    "n_specialists": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10 or more"],
    "n_test_examples": [350037, 141993, 67161, 38801, 26298, 16474, 10682, 7376, 4703, 4706, 9082],
    "delta_top1_correct": [0, 1421, 1572, 1124, 835, 561, 362, 232, 182, 208, 324],
    "relative_accuracy_change": [0.0, 3.4, 7.4, 8.8, 10.5, 11.1, 11.3, 12.8, 13.6, 16.6, 14.1],  # percent
}

# §6, Table 5: soft targets as a regularizer (3 % of the speech training set), percent
TABLE5 = {
    "system": ["Baseline (100% of training set)", "Baseline (3% of training set)", "Soft Targets (3% of training set)"],
    "train frame accuracy (%)": [63.4, 67.3, 65.4],
    "test frame accuracy (%)": [58.9, 44.5, 57.0],
}

SECTION = {  # where each figure above is stated
    "LOOK_ALIKE_2": "§1",
    "MNIST_ERRORS": "§3",
    "MNIST_T": "§3",
    "WIDE": "§3",
    "HIGH_T": "§3",
    "NARROW": "§3",
    "NARROW_BAND": "§3",
    "OMIT3": "§3",
    "ONLY78": "§3",
    "TABLE1": "§4, Table 1",
    "TABLE1_TEMPERATURES": "§4",
    "TABLE1_HARD_WEIGHT": "§4",
    "KEPT_MORE_THAN": "§4",
    "JFT": "§5, §5.1",
    "TABLE3": "§5, Table 3",
    "N_SPECIALISTS": "§5, Table 3",
    "TABLE3_RELATIVE": "§5",
    "TABLE4": "§5, Table 4",
    "TABLE5": "§6, Table 5",
}


def table1_by_system() -> dict[str, tuple[float, float]]:
    """Table 1 by the lesson's system names (``baseline``, ``10x ensemble``, ``distilled``): (frame accuracy, WER)."""
    rows = zip(TABLE1["test frame accuracy (%)"], TABLE1["WER (%)"])
    return dict(zip(("baseline", "10x ensemble", "distilled"), rows))


def table5_by_system() -> dict[str, tuple[float, float]]:
    """Table 5 by the lesson's system names (the paper's, lower case): (train, test) frame accuracy."""
    rows = zip(TABLE5["train frame accuracy (%)"], TABLE5["test frame accuracy (%)"])
    return dict(zip((s.lower() for s in TABLE5["system"]), rows))


def gain_kept() -> float:
    """The share of the ensemble's frame-accuracy gain the distilled model keeps (Table 1: 86 %)."""
    (b, _), (e, _), (d, _) = table1_by_system().values()
    return (d - b) / (e - b)
