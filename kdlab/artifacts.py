"""The artifact contract: the files a lesson's run saves and the columns (csv), keys (npz) or keys (json) a dashboard
page reads from each — the one statement of it, imported by both sides.

The notebook side: ``kdlab.lab.Lab.save`` refuses to write a contract artifact that lacks a field, so a run cannot
publish what its page cannot read. The dashboard side: ``dashboard/data.py`` checks every artifact it reads against
the same fields and turns a missing one into a one-line message. Keyed by lesson number (``kdlab.syllabus``);
``notebooks/README.md`` describes the artifacts in words. A leaf: imports nothing.
"""

from __future__ import annotations

# lesson number -> {file -> fields a page needs}: every complete run of the lesson has these files.
CONTRACT: dict[str, dict[str, tuple[str, ...]]] = {
    "01": {
        "soft_targets.npz": ("images", "labels", "indices", "teacher_logits", "temperatures"),
        "entropy_vs_t.csv": ("temperature", "mean_entropy_bits"),
    },
    "02": {
        "gradient_error.csv": ("temperature", "zero_mean", "rel_error_eq3", "rel_error_logit_matching"),
        "convergence.csv": ("test_errors", "agreement_with_logit_matching", "logit_corr"),
    },
    "03": {
        "results.csv": ("model", "test_errors", "paper_errors", "wall_time_s"),
        "sweep.csv": ("width", "temperature", "seed", "test_errors", "hard_weight"),
        "soft_targets.npz": ("images", "labels", "indices", "teacher_logits", "temperatures", "student_logits"),
        "test_logits.npz": ("teacher", "baseline", "distilled", "labels"),
        "per_class_errors.csv": ("model", "class", "errors"),
    },
    "04": {
        "bias_scan_omit3.csv": ("shift", "total_errors", "errors_on_3"),
        "bias_scan_only78.csv": ("shift", "error_rate"),
        "confusion.npz": ("before", "after"),
    },
    "05": {
        "table1.csv": ("model", "frame_acc_seen", "frame_acc_unseen", "phone_error_rate"),
        "table5.csv": ("system", "train_frame_acc", "test_frame_acc"),
        "curves.csv": ("setting", "epoch", "train_acc", "test_acc"),
        "posteriors.npz": ("teacher", "distilled", "labels", "phones"),
    },
    "06": {
        "clusters.json": ("clusters",),
        "covariance.npz": ("cov", "order"),
        "class_images.npz": ("images",),
        "table3.csv": ("system", "test_accuracy", "conditional_accuracy"),
        "table4.csv": ("n_specialists", "n_test_examples", "n_changed_correct", "relative_improvement"),
    },
}


# Artifacts the notebooks write beyond the contract (a page reads them when present and says so when one is missing).
EXTRA: dict[str, dict[str, tuple[str, ...]]] = {
    "01": {
        "tail_weight_vs_t.csv": ("temperature", "tail_mass", "tail_gradient"),
        "gradient_noise.csv": ("state", "seed", "subset", "loss", "noise_ratio", "trace_variance"),
    },
    "02": {
        "t_squared_scale.csv": ("seed", "subset", "temperature", "t_squared", "relative", "share"),
        "hard_weight_sweep.csv": ("temperature", "hard_weight", "t_squared", "val_errors"),
        "gradient_error_shifted.csv": ("temperature", "rel_error_eq3", "rel_error_logit_matching"),
        "logit_weight.csv": ("temperature", "group", "mean_weight"),
        "convergence_by_epoch.csv": ("epoch", "temperature", "agreement_with_logit_matching", "logit_corr"),
    },
    "04": {
        "bias_scan_omit3_val.csv": ("shift", "total_errors", "errors_on_3"),
        "bias_scan_only78_val.csv": ("shift", "error_rate"),
    },
    "05": {
        "table1_temperatures.csv": ("temperature", "val_frame_acc"),
        "member_epochs.csv": ("model", "member", "epoch", "val_frame_acc", "best"),
        "gain_by_t.csv": ("temperature", "student_val_acc", "gain_kept_vs_baseline", "gain_kept_vs_control"),
        "table5_seeds.csv": ("member", "full_test_acc", "soft_best_test_acc", "hard_best_test_acc"),
    },
    "06": {
        "specialists.csv": ("specialist", "classes", "n_classes"),
        "distill.csv": ("system", "test_accuracy"),
        "curves.csv": ("step", "specialist", "split", "cond_acc", "cond_nll", "kind"),
        "table61.csv": ("kind",),
        "controls.csv": ("system", "test_accuracy", "val_accuracy", "chosen"),
    },
}


def required_fields(number: str, name: str) -> tuple[str, ...]:
    """The fields artifact ``name`` of lesson ``number`` must hold (empty when the contract says nothing of it)."""
    return CONTRACT.get(number, {}).get(name) or EXTRA.get(number, {}).get(name, ())
