"""The paper's own figures (Hinton, Vinyals & Dean 2015), in the paper's units, for the lesson pages to set beside
each run's numbers. Typed in once, here, from the paper's text and tables; every page cites the section."""

from __future__ import annotations

import pandas as pd

# §1: "one version of a 2 may be given a probability of 10^-6 of being a 3 and 10^-9 of being a 7"
EXAMPLE_2 = {"label": 2, "p3": 1e-6, "p7": 1e-9}

# §3, MNIST: test errors of 10,000
MNIST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}
MNIST_T = 20.0  # the distilled 800-unit net's temperature
WIDE = 300  # "≥ 300 units per layer: all temperatures above 8 gave fairly similar results"
HIGH_T = 8.0
NARROW = 30  # "30 units per layer: temperatures from 2.5 to 4 worked significantly better than higher or lower"
NARROW_BAND = (2.5, 4.0)

# §3, missing classes
OMIT3 = {"errors": 206, "errors_on_3": 133, "shift": 3.5, "errors_after": 109, "errors_on_3_after": 14, "n_3s": 1010}
ONLY78 = {"error_rate": 47.3, "shift": -7.6, "error_rate_after": 13.2}  # percent; biases of 7 and 8 lowered by 7.6

# §4, Table 1 (Android voice search): frame accuracy and word error rate, percent
TABLE1 = pd.DataFrame(
    {
        "system": ["Baseline", "10xEnsemble", "Distilled Single model"],
        "test frame accuracy (%)": [58.9, 61.1, 60.8],
        "WER (%)": [10.9, 10.7, 10.7],
    }
)
GAIN_KEPT = (60.8 - 58.9) / (61.1 - 58.9)  # 86 %: share of the ensemble's frame-accuracy gain the distilled model keeps

# §6, Table 5: soft targets as a regularizer, percent
TABLE5 = pd.DataFrame(
    {
        "system": [
            "Baseline (100% of training set)",
            "Baseline (3% of training set)",
            "Soft Targets (3% of training set)",
        ],
        "train frame accuracy (%)": [63.4, 67.3, 65.4],
        "test frame accuracy (%)": [58.9, 44.5, 57.0],
    }
)

# §5, Table 3 (JFT): percent
TABLE3 = pd.DataFrame(
    {
        "system": ["Baseline", "Baseline + 61 specialist models"],
        "test accuracy (%)": [25.0, 26.1],
        "conditional test accuracy (%)": [43.1, 45.9],
    }
)
TABLE3_RELATIVE = 4.4  # "a 4.4% relative improvement in test accuracy overall"

# §5, Table 4 (JFT): by the number of specialists covering the correct class
TABLE4 = pd.DataFrame(
    {
        "n_specialists": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10 or more"],
        "n_test_examples": [350037, 141993, 67161, 38801, 26298, 16474, 10682, 7376, 4703, 4706, 9082],
        "delta_top1_correct": [0, 1421, 1572, 1124, 835, 561, 362, 232, 182, 208, 324],
        "relative_accuracy_change": [0.0, 3.4, 7.4, 8.8, 10.5, 11.1, 11.3, 12.8, 13.6, 16.6, 14.1],  # percent
    }
)
